"""The agent bank (代理银行), behind one small interface so the real one is a configuration change.

A bank takes a batch of payments after the transaction that submitted them commits, and answers
each one later: "paid", or "returned" with a reason. The answer comes back through
app.budget.settlement.settle_payment, from the simulated bank's job or the callback endpoint.
"""
import csv
import io
from typing import Protocol

from sqlalchemy.orm import Session

from app.models import BankBatch, Payment
from app.tabular import csv_cell

BATCH_COLUMNS = ["序号", "业务编号", "收款人名称", "收款人账号", "收款人开户行", "金额", "用途", "付款单位"]


class Bank(Protocol):
    name: str

    def submit(self, session: Session, batch: BankBatch, payments: list[Payment]) -> None:
        """Hand the batch over (after commit: nothing leaves before the transaction is final)."""


def batch_file(batch: BankBatch, payments: list[Payment], payer_names: dict[int, str]) -> str:
    """The payment batch file the bank receives: one CSV line per payment, amounts with two decimals.

    Someone opens it in a spreadsheet before uploading it: every cell goes through app.tabular.csv_cell,
    so a payee or purpose typed as a formula stays text.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BATCH_COLUMNS)
    for n, p in enumerate(payments, 1):
        row = [n, p.bank_ref, p.payee_name, p.payee_account, p.payee_bank, f"{p.amount:.2f}", p.purpose,
               payer_names.get(p.org_id, "")]
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


class FileBank:
    """Exports the batch file only; a person uploads it to the bank, answers come through the callback API."""

    name = "file"

    def submit(self, session: Session, batch: BankBatch, payments: list[Payment]) -> None:
        return None


class SimulatedBank:
    """A stand-in for the agent bank: answers every payment shortly after submission, returning a share.

    Which ones are returned is decided from the payment's reference, so a run can be repeated.
    """

    name = "simulated"

    def __init__(self, return_share: float = 0.1):
        self.return_share = return_share

    def submit(self, session: Session, batch: BankBatch, payments: list[Payment]) -> None:
        from app.jobs import after_commit

        after_commit(session, "app.bank.simulated.answer_batch", batch.id, self.return_share)


def make_bank(config) -> Bank:
    kind = config.get("BANK_ADAPTER", "simulated")
    if kind == "simulated":
        return SimulatedBank(float(config.get("BANK_RETURN_SHARE", 0.1)))
    if kind == "file":
        return FileBank()
    raise ValueError(f"unknown BANK_ADAPTER {kind!r}")
