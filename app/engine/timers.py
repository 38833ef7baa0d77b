"""Check timer expressions at deploy, so a bad one never surfaces as a bare Exception mid-process."""
import ast
import re
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from app.engine.errors import ScriptRejected
from app.engine.sandbox import compile_snippet

_PARSERS = {
    "timeDuration": TimerEventDefinition.parse_iso_duration,
    "timeDate": TimerEventDefinition.get_datetime,
    "timeCycle": TimerEventDefinition.parse_iso_recurring_interval,
}


def check_timer_expression(kind: str, expression: str) -> None:
    """Raise ScriptRejected unless the expression compiles and, when it is a literal, parses as ISO 8601.

    Timer expressions are Python (§5): `"P2D"` with quotes. A computed one (`"PT%dH" % hours`) can
    only be compiled here; its value is checked when it runs.
    """
    if not expression:
        raise ScriptRejected("定时器表达式为空")
    if re.fullmatch(r"(R\d*/)?P[0-9YMWDTHS.]+", expression.strip()):
        raise ScriptRejected(f"定时器表达式是 Python 表达式，ISO 时长须加引号：\"{expression.strip()}\"")
    compile_snippet(expression, "eval")
    workdays = re.fullmatch(r"\s*workdays\(\s*(\d+)\s*\)\s*", expression)
    if "workdays(" in expression and kind != "timeDate":
        raise ScriptRejected("workdays(n) 给出的是一个时刻，只能用在 timeDate 里")
    if workdays and not 1 <= int(workdays.group(1)) <= 366:
        raise ScriptRejected(f"workdays(n) 的工作日数须在 1 到 366 之间，实际为 {workdays.group(1)}")
    try:
        literal = ast.literal_eval(expression)
    except (ValueError, SyntaxError):
        return
    if not isinstance(literal, str):
        raise ScriptRejected(f"定时器表达式应为字符串，如 \"P2D\"，实际为 {expression}")
    try:
        _PARSERS[kind](literal)
    except Exception as exc:  # noqa: BLE001 - SpiffWorkflow raises a bare Exception('Invalid duration')
        raise ScriptRejected(f"定时器表达式 {expression} 无法解析：{exc}") from exc
    # A naive date (a timeDate, or the start of a cycle) is read in the server's zone fixed at import
    # (spiffworkflow.md §5): insist on an offset.
    dates = [literal] if kind == "timeDate" else \
        [p for p in literal.split("/") if p and not p.startswith(("R", "P"))] if kind == "timeCycle" else []
    for text in dates:
        if datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is None:
            raise ScriptRejected(f"定时器时间 {text} 须带时区，如 +08:00")
