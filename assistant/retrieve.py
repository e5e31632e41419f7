"""Find the events for a plan under its filters: by vector (exact or HNSW), BM25 keywords, or both fused."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from psycopg import sql

from assistant import bm25
from assistant.config import Settings
from assistant.db import Database
from assistant.embed import Embedder
from assistant.filters import CompiledFilters, compile_filters
from assistant.models import EventHit, QueryPlan
from assistant.resources import query
from assistant.similar import Seed, make_seed, shared_with

HNSW_MAX_SCAN_TUPLES = 200_000
HNSW_MAX_EF_SEARCH = 1000  # pgvector's upper bound for hnsw.ef_search
MIN_CANDIDATES = 100  # each side of a hybrid search ranks at least this many events before fusion

RetrievalMode = Literal["hybrid", "dense", "keyword"]
Row = tuple[Any, ...]

_QUERIES: dict[tuple[str, str], str] = {
    ("dense", "exact"): "search_events_exact", ("dense", "hnsw"): "search_events_hnsw",
    ("hybrid", "exact"): "search_hybrid_exact", ("hybrid", "hnsw"): "search_hybrid_hnsw",
    ("keyword", "full-text"): "search_events_keyword",
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
    method: str  # "exact" or "hnsw" (the vector side), or "full-text" for keyword-only (BM25)
    seed_ids: list[int]  # the "like" target's own events, excluded from the hits
    mode: RetrievalMode = "dense"  # the mode that ran: keyword-only falls back to dense without keywords
    ranks: dict[int, HitRanks] = field(default_factory=dict)  # by event id
    notes: list[str] = field(default_factory=list)


def retrieve(db: Database, embedder: Embedder, plan: QueryPlan, *, limit: int | None = None,
             exact_below: int = Settings.model_fields["exact_search_below"].default,
             ef_search: int = Settings.model_fields["hnsw_ef_search"].default, mode: RetrievalMode = "dense",
             fusion: Fusion | None = None,
             work_mem: str = Settings.model_fields["search_work_mem"].default) -> Retrieval:
    """Top `limit` (default plan.k) events under the filters by similarity, BM25 keyword score, or both fused."""
    compiled = compile_filters(plan.filters)
    matched = count_matching(db, compiled)
    seed = _seed(db, embedder, plan, compiled)
    k = limit or plan.k
    keywords = keyword_text(plan)
    if mode == "keyword" and not bm25.has_terms(db, keywords):
        mode = "dense"  # nothing to match on: rank by similarity instead
    if plan.like is not None and not plan.keywords and mode == "hybrid":
        mode = "dense"  # "like X" is about X's vector; the words of the question ("cases like") are noise
    method = "full-text" if mode == "keyword" else "exact" if matched <= exact_below else "hnsw"
    fusion = fusion or Fusion()
    if plan.keywords and fusion.keyword_weight > 0:
        # Terms the analyst asked for by name weigh as much as the vector side, not as a hint (weight 0 turns
        # the keyword side off, and stays off).
        fusion = replace(fusion, keyword_weight=max(fusion.keyword_weight, fusion.vector_weight))
    params = {**compiled.params, "query": seed.vector, "model": embedder.name, "k": k,
              "exclude_ids": seed.ids, "keywords": keywords, "candidates": candidates(k),
              "rrf_k": fusion.k, "vector_weight": fusion.vector_weight, "keyword_weight": fusion.keyword_weight}
    width = k if mode == "dense" else candidates(k)
    with db.transaction() as conn:
        conn.execute(query("set_search_work_mem"), {"work_mem": work_mem})
        if method == "hnsw":
            conn.execute(query("set_hnsw_search"), {
                "ef_search": str(min(max(ef_search, width), HNSW_MAX_EF_SEARCH)),
                "max_scan_tuples": str(HNSW_MAX_SCAN_TUPLES)})
        rows: list[Row] = conn.execute(_search_sql(mode, method, compiled, embedder), params).fetchall()
    # Cosine similarities keep the 4 decimals they always had; fused scores need more to stay distinct.
    hits = _with_fields(db, [(int(r[0]), float(r[1])) for r in rows], digits=4 if mode == "dense" else 6)
    if seed.profile:
        hits = [h.model_copy(update={"shared": shared_with(h.fields, seed.profile)}) for h in hits]
    return Retrieval(hits=hits, matched=matched, method=method, seed_ids=seed.ids, mode=mode,
                     ranks=_ranks(mode, rows), notes=seed.notes)


def keyword_text(plan: QueryPlan) -> str:
    """The BM25 query text: the plan's keywords when it has any, else its query text."""
    # Its terms are alternatives either way (any one matching counts): BM25 ranks the events that hold more
    # of them, and rarer ones, higher. PostgreSQL's English configuration makes the terms, as for the events.
    return " ".join(plan.keywords) if plan.keywords else plan.query


def candidates(limit: int) -> int:
    """How many events each side of a hybrid search ranks before fusion."""
    return max(limit * 4, MIN_CANDIDATES)


def count_matching(db: Database, compiled: CompiledFilters) -> int:
    """How many events the compiled filters match."""
    statement = sql.SQL(query("count_matching_events")).format(where=compiled.where)
    rows = db.execute(statement, compiled.params)
    return int(rows[0][0]) if rows else 0


def _search_sql(mode: str, method: str, compiled: CompiledFilters, embedder: Embedder) -> sql.Composed:
    # The model name is a literal so that the planner can match the partial HNSW index.
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


def _with_fields(db: Database, scored: list[tuple[int, float]], digits: int) -> list[EventHit]:
    rows = db.fetch_all("select_events_by_ids", {"ids": [i for i, _ in scored]})
    by_id: dict[int, dict[str, Any]] = {row["id"]: row for row in rows}
    return [EventHit(id=i, score=round(score, digits), fields=_public(by_id[i])) for i, score in scored]


def _public(row: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in row.items() if k != "id"}
    fields["occurred_at"] = row["occurred_at"].isoformat()
    fields["amount"] = None if row["amount"] is None else str(row["amount"])
    return fields
