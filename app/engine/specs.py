"""Turn BPMN files into SpiffWorkflow specs, validated, and keep them cached per deployed version.

Parsing costs 1-6 ms (spiffworkflow.md §1) and restoring an embedded spec is most of a load (§6), so
a deployed version is parsed once per process and every instance on it shares the spec objects.
"""
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from app.engine.canonical import without_layout
from app.engine.errors import BpmnProblem, InvalidBpmn
from app.engine.messages import SPIFF_FALLBACK
from app.engine.model import ProcessModel, approver_loops, read_process_model
from app.engine.validation import schema_problems, spiff_problem
from app.engine.xmlsafe import BPMN_NS, load_bpmn_xml


@dataclass(frozen=True)
class BpmnSource:
    """One BPMN file as deployed: its name (relative, it ends up in saved state) and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class SpecBundle:
    """Everything needed to run one process version: its spec, called specs and what is in them."""

    process_id: str
    spec: object
    subprocess_specs: dict
    models: dict[str, ProcessModel]  # process id -> model, the main process and every called one

    @property
    def model(self) -> ProcessModel:
        return self.models[self.process_id]


def _for_engine(tree: etree._ElementTree) -> etree._ElementTree:
    """The tree SpiffWorkflow runs: no diagram (layout must not change how it runs, canonical.py), and
    multi-approver markers removed (the app runs those steps itself)."""
    tree = without_layout(tree)
    for process in tree.getroot().findall(f"{{{BPMN_NS}}}process"):
        for loop in approver_loops(process):
            loop.getparent().remove(loop)
    return tree


def read_model(source: BpmnSource, max_bytes: int | None = None) -> ProcessModel:
    """What is in one file, without building a spec (it may call processes not at hand)."""
    tree = load_bpmn_xml(source.data, source.filename, *([max_bytes] if max_bytes else []))
    return read_process_model(tree, source.filename)


def parse_bundle(main: BpmnSource, called: list[BpmnSource] = (), max_bytes: int | None = None) -> SpecBundle:
    """Parse and validate `main` with the processes it calls; raise InvalidBpmn naming file and element."""
    sources = [main, *called]
    trees = {s.filename: load_bpmn_xml(s.data, s.filename, *([max_bytes] if max_bytes else [])) for s in sources}
    models = {}
    for name, tree in trees.items():
        model = read_process_model(tree, name)
        models[model.process_id] = model
    main_id = read_process_model(trees[main.filename], main.filename).process_id
    # Validated here, every file and every finding at once; SpiffWorkflow's validator stops at the first.
    if problems := [p for name, tree in trees.items() for p in schema_problems(tree, name)]:
        raise InvalidBpmn(problems)
    parser = SpiffBpmnParser()
    try:
        for name, tree in trees.items():
            parser.add_bpmn_xml(_for_engine(tree), filename=name)
        spec = parser.get_spec(main_id)
        subprocess_specs = parser.get_subprocess_specs(main_id)
    except (ValidationException, SpiffWorkflowException) as exc:
        raise InvalidBpmn([spiff_problem(exc, trees)]) from exc
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
        # SpiffWorkflow's parser trips over some valid-looking input without a ValidationException.
        raise InvalidBpmn([BpmnProblem(SPIFF_FALLBACK, main.filename, detail=f"{type(exc).__name__}: {exc}")]) from exc
    return SpecBundle(main_id, spec, subprocess_specs, models)


class SpecCache:
    """A small thread-safe LRU of parsed bundles, keyed by the deployed versions they were built from."""

    def __init__(self, maxsize: int = 256):
        self._items: OrderedDict[Hashable, SpecBundle] = OrderedDict()
        self._lock = threading.Lock()
        self.maxsize = maxsize
        self.misses = 0

    def get(self, key: Hashable, build: Callable[[], SpecBundle]) -> SpecBundle:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        bundle = build()  # outside the lock: parsing is slow and building twice is harmless
        with self._lock:
            self.misses += 1
            self._items[key] = bundle
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return bundle

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
