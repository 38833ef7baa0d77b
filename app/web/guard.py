"""Every page needs a login and every POST a CSRF token; every page gets the security headers.

The hooks sit on the blueprint, so the JSON API keeps its own rules (bearer tokens, JSON errors).
"""
from urllib.parse import urlsplit

from flask import current_app, redirect, request, url_for

from app.auth.request import load_user
from app.web import bp

PUBLIC_ENDPOINTS = frozenset({"web.login", "web.login_submit", "web.healthz", "web.static"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Scripts and styles only from our own static files: no inline code, no CDN.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None (no open redirect via ?next=)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith(("/login", "/logout")):
        return None
    return target


@bp.before_request
def require_login_and_csrf():
    if request.endpoint not in PUBLIC_ENDPOINTS and load_user() is None:
        # Only a page can be returned to; after a POST the user starts again from the inbox.
        target = request.full_path.rstrip("?") if request.method in ("GET", "HEAD") else None
        return redirect(url_for("web.login", next=safe_next(target)))
    if request.method in UNSAFE_METHODS:
        current_app.extensions["csrf"].protect()  # raises CSRFError (400), shown by errors.py
    return None


@bp.after_app_request
def security_headers(response):
    """Headers for every page (our blueprint, the app-wide 404 page, static files), never for /api/.

    nosniff and HSTS are on every response, the API's too: app/headers.py.
    """
    if request.path.startswith("/api/"):
        return response
    headers = response.headers
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        headers.setdefault("Cache-Control", "no-store")  # shared phones: the back button shows no stale data
    if request.headers.get("HX-Request") and request.method in UNSAFE_METHODS and response.status_code >= 400:
        headers["HX-Push-Url"] = "false"  # a re-rendered form keeps the page's own address in history
    return response
