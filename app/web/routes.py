"""The pages; each module registers its views on the blueprint when imported."""
from app.web import bp, errors, filters, guard, inbox, instances, login, start, tasks  # noqa: F401


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
