"""The project's own failures; api/errors.py alone turns them into problem+json."""

from __future__ import annotations

from typing import Any

from registry.domain.violations import Violation, capped


class RegistryError(Exception):
    status = 500
    title = "Internal error"
    slug = "internal"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(RegistryError):
    status, title, slug = 400, "Bad request", "bad-request"


class MalformedJson(BadRequest):
    title, slug = "Malformed JSON", "malformed-json"


class Forbidden(RegistryError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(RegistryError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(RegistryError):
    status, title, slug = 409, "Conflict", "conflict"


class InvalidTransition(Conflict):
    slug = "invalid-transition"


class NumberTaken(Conflict):
    """A filing number another SKU holds, or was issued meanwhile: a number is never reissued."""


class PreconditionFailed(RegistryError):
    status, title, slug = 412, "Precondition failed", "stale-version"


class PreconditionRequired(RegistryError):
    status, title, slug = 428, "Precondition required", "if-match-required"


class TooLarge(RegistryError):
    status, title, slug = 413, "Content too large", "too-large"


class ValidationFailed(RegistryError):
    status, title, slug = 422, "Validation failed", "validation"

    def __init__(self, violations: list[Violation], detail: str | None = None) -> None:
        count = len(violations)
        shown, truncated = capped(violations)
        detail = detail or f"{count} violation{'s' if count != 1 else ''}"
        if truncated:
            detail += f" ({count} in all; the first {len(shown)} are listed)"
        super().__init__(detail, violations=shown, truncated=truncated or None)
        self.violations = shown


class Unavailable(RegistryError):
    status, title, slug = 503, "Service unavailable", "unavailable"
