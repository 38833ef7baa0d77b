"""Payment requests put where a crash test needs them: waiting in review, or waiting for the bank."""
from datetime import timedelta

import time_machine

from app import clock
from tests.integration.office import payment_data

INDICATOR = "2026NYB9999"


def waiting_for_review(office, n: int, days_ago: int = 14) -> list[int]:
    """Payments left at 财政所合规审核 `days_ago` days ago: their reminder and 5-day escalation are due now."""
    ids = []
    with time_machine.travel(clock.now() - timedelta(days=days_ago), tick=True):
        for k in range(n):
            iid = office.start("nyb_clerk", "payment", payment_data(INDICATOR, "100.00",
                                                                   title=f"待审核的支付（第{k}笔）"))["id"]
            office.act("nyb_head", iid)
            ids.append(iid)
    return ids


def at_the_bank(office, n: int) -> list[int]:
    """Payments approved as far as the simulated bank: each one's answer is a job waiting in Redis."""
    ids = []
    for k in range(n):
        data = payment_data(INDICATOR, "100.00", title=f"待银行回单（第{k}笔）")
        iid = office.start("nyb_clerk", "payment", data)["id"]
        for who, data in (("nyb_head", None), ("cz_reviewer", {"documents_complete": True}), ("deputy", None),
                          ("guoku", None)):
            office.act(who, iid, data=data)
        ids.append(iid)
    return ids
