"""Ingestion throughput as a ratio of the bare embedding model's rate, both measured in this run, for each
embedding backend, side by side with the first as baseline (by default the previous release's path, fp32 torch in
batches of 64), with the backends' rates and their vectors' neighbour agreement with the baseline's."""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import numpy as np

from assistant import sources
from assistant.config import Settings
from assistant.db import Database
from assistant.demo import DEMO_SIZE, generate_demo, write_jsonl_gz
from assistant.embed import SMALL_BATCH, Embedder, Vector, _torch_threads
from assistant.ingest import IngestResult, ingest_file
from assistant.mapping import Mapping
from assistant.server import EmbeddedServer

REPO = Path(__file__).resolve().parents[1]
CFPB_CSV = Path(__file__).resolve().parents[2] / "shared/data/cfpb/complaints_payday_2023.csv"
MAPPINGS = REPO / "examples" / "mappings"
NOISE = 0.15  # largest before/after difference of the bare encode rate that still gives a usable ratio
BACKENDS = tuple(b for b in get_args(Settings.model_fields["embedding_backend"].annotation) if b != "auto")
# "before" is the previous release's encode (PreviousEmbedder); then this release's backends at their own batch sizes.
BEFORE = "before"
DEFAULT_BACKENDS = f"{BEFORE},torch,torch-bf16,onnx-int8"
NEIGHBOURS = 10


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
    vectors: Vector  # of the texts, from the bare encode before the ingest


class PreviousEmbedder(Embedder):
    """The previous release's encode, kept here as the baseline: fp32 torch, texts sorted by characters, one
    batch of 64 at a time through SentenceTransformer.encode on every core (a batch under 8 texts on one)."""

    def __init__(self, loaded: Embedder, batch_size: int | None) -> None:
        super().__init__(loaded.name, loaded._model, "torch", batch_size or 64)

    def _batches(self, batches: list[list[str]]) -> Iterator[Vector]:
        for texts in batches:
            with _torch_threads(1 if len(texts) < SMALL_BATCH else None):  # the previous release's rule
                vectors = self._model.encode(texts, batch_size=len(texts), normalize_embeddings=True,
                                             convert_to_numpy=True, show_progress_bar=False)
            yield np.asarray(vectors, dtype=np.float32)

    def _lengths(self, texts: Sequence[str]) -> list[int]:
        return [len(text) for text in texts]


@dataclass(frozen=True)
class Backend:
    """One embedding backend under test, with its own fresh database."""

    settings: Settings
    embedder: Embedder
    db: Database
    load_s: float  # loading the model; for onnx-int8 in a fresh data dir, its one-time export too
    name: str  # as given to --backends: the setting's value, and ":BATCH" when the batch size was set


def parse_args() -> argparse.Namespace:
    """The command line: --rows, --source, --batch-size, --input."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=None, help="ingest only the first N rows")
    parser.add_argument("--source", choices=("cfpb", "demo"), default="cfpb")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="embedding batch size of the backends given without one (default: each backend's own)")
    parser.add_argument("--input", type=Path, default=CFPB_CSV, help="the CFPB CSV (cfpb source only)")
    parser.add_argument("--backends", default=DEFAULT_BACKENDS,
                        help="embedding backends as NAME or NAME:BATCH, comma-separated; the first is the "
                             f"baseline of the ratios (default {DEFAULT_BACKENDS})")
    args = parser.parse_args()
    args.backends = args.backends.split(",")
    names = [spec.partition(":")[0] for spec in args.backends]
    sizes = [spec.partition(":")[2] for spec in args.backends]
    if (not set(names) <= {*BACKENDS, BEFORE} or len(set(args.backends)) != len(args.backends)
            or not all(size == "" or (size.isdigit() and int(size) > 0) for size in sizes)):
        parser.error("--backends takes a comma-separated list of distinct NAME or NAME:BATCH, "
                     f"NAME one of {', '.join(BACKENDS)} or {BEFORE} (the previous release's fp32 path)")
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
                 workdir: Path) -> tuple[IngestResult, float]:
    """One ingest_file run (at the embedder's own batch size) and its wall-clock seconds."""
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = ingest_file(db, embedder, source.path, source.mapping, batch_size=settings.ingest_batch_size,
                         report_path=workdir / "rejected.csv")
    return result, time.perf_counter() - started


def measure(backends: list[Backend], source: Input, workdir: Path) -> dict[str, Figures]:
    """Per backend: bare encode of the ingested texts, a first ingest into its empty database, the bare
    encode again, and an all-unchanged re-run. Each step runs for every backend before the next step, so
    that a change in the machine's load falls on all of them alike."""
    texts = texts_to_embed(source)
    for backend in backends:
        backend.embedder.encode(texts[:64])  # warm-up: one-time start costs stay out
    before = {b.name: timed_encode(b.embedder, texts) for b in backends}
    first = {b.name: timed_ingest(b.db, b.embedder, source, b.settings, workdir / b.name.replace(":", "-"))
             for b in backends}
    # Bracketing the ingest shows whether the machine's load changed under the measurement.
    after = {b.name: timed_encode(b.embedder, texts) for b in backends}
    second = {b.name: timed_ingest(b.db, b.embedder, source, b.settings, workdir / b.name.replace(":", "-"))
              for b in backends}
    return {b.name: Figures(len(texts), (before[b.name][0], after[b.name][0]), first[b.name][1],
                            second[b.name][1], first[b.name][0], second[b.name][0], before[b.name][1])
            for b in backends}


def timed_encode(embedder: Embedder, texts: list[str]) -> tuple[float, Vector]:
    """Seconds the bare model takes to encode the texts (at the embedder's batch size), and the vectors."""
    started = time.perf_counter()
    vectors = embedder.encode(texts)
    return time.perf_counter() - started, vectors


def neighbour_recall(baseline: Vector, other: Vector, k: int = NEIGHBOURS) -> float:
    """Mean share of each text's k nearest other texts under the baseline vectors that the other vectors
    also put among its k nearest (cosine; the vectors are normalised)."""
    def nearest(vectors: Vector) -> np.ndarray:
        similarity = vectors @ vectors.T
        np.fill_diagonal(similarity, -np.inf)
        return np.argsort(-similarity, axis=1, kind="stable")[:, :k]

    ours, theirs = nearest(baseline), nearest(other)
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(ours, theirs, strict=True)]))


def per_second(count: int, seconds: float) -> float:
    """A rate; zero when nothing was timed."""
    return count / seconds if seconds > 0 else 0.0


def counts(result: IngestResult) -> str:
    """inserted / updated / unchanged / rejected / embedded, for one run."""
    return (f"{result.inserted} inserted, {result.updated} updated, {result.unchanged} unchanged, "
            f"{result.rejected} rejected, {result.embedded} embedded")


def print_header(backends: list[Backend], source: Input) -> None:
    """The machine, the model and the input."""
    import torch  # heavy; already loaded by the torch embedder or the export

    settings = backends[0].settings
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPU cores, load average {load}, {torch.get_num_threads()} torch threads, "
          f"device {settings.embedding_device or 'auto'}")
    print(f"model:   {settings.embedding_model}, ingest batch {settings.ingest_batch_size}")
    print(f"input:   {source.label}")
    for backend in backends:
        print(f"backend: {backend.name} as model {backend.embedder.name!r}, encode batch "
              f"{backend.embedder.batch_size}, loaded in {backend.load_s:.1f} s")


def print_report(name: str, figures: Figures) -> None:
    """One backend's table of rates with the ratio against its own bare encoding."""
    before, after = (per_second(figures.texts, s) for s in figures.encode_s)
    encode_rate, ingest_rate = rates(figures)
    ratio = ingest_rate / encode_rate if encode_rate > 0 else 0.0
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
    print(f"\n{name}:")
    for label, value in table:
        print(f"{label:<32}{value:>12}")
    print(f"\nfirst run: {counts(figures.first)}\nre-run:    {counts(figures.second)}")
    if abs(before - after) > NOISE * max(before, after):
        print(f"\nnote: the bare encode rate moved by more than {NOISE:.0%} during the run "
              "(a busy machine?); the ratio is not reliable, run it again on a quiet one")


def rates(figures: Figures) -> tuple[float, float]:
    """Bare encode texts/s (mean of before and after) and end-to-end ingest events/s."""
    return (per_second(figures.texts, sum(figures.encode_s) / 2),
            per_second(figures.first.inserted, figures.ingest_s))


def print_comparison(figures: dict[str, Figures]) -> None:
    """Each backend's rates as a ratio of the first one's, and how far its vectors agree with the first's."""
    names = list(figures)
    base = figures[names[0]]
    base_encode, base_ingest = rates(base)
    print(f"\nbackends against {names[0]} (same input, same run):")
    print(f"{'':<32}{'texts/s':>12}{'ratio':>8}{'events/s':>12}{'ratio':>8}{'recall@10':>11}{'cosine':>8}")
    for name in names:
        encode, ingest = rates(figures[name])
        cosine = float(np.mean(np.sum(base.vectors * figures[name].vectors, axis=1)))
        print(f"{name:<32}{encode:>12.1f}{encode / base_encode:>8.2f}{ingest:>12.1f}{ingest / base_ingest:>8.2f}"
              f"{neighbour_recall(base.vectors, figures[name].vectors):>11.3f}{cosine:>8.4f}")
    print(f"(texts/s: bare encode; events/s: end-to-end first ingest; recall@10: share of each text's "
          f"{NEIGHBOURS} nearest texts under {names[0]}'s vectors that the backend's vectors also rank there; "
          f"cosine: mean, between the two vectors of one text)")


@contextmanager
def open_backends(specs: list[str], batch_size: int | None, workdir: Path) -> Iterator[list[Backend]]:
    """Each backend's embedder and its own fresh embedded database (never a DATABASE_URL from the environment)."""
    with ExitStack() as stack:
        backends = []
        for spec in specs:  # checked by parse_args
            name, _, size = spec.partition(":")
            settings = Settings(data_dir=workdir / spec.replace(":", "-") / "data")
            settings = settings.model_copy(update={
                "database_url": None, "embedding_backend": "torch" if name == BEFORE else name,
                "embedding_batch_size": int(size) if size else batch_size})
            started = time.perf_counter()
            embedder = Embedder.load(settings)
            if name == BEFORE:
                embedder = PreviousEmbedder(embedder, settings.embedding_batch_size)
            load_s = time.perf_counter() - started
            db = Database.open(settings)
            stack.callback(EmbeddedServer(settings.pg_dir).wait_for_watchdog)
            stack.callback(db.close)
            backends.append(Backend(settings, embedder, db, load_s, spec))
        yield backends


def main() -> None:
    """Run the benchmark in fresh embedded databases inside a temporary directory."""
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        workdir = Path(tmp)
        source = prepare_input(args, workdir)
        with open_backends(args.backends, args.batch_size, workdir) as backends:
            figures = measure(backends, source, workdir)
            print_header(backends, source)
        for name, figure in figures.items():
            print_report(name, figure)
        print_comparison(figures)


if __name__ == "__main__":
    main()
