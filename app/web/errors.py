"""Error pages in the layout. Use-case refusals keep their message; /api/ keeps its JSON errors.

Views with a form catch the refusals they can show next to it (`REFUSALS`, `refusal_status`) and
re-render their page; whatever reaches these handlers is shown as an error page.
"""
import math

from flask import request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.approvals.errors import Conflict, Forbidden, InvalidInput, NotFound, StepFailed, TooLarge, TooSoon
from app.inputs import InputRefused
from app.web import bp
from app.web.render import page

TITLES = {400: "请求有误", 403: "没有权限", 404: "找不到", 405: "不支持的操作", 409: "状态已变化",
          410: "文件已丢失", 413: "文件过大", 422: "流程无法继续", 429: "请稍后再试"}
DEFAULT_MESSAGES = {400: "请求有误，请返回后重试", 403: "你没有权限进行此操作",
                    404: "页面不存在，或你无权查看", 405: "不支持此请求方法",
                    409: "数据已被他人修改，请刷新后重试", 413: "上传的内容过大，请换一个较小的文件"}

# Refusals a form view shows on its own page (NotFound and StepFailed go to the error page).
REFUSALS = (InvalidInput, Forbidden, Conflict, TooSoon, TooLarge)
STATUS_OF = {InvalidInput: 400, Forbidden: 403, NotFound: 404, Conflict: 409, TooLarge: 413, TooSoon: 429}


def refusal_status(error) -> int:
    return STATUS_OF.get(type(error), 400)


def retry_after(error) -> dict:
    """Retry-After (whole seconds, at least 1) for a TooSoon; no header for anything else."""
    if isinstance(error, TooSoon):
        return {"Retry-After": str(max(1, math.ceil(error.retry_after.total_seconds())))}
    return {}


def error_page(status: int, message: str | None = None, headers: dict | None = None):
    return page("error.html", status, headers, status_code=status, title=TITLES.get(status, "出错了"),
                message=message or DEFAULT_MESSAGES.get(status, "出错了，请稍后再试"))


@bp.errorhandler(NotFound)
def not_found(error):
    return error_page(404, error.message)


@bp.errorhandler(Forbidden)
def forbidden(error):
    return error_page(403, error.message)


@bp.errorhandler(Conflict)
def conflict(error):
    return error_page(409, error.message)


@bp.errorhandler(StepFailed)
def step_failed(error):
    return error_page(422, f"{error.message}。请联系流程管理员。")


@bp.errorhandler(TooSoon)
def too_soon(error):
    return error_page(429, error.message, retry_after(error))


@bp.errorhandler(TooLarge)
def too_large(error):
    return error_page(413, error.message)


@bp.errorhandler(InvalidInput)
def invalid_input(error):
    """Only for views without a form to re-render; form views catch InvalidInput themselves."""
    return error_page(400, error.message)


@bp.errorhandler(CSRFError)
def csrf_failed(_error):
    return error_page(400, "页面已过期或请求来源无效，请刷新页面后重试")


@bp.errorhandler(InputRefused)
def input_refused(error):
    """A NUL or a broken character in what was typed or pasted (app/inputs/text.py)."""
    return error_page(400, f"提交的内容{error.message}，请删除后重试")


@bp.errorhandler(HTTPException)
def http_error(error):
    return error_page(error.code or 500, DEFAULT_MESSAGES.get(error.code))


@bp.app_errorhandler(404)
def unknown_address(error):
    """An address no view matches. Under /api/ the API's own handler answers, exactly as without us."""
    if request.path.startswith("/api/"):
        from app.api import api

        return api.handle_http_exception(error)
    return error_page(404, "页面不存在")
