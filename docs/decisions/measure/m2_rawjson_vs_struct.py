"""2. A pre-encoded raw ASGI response (registry.api.lookup.RawJson) vs a msgspec Struct
(registry.services.lookup.LookupOut) that Litestar encodes per request. No auth in either app.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import sys
from decimal import Decimal

import msgspec
from harness import SKU, base_scope, one, report, rounds, run_requests, versions
from litestar import Litestar, Response, get

from registry.api.lookup import RawJson
from registry.services.lookup import LookupOut

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000


ITEM = LookupOut(
    sku=SKU,
    filing_no="2025110201",
    hs_code="3304990000",
    tax_rate=Decimal("0.20"),
    status="filed",
    declarable=True,
    valid_until=dt.date(2027, 11, 1),
)
BODY = msgspec.json.encode(ITEM)  # what the index holds
TAG = '"7-1"'


@get("/v1/lookup/{sku:str}")
async def raw(sku: str) -> RawJson:
    return RawJson(BODY, TAG)


@get("/v1/lookup/{sku:str}")
async def struct(sku: str) -> LookupOut:
    return ITEM


@get("/v1/lookup/{sku:str}")
async def response_bytes(sku: str) -> Response[bytes]:
    return Response(content=BODY, media_type="application/json", headers={"etag": TAG})


app_raw = Litestar([raw], debug=False, openapi_config=None)
app_struct = Litestar([struct], debug=False, openapi_config=None)
app_resp = Litestar([response_bytes], debug=False, openapi_config=None)


async def main() -> None:
    print(versions())
    scope = base_scope(f"/v1/lookup/{SKU}")
    for name, app in (("raw", app_raw), ("struct", app_struct), ("Response(bytes)", app_resp)):
        sink = await one(app, scope)
        assert sink.status == 200, (name, sink.status, sink.body)
        assert msgspec.json.decode(sink.body) == msgspec.json.decode(BODY), (name, sink.body)
        print(f"{name:<16} {sink.status} body {len(sink.body)} bytes, identical bytes: {sink.body == BODY}; "
              f"headers {[k.decode() for k, _ in sink.headers]}")
    for app in (app_raw, app_struct, app_resp):
        await run_requests(app, scope, 2000)
    variants = {
        "R  RawJson(body, etag), pre-encoded": lambda: run_requests(app_raw, scope, N),
        "S  LookupOut struct, Litestar encodes": lambda: run_requests(app_struct, scope, N),
        "-  Response(content=bytes) (reference)": lambda: run_requests(app_resp, scope, N),
    }
    res = await rounds(variants, per=N)
    report(f"µs per request, {N:,} requests per round, 5 alternating rounds", res, "µs",
           base="R  RawJson(body, etag), pre-encoded")
    # The encoding alone, outside Litestar, for scale.
    import timeit
    enc = msgspec.json.encode
    per = [min(timeit.repeat(lambda: enc(ITEM), number=100_000, repeat=1)) * 1e6 / 100_000 for _ in range(5)]
    print(f"  (msgspec.json.encode(LookupOut) alone: {sorted(per)[2]:.2f} µs median of 5)")


if __name__ == "__main__":
    asyncio.run(main())
