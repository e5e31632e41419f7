"""Analysts and their scopes: who may see which events (enforced by PostgreSQL row-level security).

The `analysts` table (migrations/0007_row_level_security.sql) names each analyst's scopes; Slack users
and UI logins map to analysts. An unknown analyst has no scope and so sees nothing. With no set-up, the
one analyst "local" has every scope ("*"), and while it is the only analyst everyone is seen through it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from assistant.db import Database
from assistant.errors import InputError
from assistant.resources import query

LOCAL = "local"  # the default single-user install's analyst
Front = Literal["ui", "slack"]
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_SCOPE = re.compile(r"^(\*|[A-Za-z0-9_.:-]{1,64})$")


@dataclass(frozen=True)
class Analyst:
    """One analyst: the scopes whose events they see, and the Slack user and UI login that are them."""

    name: str
    scopes: tuple[str, ...]
    slack_user: str | None = None
    ui_login: str | None = None


def scopes_of(db: Database, name: str) -> tuple[str, ...]:
    """The analyst's scopes; none for an unknown analyst (but while the local analyst is the only one, the
    default single-user install with nothing set up, everyone has the local analyst's scopes)."""
    row = db.fetch_one("select_analyst", {"name": name})
    return tuple(row["scopes"]) if row else ()


def front_analyst(db: Database, front: Front, user: str) -> str:
    """The analyst a UI login or Slack user is: the one mapped to it, else the login or user id itself (an
    analyst by that name, or an unknown one, who sees nothing: see scopes_of)."""
    row = db.fetch_one("select_front_analyst", {"front": front, "user": user})
    return str(row["name"]) if row else user


def list_analysts(db: Database) -> list[Analyst]:
    """Every analyst, by name."""
    return [Analyst(r["name"], tuple(r["scopes"]), r["slack_user"], r["ui_login"])
            for r in db.fetch_all("select_analysts")]


def add_analyst(db: Database, analyst: Analyst) -> None:
    """Add an analyst, or replace the scopes and mappings of one that exists (the admin login: the app
    role may only read the table)."""
    check_analyst(analyst)
    with db.admin_connection() as conn, conn.transaction():
        conn.execute(query("upsert_analyst"), {"name": analyst.name, "scopes": list(analyst.scopes),
                                               "slack_user": analyst.slack_user, "ui_login": analyst.ui_login})


def remove_analyst(db: Database, name: str) -> bool:
    """Remove an analyst; whether there was one."""
    with db.admin_connection() as conn, conn.transaction():
        return conn.execute(query("delete_analyst"), {"name": name}).rowcount > 0


def check_analyst(analyst: Analyst) -> None:
    """Refuse names and scopes the policies could misread (a comma would split a scope in two)."""
    if not _NAME.match(analyst.name):
        raise InputError(f"analyst name {analyst.name!r}: use 1-64 letters, digits, '_', '.', '@' or '-'")
    if not analyst.scopes:
        raise InputError(f"analyst {analyst.name!r}: give at least one scope (--scope), or '*' for every scope")
    bad = [s for s in analyst.scopes if not _SCOPE.match(s)]
    if bad:
        raise InputError(f"analyst {analyst.name!r}: scope(s) {bad} are not names (letters, digits, '_', '.', "
                         "':', '-'), nor '*'")


def parse_scopes(values: Sequence[str]) -> tuple[str, ...]:
    """Scopes given as repeated options or comma-separated lists, deduplicated in order."""
    found: list[str] = []
    for value in values:
        found += [s.strip() for s in value.split(",") if s.strip() and s.strip() not in found]
    return tuple(found)
