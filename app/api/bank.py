"""The agent bank (代理银行): the treasury downloads a payment batch's file; the bank posts its answers back.

The callback has no user session: the bank signs the raw request body with HMAC-SHA256 under the shared key
BANK_CALLBACK_SECRET and sends `X-Bank-Signature: sha256=<hex>`. The signature is checked (in constant time)
before the body is even parsed; without a configured key every callback is refused with 503. A valid answer
is handed to settle_payment (app/budget/settlement.py): an unknown reference is 404, an answer for a payment
already settled (a replay) is 409, and in both cases nothing moves.
"""
import hashlib
import hmac

from flask import current_app, request
from sqlalchemy import select

from app.accounting import AccountingError
from app.api import Blueprint
from app.api.attachments import content_disposition
from app.api.budget import user_townships
from app.api.budget_schemas import BankCallbackRequest, BankCallbackResponse
from app.api.errors import error_response
from app.approvals.errors import Forbidden, NotFound
from app.auth.request import load_user
from app.budget.settlement import settle_payment
from app.extensions import db
from app.ledger import LedgerError
from app.models import BankBatch, Org, Payment, Role
from app.runtime import deps

SIGNATURE_HEADER = "X-Bank-Signature"
BOM = "\ufeff"  # so that Excel opens the UTF-8 CSV with its Chinese intact

bp = Blueprint("bank", __name__, url_prefix="/api/v1/bank", description="代理银行：支付批次文件")
callbacks = Blueprint("bank_callbacks", __name__, url_prefix="/api/v1/bank", public=True,
                      description="代理银行回单：银行调用，不用登录，以 HMAC-SHA256 签名认证")


# --- the batch file ----------------------------------------------------------------------------------------

@bp.get("/batches/<int:batch_id>/file")
@bp.response(200, {"type": "string", "format": "binary"}, content_type="text/csv",
             description="批次文件（UTF-8 带 BOM 的 CSV），作为附件下载，文件名为批次的文件名")
@bp.errors(401, 403, 404)
def batch_file(batch_id):
    """下载支付批次文件（交代理银行的 CSV）。只有批次中支付所属乡镇的国库支付（出纳）可以下载。"""
    session, user = db.session, load_user()
    batch = session.get(BankBatch, batch_id)
    townships = session.scalars(select(Org).where(Org.id.in_(
        select(Payment.township_id).where(Payment.batch_id == batch_id)))).all() if batch else []
    if not townships:
        raise NotFound("没有这个支付批次，或你无权查看")
    if not all(_treasury_of(user, t) for t in townships):
        if set(townships) & set(user_townships(session, user)):
            raise Forbidden("只有本镇国库支付（出纳）可以下载支付批次文件")
        raise NotFound("没有这个支付批次，或你无权查看")
    content = batch.content if batch.content.startswith(BOM) else BOM + batch.content
    response = current_app.response_class(content.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = content_disposition(batch.file_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


def _treasury_of(user, township: Org) -> bool:
    return any(g.role == Role.TREASURY and township.path.startswith(g.org.path) for g in user.grants)


# --- the callback ------------------------------------------------------------------------------------------

@callbacks.before_request
def verify_signature():
    """The bank's signature over the raw body, before anything reads it; then the body must be JSON."""
    secret = current_app.config.get("BANK_CALLBACK_SECRET")
    if not secret:
        return error_response(503, "未配置银行回单密钥（BANK_CALLBACK_SECRET），暂不接收银行回单",
                              code="callback_disabled")
    header = request.headers.get(SIGNATURE_HEADER, "").strip()
    if not header:
        return error_response(401, f"缺少签名：请在 {SIGNATURE_HEADER} 头中携带 sha256=<请求体的 HMAC-SHA256>",
                              code="signature_missing")
    scheme, _, given = header.partition("=")
    expected = hmac.new(secret.encode("utf-8"), request.get_data(cache=True), hashlib.sha256).hexdigest()
    if scheme.strip().lower() != "sha256" or not hmac.compare_digest(
            expected.encode("ascii"), given.strip().lower().encode("utf-8", "replace")):
        return error_response(401, "签名不正确：应为 sha256=<用约定密钥对原始请求体计算的 HMAC-SHA256 十六进制>",
                              code="bad_signature")
    if not request.is_json:
        return error_response(400, "请求体须为 JSON（Content-Type: application/json）",
                              {"_schema": ["须为 JSON 对象"]}, code="validation_error")
    return None


def _refused(error: Exception):
    return error_response(409, str(error), code="conflict")


callbacks.register_error_handler(LedgerError, _refused)
callbacks.register_error_handler(AccountingError, _refused)


@callbacks.post("/callbacks")
@callbacks.arguments(BankCallbackRequest)
@callbacks.response(200, BankCallbackResponse)
@callbacks.errors(400, 401, 404, 409, 413, 503)
@callbacks.doc(security=[], parameters=[{
    "in": "header", "name": SIGNATURE_HEADER, "required": True, "schema": {"type": "string"},
    "description": "sha256=<十六进制>：用 BANK_CALLBACK_SECRET 对原始请求体计算的 HMAC-SHA256"}])
def callback(body):
    """银行回单：paid 已支付，returned 退回（已支付的为退票）。银行调用，以请求头签名认证，不用登录。

    签名缺失或不正确 401；未配置密钥 503；业务编号不存在 404；已处理过的支付（重复回单）409，余额不变。
    """
    payment = settle_payment(deps(), body["bank_ref"], body["status"], body.get("reason"))
    return {"bank_ref": payment.bank_ref, "payment_id": payment.id, "instance_id": payment.instance_id,
            "status": payment.status}
