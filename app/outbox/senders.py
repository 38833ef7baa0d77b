"""Senders: how an outbox message leaves the building, one class per channel.

A sender's `send(message)` returns when the message is handed over and raises on any failure; the
delivery loop (app/outbox/delivery.py) records the error and retries later. A message is anything with
`id`, `channel`, `recipient`, `subject` and `body`. Senders hold no database session and never commit.

Delivery is at least once: a send that timed out may have arrived. Each message therefore carries its
outbox id (the email's Message-ID, the SMS webhook's X-Township-Message-Id) so the far end can drop a repeat.
"""
import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import urllib.request
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Protocol
from urllib.error import HTTPError

log = logging.getLogger("township.outbox")
TIMEOUT_SECONDS = 15  # well inside the delivery lease (app/outbox/delivery.py), so a slow send is never sent twice


class Outgoing(Protocol):
    id: int
    channel: str
    recipient: str
    subject: str
    body: str


class Sender(Protocol):
    def send(self, message: Outgoing) -> None:
        """Hand the message over; raise on failure."""


class LoggingSender:
    """The default: writes the notice to the log (channel "log"), so a bare install shows what it would send."""

    def send(self, message: Outgoing) -> None:
        log.info("notice #%s to %s: %s\n%s", message.id, message.recipient, message.subject, message.body)


def _one_line(text: str) -> str:
    return " ".join(text.split())


class SmtpSender:
    """Email (channel "email") through an SMTP relay, STARTTLS and login when configured; UTF-8 throughout."""

    def __init__(self, host: str, port: int, sender: str, *, user: str | None = None, password: str | None = None,
                 starttls: bool = True, timeout: float = TIMEOUT_SECONDS):
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout

    def compose(self, message: Outgoing) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient  # the default policy refuses a value with a line break (no header injection)
        email["Subject"] = _one_line(message.subject)
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "localhost"
        email["Message-ID"] = f"<outbox-{message.id}@{domain}>"  # the same on every retry
        email.set_content(message.body, charset="utf-8")
        return email

    def send(self, message: Outgoing) -> None:
        email = self.compose(message)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(email)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer we do not accept (urllib would turn the POST into a GET without the body)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class SmsWebhookSender:
    """SMS (channel "sms") through the SMS gateway's webhook: POST {"to", "text"} as JSON, signed.

    `X-Township-Signature: sha256=<hex>` is HMAC-SHA256 of the exact body bytes with the shared secret
    (the same scheme as the bank's callbacks). Any answer but 2xx, or no answer in time, is a failure.
    """

    def __init__(self, url: str, secret: str, *, timeout: float = TIMEOUT_SECONDS):
        self.url, self.secret, self.timeout = url, secret.encode(), timeout
        self._opener = urllib.request.build_opener(_NoRedirects)

    def request(self, message: Outgoing) -> urllib.request.Request:
        body = json.dumps({"to": message.recipient, "text": message.body}, ensure_ascii=False).encode()
        signature = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        return urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "X-Township-Signature": f"sha256={signature}",
            "X-Township-Message-Id": str(message.id)})

    def send(self, message: Outgoing) -> None:
        try:
            with self._opener.open(self.request(message), timeout=self.timeout) as answer:
                status = answer.status
        except HTTPError as refused:
            raise RuntimeError(f"SMS webhook answered {refused.code}") from None
        if not 200 <= status < 300:
            raise RuntimeError(f"SMS webhook answered {status}")


CHANNELS = ("log", "email", "sms")


def channel_names(config) -> list[str]:
    """NOTIFY_CHANNELS ("log", "log,email,sms"…) as a list, in order, without repeats; unknown names refused."""
    names = list(dict.fromkeys(n.strip().lower() for n in (config.get("NOTIFY_CHANNELS") or "log").split(",")
                               if n.strip()))
    unknown = [n for n in names if n not in CHANNELS]
    if unknown:
        raise ValueError(f"NOTIFY_CHANNELS: unknown channel {', '.join(unknown)} (known: {', '.join(CHANNELS)})")
    return names


def _require(config, *keys: str) -> None:
    missing = [k for k in keys if not config.get(k)]
    if missing:
        raise ValueError(f"NOTIFY_CHANNELS needs {', '.join(missing)} set")


def _smtp(config) -> SmtpSender:
    _require(config, "SMTP_HOST", "SMTP_FROM")
    return SmtpSender(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 587), config["SMTP_FROM"],
                      user=config.get("SMTP_USER"),
                      password=config.get("SMTP_PASSWORD"), starttls=bool(config.get("SMTP_STARTTLS", True)))


def _sms(config) -> SmsWebhookSender:
    _require(config, "SMS_WEBHOOK_URL", "SMS_WEBHOOK_SECRET")
    url = config["SMS_WEBHOOK_URL"]
    if not url.startswith(("https://", "http://")):
        raise ValueError("SMS_WEBHOOK_URL must be an http(s) URL")
    return SmsWebhookSender(url, config["SMS_WEBHOOK_SECRET"])


def make_senders(config) -> dict[str, Sender]:
    """One sender per channel named in NOTIFY_CHANNELS (default "log"); a channel missing its settings is refused."""
    makers = {"log": lambda c: LoggingSender(), "email": _smtp, "sms": _sms}
    return {name: makers[name](config) for name in channel_names(config)}
