"""Import direction: domains never import the application layer, the server or a face; faces never import each other.

``schema <- domains <- jobs (the application layer) <- server <- faces (cli, api, web)``; :mod:`retain.server.app`
alone imports both web faces, to compose them into one application (the dashboard with the API mounted at ``/api``).

The command line is a face only: it parses, calls a job or a domain function, and renders. It never opens the
application database itself (no SQLAlchemy) and never writes to the warehouse (no ``store_result``, no backend
writes, no domain ``store`` helpers): that is what :mod:`retain.jobs` is for.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src"
ROOT = SRC / "retain"
FACES = ("cli", "api", "web")
DOMAINS = ("schema", "results", "ingest", "warehouse", "metrics", "clv", "health", "models", "conversations", "demo",
           "state", "doctor", "action", "surveys", "delivery", "sales")
APPLICATION = "jobs"  # between the domains and the server and faces
COMPOSITION = "retain.server.app"  # the one module that may import both faces


def _module(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(text: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module of ``retain`` named by an import in ``text`` (lazy imports inside functions too), absolute."""
    return {name for name in _all_imports(text, module, is_package=is_package)
            if name == "retain" or name.startswith("retain.")}


def _all_imports(text: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module (and imported name, as ``module.name``) an import in ``text`` names, any package, absolute."""
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
    return found


def _top(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def _forbidden(module: str) -> set[str]:
    """The top-level packages of ``retain`` that ``module`` may not import."""
    top = _top(module)
    if top in DOMAINS:
        return {*FACES, "server", APPLICATION}
    if top == APPLICATION:
        return {*FACES, "server"}
    if top == "server":
        return set() if module == COMPOSITION else set(FACES)
    if top in FACES:
        return set(FACES) - {top}
    return {*FACES, "server", APPLICATION}  # shared helpers at the top (errors, configs, ...) sit below everything


MODULES = sorted(ROOT.rglob("*.py"))


def test_every_package_is_placed():
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= {*FACES, *DOMAINS, APPLICATION, "server"}, "place the new package in a layer of this test"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path):
    module = _module(path)
    forbidden = _forbidden(module)
    imported = _imports(path.read_text(encoding="utf-8"), module, is_package=path.name == "__init__.py")
    wrong = sorted(name for name in imported if _top(name) in forbidden)
    assert not wrong, (f"{module} imports {', '.join(wrong)}: faces never import each other, jobs no face, "
                       "domains neither jobs nor a face")


def test_the_rule_sees_lazy_and_relative_imports():
    text = "import os\n\ndef f():\n    from retain.web import deps\n\nfrom ..cli import main\nfrom . import schemas\n"
    imported = _imports(text, "retain.api.probe")
    assert {"retain.web", "retain.cli", "retain.cli.main", "retain.api.schemas"} <= imported
    assert "os" not in imported
    assert {_top(name) for name in imported} & _forbidden("retain.api.probe") == {"web", "cli"}


def test_the_application_layer_sits_between_domains_and_faces():
    assert {*FACES, "server"} <= _forbidden("retain.jobs.main")
    assert APPLICATION in _forbidden("retain.health.history") and APPLICATION in _forbidden("retain.errors")
    assert APPLICATION not in _forbidden("retain.cli.job") | _forbidden("retain.server.runtime")


# -- the command line parses, calls and renders --------------------------------------------------------------

CLI_MODULES = sorted((ROOT / "cli").rglob("*.py"))
WAREHOUSE_WRITES = {"store_result", "ensure_tables"}  # what retain.warehouse.Warehouse offers that writes
BACKEND_WRITES = {"insert", "upsert", "create_table", "create_view", "drop_table", "drop_view", "truncate_table",
                  "rename_table", "raw_sql"}  # an Ibis backend's writes, reached as ``wh.con.<method>``
STORE_HELPERS = {"store", "store_result", "store_results"}  # domain helpers that write results


def _database_imports(text: str, module: str) -> list[str]:
    return sorted(n for n in _all_imports(text, module) if n == "sqlalchemy" or n.startswith("sqlalchemy."))


def _warehouse_writes(text: str) -> list[str]:
    """Calls in ``text`` that write to the warehouse, and store helpers imported from outside :mod:`retain.jobs`."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, owner = node.func.attr, node.func.value
            if method in WAREHOUSE_WRITES:
                found.append(f"line {node.lineno}: .{method}()")
            elif method in BACKEND_WRITES and isinstance(owner, ast.Attribute) and owner.attr == "con":
                found.append(f"line {node.lineno}: .con.{method}()")
        elif isinstance(node, ast.ImportFrom) and not (node.module or "").startswith(f"retain.{APPLICATION}"):
            found += [f"line {node.lineno}: imports {alias.name} from {node.module}" for alias in node.names
                      if alias.name in STORE_HELPERS]
    return sorted(found, key=lambda f: int(f.split(":")[0].removeprefix("line ")))


@pytest.mark.parametrize("path", CLI_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_cli_holds_no_database_or_warehouse_writes(path: Path):
    module, text = _module(path), path.read_text(encoding="utf-8")
    sql = _database_imports(text, module)
    assert not sql, (f"{module} imports {', '.join(sql)}: reach the application database through retain.jobs or "
                     "retain.state functions")
    writes = _warehouse_writes(text)
    assert not writes, f"{module} writes to the warehouse ({'; '.join(writes)}): compute and store in retain.jobs"


def test_the_cli_rules_see_what_they_forbid():
    text = ("from retain.health.history import store\nfrom retain.jobs.value import compute_and_store\n\n"
            "def f(wh, db):\n    from sqlalchemy import select\n    wh.store_result('clv', None)\n"
            "    wh.con.insert('accounts', None)\n    wh.con.list_tables()\n    wh.execute(None)\n")
    assert _database_imports(text, "retain.cli.probe") == ["sqlalchemy", "sqlalchemy.select"]
    assert _warehouse_writes(text) == ["line 1: imports store from retain.health.history", "line 6: .store_result()",
                                       "line 7: .con.insert()"]
