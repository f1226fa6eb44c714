"""`make bench`: run every benchmark in this folder (or those named: `make bench BENCH="lookup load"`), print
their figures, and write them to bench-results.json so that runs can be compared. Not run by CI."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from tests.bench import (
    bench_alerts,
    bench_editions,
    bench_history,
    bench_import,
    bench_load,
    bench_lookup,
    bench_matching,
    bench_pages,
    bench_stats,
    bench_submit,
)

BENCHES: dict[str, Callable[[], Coroutine[Any, Any, Any]]] = {
    "lookup": bench_lookup.main,
    "load": bench_load.main,
    "history": bench_history.main,
    "alerts": bench_alerts.main,
    "import": bench_import.main,
    "submit": bench_submit.main,
    "editions": bench_editions.main,
    "matching": bench_matching.main,
    "stats": bench_stats.main,
    "pages": bench_pages.main,
}
RESULTS = Path("bench-results.json")


def main(names: list[str]) -> None:
    results: dict[str, Any] = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
    }
    for name in names or list(BENCHES):
        print(f"== {name}", flush=True)
        results[name] = asyncio.run(BENCHES[name]())
        RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")  # after each: a partial run counts
    print(f"written: {RESULTS.resolve()}")


if __name__ == "__main__":
    main(sys.argv[1:])
