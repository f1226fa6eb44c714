"""Banned-ingredient matching at the official catalogues' size: a generated cosmetics catalogue of 1,400 entries
(substances with INCI names, aliases and CAS numbers, classes, botanicals; made up here, not facts) in force, then
`rules.validate` of a 40-ingredient record and of a hostile record (1,000 ingredients of 2,000 characters each).
Prints each as a ratio to the contract's bound (2 ms and 1 s), best of several runs, and the time to index the
catalogue (once per reference version).
"""

from __future__ import annotations

import copy
import time
from typing import Any

import msgspec

from registry.domain import rules
from registry.domain.records import ProductIn, normalize
from registry.domain.reference import Reference, default_sets, wco_subheadings
from tests.samples import TODAY, sk2

ENTRIES = 1400
RECORD_BOUND = 0.002  # s: a 40-ingredient record
HOSTILE_BOUND = 1.0  # s: 1,000 ingredients of 2,000 characters


def catalogue() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for n in range(ENTRIES):
        kind = "substance" if n % 10 < 7 else ("botanical" if n % 10 < 9 else "class")
        entry: dict[str, Any] = {"name": f"禁用物质{n}", "kind": kind, "source": "benchmark"}
        if kind == "substance":
            entry |= {"inci": f"Banned Substance {n}", "aliases": [f"bs-{n}"], "cas": [f"{1000 + n}-{n % 90 + 10}-1"]}
        elif kind == "botanical":
            entry |= {"inci": f"Plantae Generatum{n}", "aliases": [f"植物{n}"]}
        else:
            entry |= {"aliases": [f"metallum{n}"], "exceptions": [f"允许形式{n}"]}
        entries.append(entry)
    return entries


def reference() -> Reference:
    sets = copy.deepcopy(default_sets())
    sets["banned-ingredients"] = {"cosmetics": catalogue()}
    return Reference.from_sets(sets)


def best(runs: int, work: Any) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


async def main() -> dict[str, Any]:
    ref = reference()
    started = time.perf_counter()
    assert len(ref.banned["cosmetics"]) == ENTRIES  # indexed here, once
    indexed = time.perf_counter() - started
    subheadings = wco_subheadings()
    ingredients = [f"ingredient number {n} (aqua) extract" for n in range(38)] + ["glycerin", "butylene glycol"]
    record = normalize(msgspec.convert(sk2(ingredients=ingredients), ProductIn))
    hostile = normalize(msgspec.convert(sk2(ingredients=["(" * 2000] * 1000), ProductIn))
    assert not rules.blocks(rules.validate(record, ref, subheadings, TODAY))
    one = best(50, lambda: rules.validate(record, ref, subheadings, TODAY))
    worst = best(3, lambda: rules.validate(hostile, ref, subheadings, TODAY))
    print(f"catalogue of {ENTRIES:,} generated entries indexed in {indexed * 1000:.1f} ms")
    print(f"40-ingredient record: {one * 1000:.3f} ms = {one / RECORD_BOUND:.2f}x the 2 ms bound")
    print(f"1,000 x 2,000-character record: {worst * 1000:.0f} ms = {worst / HOSTILE_BOUND:.2f}x the 1 s bound")
    return {"index_ms": indexed * 1000, "record_ms": one * 1000, "hostile_ms": worst * 1000}
