"""Alerts and the expiring report over HTTP."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Tag
from litestar.params import FromQuery, PathParameter, QueryParameter
from litestar.types import ControllerRouterHandler

from registry.api.auth import Actor, Ctx
from registry.api.policy import CSV_TYPE, Cursor, Format, declare, wants_csv
from registry.domain import limits
from registry.domain.alerts import AlertKind, AlertStatus
from registry.domain.roles import READERS, Role
from registry.services import alerts, reports
from registry.services.alerts import AlertOut, AlertPage
from registry.services.reports import ExpiringReport

WithinDays = Annotated[int, QueryParameter(ge=0, le=3660, schema_extra={"minimum": 0})]


@get("/v1/alerts", **declare(*READERS))
async def list_alerts(
    ctx: Ctx,
    status: FromQuery[AlertStatus | None] = None,
    kind: FromQuery[AlertKind | None] = None,
    sku: Annotated[str | None, QueryParameter(max_length=limits.SKU)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    cursor: Cursor = None,
) -> AlertPage:
    """Alerts, oldest first; follow `next_cursor` for the next page."""
    return await alerts.search(ctx, status, kind, sku, limit, cursor)


# An alert's id in a path: past int32 no row exists, and PostgreSQL could not take it (a 400, not a 500).
AlertId = Annotated[int, PathParameter(ge=1, le=limits.MAX_INT32)]


@post(
    "/v1/alerts/{alert_id:int}/ack",
    status_code=200,
    **declare(Role.REVIEWER, problems=(404,)),
)
async def acknowledge_alert(alert_id: AlertId, ctx: Ctx, actor: Actor) -> AlertOut:
    """Acknowledge an alert; who and when are recorded, and a second acknowledgement changes nothing."""
    return await alerts.acknowledge(ctx, alert_id, actor)


@get(
    "/v1/reports/expiring",
    **declare(
        *READERS,
        also=("text/csv",),
        ok=ResponseSpec(ExpiringReport, description="The report; CSV with format=csv", generate_examples=False),
    ),
)
async def expiring_report(
    request: Request[Any, Any, Any],
    ctx: Ctx,
    within_days: WithinDays = 30,
    report_format: Annotated[Format | None, QueryParameter(name="format")] = None,
) -> ExpiringReport | Response[str]:
    """Records whose filing or documents lapse within `within_days`; CSV with `format=csv` or `Accept: text/csv`
    (as `GET /v1/reports/expiring.csv` answers it: the operation a generated client calls for it)."""
    report = await reports.expiring(ctx, within_days)
    if wants_csv(request, report_format):
        return _csv(report)
    return report


@get(
    "/v1/reports/expiring.csv",
    **declare(
        *READERS,
        ok=ResponseSpec(
            str, media_type="text/csv", description="The report, a row per record", generate_examples=False
        ),
    ),
)
async def expiring_report_csv(ctx: Ctx, within_days: WithinDays = 30) -> Response[str]:
    """Records whose filing or documents lapse within `within_days`, as CSV."""
    return _csv(await reports.expiring(ctx, within_days))


def _csv(report: ExpiringReport) -> Response[str]:
    disposition = f'attachment; filename="expiring-{report.as_of.isoformat()}.csv"'
    return Response(reports.to_csv(report), headers={"Content-Type": CSV_TYPE, "Content-Disposition": disposition})


# The document's tag of this module's operations.
TAG = Tag(
    name="Alerts and reports",
    description="Expiry and review alerts, and the expiring report.",
)

ROUTES: list[ControllerRouterHandler] = [list_alerts, acknowledge_alert, expiring_report, expiring_report_csv]
