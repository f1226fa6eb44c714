"""4. Test database setup: migrate a fresh SQLite file to head with Alembic (registry.schema.upgrade, as the
suite's `migrated_url` fixture does once per run) vs copying a migrated template file (shutil.copyfile, as
`own_database` does per test). Alternating rounds; per-op ms and the total for 330 tests each way.
"""
from __future__ import annotations

import gc
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness import versions

from registry import schema

TESTS = 330
MIGRATIONS_PER_ROUND = int(sys.argv[1]) if len(sys.argv) > 1 else 5
COPIES_PER_ROUND = TESTS


def main() -> None:
    print(versions())
    import alembic

    print(f"Alembic {alembic.__version__}; head revision {schema.head_revision()}")
    folder = Path(tempfile.mkdtemp(prefix="m4_"))
    template = folder / "template.db"
    t0 = time.perf_counter()
    schema.upgrade(f"sqlite+aiosqlite:///{template}")  # also pays the imports once: the warm-up
    first = (time.perf_counter() - t0) * 1e3
    size = template.stat().st_size
    extra = [p.name for p in folder.iterdir() if p.name != "template.db"]
    print(f"first migration in this process (imports included): {first:.1f} ms; template {size:,} bytes"
          f"{'; also ' + ', '.join(extra) if extra else ''}")

    import sqlite3

    probe = folder / "probe.db"
    shutil.copyfile(template, probe)
    with sqlite3.connect(probe) as c:
        version = c.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        tables = c.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
    probe.unlink()
    assert version == schema.head_revision(), version
    print(f"a copy reads as migrated: alembic_version {version}, {tables} tables")

    seq = 0

    def migrate_round() -> float:
        nonlocal seq
        times = []
        for _ in range(MIGRATIONS_PER_ROUND):
            seq += 1
            path = folder / f"m{seq}.db"
            t = time.perf_counter()
            schema.upgrade(f"sqlite+aiosqlite:///{path}")
            times.append(time.perf_counter() - t)
        return statistics.fmean(times) * 1e3

    def copy_round() -> float:
        nonlocal seq
        seq += 1
        target = folder / f"c{seq}"
        target.mkdir()
        t = time.perf_counter()
        for i in range(COPIES_PER_ROUND):
            shutil.copyfile(template, target / f"registry_t{i}.db")
        return (time.perf_counter() - t) * 1e3 / COPIES_PER_ROUND

    names = {"migrate to head (schema.upgrade)": migrate_round, "shutil.copyfile(template)": copy_round}
    res: dict[str, list[float]] = {k: [] for k in names}
    for r in range(5):
        order = list(names) if r % 2 == 0 else list(names)[::-1]
        for name in order:
            gc.collect()
            res[name].append(names[name]())
        for p in folder.iterdir():  # keep the folder small between rounds
            if p.name != "template.db":
                shutil.rmtree(p) if p.is_dir() else p.unlink()

    print(f"\nms per test database; 5 alternating rounds ({MIGRATIONS_PER_ROUND} migrations / "
          f"{COPIES_PER_ROUND} copies per round, per-round mean)")
    for name, values in res.items():
        med = statistics.median(values)
        print(f"  {name:<36} median {med:9.3f} ms (min {min(values):.3f} – max {max(values):.3f});"
              f"  × {TESTS} tests = {med * TESTS / 1000:.2f} s (min {min(values) * TESTS / 1000:.2f} – "
              f"max {max(values) * TESTS / 1000:.2f})")
    print("  rounds:", {k: [round(x, 3) for x in v] for k, v in res.items()})
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
