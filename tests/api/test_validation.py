"""Validation through the API: every code, every violation at once, the dry run writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from tests.api.conftest import Auth
from tests.samples import TODAY, beef, shiseido, sk2

Client = httpx.AsyncClient


async def validate(client: Client, auth: Auth, record: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v1/products:validate", json=record, headers=auth("catalog"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def pairs(violations: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(v["field"], v["code"]) for v in violations}


async def test_the_sk2_example_is_valid(client: Client, auth: Auth) -> None:
    assert await validate(client, auth, sk2()) == {"valid": True, "violations": []}


async def test_the_dry_run_writes_nothing(client: Client, auth: Auth) -> None:
    await validate(client, auth, sk2())
    assert (await client.get("/v1/products/SK2-FTE-230", headers=auth("catalog"))).status_code == 404
    assert (await client.get("/v1/products", headers=auth("catalog"))).json()["items"] == []


def _expired_document() -> dict[str, Any]:
    record = sk2()
    record["documents"][1]["valid_until"] = (TODAY - dt.timedelta(days=1)).isoformat()
    return record


def _backwards_dates() -> dict[str, Any]:
    record = sk2()
    record["documents"][0]["valid_from"] = "2027-06-01"
    record["documents"][0]["valid_until"] = "2027-05-31"
    return record


CASES: list[tuple[str, dict[str, Any], tuple[str, str]]] = [
    ("required", sk2(name_cn="   "), ("/name_cn", "required")),
    ("format.hs_code", sk2(hs_code="33049900"), ("/hs_code", "format.hs_code")),
    ("format.spec_unit", sk2(spec="big bottle"), ("/spec", "format.spec_unit")),
    ("format.country", sk2(origin_country="Japan"), ("/origin_country", "format.country")),
    ("format.ciq_code", sk2(ciq_code="1234"), ("/ciq_code", "format.ciq_code")),
    ("format.url", sk2(images=["javascript:alert(1)"]), ("/images/0", "format.url")),
    ("hs.unknown_subheading", sk2(hs_code="3304980000"), ("/hs_code", "hs.unknown_subheading")),
    ("hs.category_mismatch", sk2(hs_code="8517130000"), ("/hs_code", "hs.category_mismatch")),
    ("hs.prohibited", beef(), ("/hs_code", "hs.prohibited")),
    ("hs.not_on_positive_list", sk2(hs_code="3307900000"), ("/hs_code", "hs.not_on_positive_list")),
    ("ingredients.banned", sk2(ingredients=["water", "mercury"]), ("/ingredients/1", "ingredients.banned")),
    ("documents.missing", sk2(documents=[]), ("/documents", "documents.missing")),
    ("documents.expired", _expired_document(), ("/documents/1/valid_until", "documents.expired")),
    ("documents.dates", _backwards_dates(), ("/documents/0/valid_until", "documents.dates")),
    ("images.missing", sk2(images=[]), ("/images", "images.missing")),
]


@pytest.mark.parametrize(("record", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
async def test_each_code(client: Client, auth: Auth, record: dict[str, Any], expected: tuple[str, str]) -> None:
    report = await validate(client, auth, record)
    assert report["valid"] is False
    assert expected in pairs(report["violations"])
    assert all(v["severity"] == "error" and v["message"] for v in report["violations"])


async def test_a_brand_made_elsewhere_is_a_warning_that_does_not_block(client: Client, auth: Auth) -> None:
    report = await validate(client, auth, shiseido(origin_country="US"))
    assert report["valid"] is True
    [warning] = report["violations"]
    assert (warning["field"], warning["code"], warning["severity"]) == (
        "/origin_country",
        "origin.brand_mismatch",
        "warning",
    )
    assert (
        await client.post("/v1/products", json=shiseido(origin_country="US"), headers=auth("catalog"))
    ).status_code == 201
    submitted = await client.post("/v1/products/SHISEIDO-FW-120/filing/submit", headers=auth("catalog"))
    assert submitted.status_code == 200, submitted.text


async def test_the_contract_examples_fail_with_exactly_their_code(client: Client, auth: Auth) -> None:
    for record, expected in [
        (sk2(hs_code="8517130000"), {("/hs_code", "hs.category_mismatch")}),
        (sk2(spec="big bottle"), {("/spec", "format.spec_unit")}),
        (sk2(hs_code="33049900"), {("/hs_code", "format.hs_code")}),
        (shiseido(origin_country="US"), {("/origin_country", "origin.brand_mismatch")}),
    ]:
        assert pairs((await validate(client, auth, record))["violations"]) == expected


async def test_every_violation_is_reported_at_once(client: Client, auth: Auth) -> None:
    record = sk2(brand="", spec="big bottle", hs_code="8517130000", origin_country="ZZ", ciq_code="x", images=[])
    report = await validate(client, auth, record)
    assert pairs(report["violations"]) >= {
        ("/brand", "required"),
        ("/spec", "format.spec_unit"),
        ("/hs_code", "hs.category_mismatch"),
        ("/origin_country", "format.country"),
        ("/ciq_code", "format.ciq_code"),
        ("/images", "images.missing"),
    }


FIELD_CASES = [case for case in CASES if case[0].startswith(("required", "format.", "documents.dates"))]


@pytest.mark.parametrize(
    ("record", "expected"), [case[1:] for case in FIELD_CASES], ids=[case[0] for case in FIELD_CASES]
)
async def test_field_rules_refuse_a_create_with_422(
    client: Client, auth: Auth, record: dict[str, Any], expected: tuple[str, str]
) -> None:
    response = await client.post("/v1/products", json=record, headers=auth("catalog"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert expected in pairs(response.json()["violations"])
    assert (await client.get("/v1/products", headers=auth("catalog"))).json()["items"] == []


async def test_logic_rules_do_not_block_a_create(client: Client, auth: Auth) -> None:
    """A draft may break logic rules (they are checked at submit); it must pass the field rules."""
    response = await client.post("/v1/products", json=sk2(images=[], hs_code="8517130000"), headers=auth("catalog"))
    assert response.status_code == 201


async def test_a_wrongly_typed_field_is_a_422_with_its_pointer(client: Client, auth: Auth) -> None:
    record = sk2()
    record["documents"][0]["valid_until"] = "the day after tomorrow"
    response = await client.post("/v1/products", json=record, headers=auth("catalog"))
    assert response.status_code == 422
    (violation,) = response.json()["violations"]
    assert violation["field"] == "/documents/0/valid_until"
    assert violation["code"] == "type"
