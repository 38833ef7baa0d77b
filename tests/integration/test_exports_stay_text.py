"""Every file the product writes for a spreadsheet shows a title typed as a formula as text: the overdue
board's workbook (GET /api/v1/overdue.xlsx) and the bank's batch file (GET /api/v1/bank/batches/{id}/file)."""
import csv
import io
import zipfile
from datetime import timedelta

import openpyxl
from sqlalchemy import select

from app import clock
from app.models import HumanTask, Org, ProcessDefinition, ProcessInstance, TaskCandidate, User
from app.tabular import looks_like_formula
from tests.integration.office import payment_data

TITLES = ["=HYPERLINK(\"http://evil.example/\",\"发票\")", " =1+1", "\t+cmd|' /C calc'!A0", "@SUM(1+1)*cmd"]


def worksheets_xml(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return b"".join(package.read(n) for n in package.namelist() if n.startswith("xl/worksheets/"))


def overdue_request(session, title: str, assignee: User, org_id: int, definition_id: int, n: int) -> None:
    """A request of 农业农村办 waiting for its unit head for ten days, past its deadline."""
    long_ago = clock.now() - timedelta(days=10)
    instance = ProcessInstance(definition_id=definition_id, process_id="payment", org_id=org_id,
                               initiator_id=assignee.id, status="running", business_key=f"XSS-{n:03d}", title=title,
                               created_at=long_ago, updated_at=long_ago, state="{}")
    session.add(instance)
    session.flush()
    task = HumanTask(instance_id=instance.id, bpmn_process_id="payment", bpmn_id="unit_head_review",
                     name="=单位负责人审核", role="unit_head", state="ready", created_at=long_ago,
                     due_at=long_ago + timedelta(days=1), assignee_id=assignee.id)
    task.candidates = [TaskCandidate(user_id=assignee.id)]
    session.add(task)


def test_the_overdue_workbook_writes_titles_and_names_as_text_never_as_formulas(demo, db_session, as_user):
    head = db_session.scalar(select(User).where(User.username == "nyb_head"))
    head.display_name = "-周主任"
    org_id = db_session.scalar(select(Org.id).where(Org.code == "SFZ-NYB"))
    definition_id = db_session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.process_id == "payment"))
    for n, title in enumerate(TITLES, 1):
        overdue_request(db_session, title, head, org_id, definition_id, n)
    db_session.commit()

    response = as_user("duban").get("/api/v1/overdue.xlsx")
    assert response.status_code == 200
    assert b"<f>" not in worksheets_xml(response.data)  # not one formula in any sheet
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["超时待办"]
    rows = list(sheet.iter_rows(min_row=2))
    assert sorted(r[3].value for r in rows) == sorted(TITLES)  # shown exactly as typed
    for row in rows:
        title, step, person = row[3], row[6], row[8]
        assert (step.value, person.value) == ("=单位负责人审核", "-周主任")
        assert all(c.data_type == "s" and c.quotePrefix for c in (title, step, person))


def test_the_bank_batch_file_quotes_every_purpose_and_payee_typed_as_a_formula(office, funded):
    _, (code, _) = funded
    files = []
    for title in TITLES:
        data = {**payment_data(code, "200.00", payee_name=title.strip() + "商行", payee_bank="@农行"), "title": title}
        del data["purpose"]  # the request's title becomes the purpose the bank reads
        iid = office.start("nyb_clerk", "payment", data)["id"]
        for who in ("nyb_head", "cz_reviewer", "deputy", "guoku"):
            office.act(who, iid)
        payment = office.payment(iid)
        assert looks_like_formula(payment.purpose), payment.purpose
        response = office.as_user("guoku").get(f"/api/v1/bank/batches/{payment.batch_id}/file")
        assert response.status_code == 200, response.get_json()
        [header, line] = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
        files.append((payment, line))
    for payment, line in files:
        assert line[2] == "'" + payment.payee_name and line[4] == "'@农行" and line[6] == "'" + payment.purpose
        assert line[5] == "200.00"
