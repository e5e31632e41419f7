"""langchain-postgres' PGVector on bench/retrieval.py's vectors; run by it in bench/.venv-lcpg, answers JSON.

Usage: bench/.venv-lcpg/bin/python bench/pgvector_compare.py SPEC.json (written by bench/retrieval.py).
It imports nothing from the assistant package: langchain-postgres pins pgvector<0.4, ours is newer.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy
from langchain_core.embeddings import Embeddings
from langchain_postgres import PGVector

CHUNK = 2_000  # rows per add_embeddings call: 5 bound parameters a row, PostgreSQL allows 65,535


class NoEmbeddings(Embeddings):
    """PGVector requires an Embeddings object; the benchmark passes vectors only."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Never called: the benchmark adds and searches by vector."""
        raise NotImplementedError

    def embed_query(self, text: str) -> list[float]:
        """Never called: the benchmark searches by vector."""
        raise NotImplementedError


def sqlalchemy_url(uri: str) -> str:
    """Our libpq URI for SQLAlchemy's psycopg 3 driver."""
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


def load(store: PGVector, vectors: np.ndarray[Any, Any], status: list[str]) -> float:
    """Add every vector with JSONB metadata {"selector": ..., "source": "bench"}; seconds taken."""
    started = time.perf_counter()
    for start in range(0, len(status), CHUNK):
        stop = min(start + CHUNK, len(status))
        store.add_embeddings(
            texts=[f"event {i + 1}" for i in range(start, stop)],
            embeddings=vectors[start:stop].tolist(),
            metadatas=[{"selector": status[i], "source": "bench"} for i in range(start, stop)],
            ids=[str(i + 1) for i in range(start, stop)])
    return time.perf_counter() - started


def measure(store: PGVector, queries: np.ndarray[Any, Any], field: str, value: str, k: int) -> dict[str, Any]:
    """similarity_search_by_vector with filter {field: {"$eq": value}} for every query (after one warm-up)."""
    where = {field: {"$eq": value}}
    store.similarity_search_by_vector(queries[0].tolist(), k=k, filter=where)
    latencies, ids = [], []
    for query in queries:
        started = time.perf_counter()
        docs = store.similarity_search_by_vector(query.tolist(), k=k, filter=where)
        latencies.append((time.perf_counter() - started) * 1000)
        ids.append([doc.id for doc in docs])
    return {"latencies_ms": latencies, "ids": ids}


def table_bytes(url: str) -> int:
    """pg_total_relation_size of PGVector's embedding table."""
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        size = conn.execute(sqlalchemy.text("SELECT pg_total_relation_size('langchain_pg_embedding')")).scalar()
    engine.dispose()
    return int(size or 0)


def main() -> None:
    """Load, then time every selectivity level of the spec; print the answer as JSON."""
    spec = json.loads(Path(sys.argv[1]).read_text())
    vectors, queries = np.load(spec["vectors"]), np.load(spec["queries"])
    url = sqlalchemy_url(spec["uri"])
    store = PGVector(NoEmbeddings(), connection=url, embedding_length=vectors.shape[1],
                     collection_name="bench", pre_delete_collection=True, use_jsonb=True)
    load_s = load(store, vectors, spec["status"])
    levels = {}
    for label, field, value in spec["levels"]:
        levels[label] = measure(store, queries, field, value, spec["k"])
        matched = len(spec["status"]) if field == "source" else spec["status"].count(value)
        levels[label]["matched"] = matched
    print(json.dumps({"load_s": load_s, "table_bytes": table_bytes(url), "levels": levels}))


if __name__ == "__main__":
    main()
