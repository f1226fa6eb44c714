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
from dataclasses import dataclass
from typing import Literal

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


def _contains(term: str, name: str) -> bool:
    if _CJK.search(name):
        return name in term
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", term) is not None


@dataclass(frozen=True)
class Matcher:
    entry: Banned
    names: frozenset[str]
    cas: frozenset[str]
    exceptions: frozenset[str]

    @classmethod
    def of(cls, entry: Banned | str) -> Matcher:
        if isinstance(entry, str):
            entry = Banned(name=entry)
        return cls(
            entry,
            frozenset(key(name) for name in entry.names if key(name)),
            frozenset(entry.cas),
            frozenset(key(name) for name in entry.exceptions if key(name)),
        )

    def match(self, ingredient: str) -> Literal["banned", "maybe"] | None:
        """`banned` when the ingredient is this entry, `maybe` when it may belong to this class."""
        found = terms(ingredient)
        if found & self.exceptions:
            return None
        if found & self.names or (self.cas and self.cas & set(CAS.findall(ingredient))):
            return "banned"
        if self.entry.kind == "substance":
            return None
        named = any(_contains(term, name) for term in found for name in self.names)
        if not named:
            return None
        return "banned" if self.entry.kind == "botanical" else "maybe"
