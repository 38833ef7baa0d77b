"""Steps a test takes through the pages, as a person would."""
import re

CLAIM_FORM = {"title": "购买办公用品", "amount": "1200.50", "expense_type": "办公费", "payee": "镇供销社",
              "invoice_count": "2", "description": "打印纸十箱"}


def start_claim(clerk, **fields) -> int:
    """Fill in /start/expense_claim and submit; return the new instance's id."""
    response = clerk.submit("/start/expense_claim", "/start/expense_claim", {**CLAIM_FORM, **fields})
    assert response.status_code == 302, response.text
    return int(re.fullmatch(r"/instances/(\d+)", response.headers["Location"]).group(1))


def task_links(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/tasks/(\d+)"', html)]


def todo_task_of(person, title: str) -> int:
    """The id of the task in the person's 待办 whose request has `title`."""
    page = person.get("/?view=todo&q=" + title)
    assert page.status_code == 200
    [task_id] = task_links(page.text[page.text.index('id="results"'):])
    return task_id


def decide(person, task_id: int, decision: str = "approve", comment: str = "同意", **fields):
    return person.submit(f"/tasks/{task_id}", f"/tasks/{task_id}/complete",
                         {"decision": decision, "comment": comment, **fields})


def at_unit_head(browser, clerk: str = "nyb_clerk", head: str = "nyb_head", **fields):
    """A claim started by `clerk` and waiting for `head`: (instance id, head's browser, the task id)."""
    instance_id = start_claim(browser(clerk), **fields)
    person = browser(head)
    return instance_id, person, todo_task_of(person, fields.get("title", CLAIM_FORM["title"]))


def operate(person, task_id: int, action: str, data: dict | None = None, **kw):
    """Post one of the task page's operation forms (return, transfer, signers…) with the page's CSRF token."""
    return person.submit(f"/tasks/{task_id}", f"/tasks/{task_id}/{action}", data or {}, **kw)
