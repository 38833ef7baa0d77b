"""Loading uploaded BPMN: hardened XML parsing, then SpiffWorkflow validation, every error located."""
import time

import pytest
from lxml import etree

from app.engine import BpmnSource, BpmnTooLarge, InvalidBpmn, parse_bundle, read_model
from app.engine.xmlsafe import DEFAULT_MAX_BYTES, load_bpmn_xml
from tests.unit.bpmn_builder import Bpmn, approval, line_of

SECRET = "TOP-SECRET-CONTENT-4711"


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


def with_doctype(xml: str, doctype: str, documentation: str = "") -> str:
    """Put a DOCTYPE before the root and optional documentation (e.g. an entity reference) in the process."""
    xml = xml.replace("<bpmn:definitions", f"{doctype}\n<bpmn:definitions", 1)
    if documentation:
        xml = xml.replace('isExecutable="true">', f'isExecutable="true"><bpmn:documentation>{documentation}'
                                                  "</bpmn:documentation>", 1)
    return xml


def xxe_document(path) -> str:
    return with_doctype(approval().xml(), f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{path}">]>', "&xxe;")


def billion_laughs_document() -> str:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    return with_doctype(approval().xml(), f"<!DOCTYPE d [{entities}]>", "&lol9;")


def problems_of(exc: InvalidBpmn) -> list[dict]:
    return [p.as_dict() for p in exc.problems]


def everything_said(exc: BaseException) -> str:
    """All text an error carries: message, problems, and the chained causes."""
    parts = []
    while exc is not None:
        parts.append(str(exc))
        parts.extend(str(p.as_dict()) for p in getattr(exc, "problems", []))
        exc = exc.__cause__ or exc.__context__
    return "\n".join(parts)


# -- well-formedness and the kind of document ---------------------------------------------------------


def test_a_valid_document_loads_as_a_tree():
    tree = load_bpmn_xml(approval().bytes(), "demo.bpmn")
    assert etree.QName(tree.getroot()).localname == "definitions"
    assert tree.getroot().find("{http://www.omg.org/spec/BPMN/20100524/MODEL}process").get("id") == "demo"


def test_malformed_xml_is_refused_with_its_line():
    data = approval().xml().replace("</bpmn:process>", "</bpmn:proces>").encode()
    with pytest.raises(InvalidBpmn) as info:
        load_bpmn_xml(data, "demo.bpmn")
    [problem] = info.value.problems
    assert problem.file == "demo.bpmn"
    assert problem.line == line_of(approval().xml(), "</bpmn:process>")
    assert "XML" in problem.message


def test_xml_that_is_not_bpmn_is_refused_naming_the_root():
    with pytest.raises(InvalidBpmn) as info:
        load_bpmn_xml(b'<?xml version="1.0"?>\n<html><body/></html>', "page.bpmn")
    [problem] = info.value.problems
    assert "bpmn:definitions" in problem.message and "html" in problem.message
    assert (problem.file, problem.line) == ("page.bpmn", 2)


def test_a_definitions_root_in_another_namespace_is_not_bpmn():
    data = b'<definitions xmlns="http://example.com/not-bpmn"><process id="x"/></definitions>'
    with pytest.raises(InvalidBpmn, match="bpmn:definitions"):
        load_bpmn_xml(data, "x.bpmn")


def test_oversize_input_is_refused_before_parsing():
    data = approval().bytes()
    with pytest.raises(BpmnTooLarge) as info:
        load_bpmn_xml(data, "demo.bpmn", max_bytes=len(data) - 1)
    assert str(len(data)) in info.value.problems[0].message
    # exactly at the cap is fine
    load_bpmn_xml(data, "demo.bpmn", max_bytes=len(data))


def test_the_default_cap_is_two_megabytes_and_applies_through_read_model():
    padding = b"<!--" + b"x" * DEFAULT_MAX_BYTES + b"-->"
    data = approval().bytes().replace(b"</bpmn:definitions>", padding + b"</bpmn:definitions>")
    with pytest.raises(BpmnTooLarge):
        read_model(BpmnSource("demo.bpmn", data))
    with pytest.raises(BpmnTooLarge):
        parse_bundle(BpmnSource("demo.bpmn", approval().bytes()), max_bytes=100)


def test_too_large_is_a_kind_of_invalid_bpmn():
    assert issubclass(BpmnTooLarge, InvalidBpmn)


# -- entities and DOCTYPEs ------------------------------------------------------------------------------


def test_the_xxe_fixture_really_reads_the_file_with_a_permissive_parser(secret_file):
    # Guards the tests below: they would prove nothing if the document could not leak.
    root = etree.fromstring(xxe_document(secret_file).encode(), etree.XMLParser(resolve_entities=True))
    assert SECRET in etree.tostring(root, encoding="unicode")


def test_an_external_file_entity_is_refused_and_the_file_never_appears(secret_file):
    data = xxe_document(secret_file).encode()
    with pytest.raises(InvalidBpmn) as info:
        load_bpmn_xml(data, "demo.bpmn")
    assert "DOCTYPE" in str(info.value)
    assert SECRET not in everything_said(info.value)


@pytest.mark.parametrize("entry", [read_model, parse_bundle])
def test_the_public_entry_points_refuse_an_external_entity_too(secret_file, entry):
    with pytest.raises(InvalidBpmn) as info:
        entry(BpmnSource("demo.bpmn", xxe_document(secret_file).encode()))
    assert SECRET not in everything_said(info.value)


def test_a_billion_laughs_document_is_refused_quickly():
    started = time.monotonic()
    with pytest.raises(InvalidBpmn):
        load_bpmn_xml(billion_laughs_document().encode(), "laughs.bpmn")
    assert time.monotonic() - started < 1.0


def test_an_internal_doctype_without_entities_is_refused_too():
    data = with_doctype(approval().xml(), "<!DOCTYPE bpmn:definitions>").encode()
    with pytest.raises(InvalidBpmn, match="DOCTYPE"):
        load_bpmn_xml(data, "demo.bpmn")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_doctype_is_refused_even_when_the_bytes_are_not_ascii_compatible(secret_file, encoding):
    xml = xxe_document(secret_file).replace('encoding="UTF-8"', f'encoding="{encoding.upper()}"')
    data = xml.encode(encoding)
    assert b"<!DOCTYPE" not in data and b"<!ENTITY" not in data  # the raw-bytes check cannot see it
    with pytest.raises(InvalidBpmn) as info:
        load_bpmn_xml(data, "demo.bpmn")
    assert "DOCTYPE" in str(info.value)
    assert SECRET not in everything_said(info.value)


def test_a_utf16_billion_laughs_document_is_refused_quickly():
    xml = billion_laughs_document().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    started = time.monotonic()
    with pytest.raises(InvalidBpmn):
        load_bpmn_xml(xml.encode("utf-16"), "laughs.bpmn")
    assert time.monotonic() - started < 1.0


def test_a_utf16_document_without_doctype_still_loads():
    xml = approval().xml().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    model = read_model(BpmnSource("demo.bpmn", xml.encode("utf-16")))
    assert model.process_id == "demo"
    assert set(model.user_tasks) == {"apply", "review"}


# -- SpiffWorkflow validation, located ----------------------------------------------------------------


def test_a_valid_bundle_parses_with_its_model():
    bundle = parse_bundle(BpmnSource("demo.bpmn", approval().bytes()))
    assert bundle.process_id == "demo"
    assert bundle.model.application_task_id == "apply"
    assert bundle.spec.name == "demo"


def test_an_xsd_invalid_element_is_refused_with_its_line():
    doc = approval().raw('<bpmn:bogusElement id="bogus"/>')
    with pytest.raises(InvalidBpmn) as info:
        parse_bundle(BpmnSource("demo.bpmn", doc.bytes()))
    [problem] = info.value.problems
    assert problem.file == "demo.bpmn"
    assert problem.line == line_of(doc.xml(), "bogusElement")
    assert "bogusElement" in problem.message


def test_a_flow_to_a_missing_node_names_the_element_and_the_line_from_the_tree():
    doc = (Bpmn("demo").lane("l", "clerk", "start", "apply", "approve")
           .start().user_task("apply", "填写").user_task("approve", "批准").end()
           .chain("start", "apply", "approve").flow("approve", "nowhere"))
    with pytest.raises(InvalidBpmn) as info:
        parse_bundle(BpmnSource("demo.bpmn", doc.bytes()))
    [problem] = info.value.problems
    assert problem.file == "demo.bpmn"
    assert problem.element_id == "approve"
    assert problem.element_name == "批准"
    assert problem.line == line_of(doc.xml(), 'id="approve"')
    assert "nowhere" in problem.message
    assert str(problem).startswith(f"demo.bpmn:{problem.line} [approve 批准]")


def test_a_user_task_with_two_outgoing_flows_is_located():
    doc = approval().flow("review", "apply")
    with pytest.raises(InvalidBpmn) as info:
        parse_bundle(BpmnSource("demo.bpmn", doc.bytes()))
    [problem] = info.value.problems
    assert problem.element_id == "review"
    assert problem.line == line_of(doc.xml(), 'id="review"')


def test_a_file_with_two_executable_processes_is_refused():
    data = approval().bytes().replace(
        b"</bpmn:definitions>", b'<bpmn:process id="other" isExecutable="true"/></bpmn:definitions>')
    with pytest.raises(InvalidBpmn, match="可执行流程"):
        read_model(BpmnSource("demo.bpmn", data))


def test_a_file_without_an_executable_process_is_refused():
    data = approval().bytes().replace(b'isExecutable="true"', b'isExecutable="false"')
    with pytest.raises(InvalidBpmn, match="实际 0 个"):
        read_model(BpmnSource("demo.bpmn", data))


def test_a_problem_in_a_called_file_names_that_file():
    main = (Bpmn("main").lane("l", "clerk", "start", "apply").start().user_task("apply")
            .raw('<bpmn:callActivity id="call" calledElement="sub"/>').end().chain("start", "apply", "call", "end"))
    sub = (Bpmn("sub").lane("l2", "clerk", "s", "check").start("s").user_task("check", "复核").end("e")
           .chain("s", "check", "e").flow("check", "s"))
    with pytest.raises(InvalidBpmn) as info:
        parse_bundle(BpmnSource("main.bpmn", main.bytes()), [BpmnSource("sub.bpmn", sub.bytes())])
    [problem] = info.value.problems
    assert (problem.file, problem.element_id) == ("sub.bpmn", "check")
    assert problem.line == line_of(sub.xml(), 'id="check"')


def test_a_bundle_with_a_called_process_carries_both_models():
    main = (Bpmn("main").lane("l", "clerk", "start", "apply").start().user_task("apply")
            .raw('<bpmn:callActivity id="call" calledElement="sub"/>').end().chain("start", "apply", "call", "end"))
    sub = Bpmn("sub").lane("l2", "clerk", "s", "check").start("s").user_task("check").end("e").chain("s", "check", "e")
    bundle = parse_bundle(BpmnSource("main.bpmn", main.bytes()), [BpmnSource("sub.bpmn", sub.bytes())])
    assert set(bundle.models) == {"main", "sub"}
    assert bundle.model.called_process_ids == ["sub"]
    assert "sub" in bundle.subprocess_specs
