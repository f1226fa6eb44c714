"""The lifecycle table as pure functions."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from registry.domain import lifecycle
from registry.domain.lifecycle import Action, ActionIn
from registry.domain.records import Status

TODAY = dt.date(2026, 11, 22)


def test_the_table_of_the_contract() -> None:
    table = {
        (Status.UNFILED, Action.SUBMIT): Status.UNDER_REVIEW,
        (Status.EXPIRED, Action.SUBMIT): Status.UNDER_REVIEW,
        (Status.UNDER_REVIEW, Action.APPROVE): Status.FILED,
        (Status.UNDER_REVIEW, Action.REJECT): Status.UNFILED,
        (Status.FILED, Action.AMEND): Status.UNFILED,
        (Status.EXPIRED, Action.AMEND): Status.UNFILED,
        (Status.FILED, Action.EXPIRE): Status.EXPIRED,
    }
    for status in Status:
        for action in Action:
            assert lifecycle.next_status(status, action) == table.get((status, action)), (status, action)


@given(st.sampled_from(list(Status)))
def test_allowed_actions_are_exactly_those_that_lead_somewhere(status: Status) -> None:
    allowed = lifecycle.allowed_actions(status)
    assert allowed == [a for a in Action if lifecycle.next_status(status, a) is not None]


def test_who_may_act() -> None:
    assert lifecycle.may("catalog", Action.SUBMIT)
    assert lifecycle.may("catalog", Action.AMEND)
    assert not lifecycle.may("catalog", Action.APPROVE)
    assert lifecycle.may("reviewer", Action.APPROVE)
    assert lifecycle.may("reviewer", Action.EXPIRE)
    assert not lifecycle.may("reviewer", Action.SUBMIT)
    assert all(lifecycle.may("admin", a) for a in Action)
    assert not any(lifecycle.may(role, a) for role in ("declaration", "auditor") for a in Action)


@given(
    status=st.sampled_from(list(Status)),
    valid_until=st.one_of(st.none(), st.dates()),
    today=st.dates(),
)
def test_declarable_only_while_filed_and_in_date(status: Status, valid_until: dt.date | None, today: dt.date) -> None:
    expected = status is Status.FILED and valid_until is not None and today <= valid_until
    assert lifecycle.declarable(status, valid_until, today) is expected


def test_bodies() -> None:
    tomorrow = TODAY + dt.timedelta(days=1)
    assert lifecycle.check_body(Action.APPROVE, ActionIn(filing_no="2025110201", valid_until=tomorrow), TODAY) == []
    assert lifecycle.check_body(Action.SUBMIT, ActionIn(), TODAY) == []
    assert lifecycle.check_body(Action.EXPIRE, ActionIn(), TODAY, manual=False) == []
    codes = {v.code for v in lifecycle.check_body(Action.APPROVE, ActionIn(filing_no="x", valid_until=TODAY), TODAY)}
    assert codes == {"format.filing_no", "filing.valid_until_past"}
    assert [
        v.code for v in lifecycle.check_body(Action.REJECT, lifecycle.normalize(ActionIn(reasons=[" "])), TODAY)
    ] == ["required"]
