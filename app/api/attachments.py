"""Attachments and comments on tasks: upload, list, download, comment.

Downloads are served as attachments, never inline (app/downloads.py, shared with the pages): the
type stored at upload time, `nosniff`, a sandboxing CSP, the content's SHA-256 as ETag; 410 when the
file is gone from the store.
"""
from flask import current_app, url_for
from flask_smorest.fields import Upload
from marshmallow import Schema

from app.api import Blueprint
from app.api.errors import error_response
from app.api.schemas import AttachmentOut, CommentRequest, EventOut
from app.approvals.attachments import add_attachment, add_comment, attachment_for, attachments_of
from app.auth.request import load_user
from app.downloads import AttachmentFileMissing, send_attachment
from app.downloads import content_disposition as content_disposition  # re-exported: app/api/bank.py uses it
from app.extensions import db
from app.inbox.present import event_dict, user_ref
from app.models import Attachment
from app.runtime import deps
from app.storage.filetypes import ALLOWED

bp = Blueprint("attachments", __name__, url_prefix="/api/v1", description="附件与意见")
BINARY = {"type": "string", "format": "binary"}


class UploadFiles(Schema):
    file = Upload(required=True, metadata={
        "description": "附件：PDF、OFD、PNG、JPG、DOCX、XLSX，或 UTF-8 的 TXT/CSV；内容须与扩展名相符"})


def attachment_dict(attachment: Attachment) -> dict:
    return {
        "id": attachment.id, "instance_id": attachment.instance_id, "task_id": attachment.task_id,
        "filename": attachment.filename, "content_type": attachment.content_type, "size": attachment.size,
        "sha256": attachment.sha256, "uploaded_by": user_ref(attachment.uploaded_by),
        "uploaded_at": attachment.uploaded_at,
        "url": url_for("attachments.download", attachment_id=attachment.id),
    }


@bp.post("/tasks/<int:task_id>/attachments")
@bp.arguments(UploadFiles, location="files")
@bp.response(201, AttachmentOut)
@bp.errors(400, 401, 404, 409, 413)
def upload(files, task_id):
    """上传附件到一个任务（流程进行中的任何环节）。只接收内容与扩展名相符的常用文件；超过大小上限 413。"""
    upload_ = files["file"]
    max_bytes = current_app.config["MAX_ATTACHMENT_BYTES"]
    data = upload_.stream.read(max_bytes + 1)  # one byte over is enough to refuse
    attachment = add_attachment(deps(), load_user(), task_id, upload_.filename, data,
                                current_app.config["ATTACHMENT_DIR"], max_bytes=max_bytes)
    return attachment_dict(attachment)


@bp.get("/instances/<int:instance_id>/attachments")
@bp.response(200, AttachmentOut(many=True))
@bp.errors(401, 404)
def list_attachments(instance_id):
    """一个申请的全部附件，按上传先后。看不到的申请 404。"""
    return [attachment_dict(a) for a in attachments_of(db.session, load_user(), instance_id)]


def served_as_stored(status: int, description: str):
    """Document `status` once per type an attachment is stored and served with (app/storage/filetypes.py)."""

    def decorator(view):
        for content_type in sorted({kind.content_type.split(";")[0] for kind in ALLOWED.values()}):
            view = bp.alt_response(status, schema=BINARY, content_type=content_type, success=True,
                                   description=description)(view)
        return view

    return decorator


@bp.get("/attachments/<int:attachment_id>")
@served_as_stored(200, "附件内容，Content-Type 为上传时识别的类型；ETag 为 SHA-256")
@served_as_stored(206, "Range 请求的那一段（Content-Range 说明是哪一段）")
@bp.alt_response(304, response="NOT_MODIFIED")
@bp.errors(401, 404, 410, 416)
@bp.doc(parameters=[
    {"in": "header", "name": "If-None-Match", "schema": {"type": "string"},
     "description": "上次下载得到的 ETag；内容未变时 304，无正文"},
    {"in": "header", "name": "Range", "schema": {"type": "string"},
     "description": "只取一段，如 bytes=0-1023：206；范围超出文件时 416"},
])
def download(attachment_id):
    """下载附件（能看到该申请的人才可以，否则 404）。总是作为附件下载，不在浏览器中打开。

    附件记录还在、文件却已不在存储中时 410（error 为 attachment_missing）。
    """
    attachment = attachment_for(db.session, load_user(), attachment_id)
    return send_attachment(attachment, current_app.config["ATTACHMENT_DIR"])


@bp.errorhandler(AttachmentFileMissing)
def file_missing(error: AttachmentFileMissing):
    return error_response(410, error.message, code="attachment_missing")


@bp.post("/tasks/<int:task_id>/comments")
@bp.arguments(CommentRequest)
@bp.response(201, EventOut)
@bp.errors(400, 401, 404, 409, 413)
def comment(body, task_id):
    """对一个任务发表意见（流程进行中）。意见记入申请的历史。"""
    return event_dict(add_comment(deps(), load_user(), task_id, body["comment"]))

