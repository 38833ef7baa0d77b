"""Attachments and comments on tasks (filled in by the attachments work)."""
from app.api import Blueprint

bp = Blueprint("attachments", __name__, url_prefix="/api/v1", description="附件与意见")
