"""How long each stored text may be and how large each number: the one source that the rules check against
and that the columns are sized from (tests/unit/test_limits.py walks the models against it)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

SKU = 64
TEXT = 200  # brand, spec, a document's kind, number and issuer, and every other short text
NAME = 500  # name_cn, name_foreign
USAGE = 10_000
_LONG_TEXTS = {"usage": USAGE, "name_cn": NAME, "name_foreign": NAME}
LIST_ITEM = 2000  # an ingredient, an image URL
INGREDIENTS = 1000  # items a record's lists may hold
IMAGES = 100
DOCUMENTS = 100
UNIT = 16  # a declared unit's name (瓶, 千克…)
REASON = 2000  # a rejection reason, an amend or expire reason
REFERENCE_TEXT = 2000  # a text of a reference set: a reason, a remark, a source
REASONS = 50  # rejection reasons per action
KEY_ID = 12
KEY_NAME = 200
# `str.casefold` turns one character into at most three (U+0390 folds to three code points), so a key
# derived from a text by case folding is up to three times that text's length.
CASEFOLD_GROWTH = 3
BRAND_KEY = CASEFOLD_GROWTH * TEXT
# The actor history and alerts record: `key:<key_id>:<name>` (the CLI acts as `key:cli:<user>`), `system:expiry`.
ACTOR = len("key:") + KEY_ID + 1 + KEY_NAME
# The editions a hold was checked against: `NAME@VERSION, …` for every reference set.
HOLD_REFERENCE = 400
CODE = 64  # a rule code (`family.name`), as the daily counts key refusals by it

SHELF_LIFE_MONTHS = 1200
MAX_PRICE = Decimal("100000000")  # a price or amount in CNY is below 10⁸, with at most two places
MAX_QUANTITY = 1_000_000  # pieces on one order line
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(9999, 12, 31)
MAX_INT32 = 2**31 - 1  # integer ids and cursors: past this no row exists, and PostgreSQL could not take it

VIOLATIONS = 100  # violations reported per record, then `truncated: true`
ERROR_ROWS = 1000  # rejected rows reported per import, then `truncated: true`
MONTHLY_UNITS = 1_000_000_000  # a record's estimated units sold a month
BATCH = 1000  # SKUs in one batch look-up or one batch submission


def text_limit(field: str) -> int:
    """How many characters a text field of a record or of its documents may hold: TEXT unless it is a long one."""
    return _LONG_TEXTS.get(field, TEXT)
