"""Find the events for a plan under its filters: by vector (exact or IVFFlat), BM25 keywords, or both fused."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from assistant import bm25, vector_index
from assistant.config import Settings
from assistant.db import Database
from assistant.embed import Embedder
from assistant.filters import CompiledFilters, compile_filters
from assistant.models import EventHit, QueryPlan
from assistant.resources import query
from assistant.similar import Seed, make_seed, shared_with

MIN_CANDIDATES = 100  # each side of a hybrid search ranks at least this many events before fusion
# A dense IVFFlat search takes this many times k candidates (at least k + RERANK_MIN_EXTRA) from the
# half-precision index and re-ranks them by the float distance: on 1M clustered vectors, re-ranking only
# the top k kept recall@10 at 0.997 (halfvec rounding swaps near-ties), twice k gave 1.000 (bench/README.md).
RERANK_FACTOR = 2
RERANK_MIN_EXTRA = 10

RetrievalMode = Literal["hybrid", "dense", "keyword"]
Count = Literal["exact", "bounded"]
Row = tuple[Any, ...]
Connection = psycopg.Connection[Any]

_QUERIES: dict[tuple[str, str], str] = {
    ("dense", "exact"): "search_events_exact", ("dense", "ivf"): "search_events_ivf",
    ("hybrid", "exact"): "search_hybrid_exact", ("hybrid", "ivf"): "search_hybrid_ivf",
    ("keyword", "bm25"): "search_events_keyword",
}


@dataclass(frozen=True)
class Fusion:
    """Reciprocal rank fusion: score = vector_weight/(k + vector rank) + keyword_weight/(k + keyword rank)."""

    # The defaults are the settings' defaults (one source: assistant/config.py says why they are what they are).
    k: int = Settings.model_fields["rrf_k"].default
    vector_weight: float = Settings.model_fields["vector_weight"].default
    keyword_weight: float = Settings.model_fields["keyword_weight"].default

    @classmethod
    def from_settings(cls, settings: Settings) -> Fusion:
        """The fusion the settings ask for."""
        return cls(settings.rrf_k, settings.vector_weight, settings.keyword_weight)


@dataclass(frozen=True)
class HitRanks:
    """How one hit ranked on each side; None where that side did not rank it (in SQL ranks, ties share one)."""

    similarity: float | None = None  # cosine similarity to the query vector
    vector_rank: int | None = None
    keyword_score: float | None = None  # BM25 score of the keyword text (migrations/0008_bm25.sql)
    keyword_rank: int | None = None


@dataclass(frozen=True)
class Retrieval:
    """The hits for a plan, how many events matched its filters, and how they were searched."""

    hits: list[EventHit]
    matched: int
    method: str  # "exact" or "ivf" (the vector side), or "bm25" for keyword-only
    seed_ids: list[int]  # the "like" target's own events, excluded from the hits
    mode: RetrievalMode = "dense"  # the mode that ran: keyword-only falls back to dense without keywords
    ranks: dict[int, HitRanks] = field(default_factory=dict)  # by event id
    notes: list[str] = field(default_factory=list)
    probes: int | None = None  # the IVFFlat lists read first (scaled by the filters' share), for "ivf"


def retrieve(db: Database, embedder: Embedder, plan: QueryPlan, *, limit: int | None = None,
             exact_below: int = Settings.model_fields["exact_search_below"].default,
             probes: int = Settings.model_fields["ivf_probes"].default,
             max_probes: int = Settings.model_fields["ivf_max_probes"].default, mode: RetrievalMode = "dense",
             fusion: Fusion | None = None,
             work_mem: str = Settings.model_fields["search_work_mem"].default,
             matched: int | None = None, count: Count = "exact") -> Retrieval:
    """Top `limit` (default plan.k) events under the filters by similarity, BM25 keyword score, or both fused.

    `matched`: how many events the filters match, when the caller knows it. Else they are counted: exactly
    (`count="exact"`: the answer reports that count), or only as far as the choice of method needs
    (`"bounded"`: estimate_matching's rule, for a caller that needs the hits alone: beyond the exact bound it
    reports the planner's estimate, and the IVFFlat probes scale with that).

    From the count on, the search runs on one connection, in one transaction: a search at 1M events takes a
    few tens of milliseconds, and each borrowed connection costs several round trips."""
    compiled = compile_filters(plan.filters)
    seed = _seed(db, embedder, plan, compiled)  # before borrowing a connection: embedding takes the CPU a while
    k = limit or plan.k
    keywords = keyword_text(plan)
    if mode == "keyword" and not bm25.has_terms(db, keywords):
        mode = "dense"  # nothing to match on: rank by similarity instead
    if plan.like is not None and not plan.keywords and mode == "hybrid":
        mode = "dense"  # "like X" is about X's vector; the words of the question ("cases like") are noise
    fusion = fusion or Fusion()
    if plan.keywords and fusion.keyword_weight > 0:
        # Terms the analyst asked for by name weigh as much as the vector side, not as a hint (weight 0 turns
        # the keyword side off, and stays off).
        fusion = replace(fusion, keyword_weight=max(fusion.keyword_weight, fusion.vector_weight))
    with db.transaction() as conn:
        if matched is None:
            matched = _count(conn, compiled) if count == "exact" else _estimate(conn, compiled, exact_below)
        # The index's state is read only when the index could serve: most searches are exact or keyword-only.
        needs_index = mode != "keyword" and matched > exact_below
        index = vector_index.state_in(conn, embedder.name) if needs_index else vector_index.IndexState(False, None)
        method = "bm25" if mode == "keyword" else "ivf" if index.valid else "exact"
        probes = vector_index.scaled_probes(probes, max_probes, matched, index.indexed_rows)
        params = {**compiled.params, "query": seed.vector, "model": embedder.name, "k": k,
                  "exclude_ids": seed.ids, "keywords": keywords,
                  "candidates": rerank_width(k) if mode == "dense" else candidates(k),
                  "rrf_k": fusion.k, "vector_weight": fusion.vector_weight, "keyword_weight": fusion.keyword_weight}
        if method == "ivf":  # one statement for the search's settings: one round trip
            conn.execute(query("set_ivf_search"),
                         {"work_mem": work_mem, "probes": str(probes), "max_probes": str(max_probes)})
        else:
            conn.execute(query("set_search_work_mem"), {"work_mem": work_mem})
        rows: list[Row] = conn.execute(_search_sql(mode, method, compiled, embedder), params).fetchall()
        if method == "ivf" and mode == "dense" and len(rows) < min(k, matched - len(seed.ids)):
            # The lists read (at most max_probes) held fewer matching events than asked for: a filter that
            # keeps events far from the question. The exact scan finds them all.
            method = "exact"
            rows = conn.execute(_search_sql(mode, method, compiled, embedder), params).fetchall()
        # Cosine similarities keep the 4 decimals they always had; fused scores need more to stay distinct.
        hits = _with_fields(conn, [(int(r[0]), float(r[1])) for r in rows], digits=4 if mode == "dense" else 6)
    if seed.profile:
        hits = [h.model_copy(update={"shared": shared_with(h.fields, seed.profile)}) for h in hits]
    return Retrieval(hits=hits, matched=matched, method=method, seed_ids=seed.ids, mode=mode,
                     ranks=_ranks(mode, rows), notes=seed.notes, probes=probes if method == "ivf" else None)


def keyword_text(plan: QueryPlan) -> str:
    """The BM25 query text: the plan's keywords when it has any, else its query text."""
    # Its terms are alternatives either way (any one matching counts): BM25 ranks the events that hold more
    # of them, and rarer ones, higher. PostgreSQL's English configuration makes the terms, as for the events.
    return " ".join(plan.keywords) if plan.keywords else plan.query


def candidates(limit: int) -> int:
    """How many events each side of a hybrid search ranks before fusion."""
    return max(limit * 4, MIN_CANDIDATES)


def rerank_width(limit: int) -> int:
    """How many candidates a dense IVFFlat search re-ranks by the exact distance (an exact search: unused)."""
    return max(limit * RERANK_FACTOR, limit + RERANK_MIN_EXTRA)


def count_matching(db: Database, compiled: CompiledFilters) -> int:
    """How many events the compiled filters match."""
    with db.connection() as conn:
        return _count(conn, compiled)


def estimate_matching(db: Database, compiled: CompiledFilters, exact_up_to: int) -> int:
    """How many events the filters match as far as a search needs: counted exactly up to `exact_up_to`
    (the exact scan's bound), the planner's estimate beyond (a count of a million rows takes 0.1 s)."""
    with db.connection() as conn:
        return _estimate(conn, compiled, exact_up_to)


def _count(conn: Connection, compiled: CompiledFilters) -> int:
    statement = sql.SQL(query("count_matching_events")).format(where=compiled.where)
    row = conn.execute(statement, compiled.params).fetchone()
    return int(row[0]) if row else 0


def _estimate(conn: Connection, compiled: CompiledFilters, exact_up_to: int) -> int:
    statement = sql.SQL(query("count_matching_events_up_to")).format(where=compiled.where)
    row = conn.execute(statement, {**compiled.params, "limit": exact_up_to + 1}).fetchone()
    counted = int(row[0]) if row else 0
    if counted <= exact_up_to:
        return counted
    plan = conn.execute(sql.SQL(query("estimate_matching_events")).format(where=compiled.where),
                        compiled.params).fetchone()
    return max(counted, int(plan[0][0]["Plan"]["Plan Rows"])) if plan else counted


def _search_sql(mode: str, method: str, compiled: CompiledFilters, embedder: Embedder) -> sql.Composed:
    # The model name is a literal so that the planner can match the model's partial IVFFlat index.
    return sql.SQL(query(_QUERIES[mode, method])).format(
        where=compiled.where, dimension=sql.Literal(embedder.dimension), model=sql.Literal(embedder.name))


def _ranks(mode: str, rows: list[Row]) -> dict[int, HitRanks]:
    if mode == "dense":  # (id, similarity) in order
        return {int(r[0]): HitRanks(similarity=float(r[1]), vector_rank=n) for n, r in enumerate(rows, start=1)}
    return {int(r[0]): HitRanks(similarity=_float(r[2]), vector_rank=_int(r[3]), keyword_score=_float(r[4]),
                                keyword_rank=_int(r[5])) for r in rows}


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _seed(db: Database, embedder: Embedder, plan: QueryPlan, compiled: CompiledFilters) -> Seed:
    """The question's embedding, or the "like" target's vector, own events and profile."""
    if plan.like is None:
        return Seed(embedder.encode_one(plan.query), [], {})
    return make_seed(db, embedder, plan.like, compiled)


def _with_fields(conn: Connection, scored: list[tuple[int, float]], digits: int) -> list[EventHit]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query("select_events_by_ids"), {"ids": [i for i, _ in scored]}).fetchall()
    by_id: dict[int, dict[str, Any]] = {row["id"]: row for row in rows}
    return [EventHit(id=i, score=round(score, digits), fields=_public(by_id[i])) for i, score in scored]


def _public(row: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in row.items() if k != "id"}
    fields["occurred_at"] = row["occurred_at"].isoformat()
    fields["amount"] = None if row["amount"] is None else str(row["amount"])
    return fields
