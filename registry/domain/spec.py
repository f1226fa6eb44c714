"""A product's spec: the quantity it must state, and the net content a piece holds, read from it."""

from __future__ import annotations

import re
from decimal import Decimal

from registry.domain.records import NetContent

# A quantity with a unit: `120g`, `230 ml`, `1件`, `2×50ml`, `30粒`, `1.5 L`, `2 x 100 g`, `50ml×2`.
_NUMBER = r"\d+(?:[.,]\d+)?"
_UNITS = (
    "mg|kg|g|ml|cl|dl|l|fl\\.? ?oz|oz|lb|lbs|cm|mm|m|pcs|pc|pieces?|tablets?|capsules?|softgels?|sheets?|pairs?|"
    "packs?|bags?|bottles?|sachets?|sticks?|cans?|sets?|"
    "件|粒|片|支|瓶|盒|袋|包|罐|个|只|条|枚|套|双|张|颗|听|桶|克|千克|毫升|升|贴|根|卷|对"
)
SPEC_UNIT = re.compile(
    rf"(?<![A-Za-z0-9])(?:(?P<count>{_NUMBER})\s*[×xX*]\s*)?(?P<amount>{_NUMBER})\s*(?P<unit>{_UNITS})(?![A-Za-z])"
    rf"(?:\s*[×xX*]\s*(?P<times>\d+)(?![\d.,]))?",
    re.IGNORECASE,
)

# Unit → (the unit of net content, how many of it one is). Units of length, non-metric units and counts of
# something other than whole pieces (粒, capsules, 支…) state no net content a tax threshold could be read in.
_NET_UNITS: dict[str, tuple[str, Decimal]] = {
    "ml": ("ml", Decimal(1)),
    "毫升": ("ml", Decimal(1)),
    "cl": ("ml", Decimal(10)),
    "dl": ("ml", Decimal(100)),
    "l": ("ml", Decimal(1000)),
    "升": ("ml", Decimal(1000)),
    "mg": ("g", Decimal("0.001")),
    "g": ("g", Decimal(1)),
    "克": ("g", Decimal(1)),
    "kg": ("g", Decimal(1000)),
    "千克": ("g", Decimal(1000)),
    **{
        unit: ("piece", Decimal(1))
        for unit in ("件", "片", "张", "个", "只", "枚", "pc", "pcs", "piece", "pieces", "sheet", "sheets")
    },
}


def states_quantity(spec: str) -> bool:
    return SPEC_UNIT.search(spec) is not None


def net_content(spec: str | None) -> NetContent | None:
    """The first quantity of the spec as ml, g or pieces: `2×50ml` → 100 ml, `1.5 L` → 1500 ml, `5片` → 5 pieces;
    None when it counts something else (`30粒`) or states no quantity."""
    found = SPEC_UNIT.search(spec) if spec else None
    if found is None:
        return None
    unit = _NET_UNITS.get(found["unit"].casefold())
    if unit is None:
        return None
    amount = _number(found["amount"]) * unit[1]
    for factor in (found["count"], found["times"]):
        if factor is not None:
            amount *= _number(factor)
    if amount <= 0:
        return None
    return NetContent(Decimal(format(amount.normalize(), "f")), unit[0])


def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))
