"""What the customs messages call things: the 3-digit country and unit codes, barcodes, account-book item numbers.

The code tables ship as data files beside this module (customs-countries.csv, customs-units.csv), each opening with
the public source it was taken from.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io
import re

# The bonded account-book item number (账册备案料号, `itemRecordNo` of the inventory message, C..30).
ITEM_RECORD_NO = re.compile(r"[A-Za-z0-9._-]{1,30}")
GTIN_LENGTHS = (8, 12, 13, 14)
CNY = "142"  # the currency code of the inventory message for renminbi (JGS-20 货币代码)


def is_gtin(value: str) -> bool:
    """A GTIN-8, -12, -13 or -14 of ASCII digits whose last digit is its GS1 check digit."""
    if len(value) not in GTIN_LENGTHS or not (value.isascii() and value.isdigit()):
        return False
    digits = [int(ch) for ch in value]
    # From the right, leaving out the check digit, the weights are 3, 1, 3, 1…
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == digits[-1]


def _table(name: str) -> list[dict[str, str]]:
    text = importlib.resources.files("registry.domain").joinpath(name).read_text("utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


@functools.cache
def units() -> dict[str, str]:
    """Unit name (`瓶`, `件`…) → its 3-digit customs unit code."""
    return {row["name"]: row["code"] for row in _table("customs-units.csv")}


@functools.cache
def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code → the 3-digit customs country (region) code: JP → 116."""
    return {row["iso2"]: row["code"] for row in _table("customs-countries.csv")}
