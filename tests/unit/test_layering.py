"""The layering, enforced: every import of the production packages (and of devtools) points down.

    core  ←  graph  ←  etl, matching  ←  services  ←  app (API, web), jobs, cli
                                   devtools (test and benchmark tooling) may use core, graph, etl, matching

The rules as coded (ALLOWED, LAZY_ALLOWED, WEB_ALLOWED below):
- a package may import itself and the packages ALLOWED to it, nothing else of the project;
  core imports no project package; etl and matching never import each other;
- no production package imports devtools, with one exception: cli may import it inside a function
  (`flask sample` generates the sample county when it runs; loading the app or a job never loads devtools);
- nobody imports tests, bench, notebooks or wsgi;
- flask, werkzeug, jinja2 and flask_* are imported only by app, cli and jobs;
- relative imports are resolved first (`from ..x import y`), `importlib.import_module("…")` and
  `__import__("…")` with a literal name count too, and an import inside a function is still an import.

The checker takes a root directory, so the second test can prove on a tiny fake tree that it fails.
"""
import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT

PRODUCTION = ("core", "graph", "etl", "matching", "services", "app", "jobs", "cli")
PACKAGES = PRODUCTION + ("devtools",)
# Project top-level names no package may import.
OFF_LIMITS = {"tests", "bench", "notebooks", "wsgi"}
TOP = {"core", "graph", "etl", "matching", "services", "jobs", "cli"}  # what jobs and cli may use

ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "graph": {"core"},
    "etl": {"core", "graph"},
    "matching": {"core", "graph"},
    "services": {"core", "graph", "etl", "matching"},
    "app": {"core", "services", "jobs", "cli"},
    "jobs": TOP - {"jobs"},
    "cli": TOP - {"cli"},
    "devtools": {"core", "graph", "etl", "matching"},
}
# Imports allowed only inside a function body.
LAZY_ALLOWED: dict[str, set[str]] = {"cli": {"devtools"}}
WEB_MODULES = {"flask", "werkzeug", "jinja2"}
WEB_ALLOWED = {"app", "cli", "jobs"}


@dataclass(frozen=True)
class Import:
    """One imported module, absolute, with where it is written."""

    module: str  # "" when a relative import climbs above the root
    line: int
    in_function: bool
    names: tuple[str, ...] = ()  # what `from module import …` takes

    def __str__(self) -> str:
        return f"{self.module} ({', '.join(self.names)})" if self.names else self.module

    @property
    def top(self) -> str:
        return self.module.split(".")[0]


def _module_parts(path: Path, root: Path) -> list[str]:
    """The dotted name of the package a file belongs to (relative imports start there)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return parts[:-1]  # a module's package; for __init__.py the package itself (its parent folder)


def _resolve(node: ast.ImportFrom, package: list[str]) -> str | None:
    """The absolute module of a `from … import …` (None when a relative one climbs above the root)."""
    if node.level == 0:
        return node.module or ""
    if node.level - 1 > len(package):
        return None
    base = package[:len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path, root: Path) -> list[Import]:
    """Every module a file imports: import statements (relative ones resolved) and literal dynamic imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_parts(path, root)
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno, in_function) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(node, package)
            if module is None:
                found.append(Import("", node.lineno, in_function))
            elif node.level and node.module is None:
                # `from . import views` names modules, not attributes: each counts as imported.
                found.extend(Import(f"{module}.{alias.name}" if module else alias.name, node.lineno, in_function)
                             for alias in node.names)
            else:
                found.append(Import(module, node.lineno, in_function, tuple(alias.name for alias in node.names)))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("import_module", "__import__"):
                found.append(Import(node.args[0].value, node.lineno, in_function))
        inside = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, False)
    return found


def _is_web(module: str) -> bool:
    return module in WEB_MODULES or module.startswith("flask_")


def layering_violations(root: Path, packages=PACKAGES) -> list[str]:
    """`file:line: what is wrong` for every import against the layering under root (sorted)."""
    root = Path(root)
    project = set(PACKAGES) | OFF_LIMITS
    violations = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            where = path.relative_to(root).as_posix()
            for imported in imports_of(path, root):
                top = imported.top
                if not imported.module:
                    violations.append(f"{where}:{imported.line}: {package} has a relative import above the project root")
                elif _is_web(top) and package not in WEB_ALLOWED:
                    violations.append(f"{where}:{imported.line}: {package} imports {imported} "
                                      f"— web frameworks only in {', '.join(sorted(WEB_ALLOWED))}")
                elif top in project and top != package and top not in ALLOWED[package]:
                    if imported.in_function and top in LAZY_ALLOWED.get(package, set()):
                        continue
                    allowed = ", ".join(sorted(ALLOWED[package])) or "no project package"
                    lazily = " (only inside a function)" if top in LAZY_ALLOWED.get(package, set()) else ""
                    violations.append(f"{where}:{imported.line}: {package} imports {imported}{lazily} "
                                      f"— allowed: {allowed}")
    return violations


def test_every_import_points_down():
    violations = layering_violations(PROJECT_ROOT)
    assert not violations, "imports against the layering:\n" + "\n".join(violations)


def test_every_layer_is_a_package_of_the_tree():
    """A renamed or missing package would silently escape the check."""
    missing = [package for package in PACKAGES if not (PROJECT_ROOT / package / "__init__.py").is_file()]
    assert not missing, f"packages missing: {missing}"


FAKE_TREE = {
    "core/__init__.py": "",
    "core/ok.py": "import numpy\nfrom core import codes\n",
    "core/dynamic.py": "import importlib\n\ndef load():\n    return importlib.import_module('graph.db')\n",
    "graph/__init__.py": "",
    "graph/bad.py": "from app import create_app\n",
    "graph/views.py": "from . import db\nfrom .db import create_driver\nfrom core.codes import Mechanism\n",
    "graph/sub/__init__.py": "",
    "graph/sub/deep.py": "from ..model import NODES\nfrom ...app import create_app\n",
    "etl/__init__.py": "",
    "etl/x.py": "import flask\n\n\ndef later():\n    from werkzeug.utils import secure_filename\n",
    "etl/ok.py": "from graph import views\nimport pandas as pd\n",
    "matching/__init__.py": "",
    "matching/m.py": "import etl.load\n",
    "services/__init__.py": "",
    "services/s.py": "from matching import m\nfrom etl import ok\nfrom flask import g\n",
    "app/__init__.py": "from flask import Flask\nfrom services import s\nfrom jobs import runner\n",
    "app/api.py": "from graph import views\n",
    "jobs/__init__.py": "from flask import Flask\nfrom services import s\nfrom cli import sample\n",
    "jobs/j.py": "def run():\n    from devtools import oracle\n",
    "cli/__init__.py": "def sample():\n    from devtools.synth import generate\n",
    "cli/top.py": "import devtools.synth\nfrom app import create_app\n",
    "devtools/__init__.py": "",
    "devtools/d.py": "from etl import ok\nfrom services import s\nimport tests.support\n",
}


def test_the_checker_reports_wrong_way_imports_in_a_fake_tree(tmp_path):
    for name, text in FAKE_TREE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    violations = layering_violations(tmp_path)
    found = {(line.split(":")[0], line.split(":")[1], line.split(" imports ")[-1].split(" ")[0]) for line in violations}
    assert found == {
        ("core/dynamic.py", "4", "graph.db"),
        ("graph/bad.py", "1", "app"),
        ("graph/sub/deep.py", "2", "app"),          # a relative import, resolved
        ("etl/x.py", "1", "flask"),
        ("etl/x.py", "5", "werkzeug.utils"),        # inside a function still counts
        ("matching/m.py", "1", "etl.load"),
        ("services/s.py", "3", "flask"),
        ("app/api.py", "1", "graph"),
        ("jobs/j.py", "2", "devtools"),             # only cli may import devtools, and only in a function
        ("cli/top.py", "1", "devtools.synth"),
        ("cli/top.py", "2", "app"),
        ("devtools/d.py", "2", "services"),
        ("devtools/d.py", "3", "tests.support"),
    }, "\n".join(violations)
    assert any("only inside a function" in line for line in violations if line.startswith("cli/top.py:1:"))


@pytest.mark.parametrize("source, package, expected", [
    ("from . import db", "graph/views.py", ["graph.db"]),
    ("from .db import create_driver", "graph/views.py", ["graph.db"]),
    ("from .. import codes", "core/sub/x.py", ["core.codes"]),
    ("from ..model import NODES", "graph/sub/deep.py", ["graph.model"]),
    ("from . import views", "graph/__init__.py", ["graph.views"]),
    ("from ...app import create_app", "graph/sub/deep.py", ["app"]),
    ("from .... import x", "graph/sub/deep.py", [""]),
])
def test_relative_imports_are_resolved(tmp_path, source, package, expected):
    path = tmp_path / package
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source + "\n", encoding="utf-8")
    assert [found.module for found in imports_of(path, tmp_path)] == expected
