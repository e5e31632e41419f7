"""Apply the numbered SQL migrations in order, each once, recorded in schema_migrations."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from assistant.errors import DatabaseError
from assistant.resources import query, resource_dir

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 7_406_311  # advisory lock: two processes migrating at once take turns


@dataclass(frozen=True)
class Migration:
    """One numbered migration file."""

    version: int
    name: str
    path: Path


def available() -> list[Migration]:
    """Every migration shipped with the package, in order."""
    found = []
    for path in sorted(resource_dir("migrations").glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise DatabaseError(f"migration file {path} is not named NNNN_snake_case.sql")
        found.append(Migration(int(match[1]), match[2], path))
    return found


def applied(conn: psycopg.Connection) -> set[int]:
    """Versions already recorded in the database."""
    conn.execute(query("create_schema_migrations"))
    return {row[0] for row in conn.execute(query("select_applied_migrations"))}


def pending(conn: psycopg.Connection) -> list[Migration]:
    """Migrations not yet applied."""
    done = applied(conn)
    return [m for m in available() if m.version not in done]


def upgrade(conn: psycopg.Connection) -> list[Migration]:
    """Apply the pending migrations, each in its own transaction; return those applied."""
    ran: list[Migration] = []
    with conn.transaction():
        conn.execute(query("take_migration_lock"), [_LOCK_KEY])
        for migration in pending(conn):
            _apply(conn, migration)
            ran.append(migration)
    return ran


def _apply(conn: psycopg.Connection, migration: Migration) -> None:
    sql_text = migration.path.read_text(encoding="utf-8")
    try:
        with conn.transaction():
            conn.execute(sql_text.encode())
            conn.execute(query("insert_migration"), [migration.version, migration.name])
    except psycopg.Error as err:
        raise DatabaseError(f"migration {migration.path.name} failed: {err}") from err
