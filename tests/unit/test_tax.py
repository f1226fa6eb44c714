"""The composite cross-border rate, in Decimal."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from registry.domain.reference import Reference, default_sets
from registry.domain.tax import composite_rate, rate_for


def test_contract_examples() -> None:
    assert composite_rate(Decimal("0.13"), Decimal("0")) == Decimal("0.091")
    assert str(composite_rate(Decimal("0.13"), Decimal("0"))) == "0.091"
    assert composite_rate(Decimal("0.13"), Decimal("0.15")) == Decimal("0.2306")


def test_rate_by_longest_hs_prefix_from_the_default_reference() -> None:
    ref = Reference.from_sets(default_sets())
    assert rate_for("3304990099", ref) == Decimal("0.091")  # skin care: 13 % VAT, no consumption tax
    assert rate_for("2204210000", ref) == Decimal("0.1789")  # wine: 13 % VAT, 10 % consumption tax
    assert rate_for("0409000000", ref) == Decimal("0.063")  # honey: 9 % VAT


rates = st.decimals(min_value=Decimal("0"), max_value=Decimal("0.5"), places=2)


@given(vat=rates, ct=rates)
def test_composite_rate_is_exact_to_four_places(vat: Decimal, ct: Decimal) -> None:
    rate = composite_rate(vat, ct)
    assert isinstance(rate, Decimal)
    assert rate.as_tuple().exponent >= -4  # type: ignore[operator]
    exact = Decimal("0.7") * (vat + ct) / (1 - ct)
    assert abs(rate - exact) <= Decimal("0.00005")


@given(vat=rates, ct=rates, more=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.3"), places=2))
def test_more_consumption_tax_never_lowers_the_rate(vat: Decimal, ct: Decimal, more: Decimal) -> None:
    assert composite_rate(vat, ct + more) >= composite_rate(vat, ct)
