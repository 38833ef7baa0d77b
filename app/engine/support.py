"""What a valid diagram may still contain that this app cannot run, and what it would silently ignore.

Checked at deploy only, never when a stored version is loaded: a version that is already running must
keep loading. Every finding names the element and its line, like the app's other checks.
"""
from dataclasses import dataclass

from lxml import etree

from app.engine.canonical import semantic_hash
from app.engine.errors import BpmnProblem
from app.engine.specs import BpmnSource
from app.engine.xmlsafe import BPMN_NS, DEFAULT_MAX_BYTES, load_bpmn_xml

NS = {"bpmn": BPMN_NS}
EVENT_DEFINITIONS = {
    "messageEventDefinition": "消息", "timerEventDefinition": "定时", "signalEventDefinition": "信号",
    "conditionalEventDefinition": "条件", "errorEventDefinition": "错误", "escalationEventDefinition": "升级",
    "compensateEventDefinition": "补偿",
}
# Extensions of other engines' modelers; this app reads only spiffworkflow:* (spiffworkflow.md §1).
FOREIGN = {
    "http://camunda.org/schema/1.0/bpmn": "camunda",
    "http://camunda.org/schema/zeebe/1.0": "zeebe",
    "http://activiti.org/bpmn": "activiti",
    "http://flowable.org/bpmn": "flowable",
}
_HINT_GROUPS = {
    "办理人由泳道的角色决定": ("assignee", "candidateUsers", "candidateGroups", "assignmentDefinition"),
    "表单取自 forms/<流程id>/<任务id>.json": ("formKey", "formData", "formDefinition", "formRef"),
    "属性请用 spiffworkflow:properties": ("properties", "property"),
    "服务任务请用 spiffworkflow:serviceTaskOperator": ("class", "delegateExpression", "expression", "topic",
                                                      "taskDefinition", "type"),
    "本系统不执行监听器": ("executionListener", "taskListener"),
    "数据在任务之间自动传递": ("inputOutput", "ioMapping", "in", "out"),
}
HINTS = {name: hint for hint, names in _HINT_GROUPS.items() for name in names}


def _at(filename: str, el, message: str) -> BpmnProblem:
    return BpmnProblem(message, filename, el.get("id") or None, el.get("name") or None, el.sourceline)


def _definitions_of(event) -> list[str]:
    return [EVENT_DEFINITIONS[etree.QName(child).localname] for child in event
            if isinstance(child.tag, str) and etree.QName(child).localname in EVENT_DEFINITIONS]


def _start_events(process, filename: str) -> list[BpmnProblem]:
    problems = []
    tops = process.findall("bpmn:startEvent", NS)
    if len(tops) > 1:
        problems += [_at(filename, el, f"流程只能有一个开始事件，实际有 {len(tops)} 个；申请从同一个开始事件发起")
                     for el in tops[1:]]
    for start in process.iter(f"{{{BPMN_NS}}}startEvent"):
        if start.getparent().get("triggeredByEvent") == "true":
            continue  # the event subprocess itself is refused
        if kinds := _definitions_of(start):
            problems.append(_at(filename, start, (
                f"不支持{'、'.join(kinds)}开始事件：申请由申请人在系统中发起，开始事件须为空开始事件"
                "（在建模器里把它改成“开始事件”，去掉事件定义）")))
    return problems


def _event_subprocesses(process, filename: str) -> list[BpmnProblem]:
    # SpiffWorkflow 3.2 keeps a process whose event subprocess still waits from ending (a timer-started one
    # holds it open after the last approval), and nothing here delivers the messages, signals or errors that
    # would start one. Boundary events on the task say the same thing and run correctly.
    return [_at(filename, sub, "不支持事件子流程（triggeredByEvent）：请改用挂在任务上的边界事件"
                               "（超时用边界定时器，服务失败用边界错误事件）")
            for sub in process.iter(f"{{{BPMN_NS}}}subProcess") if sub.get("triggeredByEvent") == "true"]


def _lane_conflicts(process, filename: str) -> list[BpmnProblem]:
    """A task listed in another lane than the subprocess drawn around it: the subprocess's lane would win."""
    lane_of = {(ref.text or "").strip(): lane.get("name", "")
               for lane in process.iter(f"{{{BPMN_NS}}}lane") for ref in lane.findall("bpmn:flowNodeRef", NS)}
    problems = []
    for el in process.iter():
        if not isinstance(el.tag, str) or el.get("id") not in lane_of or el.getparent() is process:
            continue
        outer = [a for a in el.iterancestors() if a.get("id") in lane_of and a is not process]
        if outer and lane_of[outer[-1].get("id")] != lane_of[el.get("id")]:
            problems.append(_at(filename, el, (
                f"列在泳道“{lane_of[el.get('id')]}”里，但所在的 {outer[-1].get('id')} 在泳道"
                f"“{lane_of[outer[-1].get('id')]}”里：子流程里的任务随子流程的泳道，请把两者放进同一泳道")))
    return problems


def unsupported(tree: etree._ElementTree, filename: str) -> list[BpmnProblem]:
    """What in the executable process this app cannot run correctly, each at its element."""
    problems = []
    for process in tree.getroot().findall("bpmn:process", NS):
        if process.get("isExecutable") != "true":
            continue
        problems += _start_events(process, filename)
        problems += _event_subprocesses(process, filename)
        problems += _lane_conflicts(process, filename)
    return problems


def _owner(el):
    """The BPMN element an extension belongs to (the one with an id)."""
    return next((a for a in [el, *el.iterancestors()] if a.get("id") and a.tag.startswith(f"{{{BPMN_NS}}}")), el)


def ignored_extensions(tree: etree._ElementTree, filename: str) -> list[BpmnProblem]:
    """Warnings: other engines' extensions (camunda:assignee, formKey, properties…) that nothing here reads."""
    found: dict[tuple, list[str]] = {}
    for el in tree.getroot().iter():
        if not isinstance(el.tag, str):
            continue
        qname = etree.QName(el)
        if qname.namespace in FOREIGN and not any(etree.QName(a).namespace == qname.namespace
                                                  for a in el.iterancestors() if isinstance(a.tag, str)):
            found.setdefault(_owner(el), []).append(f"{FOREIGN[qname.namespace]}:{qname.localname}")
        for name in el.attrib:
            attr = etree.QName(name)
            if attr.namespace in FOREIGN:
                found.setdefault(el, []).append(f"{FOREIGN[attr.namespace]}:{attr.localname}")
    warnings = []
    for owner, names in found.items():
        hints = dict.fromkeys(HINTS[n.split(":", 1)[1]] for n in names if n.split(":", 1)[1] in HINTS)
        hint = f"：{'；'.join(hints)}" if hints else ""
        warnings.append(_at(filename, owner, f"{'、'.join(dict.fromkeys(names))} 是其他流程引擎的扩展，本系统不读取，"
                                             f"部署后不起作用{hint}"))
    return warnings


@dataclass(frozen=True)
class Review:
    """A file looked at for deploy: what refuses it, what it would silently lose, and what it means."""

    problems: list[BpmnProblem]
    warnings: list[BpmnProblem]
    meaning: str  # sha256 of its semantic form (canonical.py): equal for two saves of one process


def review_source(source: BpmnSource, max_bytes: int = DEFAULT_MAX_BYTES) -> Review:
    tree = load_bpmn_xml(source.data, source.filename, max_bytes)
    return Review(unsupported(tree, source.filename), ignored_extensions(tree, source.filename),
                  semantic_hash(tree))


def meaning_of(source: BpmnSource) -> str:
    """The semantic hash of a stored version's bytes (no size cap: it was accepted when deployed)."""
    return semantic_hash(load_bpmn_xml(source.data, source.filename, max(len(source.data), DEFAULT_MAX_BYTES)))
