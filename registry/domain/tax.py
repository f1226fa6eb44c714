"""The composite cross-border retail import rate, in Decimal only."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from registry.domain import limits

if TYPE_CHECKING:  # reference.py checks rates with composite_rate, so this module cannot import it at run time
    from registry.domain.reference import Reference

RATE_PLACES = Decimal("0.0001")
CROSS_BORDER_SHARE = Decimal("0.7")


def composite_rate(vat: Decimal, consumption_tax: Decimal) -> Decimal:
    """0.7 × (VAT + CT) / (1 − CT), to four places: 13 % VAT → 0.091; 13 % VAT and 15 % CT → 0.2306."""
    rate = CROSS_BORDER_SHARE * (vat + consumption_tax) / (Decimal(1) - consumption_tax)
    return _plain(rate.quantize(RATE_PLACES, rounding=ROUND_HALF_UP))


def rate_for(hs_code: str, ref: Reference) -> Decimal:
    """The composite rate for an HS code, from the longest matching tax-rate prefix."""
    for rate in ref.rates_longest_first:
        if hs_code.startswith(rate.prefix):
            return composite_rate(rate.vat, rate.consumption_tax)
    raise LookupError(f"no tax rate covers HS {hs_code}")


def _plain(value: Decimal) -> Decimal:
    """Without trailing zeros and never in exponent form: 0.0910 → 0.091, 0.0000 → 0."""
    text = format(value.normalize(), "f")
    return Decimal(text)


FEN = Decimal("0.01")
ORDER_LIMIT = Decimal("5000")  # CNY per cross-border retail order


def is_price(value: Decimal) -> bool:
    """A price or amount in CNY: finite, > 0 and < 10⁸, to the fen at most."""
    return value.is_finite() and 0 < value < limits.MAX_PRICE and value.as_tuple().exponent >= -2  # type: ignore[operator]


def line_value(unit_price: Decimal, quantity: int) -> Decimal:
    return (unit_price * quantity).quantize(FEN, rounding=ROUND_HALF_UP)


def line_tax(unit_price: Decimal, quantity: int, rate: Decimal) -> Decimal:
    """The tax of an order line, rounded half-up to the fen."""
    return (unit_price * quantity * rate).quantize(FEN, rounding=ROUND_HALF_UP)
