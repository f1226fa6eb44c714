"""An import's rows read and checked in a process beside the service's (`python -m registry.services.checker`).

The checking is CPU work; in the service's own process it would take the interpreter from the event loop and
the look-ups it serves. A checker process waits for a file on its stdin and answers on its stdout, then waits
for the next: each message a 4-byte big-endian length and a body. The request is msgpack (a path or null, the file's
bytes or null, the format). The answers are `B` and the msgpack pair (file position, batch of Checked) per
BATCH rows; then `E`; or, for a file refused as a whole (a CSV header), `?` with (violations, detail,
truncated); for a failure, `!` with its text. A full pipe holds the checker until the service reads: it is never
more than a pipe's worth ahead of the writing. It ends when its stdin closes (the service ended).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import struct
import sys
from collections.abc import Iterator
from enum import StrEnum
from typing import IO, NamedTuple

import msgspec

from registry.domain import rules
from registry.domain.errors import ValidationFailed
from registry.domain.records import ProductIn, normalize
from registry.domain.rows import Row, read_csv, read_ndjson
from registry.domain.violations import Violation

# Rows a batch: each batch's writing runs on the service's event loop between two awaits, so its size bounds how
# long a look-up waits behind an import (1,000 made the look-up's p99 under a running import ~25x idle; 100,
# ~3.5x, at the same import speed).
BATCH = 100
_LENGTH = struct.Struct(">I")


class Format(StrEnum):
    NDJSON = "ndjson"
    CSV = "csv"


class Checked(NamedTuple):
    """A row after reading and field validation: its record, or what is wrong with it (a refused row comes
    without its record: what it holds may not even be encodable, a number past 2⁶⁴, and is not written)."""

    line: int
    sku: str | None
    record: ProductIn | None
    violations: list[Violation]


def check(row: Row) -> Checked:
    if row.error is not None or row.record is None:
        assert row.error is not None
        return Checked(row.line, row.error.sku, None, [row.error.violation])
    record = normalize(row.record)
    violations = rules.check_fields(record)
    return Checked(row.line, record.sku, None if violations else record, violations)


def answers(source: str | bytes, fmt: Format) -> Iterator[bytes]:
    """The answers to one file, as message bodies."""
    encode = msgspec.msgpack.encode
    try:
        with open(source, "rb") if isinstance(source, str) else io.BytesIO(source) as handle:
            rows = read_csv(handle) if fmt is Format.CSV else read_ndjson(handle)
            while batch := [check(row) for row in itertools.islice(rows, BATCH)]:
                yield b"B" + encode((handle.tell(), batch))
        yield b"E"
    except ValidationFailed as exc:
        yield b"?" + encode((exc.violations, exc.detail, bool(exc.extra.get("truncated"))))
    except Exception as exc:  # told to the service, which fails the import and logs it
        yield b"!" + repr(exc).encode()


def send(stream: IO[bytes], body: bytes) -> None:
    stream.write(_LENGTH.pack(len(body)) + body)


def receive(stream: IO[bytes]) -> bytes | None:
    """The next message's body; None when the stream has ended."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    body = stream.read(length)
    if len(body) < length:
        return None
    return body


REQUEST = msgspec.msgpack.Decoder(tuple[str | None, bytes | None, Format])  # a path, or the file's bytes


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (request := receive(stdin)) is not None:
        path, content, fmt = REQUEST.decode(request)
        for answer in answers(path if path is not None else content or b"", fmt):
            send(stdout, answer)
            stdout.flush()


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):  # the service ended, or stopped this checker
        main()
