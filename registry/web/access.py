"""What a workbench session may see and do: exactly what its role may call in the API.

Each grant names the API route whose declaration (registry.api.policy.declare) it follows, so the pages read the
same declarations the API's auth middleware enforces and cannot drift from them; filing actions follow the
lifecycle's own table (registry.domain.lifecycle.may), as the API's filing action does.
"""

from __future__ import annotations

from typing import Literal

from litestar.handlers import BaseRouteHandler

from registry.api import alerts, filings, products
from registry.api.policy import policy_of

Grant = Literal["catalogue", "history", "statistics", "expiring", "alerts", "acknowledge", "correct"]

FOLLOWS: dict[Grant, BaseRouteHandler] = {
    "catalogue": products.list_products,  # the queue, the search and a record's page
    "history": filings.product_history,  # a record's history on its page
    "statistics": filings.filing_stats,  # the dashboard's chart and rules
    "expiring": alerts.expiring_report,  # the dashboard's expiring list
    "alerts": alerts.list_alerts,  # the alerts page and the dashboard's count
    "acknowledge": alerts.acknowledge_alert,
    "correct": products.change_product,  # the correction form
}


def may(role: str, grant: Grant) -> bool:
    return role in policy_of(FOLLOWS[grant]).roles


def grants(role: str) -> dict[Grant, bool]:
    """Every grant, and whether `role` has it: what the pages show and offer."""
    return {grant: may(role, grant) for grant in FOLLOWS}
