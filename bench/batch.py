"""Batch throughput: questions per second at several concurrencies, each against concurrency 1 in the same run.

Offline mode (no LLM), over the bundled demo events in a database built once and kept in the data dir, with
the questions of the demo planner evaluation sets (eval/planner_demo*.jsonl, each with its own as-of date).
Every round asks all of them at each concurrency, the concurrencies in turn (forward, then backward in the
next round), so that a change in the machine's load falls on every level alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import psycopg
from psycopg import sql

from assistant.api import RiskAssistant
from assistant.batch import BatchResult
from assistant.config import Settings
from assistant.db import Database
from assistant.embed import Embedder
from assistant.server import EmbeddedServer

ROOT = Path(__file__).resolve().parents[1]
EVAL_SETS = (ROOT / "eval" / "planner_demo.jsonl", ROOT / "eval" / "planner_demo_heldout.jsonl")
DEFAULT_DATA_DIR = Path(platformdirs.user_cache_dir("risk-assistant")) / "bench-batch"


@dataclass
class Level:
    """Everything measured at one concurrency, over all rounds."""

    concurrency: int
    seconds: float = 0.0  # wall clock of its batches
    latencies: list[float] = field(default_factory=list)  # each question's own seconds
    errors: int = 0

    @property
    def rate(self) -> float:
        """Questions per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def parse_args() -> argparse.Namespace:
    """The command line: --concurrency, --rounds, --limit, --data-dir."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", default="1,2,4,8", help="comma-separated levels (default 1,2,4,8)")
    parser.add_argument("--rounds", type=int, default=2, help="times every level asks every question (default 2)")
    parser.add_argument("--limit", type=int, default=0, help="ask only the first N questions (default: all)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"where the demo database is built once and kept (default {DEFAULT_DATA_DIR})")
    args = parser.parse_args()
    args.concurrency = sorted({int(c) for c in args.concurrency.split(",") if c.strip()})
    if not args.concurrency or args.concurrency[0] != 1:
        parser.error("--concurrency must include 1, the baseline")
    return args


def questions(limit: int) -> list[dict[str, Any]]:
    """The evaluation sets' questions with their as-of dates, keyed by set and line."""
    found = []
    for path in EVAL_SETS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                case = json.loads(line)
                found.append({"id": f"{path.stem}:{number}", "question": case["question"], "as_of": case["as_of"]})
    return found[:limit] if limit else found


def open_demo(server: EmbeddedServer, embedder: Embedder, data_dir: Path, pool_size: int) -> RiskAssistant:
    """The assistant over the kept demo database (created and loaded when missing), offline."""
    with psycopg.connect(server.uri(), autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = 'batch_demo'").fetchone() is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier("batch_demo")))
    url = server.uri().replace("/postgres?", "/batch_demo?")
    settings = Settings(database_url=url, data_dir=data_dir, openai_api_key=None,  # type: ignore[arg-type]
                        openai_base_url=None, pool_size=pool_size)
    assistant = RiskAssistant(settings, Database.open(settings), embedder)
    if assistant.mode != "offline":
        raise SystemExit("an LLM is configured; this benchmark measures the offline mode")
    if assistant.count_events() == 0:
        print("loading the bundled demo events (once; a minute or two)", flush=True)
        print(assistant.load_demo().summary(), flush=True)
    assistant.db.execute("ANALYZE")
    return assistant


def run_level(assistant: RiskAssistant, asked: list[dict[str, Any]], level: Level) -> None:
    """One batch of every question at the level's concurrency."""
    started = time.perf_counter()
    results: list[BatchResult] = assistant.ask_batch(asked, concurrency=level.concurrency)
    level.seconds += time.perf_counter() - started
    level.latencies += [r.seconds for r in results]
    level.errors += sum(r.error is not None for r in results)


def print_table(levels: list[Level]) -> None:
    """Throughput and per-question latency per level, with the ratio against concurrency 1."""
    base = levels[0].rate
    print(f"{'concurrency':>11}{'questions':>11}{'seconds':>10}{'q/s':>8}{'x c=1':>8}"
          f"{'p50 ms':>9}{'p90 ms':>9}{'errors':>8}")
    for level in levels:
        latencies = sorted(level.latencies)
        p90 = latencies[min(len(latencies) - 1, int(0.9 * len(latencies)))]
        print(f"{level.concurrency:>11}{len(latencies):>11}{level.seconds:>10.1f}{level.rate:>8.2f}"
              f"{level.rate / base:>8.2f}{1000 * statistics.median(latencies):>9.0f}{1000 * p90:>9.0f}"
              f"{level.errors:>8}")


def main() -> None:
    """Build or reuse the demo database, warm up, then time every level in alternating order."""
    args = parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    asked = questions(args.limit)
    server = EmbeddedServer(args.data_dir / "postgres")
    server.acquire()
    try:
        assistant = open_demo(server, Embedder.load(Settings()), args.data_dir, max(10, max(args.concurrency)))
        assistant.ask_batch(asked, concurrency=1)  # warm-up: model, caches, registry
        levels = [Level(c) for c in args.concurrency]
        load_before = os.getloadavg()
        for round_number in range(args.rounds):
            for level in levels if round_number % 2 == 0 else reversed(levels):
                run_level(assistant, asked, level)
                print(f"  round {round_number + 1}, concurrency {level.concurrency}: {level.seconds:.1f} s so far",
                      flush=True)
        load_after = os.getloadavg()
        assistant.close()
    finally:
        server.release()
        server.wait_for_watchdog()
    import torch  # already loaded by the embedder

    print(f"\nmachine: {os.cpu_count()} CPU cores, {torch.get_num_threads()} torch threads; offline mode; "
          f"{len(asked)} questions x {args.rounds} rounds per level; load average "
          f"{'/'.join(f'{x:.2f}' for x in load_before)} before, {'/'.join(f'{x:.2f}' for x in load_after)} after\n")
    print_table(levels)


if __name__ == "__main__":
    main()
