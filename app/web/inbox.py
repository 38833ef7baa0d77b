"""GET /: the inbox, four tabs (待办 todo, 已办 done, 我发起的 started: where each request stands now,
抄送我的 cc) with filters and pages; POST /cc/<id>/read marks a copy 已阅; POST /tasks/batch-complete
approves the ticked 待办 (批量同意)."""
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import flash, redirect, request, url_for

from app import clock
from app.approvals.batch import approve_batch, batchable_ids
from app.approvals.copies import mark_copy_read
from app.approvals.errors import InvalidInput
from app.auth.request import load_user
from app.extensions import db
from app.inbox import queries
from app.inbox.present import inbox_items
from app.models import InstanceStatus
from app.processes.definitions import latest_definitions
from app.runtime import deps, runtime
from app.web import bp
from app.web.filters import STATUS_NAMES
from app.web.guard import safe_next
from app.web.render import page

TABS = [("todo", "待办"), ("done", "已办"), ("started", "我发起的"), ("cc", "抄送我的")]
SORTS = [
    ("-created_at", "最新在前"),
    ("created_at", "最早在前"),
    ("-amount", "金额从高到低"),
    ("amount", "金额从低到高"),
    ("due_at", "期限最近在前"),
    ("-updated_at", "最近更新"),
]
# In 待办 the time a row is sorted by is when the task arrived.
TODO_SORT_NAMES = {"-created_at": "最新到达在前", "created_at": "最早到达在前"}
OVERDUE_NAMES = {"todo": "只看逾期未办的", "done": "只看逾期办理的", "started": "只看卡在逾期环节的",
                 "cc": "只看卡在逾期环节的"}
FILTER_KEYS = ("process", "status", "date_from", "date_to", "amount_min", "amount_max", "q", "overdue", "sort",
               "per_page")
MAX_PAGE = 100000
MAX_TASK_ID = 2**63 - 1  # task ids are bigints


def _date(args, key, errors) -> date | None:
    raw = (args.get(key) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[key] = "日期格式应为 2026-01-31"
        return None


def _amount(args, key, errors) -> Decimal | None:
    raw = (args.get(key) or "").strip().replace(",", "")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0:
        errors[key] = "金额须为不小于 0 的数"
        return None
    return value


def _int(args, key, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(args.get(key, default)), low), high)
    except (TypeError, ValueError):
        return default


def parse_filter(args) -> tuple[queries.InboxFilter, dict[str, str]]:
    """Query string -> InboxFilter; a value that does not parse is dropped and reported, not a 500."""
    errors: dict[str, str] = {}
    status = args.get("status") or None
    if status and status not in {s.value for s in InstanceStatus}:
        errors["status"], status = "没有这个状态", None
    sort = args.get("sort") if args.get("sort") in {s for s, _ in SORTS} else "-created_at"
    f = queries.InboxFilter(
        process=(args.get("process") or "").strip()[:64] or None, status=status,
        date_from=_date(args, "date_from", errors), date_to=_date(args, "date_to", errors),
        amount_min=_amount(args, "amount_min", errors), amount_max=_amount(args, "amount_max", errors),
        text=(args.get("q") or "").strip()[:100] or None, sort=sort,
        overdue_at=clock.now() if args.get("overdue") == "1" else None,
        page=_int(args, "page", 1, 1, MAX_PAGE), per_page=_int(args, "per_page", 20, 1, 100),
    )
    return f, errors


def _page_url(view: str, number: int) -> str:
    kept = {k: request.args[k] for k in FILTER_KEYS if request.args.get(k)}
    return url_for("web.inbox", view=view, page=number, **kept)


@bp.get("/")
def inbox():
    user = load_user()
    view = request.args.get("view") if request.args.get("view") in queries.VIEWS else "todo"
    f, errors = parse_filter(request.args)
    result = getattr(queries, view)(db.session, user, f)
    pages = max(1, -(-result.total // f.per_page))
    sorts = [(value, TODO_SORT_NAMES.get(value, label) if view == "todo" else label) for value, label in SORTS]
    return page(
        "inbox.html", view=view, tabs=TABS, items=inbox_items(db.session, view, result), total=result.total,
        page_number=f.page, pages=pages, filter_errors=errors, args=request.args,
        processes=latest_definitions(db.session), statuses=list(STATUS_NAMES.items()), sorts=sorts,
        overdue_name=OVERDUE_NAMES[view],
        batchable=batchable_ids(db.session, runtime().catalog, result.items) if view == "todo" else set(),
        prev_url=_page_url(view, f.page - 1) if f.page > 1 else None,
        next_url=_page_url(view, f.page + 1) if f.page < pages else None,
        filtered=any(request.args.get(k) for k in FILTER_KEYS if k not in ("sort", "per_page")),
    )


@bp.post("/cc/<int:copy_id>/read")
def read_copy(copy_id):
    """已阅; back to the 抄送 tab the button was on (its filters and page kept)."""
    mark_copy_read(deps(), load_user(), copy_id)
    flash("已标记为已阅", "success")
    return redirect(safe_next(request.form.get("next")) or url_for("web.inbox", view="cc"))


def _reason(error) -> str:
    """A refusal in one line: its message, and the field messages when it has them."""
    details = [m for messages in (error.details or {}).values() for m in messages if isinstance(m, str)]
    return f"{error.message}（{'；'.join(details)}）" if details else error.message


def batch_message(results) -> tuple[str, str]:
    """(flash category, text): "已同意 3 项；未能处理：〈title〉：原因"."""
    done = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    parts = [f"已同意 {len(done)} 项"] if done else []
    if failed:
        parts.append("未能处理：" + "；".join(f"〈{r.label}〉：{_reason(r.error)}" for r in failed))
    category = "error" if not done else "warning" if failed else "success"
    return category, "；".join(parts)


def _task_ids(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        if not value.strip().isdigit() or int(value) > MAX_TASK_ID:
            raise InvalidInput("所选待办有误，请刷新后重试", {"task_ids": ["须为任务编号"]})
        ids.append(int(value))
    return ids


@bp.post("/tasks/batch-complete")
def batch_complete():
    """批量同意 the ticked 待办, each as its own approval; back to the list, with what was done and what not."""
    back = safe_next(request.form.get("next")) or url_for("web.inbox", view="todo")
    comment = (request.form.get("comment") or "").strip() or None
    try:
        results = approve_batch(deps, load_user(), _task_ids(request.form.getlist("task_ids")), comment)
    except InvalidInput as exc:
        flash(exc.message, "error")
        return redirect(back)
    category, text = batch_message(results)
    flash(text, category)
    return redirect(back)
