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
# something other than sheets (粒, capsules, 支, and 件, 个, 只, 盒: a package, not its content) state no net
# content a tax threshold could be read in; a sheet (片, 张: a mask, a pad) is the piece the high-end cosmetics
# threshold counts (财税〔2016〕103号: 元/片(张)).
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
    **{unit: ("piece", Decimal(1)) for unit in ("片", "张", "sheet", "sheets")},
}
_PLUS = re.compile(r"^\s*[+＋]\s*$")


def states_quantity(spec: str) -> bool:
    return SPEC_UNIT.search(spec) is not None


def net_content(spec: str | None) -> NetContent | None:
    """What the spec says a piece holds, in ml, g or sheets: the metric figure where it gives one (`1件 (50ml)`
    → 50 ml, `1支 3.5g` → 3.5 g, `1.7 fl oz / 50ml` → 50 ml), the sum of quantities joined by `+` (`50ml+50ml` →
    100 ml), a count times a quantity (`2×50ml` → 100 ml); else the sheets it counts (`5片` → 5 pieces); None when
    it counts something else (`30粒`, `1件`) or states no quantity."""
    if not spec:
        return None
    found: list[tuple[re.Match[str], NetContent]] = []
    for match in SPEC_UNIT.finditer(spec):
        unit = _NET_UNITS.get(match["unit"].casefold())
        if unit is None:
            continue
        amount = _number(match["amount"]) * unit[1]
        for factor in (match["count"], match["times"]):
            if factor is not None:
                amount *= _number(factor)
        if amount > 0:
            found.append((match, NetContent(amount, unit[0])))
    metric = [(match, net) for match, net in found if net.unit != "piece"]
    chosen = metric or found
    if not chosen:
        return None
    (first_match, first), *rest = chosen
    total, end = first.amount, first_match.end()
    for match, net in rest:  # `50ml+50ml`: quantities of one unit joined by a plus are one content
        if net.unit != first.unit or not _PLUS.match(spec[end : match.start()]):
            break
        total, end = total + net.amount, match.end()
    return NetContent(Decimal(format(total.normalize(), "f")), first.unit)


def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))
