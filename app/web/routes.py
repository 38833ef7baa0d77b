"""Pages: placeholder until the inbox pages land."""
from app.web import bp


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
