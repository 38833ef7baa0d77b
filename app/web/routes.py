"""The pages; each module registers its views on the blueprint when imported."""
from app.web import (  # noqa: F401
    attachments,
    bp,
    errors,
    filters,
    guard,
    inbox,
    instances,
    login,
    notifications,
    operations,
    pickers,
    printing,
    proxies,
    start,
    tasks,
)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
