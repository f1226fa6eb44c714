"""docs/api.md says what the OpenAPI document says: the same routes, each with the same roles."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_the_routes_table_names_every_operation_and_its_roles() -> None:
    document = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    stated = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method != "head":
                who = re.search(r"(?:Roles: (.*)\.|(Open): no key needed\.)$", operation["description"])
                assert who, f"{method} {path} names no roles"
                stated[f"{method.upper()} {path}"] = "open" if who.group(2) else who.group(1)
    table = re.findall(r"^\| `([A-Z]+ /[^`]*)` \| [^|]+ \| ([^|]+) \|$", (ROOT / "docs" / "api.md").read_text(), re.M)
    assert {route: roles.strip() for route, roles in table} == stated


def _code_makers(trees: list[ast.Module]) -> set[str]:
    """What makes a violation: every function, struct or named tuple of the service whose second parameter or
    field is `code` (Violation, err, Format…), found rather than listed."""
    makers = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                params = [arg.arg for arg in node.args.args]
                if params[1:] and params[0] == "self":  # a method: its parameters after self
                    params = params[1:]
                if params[1:2] == ["code"]:
                    makers.add(node.name)
            elif isinstance(node, ast.ClassDef):
                fields = [
                    n.target.id for n in node.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
                ]
                if fields[1:2] == ["code"]:
                    makers.add(node.name)
    return makers


def _written_codes() -> set[str]:
    """Every code literal given to a maker of violations, as its second argument or as `code=`."""
    trees = [ast.parse(path.read_text()) for path in (ROOT / "registry").rglob("*.py")]
    makers = _code_makers(trees)
    codes = set()
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name not in makers:
                continue
            given = [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "code")]
            codes |= {arg.value for arg in given if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    return codes


def test_every_rule_code_is_in_the_rules_table_and_every_row_is_a_code() -> None:
    documented = set(re.findall(r"^\| `([a-z0-9_.]+)` \|", (ROOT / "docs" / "rules.md").read_text(), re.M))
    written = _written_codes()
    assert sorted(written - documented) == [], "rule codes the service writes that docs/rules.md does not list"
    assert sorted(documented - written) == [], "rows of docs/rules.md that are no code of the service"
