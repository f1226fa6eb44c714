"""A workbench form as the service takes it: the fields a correction changes (as PATCH takes them), a filing
action's body (as the API's), the version the page was read at (as If-Match). A form's field is text; a file sent
in its place is refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

from registry.domain import limits
from registry.domain.errors import BadRequest, PreconditionFailed, PreconditionRequired
from registry.domain.lifecycle import Action, ActionIn
from registry.domain.records import EDITABLE_FIELDS, FIELDS, Kind, ProductOut
from registry.domain.violations import Violation
from registry.web.words import translate

# The fields a catalog team corrects on an unfiled record's page: every field PATCH takes but the documents
# (structured; the API and imports carry them). Lists are edited one item a line, numbers as digits.
# The fields a catalog team corrects on an unfiled record's page: every field PATCH takes but the documents
# (structured; the API and imports carry them). Lists are edited one item a line, numbers as digits.
EDITABLE = tuple(name for name in EDITABLE_FIELDS if FIELDS[name].kind is not Kind.DOCUMENTS)
LISTS = frozenset(name for name in EDITABLE if FIELDS[name].kind is Kind.TEXTS)
NUMBERS = frozenset(name for name in EDITABLE if FIELDS[name].kind is Kind.NUMBER)


def version(form: Any, lang: str) -> int:
    """The version the form's page showed, read as the API reads If-Match: without one, 428 (a change is made only
    at the version it was read at); a number that cannot be a record's version is stale (412); one that is no
    number at all, 400."""
    sent = field_text(form, "version")
    if not sent:
        raise PreconditionRequired(translate(lang, "version_missing"))
    if not (sent.isascii() and sent.isdigit()):
        raise BadRequest("the form's version is not a number")
    if len(sent) > len(str(limits.MAX_INT32)) or int(sent) > limits.MAX_INT32:
        raise PreconditionFailed("the form's version is no version of this record")
    return int(sent)


def field_text(form: Any, name: str) -> str:
    """A form field's text ("" when absent); a file sent in its place is refused (400), never stored as its name."""
    value = form.get(name, "")
    if not isinstance(value, str):
        raise BadRequest(f"the form's field {name} is text; a file was sent in its place")
    return value


def entry(value: Any) -> str:
    """A field's value as its input holds it: a list one item a line, nothing for none."""
    if value is None:
        return ""
    return "\n".join(value) if isinstance(value, list) else str(value)


def changed_fields(record: ProductOut, typed: dict[str, str]) -> tuple[dict[str, Any], list[Violation]]:
    """The fields the form changes, each as PATCH takes it (blank: null), and the inputs that are not numbers."""
    changes: dict[str, Any] = {}
    problems: list[Violation] = []
    for name, text in typed.items():
        if text.replace("\r\n", "\n") == entry(getattr(record, name)):
            continue
        value: Any = text.strip() or None
        if name in LISTS:
            value = [line.strip() for line in text.splitlines() if line.strip()] or None
        elif name in NUMBERS and value is not None:
            # Past 18 digits no int64 (what the API's JSON takes) holds it, and past 4,300 int() refuses it.
            if not (value.isascii() and value.isdigit() and len(value) <= 18):
                problems.append(Violation(f"/{name}", "type", "a whole number"))
                continue
            value = int(value)
        changes[name] = value
    return changes, problems


ACTION_FIELDS = ("filing_no", "valid_until", "reason", "reasons")


def action_typed(form: Any) -> dict[str, str]:
    """What a filing action's form had in its inputs, to show again when the action is refused."""
    return {name: field_text(form, name) for name in ACTION_FIELDS}


def action_body(action: Action, form: Any) -> tuple[ActionIn, list[Violation]]:
    """A filing action's body from its form: what the action takes, each field as the API would get it (the
    service checks the rest, as it does for the API)."""
    text = {name: value.strip() for name, value in action_typed(form).items()}
    if action is Action.APPROVE:
        try:
            until = dt.date.fromisoformat(text["valid_until"]) if text["valid_until"] else None
        except ValueError:
            return ActionIn(), [Violation("/valid_until", "format.date", "a day as YYYY-MM-DD")]
        return ActionIn(filing_no=text["filing_no"] or None, valid_until=until), []
    if action is Action.REJECT:
        return ActionIn(reasons=[line.strip() for line in text["reasons"].splitlines() if line.strip()]), []
    if action in (Action.AMEND, Action.EXPIRE):
        return ActionIn(reason=text["reason"] or None), []
    return ActionIn(), []
