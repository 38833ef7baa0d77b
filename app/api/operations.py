"""Approval operations on tasks and instances: return, transfer, delegate, add/remove signer, withdraw."""
from app.api import Blueprint

bp = Blueprint("operations", __name__, url_prefix="/api/v1", description="审批操作：退回、转办、委派、加签、撤回")
