"""Ingestion throughput as a ratio of the bare embedding model's rate, both measured in this run."""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from assistant import sources
from assistant.config import Settings
from assistant.db import Database
from assistant.demo import DEMO_SIZE, generate_demo, write_jsonl_gz
from assistant.embed import Embedder
from assistant.ingest import IngestResult, ingest_file
from assistant.mapping import Mapping
from assistant.server import EmbeddedServer

REPO = Path(__file__).resolve().parents[1]
CFPB_CSV = Path(__file__).resolve().parents[2] / "shared/data/cfpb/complaints_payday_2023.csv"
MAPPINGS = REPO / "examples" / "mappings"
NOISE = 0.15  # largest before/after difference of the bare encode rate that still gives a usable ratio


@dataclass(frozen=True)
class Input:
    """The file to ingest, its mapping, and how it was made."""

    path: Path
    mapping: Mapping
    label: str


@dataclass(frozen=True)
class Figures:
    """What one benchmark run measured."""

    texts: int
    encode_s: tuple[float, float]  # bare encode just before and just after the first ingest
    ingest_s: float
    rerun_s: float
    first: IngestResult
    second: IngestResult


def parse_args() -> argparse.Namespace:
    """The command line: --rows, --source, --batch-size, --input."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=None, help="ingest only the first N rows")
    parser.add_argument("--source", choices=("cfpb", "demo"), default="cfpb")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="embedding batch size (default: RISK_EMBEDDING_BATCH_SIZE or 64)")
    parser.add_argument("--input", type=Path, default=CFPB_CSV, help="the CFPB CSV (cfpb source only)")
    args = parser.parse_args()
    if args.source == "cfpb" and not args.input.is_file():
        parser.error(f"{args.input} not found; pass the CFPB complaints CSV with --input PATH")
    return args


def truncate_csv(source: Path, target: Path, rows: int) -> Path:
    """Copy the header and the first `rows` records of a CSV (records, not lines: narratives span lines)."""
    with open(source, encoding="utf-8-sig", newline="") as src, \
            open(target, "w", encoding="utf-8", newline="") as dst:
        reader, writer = csv.reader(src), csv.writer(dst)
        writer.writerow(next(reader))
        for number, record in enumerate(reader):
            if number >= rows:
                break
            writer.writerow(record)
    return target


def prepare_input(args: argparse.Namespace, workdir: Path) -> Input:
    """Write the benchmark's input file into the work dir (the shared data is never copied to the repo)."""
    if args.source == "demo":
        rows = args.rows or DEMO_SIZE
        path = workdir / "demo.jsonl.gz"
        write_jsonl_gz(generate_demo().rows[:rows], path)
        return Input(path, Mapping.load(MAPPINGS / "demo.toml"), f"demo, first {rows} rows")
    path = args.input
    label = f"cfpb {path.name}, all rows"
    if args.rows is not None:
        path = truncate_csv(path, workdir / path.name, args.rows)
        label = f"cfpb {path.name}, first {args.rows} rows"
    return Input(path, Mapping.load(MAPPINGS / "cfpb.toml"), label)


def texts_to_embed(source: Input) -> list[str]:
    """The texts a first ingest embeds: mappable rows, the first of each source id."""
    texts: dict[str, str] = {}
    for row in sources.read_rows(source.path):
        event = None if row.error else source.mapping.to_event(row.values)
        if event is not None and not isinstance(event, list):
            texts.setdefault(event.source_id, event.text)
    return list(texts.values())


def timed_ingest(db: Database, embedder: Embedder, source: Input, settings: Settings,
                 batch_size: int, workdir: Path) -> tuple[IngestResult, float]:
    """One ingest_file run and its wall-clock seconds."""
    started = time.perf_counter()
    result = ingest_file(db, embedder, source.path, source.mapping, batch_size=settings.ingest_batch_size,
                         embed_batch_size=batch_size, report_path=workdir / "rejected.csv")
    return result, time.perf_counter() - started


def measure(db: Database, embedder: Embedder, source: Input, settings: Settings,
            batch_size: int, workdir: Path) -> Figures:
    """Bare encode of the ingested texts, then a first ingest and an all-unchanged re-run."""
    texts = texts_to_embed(source)
    embedder.encode(texts[:batch_size], batch_size)  # warm-up: one-time start costs stay out of both
    before = timed_encode(embedder, texts, batch_size)
    first, ingest_s = timed_ingest(db, embedder, source, settings, batch_size, workdir)
    # Bracketing the ingest shows whether the machine's load changed under the measurement.
    after = timed_encode(embedder, texts, batch_size)
    second, rerun_s = timed_ingest(db, embedder, source, settings, batch_size, workdir)
    return Figures(len(texts), (before, after), ingest_s, rerun_s, first, second)


def timed_encode(embedder: Embedder, texts: list[str], batch_size: int) -> float:
    """Seconds the bare model takes to encode the texts."""
    started = time.perf_counter()
    embedder.encode(texts, batch_size)
    return time.perf_counter() - started


def per_second(count: int, seconds: float) -> float:
    """A rate; zero when nothing was timed."""
    return count / seconds if seconds > 0 else 0.0


def counts(result: IngestResult) -> str:
    """inserted / updated / unchanged / rejected / embedded, for one run."""
    return (f"{result.inserted} inserted, {result.updated} updated, {result.unchanged} unchanged, "
            f"{result.rejected} rejected, {result.embedded} embedded")


def print_report(figures: Figures, source: Input, settings: Settings, batch_size: int) -> None:
    """The machine, the input, and the table of rates with the ratio against bare encoding."""
    import torch  # heavy; already loaded by the embedder

    before, after = (per_second(figures.texts, s) for s in figures.encode_s)
    encode_rate = per_second(figures.texts, sum(figures.encode_s) / 2)
    ingest_rate = per_second(figures.first.inserted, figures.ingest_s)
    ratio = ingest_rate / encode_rate if encode_rate > 0 else 0.0
    print(f"machine: {os.cpu_count()} CPU cores, {torch.get_num_threads()} torch threads, "
          f"device {settings.embedding_device or 'auto'}")
    print(f"model:   {settings.embedding_model}, encode batch {batch_size}, "
          f"ingest batch {settings.ingest_batch_size}")
    print(f"input:   {source.label}\n")
    table = [
        ("rows read", f"{figures.first.total}"),
        ("texts embedded (baseline)", f"{figures.texts}"),
        ("bare encode before, texts/s", f"{before:.1f}"),
        ("bare encode after, texts/s", f"{after:.1f}"),
        ("bare encode (baseline), texts/s", f"{encode_rate:.1f}"),
        ("end-to-end ingest, events/s", f"{ingest_rate:.1f}"),
        ("ratio end-to-end / bare encode", f"{ratio:.2f}"),
        ("re-run (all unchanged), rows/s", f"{per_second(figures.second.total, figures.rerun_s):.1f}"),
    ]
    for name, value in table:
        print(f"{name:<32}{value:>12}")
    print(f"\nfirst run: {counts(figures.first)}\nre-run:    {counts(figures.second)}")
    if abs(before - after) > NOISE * max(before, after):
        print(f"\nnote: the bare encode rate moved by more than {NOISE:.0%} during the run "
              "(a busy machine?); the ratio is not reliable, run it again on a quiet one")


def main() -> None:
    """Run the benchmark in a fresh embedded database inside a temporary directory."""
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        workdir = Path(tmp)
        # Always our own embedded server: never a DATABASE_URL from the environment.
        settings = Settings(data_dir=workdir / "data").model_copy(update={"database_url": None})
        batch_size = args.batch_size or settings.embedding_batch_size
        source = prepare_input(args, workdir)
        embedder = Embedder.load(settings)
        db = Database.open(settings)
        try:
            figures = measure(db, embedder, source, settings, batch_size, workdir)
        finally:
            db.close()
            EmbeddedServer(settings.pg_dir).wait_for_watchdog()
        print_report(figures, source, settings, batch_size)


if __name__ == "__main__":
    main()
