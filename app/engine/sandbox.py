"""The script environment for every condition, script, timer and service parameter in BPMN.

BPMN is edited by process owners, so its Python is untrusted. SpiffWorkflow's default environment is
plain eval/exec (remote code execution, spiffworkflow.md §4). Here every snippet is compiled by
RestrictedPython (no imports, no dunder or private attributes), and on top of that its *work* is
bounded: no `while`, iteration counted through the guards, size checks on `*`, `**`, `<<` and `%`,
no width-padding tricks, and a wall-clock deadline checked at every guard.
"""
import ast
import contextvars
import copy
import operator
import re
import time
from decimal import Decimal
from functools import lru_cache

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython import safe_builtins as _safe_builtins
from RestrictedPython.Eval import default_guarded_getitem
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment

from app.engine.errors import ScriptRejected

MAX_ITERATIONS = 10_000  # items any one evaluation may iterate over, all loops together
MAX_SECONDS = 0.25  # wall time for one evaluation, checked at every guard
MAX_SEQUENCE = 10_000  # longest str/list/tuple a `*` may build
MAX_INT_BITS = 4_096  # biggest integer `*`, `**` or `<<` may build

_budget: contextvars.ContextVar["_Budget | None"] = contextvars.ContextVar("script_budget", default=None)


class _Budget:
    __slots__ = ("iterations", "deadline")

    def __init__(self):
        self.iterations = MAX_ITERATIONS
        self.deadline = time.monotonic() + MAX_SECONDS

    def spend(self, n: int = 1) -> None:
        self.iterations -= n
        if self.iterations < 0:
            raise ScriptRejected(f"脚本超出迭代上限（{MAX_ITERATIONS} 次）")
        if time.monotonic() > self.deadline:
            raise ScriptRejected(f"脚本运行超过 {MAX_SECONDS} 秒")


def _spend(n: int = 1) -> None:
    budget = _budget.get()
    if budget is not None:
        budget.spend(n)


class BoundedPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus rules that bound how much work a snippet can do."""

    GUARDED_OPS = {ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<", ast.Mod: "%"}

    def visit_While(self, node):
        self.error(node, "不允许 while 循环（请用 for 遍历数据）")
        return node

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        symbol = self.GUARDED_OPS.get(type(node.op))
        if symbol is None:
            return node
        call = ast.Call(
            func=ast.Name("_op_guard_", ast.Load()),
            args=[ast.Constant(symbol), node.left, node.right],
            keywords=[],
        )
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_FormattedValue(self, node):
        # f"{x:spec}" -> f"{_fmt_(x, spec, conversion)}": the spec may come from data, so check it at run time;
        # a literal one that is already too wide is refused here, at deploy.
        if node.format_spec is not None and re.search(r"\d{3,}", ast.unparse(node.format_spec)):
            self.error(node, "格式宽度过大")
        node = self.node_contents_visit(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        call = ast.Call(func=ast.Name("_fmt_", ast.Load()),
                        args=[node.value, spec, ast.Constant(node.conversion)], keywords=[])
        formatted = ast.FormattedValue(value=call, conversion=-1, format_spec=None)
        return ast.fix_missing_locations(ast.copy_location(formatted, node))


MAX_DIGITS = 400  # a Decimal written out in full (fixed-point, int()) may have this many digits
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _int_bits(x) -> int:
    return abs(int(x)).bit_length() if isinstance(x, int) else 0


def _check_number(x) -> None:
    """Refuse a Decimal whose full digits would be huge: int(), round() or '%f' would spend seconds."""
    if isinstance(x, Decimal) and x.is_finite() and abs(x.adjusted()) > MAX_DIGITS:
        raise ScriptRejected("数值过大")


def _check_width(spec: str) -> None:
    if "*" in spec or re.search(r"\d{3,}", spec):
        raise ScriptRejected("格式宽度过大")


def _check_percent_format(template, args) -> None:
    for match in _PERCENT_SPEC.finditer(template if isinstance(template, str) else template.decode("latin-1")):
        _check_width("".join(filter(None, match.groups())))
    values = args.values() if isinstance(args, dict) else args if isinstance(args, tuple) else (args,)
    for value in values:
        _check_number(value)


def _fmt_(value, spec: str, conversion: int):
    """What an f-string field does, once its width and the value's size are known to be small."""
    _spend()
    if conversion == ord("s"):
        value = str(value)
    elif conversion == ord("r"):
        value = repr(value)
    elif conversion == ord("a"):
        value = ascii(value)
    _check_width(spec)
    _check_number(value)
    return format(value, spec)


def _op_guard_(symbol: str, a, b):
    """Do a*b, a**b, a<<b or a%b only when the result stays small."""
    _spend()
    if symbol == "*":
        for seq, n in ((a, b), (b, a)):
            if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int):
                if len(seq) * max(n, 0) > MAX_SEQUENCE:
                    raise ScriptRejected("乘法生成的序列过长")
        if _int_bits(a) + _int_bits(b) > MAX_INT_BITS:
            raise ScriptRejected("整数过大")
        return a * b
    if symbol == "**":
        if isinstance(b, int) and not isinstance(a, float):
            if abs(b) > 256 or _int_bits(a) * abs(b) > MAX_INT_BITS:
                raise ScriptRejected("乘方结果过大")
        return a**b
    if symbol == "<<":
        if not isinstance(b, int) or b > MAX_INT_BITS or _int_bits(a) + b > MAX_INT_BITS:
            raise ScriptRejected("移位结果过大")
        return a << b
    if isinstance(a, (str, bytes)):
        _check_percent_format(a, b)
    return a % b


_INPLACE = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "|=": operator.ior,
    "&=": operator.iand,
}


def _inplacevar_(op: str, x, y):
    if op in ("*=", "**=", "<<=", "%="):
        return _op_guard_(op[:-1], x, y)
    if op not in _INPLACE:
        raise ScriptRejected(f"不支持的运算 {op}")
    _spend()
    return _INPLACE[op](x, y)


def _getiter_(ob):
    for item in iter(ob):
        _spend()
        yield item


def _range(*args):
    r = range(*args)
    if len(r) > MAX_ITERATIONS:
        raise ScriptRejected("range 过大")
    return r


_BLOCKED_ATTRS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs", "format", "format_map"})


def _guarded_replace(text, old, new, count=-1):
    times = text.count(old) if count < 0 else min(count, text.count(old))
    if len(text) + times * max(0, len(new) - len(old)) > MAX_SEQUENCE:
        raise ScriptRejected("替换生成的字符串过长")
    return text.replace(old, new, count)


def _guarded_join(separator, items):
    items = list(_getiter_(items))
    if sum(len(i) for i in items) + len(separator) * len(items) > MAX_SEQUENCE:
        raise ScriptRejected("拼接生成的字符串过长")
    return separator.join(items)


def _getattr_(obj, name, default=None):
    if name in _BLOCKED_ATTRS:
        raise ScriptRejected(f"不允许使用 .{name}")
    if isinstance(obj, (str, bytes)) and name == "replace":
        return lambda *args: _guarded_replace(obj, *args)
    if isinstance(obj, (str, bytes)) and name == "join":
        return lambda items: _guarded_join(obj, items)
    return safer_getattr(obj, name, default)


class _Charged:
    """A builtin that walks its arguments in C: charge their length to the iteration budget first.

    Still usable in isinstance() when it wraps a type (list, dict…).
    """

    def __init__(self, fn):
        self._fn = fn

    def __call__(self, *args, **kwargs):
        for arg in args:
            try:
                size = len(arg)
            except TypeError:
                continue  # an iterator: the comprehension or loop feeding it is already counted
            _spend(size)
        return self._fn(*args, **kwargs)

    def __instancecheck__(self, instance):
        return isinstance(instance, self._fn)


def _int(value=0, *args):
    _check_number(value)
    return int(value, *args)


def _round(value, *args):
    _check_number(value)
    return round(value, *args)


def _builtins() -> dict:
    allowed = dict(_safe_builtins)
    for name in ("setattr", "delattr", "__build_class__", "pow", "id", "hash", "issubclass"):
        allowed.pop(name, None)
    charged = (all, any, sum, min, max, sorted, enumerate, zip, list, dict, set, tuple, frozenset, len)
    allowed.update({fn.__name__: _Charged(fn) for fn in charged if fn is not len})
    allowed.update(range=_range, int=_int, round=_round, Decimal=Decimal)
    return allowed


def sandbox_globals(extra: dict | None = None) -> dict:
    g = {
        "__builtins__": _builtins(),
        "_getattr_": _getattr_,
        "_getitem_": default_guarded_getitem,
        "_getiter_": _getiter_,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplacevar_,
        "_op_guard_": _op_guard_,
        "_fmt_": _fmt_,
        "_apply_": lambda f, *a, **kw: f(*a, **kw),
    }
    g.update(extra or {})
    return g


@lru_cache(maxsize=4096)
def compile_snippet(source: str, mode: str):
    """Compile once per distinct source text; raise ScriptRejected listing RestrictedPython's findings."""
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(source, policy=BoundedPolicy)
    if result.errors:
        raise ScriptRejected("; ".join(result.errors))
    return result.code


def _as_syntax_error(exc: ScriptRejected) -> SyntaxError:
    # SpiffWorkflow's error formatter needs a lineno, or it fails on its own (spiffworkflow.md §4).
    m = re.search(r"Line (\d+)", str(exc))
    err = SyntaxError(str(exc))
    err.lineno = int(m.group(1)) if m else 1
    return err


class SandboxEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment with compiled-restricted code and a work budget per evaluation."""

    def __init__(self, extra_globals: dict | None = None):
        super().__init__(sandbox_globals(extra_globals))
        # Names task data may not take: guards, engine globals and builtins alike.
        self.reserved = frozenset(self.globals) | frozenset(self.globals["__builtins__"])

    def _compile(self, source: str, mode: str):
        try:
            return compile_snippet(source, mode)
        except ScriptRejected as exc:
            raise _as_syntax_error(exc) from exc

    def evaluate(self, expression, context, external_context=None):
        code = self._compile(expression, "eval")
        scope = copy.copy(self.globals)
        scope.update(external_context or {})
        # Task data must never shadow a guard or a builtin (a form posting LIMIT=10**12, §4).
        scope.update({k: v for k, v in context.items() if k not in self.reserved})
        token = _budget.set(_Budget())
        try:
            return eval(code, scope)  # noqa: S307 - compiled by RestrictedPython above
        finally:
            _budget.reset(token)

    def execute(self, script, context, external_context=None):
        code = self._compile(script, "exec")
        clashes = sorted(self.reserved & (set(context) | set(external_context or {})))
        if clashes:
            raise ValueError(f"task data that overwrites a predefined function or guard: {', '.join(clashes)}")
        scope = copy.copy(self.globals)
        scope.update(external_context or {})
        context.update(scope)
        token = _budget.set(_Budget())
        try:
            exec(code, context)  # noqa: S102 - compiled by RestrictedPython above
        finally:
            _budget.reset(token)
            self._remove_globals_and_functions_from_context(context, external_context)
        return True


# Names a form field (hence task data) may not take: the sandbox would ignore or refuse such data.
# Functions the engine adds for timer expressions (app/engine/runner.py): `workdays(n)`.
ENGINE_FUNCTIONS = frozenset({"workdays"})
SANDBOX_NAMES = frozenset(sandbox_globals()) | frozenset(_builtins()) | ENGINE_FUNCTIONS
