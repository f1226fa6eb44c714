"""Which alerts a record is due, and how long to wait before retrying a delivery: pure functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from enum import StrEnum

import msgspec

from registry.domain import limits
from registry.domain.records import Document, DocumentKind

# An alert's subject names what lapses: `filing 2025110201`, or a document's kind and number.
SUBJECT = max(len(kind) for kind in DocumentKind) + 1 + limits.TEXT


class AlertKind(StrEnum):
    FILING_EXPIRING = "filing_expiring"
    FILING_EXPIRED = "filing_expired"
    DOCUMENT_EXPIRING = "document_expiring"
    DOCUMENT_EXPIRED = "document_expired"
    REVIEW_DUE = "review_due"
    REFERENCE_CHANGE = "reference_change"  # a filed record held when a reference edition took effect


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


class Due(msgspec.Struct, frozen=True):
    """An alert a record is due; (kind, sku, subject, expires_on, threshold_days) identifies it."""

    kind: AlertKind
    sku: str
    subject: str
    expires_on: dt.date
    threshold_days: int
    message: str


def _due(
    sku: str,
    subject: str,
    what: str,
    expires_on: dt.date,
    today: dt.date,
    thresholds: Sequence[int],
    kinds: tuple[AlertKind, AlertKind],
) -> list[Due]:
    expiring, expired = kinds
    days_left = (expires_on - today).days
    if days_left < 0:
        return [Due(expired, sku, subject, expires_on, 0, f"{what} of {sku} expired on {expires_on.isoformat()}")]
    # The nearest threshold only: a record first seen inside 30 and 7 days gets one alert, for 7; once past 7,
    # the 30-day alert is never raised late.
    within = [threshold for threshold in thresholds if days_left <= threshold]
    if not within:
        return []
    threshold = min(within)
    message = f"{what} of {sku} expires on {expires_on.isoformat()}, within {threshold} days ({days_left} left)"
    return [Due(expiring, sku, subject, expires_on, threshold, message)]


def filing_alerts(
    sku: str, filing_no: str | None, valid_until: dt.date, today: dt.date, thresholds: Sequence[int]
) -> list[Due]:
    """An alert for the nearest threshold the filing is within, or one that it has expired."""
    kinds = (AlertKind.FILING_EXPIRING, AlertKind.FILING_EXPIRED)
    return _due(sku, f"filing {filing_no}", f"filing {filing_no}", valid_until, today, thresholds, kinds)


def document_alerts(sku: str, documents: Iterable[Document], today: dt.date, thresholds: Sequence[int]) -> list[Due]:
    """The same for each document of the record."""
    kinds = (AlertKind.DOCUMENT_EXPIRING, AlertKind.DOCUMENT_EXPIRED)
    due: list[Due] = []
    for doc in documents:
        if doc.valid_until is not None:
            subject = f"{doc.kind} {doc.number}"
            due += _due(sku, subject, subject, doc.valid_until, today, thresholds, kinds)
    return due


def review_alerts(
    sku: str, filing_no: str | None, reviewed_at: dt.datetime, now: dt.datetime, every: dt.timedelta, zone: dt.tzinfo
) -> list[Due]:
    """A review_due alert once `every` has passed since the filing was approved or last reviewed; the day it
    fell due (in the customs time zone) names the period, so each period raises one alert."""
    due_at = reviewed_at + every
    if now < due_at:
        return []
    due_on = due_at.astimezone(zone).date()
    last = reviewed_at.astimezone(zone).date().isoformat()
    message = (
        f"filing {filing_no} of {sku} was approved or last reviewed on {last}; "
        f"its periodic review ({every.days} days) fell due on {due_on.isoformat()}"
    )
    return [Due(AlertKind.REVIEW_DUE, sku, f"review of filing {filing_no}", due_on, every.days, message)]


def backoff_seconds(attempts: int, jitter: float, base: float = 5.0, cap: float = 3600.0) -> float:
    """Exponential back-off with jitter: base·2^(attempts−1), at most `cap`, scaled into [½, 1] by `jitter` ∈ [0, 1]."""
    ceiling = min(cap, base * 2.0 ** max(attempts - 1, 0))
    return float(ceiling * (0.5 + jitter / 2))
