"""The registry of filterable values (field_values): refreshed by ingestion, read by the planner."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.companies import CompanyIndex
from assistant.db import Database
from assistant.phrases import is_prose
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


def save_labels(db: Database, labels: Sequence[tuple[str, str, str]]) -> None:
    """Store the labels a mapping declares for values: (field, value, label)."""
    with db.transaction() as conn:
        for field, value, label in labels:
            conn.execute(query("upsert_value_label"), {"field": field, "value": value, "label": label})


def labels(db: Database, fields: Sequence[str]) -> dict[tuple[str, str], str]:
    """The declared labels of the given fields' values, by (field, value)."""
    return {(r["field"], r["value"]): r["label"] for r in db.fetch_all("select_value_labels", {"fields": list(fields)})}


def place_candidates(db: Database) -> dict[str, list[str]]:
    """Every attribute's (and currency's) stored values: the fields that may hold places."""
    found: dict[str, list[str]] = {}
    for row in db.fetch_all("select_place_candidates"):
        found.setdefault(row["field"], []).append(row["value"])
    return found


_INDEXES: OrderedDict[tuple[tuple[str, int], ...], CompanyIndex] = OrderedDict()
_INDEXES_LOCK = threading.Lock()
_INDEXES_KEPT = 4  # analysts with different scopes see different sets of names


def company_index(db: Database) -> CompanyIndex | None:
    """The index of the company names the request may see, built once per set of names (ingestion and
    scopes change the set)."""
    names = tuple((r["value"], int(r["events"])) for r in db.fetch_all("select_entity_names")
                  if not is_prose(r["value"]))  # stored prose is never a company to ground a question in
    if not names:
        return None
    with _INDEXES_LOCK:  # requests run on several threads
        if names not in _INDEXES:
            _INDEXES[names] = CompanyIndex(names)
            while len(_INDEXES) > _INDEXES_KEPT:
                _INDEXES.popitem(last=False)
        _INDEXES.move_to_end(names)
        return _INDEXES[names]


CHOICES_MAX = 30  # a field with more stored values is not a choice an analyst names by meaning


def choices(db: Database) -> dict[str, list[str]]:
    """Low-cardinality fields other than category and subcategory, with their stored values."""
    found: dict[str, list[str]] = {}
    for row in db.fetch_all("select_choice_values", {"max_values": CHOICES_MAX}):
        found.setdefault(row["field"], []).append(row["value"])
    return found


_ID_KEY = re.compile(r"(?:^|_)(?:id|ids|no|nr|number|code|zip|zip_code|fei|year)$")


def numeric_fields(db: Database) -> list[str]:
    """Attribute fields whose every stored value is a number, less ids and codes (numbers that count nothing)."""
    return [r["field"] for r in db.fetch_all("select_numeric_fields")
            if not _ID_KEY.search(r["field"].removeprefix("attributes."))]


def ensure_filled(db: Database) -> None:
    """Fill the registry once for a database whose events predate it."""
    state = db.fetch_one("select_registry_state")
    if state is not None and state["has_events"] and not state["filled"]:
        refresh(db)


def stored_values(db: Database, fields: Sequence[str]) -> dict[str, list[str]]:
    """The stored values of each of the given fields (an empty list for a field with none), sorted."""
    values: dict[str, list[str]] = {name: [] for name in fields}
    for row in db.fetch_all("select_stored_values", {"fields": list(fields)}):
        values[row["field"]].append(row["value"])
    return values


def values_in_text(db: Database, text: str) -> list[ValueMatch]:
    """Attribute values that occur in the text, exactly or approximately (pg_trgm), best first."""
    return [ValueMatch(r["field"], r["value"], int(r["events"]), float(r["score"]))
            for r in db.fetch_all("select_values_in_text", {"text": text})]
