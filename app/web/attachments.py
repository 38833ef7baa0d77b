"""POST a comment (意见) or an attachment on a task; GET an attachment's file.

Downloads are the API's own response (app/downloads.py): always as an attachment, with the type stored
at upload time, nosniff and a sandboxing CSP, to whoever may see the request; a file gone from the store
is a readable 410 page.
"""
from flask import current_app, flash, redirect, request, url_for

from app.approvals.attachments import add_attachment, add_comment, attachment_for
from app.approvals.errors import InvalidInput
from app.auth.request import load_user
from app.downloads import AttachmentFileMissing, send_attachment
from app.extensions import db
from app.runtime import deps
from app.web import bp
from app.web.errors import REFUSALS, error_page
from app.web.operations import refused_task_page


@bp.post("/tasks/<int:task_id>/comments")
def comment(task_id):
    try:
        add_comment(deps(), load_user(), task_id, request.form.get("comment"))
    except REFUSALS as exc:
        return refused_task_page(task_id, "note", exc)
    flash("意见已记入流程记录", "success")
    return redirect(url_for("web.task", task_id=task_id))


@bp.post("/tasks/<int:task_id>/attachments")
def upload(task_id):
    upload_ = request.files.get("file")
    max_bytes = current_app.config["MAX_ATTACHMENT_BYTES"]
    try:
        if not upload_:  # no file chosen: the form's own check, as the API's schema requires the field
            raise InvalidInput("请选择文件", {"file": ["请选择要上传的文件"]})
        data = upload_.stream.read(max_bytes + 1)  # one byte over is enough to refuse
        attachment = add_attachment(deps(), load_user(), task_id, upload_.filename, data,
                                    current_app.config["ATTACHMENT_DIR"], max_bytes=max_bytes)
    except REFUSALS as exc:
        return refused_task_page(task_id, "attach", exc)
    flash(f"已上传附件“{attachment.filename}”", "success")
    return redirect(url_for("web.task", task_id=task_id))


@bp.get("/attachments/<int:attachment_id>")
def download(attachment_id):
    attachment = attachment_for(db.session, load_user(), attachment_id)
    return send_attachment(attachment, current_app.config["ATTACHMENT_DIR"])


@bp.errorhandler(AttachmentFileMissing)
def file_missing(error: AttachmentFileMissing):
    return error_page(410, error.message)
