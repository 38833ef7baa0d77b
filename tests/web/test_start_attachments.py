"""附件 sent with the application form: stored on the applicant's step in the same request that starts it,
counted by C19 at the first check, and C19 computed again when a file is added later on a task."""
import re
from io import BytesIO

from sqlalchemy import select

from app.models import Attachment, ControlResult, HumanTask, ProcessInstance
from tests.integration import conftest as budget
from tests.integration.test_attachments import pdf_bytes
from tests.web.conftest import field_block, main_text
from tests.web.helpers import decide, operate, todo_task_of

march, office, funded, project_in_library = budget.march, budget.office, budget.funded, budget.project_in_library
NO_INVOICE = "未附发票或其他合法凭据，不得以白条支付"
FORM = {"title": "灌溉渠道维修材料款", "amount": "1500.00", "purpose": "灌溉渠道维修材料",
        "payee_name": "示范镇建材商行", "payee_account": "6222020200012345678", "payee_bank": "农行示范镇支行",
        "invoice_count": "0", "settle_mode": "transfer"}


def start_payment(clerk, indicator: str, files: list[tuple[bytes, str]]):
    data = {**FORM, "indicator_code": indicator,
            "attachments": [(BytesIO(content), name) for content, name in files]}
    return clerk.submit("/start/payment", "/start/payment", data, content_type="multipart/form-data")


def started_id(response) -> int:
    assert response.status_code == 302, main_text(response.text)
    return int(re.fullmatch(r"/instances/(\d+)", response.headers["Location"]).group(1))


def c19_on(page: str) -> str:
    """The C19 line as the task page shows it."""
    text = main_text(page)
    assert "C19" in text or "凭据" in text, text
    return text


def test_the_form_offers_a_multiple_file_input(demo, browser):
    html = browser("nyb_clerk").get("/start/payment").text
    assert 'enctype="multipart/form-data"' in html
    block = field_block(html, "attachments")
    assert 'type="file"' in block and "multiple" in block and 'accept=".pdf,' in block


def test_an_invoice_sent_with_the_form_is_listed_and_c19_passes_at_the_unit_head(funded, browser, db_read):
    _project, (repairs, _materials) = funded
    clerk = browser("nyb_clerk")
    instance_id = started_id(start_payment(clerk, repairs, [(pdf_bytes(), "发票.pdf")]))

    [attachment] = db_read(select(Attachment).where(Attachment.instance_id == instance_id))
    [applied] = db_read(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.bpmn_id == "apply"))
    assert attachment.task_id == applied.id and attachment.filename == "发票.pdf"
    assert f'href="/attachments/{attachment.id}"' in clerk.get(f"/instances/{instance_id}").text
    [first_c19] = db_read(select(ControlResult).where(ControlResult.instance_id == instance_id,
                                                      ControlResult.rule == "C19"))
    assert first_c19.outcome == "pass" and first_c19.evidence["attachments"] == 1

    head = browser("nyb_head")
    page = head.get(f"/tasks/{todo_task_of(head, FORM['title'])}").text
    assert NO_INVOICE not in c19_on(page) and "附件 1 个" in main_text(page)


def test_without_a_file_c19_warns_and_a_file_added_later_makes_the_next_step_pass(funded, browser, db_read):
    _project, (repairs, _materials) = funded
    started_id(start_payment(browser("nyb_clerk"), repairs, []))
    head = browser("nyb_head")
    task_id = todo_task_of(head, FORM["title"])
    assert NO_INVOICE in c19_on(head.get(f"/tasks/{task_id}").text)

    uploaded = operate(head, task_id, "attachments", {"file": (BytesIO(pdf_bytes()), "发票.pdf")},
                       content_type="multipart/form-data")
    assert uploaded.status_code == 302, main_text(uploaded.text)
    # computed again when the file arrives: the unit head's own page already shows the latest
    assert NO_INVOICE not in c19_on(head.get(f"/tasks/{task_id}").text)

    assert decide(head, task_id).status_code == 302
    reviewer = browser("cz_reviewer")
    page = reviewer.get(f"/tasks/{todo_task_of(reviewer, FORM['title'])}").text
    assert NO_INVOICE not in c19_on(page) and "附件 1 个" in main_text(page)


def test_a_file_of_the_wrong_type_refuses_the_start_and_keeps_the_typed_values(funded, browser, db_read,
                                                                              files_dir):
    _project, (repairs, _materials) = funded
    response = start_payment(browser("nyb_clerk"), repairs,
                             [(pdf_bytes(), "发票.pdf"), (b"MZ\x90\x00 not a pdf", "合同.pdf")])
    assert response.status_code == 400
    block = field_block(response.text, "attachments")
    assert "field-error" in block and re.search(r"[\u4e00-\u9fff]", block)
    assert 'value="示范镇建材商行"' in field_block(response.text, "payee_name")
    assert db_read(select(ProcessInstance).where(ProcessInstance.process_id == "payment")) == []
    assert db_read(select(Attachment)) == []
