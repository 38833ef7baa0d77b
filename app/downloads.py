"""A stored attachment sent as a download: the one response both the API and the pages give.

Always as an attachment, never inline, with the type stored at upload time, `nosniff` and a sandboxing
CSP, so an uploaded file cannot run in the application's origin; the ETag is the content's SHA-256.
A row whose file is no longer in the store raises `AttachmentFileMissing`: the API answers it as a
JSON 410, the pages as a readable 410 page.
"""
import unicodedata
from pathlib import Path
from urllib.parse import quote

from flask import Response, current_app, send_file

from app.models import Attachment
from app.storage import AttachmentStore
from app.storage.filetypes import extension

MISSING_MESSAGE = "附件文件已丢失，无法下载。请联系管理员，或请上传人重新上传"


class AttachmentFileMissing(Exception):
    """The attachment's row exists (and the user may see it) but its bytes are not in the store."""

    def __init__(self, attachment: Attachment):
        self.attachment = attachment
        self.message = f"“{attachment.filename}”{MISSING_MESSAGE}"
        super().__init__(self.message)


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the real one as RFC 5987 `filename*` (UTF-8)."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(ch for ch in fallback if ch.isprintable() and ch not in '"\\')
    if not fallback.rsplit(".", 1)[0].strip(" ._-"):
        fallback = "attachment" + extension(filename)  # a Chinese name leaves nothing readable in ASCII
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def send_attachment(attachment: Attachment, store_root: Path) -> Response:
    """The download response for an attachment the caller has already checked the user may see."""
    path = AttachmentStore(store_root).path(attachment.sha256)
    if not path.is_file():
        current_app.logger.error("attachment %s: file %s is missing", attachment.id, path)
        raise AttachmentFileMissing(attachment)
    response = send_file(path, mimetype=attachment.content_type, etag=attachment.sha256, conditional=True)
    response.headers["Content-Type"] = attachment.content_type  # as stored: werkzeug would add a 2nd charset
    response.headers["Content-Disposition"] = content_disposition(attachment.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response
