"""The heap on huge pages: resident memory moves, untouched memory is left alone."""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import pytest

from registry import memory

MB = 1 << 20
THP = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def _kernel() -> tuple[int, int]:
    major, minor = os.uname().release.split(".")[:2]
    return int(major), int(minor)


def _rollup(field: str) -> int:
    line = next(line for line in Path("/proc/self/smaps_rollup").read_text().splitlines() if line.startswith(field))
    return int(line.split()[1]) * 1024


pytestmark = pytest.mark.skipif(
    not THP.exists() or "[never]" in THP.read_text() or _kernel() < (6, 1),
    reason="needs Linux 6.1+ with transparent huge pages not `never`",
)


def test_resident_memory_moves_onto_huge_pages_and_keeps_its_contents() -> None:
    block = bytearray(b"registry" * (8 * MB))  # 64 MiB, every page written
    before = _rollup("AnonHugePages:")
    assert memory.collapse_resident_heap() == _rollup("AnonHugePages:") >= before + 32 * MB
    assert block[:8] == block[-8:] == b"registry"


def test_memory_barely_touched_stays_out() -> None:
    sparse = mmap.mmap(-1, 256 * MB, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)  # as a thread's stack is:
    for offset in range(0, len(sparse), memory.HUGE_PAGE):  # mapped, one page written in each 2 MiB
        sparse[offset] = 1
    before = _rollup("Rss:")
    memory.collapse_resident_heap()
    assert _rollup("Rss:") - before < 32 * MB
