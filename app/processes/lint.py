"""Deploy-time checks a process must pass before it is stored.

SpiffWorkflow validates structure; these check what only our app knows: lanes name real roles, user
tasks have forms, operators exist, and every snippet of Python compiles in the sandbox.
"""
import ast
from collections.abc import Mapping
from pathlib import PurePath

from app.deadlines.due import property_problem as due_property_problem
from app.engine import (
    BpmnProblem,
    Node,
    ProcessModel,
    ScriptRejected,
    check_timer_expression,
    compile_snippet,
)
from app.models.org import ROLE_NAMES, role_from_label
from app.processes.forms import check_form_schema

ON_REJECT = {"end", "route"}
MULTI = {"all", "any", "sequential"}
OUTCOMES = {"approved", "rejected"}


def _at(model: ProcessModel, node: Node, message: str) -> BpmnProblem:
    return BpmnProblem(message, model.file, node.id, node.name or None, node.line)


def _lint_lanes(model: ProcessModel) -> list[BpmnProblem]:
    codes = "、".join(f"{code}（{name}）" for code, name in ROLE_NAMES.items())
    return [_at(model, lane, f"泳道名 {lane.name!r} 不是角色代码或角色名称；可用：{codes}")
            for lane in model.lanes if role_from_label(lane.name) is None]


def _lint_user_tasks(model: ProcessModel, forms: Mapping[str, object]) -> list[BpmnProblem]:
    problems = []
    for task in model.user_tasks.values():
        if task.lane is None:
            problems.append(_at(model, task, "用户任务必须放在某个角色泳道里（泳道决定谁来办理）"))
        if task.id not in forms:
            problems.append(_at(model, task, f"缺少表单 forms/{model.process_id}/{task.id}.json"))
        else:
            problems += [_at(model, task, f"表单 {task.id}.json：{p}") for p in check_form_schema(forms[task.id])]
        if task.properties.get("on_reject", "end") not in ON_REJECT:
            problems.append(_at(model, task, "属性 on_reject 只能是 end 或 route"))
        if problem := due_property_problem(task.properties):
            problems.append(_at(model, task, problem))
        if task.properties.get("performer", "role") not in ("role", "applicant"):
            problems.append(_at(model, task, "属性 performer 只能是 role（按泳道角色）或 applicant（交回申请人）"))
        if task.id in model.multi_steps and model.multi_steps[task.id] not in MULTI:
            problems.append(_at(model, task, "多人审批的属性 multi 只能是 all（会签）或 any（或签）；"
                                             "依次审批请用顺序多实例标记"))
    return problems


def _lint_code(model: ProcessModel, operators: Mapping) -> list[BpmnProblem]:
    problems = []
    for node, operator in model.service_tasks.values():
        if not operator:
            problems.append(_at(model, node, "服务任务缺少操作名（spiffworkflow:serviceTaskOperator）"))
        elif operator not in operators:
            problems.append(_at(model, node, f"服务操作 {operator!r} 未注册；已注册：{', '.join(sorted(operators))}"))
    for expr in model.expressions:
        try:
            compile_snippet(expr.source, expr.mode)
        except ScriptRejected as exc:
            problems.append(_at(model, expr.element, f"{expr.role} {expr.source!r} 不被允许：{exc}"))
    for timer in model.timers:
        try:
            check_timer_expression(timer.kind, timer.expression)
        except ScriptRejected as exc:
            problems.append(_at(model, timer.element, str(exc)))
        if problem := _timeout_decides(model, timer):
            problems.append(_at(model, timer.element, problem))
    return problems


# What a timer's path may run before a person takes over: it may remind, escalate and copy, not decide.
SAFE_ON_TIMEOUT = frozenset({"deadline.remind", "deadline.escalate", "cc.send"})


def _timeout_decides(model: ProcessModel, timer) -> str | None:
    """Money is never approved by a clock: from a timer, every path reaches a person (a user task) before
    any other service step, and an interrupting timer never ends the request unless as rejected."""
    services = {node_id: operator for node_id, (_node, operator) in model.service_tasks.items()}
    seen, pending = set(), list(model.flows.get(timer.element.id, ()))
    while pending:
        node = pending.pop()
        if node in seen:
            continue
        seen.add(node)
        kind = model.kinds.get(node)
        if kind in ("userTask", "callActivity"):
            continue  # a person decides from here on
        if kind == "serviceTask" and services.get(node) not in SAFE_ON_TIMEOUT:
            return f"超时路径不得自动办理业务（服务任务 {node}）：须先到人工环节；超时只能提醒、升级、抄送、退回或转交"
        if kind == "endEvent" and timer.interrupting and model.end_outcomes.get(node) != "rejected":
            return (f"超时不得自动通过：中断定时器的路径到达了结束事件 {node}"
                    "（须先到人工环节，或以 outcome=rejected 结束）")
        pending.extend(model.flows.get(node, ()))
    return None


def _lint_cc_roles(model: ProcessModel) -> list[BpmnProblem]:
    """A 抄送 step (cc.send) names roles in a literal: check them now rather than when a request gets there."""
    problems = []
    cc_steps = {node.id for node, operator in model.service_tasks.values() if operator == "cc.send"}
    for expr in model.expressions:
        if expr.element.id not in cc_steps or expr.role != "服务参数 roles":
            continue
        try:
            roles = ast.literal_eval(expr.source)
        except (ValueError, SyntaxError):
            continue  # computed at run time; checked when it runs
        unknown = [r for r in str(roles).replace("，", ",").split(",") if r.strip() and role_from_label(r) is None]
        if unknown:
            problems.append(_at(model, expr.element, f"抄送角色不存在：{'、'.join(unknown)}"))
    return problems


def lint_process(model: ProcessModel, forms: Mapping[str, object], operators: Mapping) -> list[BpmnProblem]:
    """Return every problem found (empty when the process may be deployed)."""
    problems = []
    if PurePath(model.file).stem != model.process_id:
        problems.append(BpmnProblem(f"文件名须与流程 id 一致：{model.process_id}.bpmn", model.file))
    if model.start_event is None:
        problems.append(BpmnProblem("流程缺少开始事件", model.file))
    elif model.application_task_id is None:
        problems.append(_at(model, model.start_event, "开始事件之后须紧接一个用户任务（申请人填写申请）"))
    problems += [_at(model, n, "不支持无类型任务（bpmn:task）；请改为用户任务或服务任务")
                 for n in model.plain_tasks]
    problems += _lint_lanes(model)
    problems += _lint_user_tasks(model, forms)
    problems += _lint_code(model, operators)
    problems += _lint_cc_roles(model)
    for end_id, outcome in model.end_outcomes.items():
        if outcome not in OUTCOMES:
            problems.append(_at(model, model.end_events[end_id],
                                f"结束事件属性 outcome 只能是 approved 或 rejected，实际为 {outcome!r}"))
    return problems
