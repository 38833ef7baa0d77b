"""Build small BPMN 2.0 documents as strings for the engine and lint tests.

Each element sits on its own line, so a test can find the line an element starts on with `line_of`.

    doc = (Bpmn("small")
           .lane("lane_clerk", "clerk", "start", "apply")
           .start("start").user_task("apply", "填写申请").end("end")
           .flow("start", "apply").flow("apply", "end"))
    doc.xml()  # -> str, doc.bytes() -> UTF-8 bytes
"""
from xml.sax.saxutils import escape, quoteattr

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def _properties(props: dict | None) -> str:
    if not props:
        return ""
    items = "".join(
        f'<spiffworkflow:property name={quoteattr(k)} value={quoteattr(v)}/>' for k, v in props.items()
    )
    return f"<spiffworkflow:properties>{items}</spiffworkflow:properties>"


def _extensions(*parts: str) -> str:
    body = "".join(p for p in parts if p)
    return f"<bpmn:extensionElements>{body}</bpmn:extensionElements>" if body else ""


def _name(name: str | None) -> str:
    return f" name={quoteattr(name)}" if name else ""


class Bpmn:
    """A single executable process, built element by element; `xml()` renders it."""

    def __init__(self, process_id: str = "demo", name: str = "演示流程"):
        self.process_id = process_id
        self.name = name
        self._lanes: list[str] = []
        self._elements: list[str] = []
        self._flows: list[str] = []
        self._errors: list[str] = []
        self._flow_count = 0

    # -- structure -----------------------------------------------------------------------------------

    def lane(self, lane_id: str, name: str, *node_ids: str) -> "Bpmn":
        refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in node_ids)
        self._lanes.append(f"<bpmn:lane id={quoteattr(lane_id)} name={quoteattr(name)}>{refs}</bpmn:lane>")
        return self

    def raw(self, element_xml: str) -> "Bpmn":
        """Any element, verbatim, inside the process."""
        self._elements.append(element_xml)
        return self

    def start(self, el_id: str = "start", name: str | None = None) -> "Bpmn":
        return self.raw(f"<bpmn:startEvent id={quoteattr(el_id)}{_name(name)}/>")

    def end(self, el_id: str = "end", name: str | None = None, outcome: str | None = None) -> "Bpmn":
        ext = _extensions(_properties({"outcome": outcome} if outcome is not None else None))
        return self.raw(f"<bpmn:endEvent id={quoteattr(el_id)}{_name(name)}>{ext}</bpmn:endEvent>")

    def user_task(self, el_id: str, name: str | None = None, properties: dict | None = None) -> "Bpmn":
        ext = _extensions(_properties(properties))
        return self.raw(f"<bpmn:userTask id={quoteattr(el_id)}{_name(name)}>{ext}</bpmn:userTask>")

    def plain_task(self, el_id: str, name: str | None = None) -> "Bpmn":
        return self.raw(f"<bpmn:task id={quoteattr(el_id)}{_name(name)}/>")

    def script_task(self, el_id: str, script: str, name: str | None = None) -> "Bpmn":
        return self.raw(
            f"<bpmn:scriptTask id={quoteattr(el_id)}{_name(name)} scriptFormat=\"python\">"
            f"<bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>"
        )

    def service_task(self, el_id: str, operator: str | None, params: dict[str, str] | None = None,
                     result_variable: str | None = None, name: str | None = None) -> "Bpmn":
        """`params` maps a parameter name to its value, which is a Python expression."""
        if operator is None:
            return self.raw(f"<bpmn:serviceTask id={quoteattr(el_id)}{_name(name)}/>")
        plist = "".join(
            f"<spiffworkflow:parameter id={quoteattr(k)} type=\"any\" value={quoteattr(v)}/>"
            for k, v in (params or {}).items()
        )
        result = f" resultVariable={quoteattr(result_variable)}" if result_variable else ""
        op = (f"<spiffworkflow:serviceTaskOperator id={quoteattr(operator)}{result}>"
              f"<spiffworkflow:parameters>{plist}</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>")
        return self.raw(f"<bpmn:serviceTask id={quoteattr(el_id)}{_name(name)}>{_extensions(op)}</bpmn:serviceTask>")

    def gateway(self, el_id: str, default: str | None = None, name: str | None = None) -> "Bpmn":
        dflt = f" default={quoteattr(default)}" if default else ""
        return self.raw(f"<bpmn:exclusiveGateway id={quoteattr(el_id)}{_name(name)}{dflt}/>")

    def timer(self, el_id: str, attached_to: str, kind: str, expression: str, interrupting: bool = True,
              name: str | None = None) -> "Bpmn":
        """A boundary timer; `expression` is the Python text of the timeDuration/timeDate/timeCycle."""
        cancel = "" if interrupting else ' cancelActivity="false"'
        return self.raw(
            f"<bpmn:boundaryEvent id={quoteattr(el_id)}{_name(name)} attachedToRef={quoteattr(attached_to)}{cancel}>"
            f"<bpmn:timerEventDefinition><bpmn:{kind}>{escape(expression)}</bpmn:{kind}>"
            f"</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        )

    def error(self, error_id: str, code: str, variable: str | None = None) -> "Bpmn":
        """A top-level <bpmn:error> a boundary error event can refer to."""
        ext = _extensions(f"<spiffworkflow:variableName>{variable}</spiffworkflow:variableName>" if variable else "")
        self._errors.append(f"<bpmn:error id={quoteattr(error_id)} errorCode={quoteattr(code)}>{ext}</bpmn:error>")
        return self

    def error_boundary(self, el_id: str, attached_to: str, error_ref: str) -> "Bpmn":
        return self.raw(
            f"<bpmn:boundaryEvent id={quoteattr(el_id)} attachedToRef={quoteattr(attached_to)}>"
            f"<bpmn:errorEventDefinition errorRef={quoteattr(error_ref)}/></bpmn:boundaryEvent>"
        )

    def flow(self, source: str, target: str, condition: str | None = None, el_id: str | None = None) -> "Bpmn":
        self._flow_count += 1
        el_id = el_id or f"flow_{self._flow_count}"
        cond = (f"<bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>"
                if condition is not None else "")
        self._flows.append(
            f"<bpmn:sequenceFlow id={quoteattr(el_id)} sourceRef={quoteattr(source)} targetRef={quoteattr(target)}>"
            f"{cond}</bpmn:sequenceFlow>"
        )
        return self

    def chain(self, *node_ids: str) -> "Bpmn":
        """Flows from each node to the next."""
        for a, b in zip(node_ids, node_ids[1:], strict=False):
            self.flow(a, b)
        return self

    # -- rendering -----------------------------------------------------------------------------------

    def xml(self) -> str:
        lanes = ""
        if self._lanes:
            lanes = '  <bpmn:laneSet id="LaneSet_1">\n' + "".join(f"    {ln}\n" for ln in self._lanes) + \
                "  </bpmn:laneSet>\n"
        body = "".join(f"  {el}\n" for el in self._elements + self._flows)
        errors = "".join(f" {e}\n" for e in self._errors)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:spiffworkflow="{SPIFF_NS}"'
            ' id="Definitions_1" targetNamespace="http://township-budget.example/bpmn">\n'
            f" <bpmn:process id={quoteattr(self.process_id)} name={quoteattr(self.name)} isExecutable=\"true\">\n"
            f"{lanes}{body}"
            " </bpmn:process>\n"
            f"{errors}"
            "</bpmn:definitions>\n"
        )

    def bytes(self) -> bytes:
        return self.xml().encode("utf-8")


def line_of(xml: str, needle: str) -> int:
    """1-based line of the first line containing `needle`."""
    for number, line in enumerate(xml.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in document")


def approval(process_id: str = "demo", review_props: dict | None = None) -> Bpmn:
    """start -> apply (clerk) -> review (finance_reviewer) -> end, the smallest app-shaped process."""
    return (
        Bpmn(process_id)
        .lane("lane_clerk", "clerk", "start", "apply")
        .lane("lane_fin", "finance_reviewer", "review", "end")
        .start("start")
        .user_task("apply", "填写申请")
        .user_task("review", "审核", review_props)
        .end("end", outcome="approved")
        .chain("start", "apply", "review", "end")
    )
