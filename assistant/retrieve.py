"""Find the events closest to a query vector under a plan's filters (exact or HNSW)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from psycopg import sql
from psycopg.rows import dict_row

from assistant.db import Database
from assistant.embed import Embedder, Vector
from assistant.errors import PlanError
from assistant.filters import CompiledFilters, compile_filters
from assistant.models import EventHit, QueryPlan
from assistant.resources import query

HNSW_MAX_SCAN_TUPLES = 200_000


@dataclass(frozen=True)
class Retrieval:
    """The hits for a plan, how many events matched its filters, and how they were searched."""

    hits: list[EventHit]
    matched: int
    method: str  # "exact" or "hnsw"
    seed_ids: list[int]  # the "like" target's own events, excluded from the hits


def retrieve(db: Database, embedder: Embedder, plan: QueryPlan, *, limit: int | None = None,
             exact_below: int = 20_000, ef_search: int = 100) -> Retrieval:
    """Top `limit` (default plan.k) events by cosine similarity under the plan's filters."""
    compiled = compile_filters(plan.filters)
    matched = _count(db, compiled)
    vector, seed_ids = _query_vector(db, embedder, plan)
    k = limit or plan.k
    params = {**compiled.params, "query": vector, "model": embedder.name, "k": k,
              "exclude_ids": seed_ids}
    method = "exact" if matched <= exact_below else "hnsw"
    with db.transaction() as conn:
        if method == "hnsw":
            conn.execute(query("set_hnsw_search"), {
                "ef_search": str(max(ef_search, k)),
                "max_scan_tuples": str(HNSW_MAX_SCAN_TUPLES)})
        statement = _search_sql(method, compiled, embedder)
        rows = conn.execute(statement, params).fetchall()
    hits = _with_fields(db, [(int(r[0]), float(r[1])) for r in rows])
    return Retrieval(hits=hits, matched=matched, method=method, seed_ids=seed_ids)


def _count(db: Database, compiled: CompiledFilters) -> int:
    statement = sql.SQL(query("count_matching_events")).format(where=compiled.where)
    row = db.conn.execute(statement, compiled.params).fetchone()
    return int(row[0]) if row else 0


def _search_sql(method: str, compiled: CompiledFilters, embedder: Embedder) -> sql.Composed:
    if method == "exact":
        return sql.SQL(query("search_events_exact")).format(where=compiled.where)
    # The model name is a literal here so that the planner can match the partial index.
    return sql.SQL(query("search_events_hnsw")).format(
        where=compiled.where, dimension=sql.Literal(embedder.dimension),
        model=sql.Literal(embedder.name))


def _query_vector(db: Database, embedder: Embedder, plan: QueryPlan) -> tuple[Vector, list[int]]:
    """The question's embedding, or the "like" target's vector and its own event ids."""
    if plan.like is None:
        return embedder.encode_one(plan.query), []
    if plan.like.kind == "event":
        row = db.fetch_one("select_event_embedding", {"id": _event_id(plan.like.value),
                                                      "model": embedder.name})
        if row is None:
            raise PlanError(f"event {plan.like.value} does not exist or has no embedding")
        return np.asarray(row["embedding"], dtype=np.float32), [_event_id(plan.like.value)]
    row = db.fetch_one("select_entity_centroid", {"entity_id": plan.like.value, "model": embedder.name})
    if row is None or row["centroid"] is None:
        raise PlanError(f"no events are stored for entity {plan.like.value!r}")
    return np.asarray(row["centroid"], dtype=np.float32), list(row["ids"])


def _event_id(value: str) -> int:
    try:
        return int(value.lstrip("#"))
    except ValueError:
        raise PlanError(f"{value!r} is not an event id") from None


def _with_fields(db: Database, scored: list[tuple[int, float]]) -> list[EventHit]:
    with db.conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query("select_events_by_ids"), {"ids": [i for i, _ in scored]})
        by_id: dict[int, dict[str, Any]] = {row["id"]: row for row in cur.fetchall()}
    return [EventHit(id=i, score=round(score, 4), fields=_public(by_id[i])) for i, score in scored]


def _public(row: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in row.items() if k != "id"}
    fields["occurred_at"] = row["occurred_at"].isoformat()
    fields["amount"] = None if row["amount"] is None else str(row["amount"])
    return fields
