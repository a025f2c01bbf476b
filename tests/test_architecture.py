"""The shape of the tree, read from its source.

The domain package: no import cycles, no import hidden inside a function, no web framework,
no god-module, and a complete ``__all__``. The whole application: the two doors (``publicforms``
and ``backoffice``) never import each other, the shared web layer (``web``) imports neither, the
domain imports none of the three, and no module of the application passes the size limit."""

from __future__ import annotations

import ast
from pathlib import Path

import models

MODELS_DIR = Path(models.__file__).resolve().parent
ROOT = MODELS_DIR.parent
PROJECT_MODULES = {path.stem for path in ROOT.glob("*.py")} | {
    path.name for path in ROOT.iterdir() if (path / "__init__.py").exists()
}
WEB_PACKAGES = {
    "flask",
    "flask_admin",
    "flask_babel",
    "flask_login",
    "flask_limiter",
    "flask_wtf",
    "werkzeug",
    "jinja2",
    "wtforms",
    "markupsafe",
}
# Modules allowed past the limit (none: models/legacy/ is a package of small modules).
SIZE_EXEMPT: set[str] = set()
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources(directory: Path = MODELS_DIR) -> dict:
    """{module name: (path, syntax tree)} of every module under ``directory``."""
    return {
        module_name(path): (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
        for path in sorted(directory.rglob("*.py"))
    }


# Top-level directories that are not the application: its tests, benchmarks and schema history.
NOT_APPLICATION = {"tests", "bench", "migrations", "tools", "deploy", "node_modules", "build"}


def application_sources() -> dict:
    """{module name: (path, syntax tree)} of every module of the application (the domain,
    the web layer, both doors and the top-level modules), none of the tests."""
    found = {}
    for path in sorted(ROOT.glob("*.py")):
        found[module_name(path)] = (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    for package in sorted(PROJECT_MODULES - NOT_APPLICATION):
        if (ROOT / package).is_dir():
            found.update(sources(ROOT / package))
    return found


def imports_anywhere(module: str, path: Path, tree) -> list[tuple[int, str]]:
    """(line, imported module) of every import of ``module``, at the top or inside a function."""
    return [
        (node.lineno, target)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for target in imported_modules(node, module, path)
    ]


def imported_modules(node, module: str, path: Path) -> list[str]:
    """The absolute names an import statement of ``module`` refers to."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        return [node.module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = ".".join(package[: len(package) - node.level + 1])
    if node.module:
        return [f"{base}.{node.module}"]
    return [f"{base}.{alias.name}" for alias in node.names]


def is_intra_project(name: str) -> bool:
    return name.split(".")[0] in PROJECT_MODULES


def where(path: Path, node) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno}"


def top_level_graph() -> dict:
    """{module: the modules of the domain it imports at its top level}."""
    found = sources()
    graph = {}
    for module, (path, tree) in found.items():
        edges = set()
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in imported_modules(node, module, path):
                    # "from .review import Document" names the module models.review.
                    while target and target not in found:
                        target = target.rpartition(".")[0]
                    if target and target != module:
                        edges.add(target)
        graph[module] = edges
    return graph


def test_no_import_cycles_inside_models():
    graph = top_level_graph()
    state, path, cycles = {}, [], []

    def visit(module):
        state[module] = "open"
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                cycles.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_no_intra_project_import_inside_a_function_or_a_class():
    hidden = []
    for module, (path, tree) in sources().items():
        top = set(map(id, tree.body))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
                targets = [t for t in imported_modules(node, module, path) if is_intra_project(t)]
                if targets:
                    hidden.append(f"{where(path, node)}: {', '.join(targets)}")
    assert not hidden, "imports hidden inside functions:\n" + "\n".join(hidden)


def test_the_domain_imports_no_web_framework():
    found = [
        f"{where(path, node)}: {target}"
        for module, (path, tree) in sources().items()
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for target in imported_modules(node, module, path)
        if target.split(".")[0] in WEB_PACKAGES
    ]
    assert not found, found


def test_no_module_of_the_domain_is_a_god_module():
    long = {
        str(path.relative_to(ROOT)): n
        for path in MODELS_DIR.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
        and str(path.relative_to(ROOT)) not in SIZE_EXEMPT
    }
    assert not long, long


def test_the_package_declares_what_it_exports():
    names = models.__all__
    assert len(names) == len(set(names)), "a name is listed twice in models.__all__"
    missing = [name for name in names if not hasattr(models, name)]
    assert not missing, missing
    tree = ast.parse((MODELS_DIR / "__init__.py").read_text(encoding="utf-8"))
    imported = {
        alias.asname or alias.name for node in tree.body if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))} | {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id != "__all__"
    }
    assert imported | defined == set(names), (imported | defined) ^ set(names)


# Which first-level packages each part of the application must never import.
FORBIDDEN_IMPORTS = {
    "models": {"web", "backoffice", "publicforms", "app"},
    "web": {"backoffice", "publicforms", "app"},
    "publicforms": {"backoffice", "app"},
    "backoffice": {"publicforms", "app"},
}


def test_the_doors_never_import_each_other_and_the_layers_point_one_way():
    found = []
    for module, (path, tree) in application_sources().items():
        forbidden = FORBIDDEN_IMPORTS.get(module.split(".")[0], set())
        for line, target in imports_anywhere(module, path, tree):
            if target.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(ROOT)}:{line}: {target}")
    assert not found, "imports against the layering:\n" + "\n".join(found)


def test_the_layering_rule_sees_a_forbidden_import(tmp_path):
    """The rule above reads the same trees it is given: a door importing the other is caught."""
    source = tmp_path / "door.py"
    source.write_text("def view():\n    from backoffice.views import X\n", encoding="utf-8")
    tree = ast.parse(source.read_text(encoding="utf-8"))
    targets = [target for _, target in imports_anywhere("publicforms.door", source, tree)]
    assert any(t.split(".")[0] in FORBIDDEN_IMPORTS["publicforms"] for t in targets)


# Not our modules: the virtual environment, installed front-end packages, build output.
NOT_OURS = {".venv", "node_modules", "build", ".git", "instance"}


def test_no_module_outside_migrations_is_a_god_module():
    """The application, its tests, benchmarks and tools: every module under the limit (the
    schema's history in migrations/ is written once and never edited)."""
    long = {
        str(path.relative_to(ROOT)): n
        for path in ROOT.rglob("*.py")
        if not {*path.relative_to(ROOT).parts[:-1]} & (NOT_OURS | {"migrations"})
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
        and str(path.relative_to(ROOT)) not in SIZE_EXEMPT
    }
    assert not long, long
