"""docs/api.md says what the OpenAPI document says: the same routes, each with the same roles."""

from __future__ import annotations

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


# Rule codes as the code writes them: the dotted ids of the rule families, and the three plain ones.
CODE = re.compile(
    r'"(required|type|unknown_field|'
    r"(?:format|hs|ingredients|origin|documents|images|filing|lifecycle|import|declaration|range|tax|positive_list|"
    r"reference)"
    r"\.(?!(?<=reference\.)json\")[a-z_]+)\""  # reference.json is the shipped file's name
)


def test_every_rule_code_is_in_the_rules_table_and_no_other() -> None:
    written = {code for path in (ROOT / "registry").rglob("*.py") for code in CODE.findall(path.read_text())}
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", (ROOT / "docs" / "rules.md").read_text(), re.M))
    assert written == documented
