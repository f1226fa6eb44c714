"""A list in a CSV cell reads back as it was written, whatever its items hold."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from registry.domain.rows import join_items, split_items


@given(st.lists(st.text(min_size=1), min_size=1))
def test_a_list_cell_reads_back_item_for_item(items: list[str]) -> None:
    assert split_items(join_items(items)) == items


def test_separators_and_backslashes_within_an_item_are_written_escaped() -> None:
    assert join_items(["a|b", "c\\d", "e"]) == "a\\|b|c\\\\d|e"
    assert split_items("a\\|b|c\\\\d|e") == ["a|b", "c\\d", "e"]
    assert split_items("C:\\path|x") == ["C:\\path", "x"]  # a backslash before another character stays
    assert split_items("end\\") == ["end\\"]
