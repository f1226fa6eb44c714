"""The composite cross-border rate, in Decimal."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from registry.domain.records import NetContent
from registry.domain.reference import Reference, Threshold, default_sets
from registry.domain.spec import net_content
from registry.domain.tax import composite_rate, terms_for


def test_contract_examples() -> None:
    assert composite_rate(Decimal("0.13"), Decimal("0")) == Decimal("0.091")
    assert str(composite_rate(Decimal("0.13"), Decimal("0"))) == "0.091"
    assert composite_rate(Decimal("0.13"), Decimal("0.15")) == Decimal("0.2306")


def test_terms_by_longest_hs_prefix_from_the_default_reference() -> None:
    ref = Reference.from_sets(default_sets())
    ml = NetContent(Decimal(230), "ml")
    wine = terms_for("2204210000", ml, ref)  # 13 % VAT, 10 % consumption tax
    assert (wine.rate, wine.rate_above, wine.threshold) == (Decimal("0.1789"), None, None)
    assert terms_for("0409000000", None, ref).rate == Decimal("0.063")  # honey: 9 % VAT
    assert terms_for("8509400000", None, ref).rate == Decimal("0.091")  # the default: 13 % VAT


def test_skin_care_has_two_rates_and_the_threshold_of_its_net_content() -> None:
    """High-end cosmetics: 15 % consumption tax from 10 CNY per ml or g, or 15 CNY per piece (财税〔2016〕103号)."""
    ref = Reference.from_sets(default_sets())
    essence = terms_for("3304990099", net_content("230 ml"), ref)
    assert (essence.rate, essence.rate_above) == (Decimal("0.091"), Decimal("0.2306"))
    assert essence.threshold == Threshold("ml", Decimal(10))
    assert terms_for("3304990099", net_content("120g"), ref).threshold == Threshold("g", Decimal(10))
    assert terms_for("3304990099", net_content("5片"), ref).threshold == Threshold("piece", Decimal(15))
    perfume = terms_for("3303000000", net_content("50ml"), ref)
    assert (perfume.rate, perfume.rate_above) == (Decimal("0.091"), Decimal("0.2306"))
    # With no net content in a threshold's unit the price cannot be measured: the consumption tax always applies.
    capsules = terms_for("3304990099", net_content("30粒"), ref)
    assert (capsules.rate, capsules.rate_above, capsules.threshold) == (Decimal("0.2306"), None, None)


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
