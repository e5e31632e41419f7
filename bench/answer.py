"""Answer latency per stage at several database sizes: ratios against the smallest and against bare retrieval."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs
import psycopg
from psycopg import sql

from assistant.api import RiskAssistant
from assistant.config import Settings
from assistant.db import Database
from assistant.demo import DEMO_SEED, generate_demo, write_jsonl_gz
from assistant.embed import Embedder
from assistant.mapping import Mapping
from assistant.models import AnswerEvent, EvidenceEvent, PlanEvent, QueryPlan, SummaryDelta
from assistant.pipeline import retrieve_evidence
from assistant.resources import resource_dir
from assistant.server import EmbeddedServer

AS_OF = dt.date(2026, 11, 22)
DEFAULT_DATA_DIR = Path(platformdirs.user_cache_dir("risk-assistant")) / "bench-answer"
STAGES = ("plan", "evidence", "facts", "themes", "anomalies", "summary")  # the keys of Answer.timings
# Milliseconds from the ask_stream call to the first event of each kind.
MARKS: dict[type, str] = {PlanEvent: "plan", EvidenceEvent: "evidence", SummaryDelta: "first text",
                          AnswerEvent: "answer"}
BROAD = ("high severity AML alerts in 2026", "chargebacks in 2025",
         "customers locked out after suspicious logins from new devices")
Say = Callable[[str], None]


@dataclass
class Sample:
    """One timed ask: ms from the call to each stage's first event, the answer's own stage split, and
    the bare retrieval of the same plan right after it."""

    question: str
    marks: dict[str, float]
    stages: dict[str, float]
    retrieve_ms: float
    matched: int


@dataclass
class Build:
    """How a size's database came to be: built in this run (and how long it took) or reused."""

    events: int
    reused: bool
    seconds: float  # of the build, in this run or (reused) in the run that built it; 0 when unknown
    built_on: str = ""


@dataclass
class SizeRun:
    """Everything measured at one database size."""

    size: int
    build: Build
    load: tuple[str, str] = ("", "")  # load averages before and after the timed asks
    samples: list[Sample] = field(default_factory=list)


def parse_args() -> argparse.Namespace:
    """The command line: --sizes, --questions, --data-dir, --json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000",
                        help="comma-separated database sizes in events (default 10000,100000)")
    parser.add_argument("--questions", "--repeats", dest="repeats", type=int, default=5,
                        help="timed asks of each question after its one warm-up ask (default 5)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"where the databases are built once and kept (default {DEFAULT_DATA_DIR})")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args()
    args.sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if not args.sizes or args.sizes[0] < 1000:
        parser.error("--sizes: give sizes of at least 1000 events (the demo's planted patterns need ~120)")
    if args.repeats < 1:
        parser.error("--questions must be at least 1")
    return args


def questions(smallest: int) -> list[str]:
    """The fixed questions: the demo's planted patterns, broad filtered ones, and "cases like" an account."""
    demo = generate_demo(DEMO_SEED, smallest)  # planted rows and accounts are the same at every size
    structuring = demo.planted["structuring_2026_03"].source_ids
    account = next(r["entity_id"] for r in demo.rows if r["source_id"] in structuring)
    return [*(p.question for p in demo.planted.values()), *BROAD, f"cases like {account}"]


def database_url(server: EmbeddedServer, name: str) -> str:
    """The URL of a database in the embedded server, created when missing."""
    with psycopg.connect(server.uri(), autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server.uri().replace("/postgres?", f"/{name}?")


def offline_settings(url: str, data_dir: Path) -> Settings:
    """Settings for one size's database with no LLM configured, whatever the environment says."""
    return Settings(database_url=url, data_dir=data_dir, openai_api_key=None,  # type: ignore[arg-type]
                    openai_base_url=None)


def ticker(size: int, say: Say) -> Callable[[int], None]:
    """An ingest progress callback that reports every 5% with the rate and the time left."""
    started, done, step = time.perf_counter(), [0, 0], max(1, size // 20)

    def progress(rows: int) -> None:
        done[0] += rows
        if done[0] - done[1] >= step or done[0] >= size:
            done[1] = done[0]
            rate = done[0] / max(time.perf_counter() - started, 1e-9)
            say(f"  {done[0]}/{size} rows, {rate:.0f} rows/s, about {(size - done[0]) / rate / 60:.1f} min left")
    return progress


def build(assistant: RiskAssistant, size: int, data_dir: Path, say: Say) -> Build:
    """Ingest `size` demo events through the product unless the database already holds them."""
    record = data_dir / f"build_{size}.json"
    have = assistant.count_events()
    if have == size:
        known = json.loads(record.read_text()) if record.exists() else {}
        return Build(size, True, float(known.get("seconds", 0.0)), str(known.get("built_on", "")))
    if have > size:
        raise SystemExit(f"database answer_{size} in {data_dir} holds {have} events; delete {data_dir} and rerun")
    say(f"generating {size} demo events" + (f" (resuming: {have} already stored)" if have else ""))
    path = data_dir / f"demo_{size}.jsonl.gz"
    write_jsonl_gz(generate_demo(DEMO_SEED, size).rows, path)
    mapping = Mapping.load(resource_dir("mappings") / "demo.toml")
    say(f"ingesting {size} events (embedding every text; load average {load_average()})")
    result = assistant.ingest(path, mapping, report_path=data_dir / f"rejected_{size}.csv",
                              progress=ticker(size, say))
    if assistant.count_events() != size:
        raise SystemExit(f"ingestion stored {assistant.count_events()} of {size} events: {result.summary()}")
    done = Build(size, False, result.seconds, dt.date.today().isoformat())
    record.write_text(json.dumps({"seconds": done.seconds, "built_on": done.built_on}))
    say(f"built in {done.seconds:.0f} s ({size / done.seconds:.0f} events/s)")
    return done


def ask(assistant: RiskAssistant, question: str) -> tuple[Sample, QueryPlan]:
    """Ask once, timing the first event of each kind from the call; the plan that ran."""
    marks: dict[str, float] = {}
    plan, matched, timings = None, 0, {}
    started = time.perf_counter()
    for event in assistant.ask_stream(question, as_of=AS_OF):
        kind = MARKS.get(type(event))
        if kind is not None:
            marks.setdefault(kind, 1000 * (time.perf_counter() - started))
        if isinstance(event, PlanEvent):
            plan = event.plan
        elif isinstance(event, EvidenceEvent):
            matched = event.matched
        elif isinstance(event, AnswerEvent):
            timings = event.answer.timings
    assert plan is not None and "answer" in marks, "the stream ended without a plan or an answer"
    stages = {stage: float(timings.get(stage, 0.0)) for stage in STAGES}
    stages["record and rest"] = marks["answer"] - sum(stages.values())
    return Sample(question, marks, stages, 0.0, matched), plan


def bare_retrieve(assistant: RiskAssistant, plan: QueryPlan) -> float:
    """Milliseconds of the pipeline's evidence stage alone on the plan (pipeline.retrieve_evidence)."""
    started = time.perf_counter()
    retrieve_evidence(assistant.db, assistant.embedder, assistant.settings, plan)
    return 1000 * (time.perf_counter() - started)


def measure(assistant: RiskAssistant, asked: list[str], repeats: int, say: Say) -> list[Sample]:
    """Warm up each question once, then ask them all in turn `repeats` times, each ask followed by its
    bare retrieval, so that load changes hit the answer and its baseline alike."""
    for question in asked:
        sample, plan = ask(assistant, question)
        bare_retrieve(assistant, plan)
        say(f"  warm-up: {sample.marks['answer']:7.0f} ms, {sample.matched:6d} matched  {question}")
    samples = []
    for _ in range(repeats):
        for question in asked:
            sample, plan = ask(assistant, question)
            sample.retrieve_ms = bare_retrieve(assistant, plan)
            samples.append(sample)
    return samples


def open_size(server: EmbeddedServer, embedder: Embedder, size: int, data_dir: Path) -> RiskAssistant:
    """The assistant over one size's database (created empty when missing), offline."""
    settings = offline_settings(database_url(server, f"answer_{size}"), data_dir)
    assistant = RiskAssistant(settings, Database.open(settings), embedder)
    if assistant.mode != "offline":
        assistant.close()
        raise SystemExit("an LLM is configured; this benchmark measures the offline mode")
    return assistant


def build_size(server: EmbeddedServer, embedder: Embedder, size: int, data_dir: Path, say: Say) -> SizeRun:
    """Build (or reuse) one size's database."""
    assistant = open_size(server, embedder, size, data_dir)
    try:
        run = SizeRun(size, build(assistant, size, data_dir, say))
        assistant.db.execute("ANALYZE")  # fresh and reused databases are measured with the same statistics
        return run
    finally:
        assistant.close()


def measure_size(server: EmbeddedServer, embedder: Embedder, run: SizeRun, asked: list[str],
                 args: argparse.Namespace, say: Say) -> None:
    """Time every question on one size's database."""
    assistant = open_size(server, embedder, run.size, args.data_dir)
    try:
        say(f"measuring {run.size} events: {len(asked)} questions, 1 warm-up + {args.repeats} timed asks each")
        before = load_average()
        run.samples = measure(assistant, asked, args.repeats, say)
        run.load = (before, load_average())
    finally:
        assistant.close()


def load_average() -> str:
    """The 1/5/15-minute load averages: the CPU is shared, so read the latencies with them."""
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie (linear interpolation)."""
    return float(np.percentile(values, share * 100)) if values else 0.0


def columns(run: SizeRun) -> dict[str, list[float]]:
    """Every figure of the table as its list of samples, by row name."""
    found: dict[str, list[float]] = {f"to {m}": [s.marks.get(m, 0.0) for s in run.samples] for m in MARKS.values()}
    found["bare retrieve"] = [s.retrieve_ms for s in run.samples]
    for stage in [*STAGES, "record and rest"]:
        found[f"stage {stage}"] = [s.stages[stage] for s in run.samples]
    return found


def summarise(run: SizeRun) -> dict[str, tuple[float, float]]:
    """p50 and p90 of every row, with answer / retrieve as the ratio of the medians."""
    figures = {name: (percentile(v, 0.5), percentile(v, 0.9)) for name, v in columns(run).items()}
    answer, bare = figures["to answer"], figures["bare retrieve"]
    figures["answer / retrieve"] = (answer[0] / bare[0], answer[1] / bare[1])
    return figures


def label(size: int) -> str:
    """A size in thousands of events: 10k, 2.5k."""
    return f"{size / 1000:g}k"


def ratio(big: float, small: float) -> str:
    """big / small, or a dash when the baseline is zero."""
    return f"{big / small:.2f}" if small > 0 else "-"


def print_table(runs: list[SizeRun]) -> None:
    """One row per figure: p50 and p90 (ms) per size, and the largest size over the smallest."""
    figures = [summarise(run) for run in runs]
    sizes = f"{label(runs[-1].size)}/{label(runs[0].size)}"
    head = "".join(f"{label(r.size) + ' p50':>11}{label(r.size) + ' p90':>11}" for r in runs)
    print(f"{'ms (median, p90)':<24}{head}{sizes + ' p50':>16}{sizes + ' p90':>16}")
    for name in figures[0]:
        cells = "".join(f"{f[name][0]:>11.1f}{f[name][1]:>11.1f}" for f in figures)
        print(f"{name:<24}{cells}{ratio(figures[-1][name][0], figures[0][name][0]):>16}"
              f"{ratio(figures[-1][name][1], figures[0][name][1]):>16}")


def print_questions(runs: list[SizeRun], asked: list[str]) -> None:
    """Per question: events matched and median time to answer per size, the size ratio, answer / retrieve."""
    print(f"{'question':<64}" + "".join(f"{label(r.size) + ' matched':>13}{'answer ms':>11}{'/retr':>7}"
                                        for r in runs) + f"{'ratio':>8}")
    for question in asked:
        cells, medians = "", []
        for run in runs:
            mine = [s for s in run.samples if s.question == question]
            answer = percentile([s.marks["answer"] for s in mine], 0.5)
            bare = percentile([s.retrieve_ms for s in mine], 0.5)
            medians.append(answer)
            cells += f"{mine[0].matched:>13}{answer:>11.1f}{ratio(answer, bare):>7}"
        print(f"{question[:63]:<64}{cells}{ratio(medians[-1], medians[0]):>8}")


def print_report(runs: list[SizeRun], asked: list[str], repeats: int) -> None:
    """The machine, the builds, the main table and the per-question medians."""
    import torch  # heavy; already loaded by the embedder

    print(f"\nmachine:   {os.cpu_count()} CPU cores, {torch.get_num_threads()} torch threads; offline mode "
          f"(no LLM); as_of {AS_OF}; {len(asked)} questions x {repeats} timed asks per size")
    for run in runs:
        how = "reused" if run.build.reused else "built in this run"
        took = f"{run.build.seconds:.0f} s" if run.build.seconds else "time unknown"
        print(f"{run.size:>7} events: {how} ({took}{', ' + run.build.built_on if run.build.built_on else ''}); "
              f"load average {run.load[0]} before the asks, {run.load[1]} after")
    print()
    print_table(runs)
    print()
    print_questions(runs, asked)


def write_json(path: Path, runs: list[SizeRun], asked: list[str]) -> None:
    """The raw samples and the summary figures, per size."""
    out: dict[str, Any] = {"as_of": AS_OF.isoformat(), "cpus": os.cpu_count(), "questions": asked, "sizes": {}}
    for run in runs:
        out["sizes"][str(run.size)] = {"build": asdict(run.build), "load": run.load,
                                       "summary": {k: {"p50": v[0], "p90": v[1]} for k, v in summarise(run).items()},
                                       "samples": [asdict(s) for s in run.samples]}
    path.write_text(json.dumps(out, indent=2))


def main() -> None:
    """Build or reuse one database per size in the data dir's embedded server, then time the answers."""
    args = parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    say: Say = lambda line: print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)  # noqa: E731
    asked = questions(args.sizes[0])
    server = EmbeddedServer(args.data_dir / "postgres")
    server.acquire()
    try:
        embedder = Embedder.load(Settings())
        # Every build first: the sizes are then measured one after the other, minutes apart at most.
        runs = [build_size(server, embedder, size, args.data_dir, say) for size in args.sizes]
        for run in runs:
            measure_size(server, embedder, run, asked, args, say)
    finally:
        server.release()
        server.wait_for_watchdog()
    print_report(runs, asked, args.repeats)
    if args.json is not None:
        write_json(args.json, runs, asked)


if __name__ == "__main__":
    main()
