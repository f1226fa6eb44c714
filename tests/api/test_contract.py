"""Contract tests: schemathesis generates requests from the committed OpenAPI document (the one the app serves,
see test_ops) and sends them, valid and invalid, to a real service process with an admin key. Every check runs:
no 5xx, every response matching the document, invalid data refused, and no operation that names a security
scheme answering without a key (`ignored_auth`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from tests.api.conftest import own_database
from tests.api.servers import make_keys, serving

DOCUMENT = Path(__file__).parents[2] / "openapi" / "openapi.json"
CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {"mode": "all", "max-examples": 25},
        "checks": {
            # The document states shapes; the registry's rules refuse some well-shaped requests too, each with
            # its own 4xx: a cursor it did not give out (400), field and logic validation (422), the filing
            # state (409), the version a change is made against (412, 428).
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "412", "422", "428"]
            },
        },
    }
)
schema = schemathesis.openapi.from_path(DOCUMENT, config=CONFIG)
ADMIN_KEY: dict[str, str] = {}  # set by the `service` fixture, once its database has a key


@schemathesis.serializer("application/x-ndjson")
def ndjson_as_text(ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    """The import's NDJSON body is described as a string: it goes on the wire as that text."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")


@schema.auth(refresh_interval=None)
class AdminKey:
    """The admin key, given to schemathesis as the bearer scheme's credentials so that its auth checks know it."""

    def get(self, case: schemathesis.Case[Any], ctx: schemathesis.AuthContext) -> str | None:
        return ADMIN_KEY.get("key")  # None while tests are collected

    def set(self, case: schemathesis.Case[Any], data: str, ctx: schemathesis.AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


@pytest.fixture(scope="module")
def service(migrated_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One service process on a database of this module's, which has an admin key."""
    with own_database(migrated_url, tmp_path_factory.mktemp("contract"), "registry_contract") as url:
        ADMIN_KEY["key"] = make_keys(url, "admin")["admin"]
        with serving(url) as base_url:
            yield base_url


@schema.parametrize()
def test_the_api_keeps_its_contract(case: schemathesis.Case[Any], service: str) -> None:
    case.call_and_validate(base_url=service, timeout=30)
