"""Drive the budget processes through the API as the seeded users of 示范镇, and read the ledger back.

`Office` is what the end-to-end tests speak through: start a request as one user, act on it as
another (finding their task in their own 待办), answer as the bank (a signed callback). Everything goes
through HTTP and the real BPMN files; only reads of balances go to the database directly.
"""
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from app import ledger
from app.models import Indicator, Payment, Project

BANK_SECRET = "test-bank-secret"
_DECIMAL = re.compile(r'"\\u0000dec:([-0-9.]+)"')


def as_json(body) -> str:
    """JSON as a client writes it: Decimal amounts as exact JSON numbers (never via float)."""
    def mark(value):
        if isinstance(value, Decimal):
            return f"\u0000dec:{value}"
        raise TypeError(type(value).__name__)

    return _DECIMAL.sub(r"\1", json.dumps(body, default=mark))


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@dataclass
class Office:
    as_user: object
    session: object
    client: object

    def start(self, username: str, process_id: str, data: dict, expect: int = 201) -> dict:
        resp = self.as_user(username).post("/api/v1/instances", data=as_json({"process_id": process_id, "data": data}),
                                           content_type="application/json")
        assert resp.status_code == expect, resp.get_json()
        return resp.get_json()

    def task_for(self, username: str, instance_id: int) -> dict:
        """The task `username` has in their 待办 for this request."""
        resp = self.as_user(username).get("/api/v1/tasks", query_string={"view": "todo", "per_page": 100})
        assert resp.status_code == 200, resp.get_json()
        found = [item["task"] for item in resp.get_json()["items"] if item["instance"]["id"] == instance_id]
        assert found, f"{username} has no task for request {instance_id}: {self.where(instance_id)}"
        return found[0]

    def act(self, username: str, instance_id: int, decision: str | None = "approve", data: dict | None = None,
            comment: str | None = None, expect: int = 200) -> dict:
        task = self.task_for(username, instance_id)
        body = {"data": data or {}, "comment": comment or "同意"}
        if decision is not None:
            body["decision"] = decision
        resp = self.as_user(username).post(f"/api/v1/tasks/{task['id']}/complete", data=as_json(body),
                                           content_type="application/json")
        assert resp.status_code == expect, resp.get_json()
        return resp.get_json()

    def detail(self, username: str, instance_id: int) -> dict:
        resp = self.as_user(username).get(f"/api/v1/instances/{instance_id}")
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    def where(self, instance_id: int) -> list[str]:
        """The steps the request waits at (for assertion messages and checks)."""
        self.session.expire_all()
        from app.models import HumanTask, TaskState

        return list(self.session.scalars(select(HumanTask.bpmn_id).where(
            HumanTask.instance_id == instance_id, HumanTask.state == TaskState.READY)))

    def bank_says(self, bank_ref: str, status: str, reason: str | None = None, expect: int = 200):
        body = json.dumps({"bank_ref": bank_ref, "status": status, **({"reason": reason} if reason else {})})
        signature = hmac.new(BANK_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
        resp = self.client.post("/api/v1/bank/callbacks", data=body, content_type="application/json",
                                headers={"X-Bank-Signature": f"sha256={signature}"})
        assert resp.status_code == expect, resp.get_json()
        return resp

    # -- reading the books back ------------------------------------------------------------------------

    def indicator(self, code: str) -> Indicator:
        self.session.expire_all()
        return self.session.scalar(select(Indicator).where(Indicator.code == code))

    def balances(self, code: str) -> ledger.Balances:
        self.session.expire_all()
        return ledger.balances(self.session, self.indicator(code).id)

    def payment(self, instance_id: int) -> Payment:
        self.session.expire_all()
        return self.session.scalar(select(Payment).where(Payment.instance_id == instance_id))

    def project(self, instance_id: int) -> Project:
        self.session.expire_all()
        return self.session.scalar(select(Project).where(Project.instance_id == instance_id))


def project_data(name="高标准农田灌溉配套", amount="80000.00", category="3", **extra) -> dict:
    return {"title": f"申报项目：{name}", "name": name, "category_code": category, "start_year": 2026,
            "end_year": 2026, "amount": money(amount),
            "goals": [{"kind": "产出指标", "name": "新建灌溉渠道", "target": "1200米"},
                      {"kind": "效益指标", "name": "受益农田", "target": "800亩"}], **extra}


def line(project_code: str, amount, econ="30213", func="2130199", fund="111", **flags) -> dict:
    return {"project_code": project_code, "func_code": func, "econ_dept_code": econ, "fund_nature_code": fund,
            "amount": money(amount), **flags}


def payment_data(indicator_code: str, amount, **extra) -> dict:
    return {"title": "灌溉渠道维修材料款", "indicator_code": indicator_code, "amount": money(amount),
            "purpose": "灌溉渠道维修材料", "payee_name": "示范镇建材商行", "payee_account": "6222020200012345678",
            "payee_bank": "农行示范镇支行", "invoice_count": 2, **extra}
