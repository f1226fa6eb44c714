"""The history chain as pure functions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from registry.domain import history


def chain(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    previous = history.GENESIS
    for n, change in enumerate(changes, start=1):
        event: dict[str, Any] = {
            "seq": n,
            "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=n),
            "actor": "key:abc:tester",
            "action": "update",
            "sku": "A",
            "reference_name": None,
            "version": n,
            "from_status": "unfiled",
            "to_status": "unfiled",
            "changes": change,
            "reason": None,
            "prev_hash": previous,
        }
        event["hash"] = history.digest(previous, event)
        previous = event["hash"]
        events.append(event)
    return events


def verdict(events: list[dict[str, Any]]) -> int | None:
    check = history.ChainCheck()
    for event in events:
        check.step(event)
    return check.end(len(events), events[-1]["hash"] if events else history.GENESIS)


changes = st.lists(
    st.dictionaries(
        st.sampled_from(["spec", "brand", "usage"]),
        st.fixed_dictionaries({"old": st.one_of(st.none(), st.text()), "new": st.text()}),
        min_size=1,
    ),
    min_size=1,
    max_size=20,
)


@given(changes)
def test_an_intact_chain_verifies(values: list[dict[str, Any]]) -> None:
    assert verdict(chain(values)) is None


@given(changes, st.data())
def test_any_edited_event_is_the_first_bad_one(values: list[dict[str, Any]], data: st.DataObject) -> None:
    events = chain(values)
    n = data.draw(st.integers(min_value=0, max_value=len(events) - 1))
    events[n] = {**events[n], "actor": events[n]["actor"] + "!"}
    assert verdict(events) == n + 1


def test_the_digest_does_not_depend_on_key_order_or_time_zone() -> None:
    (event,) = chain([{"spec": {"old": "1g", "new": "2g"}}])
    shuffled = dict(reversed(list(event.items())))
    shuffled["at"] = event["at"].astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert history.digest(history.GENESIS, shuffled) == event["hash"]
