"""Which uploads are accepted: the bytes and the file name's extension must agree on an allowed type.

The extension alone proves nothing (an .exe renamed .pdf), nor do the bytes alone (a browser would
render HTML or SVG from the same origin). So each allowed extension names one type and a check on
the content: magic bytes for PDF, PNG and JPEG; for the ZIP-based formats (OFD, DOCX, XLSX) the
entries the format requires, read from the central directory without inflating anything, with the
declared uncompressed total capped (a zip bomb is refused unopened); for .txt/.csv valid UTF-8 with
no NUL byte and nothing that looks like markup.
"""
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

MAX_FILENAME = 255
# A ZIP's entries may declare at most this many times the upload cap, uncompressed, in total.
ZIP_EXPANSION_LIMIT = 100
MAX_ZIP_ENTRIES = 10_000
_MARKUP = re.compile(rb"^\s*<\s*(!doctype|html|head|body|script|svg|\?xml|iframe|object|embed|meta|style)\b",
                     re.IGNORECASE)


class FileRefused(ValueError):
    """The upload is not an allowed file; the message says why, in words for the uploader."""


@dataclass(frozen=True)
class FileType:
    content_type: str
    label: str
    matches: Callable[[bytes, int], bool]  # (data, max_bytes) -> bool


def sanitize_filename(raw: str | None) -> str:
    """The name's last path part, without control characters or leading/trailing dots and spaces; ≤ 255."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = name.strip().strip(". ").strip()
    if not name:
        raise FileRefused("文件名无效")
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and len(ext) <= 16:  # keep the extension: it decides the type
            name = stem[: MAX_FILENAME - len(ext) - 1].rstrip(". ") + dot + ext
        else:
            name = name[:MAX_FILENAME].rstrip(". ")
    return name


def extension(filename: str) -> str:
    stem, dot, ext = filename.rpartition(".")
    return f".{ext.lower()}" if dot and stem else ""


def _zip_names(data: bytes, max_bytes: int) -> set[str] | None:
    """Entry names from the central directory, or None when it is not a ZIP we accept.

    Only the directory is read; nothing is decompressed. FileRefused for a bomb (declared sizes too big).
    """
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, NotImplementedError):
        return None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise FileRefused("压缩包内文件过多")
    if sum(i.file_size for i in infos) > ZIP_EXPANSION_LIMIT * max_bytes:
        raise FileRefused("压缩包解压后过大，疑似压缩炸弹")
    return {i.filename for i in infos}


def _is_ofd(data: bytes, max_bytes: int) -> bool:
    names = _zip_names(data, max_bytes)
    return names is not None and "OFD.xml" in names


def _is_ooxml(folder: str) -> Callable[[bytes, int], bool]:
    def matches(data: bytes, max_bytes: int) -> bool:
        names = _zip_names(data, max_bytes)
        if names is None or "[Content_Types].xml" not in names:
            return False
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise FileRefused("文档含有宏，不予接收")
        return any(n.startswith(folder) for n in names)

    return matches


def _is_text(data: bytes, _max_bytes: int) -> bool:
    if b"\x00" in data or _MARKUP.match(data.removeprefix(b"\xef\xbb\xbf")):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _magic(prefix: bytes) -> Callable[[bytes, int], bool]:
    return lambda data, _max_bytes: data.startswith(prefix)


_PDF = FileType("application/pdf", "PDF", _magic(b"%PDF-"))
_JPEG = FileType("image/jpeg", "JPEG 图片", _magic(b"\xff\xd8\xff"))
ALLOWED: dict[str, FileType] = {
    ".pdf": _PDF,
    ".png": FileType("image/png", "PNG 图片", _magic(b"\x89PNG\r\n\x1a\n")),
    ".jpg": _JPEG,
    ".jpeg": _JPEG,
    ".ofd": FileType("application/ofd", "OFD 版式文件", _is_ofd),
    ".docx": FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word 文档",
                      _is_ooxml("word/")),
    ".xlsx": FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel 表格",
                      _is_ooxml("xl/")),
    ".txt": FileType("text/plain; charset=utf-8", "UTF-8 文本", _is_text),
    ".csv": FileType("text/csv; charset=utf-8", "UTF-8 CSV", _is_text),
}
ALLOWED_LIST = "PDF、OFD、PNG、JPG、DOCX、XLSX、TXT、CSV"


def content_type_of(filename: str, data: bytes, max_bytes: int) -> str:
    """The content type to store and serve for this (already sanitised) name and these bytes.

    FileRefused unless the extension is allowed and the bytes are what it says.
    """
    if not data:
        raise FileRefused("文件为空")
    ext = extension(filename)
    kind = ALLOWED.get(ext)
    if kind is None:
        shown = ext or "（无扩展名）"
        raise FileRefused(f"不支持 {shown} 类型的文件，只接收 {ALLOWED_LIST}")
    if not kind.matches(data, max_bytes):
        raise FileRefused(f"文件内容不是 {kind.label}，与扩展名 {ext} 不符")
    return kind.content_type
