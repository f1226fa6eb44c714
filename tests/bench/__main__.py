"""`make bench`: run every benchmark in this folder and print its figures. Not run by CI."""

from __future__ import annotations

import asyncio
import sys

from tests.bench import bench_alerts, bench_history, bench_import, bench_lookup, bench_submit

BENCHES = {
    "lookup": bench_lookup.main,
    "import": bench_import.main,
    "history": bench_history.main,
    "alerts": bench_alerts.main,
    "submit": bench_submit.main,
}


def main(names: list[str]) -> None:
    for name in names or list(BENCHES):
        print(f"== {name}")
        asyncio.run(BENCHES[name]())


if __name__ == "__main__":
    main(sys.argv[1:])
