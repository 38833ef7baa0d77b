"""The meaning of a BPMN file, apart from its bytes: what decides whether a deploy is a new version.

A modeler that opens and saves a diagram rewrites it: other attribute order, indentation, namespace
prefixes, an exporter stamp, moved shapes, labels. None of that changes what runs. The semantic form is
the W3C Canonical XML 2.0 of the document (lxml's C14N: attributes sorted, prefixes rewritten, comments
and surrounding whitespace gone) without the diagram (bpmndi:BPMNDiagram), without the exporter stamp,
and without bpmn:incoming / bpmn:outgoing, which only repeat the sequence flows' sourceRef and targetRef.

The engine is given the diagram-free tree too (specs.py), so layout cannot change how a process runs:
SpiffWorkflow would otherwise order a gateway's outgoing flows by the y coordinate of their targets.
"""
import copy
import hashlib

from lxml import etree

from app.engine.xmlsafe import BPMN_NS

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
LAYOUT_TAGS = (f"{{{BPMNDI_NS}}}BPMNDiagram", f"{{{BPMN_NS}}}incoming", f"{{{BPMN_NS}}}outgoing")
STAMP_ATTRIBUTES = ("exporter", "exporterVersion")


def without_layout(tree: etree._ElementTree) -> etree._ElementTree:
    """A copy of `tree` without its diagrams (shapes, edges, labels): only what runs."""
    tree = copy.deepcopy(tree)
    for diagram in tree.getroot().findall(f"{{{BPMNDI_NS}}}BPMNDiagram"):
        diagram.getparent().remove(diagram)
    return tree


def semantic_form(tree: etree._ElementTree) -> str:
    """Canonical XML of what the document means; equal for two saves of the same process."""
    return etree.canonicalize(
        tree, strip_text=True, rewrite_prefixes=True, qname_aware_attrs=[XSI_TYPE],
        exclude_tags=LAYOUT_TAGS, exclude_attrs=STAMP_ATTRIBUTES,
    )


def semantic_hash(tree: etree._ElementTree) -> str:
    return hashlib.sha256(semantic_form(tree).encode("utf-8")).hexdigest()
