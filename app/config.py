"""Settings from the environment. With nothing set: a SQLite file under instance/ and in-process jobs."""
import json
import os
import secrets
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{ROOT / 'instance' / 'township.db'}"
    # psycopg 3 is the driver we install; accept the plain URLs that tools hand out.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/ (sessions survive restarts)."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = ROOT / "instance" / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_dumps(value) -> str:
    """JSON columns keep Chinese readable and money as decimal strings."""
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def config_from_env() -> dict:
    """Every setting, read from the environment when called (not at import, so tests can set it)."""
    env = os.environ.get
    return dict(
        SECRET_KEY=_secret_key(),
        SQLALCHEMY_DATABASE_URI=database_url(),
        SQLALCHEMY_ENGINE_OPTIONS={"json_serializer": json_dumps, "pool_pre_ping": True},
        REDIS_URL=env("REDIS_URL") or None,
        BPMN_DIR=Path(env("BPMN_DIR", ROOT / "bpmn")),
        FORMS_DIR=Path(env("FORMS_DIR", ROOT / "forms")),
        MAX_BPMN_BYTES=int(env("MAX_BPMN_BYTES", 2 * 1024 * 1024)),
        # Argon2 parameters by argon2-cffi profile name (RFC 9106 low-memory: 64 MiB, t=3).
        PASSWORD_HASH_PROFILE=env("PASSWORD_HASH_PROFILE", "RFC_9106_LOW_MEMORY"),
        MIN_PASSWORD_LENGTH=8,
        TOKEN_TTL=timedelta(hours=int(env("TOKEN_TTL_HOURS", 12))),
        # Failed logins within the window (等保 8.1.4.1 b), bounded so a lock is no lever (app/auth/login.py):
        # a username from one address is locked after LOCK_AFTER; tries of a username (any address) and from
        # an address (any username) wait after DELAY_AFTER_* failures, doubling up to LOGIN_MAX_DELAY.
        LOGIN_WINDOW=timedelta(minutes=15),
        LOGIN_LOCK_AFTER=5,
        LOGIN_DELAY_AFTER_PER_USER=3,
        LOGIN_DELAY_AFTER_PER_IP=30,
        LOGIN_MAX_DELAY=timedelta(seconds=60),
        LOGIN_KNOWN_ADDRESS_FOR=timedelta(days=30),
        # How many reverse proxies in front set X-Forwarded-For (werkzeug ProxyFix); 0: the TCP peer is the
        # client. Set it exactly: one too many lets clients pick their own address for the login limits.
        PROXY_FIX_X_FOR=int(env("PROXY_FIX_X_FOR", 0)),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=env("SESSION_COOKIE_SECURE", "0") == "1",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        WTF_CSRF_CHECK_DEFAULT=False,  # checked wherever a cookie session writes (app/api, app/web/guard.py)
        WTF_CSRF_TIME_LIMIT=None,  # bound to the session, which expires on its own
        API_TITLE="乡镇预算一体化审批 API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "POST /api/v1/auth/token 取得的令牌"},
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session",
                               "description": "页面登录后的会话；写操作须带 X-CSRFToken 头"},
            }},
            "security": [{"bearerAuth": []}, {"cookieAuth": []}],
        },
        SPEC_CACHE_SIZE=256,
        # Attachments: content-addressed files under this directory; size cap per file.
        ATTACHMENT_DIR=Path(env("ATTACHMENT_DIR", ROOT / "instance" / "attachments")),
        MAX_ATTACHMENT_BYTES=int(env("MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)),
        # A whole request: above the file caps by the multipart overhead, so a file just under its cap is
        # judged by its own rule (a 413 naming the field) rather than refused as a request.
        MAX_CONTENT_LENGTH=int(env("MAX_UPLOAD_BYTES", 11 * 1024 * 1024)),
        URGE_INTERVAL=timedelta(minutes=int(env("URGE_INTERVAL_MINUTES", 30))),
        EXTRA_OPERATORS={},  # name -> callable, added to the registry (tests, plug-ins)
        # Background jobs: "rq" (needs REDIS_URL), "thread" (in-process), "inline" (at once, for tests);
        # unset: rq when REDIS_URL is set, else thread.
        JOBS_MODE=env("JOBS_MODE") or None,
        # Run the deadline sweep in a thread of this process every SWEEP_INTERVAL seconds (make run sets it;
        # with Redis, run `flask timers scheduler` and `flask jobs worker` instead).
        SWEEP_THREAD=env("SWEEP_THREAD", "0") == "1",
        SWEEP_INTERVAL=float(env("SWEEP_INTERVAL", "30")),
        # The agent bank: "simulated" (answers by itself, returning BANK_RETURN_SHARE of the payments) or
        # "file" (the treasury uploads the batch file; answers come to POST /api/v1/bank/callbacks).
        BANK_ADAPTER=env("BANK_ADAPTER", "simulated"),
        BANK_RETURN_SHARE=float(env("BANK_RETURN_SHARE", "0.1")),
        # HMAC-SHA256 key the bank signs its callbacks with (X-Bank-Signature); unset: callbacks refused.
        BANK_CALLBACK_SECRET=env("BANK_CALLBACK_SECRET") or None,
        # Notices outside the app (app/outbox): channels "log" (default), "email", "sms", comma-separated;
        # links in them start with PUBLIC_BASE_URL. email needs SMTP_HOST and SMTP_FROM; sms needs both SMS_WEBHOOK_*.
        NOTIFY_CHANNELS=env("NOTIFY_CHANNELS", "log"),
        PUBLIC_BASE_URL=env("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        SMTP_HOST=env("SMTP_HOST") or None,
        SMTP_PORT=int(env("SMTP_PORT", 587)),
        SMTP_USER=env("SMTP_USER") or None,
        SMTP_PASSWORD=env("SMTP_PASSWORD") or None,
        SMTP_FROM=env("SMTP_FROM") or None,  # e.g. "示范镇财政所 <czs@example.gov.cn>"
        SMTP_STARTTLS=env("SMTP_STARTTLS", "1") == "1",
        SMS_WEBHOOK_URL=env("SMS_WEBHOOK_URL") or None,  # gets POST {"to", "text"}, signed X-Township-Signature
        SMS_WEBHOOK_SECRET=env("SMS_WEBHOOK_SECRET") or None,  # HMAC-SHA256 key of that signature
    )
