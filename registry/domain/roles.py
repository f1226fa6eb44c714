"""The roles an API key is made for: the one list the keys, the routes and the filing actions name."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CATALOG = "catalog"  # creates and corrects records, submits them
    REVIEWER = "reviewer"  # approves and rejects filings
    DECLARATION = "declaration"  # the order declaration service: look-ups only
    AUDITOR = "auditor"  # reads everything, verifies the history
    ADMIN = "admin"  # everything, and keys and reference data


# Who reads the catalogue (records, history, alerts, reference data).
READERS = (Role.CATALOG, Role.REVIEWER, Role.AUDITOR)


def with_admin(*roles: Role) -> frozenset[str]:
    """The roles that may do something: those named, and admin, who may do everything."""
    return frozenset(role.value for role in (*roles, Role.ADMIN))
