"""附件 through the task page: upload (multipart), the lists, a byte-identical download with safe headers,
and the refusals (a file that is not what its name says, one over the cap, a request over the cap)."""
import re
from io import BytesIO

import pytest
from sqlalchemy import func, select

from app.models import Attachment
from tests.integration.test_attachments import pdf_bytes
from tests.web.conftest import field_block, main_text
from tests.web.helpers import at_unit_head, operate

CAP = 64 * 1024


@pytest.fixture
def web_app(make_app, app, files_dir):
    """The pages with a small attachment cap and request cap, so 413 is cheap to reach."""
    return make_app(ATTACHMENT_DIR=files_dir, MAX_ATTACHMENT_BYTES=CAP, MAX_CONTENT_LENGTH=2 * CAP)


def upload(person, task_id: int, data: bytes, filename: str):
    return operate(person, task_id, "attachments", {"file": (BytesIO(data), filename)},
                   content_type="multipart/form-data")


def attach_panel(html: str) -> str:
    match = re.search(r'<details[^>]*\bid="op-attach"[^>]*>(.*?)</details>', html, re.S)
    assert match, "no upload panel"
    return match.group(1)


def attachment_count(db_read) -> int:
    return db_read(select(func.count()).select_from(Attachment))[0]


def test_a_pdf_uploaded_on_the_task_page_downloads_byte_identical(demo, browser, db_read, files_dir):
    instance_id, head, task_id = at_unit_head(browser)
    data = pdf_bytes()
    form = attach_panel(head.get(f"/tasks/{task_id}").text)
    assert 'enctype="multipart/form-data"' in form and "不超过 64.0 KB" in form

    response = upload(head, task_id, data, "发票.pdf")
    assert response.status_code == 302, main_text(response.text)
    [attachment] = db_read(select(Attachment))
    page = head.get(f"/tasks/{task_id}").text
    assert "已上传附件“发票.pdf”" in main_text(page)
    listed = page[page.index('id="attachments"'):]
    assert f'href="/attachments/{attachment.id}" download hx-boost="false">发票.pdf</a>' in listed

    clerk = browser("nyb_clerk")
    instance_page = clerk.get(f"/instances/{instance_id}").text
    assert f'href="/attachments/{attachment.id}"' in instance_page
    assert "附件 单位负责人审核 周主任" in main_text(instance_page)
    with clerk.get(f"/attachments/{attachment.id}") as download:
        assert download.status_code == 200 and download.get_data() == data
        headers = download.headers
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf" in headers["Content-Disposition"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert headers["ETag"].strip('"') == attachment.sha256
    assert [p.read_bytes() for p in files_dir.rglob(attachment.sha256)] == [data]  # the test's own store

    assert browser("qs_clerk").get(f"/attachments/{attachment.id}").status_code == 404
    assert clerk.get("/attachments/999999").status_code == 404


def test_no_file_or_one_that_is_not_what_its_name_says_is_refused_by_the_field(demo, browser, db_read):
    instance_id, head, task_id = at_unit_head(browser)
    nothing = upload(head, task_id, b"", "")
    assert nothing.status_code == 400 and "请选择要上传的文件" in field_block(nothing.text, "attach-file")
    response = upload(head, task_id, b"MZ\x90\x00not a pdf", "发票.pdf")
    assert response.status_code == 400
    assert "附件不符合要求" in attach_panel(response.text)
    assert "field-error" in field_block(response.text, "attach-file")
    assert attachment_count(db_read) == 0


def test_a_file_over_the_cap_is_413_by_the_field_and_a_request_over_the_cap_is_413(demo, browser, db_read):
    instance_id, head, task_id = at_unit_head(browser)
    big = pdf_bytes() + b"%" * CAP
    response = upload(head, task_id, big, "大文件.pdf")
    assert response.status_code == 413
    assert "附件过大" in attach_panel(response.text)
    assert "不能超过 64 KB" in field_block(response.text, "attach-file")

    huge = upload(head, task_id, big * 3, "更大.pdf")
    assert huge.status_code == 413 and "上传的内容过大" in main_text(huge.text)
    assert attachment_count(db_read) == 0


def test_a_file_gone_from_the_store_shows_a_readable_page_not_a_server_error(demo, browser, db_read, files_dir):
    instance_id, head, task_id = at_unit_head(browser)
    assert upload(head, task_id, pdf_bytes(), "发票.pdf").status_code == 302
    [attachment] = db_read(select(Attachment))
    [stored] = [p for p in files_dir.rglob(attachment.sha256)]
    stored.unlink()
    clerk = browser("nyb_clerk")
    response = clerk.get(f"/attachments/{attachment.id}")
    assert response.status_code == 410 and response.mimetype == "text/html"
    text = main_text(response.text)
    assert "文件已丢失" in text and "“发票.pdf”附件文件已丢失，无法下载" in text
    assert "Content-Disposition" not in response.headers
    assert browser("qs_clerk").get(f"/attachments/{attachment.id}").status_code == 404
