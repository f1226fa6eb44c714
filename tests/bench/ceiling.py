"""The ceiling: a constant msgspec response from Litestar, served with the same server settings as
`registry serve` (`python -m tests.bench.ceiling PORT`)."""

from __future__ import annotations

import sys

import msgspec
import uvicorn
from litestar import Litestar, get


class Constant(msgspec.Struct):
    sku: str
    filing_no: str
    hs_code: str
    tax_rate: str
    status: str
    declarable: bool
    valid_until: str


CONSTANT = Constant("SK2-FTE-230", "2025110201", "3304990099", "0.091", "filed", True, "2027-11-22")


@get("/v1/lookup/{sku:str}")
async def constant(sku: str) -> Constant:
    return CONSTANT


app = Litestar([constant])


if __name__ == "__main__":
    from registry.cli import server_options

    uvicorn.run("tests.bench.ceiling:app", host="127.0.0.1", port=int(sys.argv[1]), **server_options())
