"""Clients of the live server: plain HTTP from threads, retrying what they did not see succeed.

A client that loses its connection (the server was killed under it) does not know whether its request
took effect. It finds out the way a person would: it reads the request again and does what is still
to do. Completing a task that is already done answers 409; a bank callback for a payment already
settled answers 409; a start has no idempotency key, so before starting again the clerk looks for the
request by its (unique) title. A 5xx is never expected and is recorded.
"""
import hashlib
import hmac
import http.client
import json
import threading
import time
from dataclasses import dataclass, field

from tests.integration.office import as_json

# Who takes each step of bpmn/payment.bpmn for a payment of 农业农村办 below the T1 threshold (T0).
HOLDERS = {"unit_head_review": "nyb_head", "finance_review": "cz_reviewer", "deputy_approve": "deputy",
           "treasury_submit": "guoku"}
STEP_DATA = {"finance_review": {"documents_complete": True}}


class Lost(Exception):
    """The connection broke or the server was not there: the outcome is unknown."""


@dataclass
class Traffic:
    """What every client thread is doing now, for the killer to aim at; and what went wrong."""

    in_flight: dict = field(default_factory=dict)  # thread name -> (kind, monotonic start)
    lost: dict = field(default_factory=dict)  # kind -> requests whose answer never came
    server_errors: list = field(default_factory=list)
    answers: int = 0  # responses received, of any kind
    took: dict = field(default_factory=dict)  # kind -> durations of the requests answered
    lock: threading.Lock = field(default_factory=threading.Lock)

    def typical(self, kind: str, default: float = 0.05) -> float:
        """The median time a request of `kind` took, so far."""
        with self.lock:
            took = sorted(self.took.get(kind, ()))
        return took[len(took) // 2] if took else default

    def aimed(self, kind: str, age: float) -> bool:
        """Is a request of `kind` in flight for at least `age` seconds?"""
        now = time.monotonic()
        with self.lock:
            return any(k == kind and now - t >= age for k, t in self.in_flight.values())


class Api:
    def __init__(self, port: int, traffic: Traffic, tokens: dict, bank_secret: str):
        self.port, self.traffic, self.tokens, self.bank_secret = port, traffic, tokens, bank_secret

    def call(self, method: str, path: str, *, user: str | None = None, body: bytes | None = None,
             headers: dict | None = None, kind: str = "read") -> tuple[int, dict]:
        name = threading.current_thread().name
        sent = {"Content-Type": "application/json", **(headers or {})}
        if user:
            sent["Authorization"] = f"Bearer {self.tokens[user]}"
        with self.traffic.lock:
            self.traffic.in_flight[name] = (kind, time.monotonic())
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                conn.request(method, path, body=body, headers=sent)
                resp = conn.getresponse()
                status, raw = resp.status, resp.read()
            finally:
                conn.close()
        except (OSError, http.client.HTTPException) as exc:
            with self.traffic.lock:
                self.traffic.lost[kind] = self.traffic.lost.get(kind, 0) + 1
            raise Lost(kind) from exc
        finally:
            with self.traffic.lock:
                started = self.traffic.in_flight.pop(name)[1]
        with self.traffic.lock:
            self.traffic.answers += 1
            self.traffic.took.setdefault(kind, []).append(time.monotonic() - started)
        if status >= 500:
            self.traffic.server_errors.append((method, path, status, raw[:500]))
            raise Lost(kind)
        return status, json.loads(raw) if raw else {}

    def patiently(self, method: str, path: str, **kw) -> tuple[int, dict]:
        """A call repeated until an answer comes (reads, and writes that are safe to repeat)."""
        for _ in range(3000):
            try:
                return self.call(method, path, **kw)
            except Lost:
                time.sleep(0.01)
        raise AssertionError(f"no answer to {method} {path}")

    def bank_says(self, bank_ref: str, status: str) -> int:
        body = json.dumps({"bank_ref": bank_ref, "status": status,
                           **({"reason": "收款账户已销户"} if status == "returned" else {})}).encode()
        signature = hmac.new(self.bank_secret.encode(), body, hashlib.sha256).hexdigest()
        code, _ = self.patiently("POST", "/api/v1/bank/callbacks", body=body, kind="posting",
                                 headers={"X-Bank-Signature": f"sha256={signature}"})
        return code


def start_once(api: Api, clerk: str, data: dict) -> int:
    """Start a payment request exactly once: after a lost answer, look for it by title before trying again."""
    while True:
        try:
            status, body = api.call("POST", "/api/v1/instances", user=clerk, kind="start",
                                    body=as_json({"process_id": "payment", "data": data}).encode())
            assert status == 201, body
            return body["id"]
        except Lost:
            _, page = api.patiently("GET", f"/api/v1/tasks?view=started&q={_quote(data['title'])}", user=clerk)
            if page["items"]:
                return page["items"][0]["instance"]["id"]


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


def approve_to_the_bank(api: Api, clerk: str, instance_id: int) -> str:
    """Every step up to the bank, re-reading the request after each answer (or each lost one); its bank_ref."""
    refused: dict[int, int] = {}
    while True:
        _, detail = api.patiently("GET", f"/api/v1/instances/{instance_id}", user=clerk)
        if not detail["current_tasks"]:
            _, payment = api.patiently("GET", f"/api/v1/instances/{instance_id}/payment", user=clerk)
            assert payment["status"] == "submitted", payment
            return payment["bank_ref"]
        task = detail["current_tasks"][0]
        body = as_json({"decision": "approve", "comment": "同意", "data": STEP_DATA.get(task["bpmn_id"], {})})
        try:
            status, answer = api.call("POST", f"/api/v1/tasks/{task['id']}/complete", kind="complete",
                                      user=HOLDERS[task["bpmn_id"]], body=body.encode())
        except Lost:
            continue
        assert status in (200, 409), answer  # 409: done already, by the request whose answer was lost
        if status == 409:
            refused[task["id"]] = refused.get(task["id"], 0) + 1
            assert refused[task["id"]] < 20, f"task {task} stays open but cannot be completed: {answer}"
