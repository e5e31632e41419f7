"""Each embedding model's IVFFlat index: built once the model has enough vectors, rebuilt as they double.

An IVFFlat index splits the vectors into `lists` clusters learnt (k-means) from the rows it is built over,
and a search reads the few lists nearest the query. Its lists are only as good as the rows they were learnt
from, so the index is built from data, never at start-up, and rebuilt each time the model's vector count has
doubled since the last build (its number of lists grows with the data: pgvector's rule, rows / 1000 up to
1M rows, then their square root). migrations/0009_ivfflat.sql says why IVFFlat on halfvec replaced HNSW.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from assistant.db import Database
from assistant.resources import query

log = logging.getLogger(__name__)

# Below this many vectors a model has no index: every search is exact (a few thousand rows take
# milliseconds), and lists learnt from so few rows would not describe the data to come.
MIN_ROWS = 10_000
# An index is loaded into shared buffers (prewarm) only when it fills at most this share of them: a larger
# one would push out the tables and indexes that every search reads too, and would not stay.
PREWARM_MAX_SHARE = 0.5


@dataclass(frozen=True)
class IndexBuild:
    """One build of a model's index: its name, lists, the vectors it was built over, and seconds taken."""

    name: str
    lists: int
    rows: int
    seconds: float


def prefix(model: str) -> str:
    """The start of every index name of one model (a digest: model names are free text)."""
    return f"event_embeddings_ivf_{hashlib.sha256(model.encode()).hexdigest()[:10]}_"


def lists_for(rows: int) -> int:
    """pgvector's advice for IVFFlat: rows / 1000 lists up to 1M rows, sqrt(rows) above; at least 1."""
    return max(1, rows // 1000 if rows <= 1_000_000 else math.isqrt(rows))


def needs_build(vectors: int, indexed_rows: int | None, has_valid_index: bool, min_rows: int = MIN_ROWS) -> bool:
    """Whether the index should be (re)built: enough vectors, and none built yet or twice as many since."""
    if vectors < min_rows:
        return False
    if not has_valid_index or indexed_rows is None:
        return True
    return vectors >= 2 * indexed_rows


@dataclass(frozen=True)
class IndexState:
    """Whether a model has a valid index to search, and how many vectors it was built over."""

    valid: bool
    indexed_rows: int | None


def state(db: Database, model: str) -> IndexState:
    """The model's index as a search sees it (without one, its searches are exact)."""
    with db.connection() as conn:
        return state_in(conn, model)


def state_in(conn: psycopg.Connection[Any], model: str) -> IndexState:
    """state(), read on a connection the caller already holds (a search reads it in its own transaction)."""
    row = conn.execute(query("select_vector_index_state"), {"prefix": prefix(model), "model": model}).fetchone()
    if row is None:
        return IndexState(False, None)
    return IndexState(bool(row[0]), None if row[1] is None else int(row[1]))


def has_index(db: Database, model: str) -> bool:
    """Whether the model has a valid index to search (else its searches are exact)."""
    return state(db, model).valid


def scaled_probes(probes: int, max_probes: int, matched: int, vectors: int | None) -> int:
    """Lists to read for a search whose filters keep `matched` of `vectors`: `probes` scaled by the inverse of
    that share, so that about as many matching rows are read as an unfiltered search reads (a filter that
    keeps events far from the question, such as a category, leaves few of them in the nearest lists), and
    never more than `max_probes`."""
    if not vectors or matched >= vectors:
        return probes
    return max(probes, min(max_probes, math.ceil(probes * vectors / max(matched, 1))))


def maintain(db: Database, model: str, dimension: int, *, min_rows: int = MIN_ROWS,
             force: bool = False, lists: int | None = None, quick: bool = False) -> IndexBuild | None:
    """Build or rebuild the model's index when it needs it (or `force`, with `lists` in place of the rule's
    number); the build, or None if none ran. `quick` (start-up): trust the planner's row estimate to skip the
    exact count when the index surely needs no rebuild (ingestion counts: the estimate lags behind inserts).

    The build runs CONCURRENTLY (searches and ingestion go on; the old index serves until the new one is
    valid, then is dropped) under a lock, so that two processes never build the same model's index at once."""
    if quick and not force and _surely_current(db, model):
        return None
    with db.admin_connection() as conn:
        conn.autocommit = True  # CREATE INDEX CONCURRENTLY cannot run inside a transaction
        locked = conn.execute(query("try_lock_embedding_index"), {"model": model}).fetchone()
        if not locked or not locked[0]:
            log.info("another process is building the index of %s: not building it here", model)
            return None
        conn.execute(query("set_session_all_scopes"))
        counted = conn.execute(query("count_model_vectors"), {"model": model}).fetchone()
        vectors, indexed_rows = (int(counted[0]), counted[1]) if counted else (0, None)
        existing = conn.execute(query("select_embedding_indexes"), {"prefix": prefix(model)}).fetchall()
        valid = any(row[1] for row in existing)
        if not force and not needs_build(vectors, indexed_rows, valid, min_rows):
            return None
        lists = lists or lists_for(vectors)
        name = f"{prefix(model)}{lists}_{vectors}"  # a new name per build: the old index serves meanwhile
        if db.index_build_memory is not None:
            conn.execute(query("set_maintenance_work_mem"), {"value": db.index_build_memory})
        for old_name, old_valid, _ in existing:  # a build that failed half-way left an invalid index
            if old_name == name or not old_valid:
                _drop(conn, old_name)
        log.info("building the vector index of %s: %d lists over %d vectors", model, lists, vectors)
        started = time.perf_counter()
        try:
            conn.execute(sql.SQL(query("create_embedding_index")).format(
                index=sql.Identifier(name), dimension=sql.Literal(dimension), lists=sql.Literal(lists),
                model=sql.Literal(model)))
        except psycopg.Error as err:
            # The vectors are stored whatever happens here; only the index is missing (searches stay exact,
            # or keep the old index), and the next ingest or start-up tries again.
            log.warning("building the vector index of %s failed (%s); searches use %s", model,
                        err.sqlstate or type(err).__name__, "the previous index" if valid else "exact scans")
            _drop(conn, name)  # CONCURRENTLY leaves an invalid index behind, which inserts would keep updating
            return None
        seconds = time.perf_counter() - started
        for old_name, old_valid, _ in existing:
            if old_name != name and old_valid:
                _drop(conn, old_name)
        conn.execute(query("update_indexed_rows"), {"rows": vectors, "model": model})
        log.info("built %s in %.1f s", name, seconds)
        _prewarm(conn, model)
        return IndexBuild(name, lists, vectors, seconds)


def prewarm(db: Database, model: str) -> int | None:
    """Load the model's index into shared buffers, as maintain() does after each build (the app calls this when
    it starts: a server restart empties them). The blocks loaded; None when none were: no index, no pg_prewarm
    (migrations/0010_pg_prewarm.sql), or an index over PREWARM_MAX_SHARE of shared_buffers.

    Why: pgvector's IVFFlat scan reads its lists through a small ring of buffers, so pages that are not in
    shared buffers already are copied in from the OS cache by every search, and never stay."""
    with db.admin_connection() as conn:
        return _prewarm(conn, model)


def _prewarm(conn: psycopg.Connection[Any], model: str) -> int | None:
    target = conn.execute(query("select_prewarm_target"), {"prefix": prefix(model)}).fetchone()
    if target is None:
        return None
    oid, name, size, shared_buffers, schema = target
    if schema is None:
        log.info("pg_prewarm is not installed: %s is not preloaded into shared buffers", name)
        return None
    if size > PREWARM_MAX_SHARE * shared_buffers:
        log.info("%s (%d MB) is over %.0f%% of shared_buffers (%d MB): not preloaded (RISK_PG_SHARED_BUFFERS sets "
                 "the embedded server's; another server keeps its own)", name, size >> 20, PREWARM_MAX_SHARE * 100,
                 shared_buffers >> 20)
        return None
    started = time.perf_counter()
    try:
        row = conn.execute(sql.SQL(query("prewarm_relation")).format(schema=sql.Identifier(schema)),
                           {"oid": oid}).fetchone()
    except psycopg.Error as err:
        # Preloading only speeds searches up: an index dropped by a rebuild meanwhile, or a relation the admin
        # login may not read, leaves them as they were.
        log.warning("preloading %s into shared buffers failed (%s): searches read it from disk", name,
                    err.sqlstate or type(err).__name__)
        return None
    blocks = int(row[0]) if row else 0
    log.info("preloaded %s into shared buffers: %d blocks in %.2f s", name, blocks, time.perf_counter() - started)
    return blocks


def _surely_current(db: Database, model: str) -> bool:
    """Whether the model's index cannot need a rebuild, read without counting its vectors: it has a valid
    one, and event_embeddings holds (by the planner's estimate, every model's rows) fewer than twice the
    vectors it was built over. Start-up then costs no count of a million rows."""
    index = state(db, model)
    if not index.valid or index.indexed_rows is None:
        return False
    row = db.fetch_one("estimate_model_vectors")
    return row is not None and 0 <= int(row["estimate"]) < 2 * index.indexed_rows


def drop(db: Database, model: str) -> None:
    """Drop every index of the model (its searches become exact until the next build)."""
    with db.admin_connection() as conn:
        conn.autocommit = True
        for name, _, _ in conn.execute(query("select_embedding_indexes"), {"prefix": prefix(model)}).fetchall():
            _drop(conn, name)
        conn.execute(query("update_indexed_rows"), {"rows": None, "model": model})


def _drop(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute(sql.SQL(query("drop_embedding_index")).format(index=sql.Identifier(name)))
