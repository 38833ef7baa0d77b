"""Every API error has one shape: {"error": code, "message": ..., "details": {field: [messages]}}."""
import math
from http import HTTPStatus

from flask import jsonify
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.api.messages import translate
from app.approvals.errors import (
    ApprovalError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    StepFailed,
    TooLarge,
    TooSoon,
)
from app.auth.login import BadCredentials, RateLimited
from app.engine import BpmnTooLarge, InvalidBpmn

STATUS_OF = {NotFound: 404, Forbidden: 403, Conflict: 409, InvalidInput: 400, StepFailed: 422, TooLarge: 413,
             TooSoon: 429}


def error_response(status: int, message: str, details: dict | None = None, code: str | None = None,
                   headers: dict | None = None):
    body = {"error": code or HTTPStatus(status).name.lower(), "message": message, "details": details or {}}
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """webargs nests errors by location and field; the API reports `field.sub: [messages]`."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key) if prefix in ("", "json", "query", "form", "files") else f"{prefix}.{key}"
            if prefix == "" and key in ("json", "query", "form", "files", "headers", "view_args"):
                name = ""
            for field, msgs in _flatten(value, name).items():
                flat.setdefault(field, []).extend(msgs)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_schema"] = [translate(m) for m in messages]
    elif isinstance(messages, list):
        for item in messages:
            for field, msgs in _flatten(item, prefix).items():
                flat.setdefault(field, []).extend(msgs)
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def http_error(error: HTTPException):
    data = getattr(error, "data", None) or {}
    if "messages" in data:
        return error_response(400, "请求参数有误", _flatten(data["messages"]), code="validation_error")
    messages = {404: "没有这个地址", 405: "不支持此请求方法", 413: "上传内容过大",
                401: "需要登录", 500: "服务器内部错误"}
    return error_response(error.code or 500, data.get("message") or messages.get(error.code, error.description),
                          headers=data.get("headers"))


def approval_error(error: ApprovalError):
    code = "validation_error" if isinstance(error, InvalidInput) else None
    if isinstance(error, StepFailed):
        code = "step_failed"
    return error_response(STATUS_OF.get(type(error), 400), error.message, error.details, code=code)


def too_soon(error: TooSoon):
    """429 with Retry-After in whole seconds (at least 1)."""
    seconds = max(1, math.ceil(error.retry_after.total_seconds()))
    return error_response(429, error.message, error.details, code="too_soon", headers={"Retry-After": str(seconds)})


def invalid_bpmn(error: InvalidBpmn):
    """422 (413 when too large) with every problem located: file, element id and name, line."""
    details: dict[str, list[str]] = {}
    for problem in error.problems:
        details.setdefault(problem.element_id or problem.file or "bpmn", []).append(problem.message)
    status, code = (413, "bpmn_too_large") if isinstance(error, BpmnTooLarge) else (422, "invalid_bpmn")
    response = jsonify({"error": code, "message": "BPMN 未通过检查，没有部署", "details": details,
                        "problems": [p.as_dict() for p in error.problems]})
    response.status_code = status
    return response


def install(bp) -> None:
    """Map domain errors raised in this blueprint's views to JSON responses."""
    bp.register_error_handler(ApprovalError, approval_error)
    bp.register_error_handler(TooSoon, too_soon)
    bp.register_error_handler(InvalidBpmn, invalid_bpmn)
    bp.register_error_handler(CSRFError, lambda e: error_response(400, "CSRF 校验失败，请刷新页面后重试",
                                                                   code="csrf_failed"))
    bp.register_error_handler(BadCredentials, lambda e: error_response(401, str(e), code="bad_credentials"))
    bp.register_error_handler(RateLimited, lambda e: error_response(
        429, str(e), code="rate_limited",
        headers={"Retry-After": str(max(1, math.ceil(e.retry_after.total_seconds())))}))
