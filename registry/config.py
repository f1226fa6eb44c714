"""Settings, read once from REGISTRY_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

AccessLog = Literal["errors", "all", "off"]
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./registry.db"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = DEFAULT_DATABASE_URL
    alert_thresholds: tuple[int, ...] = (30, 7, 1)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    scheduler: bool = True
    alert_schedule: str = "15m"
    delivery_interval_seconds: float = 10.0
    report_dir: str | None = None
    max_body_bytes: int = 50 * 1024 * 1024
    max_import_rows: int = 100_000
    import_checkers: Annotated[int, msgspec.Meta(ge=0, le=64)] = 2  # idle checker processes kept
    key_cache_seconds: float = 60.0
    pool_size: int = 10
    pool_timeout_seconds: float = 10.0
    connect_timeout_seconds: float = 5.0
    statement_timeout_seconds: float = 60.0
    timezone: str = "Asia/Shanghai"
    lookup_staleness_ms: int = 1000
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    failed_auth_limit: int = 20  # failed authentications a minute from one address before 429
    access_log: AccessLog = "errors"  # errors: 5xx and slow requests; all; off
    # A filing is reviewed again this many days after its approval or last review (0: never).
    review_interval_days: Annotated[int, msgspec.Meta(ge=0, le=3660)] = 90

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(f"REGISTRY_{name}")
            return value if value not in (None, "") else None

        raw: dict[str, object] = {}
        if url := get("DATABASE_URL"):
            raw["database_url"] = url
        if thresholds := get("ALERT_THRESHOLDS"):
            raw["alert_thresholds"] = tuple(sorted({int(t) for t in thresholds.split(",")}, reverse=True))
        if zone := get("TIMEZONE"):
            raw["timezone"] = zone
        for name, field in (
            ("WEBHOOK_URL", "webhook_url"),
            ("WEBHOOK_SECRET", "webhook_secret"),
            ("ALERT_SCHEDULE", "alert_schedule"),
            ("REPORT_DIR", "report_dir"),
            ("ACCESS_LOG", "access_log"),
        ):
            if value := get(name):
                raw[field] = value
        if scheduler := get("SCHEDULER"):
            raw["scheduler"] = scheduler.lower() not in ("off", "0", "false", "no")
        for name, field in (
            ("MAX_BODY_BYTES", "max_body_bytes"),
            ("MAX_IMPORT_ROWS", "max_import_rows"),
            ("IMPORT_CHECKERS", "import_checkers"),
            ("POOL_SIZE", "pool_size"),
            ("LOOKUP_STALENESS_MS", "lookup_staleness_ms"),
            ("FAILED_AUTH_LIMIT", "failed_auth_limit"),
            ("REVIEW_INTERVAL_DAYS", "review_interval_days"),
        ):
            if value := get(name):
                raw[field] = int(value)
        for name, field in (
            ("DELIVERY_INTERVAL_SECONDS", "delivery_interval_seconds"),
            ("KEY_CACHE_SECONDS", "key_cache_seconds"),
            ("POOL_TIMEOUT_SECONDS", "pool_timeout_seconds"),
            ("CONNECT_TIMEOUT_SECONDS", "connect_timeout_seconds"),
            ("STATEMENT_TIMEOUT_SECONDS", "statement_timeout_seconds"),
            ("HEADER_TIMEOUT_SECONDS", "header_timeout_seconds"),
            ("BODY_TIMEOUT_SECONDS", "body_timeout_seconds"),
        ):
            if value := get(name):
                raw[field] = float(value)
        return msgspec.convert(raw, cls)
