"""The "like X" seed: an event's vector or an entity's centroid, and the metadata a match shares with it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pgvector import Vector as PgVector
from psycopg import sql
from psycopg.rows import dict_row

from assistant.db import Database
from assistant.embed import Embedder, Vector
from assistant.errors import PlanError
from assistant.filters import CompiledFilters, compile_filters
from assistant.models import LikeTarget
from assistant.resources import query

# Metadata a match can share with its target (attributes are compared key by key as well).
PROFILE_FIELDS = ("category", "subcategory", "severity", "entity_id", "currency", "status")


@dataclass(frozen=True)
class Seed:
    """Where a similarity search starts: a vector, the target's own events, what the target looks like."""

    vector: Vector
    ids: list[int]
    profile: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def make_seed(db: Database, embedder: Embedder, like: LikeTarget, compiled: CompiledFilters) -> Seed:
    """The seed for an event id, or for an entity's events inside the filter window."""
    if like.kind == "event":
        event_id = _event_id(like.value)
        row = db.fetch_one("select_event_embedding", {"id": event_id, "model": embedder.name})
        if row is None:
            raise PlanError(f"event {like.value} does not exist or has no embedding")
        return Seed(to_array(row["embedding"]), [event_id], profile_of(_fields(db, [event_id])))
    notes: list[str] = []
    row = _centroid(db, embedder, like.value, compiled)
    if row["centroid"] is None:
        notes.append(f"{like.value} has no events inside the filters; its centroid uses all its events")
        row = _centroid(db, embedder, like.value, compile_filters([]))
    if row["centroid"] is None:
        raise PlanError(f"no events are stored for entity {like.value!r}")
    ids = list(row["ids"])
    return Seed(to_array(row["centroid"]), ids, profile_of(_fields(db, ids)), notes)


def profile_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Values that most of the target's events share: the fields and attribute keys a match is compared on."""
    counts: Counter[tuple[str, Any]] = Counter()
    for event in events:
        counts.update((name, value) for name, value in flatten(event).items() if value not in (None, ""))
    return {name: value for (name, value), n in counts.most_common() if 2 * n > len(events)}


def shared_with(fields: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    """The part of the target's profile that a match carries too."""
    mine = flatten(fields)
    return {name: value for name, value in profile.items() if mine.get(name) == value}


def flatten(fields: dict[str, Any]) -> dict[str, Any]:
    """Profile fields plus attributes as `attributes.<key>`, with hashable values only."""
    flat = {name: fields.get(name) for name in PROFILE_FIELDS}
    for key, value in (fields.get("attributes") or {}).items():
        if isinstance(value, str | int | float | bool):
            flat[f"attributes.{key}"] = value
    return flat


def to_array(value: Any) -> Vector:
    """A stored vector as numpy: pgvector's loader gives a `pgvector.Vector`."""
    return np.asarray(value.to_numpy() if isinstance(value, PgVector) else value, dtype=np.float32)


def _centroid(db: Database, embedder: Embedder, entity_id: str, compiled: CompiledFilters) -> dict[str, Any]:
    statement = sql.SQL(query("select_entity_centroid")).format(where=compiled.where)
    with db.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(statement, {**compiled.params, "entity_id": entity_id, "model": embedder.name})
        row = cur.fetchone()
    assert row is not None  # an aggregate always returns one row
    return row


def _fields(db: Database, ids: list[int]) -> list[dict[str, Any]]:
    return db.fetch_all("select_events_by_ids", {"ids": ids[:1000]})


def _event_id(value: str) -> int:
    try:
        return int(value.lstrip("#"))
    except ValueError:
        raise PlanError(f"{value!r} is not an event id") from None
