"""Import direction: domains never import a face or the server; faces never import each other.

``schema <- domains <- server <- faces (cli, api, web)``; :mod:`retain.server.app` alone imports both web faces, to
compose them into one application (the dashboard with the API mounted at ``/api``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src"
ROOT = SRC / "retain"
FACES = ("cli", "api", "web")
DOMAINS = ("schema", "results", "ingest", "warehouse", "metrics", "clv", "health", "models", "conversations", "demo",
           "state")
COMPOSITION = "retain.server.app"  # the one module that may import both faces


def _module(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(text: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module of ``retain`` named by an import in ``text`` (lazy imports inside functions too), absolute."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "retain" or name.startswith("retain.")}


def _top(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def _forbidden(module: str) -> set[str]:
    """The top-level packages of ``retain`` that ``module`` may not import."""
    top = _top(module)
    if top in DOMAINS:
        return {*FACES, "server"}
    if top == "server":
        return set() if module == COMPOSITION else set(FACES)
    if top in FACES:
        return set(FACES) - {top}
    return {*FACES, "server"}  # shared helpers at the top (errors, specs, configs, ...) sit below everything


MODULES = sorted(ROOT.rglob("*.py"))


def test_every_package_is_placed():
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= {*FACES, *DOMAINS, "server"}, "place the new package in a layer of this test"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path):
    module = _module(path)
    forbidden = _forbidden(module)
    imported = _imports(path.read_text(encoding="utf-8"), module, is_package=path.name == "__init__.py")
    wrong = sorted(name for name in imported if _top(name) in forbidden)
    assert not wrong, f"{module} imports {', '.join(wrong)}: faces never import each other, domains no face"


def test_the_rule_sees_lazy_and_relative_imports():
    text = "import os\n\ndef f():\n    from retain.web import deps\n\nfrom ..cli import main\nfrom . import schemas\n"
    imported = _imports(text, "retain.api.probe")
    assert {"retain.web", "retain.cli", "retain.cli.main", "retain.api.schemas"} <= imported
    assert "os" not in imported
    assert {_top(name) for name in imported} & _forbidden("retain.api.probe") == {"web", "cli"}
