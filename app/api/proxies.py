"""Proxies while away, 代理 (filled in by the proxies work)."""
from app.api import Blueprint

bp = Blueprint("proxies", __name__, url_prefix="/api/v1/proxies", description="代理人设置")
