"""Score dense, keyword (BM25) and hybrid retrieval on BEIR sets, hybrid over a grid of fusion settings.

Run `.venv/bin/python eval/fusion_grid.py --data-dir DIR eval/beir_finance_dev [more sets]
[--weights 0.25,0.5,1] [--rrf-k 60] [--vector-weight 1]`. Each set gets its own database in an embedded
server under DIR (BM25's statistics are per database, as a set's would be on its own); a second run with the
same DIR reuses what was ingested (nothing is embedded again). Tune on the dev sets only; score the held-out
ones once with the chosen settings (eval/README.md, "Retrieval").
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import psycopg

from assistant.config import Settings
from assistant.db import Database
from assistant.embed import Embedder
from assistant.evaluate import evaluate_retrieval
from assistant.retrieve import Fusion
from assistant.server import EmbeddedServer


def database_for(server: EmbeddedServer, name: str) -> str:
    """The URL of the set's own database in the server, created when missing."""
    database = "eval_" + re.sub(r"[^a-z0-9_]", "_", name.lower())
    with psycopg.connect(server.uri(), autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None:
            admin.execute(f'CREATE DATABASE "{database}"')
    return server.uri().replace("/postgres?", f"/{database}?")


def score_set(server: EmbeddedServer, embedder: Embedder, beir_dir: Path, fusions: list[Fusion],
              data_dir: Path) -> list[str]:
    """Lines of the set's table: dense and keyword once, hybrid per fusion."""
    settings = Settings(database_url=database_for(server, beir_dir.name), data_dir=data_dir,
                        openai_api_key=None, openai_base_url=None)
    db = Database.open(settings)
    try:
        lines = []
        for mode in ("dense", "keyword"):
            s = evaluate_retrieval(db, embedder, beir_dir, [mode], report_path=data_dir / "rejected.csv")[mode]
            lines.append(f"{beir_dir.name}\t{mode}\t-\t-\t{s.queries}\t{s.ndcg_at_10:.3f}\t{s.recall_at_100:.3f}")
        for fusion in fusions:
            s = evaluate_retrieval(db, embedder, beir_dir, ["hybrid"], fusion=fusion,
                                   report_path=data_dir / "rejected.csv")["hybrid"]
            lines.append(f"{beir_dir.name}\thybrid\t{fusion.keyword_weight:g}/{fusion.vector_weight:g}\t{fusion.k}"
                         f"\t{s.queries}\t{s.ndcg_at_10:.3f}\t{s.recall_at_100:.3f}")
        return lines
    finally:
        db.close()


def main() -> None:
    """Parse the arguments, score every set, print a tab-separated table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--weights", default="0.25,0.5,1", help="keyword weights, comma-separated")
    parser.add_argument("--rrf-k", default="60", help="rrf_k values, comma-separated")
    parser.add_argument("--vector-weight", type=float, default=1.0)
    args = parser.parse_args()
    fusions = [Fusion(k=int(k), vector_weight=args.vector_weight, keyword_weight=float(w))
               for k in args.rrf_k.split(",") for w in args.weights.split(",")]
    server = EmbeddedServer(args.data_dir / "postgres")
    server.acquire()
    try:
        embedder = Embedder.load(Settings(data_dir=args.data_dir))
        print("set\tmode\tkeyword/vector weight\trrf_k\tqueries\tnDCG@10\tR@100", flush=True)
        for beir_dir in args.sets:
            for line in score_set(server, embedder, beir_dir, fusions, args.data_dir):
                print(line, flush=True)
    finally:
        server.release()


if __name__ == "__main__":
    main()
