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
