"""Filtered vector search latency and recall@10 per filter selectivity, against the exact scan in this run.

Paths: exact (the exact scan), retrieve (the product's choice: exact up to RISK_EXACT_SEARCH_BELOW matches, the
IVFFlat index above), ivf (the index whatever the selectivity), before (with --before: the previous release,
exact up to 100,000 matches and an HNSW index of m 32 / ef_construction 128 searched at ef_search 1000 above),
pgvector (with --pgvector-compare: langchain-postgres' PGVector, in its own venv), and count: the exact count
of the matching events that an answer reports beside its search (no search, no recall).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pgvector.psycopg import register_vector
from psycopg import sql

from assistant import vector_index
from assistant.config import Settings
from assistant.db import Database
from assistant.embed import Embedder, Vector
from assistant.filters import compile_filters
from assistant.models import Filter, QueryPlan
from assistant.resources import query
from assistant.retrieve import Retrieval, count_matching, estimate_matching, retrieve
from assistant.server import EmbeddedServer

BENCH = Path(__file__).resolve().parent
COMPARE_PYTHON = BENCH / ".venv-lcpg" / "bin" / "python"
MODEL = "bench-synthetic"
SEARCH_WORK_MEM = Settings().search_work_mem  # RISK_SEARCH_WORK_MEM, as the product runs it
CLUSTERS = 200
NOISE = 0.6  # norm of the noise added to a unit cluster centre, before re-normalising
K = 10
# (label, share of rows, filter) -- the 100% level filters on the column every row shares.
LEVELS: list[tuple[str, float, Filter]] = [
    ("0.1%", 0.001, Filter(field="status", op="eq", value="sel_0.1")),
    ("1%", 0.01, Filter(field="status", op="eq", value="sel_1")),
    ("10%", 0.1, Filter(field="status", op="eq", value="sel_10")),
    ("100%", 1.0, Filter(field="source", op="eq", value="bench")),
]
# name -> exact_below; "retrieve" is the product's automatic choice (RISK_EXACT_SEARCH_BELOW).
PATHS: dict[str, int] = {"exact": 10**12, "retrieve": Settings().exact_search_below, "ivf": 0}
# The previous release's path ("before"), rebuilt here for comparison: exact up to 100,000 matches, else its
# HNSW index (m 32, ef_construction 128: the index 0001 to 0008 built) searched at ef_search 1000.
MAX_PROBES = Settings().ivf_max_probes
BEFORE_EXACT_BELOW = 100_000
BEFORE_EF_SEARCH = 1000
BEFORE_INDEX = ("CREATE INDEX bench_before_hnsw ON event_embeddings USING hnsw ((embedding::vector({dim})) "
                "vector_cosine_ops) WITH (m = 32, ef_construction = 128) WHERE model = '" + MODEL + "'")
BEFORE_SEARCH = """SELECT id, score FROM (
    SELECT ev.id, em.embedding::vector({dim}) <=> %(query)s::vector({dim}) AS distance,
           1 - (em.embedding::vector({dim}) <=> %(query)s::vector({dim})) AS score
    FROM event_embeddings em JOIN risk_events ev ON ev.id = em.event_id
    WHERE em.model = '""" + MODEL + """' AND {where}
    ORDER BY em.embedding::vector({dim}) <=> %(query)s::vector({dim}) LIMIT %(k)s) hits ORDER BY distance, id"""
BEFORE_SETTINGS = ("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
                   "set_config('hnsw.ef_search', '1000', true), set_config('hnsw.max_scan_tuples', '200000', true)")
# Benchmark-only SQL: bulk loading synthetic rows and reading sizes is no part of the package.
COPY_EVENTS = ("COPY risk_events (source, source_id, occurred_at, category, status, text, content_hash) "
               "FROM STDIN (FORMAT BINARY)")
COPY_EMBEDDINGS = "COPY event_embeddings (event_id, model, content_hash, embedding) FROM STDIN (FORMAT BINARY)"
SIZES = ("SELECT pg_total_relation_size('risk_events'), pg_total_relation_size('event_embeddings'), "
         "(SELECT coalesce(sum(pg_relation_size(indexrelid)), 0) FROM pg_index i JOIN pg_class c "
         "ON c.oid = i.indexrelid WHERE i.indrelid = 'event_embeddings'::regclass AND c.relname LIKE %s), "
         "(SELECT coalesce(sum(pg_relation_size(indexrelid)), 0) FROM pg_index i JOIN pg_class c "
         "ON c.oid = i.indexrelid WHERE c.relname = 'bench_before_hnsw')")
SETTINGS = ("SELECT current_setting('server_version'), (SELECT extversion FROM pg_extension WHERE extname = 'vector'), "
            "current_setting('maintenance_work_mem'), current_setting('max_parallel_maintenance_workers'), "
            "current_setting('shared_buffers')")


@dataclass(frozen=True)
class Corpus:
    """The synthetic vectors, each row's status value, and the query vectors."""

    vectors: Vector
    status: list[str]
    queries: Vector


@dataclass
class Timings:
    """Latencies (ms) and recall@10 of one path at one selectivity."""

    latencies: list[float]
    recalls: list[float]
    matched: int = 0
    methods: tuple[str, ...] = ()


class FixedEmbedder(Embedder):
    """A benchmark harness in the embedder's place: encode_one returns the vector it was last given."""

    def __init__(self, name: str, dimension: int) -> None:
        self.name, self.dimension = name, dimension
        self.vector: Vector = np.zeros(dimension, dtype=np.float32)

    def encode_one(self, text: str) -> Vector:
        """The current query vector, whatever the text."""
        return self.vector


def parse_args() -> argparse.Namespace:
    """The command line: --rows, --queries, --dim, --seed, --probes, --warmup, --before, --pgvector-compare."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--probes", type=int, default=Settings().ivf_probes,
                        help="ivfflat.probes for the index path (default: the RISK_IVF_PROBES setting)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="untimed passes over the queries before the timed one (default 1)")
    parser.add_argument("--before", action="store_true",
                        help="also build the previous release's HNSW index and time its path")
    parser.add_argument("--pgvector-compare", action="store_true",
                        help=f"also time langchain-postgres' PGVector, run with {COMPARE_PYTHON}")
    args = parser.parse_args()
    if args.rows < vector_index.MIN_ROWS:
        parser.error(f"--rows must be at least {vector_index.MIN_ROWS}, the fewest vectors given an index")
    if args.pgvector_compare and not COMPARE_PYTHON.exists():
        parser.error(f"{COMPARE_PYTHON} not found; create it as bench/README.md says")
    return args


def unit(rows: npt.NDArray[np.float64]) -> Vector:
    """Rows scaled to unit length, as float32."""
    scaled: Vector = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return scaled


def make_corpus(rows: int, queries: int, dim: int, seed: int) -> Corpus:
    """Clustered unit vectors, a status per row in shuffled exact shares, and queries from the same clusters."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((CLUSTERS, dim)))

    def around(count: int) -> Vector:
        noise = rng.standard_normal((count, dim)) * (NOISE / np.sqrt(dim))
        return unit(centres[rng.integers(0, CLUSTERS, count)] + noise)

    status = ["other"] * rows
    start = 0
    for label, share, _ in LEVELS[:-1]:
        count = round(rows * share)
        status[start:start + count] = [f"sel_{label.rstrip('%')}"] * count
        start += count
    order = rng.permutation(rows)
    return Corpus(around(rows), [status[i] for i in order], around(queries))


def load_corpus(db: Database, corpus: Corpus) -> float:
    """COPY the events and their vectors (binary); seconds taken. Event ids are 1..n in a fresh database."""
    started = time.perf_counter()
    now, digest = dt.datetime.now(dt.UTC), b"\x00" * 32
    # The admin login: COPY is refused on tables under row-level security, and ANALYZE is the owner's.
    with db.admin_connection() as conn:
        register_vector(conn)
        # The model row must exist for the vectors' foreign key; its index comes later, timed apart.
        conn.execute(query("insert_embedding_model"), {"name": MODEL, "dimension": corpus.vectors.shape[1]})
        with conn.cursor().copy(COPY_EVENTS) as copy:
            copy.set_types(["text", "text", "timestamptz", "text", "text", "text", "bytea"])
            for i, status in enumerate(corpus.status):
                copy.write_row(["bench", str(i + 1), now, "synthetic", status, f"event {i + 1}", digest])
        with conn.cursor().copy(COPY_EMBEDDINGS) as copy:
            copy.set_types(["int8", "text", "bytea", "vector"])
            for i, vector in enumerate(corpus.vectors):
                copy.write_row([i + 1, MODEL, digest, vector])
        first, last = conn.execute("SELECT min(id), max(id) FROM risk_events").fetchone() or (0, 0)
        assert (first, last) == (1, len(corpus.status)), "event ids must be 1..n: use a fresh database"
    with db.admin_connection() as conn:
        conn.execute("ANALYZE risk_events")
        conn.execute("ANALYZE event_embeddings")
    return time.perf_counter() - started


def build_index(db: Database, dim: int) -> vector_index.IndexBuild:
    """Register the model and build its IVFFlat index as ingestion would (lists by pgvector's rule)."""
    db.ensure_embedding_model(MODEL, dim)
    built = vector_index.maintain(db, MODEL, dim)
    assert built is not None, f"{MODEL} needs at least {vector_index.MIN_ROWS} vectors for an index"
    return built


def build_before_index(db: Database, dim: int) -> float:
    """The previous release's HNSW index, built the way it was (RISK_INDEX_BUILD_MEMORY); seconds taken."""
    started = time.perf_counter()
    with db.admin_connection() as conn:
        if db.index_build_memory is not None:
            conn.execute(query("set_maintenance_work_mem"), {"value": db.index_build_memory})
        conn.execute(BEFORE_INDEX.format(dim=dim))
    return time.perf_counter() - started


@dataclass(frozen=True)
class Found:
    """What one search returned: hit ids, how many events matched, and how it searched."""

    ids: list[int]
    matched: int
    method: str


def search(db: Database, embedder: FixedEmbedder, level: Filter, path: str, probes: int,
           matched: int) -> tuple[Found, float]:
    """One search by `path` (a PATHS key, or "before"): what it found, and milliseconds.

    Each path counts the matching events only as far as its choice of method needs (retrieve's bounded
    count: exactly up to its exact bound, the planner's estimate beyond); the exact path needs no count. The
    exact count an answer reports is timed apart (time_count)."""
    plan = QueryPlan(question="bench", query="bench", filters=[level], k=K, as_of=dt.date.today())
    started = time.perf_counter()
    known: int | None = matched if path == "exact" else None  # None: retrieve counts, bounded
    if path == "before":  # the previous release counted apart, then searched
        known = estimate_matching(db, compile_filters([level]), BEFORE_EXACT_BELOW)
        if known > BEFORE_EXACT_BELOW:
            ids = search_before_hnsw(db, embedder, level)
            return Found(ids, matched, "hnsw"), (time.perf_counter() - started) * 1000
    exact_below = BEFORE_EXACT_BELOW if path == "before" else PATHS[path]
    found: Retrieval = retrieve(db, embedder, plan, limit=K, exact_below=exact_below, probes=probes,
                                max_probes=MAX_PROBES, work_mem=SEARCH_WORK_MEM, matched=known, count="bounded")
    elapsed = (time.perf_counter() - started) * 1000
    return Found([hit.id for hit in found.hits], matched, found.method), elapsed


def time_count(db: Database, level: Filter) -> float:
    """Milliseconds to count every matching event exactly (what an answer reports, beside its search)."""
    started = time.perf_counter()
    count_matching(db, compile_filters([level]))
    return (time.perf_counter() - started) * 1000


def search_before_hnsw(db: Database, embedder: FixedEmbedder, level: Filter) -> list[int]:
    """The previous release's HNSW search, with the step retrieve() takes after it (the hits' fields)."""
    compiled = compile_filters([level])
    statement = sql.SQL(BEFORE_SEARCH).format(where=compiled.where, dim=sql.Literal(embedder.dimension))
    with db.transaction() as conn:
        conn.execute(query("set_search_work_mem"), {"work_mem": SEARCH_WORK_MEM})
        conn.execute(BEFORE_SETTINGS)
        rows = conn.execute(statement, {**compiled.params, "query": embedder.vector, "k": K}).fetchall()
    ids = [int(row[0]) for row in rows]
    db.fetch_all("select_events_by_ids", {"ids": ids})
    return ids


def recall(found: list[int], truth: list[int]) -> float:
    """Share of the exact top k that a path found."""
    return len(set(found) & set(truth)) / len(truth) if truth else 1.0


def measure_level(db: Database, corpus: Corpus, level: Filter, args: argparse.Namespace,
                  paths: list[str]) -> tuple[dict[str, Timings], list[list[int]]]:
    """Every path on every query at one selectivity, interleaved so that load changes hit all paths alike,
    after `args.warmup` untimed passes over the queries (the server's caches filled, as in steady use)."""
    embedder = FixedEmbedder(MODEL, corpus.vectors.shape[1])
    embedder.vector = corpus.queries[0]
    matched = count_matching(db, compile_filters([level]))
    for _ in range(args.warmup):
        for query_vector in corpus.queries:
            embedder.vector = query_vector
            for name in paths:
                search(db, embedder, level, name, args.probes, matched)
    timings = {name: Timings([], []) for name in paths}
    timings["count"] = Timings([], [], matched, ("count(*)",))
    truths: list[list[int]] = []
    for query_vector in corpus.queries:
        embedder.vector = query_vector
        timings["count"].latencies.append(time_count(db, level))
        truth: list[int] = []
        for name in paths:
            found, ms = search(db, embedder, level, name, args.probes, matched)
            truth = found.ids if name == "exact" else truth
            entry = timings[name]
            entry.latencies.append(ms)
            entry.recalls.append(recall(found.ids, truth))
            entry.matched, entry.methods = found.matched, tuple(sorted({*entry.methods, found.method}))
        truths.append(truth)
    return timings, truths


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie (linear interpolation)."""
    return float(np.percentile(values, share * 100)) if values else 0.0


def run_compare(uri: str, corpus: Corpus, workdir: Path) -> dict[str, Any]:
    """Run bench/pgvector_compare.py in its own venv against this server; its JSON answer."""
    np.save(workdir / "vectors.npy", corpus.vectors)
    np.save(workdir / "queries.npy", corpus.queries)
    spec = {"uri": uri, "vectors": str(workdir / "vectors.npy"), "queries": str(workdir / "queries.npy"),
            "status": corpus.status, "k": K,
            "levels": [[label, "source" if f.field == "source" else "selector", f.value] for label, _, f in LEVELS]}
    (workdir / "spec.json").write_text(json.dumps(spec))
    done = subprocess.run([str(COMPARE_PYTHON), str(BENCH / "pgvector_compare.py"), str(workdir / "spec.json")],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench/pgvector_compare.py failed:\n{done.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def merge_compare(results: dict[str, dict[str, Timings]], truths: dict[str, list[list[int]]],
                  answer: dict[str, Any]) -> None:
    """Add PGVector's timings and recall (against our exact top 10) to the results."""
    for label, runs in answer["levels"].items():
        recalls = [recall([int(i) for i in ids], truth) for ids, truth in zip(runs["ids"], truths[label], strict=True)]
        results[label]["pgvector"] = Timings(runs["latencies_ms"], recalls, runs["matched"], ("exact+jsonb",))


def print_table(results: dict[str, dict[str, Timings]]) -> None:
    """One row per selectivity and path: p50/p95 latency, ratio against the exact scan, recall@10."""
    print(f"{'filter':<8}{'matched':>9}  {'path':<10}{'method':<13}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'p50/exact':>11}{'p95/exact':>11}{'recall@10':>11}")
    for label, paths in results.items():
        base = paths["exact"]
        base50, base95 = percentile(base.latencies, 0.5), percentile(base.latencies, 0.95)
        for name, t in paths.items():
            p50, p95 = percentile(t.latencies, 0.5), percentile(t.latencies, 0.95)
            print(f"{label:<8}{t.matched:>9}  {name:<10}{'/'.join(t.methods):<13}{p50:>9.2f}{p95:>9.2f}"
                  f"{p50 / base50:>11.2f}{p95 / base95:>11.2f}"
                  f"{f'{statistics.fmean(t.recalls):.3f}' if t.recalls else '-':>11}")


def print_header(db: Database, args: argparse.Namespace, load_s: float, built: vector_index.IndexBuild,
                 before_s: float | None) -> None:
    """The machine, the server and the corpus: figures are comparable only between like headers."""
    version, vector, mwm, workers, buffers = db.execute(SETTINGS)[0] or ("?",) * 5
    events, embeddings, ivf, hnsw = db.execute(SIZES, (vector_index.prefix(MODEL) + "%",))[0] or (0, 0, 0, 0)
    mib = 1024 * 1024
    print(f"machine:  {os.cpu_count()} CPU cores, load average {format_load()}")
    print(f"server:   PostgreSQL {version}, pgvector {vector}, shared_buffers {buffers}, maintenance_work_mem "
          f"{mwm} ({db.index_build_memory} for index builds, RISK_INDEX_BUILD_MEMORY), "
          f"max_parallel_maintenance_workers {workers}")
    print(f"corpus:   {args.rows} rows, dim {args.dim}, {CLUSTERS} clusters, noise {NOISE}, seed {args.seed}, "
          f"{args.queries} queries, k {K}, {args.warmup} untimed pass(es) first")
    print(f"load:     {load_s:.1f} s (binary COPY of events and vectors, then ANALYZE)")
    print(f"index:    IVFFlat over halfvec, {built.lists} lists, built in {built.seconds:.1f} s by "
          f"vector_index.maintain, {ivf / mib:.1f} MiB; searched with {args.probes} probes (scaled by "
          f"the filters' share up to {MAX_PROBES}), iterative scan relaxed_order, re-ranked by the float distance")
    if before_s is not None:
        print(f"before:   HNSW (m=32, ef_construction=128) built in {before_s:.1f} s, {hnsw / mib:.1f} MiB; "
              f"searched with ef_search {BEFORE_EF_SEARCH}, exact up to {BEFORE_EXACT_BELOW} matches")
    print(f"sizes:    risk_events {events / mib:.1f} MiB total, event_embeddings {embeddings / mib:.1f} MiB total "
          f"(its indexes included)")


def format_load() -> str:
    """The 1/5/15-minute load averages: the CPU is shared, so read the latencies with them."""
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def run(db: Database, args: argparse.Namespace, workdir: Path, say: Callable[[str], None]) -> None:
    """Load, index, measure every selectivity (and PGVector when asked), then print the report."""
    corpus = make_corpus(args.rows, args.queries, args.dim, args.seed)
    say(f"loading {args.rows} rows (load average {format_load()})")
    load_s = load_corpus(db, corpus)
    say(f"loaded in {load_s:.1f} s; building the IVFFlat index")
    built = build_index(db, args.dim)
    say(f"built in {built.seconds:.1f} s")
    paths = list(PATHS)
    before_s = None
    if args.before:
        say("building the previous release's HNSW index")
        before_s = build_before_index(db, args.dim)
        say(f"built in {before_s:.1f} s")
        paths.append("before")
    # As the app does when it starts (the HNSW build above went through the same shared buffers).
    blocks = vector_index.prewarm(db, MODEL)
    say(f"preloaded the IVFFlat index: {blocks} blocks" if blocks else "the IVFFlat index was not preloaded")
    results: dict[str, dict[str, Timings]] = {}
    truths: dict[str, list[list[int]]] = {}
    for label, _, level in LEVELS:
        say(f"measuring {label} (load average {format_load()})")
        results[label], truths[label] = measure_level(db, corpus, level, args, paths)
    if args.pgvector_compare:
        say("running langchain-postgres PGVector in bench/.venv-lcpg")
        answer = run_compare(db.server.uri() if db.server else "", corpus, workdir)
        merge_compare(results, truths, answer)
        say(f"PGVector: loaded in {answer['load_s']:.1f} s, its table {answer['table_bytes'] / 2**20:.1f} MiB")
    print()
    print_header(db, args, load_s, built, before_s)
    print()
    print_table(results)


def main() -> None:
    """Run the benchmark in a fresh embedded database inside a temporary directory."""
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as tmp:
        workdir = Path(tmp)
        # Always our own embedded server: never a DATABASE_URL from the environment.
        settings = Settings(data_dir=workdir / "data").model_copy(update={"database_url": None})
        db = Database.open(settings)
        try:
            run(db, args, workdir, lambda line: print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True))
        finally:
            db.close()
            EmbeddedServer(settings.pg_dir).wait_for_watchdog()


if __name__ == "__main__":
    main()
