"""What a reviewer needs beside a record's fields to decide on it: the positive-list line of its HS code, the tax
terms it would be filed with, the documents its category requires and when the first of its documents lapses; and,
for a record rejected and submitted again, what changed since the rejection. Pure functions of the record, the
reference in force and its history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from registry.domain.records import FIELDS, ProductIn, is_digits
from registry.domain.reference import Reference, TariffLine
from registry.domain.spec import net_content
from registry.domain.tax import Terms, terms_for


class CustomsContext(msgspec.Struct):
    tariff_line: TariffLine | None  # the positive list's line of the HS code in force today (none: not on it)
    terms: Terms | None  # the tax terms a filing of it would carry today
    required_documents: list[str]  # the document kinds its category requires
    documents_lapse: dt.date | None  # the day the first of its documents lapses


def customs_context(record: ProductIn, ref: Reference, today: dt.date) -> CustomsContext:
    hs = record.hs_code if record.hs_code and is_digits(record.hs_code, 10) else None
    lapses = [doc.valid_until for doc in record.documents if doc.valid_until is not None]
    return CustomsContext(
        tariff_line=ref.positive_line(hs[:8], today) if hs else None,
        terms=terms_for(hs, net_content(record.spec), ref) if hs and record.spec else None,
        required_documents=list(ref.required_documents.get(record.category or "", [])),
        documents_lapse=min(lapses, default=None),
    )


class SinceRejection(msgspec.Struct):
    """A record rejected and changed since: the reasons, each field's change (first old, last new), and the fields
    a reason names that did not change."""

    at: dt.datetime
    reasons: list[str]
    changes: dict[str, dict[str, Any]]
    unchanged: list[str]


# The history actions that change a record's fields.
_EDITS = frozenset({"update", "import"})


def since_rejection(events: list[Any]) -> SinceRejection | None:
    """From a record's history (oldest first: each with `action`, `at`, `changes`, `reason`), what changed since
    its last rejection; None when it was never rejected."""
    last = max((i for i, event in enumerate(events) if event.action == "reject"), default=None)
    if last is None:
        return None
    rejection = events[last]
    changes: dict[str, dict[str, Any]] = {}
    for event in events[last + 1 :]:
        if event.action not in _EDITS:
            continue
        for name, change in event.changes.items():
            first = changes.get(name, change)
            changes[name] = {"old": first["old"], "new": change["new"]}
    changes = {name: change for name, change in changes.items() if change["old"] != change["new"]}
    reasons = [reason.strip() for reason in (rejection.reason or "").split(";") if reason.strip()]
    named = [name for name in FIELDS if _names(" ".join(reasons), name)]
    return SinceRejection(rejection.at, reasons, changes, [name for name in named if name not in changes])


def _names(text: str, field: str) -> bool:
    """Whether a reason names a field: by its name, its Chinese label or its English one."""
    spec = FIELDS[field]
    folded = text.casefold()
    words = (field, spec.label, spec.label.split("（")[0], spec.label_en, spec.label_en.split(" (")[0])
    return any(word.casefold() in folded for word in words if word)
