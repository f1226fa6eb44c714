"""The house's floors, held by a test: each part of the service imports only the parts below it (or its own), so
the domain stays pure and no service reaches up into a door. Read from the source, not from memory."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2] / "registry"

# What each part may import from the service. The domain is pure (no database, no framework); services read and
# write through the models; the doors (api, web, cli, jobs) call services. The workbench is a door beside the API
# that follows the API routes' own declarations (web/access.py) and answers their problems as pages, so it may
# read the api package; the API never reads the workbench.
MAY_IMPORT: dict[str, set[str]] = {
    "domain": {"domain"},
    "config": set(),
    "memory": set(),
    "schema": set(),
    "serving": {"config"},
    "db": {"db", "config", "domain"},
    "models": {"db", "domain"},
    "services": {"services", "domain", "models", "db", "config"},
    "api": {"api", "services", "domain", "config", "schema"},  # schema: /ready compares the migrations
    "web": {"web", "api", "services", "domain", "config"},
    "jobs": {"services", "domain", "config"},
    "cli": {"app", "services", "domain", "models", "db", "config", "schema", "serving"},
    "app": {"api", "web", "jobs", "services", "domain", "models", "db", "config", "schema", "serving", "memory"},
    "__main__": {"cli"},
}


def _part(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    return relative.parts[0]


def _imported(tree: ast.Module) -> set[str]:
    """The parts of the service a module imports (`registry.X…` → X)."""
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if node.module != "registry" else [f"registry.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found |= {name.split(".")[1] for name in names if name.startswith("registry.")}
    return found


def test_every_module_imports_only_the_floors_below_it() -> None:
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.name == "__init__.py" and path.parent == ROOT:
            continue
        part = _part(path)
        assert part in MAY_IMPORT, f"{path}: a new part of the service; say here what it may import"
        for imported in _imported(ast.parse(path.read_text())) - MAY_IMPORT[part]:
            wrong.append(f"{path.relative_to(ROOT.parent)} ({part}) imports registry.{imported}")
    assert wrong == []
