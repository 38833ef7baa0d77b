"""The wall around SpiffWorkflow (see README.md here). Import from this module, not its parts."""
from app.engine.errors import (
    BpmnProblem,
    BpmnTooLarge,
    EngineError,
    InvalidBpmn,
    ScriptRejected,
    ServiceError,
)
from app.engine.model import Expression, Node, ProcessModel, Timer
from app.engine.runner import Engine, Operator, Run
from app.engine.sandbox import SANDBOX_NAMES, compile_snippet
from app.engine.specs import BpmnSource, SpecBundle, SpecCache, parse_bundle, read_model
from app.engine.support import Review, meaning_of, review_source
from app.engine.timers import check_timer_expression
from app.engine.types import ReadyTask, ServiceCall, ServiceRecord, WaitingTimer

__all__ = [
    "BpmnProblem", "BpmnTooLarge", "EngineError", "InvalidBpmn", "ScriptRejected", "ServiceError",
    "Expression", "Node", "ProcessModel", "Timer", "Engine", "Operator", "Run", "compile_snippet", "SANDBOX_NAMES",
    "BpmnSource", "SpecBundle", "SpecCache", "parse_bundle", "read_model", "check_timer_expression", "ReadyTask",
    "ServiceCall", "ServiceRecord", "WaitingTimer", "Review", "meaning_of", "review_source",
]
