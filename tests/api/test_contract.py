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

from registry.services import stats
from tests.api.conftest import own_database
from tests.api.servers import make_keys, serving

DOCUMENT = Path(__file__).parents[2] / "openapi" / "openapi.json"
REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429"]  # schemathesis' default
CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {"mode": "all", "max-examples": 25},
        # Replaced by `valid_requests_are_accepted` below, which looks inside a 422 before it lets one pass.
        "checks": {
            "positive_data_acceptance": {"enabled": False},
            # A failed precondition is answered before the body is read (RFC 9110 13.2.1 lets a server evaluate
            # preconditions before it processes the content): a body the document refuses may meet 412 first.
            "negative_data_rejection": {"expected-statuses": [*REFUSALS, "412"]},
        },
        "operations": [
            # The import's body is text (NDJSON or CSV), and every text is a string on the wire: what schemathesis
            # builds as a body of another type arrives as text, and is read as rows (a partial import reports them).
            {"include-path": "/v1/imports", "checks": {"negative_data_rejection": {"enabled": False}}}
        ],
    }
)
# What a request the document calls valid may still meet, because no schema can say it: the record it names does
# not exist (404) or is in another state (409), the version it names is not current (412, 428).
STATE_AND_VERSION = {404, 409, 412, 428}
DECODING = {"type", "unknown_field"}  # the codes of a body the decoder refused
# Operations whose body's validity the document cannot state: the shape of a reference set, or the fields a filing
# action needs, depend on the path (OpenAPI ties no body schema to a path parameter's value), and an import's body
# is a file whose rows are checked as records (it is described as text). A 422 there is the server's to give.
BODY_DEPENDS_ON_PATH = {"PUT /v1/reference/{name}", "POST /v1/products/{sku}/filing/{action}", "POST /v1/imports"}


@schemathesis.check
def valid_requests_are_accepted(ctx: schemathesis.CheckContext, response: Any, case: schemathesis.Case[Any]) -> None:
    """A request generated as valid is answered 2xx or 3xx, or refused for its state or version; a 422 only for a
    logic rule (the record against the reference data, one field against another), never for a field rule the
    document states (`required`, `format.*`) or a body that does not decode."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code < 400:
        return
    status = response.status_code
    if status in STATE_AND_VERSION:
        return
    if status == 422 and f"{case.method} {case.path}" in BODY_DEPENDS_ON_PATH:
        return
    detail = response.json().get("detail", "") if status == 400 else ""
    if "cursor" in detail:
        return  # a cursor is an opaque token: only one the service gave out is read
    if detail == stats.ORDERED:
        return  # two parameters in order (from ≤ to): no schema relates one parameter to another
    sent = response.request.headers.get("Authorization")
    if status in (401, 403) and sent != f"Bearer {ADMIN_KEY.get('key')}":
        return  # the auth checks send no key, or another: the schema promises shapes, not keys
    if status == 422:
        problem = response.json()
        codes = [violation["code"] for violation in problem.get("violations", [])]
        field_rules = [code for code in codes if code in DECODING or code == "required" or code.startswith("format.")]
        if codes and not field_rules:
            return
        if codes and set(codes) <= {"format.spec_unit", "format.gtin"}:
            # The unit rule reads the spec after NFKC (`ſ` is `s`), and a GTIN ends in a GS1 check digit: no
            # pattern states either exactly.
            return
    raise AssertionError(f"a valid request ({meta.phase.name}) was refused: {status} {response.text[:500]}")


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
        # schemathesis tries many a wrong key on purpose, from one address: its checks expect 401, not 429.
        with serving(url, REGISTRY_FAILED_AUTH_LIMIT="100000") as base_url:
            yield base_url


@schema.parametrize()
def test_the_api_keeps_its_contract(case: schemathesis.Case[Any], service: str) -> None:
    case.call_and_validate(base_url=service, timeout=30)
