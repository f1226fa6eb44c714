"""The reviewer's inbox: the review queue filtered (category, brand, import mode, a rule its live validation
reports, waiting longer than some days, on hold) and sorted, its filters kept in the URL, so that a decision can
open the next record of the same queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlencode

import msgspec

from registry.domain.errors import BadRequest
from registry.domain.records import Category, ImportMode, ProductOut, Status
from registry.domain.violations import Violation
from registry.services import products
from registry.services.context import Context

PAGE = 50
SCAN = 12  # pages of the queue (600 records) a rule filter reads at most for one page of the inbox; "next" goes on
SORTS = (products.Sort.SUBMITTED_AT, products.Sort.PRIORITY, products.Sort.VALID_UNTIL)
PARAMS = ("category", "brand", "mode", "rule", "waiting", "held", "sort")


class Inbox(msgspec.Struct, kw_only=True, frozen=True):
    category: Category | None = None
    brand: str | None = None
    mode: ImportMode | None = None
    rule: str | None = None  # a rule code the record's live validation reports
    waiting: int | None = None  # submitted more than this many days ago
    held: bool = False  # filed records on hold, instead of the records under review
    sort: products.Sort = products.Sort.SUBMITTED_AT

    def params(self) -> dict[str, str]:
        """The filters as the URL keeps them (none that is not set)."""
        values = msgspec.to_builtins(self)
        shown = {name: value for name, value in values.items() if value not in (None, False)}
        if shown.get("sort") == products.Sort.SUBMITTED_AT.value:
            del shown["sort"]
        return {name: "true" if value is True else str(value) for name, value in shown.items()}

    def url(self, **more: str) -> str:
        return "/ui/review?" + urlencode({**self.params(), **more})

    def query(self, now: dt.datetime, cursor: str | None = None, limit: int = PAGE) -> products.ProductQuery:
        return products.ProductQuery(
            status=Status.FILED if self.held else Status.UNDER_REVIEW,
            held=True if self.held else None,
            category=self.category,
            brand=self.brand,
            import_mode=self.mode.value if self.mode else None,
            submitted_before=now - dt.timedelta(days=self.waiting) if self.waiting is not None else None,
            sort=self.sort,
            limit=limit,
            cursor=cursor,
        )


def read(params: Mapping[str, str]) -> Inbox:
    """The inbox a URL's filters name; a value none of them takes is a 400."""
    given = {name: params[name] for name in PARAMS if params.get(name)}
    try:
        inbox = msgspec.convert(given, Inbox, strict=False)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"the inbox's filters: {exc}") from None
    if inbox.sort not in SORTS:
        raise BadRequest(f"the inbox sorts by {', '.join(SORTS)}")
    if inbox.waiting is not None and not 0 <= inbox.waiting <= 3660:
        raise BadRequest("waiting is a number of days from 0 to 3660")
    return inbox


Validate = Callable[[list[ProductOut]], Awaitable[list[list[Violation]]]]


async def page(
    ctx: Context, inbox: Inbox, cursor: str | None, validate: Validate
) -> tuple[list[tuple[ProductOut, list[Violation]]], str | None]:
    """A page of the inbox, each record with its live violations, and the cursor of the next page. With a rule
    filter the queue is read a page at a time until a page's worth matches (or SCAN pages were read)."""
    found: list[tuple[ProductOut, list[Violation]]] = []
    for _ in range(SCAN if inbox.rule else 1):
        batch = await products.search(ctx, inbox.query(ctx.now(), cursor))
        checked = zip(batch.items, await validate(batch.items), strict=True)
        found += [(item, found_) for item, found_ in checked if _matches(inbox, found_)]
        cursor = batch.next_cursor
        if cursor is None or len(found) >= PAGE:
            break
    return found, cursor


def _matches(inbox: Inbox, violations: list[Violation]) -> bool:
    return inbox.rule is None or any(v.code == inbox.rule for v in violations)


async def first(ctx: Context, inbox: Inbox, validate: Validate) -> str | None:
    """The SKU the inbox opens with now (its first record), if any."""
    found, _ = await page(ctx, inbox, None, validate)
    return found[0][0].sku if found else None
