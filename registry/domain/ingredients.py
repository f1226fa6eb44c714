"""Banned ingredients, matched as whole terms.

An ingredient is read as its normalised text and the parts of it in brackets or between slashes (`氢醌 (hydroquinone)`
is three terms). A banned substance matches a term equal to one of its names or an ingredient naming its CAS number:
`lead` does not match `lead-free` nor `leadwort`. A class (`汞和其化合物`) matches a term equal to one of its names
as a substance does; an ingredient that merely contains one of them (`醋酸汞`, `lead acetate`: a whole word in Latin
script, anywhere in Chinese) may belong to it, which a reviewer decides (a warning). A botanical matches any
ingredient that names the plant (its extracts, oils and parts). The allowed forms an entry names (`硫柳汞`, a
permitted preservative, in the mercury class) never match it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

import ahocorasick
import msgspec
from msgspec import Struct

from registry.domain.records import normalize_text

CAS = re.compile(r"(?<![\d-])\d{2,7}-\d{2}-\d(?![\d-])")
_PARTS = re.compile(r"[()（）\[\]【】/／、,，;；]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class Banned(Struct, forbid_unknown_fields=True):
    """An entry of a banned-ingredients catalogue."""

    name: str  # the standard (Chinese) name
    inci: str | None = None
    aliases: list[str] = msgspec.field(default_factory=list)
    cas: list[str] = msgspec.field(default_factory=list)
    kind: Literal["substance", "class", "botanical"] = "substance"
    exceptions: list[str] = msgspec.field(default_factory=list)  # allowed forms, by name
    source: str | None = None

    @property
    def names(self) -> list[str]:
        return [self.name, *([self.inci] if self.inci else []), *self.aliases]


def key(text: str) -> str:
    """The form names are compared in: NFKC, case-folded, single spaces, no edge punctuation."""
    return normalize_text(text).casefold().strip(" .:*·")


def terms(ingredient: str) -> frozenset[str]:
    whole = key(ingredient)
    return frozenset(t for t in (whole, *(key(part) for part in _PARTS.split(whole))) if t)


Verdict = Literal["banned", "maybe"]


def _bounded(term: str, end: int, length: int) -> bool:
    """Whether the Latin name ending at `end` in `term` is a whole word (no letter, digit, `_` or `-` beside it)."""
    before = term[end - length] if end - length >= 0 else ""
    after = term[end + 1] if end + 1 < len(term) else ""
    return not any(ch.isalnum() or ch in "_-" for ch in before + after)


class Catalogue:
    """A category's banned entries, indexed once for a reference version, so that an ingredient is read once
    whatever the size of the catalogue: its terms are looked up in dictionaries of names, CAS numbers and allowed
    forms, and searched once with an Aho-Corasick automaton of the class and botanical names (what an ingredient
    may merely contain). pyahocorasick is the automaton: a C implementation, linear in the text."""

    def __init__(self, entries: Sequence[Banned | str]) -> None:
        self.entries = [Banned(name=entry) if isinstance(entry, str) else entry for entry in entries]
        self._names: dict[str, set[int]] = {}
        self._cas: dict[str, set[int]] = {}
        self._exceptions: dict[str, set[int]] = {}
        contained: dict[str, set[int]] = {}
        for i, entry in enumerate(self.entries):
            for name in filter(None, map(key, entry.names)):
                self._names.setdefault(name, set()).add(i)
                if entry.kind != "substance":
                    contained.setdefault(name, set()).add(i)
            for number in entry.cas:
                self._cas.setdefault(number, set()).add(i)
            for name in filter(None, map(key, entry.exceptions)):
                self._exceptions.setdefault(name, set()).add(i)
        self._automaton: Any = None
        if contained:
            self._automaton = ahocorasick.Automaton()
            for name, owners in contained.items():
                self._automaton.add_word(name, (len(name), bool(_CJK.search(name)), frozenset(owners)))
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self.entries)

    def match(self, ingredient: str) -> list[tuple[Banned, Verdict]]:
        """Each entry the ingredient is (`banned`) or may belong to (`maybe`, a class), in catalogue order. A
        substance matches a term equal to one of its names, or its CAS number; a class or botanical also matches
        a term containing one of its names (anywhere in Chinese, as a whole word in Latin script); the allowed
        forms an entry names never match it."""
        found = terms(ingredient)
        exact: set[int] = set()
        for term in found:
            exact.update(self._names.get(term, ()))
        for number in CAS.findall(ingredient) if self._cas else ():
            exact.update(self._cas.get(number, ()))
        contained: set[int] = set()
        if self._automaton is not None:
            for term in found:
                for end, (length, cjk, owners) in self._automaton.iter(term):
                    if cjk or _bounded(term, end, length):
                        contained.update(owners)
        candidates = exact | contained
        if not candidates:
            return []
        for term in found:
            candidates.difference_update(self._exceptions.get(term, ()))
        verdicts: list[tuple[Banned, Verdict]] = []
        for i in sorted(candidates):
            entry = self.entries[i]
            verdicts.append((entry, "maybe" if i not in exact and entry.kind == "class" else "banned"))
        return verdicts
