"""Copies, 抄送 (filled in by the CC work)."""
from app.api import Blueprint

bp = Blueprint("copies", __name__, url_prefix="/api/v1", description="抄送与已阅")
