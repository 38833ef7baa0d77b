"""Validate BPMN against the schema and report every finding, in Chinese, at its element and line.

SpiffWorkflow's own validator stops at the first schema error and raises it in English, with a line but
no element; its parse errors name the element but no line (spiffworkflow.md §9 #17). Here the schema's
whole error log is read, each entry located at the nearest element with an id, and translated.
"""
import copy

from lxml import etree
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from app.engine.errors import BpmnProblem
from app.engine.messages import schema_message, spiff_message
from app.engine.xmlsafe import BPMN_NS


def _element_at(tree: etree._ElementTree, path: str | None, line: int | None):
    """The element an error log entry is about: by its path, else the first element on its line."""
    namespaces = {k: v for k, v in tree.getroot().nsmap.items() if k}
    if path:
        try:
            found = tree.xpath(path, namespaces=namespaces)
        except etree.XPathError:
            found = []
        if found and isinstance(found[0], etree._Element):
            return found[0]
    return next((el for el in tree.iter() if isinstance(el.tag, str) and el.sourceline == line), None)


def _with_id(element):
    while element is not None and not element.get("id"):
        element = element.getparent()
    return element


def schema_problems(tree: etree._ElementTree, filename: str) -> list[BpmnProblem]:
    """Every schema violation in `tree` (the BPMN 2.0 XSD with spiffworkflow.xsd)."""
    if tree.xpath("//bpmn:correlationPropertyRetrievalExpression", namespaces={"bpmn": BPMN_NS}):
        tree = copy.deepcopy(tree)
        VALIDATOR.preprocess(tree)  # rewrites what bpmn-js writes invalidly, as SpiffWorkflow's own check does
    schema = VALIDATOR.validator
    if schema.validate(tree):
        return []
    problems = []
    for entry in schema.error_log:
        owner = _with_id(_element_at(tree, entry.path, entry.line))
        problems.append(BpmnProblem(
            schema_message(entry.message), filename, owner.get("id") if owner is not None else None,
            (owner.get("name") or None) if owner is not None else None, entry.line or None, entry.message))
    return problems


def _locate(tree: etree._ElementTree, element_id: str) -> int | None:
    if not element_id:
        return None
    found = tree.xpath("//*[@id=$i]", i=element_id)
    return found[0].sourceline if found else None


def spiff_problem(exc: SpiffWorkflowException, trees: dict[str, etree._ElementTree]) -> BpmnProblem:
    """A SpiffWorkflow parse error in Chinese, with the line looked up by element id (it carries none)."""
    file = getattr(exc, "file_name", "") or None
    element_id = getattr(exc, "id", "") or None
    line = getattr(exc, "line_number", "") or None
    if line is None and element_id:
        for name, tree in trees.items():
            if file in (None, name) and (line := _locate(tree, element_id)):
                file = name
                break
    original = str(exc.args[0]) if exc.args else str(exc)
    return BpmnProblem(spiff_message(original), file, element_id, getattr(exc, "name", "") or None,
                       int(line) if line else None, original)
