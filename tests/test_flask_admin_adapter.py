"""The back office's contract with Flask-Admin's (and peewee's) insides: every private name
``backoffice/flask_admin_adapter.py`` relies on still exists with the arguments it passes,
and no other module of the back office reaches for one. An upgrade that renames or removes
one fails here, with its name, instead of as a 500 on a list page."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import flask_admin
import peewee
import pytest

from backoffice import flask_admin_adapter as adapter

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = f"Flask-Admin {flask_admin.__version__}, peewee {peewee.__version__}"


def resolve(dotted: str):
    module_name, _, attribute = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError):
        return importlib.import_module(dotted)


METHODS = [(owner, name, params) for owner, names in adapter.PRIVATE_METHODS.items() for name, params in names.items()]


@pytest.mark.parametrize("owner, name, params", METHODS, ids=[f"{o}.{n}" for o, n, _p in METHODS])
def test_each_private_method_still_exists_with_its_arguments(owner, name, params):
    method = getattr(resolve(owner), name, None)
    assert callable(method), (
        f"{VERSIONS}: {owner}.{name} is gone; backoffice/flask_admin_adapter.py "
        "relies on it (see its docstring) and must be adapted before upgrading"
    )
    taken = [p for p in inspect.signature(method).parameters if p not in ("self", "args", "kwargs")]
    assert taken[: len(params)] == list(params), (
        f"{VERSIONS}: {owner}.{name} now takes {taken}, the adapter passes {list(params)}"
    )


def test_each_private_function_still_exists():
    for module, names in adapter.PRIVATE_FUNCTIONS.items():
        for name in names:
            assert hasattr(importlib.import_module(module), name), (
                f"{VERSIONS}: {module}.{name} is gone; backoffice/flask_admin_adapter.py relies on it"
            )


def test_every_model_view_has_the_private_attributes_read(app):
    views = [v for v in app.extensions["admin"][0]._views if hasattr(v, "export_plan")]
    assert len(views) >= 18
    for view in views:
        for name in adapter.PRIVATE_VIEW_ATTRIBUTES:
            assert hasattr(view, name), (
                f"{VERSIONS}: a model view ({view.endpoint}) no longer has {name}; "
                "backoffice/flask_admin_adapter.py reads it"
            )


def test_the_return_url_check_is_in_place():
    import flask_admin.actions
    import flask_admin.model.base

    assert flask_admin.model.base.get_redirect_target is adapter.safe_redirect_target
    assert flask_admin.actions.get_redirect_target is adapter.safe_redirect_target


def private_names() -> set[str]:
    names = {name for names in adapter.PRIVATE_METHODS.values() for name in names}
    return names | set(adapter.PRIVATE_VIEW_ATTRIBUTES)


def test_no_other_back_office_module_uses_a_private_name():
    """The adapter is the one place: a new use elsewhere must move there (and be listed)."""
    private = private_names()
    for path in sorted((ROOT / "backoffice").glob("*.py")):
        if path.name == "flask_admin_adapter.py":
            continue
        tree = ast.parse(path.read_text(), str(path))
        used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)} | {
            node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
        }
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("flask_admin")
            for alias in node.names
        }
        assert not (used & private), f"{path.name} uses {sorted(used & private)}: go through the adapter"
        assert "get_redirect_target" not in imported and "parse_like_term" not in imported, path.name
