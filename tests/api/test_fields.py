"""Every field of the record, declared once (registry.domain.records.FIELDS), lives through every door: create,
read, a PATCH of another field, a CSV export and its import, the history and `as_of`. A field lost, nulled or
changed on the way fails naming it. The values are drawn from what the committed document says each field takes
(and the rules accept), so a field the document does not state fails too."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from registry.domain import rules
from registry.domain.records import FIELDS, DocumentKind, Kind, ProductIn, normalize
from registry.models import Product
from tests.api.conftest import Auth
from tests.conftest import FakeClock

Client = httpx.AsyncClient
DOCUMENT = json.loads((Path(__file__).parents[2] / "openapi" / "openapi.json").read_text())
PROPERTIES: dict[str, Any] = DOCUMENT["components"]["schemas"]["ProductIn"]["properties"]
SPECS = ["120g", "230 ml", "2×50ml", "1件 (50ml)", "30粒"]  # the spec's pattern is the rule's, too wide to draw from
_serial = itertools.count()
TEXT = st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "S")), min_size=1, max_size=30)
DAYS = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))


def _documents() -> st.SearchStrategy[list[dict[str, Any]]]:
    document = st.builds(
        lambda kind, number, issuer, days: {
            "kind": kind,
            "number": number,
            "issuer": issuer,
            "valid_from": min(days).isoformat(),
            "valid_until": max(days).isoformat(),
        },
        st.sampled_from([kind.value for kind in DocumentKind]),
        TEXT,
        st.none() | TEXT,
        st.tuples(DAYS, DAYS),
    )
    return st.lists(document, min_size=1, max_size=2)


def _drawn(name: str, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of a field as the document states it (its non-null branch)."""
    schema = next((s for s in schema.get("oneOf", [schema]) if s.get("type") != "null"), schema)
    if name == "spec":
        return st.sampled_from(SPECS)
    if name == "documents":
        return _documents()
    if name == "gtin":  # a check digit no pattern states: the body drawn, the digit the rule accepts added
        body = st.from_regex("[0-9]{7}|[0-9]{11,13}", fullmatch=True)
        return body.map(lambda digits: next(digits + d for d in "0123456789" if rules.FORMATS["gtin"].ok(digits + d)))
    if name == "images[]":  # the URL pattern admits what the rule refuses (control characters): URLs, as sent
        return st.builds("https://{}.example.com/{}.jpg".format, st.from_regex("[a-z0-9]{1,12}", fullmatch=True), TEXT)
    if "enum" in schema:
        return st.sampled_from([value for value in schema["enum"] if value not in ("", None)])
    if schema.get("type") == "integer":
        return st.integers(schema.get("minimum", 0), min(schema.get("maximum", 10**6), 10**6))
    if schema.get("type") == "array":
        return st.lists(_drawn(f"{name}[]", schema["items"]), min_size=1, max_size=3)
    pattern = schema.get("pattern", "")
    if pattern and not pattern.startswith("^[^"):  # a format of its own, not the visible-text pattern
        rule = rules.FORMATS.get(name)  # a pattern may say less than the rule (a GTIN's check digit)
        return st.from_regex(pattern, fullmatch=True).filter(lambda v: bool(v) and (rule is None or rule.ok(v)))
    return TEXT


# (A field the document lacks is drawn as text here; the test below names it.)
RECORDS = st.fixed_dictionaries({name: _drawn(name, PROPERTIES.get(name, {})) for name in FIELDS if name != "sku"})


def _expected(record: dict[str, Any]) -> dict[str, Any]:
    normal: dict[str, Any] = msgspec.to_builtins(normalize(msgspec.convert(record, ProductIn)))
    return normal


def _lost(expected: dict[str, Any], found: dict[str, Any], where: str) -> list[str]:
    return [
        f"{name} at {where}: sent {expected[name]!r}, got {found.get(name)!r}"
        for name in FIELDS
        if expected[name] != found.get(name)
    ]


@settings(
    max_examples=30, deadline=None, phases=[Phase.generate], suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(drawn=RECORDS, other=TEXT)
async def test_every_field_lives_through_every_door(
    client: Client, auth: Auth, clock: FakeClock, drawn: dict[str, Any], other: str
) -> None:
    sku = f"F-{next(_serial)}"
    record = {**drawn, "sku": sku}
    assume(not rules.check_fields(normalize(msgspec.convert(record, ProductIn))))
    expected = _expected(record)
    catalog = auth("catalog")

    created = await client.post("/v1/products", json=record, headers=catalog)
    assert created.status_code == 201, created.text
    lost = _lost(expected, created.json(), "create")
    read = (await client.get(f"/v1/products/{sku}", headers=catalog)).json()
    lost += _lost(expected, read, "read")
    made_at = clock.now
    clock.advance(seconds=5)

    # A PATCH of another field leaves every other one as it was.
    patched_field = "usage" if expected["usage"] != other else "name_foreign"
    patch = await client.patch(
        f"/v1/products/{sku}", json={patched_field: other}, headers={**catalog, "If-Match": '"1"'}
    )
    assert patch.status_code == 200, patch.text
    expected_after = {**expected, patched_field: _expected({**record, patched_field: other})[patched_field]}
    lost += _lost(expected_after, patch.json(), "PATCH of another field")
    lost += _lost(expected_after, (await client.get(f"/v1/products/{sku}", headers=catalog)).json(), "read again")

    # The CSV export has a column per field, and re-imports as unchanged.
    exported = await client.get("/v1/products.csv", params={"q": sku}, headers=catalog)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert list(rows[0]) == list(FIELDS), "the CSV columns are the record's fields"
    imported = await client.post(
        "/v1/imports", content=exported.content, headers={**catalog, "Content-Type": "text/csv"}
    )
    report = imported.json()
    assert imported.status_code == 200, imported.text
    if report["unchanged"] != 1:
        after_import = (await client.get(f"/v1/products/{sku}", headers=catalog)).json()
        lost += _lost(expected_after, after_import, "CSV export and import")

    # The history holds every field; the record as it was before the PATCH is the record created.
    events = (await client.get(f"/v1/products/{sku}/history", headers=catalog)).json()["items"]
    creation = {name: change["new"] for name, change in events[0]["changes"].items()}
    lost += [
        f"{name} at history: created {expected[name]!r}, recorded {creation.get(name)!r}"
        for name in FIELDS
        if expected[name] not in (None, []) and creation.get(name) != expected[name]
    ]
    assert events[1]["action"] == "update"
    assert set(events[1]["changes"]) == {patched_field}, "the PATCH changed that field alone"
    lost += [
        f"{name} at CSV export and import: {change}"
        for event in events[2:]
        for name, change in event["changes"].items()
    ]
    as_of = (made_at + dt.timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    before = (await client.get(f"/v1/products/{sku}", params={"as_of": as_of}, headers=catalog)).json()
    lost += _lost(expected, before, "as_of before the PATCH")
    assert not lost, lost


def test_every_field_has_a_column_a_document_property_and_a_docs_row() -> None:
    columns = set(Product.__table__.columns.keys())
    assert [name for name in FIELDS if name not in columns] == [], "a field without a column of the product table"
    assert [name for name in FIELDS if name not in PROPERTIES] == [], "a field the document does not state"
    table = (Path(__file__).parents[2] / "docs" / "api.md").read_text().split("## The product record")[1]
    assert [name for name in FIELDS if f"| `{name}` |" not in table] == [], "a field without a row in docs/api.md"


def test_every_format_the_rules_check_is_stated_in_the_document() -> None:
    """A field with a format rule has a schema of its own in the document: a pattern, an enum or bounds."""
    for name in [*rules.FORMATS, *rules.ITEMS]:
        schema = PROPERTIES[name]
        schema = next((s for s in schema.get("oneOf", [schema]) if s.get("type") != "null"), schema)
        schema = schema.get("items", schema) if FIELDS[name].kind is Kind.TEXTS else schema
        stated = {"pattern", "enum", "minimum", "maximum", "minLength", "format"} & set(schema)
        assert stated, f"{name}: the rules check a format the document does not state"


@pytest.mark.parametrize("name", [name for name, spec in FIELDS.items() if spec.kind in (Kind.TEXT, Kind.UPPER)])
def test_every_text_field_is_checked_for_length_and_unseen_characters(name: str) -> None:
    for value in ("a\u202eb", "a" * 20_000):
        record = normalize(msgspec.convert({"sku": "A", name: value}, ProductIn))
        assert any(v.field == f"/{name}" for v in rules.check_fields(record)), (name, value[:10])
