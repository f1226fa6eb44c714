"""The committed OpenAPI document against the server: every request of a client's whole tour is valid by the
document's request schemas (checked with a JSON Schema validator before it is sent), each request schema holds to
the Struct the server decodes, and what the document calls required the server refuses when it is absent."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import jsonschema_rs
import msgspec
import pytest

from registry.api.keys import KeyIn
from registry.api.lookup import SkusIn
from registry.domain.declaration import DeclarationIn, LineIn
from registry.domain.lifecycle import ActionIn, ReviewIn
from registry.domain.records import Document, ProductIn, ProductPatch
from tests.api.conftest import Auth
from tests.samples import TODAY, sk2

DOCUMENT: dict[str, Any] = json.loads((Path(__file__).parents[2] / "openapi" / "openapi.json").read_text())
Client = httpx.AsyncClient

# The component each request Struct is stated as (the dry run's Draft: its types, without the field rules).
STRUCTS: dict[str, type[msgspec.Struct]] = {
    "ProductIn": ProductIn,
    "ProductDraft": ProductIn,
    "ProductPatch": ProductPatch,
    "Document": Document,
    "DocumentDraft": Document,
    "ActionIn": ActionIn,
    "KeyIn": KeyIn,
    "LineIn": LineIn,
    "DeclarationIn": DeclarationIn,
    "SkusIn": SkusIn,
    "ReviewIn": ReviewIn,
}


def _validator(schema: dict[str, Any]) -> Any:
    """A validator of `schema`, its `$ref`s read against the document's components."""
    return jsonschema_rs.Draft202012Validator({**schema, "components": DOCUMENT["components"]})


def _operation(method: str, path: str) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The document's path template, operation and path parameters for a request; literal paths first."""
    templates = sorted(DOCUMENT["paths"], key=lambda template: ("{" in template, template))
    for template in templates:
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        if match := re.match(pattern, path):
            operation = DOCUMENT["paths"][template].get(method.lower())
            assert operation is not None, f"{method} {template} is not in the document"
            return template, operation, match.groupdict()
    raise AssertionError(f"{path} is not in the document")


def _typed(value: str, schema: dict[str, Any]) -> Any:
    """A parameter's text as the JSON value its schema describes."""
    described = json.dumps(schema)
    if '"integer"' in described and re.fullmatch(r"-?\d+", value):
        return int(value)
    if '"boolean"' in described and value in ("true", "false"):
        return value == "true"
    return value


def check_request(request: httpx.Request) -> None:
    """Fail unless `request` is valid by the committed document: its path, method, parameters, headers and body."""
    template, operation, path_values = _operation(request.method, unquote(request.url.path))
    where = f"{request.method} {template}"
    parameters = {(p["in"], p["name"].lower()): p for p in operation.get("parameters", [])}
    for name, value in path_values.items():
        _validator(parameters["path", name.lower()]["schema"]).validate(
            _typed(value, parameters["path", name]["schema"])
        )
    for name, value in request.url.params.multi_items():
        assert ("query", name.lower()) in parameters, f"{where}: query parameter {name} is not in the document"
        schema = parameters["query", name.lower()]["schema"]
        _validator(schema).validate(_typed(value, schema))
    for (place, name), parameter in parameters.items():
        if place == "header":
            value = request.headers.get(name)
            assert value is not None or not parameter.get("required"), f"{where}: header {name} is required"
            if value is not None:
                _validator(parameter["schema"]).validate(value)
    body = request.content
    declared = operation.get("requestBody")
    if not body:
        assert not (declared and declared.get("required")), f"{where}: a body is required"
        return
    assert declared is not None, f"{where} takes no body"
    media = request.headers["content-type"].partition(";")[0]
    assert media in declared["content"], f"{where} does not take {media}"
    schema = declared["content"][media]["schema"]
    _validator(schema).validate(json.loads(body) if media == "application/json" else body.decode())


async def send(client: Client, method: str, url: str, **options: Any) -> httpx.Response:
    request = client.build_request(method, url, **options)
    check_request(request)
    return await client.send(request)


async def test_a_whole_tour_sends_only_requests_the_document_calls_valid(client: Client, auth: Auth) -> None:
    catalog, reviewer, declaration = auth("catalog"), auth("reviewer"), auth("declaration")
    record = sk2()
    record["ciq_code"] = None
    created = await send(client, "POST", "/v1/products", json=record, headers=catalog)
    assert created.status_code == 201, created.text
    assert (await send(client, "POST", "/v1/products:validate", json=record, headers=catalog)).json()["valid"]

    read = await send(client, "GET", "/v1/products/SK2-FTE-230", headers=catalog)
    tag = read.headers["etag"]
    again = await send(client, "GET", "/v1/products/SK2-FTE-230", headers={**catalog, "If-None-Match": tag})
    assert again.status_code == 304
    assert (await send(client, "HEAD", "/v1/products/SK2-FTE-230", headers=catalog)).status_code == 200
    changed = await send(
        client, "PATCH", "/v1/products/SK2-FTE-230", json={"usage": "早晚使用"}, headers={**catalog, "If-Match": tag}
    )
    assert changed.status_code == 200, changed.text

    submitted = await send(client, "POST", "/v1/products/SK2-FTE-230/filing/submit", headers=catalog)
    assert submitted.status_code == 200, submitted.text
    approval = {"filing_no": "2025110201", "valid_until": TODAY.replace(year=TODAY.year + 1).isoformat()}
    approved = await send(client, "POST", "/v1/products/SK2-FTE-230/filing/approve", json=approval, headers=reviewer)
    assert approved.status_code == 200, approved.text

    looked_up = await send(client, "GET", "/v1/lookup/SK2-FTE-230", headers=declaration)
    assert looked_up.json()["declarable"] is True
    cached = await send(
        client, "GET", "/v1/lookup/SK2-FTE-230", headers={**declaration, "If-None-Match": looked_up.headers["etag"]}
    )
    assert cached.status_code == 304
    batch = await send(client, "POST", "/v1/lookup", json={"skus": ["SK2-FTE-230", "NONE"]}, headers=declaration)
    assert batch.json()["missing"] == ["NONE"]
    order = {"items": [{"sku": "SK2-FTE-230", "quantity": 2, "unit_price": "129.00"}]}
    checked = await send(client, "POST", "/v1/declarations/check", json=order, headers=declaration)
    assert checked.status_code == 200, checked.text

    exported = await send(client, "GET", "/v1/products", params={"format": "csv"}, headers=catalog)
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    other = exported.text.replace("SK2-FTE-230", "SK2-FTE-231")
    csv_import = await send(
        client, "POST", "/v1/imports", content=other.encode(), headers={**catalog, "Content-Type": "text/csv"}
    )
    assert csv_import.json()["created"] == 1, csv_import.text
    line = json.dumps(sk2(sku="SK2-FTE-232"), ensure_ascii=False).encode()
    ndjson_import = await send(
        client, "POST", "/v1/imports", content=line, headers={**catalog, "Content-Type": "application/x-ndjson"}
    )
    assert ndjson_import.json()["created"] == 1, ndjson_import.text

    report = await send(client, "GET", "/v1/reports/expiring", params={"format": "csv"}, headers=reviewer)
    assert report.headers["content-type"] == "text/csv; charset=utf-8"
    history = await send(client, "GET", "/v1/products/SK2-FTE-230/history", headers=auth("auditor"))
    assert [event["action"] for event in history.json()["items"]] == ["create", "update", "submit", "approve"]


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_each_request_schema_holds_to_its_struct(name: str) -> None:
    schema, struct = DOCUMENT["components"]["schemas"][name], STRUCTS[name]
    fields = set(struct.__struct_fields__)
    assert set(schema["properties"]) == fields
    assert set(schema.get("required", [])) <= fields
    assert (schema.get("additionalProperties") is False) == struct.__struct_config__.forbid_unknown_fields


@pytest.mark.parametrize(("component", "prefix"), [("ProductIn", ""), ("Document", "/documents/0")])
async def test_what_the_document_requires_the_server_refuses_when_absent(
    client: Client, auth: Auth, component: str, prefix: str
) -> None:
    schema = DOCUMENT["components"]["schemas"][component]
    for field in schema["properties"]:
        record = sk2(category="household")  # a category whose reference data requires no more fields
        if prefix:
            record["documents"][0].pop(field, None)
        else:
            record.pop(field, None)
        report = await client.post("/v1/products:validate", json=record, headers=auth("catalog"))
        pointer = f"{prefix}/{field}"
        codes = {v["code"] for v in report.json()["violations"] if v["field"] == pointer}
        assert ("required" in codes) == (field in schema["required"]), (pointer, codes)


@pytest.mark.parametrize(
    ("method", "url", "options"),
    [
        ("PATCH", "/v1/products/A-1", {"json": {"usage": "x"}}),  # no If-Match
        ("POST", "/v1/products", {"json": {**sk2(), "colour": "red"}}),  # a field the record does not have
        ("POST", "/v1/products", {"json": {**sk2(), "hs_code": "33049900"}}),  # eight digits
        ("POST", "/v1/products/A-1/filing/publish", {}),  # no such action
        ("GET", "/v1/products", {"params": {"limit": "0"}}),
        ("POST", "/v1/imports", {"content": b"{}", "headers": {"Content-Type": "application/json"}}),
    ],
)
def test_the_tour_check_refuses_what_the_document_refuses(method: str, url: str, options: dict[str, Any]) -> None:
    request = httpx.Request(method, f"http://registry{url}", **options)
    with pytest.raises((AssertionError, jsonschema_rs.ValidationError)):
        check_request(request)
