"""The `registry` command."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import msgspec
from rich.console import Console

from registry.config import Settings
from registry.db import Database
from registry.domain import limits as bounds
from registry.services import keys
from registry.services.context import Context, Principal

T = TypeVar("T")


def _context(settings: Settings) -> Context:
    return Context(db=Database(settings), zone=ZoneInfo(settings.timezone))


def _cli_actor() -> Principal:
    """Who the command line acts as in history: the operating-system user, with the admin's rights."""
    import getpass

    return Principal(key_id="cli", name=getpass.getuser()[: bounds.KEY_NAME], role="admin")


async def _create_key(settings: Settings, role: str, name: str, only_if_none: bool = False) -> str | None:
    ctx = _context(settings)
    try:
        if only_if_none and await keys.count(ctx) > 0:
            return None
        return await keys.create(ctx, role, name)
    finally:
        await ctx.db.dispose()


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import socket

    import uvicorn

    with socket.create_server((args.host, args.port)):  # a port in use is one line here, not a server's traceback
        pass

    uvicorn.run(
        "registry.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        **server_options(),
    )
    return 0


def server_options() -> dict[str, Any]:
    """How `registry serve` runs uvicorn (the look-up benchmark's ceiling runs with the same)."""
    from registry.serving import TimedHttpToolsProtocol

    return {
        "loop": "uvloop",
        "http": TimedHttpToolsProtocol,
        "log_level": "info",
        "log_config": log_config(),
        "access_log": False,  # the service's own (REGISTRY_ACCESS_LOG) logs what operators need for less
    }


def log_config() -> dict[str, Any]:
    """uvicorn's logging, and the service's loggers (`registry.*`, the access log among them) at INFO on stderr."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["registry"] = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    config["handlers"]["registry"] = {
        "formatter": "registry",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["registry"] = {"handlers": ["registry"], "level": "INFO", "propagate": False}
    return config


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from registry import schema

    schema.upgrade(settings.database_url)
    print(f"database migrated to {schema.head_revision()}", file=sys.stderr)
    key = asyncio.run(_create_key(settings, "admin", "first admin", only_if_none=True))
    if key is not None:
        print("No API key existed, so here is a first admin key. It is shown once; keep it safe:", file=sys.stderr)
        print(key)
    return 0


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    key = asyncio.run(_create_key(settings, args.role, args.name))
    print(f"created a {args.role} key named {args.name!r}; it is shown once:", file=sys.stderr)
    print(key)
    return 0


def _run(settings: Settings, work: Callable[[Context], Awaitable[T]]) -> T:
    """`work` with a context of its own, the database let go after it."""

    async def run() -> T:
        ctx = _context(settings)
        try:
            return await work(ctx)
        finally:
            await ctx.db.dispose()

    return asyncio.run(run())


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    for key in _run(settings, keys.list_keys):
        revoked = f"revoked {key.revoked_at.isoformat()}" if key.revoked_at else "active"
        print(f"{key.key_id}\t{key.role}\t{revoked}\t{key.created_at.isoformat()}\t{key.name}")
    return 0


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    key = _run(settings, lambda ctx: keys.revoke(ctx, args.key_id))
    print(f"key {key.key_id} ({key.role}, {key.name!r}) is revoked; every instance refuses it within a second")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import a file into the database directly, with a progress bar; exit 1 when any row was rejected."""
    from pathlib import Path

    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from registry.domain.errors import RegistryError
    from registry.services import imports

    path = Path(args.file)
    fmt = imports.Format.CSV if path.suffix.lower() == ".csv" else imports.Format.NDJSON
    limits = imports.Limits(
        max_bytes=settings.max_body_bytes, max_rows=settings.max_import_rows, checkers=settings.import_checkers
    )
    actor = _cli_actor()

    size = path.stat().st_size
    if size > limits.max_bytes:
        print(f"{path} is over the {limits.max_bytes:,} byte limit (REGISTRY_MAX_BODY_BYTES)", file=sys.stderr)
        return 1

    async def run(progress: Progress) -> imports.ImportReport:
        task = progress.add_task(path.name, total=size)
        ctx = _context(settings)
        try:
            with path.open("rb") as source:  # noqa: ASYNC230 (read a batch at a time in a worker thread)
                return await imports.run(
                    ctx,
                    source,
                    fmt,
                    imports.Mode(args.mode),
                    args.dry_run,
                    actor,
                    limits,
                    lambda done: progress.update(task, completed=done),
                )
        finally:
            await ctx.db.dispose()

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        try:
            report = asyncio.run(run(progress))
        except RegistryError as exc:
            body = exc.extra.get("report")
            print(f"{exc.title}: {exc.detail}", file=sys.stderr)
            if body is not None:
                print(msgspec.json.format(msgspec.json.encode(body), indent=2).decode())
            return 1
    print(msgspec.json.format(msgspec.json.encode(report), indent=2).decode())
    return 1 if report.rejected else 0


def cmd_submit(args: argparse.Namespace, settings: Settings) -> int:
    """Submit the SKUs of a file (one a line) for filing, each on its own, with a progress bar; list every refusal,
    end with a summary line; exit 1 when any was refused or unknown."""
    from pathlib import Path

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from registry.services import filings

    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return _fail(f"{args.file} is not UTF-8 text (byte {exc.start}): a file of SKUs, one a line")
    skus = [line.strip() for line in text.splitlines() if line.strip()]
    actor = _cli_actor()

    async def run(progress: Progress) -> filings.SubmitReport:
        task = progress.add_task(Path(args.file).name, total=len(dict.fromkeys(skus)))
        ctx = _context(settings)
        try:
            return await filings.submit_batch(ctx, skus, actor, lambda done: progress.update(task, completed=done))
        finally:
            await ctx.db.dispose()

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        report = asyncio.run(run(progress))
    for refusal in report.refused:
        for violation in refusal.violations:
            print(f"refused {refusal.sku}: {violation.field} {violation.code}: {violation.message}")
    for sku in report.missing:
        print(f"missing {sku}: no such record")
    print(f"submitted {len(report.submitted)}, refused {len(report.refused)}, missing {len(report.missing)}")
    return 1 if report.refused or report.missing else 0


def cmd_alerts_run(args: argparse.Namespace, settings: Settings) -> int:
    """One scan now (the reference editions that took effect, then expiries and alerts), then one delivery pass
    when a webhook is configured."""
    import httpx

    from registry.services import alerts, holds

    async def run() -> dict[str, object]:
        ctx = _context(settings)
        try:
            scan = await holds.scan(ctx, settings.alert_thresholds, settings.review_interval_days)
            result: dict[str, object] = {"scan": scan}
            if settings.webhook_url:
                async with httpx.AsyncClient(timeout=10.0) as client:
                    result["delivery"] = await alerts.deliver(
                        ctx, client, settings.webhook_url, settings.webhook_secret
                    )
            return result
        finally:
            await ctx.db.dispose()

    print(msgspec.json.encode(asyncio.run(run())).decode())
    return 0


def cmd_report_expiring(args: argparse.Namespace, settings: Settings) -> int:
    from registry.services import reports

    report = _run(settings, lambda ctx: reports.expiring(ctx, args.within_days))
    if args.format == "csv":
        sys.stdout.write(reports.to_csv(report))
    else:
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(report), indent=2).decode() + "\n")
    return 0


def cmd_reference_load(args: argparse.Namespace, settings: Settings) -> int:
    """Put an official edition of a reference set from a CSV or JSON file, checked as a PUT is, in force from
    --effective-from (default today); history records the file's name, its SHA-256 and the source named with
    --source. With --dry-run nothing is written: the counts of what the edition would break, and its top rules."""
    import hashlib
    from pathlib import Path

    from registry.domain.reference import from_csv
    from registry.services import holds
    from registry.services.holds import ImpactOut

    path = Path(args.file)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
        data = from_csv(args.name, text) if path.suffix.lower() == ".csv" else msgspec.json.decode(text)
    except (UnicodeDecodeError, ValueError, msgspec.DecodeError) as exc:
        return _fail(f"{path.name} cannot be read: {exc}")
    except RecursionError:
        return _fail(f"{path.name} cannot be read: JSON nested too deeply")
    source = f"{path.name} (SHA-256 {digest})" + (f": {args.source}" if args.source else "")
    loaded = _run(
        settings,
        lambda ctx: holds.put(
            ctx,
            args.name,
            data,
            _cli_actor(),
            source=source,
            effective_from=args.effective_from,
            dry_run=args.dry_run,
        ),
    )
    if isinstance(loaded, ImpactOut):
        impact = loaded.impact
        print(
            f"{args.name}: dry run of {loaded.entries} entries in force from {loaded.effective_from}: "
            f"{impact.checked} records checked, {impact.failing} would fail, {impact.lifted} holds would lift"
        )
        for rule in impact.by_rule[:10]:
            print(f"  {rule.code}: {rule.count}")
        return 0
    entries = len(loaded.data) if isinstance(loaded.data, list) else sum(map(len, loaded.data.values()))
    print(
        f"{args.name}: version {loaded.version}, {entries} entries in force from {loaded.effective_from}, from {source}"
    )
    return 0


def cmd_openapi(args: argparse.Namespace, settings: Settings) -> int:
    from litestar.serialization import encode_json

    from registry.app import create_app

    document = create_app(settings).openapi_schema.to_schema()
    sys.stdout.write(msgspec.json.format(encode_json(document), indent=2).decode() + "\n")
    return 0


def parser() -> argparse.ArgumentParser:
    from registry.domain.reference import SET_NAMES

    root = argparse.ArgumentParser(prog="registry", description="Product master data and customs filing registry.")
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=cmd_serve)

    migrate = commands.add_parser("migrate", help="migrate the database to this release's schema")
    migrate.set_defaults(run=cmd_migrate)

    keys_cmd = commands.add_parser("keys", help="API keys").add_subparsers(dest="keys_command", required=True)
    create = keys_cmd.add_parser("create", help="make a key and print it, once")
    create.add_argument("--role", required=True, choices=keys.ROLES)
    create.add_argument("--name", required=True)
    create.set_defaults(run=cmd_keys_create)
    keys_cmd.add_parser("list", help="every key: id, role, state, created, name").set_defaults(run=cmd_keys_list)
    revoke = keys_cmd.add_parser("revoke", help="revoke a key")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=cmd_keys_revoke)

    importing = commands.add_parser("import", help="import products from an NDJSON or CSV file")
    importing.add_argument("file", help="a .ndjson/.jsonl or .csv file")
    importing.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    importing.add_argument("--mode", choices=("atomic", "partial"), default="atomic")
    importing.set_defaults(run=cmd_import)

    submit = commands.add_parser("submit", help="submit the SKUs of a file (one a line) for filing")
    submit.add_argument("file")
    submit.set_defaults(run=cmd_submit)

    alerts_cmd = commands.add_parser("alerts", help="expiry alerts").add_subparsers(
        dest="alerts_command", required=True
    )
    alerts_cmd.add_parser("run", help="one expiry scan now (and one webhook delivery pass)").set_defaults(
        run=cmd_alerts_run
    )

    report = commands.add_parser("report", help="reports").add_subparsers(dest="report_command", required=True)
    expiring = report.add_parser("expiring", help="records whose filing or documents lapse soon")
    expiring.add_argument("--within-days", type=int, default=30)
    expiring.add_argument("--format", choices=("csv", "json"), default="json")
    expiring.set_defaults(run=cmd_report_expiring)

    reference_cmd = commands.add_parser("reference", help="reference data").add_subparsers(
        dest="reference_command", required=True
    )
    load = reference_cmd.add_parser("load", help="replace a reference set with an official edition (CSV or JSON)")
    load.add_argument("name", choices=SET_NAMES, help="the set")
    load.add_argument("file", help="a .csv file (a row an entry) or a JSON file (as PUT /v1/reference/NAME takes)")
    load.add_argument("--source", help="where the edition was published, recorded in history")
    load.add_argument(
        "--effective-from",
        type=dt.date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the day the edition takes effect (default today)",
    )
    load.add_argument("--dry-run", action="store_true", help="write nothing: print what the edition would break")
    load.set_defaults(run=cmd_reference_load)
    openapi = commands.add_parser("openapi", help="print the OpenAPI document")
    openapi.set_defaults(run=cmd_openapi)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; a failure is one line on stderr and a non-zero exit, never a traceback."""
    from sqlalchemy.exc import DBAPIError

    from registry.domain.errors import RegistryError, ValidationFailed

    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        code: int = args.run(args, settings)
    except ValidationFailed as exc:
        found = "; ".join(f"{v.field or '/'}: {v.message}" for v in exc.violations)
        return _fail(f"{exc.detail}: {found}")
    except RegistryError as exc:
        return _fail(exc.detail)
    except (ValueError, msgspec.ValidationError) as exc:
        return _fail(f"bad configuration: {exc}")
    except DBAPIError as exc:
        return _fail(f"the database cannot be used: {str(exc.orig or exc).splitlines()[0]}")
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}")
    except KeyboardInterrupt:
        return 130
    return code


def _fail(message: str) -> int:
    print(f"registry: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
