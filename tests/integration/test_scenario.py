"""One request through return, resubmission, 加签, 委派, approval, a refused withdrawal and the end;
the history records every event in order, with who acted."""
from tests.integration.processes import act, my_task
from tests.integration.test_approval_flow import start_claim


def test_a_request_through_every_operation_keeps_its_whole_history(demo, as_user):
    clerk, head, reviewer = as_user("nyb_clerk"), as_user("nyb_head"), as_user("cz_reviewer")
    deputy, finance_deputy, township_head = as_user("deputy"), as_user("finance_deputy"), as_user("zhenzhang")
    instance = start_claim(clerk, amount=6800)
    iid = instance["id"]

    act(head, my_task(head, iid)["id"], comment="情况属实")
    finance = my_task(reviewer, iid)
    assert reviewer.post(f"/api/v1/tasks/{finance['id']}/return",
                         json={"target": "apply", "comment": "缺发票"}).status_code == 200
    resubmitted = clerk.post(f"/api/v1/tasks/{my_task(clerk, iid)['id']}/complete", json={"data": {
        "title": "购买办公用品", "amount": 6800, "expense_type": "办公费", "payee": "镇供销社", "invoice_count": 2}})
    assert resubmitted.status_code == 200
    act(head, my_task(head, iid)["id"], comment="已补发票")

    finance = my_task(reviewer, iid)
    assert reviewer.post(f"/api/v1/tasks/{finance['id']}/signers",
                         json={"signers": ["deputy"], "position": "before"}).status_code == 200
    act(deputy, my_task(deputy, iid)["id"], comment="分管领导同意")
    assert reviewer.post(f"/api/v1/tasks/{finance['id']}/delegate",
                         json={"to": "finance_deputy", "comment": "请核标准"}).status_code == 200
    act(finance_deputy, my_task(finance_deputy, iid)["id"], comment="符合标准")
    act(reviewer, finance["id"], comment="审核通过", data={"documents_complete": True})

    refused = clerk.post(f"/api/v1/instances/{iid}/withdraw", json={"comment": "想撤回"})
    assert refused.status_code == 409
    done = act(township_head, my_task(township_head, iid)["id"], comment="同意支付")
    assert done.json["instance"]["status"] == "approved"

    history = clerk.get(f"/api/v1/instances/{iid}").json["history"]
    lines = [(e["type"], e["actor"]["username"] if e["actor"] else None, e["data"].get("bpmn_id"),
              e["data"].get("comment")) for e in history]
    assert lines == [
        ("instance_started", "nyb_clerk", None, None),
        ("task_completed", "nyb_clerk", "apply", None),
        ("task_created", None, "unit_head_review", None),
        ("task_completed", "nyb_head", "unit_head_review", "情况属实"),
        ("task_created", None, "finance_review", None),
        ("task_returned", "cz_reviewer", "finance_review", "缺发票"),
        ("task_created", None, "apply", None),
        ("task_completed", "nyb_clerk", "apply", None),
        ("task_created", None, "unit_head_review", None),
        ("task_completed", "nyb_head", "unit_head_review", "已补发票"),
        ("task_created", None, "finance_review", None),
        ("signer_added", "cz_reviewer", None, None),
        ("task_completed", "deputy", "finance_review", "分管领导同意"),  # the signer added before
        ("task_delegated", "cz_reviewer", None, "请核标准"),
        ("delegate_answered", "finance_deputy", "finance_review", "符合标准"),
        ("task_completed", "cz_reviewer", "finance_review", "审核通过"),
        ("task_created", None, "township_head_approve", None),
        ("task_completed", "zhenzhang", "township_head_approve", "同意支付"),
        ("instance_approved", "zhenzhang", None, None),
    ]
    assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
    assert history[6]["data"]["candidates"] == [clerk.user.id]  # back on the applicant's desk
    assert history[11]["data"]["signers"] == ["deputy"] and history[13]["data"]["to"] == "finance_deputy"
