"""The composite cross-border retail import rate, in Decimal only."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from registry.domain import limits

if TYPE_CHECKING:  # reference.py checks rates with composite_rate, so this module cannot import it at run time
    from registry.domain.records import NetContent
    from registry.domain.reference import Reference, Specific, TaxRate, Threshold

RATE_PLACES = Decimal("0.0001")
CROSS_BORDER_SHARE = Decimal("0.7")


def composite_rate(vat: Decimal, consumption_tax: Decimal, portion: Decimal = CROSS_BORDER_SHARE) -> Decimal:
    """0.7 × (VAT + CT) / (1 − CT), to four places: 13 % VAT → 0.091; 13 % VAT and 15 % CT → 0.2306. With
    `portion` 1: the full rate (a single piece above the order limit)."""
    rate = portion * (vat + consumption_tax) / (Decimal(1) - consumption_tax)
    return _plain(rate.quantize(RATE_PLACES, rounding=ROUND_HALF_UP))


def rate_row(hs_code: str, ref: Reference) -> TaxRate:
    """The tax-rates row for an HS code: the longest prefix it starts with."""
    for rate in ref.rates_longest_first:
        if hs_code.startswith(rate.prefix):
            return rate
    raise LookupError(f"no tax rate covers HS {hs_code}")


@dataclass(frozen=True)
class Terms:
    """The tax terms a filing is approved with: VAT and consumption tax, and the price from which the consumption
    tax applies (per ml, g or piece of the record's net content), if it has one."""

    vat: Decimal
    consumption_tax: Decimal
    threshold: Threshold | None = None
    specific: Specific | None = None

    @property
    def rate(self) -> Decimal:
        """The composite rate; below the threshold, when there is one."""
        return composite_rate(self.vat, Decimal(0) if self.threshold else self.consumption_tax)

    @property
    def rate_above(self) -> Decimal | None:
        return composite_rate(self.vat, self.consumption_tax) if self.threshold else None


def terms_for(hs_code: str, net: NetContent | None, ref: Reference) -> Terms:
    """The terms for an HS code and a net content. A row with thresholds takes the one in the unit the net content
    is counted in; with none in that unit (or no net content), the consumption tax applies at any price."""
    row = rate_row(hs_code, ref)
    threshold = next((t for t in row.thresholds if t.per == "each" or (net is not None and t.per == net.unit)), None)
    return Terms(row.vat, row.consumption_tax, threshold, row.specific)


SPECIFIC_UNITS = {"L": ("ml", Decimal(1000)), "kg": ("g", Decimal(1000))}  # per → (net content unit, how many)


def specific_quantity(specific: Specific, net: NetContent | None, quantity: int) -> Decimal | None:
    """The litres or kilograms a line holds (net content × quantity), in the unit a specific rate is charged per;
    None when the record states no net content in it."""
    unit, per = SPECIFIC_UNITS[specific.per]
    if net is None or net.unit != unit:
        return None
    return net.amount * quantity / per


def _plain(value: Decimal) -> Decimal:
    """Without trailing zeros and never in exponent form: 0.0910 → 0.091, 0.0000 → 0."""
    text = format(value.normalize(), "f")
    return Decimal(text)


def is_price(value: Decimal) -> bool:
    """A price or amount in CNY: finite, > 0 and < 10⁸, to the fen at most."""
    return value.is_finite() and 0 < value < limits.MAX_PRICE and value.as_tuple().exponent >= -2  # type: ignore[operator]
