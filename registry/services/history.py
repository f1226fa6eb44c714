"""Appending history events; called inside the transaction of the change it records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from registry.models import HistoryEvent


def append(
    tx: AsyncSession,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    changes: dict[str, Any],
    sku: str | None = None,
    reference_name: str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str | None = None,
) -> HistoryEvent:
    event = HistoryEvent(
        at=at,
        actor=actor,
        action=action,
        sku=sku,
        reference_name=reference_name,
        from_status=from_status,
        to_status=to_status,
        changes=changes,
        reason=reason,
    )
    tx.add(event)
    return event
