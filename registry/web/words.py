"""The workbench's words: the message catalogue of each language, and a refusal said in it."""

from __future__ import annotations

import functools
import importlib.resources
import json
from typing import Any

from registry.domain.errors import InvalidTransition, NumberTaken, RegistryError


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """The messages of a language (i18n/zh.json, i18n/en.json: the same keys)."""
    text = importlib.resources.files("registry.web").joinpath("i18n").joinpath(f"{lang}.json").read_text("utf-8")
    messages: dict[str, str] = json.loads(text)
    return messages


def translate(lang: str, key: str, **values: Any) -> str:
    return catalogue(lang).get(key, key).format(**values)


def words(exc: RegistryError, lang: str) -> str:
    """A refusal in the page's language: the reasons a reviewer meets in the catalogue's words (with the service's
    own detail), else the service's words."""
    if isinstance(exc, NumberTaken):
        return f"{translate(lang, 'duplicate_filing_no')}: {exc.detail}"
    if isinstance(exc, InvalidTransition):
        return f"{translate(lang, 'conflict')} {exc.detail}"
    if exc.status == 412:
        return translate(lang, "stale")
    return exc.detail or ""
