"""The filing state machine: statuses, actions, who may take them, where they lead, and what they need."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import msgspec

from registry.domain import limits
from registry.domain.records import Status, is_digits, normalize_code, normalize_text
from registry.domain.roles import Role, with_admin
from registry.domain.violations import Violation, text_problems


class Action(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    AMEND = "amend"
    EXPIRE = "expire"


class Transition(msgspec.Struct, frozen=True):
    sources: frozenset[Status]
    target: Status
    roles: frozenset[str]


_CATALOG = with_admin(Role.CATALOG)
_REVIEWER = with_admin(Role.REVIEWER)

TRANSITIONS: dict[Action, Transition] = {
    Action.SUBMIT: Transition(frozenset({Status.UNFILED, Status.EXPIRED}), Status.UNDER_REVIEW, _CATALOG),
    Action.APPROVE: Transition(frozenset({Status.UNDER_REVIEW}), Status.FILED, _REVIEWER),
    Action.REJECT: Transition(frozenset({Status.UNDER_REVIEW}), Status.UNFILED, _REVIEWER),
    Action.AMEND: Transition(frozenset({Status.FILED, Status.EXPIRED}), Status.UNFILED, _CATALOG),
    Action.EXPIRE: Transition(frozenset({Status.FILED}), Status.EXPIRED, _REVIEWER),
}

SYSTEM_EXPIRY = "system:expiry"

# The periodic review: a reviewer looks at a filed record again; history records it (action `review`) and the
# interval to the next one starts again. Neither the status nor the record changes.
REVIEW = "review"


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A periodic review: what the reviewer checked and found."""

    note: str


def check_review(body: ReviewIn) -> tuple[ReviewIn, list[Violation]]:
    """The review normalised, and what it gets wrong: a note is required."""
    body = ReviewIn(note=normalize_text(body.note, limits.REASON))
    if not body.note:
        return body, [Violation("/note", "required", "a note saying what was reviewed is required")]
    return body, text_problems(body.note, limits.REASON, "note")


class ActionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The body of a filing action: `approve` takes filing_no and valid_until, `reject` reasons, `expire` a reason."""

    filing_no: str | None = None
    valid_until: dt.date | None = None
    reasons: list[str] | None = None
    reason: str | None = None


def normalize(body: ActionIn) -> ActionIn:
    """The body as it is checked and kept: the filing number after NFKC, texts normalised, blank reasons dropped."""
    return ActionIn(
        filing_no=None if body.filing_no is None else normalize_code(body.filing_no),
        valid_until=body.valid_until,
        reasons=None
        if body.reasons is None
        else [text for r in body.reasons if (text := normalize_text(r, limits.REASON))],
        reason=None if body.reason is None else normalize_text(body.reason, limits.REASON) or None,
    )


def may(role: str, action: Action) -> bool:
    return role in TRANSITIONS[action].roles


def allowed_actions(status: Status) -> list[Action]:
    return [action for action, rule in TRANSITIONS.items() if status in rule.sources]


def next_status(status: Status, action: Action) -> Status | None:
    """Where `action` leads from `status`, or None when it is not allowed from there."""
    rule = TRANSITIONS[action]
    return rule.target if status in rule.sources else None


def check_body(action: Action, body: ActionIn, today: dt.date, *, manual: bool = True) -> list[Violation]:
    """What the (normalised) body lacks or gets wrong; fields another action would take are refused too."""
    found: list[Violation] = []
    wanted = {
        Action.APPROVE: {"filing_no", "valid_until"},
        Action.REJECT: {"reasons"},
        Action.AMEND: {"reason"},  # optional: why the filed record is opened again
        Action.EXPIRE: {"reason"} if manual else set(),
    }.get(action, set())
    for name in ActionIn.__struct_fields__:
        if getattr(body, name) is not None and name not in wanted:
            found.append(Violation(f"/{name}", "unknown_field", f"{action} takes no {name}"))
    if action is Action.APPROVE:
        if body.filing_no is None:
            found.append(Violation("/filing_no", "required", "the customs-issued filing number is required"))
        elif not is_digits(body.filing_no, 10):
            found.append(Violation("/filing_no", "format.filing_no", "a filing number is exactly 10 ASCII digits 0-9"))
        if body.valid_until is None:
            found.append(Violation("/valid_until", "required", "the filing's valid_until date is required"))
        elif body.valid_until <= today:
            found.append(Violation("/valid_until", "filing.valid_until_past", "valid_until must be in the future"))
    elif action is Action.REJECT:
        if not body.reasons:
            found.append(Violation("/reasons", "required", "at least one reason is required"))
        elif len(body.reasons) > limits.REASONS:
            found.append(Violation("/reasons", "format.too_many", f"at most {limits.REASONS} reasons"))
        for i, text in enumerate((body.reasons or [])[: limits.REASONS]):
            found += text_problems(text, limits.REASON, "reasons", i)
    elif action is Action.EXPIRE and manual and not body.reason:
        found.append(Violation("/reason", "required", "a reason is required to expire a filing by hand"))
    if body.reason is not None:
        found += text_problems(body.reason, limits.REASON, "reason")
    return found


def declarable(status: Status | str, valid_until: dt.date | None, today: dt.date, *, held: bool = False) -> bool:
    """A filing number may be declared only while filed, not on hold and not past its valid_until day."""
    return status == Status.FILED and not held and valid_until is not None and today <= valid_until
