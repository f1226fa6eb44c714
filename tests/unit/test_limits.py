"""Every text the service stores fits its column by construction: the longest value the rules let through, or that
the service derives (an actor, an alert subject, a brand key), is built here and measured against the models."""

from __future__ import annotations

import datetime as dt
import functools
import re
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import String

from registry.db import Base
from registry.domain import customs, limits, rules, violations
from registry.domain.alerts import AlertKind, AlertStatus, document_alerts, filing_alerts, review_alerts
from registry.domain.lifecycle import REVIEW, SYSTEM_EXPIRY, Action
from registry.domain.records import (
    FIELDS,
    NET_UNITS,
    TEXTS,
    Category,
    Document,
    DocumentKind,
    ImportMode,
    Kind,
    ProductIn,
    Status,
    brand_key,
)
from registry.domain.reference import SET_NAMES
from registry.domain.stats import APPROVED, PASSED, REFUSED, SUBMITTED
from registry.services.context import Principal
from registry.services.holds import HOLD, RELEASE, REPRICE
from registry.services.keys import KEY_CREATE, KEY_REVOKE, ROLES, SYSTEM
from registry.services.sessions import LANGS

ROOT = Path(__file__).resolve().parents[2]
# Every rule code the service has (docs/rules.md lists each, as tests/unit/test_docs.py holds).
DOCUMENTED_CODES = re.findall(r"^\| `([a-z0-9_.]+)` \|", (ROOT / "docs" / "rules.md").read_text(), re.M)
LONGEST_KIND = max(DocumentKind, key=len).value
TODAY = dt.date(2026, 11, 22)
# Of the characters a stored (NFKC) brand can hold, the one whose brand key is longest: a brand of it is the
# longest brand key.
WIDEST_FOLD = max(
    (chr(c) for c in range(sys.maxunicode + 1) if unicodedata.normalize("NFKC", chr(c)) == chr(c)),
    key=lambda ch: len(brand_key(ch)),
)


def _longest_actor() -> int:
    key = Principal(key_id="k" * limits.KEY_ID, name="n" * limits.KEY_NAME, role="admin").actor
    return max(len(key), len(SYSTEM_EXPIRY))


def _longest_subject() -> int:
    document = Document(kind=LONGEST_KIND, number="N" * limits.TEXT, valid_from=TODAY, valid_until=TODAY)
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    due = (
        document_alerts("S" * limits.SKU, [document], TODAY, (30,))
        + filing_alerts("S" * limits.SKU, "9" * 10, TODAY, TODAY, (30,))
        + review_alerts("S" * limits.SKU, "9" * 10, moment, moment, dt.timedelta(0), dt.UTC)
    )
    return max(len(d.subject) for d in due)


def _longest(values: object) -> int:
    return max(len(str(value)) for value in values)  # type: ignore[attr-defined]


# table.column → the longest value the service can store there. A String column missing here fails the test.
LONGEST: dict[str, Callable[[], int]] = {
    "product.sku": lambda: limits.SKU,
    "product.brand": lambda: limits.text_limit("brand"),
    "product.brand_key": lambda: len(brand_key(WIDEST_FOLD * limits.text_limit("brand"))),
    "product.name_cn": lambda: limits.text_limit("name_cn"),
    "product.name_foreign": lambda: limits.text_limit("name_foreign"),
    "product.spec": lambda: limits.text_limit("spec"),
    "product.category": lambda: _longest(Category),
    "product.hs_code": lambda: 10,
    "product.ciq_code": lambda: 3,
    "product.origin_country": lambda: 2,
    "product.status": lambda: _longest(Status),
    "product.filing_no": lambda: 10,
    "product.tax_rate": lambda: len("0.9999"),  # a composite rate is at most 1, to 4 places
    "product.tax_rate_above": lambda: len("0.9999"),
    "product.vat": lambda: len("0.9999"),  # a rate is a fraction below 1, to 4 places
    "product.consumption_tax": lambda: len("0.9999"),
    "product.threshold_per": lambda: _longest(NET_UNITS),
    "product.threshold_price": lambda: len("99999999.99"),  # a price < 10⁸ to the fen
    "product.import_mode": lambda: _longest(ImportMode),
    "product.item_record_no": lambda: 30,
    "product.gtin": lambda: max(customs.GTIN_LENGTHS),
    "product.declared_unit": lambda: _longest(customs.units()),
    # a hold names the editions that took effect: at most one of each set, `NAME@VERSION`
    "product.hold_reference": lambda: len(", ".join(f"{name}@{limits.MAX_INT32}" for name in SET_NAMES)),
    "history_event.actor": _longest_actor,
    "history_event.action": lambda: _longest(
        [
            *Action,
            "create",
            "update",
            "import",
            "reference_update",
            REVIEW,
            HOLD,
            RELEASE,
            REPRICE,
            KEY_CREATE,
            KEY_REVOKE,
        ]
    ),
    "history_event.sku": lambda: limits.SKU,
    "history_event.reference_name": lambda: _longest(SET_NAMES),
    "history_event.from_status": lambda: _longest(Status),
    "history_event.to_status": lambda: _longest(Status),
    "history_event.prev_hash": lambda: 64,
    "history_event.hash": lambda: 64,
    "history_snapshot.sku": lambda: limits.SKU,
    "history_head.last_hash": lambda: 64,
    "filing_number.filing_no": lambda: 10,
    "filing_number.sku": lambda: limits.SKU,
    "filing_number.superseded_by": lambda: 10,
    "alert.kind": lambda: _longest(AlertKind),
    "alert.sku": lambda: limits.SKU,
    "alert.subject": _longest_subject,
    "alert.status": lambda: _longest(AlertStatus),
    "alert.acknowledged_by": _longest_actor,
    "daily_count.measure": lambda: _longest([SUBMITTED, PASSED, REFUSED, APPROVED]),
    # a rule code, or a day
    "daily_count.key": lambda: max(_longest(DOCUMENTED_CODES), len("9999-12-31")),
    "api_key.key_id": lambda: limits.KEY_ID,
    "api_key.key_hash": lambda: 64,
    "api_key.name": lambda: limits.KEY_NAME,
    "api_key.role": lambda: _longest(ROLES),
    "api_key.created_by": lambda: max(limits.KEY_ID, len(SYSTEM)),
    "api_key.revoked_by": lambda: max(limits.KEY_ID, len(SYSTEM)),
    "submission.sku": lambda: limits.SKU,
    "submission.decision": lambda: _longest([Action.APPROVE, Action.REJECT]),
    "reference_set.name": lambda: _longest(SET_NAMES),
    "reference_set.updated_by": _longest_actor,
    "reference_edition.name": lambda: _longest(SET_NAMES),
    "reference_edition.actor": _longest_actor,
    "reference_edition.sha256": lambda: 64,
    "ui_session.token_hash": lambda: 64,  # a SHA-256 in hex
    "ui_session.key_id": lambda: limits.KEY_ID,
    "ui_session.lang": lambda: _longest(LANGS),
    "ui_secret.value": lambda: 64,  # 32 random bytes in hex
}


def _string_columns() -> list[tuple[str, int]]:
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String) and column.type.length is not None:
                found.append((f"{table.name}.{column.name}", column.type.length))
            elif hasattr(column.type, "impl") and isinstance(column.type.impl, String) and column.type.impl.length:
                found.append((f"{table.name}.{column.name}", column.type.impl.length))
    return found


# A text field of the record is as long as its limit (a field whose values have a form of their own, such as a
# code or a name from a list, says so above).
LONGEST.update(
    {
        f"product.{name}": functools.partial(limits.text_limit, name)
        for name, spec in FIELDS.items()
        if spec.kind is Kind.TEXT and f"product.{name}" not in LONGEST
    }
)


@pytest.mark.parametrize(("column", "length"), _string_columns())
def test_the_longest_stored_value_fits_its_column(column: str, length: int) -> None:
    assert column in LONGEST, f"{column} is a sized text column: say here how long its longest value can be"
    assert LONGEST[column]() <= length, column


def test_the_rules_refuse_what_would_not_fit() -> None:
    for name in TEXTS:
        over = "a" * (limits.text_limit(name) + 1)
        record = msgspec.convert({"sku": "A", name: over}, ProductIn)
        assert any(v.field == f"/{name}" for v in rules.check_fields(record)), name


def test_the_unseen_character_class_covers_every_format_and_control_character() -> None:
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) in ("Cc", "Cf", "Cs"):
            assert violations.text_problems(f"a{char}b", 10, "x"), hex(code)
    assert violations.text_problems("SK-II 精华 é", 20, "x") == []
