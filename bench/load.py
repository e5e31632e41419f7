"""Load test: chat sessions over the UI's HTTP API, a batch run and the Slack bot at once, for a bounded time.

`risk-assistant serve` runs as a subprocess over its own data directory (the demo events loaded first) and is
driven only over HTTP on 127.0.0.1: each chat session is a Gradio client with its own session hash, asking
questions of the demo planner dev set (eval/planner_demo.jsonl), follow-ups and plan edits (a chip removed, the
dates changed, the plan's JSON edited and run). Meanwhile this process answers the same questions in batches
(RiskAssistant.ask_batch) and serves the Slack bot over HTTP against the fake Slack Web API of tests/fake_slack.py,
posting it signed event deliveries as Slack does. Every few seconds it samples the server's RSS and PostgreSQL's
client connections. Offline mode (no LLM). Exits 1 when any question failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fronts and the tests' Slack fake (reused, not copied) import from the root

from assistant.api import RiskAssistant  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.db import Database  # noqa: E402
from assistant.embed import Embedder  # noqa: E402
from bench.load_chat import FOLLOW_UPS, ChatSession, Front  # noqa: E402
from bench.load_fronts import SlackRig, ask_thread, run_batches, run_slack_user, start_slack  # noqa: E402

ALONE = 8  # questions per front in the baseline, each front on its own
DEV_SET = ROOT / "eval" / "planner_demo.jsonl"


@dataclass
class Sample:
    """One look: the UI server's RSS, this process's (the bot's and the batch's), the chat clients' process's,
    PostgreSQL's client connections, the load."""

    at: float
    server_mb: float
    driver_mb: float
    clients_mb: float
    connections: int
    active: int
    load: float


def parse_args() -> argparse.Namespace:
    """The command line: --duration, --sessions, --new-session-every, --ui-max-sessions, --slack-users,
    --batch-concurrency, --pool-size, --data-dir."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load (default 300)")
    parser.add_argument("--sessions", type=int, default=20, help="concurrent chat sessions (default 20)")
    parser.add_argument("--new-session-every", type=int, default=10,
                        help="steps after which a chat analyst opens a new tab, a new session (default 10)")
    parser.add_argument("--ui-max-sessions", type=int, default=60,
                        help="RISK_UI_MAX_SESSIONS of the server (default 60: reached early in a 5-minute run)")
    parser.add_argument("--slack-users", type=int, default=2, help="Slack threads asked at once (default 2)")
    parser.add_argument("--batch-concurrency", type=int, default=2, help="batch workers (default 2)")
    parser.add_argument("--pool-size", type=int, default=10, help="RISK_POOL_SIZE of each process (default 10)")
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds between samples (default 5)")
    parser.add_argument("--seed", type=int, default=11, help="random seed of the sessions' choices")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep the database here between runs (default: a temporary directory, removed)")
    return parser.parse_args()


def dev_questions() -> list[dict[str, str]]:
    """The dev set's questions with their as-of dates."""
    lines = DEV_SET.read_text(encoding="utf-8").splitlines()
    return [{"question": c["question"], "as_of": c["as_of"]} for c in map(json.loads, filter(str.strip, lines))]


# --- the server --------------------------------------------------------------------------------------------------


def open_backend(data_dir: Path, pool_size: int) -> RiskAssistant:
    """This process's assistant (the bot's and the batch's) over the data dir, with the demo events, offline."""
    settings = Settings(data_dir=data_dir, database_url=None, openai_api_key=None,
                        openai_base_url=None, pool_size=pool_size)
    assistant = RiskAssistant(settings, Database.open(settings), Embedder.load(settings))
    if assistant.mode != "offline":
        raise SystemExit("an LLM is configured; this load test measures the offline mode")
    if assistant.count_events() == 0:
        started = time.monotonic()
        print("loading the bundled demo events (a few minutes on 2 busy cores)", flush=True)
        print(f"{assistant.load_demo().summary()} in {time.monotonic() - started:.0f} s", flush=True)
    assistant.db.execute("ANALYZE")
    return assistant


def free_port() -> int:
    """A port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(data_dir: Path, port: int, pool_size: int, max_sessions: int) -> subprocess.Popen[bytes]:
    """`risk-assistant serve` over the same data dir, offline, its output in serve.log there."""
    env = {k: v for k, v in os.environ.items() if "OPENAI" not in k and "DATABASE_URL" not in k}
    env |= {"RISK_DATA_DIR": str(data_dir), "RISK_UI_HOST": "127.0.0.1", "RISK_UI_PORT": str(port),
            "RISK_POOL_SIZE": str(pool_size), "RISK_UI_MAX_SESSIONS": str(max_sessions),
            "GRADIO_ANALYTICS_ENABLED": "False",
            "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))}
    command = [str(Path(sys.executable).parent / "risk-assistant"), "serve"]
    log = (data_dir / "serve.log").open("wb")
    # cwd: the data dir, so that no .env of the caller's directory configures an LLM or another database
    return subprocess.Popen(command, cwd=data_dir, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path, timeout_s: float = 600.0) -> None:
    """Return once the UI answers over HTTP; SystemExit with the log's end if the server died or never came up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1.0)
    raise SystemExit(f"the server did not come up at {url}:\n{log.read_text(errors='replace')[-2000:]}")


def stop_server(server: subprocess.Popen[bytes]) -> str:
    """Stop the server like Ctrl-C would, else SIGTERM, else SIGKILL; which one it took, and how long."""
    started = time.monotonic()
    for how, timeout_s in ((signal.SIGINT, 15.0), (signal.SIGTERM, 15.0), (signal.SIGKILL, 30.0)):
        server.send_signal(how)
        try:
            server.wait(timeout_s)
            return f"{how.name} ({time.monotonic() - started:.1f} s)"
        except subprocess.TimeoutExpired:
            continue
    return "still running after SIGKILL"


# --- sampling and the report -------------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """A process's resident set size in MiB (from /proc: no dependency); 0 once it has ended."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0.0
    for line in lines:
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


CONNECTIONS = ("SELECT count(*), count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity "
               "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")


def sample_until(stop: threading.Event, every_s: float, pids: tuple[int, int], uri: str,
                 samples: list[Sample]) -> None:
    """Sample every `every_s` seconds until stopped, and once more then, over a connection of its own;
    `pids`: the UI server's and the chat clients' processes."""
    with psycopg.connect(uri, autocommit=True) as conn:
        while True:
            total, active = conn.execute(CONNECTIONS).fetchone() or (0, 0)
            samples.append(Sample(time.monotonic(), rss_mb(pids[0]), rss_mb(os.getpid()), rss_mb(pids[1]),
                                  int(total), int(active), os.getloadavg()[0]))
            if stop.is_set():
                return
            stop.wait(every_s)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values` (0 when empty)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] if ordered else 0.0


def front_line(name: str, seconds: list[float], errors: int, wall: float, alone: list[float]) -> str:
    """One row of the fronts' table; the ratio to the front's median alone when there is one."""
    rate = len(seconds) / wall if wall else 0.0
    p50, p50_alone = percentile(seconds, 0.5), percentile(alone, 0.5)
    ratio = f"{1000 * p50_alone:>9.0f}{p50 / p50_alone:>8.1f}" if alone else ""
    return (f"{name:<22}{len(seconds):>9}{errors:>8}{wall:>9.1f}{rate:>8.2f}{1000 * p50:>9.0f}"
            f"{1000 * percentile(seconds, 0.95):>9.0f}{1000 * max(seconds, default=0.0):>9.0f}{ratio}")


def print_fronts(fronts: list[Front], alone: list[Front]) -> None:
    """Per front, and per kind of step: questions, errors, q/s over the front's own span, latency, and the
    median against the same front's median alone (measured just before, in the same run)."""
    print(f"{'front':<22}{'questions':>9}{'errors':>8}{'seconds':>9}{'q/s':>8}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'max ms':>9}{'alone p50':>10}{'x alone':>8}")
    for front, baseline in zip(fronts, alone, strict=True):
        wall = max(front.span, default=0.0) - min(front.span, default=0.0)
        print(front_line(front.name, front.all_seconds, len(front.errors), wall, baseline.all_seconds))
        for kind, seconds in sorted(front.seconds.items()) if len(front.seconds) > 1 else ():
            failed = sum(e.startswith(f"{kind}: ") for e in front.errors)
            print(front_line(f"  {kind}", seconds, failed, wall, []))


def flat(series: list[float], slack: float) -> bool:
    """True when the second half never rises above the first half's peak by more than `slack` (a share)."""
    half = max(1, len(series) // 2)
    return max(series[half:], default=0.0) <= max(series[:half]) * (1 + slack)


def slope(samples: list[Sample], values: list[float]) -> float:
    """The least-squares slope of the run's second half, per minute: near 0 on a plateau (a process's 0 is
    its RSS once it has ended, and is left out)."""
    half = len(samples) // 2
    kept = [(s.at / 60, v) for s, v in zip(samples[half:], values[half:], strict=True) if v]
    times, ys = [t for t, _ in kept], [v for _, v in kept]
    if len(ys) < 2:
        return 0.0
    mean_t, mean_y = sum(times) / len(times), sum(ys) / len(ys)
    spread = sum((t - mean_t) ** 2 for t in times)
    return sum((t - mean_t) * (y - mean_y) for t, y in zip(times, ys, strict=True)) / spread if spread else 0.0


def print_samples(samples: list[Sample]) -> None:
    """First, last, min and max of each series, and whether it stayed flat."""
    print(f"\n{len(samples)} samples over {samples[-1].at - samples[0].at:.0f} s "
          "(flat: the second half's peak within 10% (memory) or at (connections) the first half's)")
    print(f"{'series':<30}{'first':>9}{'last':>9}{'min':>9}{'max':>9}{'2nd half /min':>15}  flat")
    series: list[tuple[str, list[float], float]] = [
        ("server RSS MiB", [s.server_mb for s in samples], 0.10),
        ("bot + batch process RSS MiB", [s.driver_mb for s in samples], 0.10),
        ("chat clients' RSS MiB", [s.clients_mb for s in samples], float("inf")),
        ("PostgreSQL connections", [float(s.connections) for s in samples], 0.0),
        ("  of which active", [float(s.active) for s in samples], float("inf")),
        ("load average (1 min)", [s.load for s in samples], float("inf")),
    ]
    for name, values, tolerance in series:
        verdict = "" if tolerance == float("inf") else ("yes" if flat(values, tolerance) else "NO")
        print(f"{name:<30}{values[0]:>9.1f}{values[-1]:>9.1f}{min(values):>9.1f}{max(values):>9.1f}"
              f"{slope(samples, values):>+15.2f}  {verdict}")
    step = max(1, len(samples) // 10)  # about ten points: enough to tell a plateau from a climb
    for name, values, _ in series[:4]:
        print(f"{name} every {step * (samples[-1].at - samples[0].at) / max(1, len(samples) - 1):.0f} s: "
              + " ".join(f"{v:.0f}" for v in values[::step]) + f" (last {values[-1]:.0f})")


def print_errors(fronts: list[Front], log: Path) -> None:
    """The distinct failures with their counts, and the server log's warnings."""
    for front in fronts:
        for message, count in Counter(front.errors).most_common(10):
            print(f"  {front.name} x{count}: {message}")
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    flagged = [line for line in lines if any(word in line for word in ("WARNING", "ERROR", "Traceback", "failed"))]
    print(f"server log: {len(lines)} lines, {len(flagged)} flagged (WARNING, ERROR, Traceback, failed)")
    for line, count in Counter(flagged).most_common(10):
        print(f"  x{count}: {line[:300]}")


# --- the run -----------------------------------------------------------------------------------------------------


def warm_up(url: str, assistant: RiskAssistant, rig: SlackRig, asked: list[dict[str, str]]) -> None:
    """One question through each front before timing: the models, caches and registries of both processes."""
    session = ChatSession(url, asked, Front("warm-up"), random.Random(0))
    session.ask("first", "/ask", (asked[0]["question"], asked[0]["as_of"]), 0.0)
    session.close()
    assistant.ask_batch(asked[:2], concurrency=1)
    ask_thread(rig, [asked[0]["question"]], Front("warm-up"), "U0WARMUP", 0.0)


def measure_alone(url: str, assistant: RiskAssistant, rig: SlackRig, asked: list[dict[str, str]]) -> list[Front]:
    """The baseline: each front on its own, one question at a time, ALONE questions each."""
    chat, batch, slack = new_fronts(" alone")
    session = ChatSession(url, asked, chat, random.Random(1))
    for _ in range(ALONE):
        session.ask(*session.next_step(), deadline=0.0)
    session.close()
    for result in assistant.ask_batch(random.Random(2).sample(asked, ALONE), concurrency=1):
        batch.record("batch", time.monotonic(), result.error, took=result.seconds)
    rng = random.Random(3)
    while len(slack.all_seconds) < ALONE and len(slack.errors) < ALONE:
        ask_thread(rig, [rng.choice(asked)["question"], *rng.sample(FOLLOW_UPS, 2)], slack, "U0ALONE", 0.0)
    return [chat, batch, slack]


def new_fronts(suffix: str = "") -> list[Front]:
    """Chat, batch and Slack, empty."""
    return [Front(f"{name}{suffix}") for name in ("chat (UI over HTTP)", "batch (ask_batch)", "slack (bot, fake API)")]


def drive(args: argparse.Namespace, url: str, assistant: RiskAssistant, rig: SlackRig, asked: list[dict[str, str]],
          sample: Callable[[int], None]) -> list[Front]:
    """Every front at once until the deadline: the chat sessions in a process of their own (bench/load_chat.py),
    the batch and the Slack users on threads here; `sample(clients_pid)` is called once all have started.
    The fronts once every worker has finished."""
    _, batch, slack = new_fronts()
    deadline = time.monotonic() + args.duration
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(asked, file)
    clients = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "load_chat.py"), "--url", url, "--questions", file.name,
         "--sessions", str(args.sessions), "--seconds", str(args.duration), "--seed", str(args.seed),
         "--new-session-every", str(args.new_session_every)], stdout=subprocess.PIPE, text=True)
    workers = [threading.Thread(target=run_batches, args=(assistant, asked, batch, args.batch_concurrency,
                                                          deadline))]
    workers += [threading.Thread(target=run_slack_user, args=(rig, asked, slack, args.seed + 100 + n, deadline))
                for n in range(args.slack_users)]
    for worker in workers:
        worker.start()
    sample(clients.pid)
    for worker in workers:
        worker.join()
    out, _ = clients.communicate()
    os.unlink(file.name)
    chat = Front.from_json(out.strip().splitlines()[-1]) if clients.returncode == 0 and out.strip() else \
        Front("chat (UI over HTTP)", errors=[f"the chat clients' process exited with {clients.returncode}"])
    return [chat, batch, slack]


def measure(args: argparse.Namespace, data_dir: Path) -> int:
    """Open this process's assistant, run, and close it (PostgreSQL stopped) whatever happened; the exit status."""
    assistant = open_backend(data_dir, args.pool_size)
    try:
        return serve_and_measure(args, data_dir, assistant)
    finally:
        assistant.close()
        if assistant.db.server is not None:
            assistant.db.server.wait_for_watchdog()  # PostgreSQL stopped before its directory may be removed


def serve_and_measure(args: argparse.Namespace, data_dir: Path, assistant: RiskAssistant) -> int:
    """Start the server and the bot, warm up, measure alone, then drive and sample; stop both, report."""
    asked, port = dev_questions(), free_port()
    server = start_server(data_dir, port, args.pool_size, args.ui_max_sessions)
    rig, stop_slack = start_slack(assistant)
    samples: list[Sample] = []
    notes: dict[str, str] = {}
    stop_sampling = threading.Event()
    samplers: list[threading.Thread] = []
    uri = assistant.db.server.uri() if assistant.db.server else ""

    def sample(clients_pid: int) -> None:
        samplers.append(threading.Thread(target=sample_until, args=(stop_sampling, args.sample_every,
                                                                   (server.pid, clients_pid), uri, samples)))
        samplers[0].start()

    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_up(url, server, data_dir / "serve.log")
        warm_up(url, assistant, rig, asked)
        alone = measure_alone(url, assistant, rig, asked)
        notes["uptime before"] = uptime()
        fronts = drive(args, url, assistant, rig, asked, sample)
        stop_sampling.set()
        for sampler in samplers:
            sampler.join()
        notes["uptime after"] = uptime()
    finally:
        stop_sampling.set()
        stop_slack()
        notes["server stopped by"] = stop_server(server)
    report(args, fronts, alone, samples, notes, data_dir / "serve.log")
    return 1 if any(front.errors for front in fronts + alone) else 0


def uptime() -> str:
    """`uptime`'s line: the machine's load while measuring."""
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def report(args: argparse.Namespace, fronts: list[Front], alone: list[Front], samples: list[Sample],
           notes: dict[str, str], log: Path) -> None:
    """Print the machine, the fronts, the samples and the failures."""
    print(f"\nmachine: {os.cpu_count()} CPU cores; offline mode; {args.duration:.0f} s of load; {args.sessions} chat "
          f"sessions (a new tab every {args.new_session_every} steps, the server keeping {args.ui_max_sessions}), "
          f"{args.slack_users} Slack users, batch concurrency {args.batch_concurrency}; "
          f"RISK_POOL_SIZE {args.pool_size} per process")
    print("\n".join(f"{name}: {value}" for name, value in notes.items()) + "\n")
    print_fronts(fronts, alone)
    print_samples(samples)
    print("\nfailures:" if any(front.errors for front in fronts + alone) else "\nfailures: none")
    print_errors(fronts + alone, log)


def main() -> None:
    """Run in the given data dir, or in a temporary one removed afterwards."""
    args = parse_args()
    if args.data_dir is not None:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        raise SystemExit(measure(args, args.data_dir.resolve()))
    data_dir = Path(tempfile.mkdtemp(prefix="risk-load-"))
    try:
        status = measure(args, data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    raise SystemExit(status)


if __name__ == "__main__":
    main()
