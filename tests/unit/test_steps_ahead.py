"""The steps still ahead of a task, read from the real diagrams in bpmn/ (app/web/ahead.py)."""
from pathlib import Path
from types import SimpleNamespace

from app.engine import BpmnSource, read_model
from app.web.ahead import steps_ahead

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def _deployed(main: str, *called: str):
    models = {m.process_id: m for m in (read_model(BpmnSource(f"{n}.bpmn", (BPMN / f"{n}.bpmn").read_bytes()))
                                        for n in (main, *called))}
    return SimpleNamespace(bundle=SimpleNamespace(models=models, model=models[main]))


def test_a_payment_s_approvers_ahead_are_certain_or_named_by_the_condition_that_brings_them():
    ahead = steps_ahead(_deployed("payment"), "payment", "unit_head_review")
    assert [(a.name, a.condition) for a in ahead] == [
        ("财政所合规审核", None), ("分管领导审批", None), ("分管财政领导审批", "T2 及以上或三公经费"),
        ("镇长审批", "T1 及以上或三公经费"), ("党委书记审批", "T2 及以上"), ("党委会集体决策", "T3：三重一大"),
        ("国库支付提交", None)]
    assert steps_ahead(_deployed("payment"), "payment", "treasury_submit") == []


def test_inside_a_called_review_the_caller_s_steps_follow_its_own():
    deployed = _deployed("budget_declaration", "budget_review")
    names = [a.name for a in steps_ahead(deployed, "budget_review", "consolidate")]
    assert names[:1] == ["镇长办公会研究"] and "批复下达（二下）" in names
    assert names.index("镇人大审查批准") < names.index("批复下达（二下）")
