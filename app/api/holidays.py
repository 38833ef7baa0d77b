"""乡镇本地节假日: the township's own days off and make-up workdays on top of the national calendar.

Read by anyone who works in, under or above the township; imported from a .csv/.xlsx by its admins.
"""
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from app import clock
from app.api import Blueprint
from app.api.schemas import OrgRef
from app.approvals.errors import ApprovalError, Forbidden, NotFound
from app.auth.request import load_user
from app.controls.settings import may_edit, sees
from app.deadlines.holidays import FIRST_YEAR, KIND_LABELS, LAST_YEAR, MAX_BYTES, holidays_of, import_holidays
from app.extensions import db
from app.inbox.present import org_ref
from app.models import Org, OrgKind, User

bp = Blueprint("township_holidays", __name__, url_prefix="/api/v1/townships",
               description="乡镇本地节假日与调休上班日（截止时间按工作日计算）")


class HolidayListArgs(Schema):
    year = fields.Integer(validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR),
                          metadata={"description": "只列这一年的日期；不填列出全部"})


class HolidayUpload(Schema):
    file = Upload(required=True, metadata={
        "description": "节假日表：.xlsx（首个工作表）或 .csv（UTF-8 或 GBK），首行为表头：日期、类型、名称"})


class HolidayOut(Schema):
    day = fields.Date()
    is_workday = fields.Boolean(metadata={"description": "true：调休上班（本是休息日）；false：本地休息日"})
    kind = fields.String(metadata={"description": "休息 或 上班"})
    name = fields.String()


class HolidayListOut(Schema):
    township = fields.Nested(OrgRef)
    year = fields.Integer(allow_none=True)
    holidays = fields.List(fields.Nested(HolidayOut))


class HolidayImportOut(Schema):
    township = fields.Nested(OrgRef)
    filename = fields.String()
    rows = fields.Integer(metadata={"description": "导入的行数"})
    days_off = fields.Integer(metadata={"description": "其中休息日"})
    workdays = fields.Integer(metadata={"description": "其中调休上班日"})
    added = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    summary = fields.String()


def _township(code: str, user: User) -> Org:
    """The township by code if the user works in, under or above it; 404 otherwise."""
    township = db.session.scalar(select(Org).where(Org.code == code, Org.kind == OrgKind.TOWNSHIP))
    if township is None or not sees(user, township):
        raise NotFound("没有这个乡镇")
    return township


@bp.get("/<code>/holidays")
@bp.arguments(HolidayListArgs, location="query")
@bp.response(200, HolidayListOut)
@bp.errors(400, 401, 404)
def list_holidays(args, code):
    """本乡镇的本地节假日与调休上班日（按日期排序；国家法定节假日不在此列）。本乡镇及上下级的人员可以查看。"""
    township = _township(code, load_user())
    year = args.get("year")
    rows = holidays_of(db.session, township.id, year)
    return {"township": org_ref(township), "year": year,
            "holidays": [{"day": r.day, "is_workday": r.is_workday, "kind": KIND_LABELS[r.is_workday],
                          "name": r.name} for r in rows]}


@bp.post("/<code>/holidays")
@bp.arguments(HolidayUpload, location="files")
@bp.response(200, HolidayImportOut)
@bp.errors(400, 401, 403, 404, 409, 413)
def import_township_holidays(files, code):
    """导入本地节假日表（仅系统管理员）：列为 日期（YYYY-MM-DD）、类型（休息/放假 或 上班/调休上班）、名称。

    先逐行检查（日期有误、类型不认识、名称为空、同一日期出现两次），任何一行有误答 400，details 逐行列出
    （如 "第3行.day"），什么也不保存；全部无误则按日期新增或更新，文件中没有的日期不变。
    """
    user = load_user()
    township = _township(code, user)
    if not may_edit(user, township):
        raise Forbidden("只有系统管理员可以导入乡镇节假日")
    upload = files["file"]
    data = upload.stream.read(MAX_BYTES + 1)  # one byte over is enough to refuse
    try:
        report = import_holidays(db.session, township.id, data, upload.filename or "upload", clock.now())
    except ApprovalError:
        db.session.rollback()
        raise
    db.session.commit()
    return {"township": org_ref(township), "filename": report.filename, "rows": report.rows,
            "days_off": report.days_off, "workdays": report.workdays, "added": report.added,
            "updated": report.updated, "unchanged": report.unchanged, "summary": report.summary()}
