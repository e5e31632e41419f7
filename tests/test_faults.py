"""Fault tests (issue 11): an ingest killed with SIGKILL at random points, the database restarted under a
chat, an LLM endpoint that times out or answers garbage, a read-only or full data directory. Each test
counts its runs and prints the counts (`pytest -s` shows them)."""

from __future__ import annotations

import collections
import contextlib
import gzip
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from pgvector.psycopg import register_vector
from pydantic import SecretStr

from assistant.api import RiskAssistant
from assistant.config import Settings
from assistant.db import Database
from assistant.demo import bundled_demo_path
from assistant.embed import Embedder
from assistant.errors import AssistantError, DatabaseError
from assistant.llm import make_chat_model
from assistant.models import Answer
from assistant.server import EmbeddedServer
from tests.conftest import AS_OF, new_database_url, settings_for
from tests.fake_openai import FAULTS, FakeOpenAI

ROWS, BATCH = 60, 10  # six batches: kills land before, between and after them
SEED_ROWS = 30
TRIALS = 20
RUNS_PER_FAULT = 5
QUESTION = "card-not-present fraud alerts"
API_KEY = "sk-faults-test-key-0123456789abcdef"  # must never appear in a note or an error


def write_events(path: Path, start: int, count: int) -> Path:
    """A slice of the bundled demo events as JSON Lines (in a temporary directory, never the repo)."""
    with gzip.open(bundled_demo_path(), "rt", encoding="utf-8") as source:
        lines = [line for n, line in enumerate(source) if start <= n < start + count]
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The file the trials ingest (source "events") and the one a seeded database already holds."""
    tmp = tmp_path_factory.mktemp("faults_files")
    return {"events": write_events(tmp / "events.jsonl", 0, ROWS),
            "seed": write_events(tmp / "seed.jsonl", 2000, SEED_ROWS)}


# -- 1. kill -9 of an ingest -------------------------------------------------------------------------


class Worker:
    """A process that loads the model once and forks one child per ingest (a fresh process would spend
    15 s importing torch and loading the model); the child is SIGKILLed `kill_at` seconds after the fork."""

    def __init__(self, tmp: Path) -> None:
        env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
        self.tmp = tmp
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.test_faults"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env,
                                     cwd=Path(__file__).resolve().parents[1])

    def ingest(self, url: str, path: Path, *, kill_at: float | None = None,
               kill_after_rows: int | None = None) -> dict[str, Any]:
        """Run one ingest in a forked child: its exit code (-9 when killed) and its seconds."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        job = {"url": url, "path": str(path), "tmp": str(self.tmp), "batch": BATCH, "kill_at": kill_at,
               "kill_after_rows": kill_after_rows}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the ingest worker died"
        result: dict[str, Any] = json.loads(line)
        return result

    def close(self) -> None:
        """End the worker (its stdin closing ends its loop)."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def serve_ingests() -> None:
    """The worker's loop: one JSON job per stdin line, one JSON result per stdout line."""
    embedder = Embedder.load(Settings())
    for line in sys.stdin:
        job = json.loads(line)
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os._exit(_ingest_child(embedder, job))
        code = _wait(pid, job["kill_at"])
        print(json.dumps({"code": code, "seconds": time.monotonic() - started}), flush=True)


def _wait(pid: int, kill_at: float | None) -> int:
    """Wait for the child, SIGKILLing it at `kill_at` s if it still runs; its exit code (-9 if killed).
    The child is killed only while unreaped, so its pid cannot have been reused."""
    deadline = None if kill_at is None else time.monotonic() + kill_at
    while deadline is not None and time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.005)
    if deadline is not None:
        os.kill(pid, signal.SIGKILL)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _ingest_child(embedder: Embedder, job: dict[str, Any]) -> int:
    """In the forked child: open the database (migrating it) and ingest, as `RiskAssistant.ingest` does."""
    try:
        settings = Settings(database_url=job["url"], data_dir=Path(job["tmp"]), ingest_batch_size=job["batch"],
                            openai_api_key=None, openai_base_url=None)
        assistant = RiskAssistant(settings, Database.open(settings), embedder)
        done = [0]

        def progress(rows: int) -> None:
            done[0] += rows  # told after each batch commits: a kill here lands exactly between batches
            if job["kill_after_rows"] is not None and done[0] >= job["kill_after_rows"]:
                os.kill(os.getpid(), signal.SIGKILL)

        assistant.ingest(Path(job["path"]), progress=progress)
        assistant.close()
        return 0
    except BaseException:
        traceback.print_exc()
        return 1


def create_database(server: EmbeddedServer, template: str | None = None) -> str:
    """A new database, empty or a copy of `template`; its URL."""
    name = f"f_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.uri(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return server.uri().replace("/postgres?", f"/{name}?")


def db_name(url: str) -> str:
    """The database name in one of our URLs."""
    return urlsplit(url).path.lstrip("/")


def drop_database(server: EmbeddedServer, url: str) -> None:
    """Drop a trial's database (killed clients may leave sessions behind for a moment)."""
    with psycopg.connect(server.uri(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{db_name(url)}" WITH (FORCE)')


def snapshot(url: str) -> dict[str, Any]:
    """Everything an ingest writes: events, embeddings (their hashes and vectors) and the value registry."""
    with psycopg.connect(url) as conn:
        register_vector(conn)
        rows = {name: sorted(conn.execute(sql).fetchall()) for name, sql in {
            "events": "SELECT source, source_id, content_hash FROM risk_events",
            "field_values": "SELECT field, value, events FROM field_values",
            "subcategory_parents": "SELECT subcategory, category, events FROM subcategory_parents",
            "numeric_fields": "SELECT field, events FROM numeric_fields",
        }.items()}
        rows["embeddings"] = sorted(conn.execute(
            "SELECT ev.source_id, em.model, em.content_hash = ev.content_hash, em.embedding "
            "FROM event_embeddings em JOIN risk_events ev ON ev.id = em.event_id").fetchall(),
            key=lambda r: (r[0], r[1]))
    return rows


def assert_same(got: dict[str, Any], want: dict[str, Any], trial: str) -> None:
    """The trial's database holds exactly what a clean single ingest wrote."""
    for table in ("events", "field_values", "subcategory_parents", "numeric_fields"):
        assert got[table] == want[table], f"{trial}: {table} differs from a clean ingest"
    keys = [(r[0], r[1]) for r in got["embeddings"]]
    assert keys == [(r[0], r[1]) for r in want["embeddings"]], f"{trial}: not one embedding per event and model"
    assert all(r[2] for r in got["embeddings"]), f"{trial}: an embedding's content hash is not its event's"
    worst = max(float(abs(g[3].to_numpy() - w[3].to_numpy()).max())
                for g, w in zip(got["embeddings"], want["embeddings"], strict=True))
    assert worst < 1e-3, f"{trial}: embeddings differ from a clean ingest's by up to {worst}"


def stage_of(events: int, recorded: bool) -> str:
    """Where a kill landed, read from what the killed run left behind."""
    if recorded:
        return "after the end"
    if events == ROWS:
        return "after the last batch, before the registry"
    return "between batches" if events else "before the first batch"


def killed_state(url: str) -> tuple[int, int, bool]:
    """Events and embeddings of source "events" and whether the run was recorded; zeros if unmigrated."""
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass('ingest_runs') IS NULL").fetchone() == (True,):
            return 0, 0, False
        row = conn.execute(
            "SELECT (SELECT count(*) FROM risk_events WHERE source = 'events'), "
            "(SELECT count(*) FROM event_embeddings em JOIN risk_events ev ON ev.id = em.event_id "
            " WHERE ev.source = 'events'), "
            "EXISTS (SELECT 1 FROM ingest_runs WHERE source = 'events')").fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), bool(row[2])


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """The forking ingest worker."""
    runner = Worker(tmp_path_factory.mktemp("faults_worker"))
    yield runner
    runner.close()


def test_ingest_killed_at_random_points_completes_exactly(server: EmbeddedServer, worker: Worker,
                                                          files: dict[str, Path]) -> None:
    """SIGKILL an ingest at spread-out moments (and right after a batch commits), re-run it: each trial ends
    with exactly the rows, embeddings and value registry of a clean single ingest, and no half batch."""
    seed = create_database(server)
    assert worker.ingest(seed, files["seed"])["code"] == 0
    want: dict[str, dict[str, Any]] = {}
    seconds: list[float] = []
    for kind, template in (("empty", None), ("seeded", db_name(seed))):
        url = create_database(server, template)
        clean = worker.ingest(url, files["events"])
        assert clean["code"] == 0, "the clean ingest failed (see the worker's stderr)"
        want[kind], seconds = snapshot(url), [*seconds, clean["seconds"]]
        drop_database(server, url)
    rng = random.Random(os.environ.get("FAULTS_SEED", str(time.time_ns())))
    span = 1.15 * max(seconds)  # a few kills land after the end: the re-run must change nothing then
    plans: list[dict[str, Any]] = [{"kill_at": span * (i + rng.random()) / TRIALS} for i in range(TRIALS)]
    plans += [{"kill_after_rows": BATCH}, {"kill_after_rows": ROWS}]  # exactly after a batch, after the last one
    stages: collections.Counter[str] = collections.Counter()
    for n, plan in enumerate(plans):
        kind = "seeded" if n % 2 else "empty"
        url = create_database(server, db_name(seed) if kind == "seeded" else None)
        killed = worker.ingest(url, files["events"], **plan)
        events, embedded, recorded = killed_state(url)
        trial = f"trial {n} ({kind}, {plan}, exit {killed['code']}, {events} events stored)"
        assert events == embedded, f"{trial}: events without their embeddings"
        assert events % BATCH == 0 or events == ROWS, f"{trial}: a batch was half written"
        stages[stage_of(events, recorded)] += 1
        assert worker.ingest(url, files["events"])["code"] == 0, f"{trial}: the re-run failed"
        assert_same(snapshot(url), want[kind], trial)
        drop_database(server, url)
    print(f"\nkill -9 trials: {len(plans)} ({TRIALS} at random delays over {span:.2f} s, 2 right after a "
          f"batch commit; clean ingest {max(seconds):.2f} s); kills landed: {dict(stages)}")
    assert sum(stages.values()) >= 20
    assert stages["between batches"] and stages["after the last batch, before the registry"]



# -- 2. the database restarted under a chat ------------------------------------------------------------


def own_assistant(tmp: Path, embedder: Embedder, **overrides: Any) -> RiskAssistant:
    """A RiskAssistant on its own embedded server in `tmp` (the shared one is never restarted)."""
    settings = Settings(data_dir=tmp, database_url=None, openai_api_key=None, openai_base_url=None,
                        llm_agent=False, **overrides)
    return RiskAssistant(settings, Database.open(settings), embedder)


def wait_for_lock_wait(uri: str, timeout_s: float = 30.0) -> None:
    """Wait until some backend waits on a lock (the chat's INSERT of its answer)."""
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(uri, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            row = watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").fetchone()
            if row and row[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the question never reached the locked table")


def ask_in_thread(assistant: RiskAssistant, outcome: dict[str, Any]) -> threading.Thread:
    """Answer QUESTION on a thread; its answer or its exception lands in `outcome`."""
    def run() -> None:
        try:
            outcome["answer"] = assistant.ask(QUESTION, as_of=AS_OF)
        except BaseException as err:  # the test inspects whatever came out
            outcome["error"] = err
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def restarted(embedder: Embedder, files: dict[str, Path],
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Restart the embedded server while a question's INSERT of its answer waits on a lock: what that
    question raised ("error") and three questions asked after the restart ("answers")."""
    assistant = own_assistant(tmp_path_factory.mktemp("faults_restart"), embedder, pool_timeout_s=10)
    restarter = EmbeddedServer(assistant.settings.pg_dir)
    try:
        assistant.ingest(files["seed"])
        assert assistant.db.server is not None
        uri, outcome = assistant.db.server.uri(), dict[str, Any]()
        locker = psycopg.connect(uri)
        locker.execute("LOCK TABLE answers IN ACCESS EXCLUSIVE MODE")  # the answer's INSERT waits on it
        thread = ask_in_thread(assistant, outcome)
        wait_for_lock_wait(uri)
        assert restarter.stop(force=True)
        restarter.acquire()
        thread.join(timeout=60)
        with contextlib.suppress(psycopg.Error):
            locker.close()
        print(f"\nin flight across the restart: {type(outcome.get('error')).__name__}: {outcome.get('error')}")
        outcome["answers"] = [assistant.ask(QUESTION, as_of=AS_OF) for _ in range(3)]
        yield outcome
    finally:
        assistant.close()
        restarter.release()
        restarter.wait_for_watchdog()


def test_questions_after_a_database_restart_are_answered(restarted: dict[str, Any]) -> None:
    """The pool checks its connections: every question after the restart is answered."""
    assert len(restarted["answers"]) == 3 and all(a.events for a in restarted["answers"])


def test_a_question_in_flight_across_a_restart_gets_a_clear_error(restarted: dict[str, Any]) -> None:
    """The question whose query the restart cut off fails with one of our errors, naming the database."""
    error = restarted.get("error")
    assert isinstance(error, AssistantError), f"not a clear error: {type(error).__name__}: {error}"
    assert "Traceback" not in str(error) and "database" in str(error)


# -- 4. a read-only or full data directory -------------------------------------------------------------


@contextlib.contextmanager
def tmpfs(path: Path, options: str) -> Iterator[None]:
    """A tmpfs mounted at `path` (skips the test where mounting is not allowed: it needs root)."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")
    try:
        yield
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=False)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` made read-only: a read-only mount as root (root ignores permissions), mode 0555 otherwise."""
    if os.geteuid() == 0:
        with tmpfs(path, "ro,size=1m"):
            yield
        return
    path.mkdir(parents=True)
    path.chmod(0o555)
    try:
        yield
    finally:
        path.chmod(0o755)


def test_a_read_only_data_dir_is_a_clear_error_naming_it(tmp_path: Path) -> None:
    """Starting for the first time on a read-only RISK_DATA_DIR: an error naming the directory, nothing written."""
    data = tmp_path / "data"
    with read_only(data):
        settings = Settings(data_dir=data, database_url=None, openai_api_key=None, openai_base_url=None)
        with pytest.raises(DatabaseError) as caught:
            Database.open(settings)
        assert list(data.iterdir()) == []
    message = str(caught.value)
    assert str(data) in message and "RISK_DATA_DIR" in message and "Traceback" not in message


def fill_disk(path: Path) -> None:
    """Write zeros to `path` until the file system is full."""
    with open(path, "wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(bytes(1 << 20))
            handle.flush()


def test_a_full_disk_stops_an_ingest_with_no_half_batch(embedder: Embedder, files: dict[str, Path],
                                                         tmp_path: Path) -> None:
    """The database's disk fills during an ingest: an error naming the file, the rows and the directory;
    the events stored before are intact and nothing of the failed batch is kept; freed, a re-run finishes."""
    data = tmp_path / "data"
    with tmpfs(data, "size=96m"):
        assistant = own_assistant(data, embedder, ingest_batch_size=BATCH)
        try:
            assistant.ingest(files["seed"])
            assert assistant.db.server is not None
            uri, pgdata = assistant.db.server.uri(), assistant.db.server.pgdata
            before = snapshot(uri)
            fill_disk(data / "filler")
            with pytest.raises(DatabaseError) as caught:
                assistant.ingest(files["events"])
            message = str(caught.value)
            print(f"\nfull disk: {message}")
            assert str(files["events"]) in message and "rows 1-" in message and str(pgdata) in message
            events, embedded, _ = killed_state(uri)
            assert events == embedded and events % BATCH == 0, f"{events} events, {embedded} embeddings"
            after = snapshot(uri)
            seed_rows = [r for r in after["events"] if r[0] == "seed"]
            assert seed_rows == before["events"], "the events stored before the disk filled changed"
            (data / "filler").unlink()
            assistant.ingest(files["events"])
            assert killed_state(uri)[:2] == (ROWS, ROWS)
        finally:
            assistant.close()
            assistant.db.server and assistant.db.server.wait_for_watchdog()


# -- 3. the LLM endpoint failing -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def loaded_url(server: EmbeddedServer, embedder: Embedder, files: dict[str, Path],
               tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database of the shared server holding the trials' events, ingested once."""
    url = new_database_url(server)
    settings = settings_for(url, tmp_path_factory.mktemp("faults_llm"))
    assistant = RiskAssistant(settings, Database.open(settings), embedder)
    assistant.ingest(files["events"])
    assistant.close()
    return url


def llm_assistant(url: str, tmp: Path, embedder: Embedder, base_url: str) -> RiskAssistant:
    """A RiskAssistant whose summary comes from a real ChatOpenAI at `base_url`, with short timeouts."""
    settings = Settings(database_url=url, data_dir=tmp, openai_api_key=SecretStr(API_KEY),  # type: ignore[arg-type]
                        openai_base_url=base_url, llm_agent=False, llm_timeout_s=0.5, llm_max_retries=1)
    return RiskAssistant(settings, Database.open(settings), embedder, make_chat_model(settings))


# What each fault's note must name: the reason, in the provider client's own words.
REASONS = {"hang": "timed out", "http_500": "500", "garbage": "json", "bad_tool_args": "schema", "empty": "empty"}


def assert_offline_with_note(answer: Answer, offline: Answer, fault: str) -> None:
    """The answer is the offline report, with a note saying the LLM failed and why."""
    notes = [n.text for n in answer.notes if n.kind == "llm"]
    assert answer.mode == "offline", f"{fault}: mode {answer.mode}"
    same = (answer.summary, answer.citations) == (offline.summary, offline.citations)
    assert same, f"{fault}: not the offline report"
    assert len(notes) == 1 and "offline report instead" in notes[0], f"{fault}: notes {answer.notes}"
    assert REASONS[fault].lower() in notes[0].lower(), f"{fault}: the note does not say why: {notes[0]}"
    assert API_KEY not in notes[0] and "Traceback" not in notes[0]


def test_llm_faults_give_the_offline_answer_with_a_note(loaded_url: str, embedder: Embedder,
                                                        tmp_path: Path) -> None:
    """Timeouts, HTTP 500s, garbage, malformed tool calls and empty replies from a real ChatOpenAI client:
    every run is the offline answer with a note saying why, within the configured timeouts."""
    plain = RiskAssistant(settings_for(loaded_url, tmp_path), Database.open(settings_for(loaded_url, tmp_path)),
                          embedder)
    offline = plain.ask(QUESTION, as_of=AS_OF)
    plain.close()
    assert offline.events, "the question matches no event: the LLM would not be asked"
    counts: collections.Counter[str] = collections.Counter()
    with FakeOpenAI(hang_s=5.0) as fake:
        assistant = llm_assistant(loaded_url, tmp_path, embedder, fake.base_url)
        assert assistant.ask(QUESTION, as_of=AS_OF).mode == "llm", "the fake endpoint's valid reply was not used"
        for fault in FAULTS:
            fake.fault = fault
            for _ in range(RUNS_PER_FAULT):
                sent, started = len(fake.requests), time.monotonic()
                answer = assistant.ask(QUESTION, as_of=AS_OF)
                took = time.monotonic() - started
                print(f"\n{fault}: {took:.2f} s, {len(fake.requests) - sent} request(s): "
                      f"{[n.text for n in answer.notes if n.kind == 'llm']}")
                assert len(fake.requests) > sent, f"{fault}: the endpoint was not asked"
                assert_offline_with_note(answer, offline, fault)
                assert took < 15, f"{fault}: {took:.1f} s, past the timeouts' bound"
                counts[fault] += 1
        assistant.close()
    print(f"\nLLM fault runs, all offline with a note: {dict(counts)}")
    assert counts == {fault: RUNS_PER_FAULT for fault in FAULTS}


if __name__ == "__main__":
    serve_ingests()
