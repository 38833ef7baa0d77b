"""Imports flow one way: only app/engine touches SpiffWorkflow; the domain and use cases never import Flask."""
import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
NO_FLASK = ["engine", "models", "processes", "inbox", "approvals", "admin", "ledger", "accounting", "db.py", "clock.py"]


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def modules(where: str):
    target = APP / where
    return [target] if target.is_file() else sorted(target.rglob("*.py"))


def test_only_the_engine_imports_spiffworkflow():
    offenders = [str(p.relative_to(APP)) for p in APP.rglob("*.py")
                 if "SpiffWorkflow" in imports_of(p) and "engine" not in p.relative_to(APP).parts[:1]]
    assert offenders == []


@pytest.mark.parametrize("where", NO_FLASK)
def test_the_core_does_not_import_flask(where):
    offenders = [str(p.relative_to(APP)) for p in modules(where)
                 if imports_of(p) & {"flask", "flask_sqlalchemy", "flask_smorest", "flask_wtf", "werkzeug"}]
    assert offenders == []


def test_the_engine_imports_nothing_of_the_app_but_itself():
    offenders = [str(p.relative_to(APP)) for p in modules("engine")
                 for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
                 if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app.")
                 and not node.module.startswith("app.engine")]
    assert offenders == []
