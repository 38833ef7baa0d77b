"""In-app notifications (filled in by the notifications work)."""
from app.api import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications", description="站内通知")
