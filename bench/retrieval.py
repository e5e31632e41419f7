"""Filtered vector search latency and recall@10 per filter selectivity, against the exact scan in this run."""

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

from assistant.config import Settings
from assistant.db import Database
from assistant.embed import Embedder, Vector
from assistant.models import Filter, QueryPlan
from assistant.resources import query
from assistant.retrieve import Retrieval, retrieve
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
PATHS: dict[str, int] = {"exact": 10**12, "retrieve": Settings().exact_search_below, "hnsw": 0}
# Benchmark-only SQL: bulk loading synthetic rows and reading sizes is no part of the package.
COPY_EVENTS = ("COPY risk_events (source, source_id, occurred_at, category, status, text, content_hash) "
               "FROM STDIN (FORMAT BINARY)")
COPY_EMBEDDINGS = "COPY event_embeddings (event_id, model, content_hash, embedding) FROM STDIN (FORMAT BINARY)"
SIZES = ("SELECT pg_total_relation_size('risk_events'), pg_total_relation_size('event_embeddings'), "
         "(SELECT pg_relation_size(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
         "WHERE i.indrelid = 'event_embeddings'::regclass AND c.relname LIKE 'event_embeddings_hnsw_%')")
INDEX_OPTIONS = ("SELECT array_to_string(reloptions, ', ') FROM pg_class "
                 "WHERE relname LIKE 'event_embeddings_hnsw_%' AND relkind = 'i'")
SETTINGS = ("SELECT current_setting('server_version'), (SELECT extversion FROM pg_extension WHERE extname = 'vector'), "
            "current_setting('maintenance_work_mem'), current_setting('max_parallel_maintenance_workers')")


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
    """The command line: --rows, --queries, --dim, --seed, --pgvector-compare."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ef-search", type=int, default=Settings().hnsw_ef_search,
                        help="hnsw.ef_search for the HNSW path (default: the RISK_HNSW_EF_SEARCH setting)")
    parser.add_argument("--pgvector-compare", action="store_true",
                        help=f"also time langchain-postgres' PGVector, run with {COMPARE_PYTHON}")
    args = parser.parse_args()
    if args.rows < 1000:
        parser.error("--rows must be at least 1000, so that 0.1%% of the rows is at least one row")
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


def build_index(db: Database, dim: int) -> float:
    """Register the model, which builds its HNSW index; seconds taken."""
    started = time.perf_counter()
    db.ensure_embedding_model(MODEL, dim)
    return time.perf_counter() - started


def search(db: Database, embedder: FixedEmbedder, level: Filter, exact_below: int,
           ef_search: int) -> tuple[list[int], float, Retrieval]:
    """One retrieve() call: hit ids, milliseconds, and the Retrieval."""
    plan = QueryPlan(question="bench", query="bench", filters=[level], k=K, as_of=dt.date.today())
    started = time.perf_counter()
    found = retrieve(db, embedder, plan, limit=K, exact_below=exact_below, ef_search=ef_search,
                     work_mem=SEARCH_WORK_MEM)
    elapsed = (time.perf_counter() - started) * 1000
    return [hit.id for hit in found.hits], elapsed, found


def recall(found: list[int], truth: list[int]) -> float:
    """Share of the exact top k that a path found."""
    return len(set(found) & set(truth)) / len(truth) if truth else 1.0


def measure_level(db: Database, corpus: Corpus, level: Filter,
                  ef_search: int) -> tuple[dict[str, Timings], list[list[int]]]:
    """Every path on every query at one selectivity, interleaved so that load changes hit all paths alike."""
    embedder = FixedEmbedder(MODEL, corpus.vectors.shape[1])
    embedder.vector = corpus.queries[0]
    for exact_below in PATHS.values():  # warm-up: caches and first-plan costs stay out of the timings
        search(db, embedder, level, exact_below, ef_search)
    timings = {name: Timings([], []) for name in PATHS}
    truths: list[list[int]] = []
    for query_vector in corpus.queries:
        embedder.vector = query_vector
        truth: list[int] = []
        for name, exact_below in PATHS.items():
            ids, ms, found = search(db, embedder, level, exact_below, ef_search)
            truth = ids if name == "exact" else truth
            entry = timings[name]
            entry.latencies.append(ms)
            entry.recalls.append(recall(ids, truth))
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
                  f"{p50 / base50:>11.2f}{p95 / base95:>11.2f}{statistics.fmean(t.recalls):>11.3f}")


def print_header(db: Database, args: argparse.Namespace, load_s: float, index_s: float) -> None:
    """The machine, the server and the corpus: figures are comparable only between like headers."""
    version, vector, mwm, workers = db.execute(SETTINGS)[0] or ("?", "?", "?", "?")
    events, embeddings, index = db.execute(SIZES)[0] or (0, 0, 0)
    mib = 1024 * 1024
    print(f"machine:  {os.cpu_count()} CPU cores, load average {format_load()}")
    print(f"server:   PostgreSQL {version}, pgvector {vector}, maintenance_work_mem {mwm} "
          f"({db.index_build_memory} for the index build, RISK_INDEX_BUILD_MEMORY), "
          f"max_parallel_maintenance_workers {workers}")
    print(f"corpus:   {args.rows} rows, dim {args.dim}, {CLUSTERS} clusters, noise {NOISE}, seed {args.seed}, "
          f"{args.queries} queries, k {K}")
    print(f"load:     {load_s:.1f} s (binary COPY of events and vectors, then ANALYZE)")
    row = db.execute(INDEX_OPTIONS)[0]
    print(f"index:    HNSW ({row[0] if row else '?'}) built in {index_s:.1f} s by ensure_embedding_model; "
          f"searched with ef_search {args.ef_search}, iterative scan relaxed_order")
    print(f"sizes:    risk_events {events / mib:.1f} MiB total, event_embeddings {embeddings / mib:.1f} MiB total, "
          f"of which the HNSW index {index / mib:.1f} MiB")


def format_load() -> str:
    """The 1/5/15-minute load averages: the CPU is shared, so read the latencies with them."""
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def run(db: Database, args: argparse.Namespace, workdir: Path, say: Callable[[str], None]) -> None:
    """Load, index, measure every selectivity (and PGVector when asked), then print the report."""
    corpus = make_corpus(args.rows, args.queries, args.dim, args.seed)
    say(f"loading {args.rows} rows (load average {format_load()})")
    load_s = load_corpus(db, corpus)
    say(f"loaded in {load_s:.1f} s; building the HNSW index")
    index_s = build_index(db, args.dim)
    results: dict[str, dict[str, Timings]] = {}
    truths: dict[str, list[list[int]]] = {}
    for label, _, level in LEVELS:
        say(f"measuring {label}")
        results[label], truths[label] = measure_level(db, corpus, level, args.ef_search)
    if args.pgvector_compare:
        say("running langchain-postgres PGVector in bench/.venv-lcpg")
        answer = run_compare(db.server.uri() if db.server else "", corpus, workdir)
        merge_compare(results, truths, answer)
        say(f"PGVector: loaded in {answer['load_s']:.1f} s, its table {answer['table_bytes'] / 2**20:.1f} MiB")
    print()
    print_header(db, args, load_s, index_s)
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
