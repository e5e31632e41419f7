"""The registry of filterable values (field_values): refreshed by ingestion, read by the planner."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.db import Database
from assistant.resources import query


@dataclass(frozen=True)
class ValueMatch:
    """A stored attribute value found in a question; score 1.0 is an exact occurrence."""

    field: str
    value: str
    events: int
    score: float


def refresh(db: Database) -> None:
    """Rebuild the registry from the stored events, atomically."""
    with db.transaction() as conn:
        conn.execute(query("refresh_field_values").encode())


def ensure_filled(db: Database) -> None:
    """Fill the registry once for a database whose events predate it."""
    state = db.fetch_one("select_registry_state")
    if state is not None and state["has_events"] and not state["filled"]:
        refresh(db)


def values_in_text(db: Database, text: str) -> list[ValueMatch]:
    """Attribute values that occur in the text, exactly or approximately (pg_trgm), best first."""
    return [ValueMatch(r["field"], r["value"], int(r["events"]), float(r["score"]))
            for r in db.fetch_all("select_values_in_text", {"text": text})]
