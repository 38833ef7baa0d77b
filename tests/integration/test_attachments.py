"""Comments and attachments on the tasks of a running request: who may add and read them, which files pass.

The files are built here, byte by byte: a real one-page PDF, a 1x1 PNG, minimal OOXML and OFD packages.
"""
import hashlib
import io
import struct
import threading
import time
import zipfile
import zlib
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.models import Attachment, EventType, InstanceEvent, InstanceStatus, ProcessInstance
from app.storage import AttachmentStore
from app.storage.filetypes import sanitize_filename
from tests.integration.test_approval_flow import complete, start_claim, the_task

CAP = 64 * 1024


@pytest.fixture
def app(make_app, files_dir):
    """The app with its attachment store in a temp dir and a small size cap (so 413 is cheap to reach)."""
    app = make_app(ATTACHMENT_DIR=files_dir, MAX_ATTACHMENT_BYTES=CAP)
    with app.app_context():
        yield app


# --- files -------------------------------------------------------------------------------------------

def pdf_bytes() -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    return out + f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()


def png_bytes() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in entries.items():
            archive.writestr(name, body)
    return buffer.getvalue()


CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
DOCX = zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": b"<w:document/>"})
XLSX = zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "xl/workbook.xml": b"<workbook/>"})
OFD = zip_bytes({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<ofd:Document/>"})
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64 + b"This program cannot be run in DOS mode"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'


# --- helpers -------------------------------------------------------------------------------------------

def upload(api, task_id, data: bytes, filename: str):
    # Encoded in memory: werkzeug's test builder would spool a big body to a temp file it never closes.
    boundary, body = encode_multipart(MultiDict([("file", FileStorage(io.BytesIO(data), filename))]))
    return api.post(f"/api/v1/tasks/{task_id}/attachments", data=body,
                    content_type=f"multipart/form-data; boundary={boundary}")


def download(api, url, **kw):
    """GET a download and close it: the test client would otherwise leave the stored file open."""
    response = api.get(url, **kw)
    response.get_data()
    response.close()
    return response


def comment(api, task_id, text):
    return api.post(f"/api/v1/tasks/{task_id}/comments", json={"comment": text})


def at_unit_head(as_user):
    """A claim waiting for nyb_head; returns (instance, the head's task)."""
    instance = start_claim(as_user("nyb_clerk"))
    return instance, the_task(as_user("nyb_head"), instance["id"])


def stored_files(files_dir):
    return sorted(p for p in files_dir.rglob("*") if p.is_file()) if files_dir.exists() else []


def attachment_rows(db_session):
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Attachment))


def history(api, instance_id):
    response = api.get(f"/api/v1/instances/{instance_id}")
    assert response.status_code == 200, response.json
    return response.json["history"]


# --- happy paths -------------------------------------------------------------------------------------

def test_an_approver_attaches_a_pdf_and_the_applicant_sees_it_listed(demo, as_user, files_dir):
    instance, task = at_unit_head(as_user)
    data = pdf_bytes()
    response = upload(as_user("nyb_head"), task["id"], data, "报销单据.pdf")
    assert response.status_code == 201, response.json
    sha = hashlib.sha256(data).hexdigest()
    assert {k: response.json[k] for k in ("instance_id", "task_id", "filename", "content_type", "size", "sha256")} \
        == {"instance_id": instance["id"], "task_id": task["id"], "filename": "报销单据.pdf",
            "content_type": "application/pdf", "size": len(data), "sha256": sha}
    assert response.json["uploaded_by"]["username"] == "nyb_head"
    assert stored_files(files_dir) == [files_dir / sha[:2] / sha[2:4] / sha]

    listing = as_user("nyb_clerk").get(f"/api/v1/instances/{instance['id']}/attachments")
    assert listing.status_code == 200
    assert [(a["id"], a["filename"], a["sha256"]) for a in listing.json] == [(response.json["id"], "报销单据.pdf", sha)]
    assert listing.json[0]["url"] == f"/api/v1/attachments/{response.json['id']}"


def test_a_download_is_byte_identical_and_cannot_run_in_the_browser(demo, as_user):
    _, task = at_unit_head(as_user)
    data = png_bytes()
    attachment = upload(as_user("nyb_head"), task["id"], data, "现场照片.png").json
    response = download(as_user("nyb_clerk"), attachment["url"])
    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Content-Type"] == "image/png"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('现场照片.png', safe='')}" in disposition
    assert 'filename="attachment.png"' in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert "private" in response.headers["Cache-Control"]  # never kept by a shared cache
    again = download(as_user("nyb_clerk"), attachment["url"], headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_a_file_gone_from_the_store_answers_a_clear_410_not_a_server_error(demo, as_user, files_dir):
    _, task = at_unit_head(as_user)
    attachment = upload(as_user("nyb_head"), task["id"], pdf_bytes(), "报销单据.pdf").json
    [stored] = stored_files(files_dir)
    stored.unlink()
    response = download(as_user("nyb_clerk"), attachment["url"])
    assert response.status_code == 410
    assert response.json["error"] == "attachment_missing"
    assert "报销单据.pdf" in response.json["message"] and "附件文件已丢失" in response.json["message"]
    assert "Content-Disposition" not in response.headers
    assert download(as_user("qs_clerk"), attachment["url"]).status_code == 404  # still nothing for outsiders


def test_the_history_lists_the_attachment_with_its_sha256(demo, as_user):
    instance, task = at_unit_head(as_user)
    data = pdf_bytes()
    attachment = upload(as_user("nyb_head"), task["id"], data, "合同.pdf").json
    event = history(as_user("nyb_clerk"), instance["id"])[-1]
    assert event["type"] == EventType.ATTACHMENT_ADDED
    assert event["actor"]["username"] == "nyb_head"
    assert event["task_id"] == task["id"]
    assert event["data"] == {"attachment_id": attachment["id"], "filename": "合同.pdf",
                             "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                             "content_type": "application/pdf"}


def test_a_comment_appears_in_the_requests_history(demo, as_user):
    instance, task = at_unit_head(as_user)
    response = comment(as_user("nyb_head"), task["id"], "  请补充发票原件  ")
    assert response.status_code == 201, response.json
    assert response.json["type"] == EventType.COMMENT_ADDED
    events = history(as_user("nyb_clerk"), instance["id"])
    assert (events[-1]["type"], events[-1]["data"], events[-1]["actor"]["username"], events[-1]["task_id"]) == \
        (EventType.COMMENT_ADDED, {"comment": "请补充发票原件"}, "nyb_head", task["id"])
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def test_the_applicant_may_comment_on_a_task_that_is_not_theirs_and_the_approver_may_still_act(demo, as_user):
    instance, task = at_unit_head(as_user)
    assert comment(as_user("nyb_clerk"), task["id"], "发票已补交").status_code == 201
    assert complete(as_user("nyb_head"), task["id"]).status_code == 200


@pytest.mark.parametrize(("filename", "data", "content_type"), [
    ("申请表.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("预算表.XLSX", XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("电子发票.ofd", OFD, "application/ofd"),
    ("photo.jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32, "image/jpeg"),
    ("说明.txt", "付款说明：已核对。\n".encode(), "text/plain; charset=utf-8"),
    ("明细.csv", "项目,金额\n办公用品,1200.00\n".encode(), "text/csv; charset=utf-8"),
])
def test_each_allowed_type_is_accepted_when_content_and_extension_agree(demo, as_user, filename, data, content_type):
    _, task = at_unit_head(as_user)
    response = upload(as_user("nyb_head"), task["id"], data, filename)
    assert response.status_code == 201, response.json
    assert response.json["content_type"] == content_type
    got = download(as_user("nyb_head"), response.json["url"])
    assert got.data == data
    assert got.headers["Content-Type"] == content_type


@pytest.mark.parametrize(("sent", "kept"), [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("报销\u202eFDP.txt", "报销FDP.txt"),  # a right-to-left override would disguise the extension
    ("a" * 300 + ".txt", "a" * 251 + ".txt"),
])
def test_the_file_name_keeps_no_path_parts_or_control_characters_and_at_most_255_characters(
        demo, as_user, sent, kept):
    _, task = at_unit_head(as_user)
    data = pdf_bytes() if kept.endswith(".pdf") else b"plain text"
    response = upload(as_user("nyb_head"), task["id"], data, sent)
    assert response.status_code == 201, response.json
    assert response.json["filename"] == kept


@pytest.mark.parametrize(("sent", "kept"), [
    ("C:\\Users\\会计\\发票.pdf", "发票.pdf"),  # old browsers sent the whole path; HTTP drops the backslashes
    ("...hidden.pdf ", "hidden.pdf"),
    ("报销单\x00.pdf", "报销单.pdf"),
])
def test_a_file_name_is_cut_to_its_last_part_without_dots_spaces_or_control_characters_around_it(sent, kept):
    assert sanitize_filename(sent) == kept


def test_the_same_bytes_attached_twice_are_two_attachments_but_one_stored_file(demo, as_user, db_session, files_dir):
    instance, task = at_unit_head(as_user)
    head = as_user("nyb_head")
    first = upload(head, task["id"], pdf_bytes(), "a.pdf").json
    second = upload(head, task["id"], pdf_bytes(), "b.pdf").json
    assert first["id"] != second["id"] and first["sha256"] == second["sha256"]
    assert attachment_rows(db_session) == 2
    assert len(stored_files(files_dir)) == 1


# --- who may -----------------------------------------------------------------------------------------

def test_a_user_of_another_township_gets_404_on_upload_list_download_and_comment(demo, as_user, db_session):
    instance, task = at_unit_head(as_user)
    attachment = upload(as_user("nyb_head"), task["id"], pdf_bytes(), "a.pdf").json
    outsider = as_user("qs_reviewer")
    responses = [
        upload(outsider, task["id"], pdf_bytes(), "b.pdf"),
        outsider.get(f"/api/v1/instances/{instance['id']}/attachments"),
        download(outsider, attachment["url"]),
        comment(outsider, task["id"], "看看"),
    ]
    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert all(r.json["error"] == "not_found" for r in responses)
    assert attachment_rows(db_session) == 1


def test_unknown_ids_answer_404_like_invisible_ones(demo, as_user):
    api = as_user("nyb_head")
    assert upload(api, 999999, pdf_bytes(), "a.pdf").status_code == 404
    assert api.get("/api/v1/instances/999999/attachments").status_code == 404
    assert download(api, "/api/v1/attachments/999999").status_code == 404


def test_an_auditor_who_oversees_the_township_may_list_and_download(demo, as_user):
    instance, task = at_unit_head(as_user)
    data = pdf_bytes()
    attachment = upload(as_user("nyb_head"), task["id"], data, "a.pdf").json
    auditor = as_user("shenji")
    assert [a["id"] for a in auditor.get(f"/api/v1/instances/{instance['id']}/attachments").json] == [attachment["id"]]
    got = download(auditor, attachment["url"])
    assert got.status_code == 200 and got.data == data


def test_without_a_token_every_attachment_endpoint_answers_401(demo, as_user, client):
    instance, task = at_unit_head(as_user)
    responses = [client.post(f"/api/v1/tasks/{task['id']}/attachments"),
                 client.get(f"/api/v1/instances/{instance['id']}/attachments"),
                 client.get("/api/v1/attachments/1"),
                 client.post(f"/api/v1/tasks/{task['id']}/comments", json={"comment": "x"})]
    assert [r.status_code for r in responses] == [401] * 4
    assert {r.json["error"] for r in responses} == {"unauthorized"}


# --- bad input ---------------------------------------------------------------------------------------

def test_a_file_over_the_size_cap_is_refused_with_413_and_nothing_is_stored(demo, as_user, db_session, files_dir):
    instance, task = at_unit_head(as_user)
    data = b"x" * (CAP + 1)
    response = upload(as_user("nyb_head"), task["id"], data, "big.txt")
    assert response.status_code == 413
    assert response.json["error"] == "request_entity_too_large"
    assert "file" in response.json["details"]
    assert attachment_rows(db_session) == 0
    assert stored_files(files_dir) == []
    assert history(as_user("nyb_clerk"), instance["id"])[-1]["type"] != EventType.ATTACHMENT_ADDED


def test_a_file_exactly_at_the_size_cap_is_accepted(demo, as_user):
    _, task = at_unit_head(as_user)
    assert upload(as_user("nyb_head"), task["id"], b"x" * CAP, "max.txt").status_code == 201


def test_an_exe_renamed_pdf_is_refused_with_a_message_on_the_file(demo, as_user, db_session, files_dir):
    _, task = at_unit_head(as_user)
    response = upload(as_user("nyb_head"), task["id"], EXE, "发票.pdf")
    assert response.status_code == 400
    assert response.json["error"] == "validation_error"
    assert "PDF" in response.json["details"]["file"][0]
    assert attachment_rows(db_session) == 0
    assert stored_files(files_dir) == []


def docx_bomb() -> bytes:
    """A DOCX whose entries declare more than 100x the cap uncompressed (a few KB on the wire)."""
    return zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": b"\x00" * (100 * CAP + 1)})


@pytest.mark.parametrize(("filename", "data"), [
    ("page.html", HTML),
    ("page.txt", HTML),  # markup dressed as text
    ("logo.svg", SVG),
    ("logo.png", SVG),
    ("tool.exe", EXE),
    ("empty.pdf", b""),
    ("bomb.docx", docx_bomb()),
    ("other.docx", zip_bytes({"readme.txt": b"not a word document"})),
    ("sheet.xlsx", DOCX),  # a Word package named as a spreadsheet
    ("invoice.ofd", DOCX),
    ("macro.docx", zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": b"<w:document/>",
                              "word/vbaProject.bin": b"\x00"})),
    ("broken.docx", b"PK\x03\x04 not really a zip"),
    ("nul.txt", b"abc\x00def"),
    ("gbk.csv", "项目,金额".encode("gbk")),
    ("photo.png", pdf_bytes()),
    ("noextension", pdf_bytes()),
    ("..", pdf_bytes()),
])
def test_files_that_are_not_what_their_name_says_or_not_allowed_at_all_are_refused(
        demo, as_user, db_session, files_dir, filename, data):
    _, task = at_unit_head(as_user)
    response = upload(as_user("nyb_head"), task["id"], data, filename)
    assert response.status_code == 400, response.json
    assert response.json["details"]["file"]
    assert attachment_rows(db_session) == 0
    assert stored_files(files_dir) == []


def test_an_upload_without_a_file_field_names_the_field(demo, as_user):
    _, task = at_unit_head(as_user)
    boundary, body = encode_multipart(MultiDict([("other", FileStorage(io.BytesIO(b"x"), "a.txt"))]))
    response = as_user("nyb_head").post(f"/api/v1/tasks/{task['id']}/attachments", data=body,
                                        content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400
    assert "file" in response.json["details"]


@pytest.mark.parametrize("text", ["", "   ", "意" * 2001])
def test_an_empty_or_too_long_comment_is_refused(demo, as_user, text):
    instance, task = at_unit_head(as_user)
    response = comment(as_user("nyb_head"), task["id"], text)
    assert response.status_code == 400
    assert "comment" in response.json["details"]
    assert EventType.COMMENT_ADDED not in [e["type"] for e in history(as_user("nyb_clerk"), instance["id"])]


def test_a_comment_of_exactly_2000_characters_is_kept_whole(demo, as_user):
    instance, task = at_unit_head(as_user)
    assert comment(as_user("nyb_head"), task["id"], "意" * 2000).status_code == 201
    assert history(as_user("nyb_clerk"), instance["id"])[-1]["data"]["comment"] == "意" * 2000


# --- finished requests -------------------------------------------------------------------------------

def test_nothing_can_be_added_to_a_finished_request(demo, as_user, db_session, files_dir):
    instance, task = at_unit_head(as_user)
    head = as_user("nyb_head")
    assert complete(head, task["id"], decision="reject", comment="不符合规定").status_code == 200
    before = history(head, instance["id"])
    responses = [upload(head, task["id"], pdf_bytes(), "late.pdf"), comment(head, task["id"], "补充")]
    assert [r.status_code for r in responses] == [409, 409]
    assert {r.json["error"] for r in responses} == {"conflict"}
    assert attachment_rows(db_session) == 0
    assert stored_files(files_dir) == []
    assert history(head, instance["id"]) == before


def test_what_was_attached_before_the_end_can_still_be_read_after_it(demo, as_user):
    instance, task = at_unit_head(as_user)
    head = as_user("nyb_head")
    data = pdf_bytes()
    attachment = upload(head, task["id"], data, "a.pdf").json
    assert complete(head, task["id"], decision="reject").status_code == 200
    assert download(as_user("nyb_clerk"), attachment["url"]).data == data


# --- the store itself --------------------------------------------------------------------------------

def test_the_store_names_files_by_content_and_writes_the_same_bytes_once(tmp_path):
    store = AttachmentStore(tmp_path)
    sha = store.put(b"hello")
    assert sha == hashlib.sha256(b"hello").hexdigest()
    assert store.path(sha) == tmp_path / sha[:2] / sha[2:4] / sha
    mtime = store.path(sha).stat().st_mtime_ns
    assert store.put(b"hello") == sha
    assert store.path(sha).stat().st_mtime_ns == mtime
    with store.open(sha) as f:
        assert f.read() == b"hello"
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [sha]  # no temp file left behind


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ABC", "g" * 64, "A" * 64])
def test_the_store_refuses_anything_but_a_sha256_digest_as_a_name(tmp_path, bad):
    with pytest.raises(ValueError):
        AttachmentStore(tmp_path).path(bad)


# --- races (PostgreSQL) ------------------------------------------------------------------------------

@pytest.mark.postgres
@pytest.mark.parametrize("attempt", range(12))
def test_an_upload_racing_the_last_completion_lands_before_the_end_or_gets_409(
        app, demo, as_user, db_session, files_dir, attempt):
    instance = start_claim(as_user("swb_clerk"))
    head = as_user("swb_head")
    assert complete(head, the_task(head, instance["id"])["id"]).status_code == 200
    task = the_task(as_user("cz_reviewer"), instance["id"])  # the last step: 1200.5 < 5000
    reviewer, clerk = as_user("cz_reviewer"), as_user("swb_clerk")
    data = pdf_bytes()
    boundary, body = encode_multipart(MultiDict([("file", FileStorage(io.BytesIO(data), "附件.pdf"))]))
    barrier, out = threading.Barrier(2), {}
    stagger = attempt // 2 * 0.001  # one side or the other starts 0-5 ms late, so both orders happen

    def run(name, token, path, delay=0.0, **kw):
        client = app.test_client()
        barrier.wait()
        time.sleep(delay)
        out[name] = client.post(path, headers={"Authorization": f"Bearer {token}"}, **kw).status_code

    threads = [
        threading.Thread(target=run, args=("complete", reviewer.token, f"/api/v1/tasks/{task['id']}/complete"),
                         kwargs={"json": {"decision": "approve", "data": {"documents_complete": True}},
                                 "delay": stagger if attempt % 2 else 0}),
        threading.Thread(target=run, args=("upload", clerk.token, f"/api/v1/tasks/{task['id']}/attachments"),
                         kwargs={"data": body, "content_type": f"multipart/form-data; boundary={boundary}",
                                 "delay": 0 if attempt % 2 else stagger}),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    db_session.expire_all()
    assert out["complete"] == 200, out
    assert db_session.get(ProcessInstance, instance["id"]).status == InstanceStatus.APPROVED
    events = db_session.execute(select(InstanceEvent.seq, InstanceEvent.type)
                                .where(InstanceEvent.instance_id == instance["id"])
                                .order_by(InstanceEvent.seq)).all()
    assert [seq for seq, _ in events] == list(range(1, len(events) + 1))
    types = [type_ for _, type_ in events]
    rows = db_session.scalars(select(Attachment).where(Attachment.instance_id == instance["id"])).all()
    if out["upload"] == 201:  # the upload went first: it is on record, before the request ended
        assert len(rows) == 1 and types.count(EventType.ATTACHMENT_ADDED) == 1
        assert types.index(EventType.ATTACHMENT_ADDED) < types.index(EventType.INSTANCE_APPROVED)
        assert AttachmentStore(files_dir).exists(rows[0].sha256)
    else:  # the completion went first: the upload found a finished request
        assert out["upload"] == 409, out
        assert rows == [] and EventType.ATTACHMENT_ADDED not in types
