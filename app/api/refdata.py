"""Reference code tables for pickers: GET /api/v1/refdata/<kind> (any logged-in user)."""
from marshmallow import Schema, fields, validate
from sqlalchemy import func, or_, select

from app.api import Blueprint
from app.approvals.errors import NotFound
from app.extensions import db
from app.models import RefCode, RefKind
from app.refdata.rules import LEAF_LENGTH

bp = Blueprint("refdata", __name__, url_prefix="/api/v1/refdata",
               description="基础代码表：支出功能分类、部门/政府预算经济分类、资金性质、项目类别、支付方式、指标来源")

class RefCodeListArgs(Schema):
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "编码前缀，或名称中包含的文字"})
    leaf = fields.Boolean(load_default=False, metadata={
        "description": "true：只列末级（功能分类 7 位项级、经济分类 5 位款级、其他表没有下级的代码）"})
    include_inactive = fields.Boolean(load_default=False, metadata={"description": "true：也列出已停用的代码"})
    limit = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=5000),
                           metadata={"description": "最多返回条数（按编码排序）"})


class RefCodeOut(Schema):
    code = fields.String()
    name = fields.String()
    parent_code = fields.String(allow_none=True)
    gov_code = fields.String(allow_none=True,
                             metadata={"description": "部门预算经济分类款级：对应的政府预算经济分类（C15）"})
    active = fields.Boolean()
    leaf = fields.Boolean(metadata={"description": "末级：预算可以选用的级次"})


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@bp.get("/<kind>")
@bp.arguments(RefCodeListArgs, location="query")
@bp.response(200, RefCodeOut(many=True))
@bp.errors(400, 401, 404)
def list_codes(args, kind):
    """列出一个代码表（按编码排序）。没有这种代码表答 404。

    kind：function 支出功能分类、econ_dept 部门预算支出经济分类、econ_gov 政府预算支出经济分类、
    fund_nature 资金性质、project_category 项目类别、pay_type 支付方式、indicator_source 指标来源。
    """
    if kind not in {k.value for k in RefKind}:
        raise NotFound(f"没有这种代码表：{kind}", {"kind": [f"可用：{'、'.join(k.value for k in RefKind)}"]})
    query = select(RefCode).where(RefCode.kind == kind)
    if not args["include_inactive"]:
        query = query.where(RefCode.active.is_(True))
    q = (args.get("q") or "").strip()
    if q:
        pattern = _like_escape(q)
        query = query.where(or_(RefCode.code.like(f"{pattern}%", escape="\\"),
                                RefCode.name.like(f"%{pattern}%", escape="\\")))
    if kind in LEAF_LENGTH:
        length = LEAF_LENGTH[kind]
        if args["leaf"]:
            query = query.where(func.length(RefCode.code) == length)
        rows = db.session.scalars(query.order_by(RefCode.code).limit(args["limit"])).all()
        return [_out(r, len(r.code) == length) for r in rows]
    parents = set(db.session.scalars(select(RefCode.parent_code).where(
        RefCode.kind == kind, RefCode.active.is_(True), RefCode.parent_code.is_not(None))))
    if args["leaf"]:
        query = query.where(RefCode.code.not_in(parents)) if parents else query
    rows = db.session.scalars(query.order_by(RefCode.code).limit(args["limit"])).all()
    return [_out(r, r.code not in parents) for r in rows]


def _out(row: RefCode, leaf: bool) -> dict:
    return {"code": row.code, "name": row.name, "parent_code": row.parent_code, "gov_code": row.gov_code,
            "active": row.active, "leaf": leaf}
