"""The three fronts a load test drives (bench/load.py): chat sessions over the UI's HTTP API, batches of
questions through the Python API, and analysts in Slack threads; each records into a Front."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gradio_client import Client  # type: ignore[import-untyped]

from assistant.api import RiskAssistant
from assistant.slack.app import build_app
from assistant.slack.bot import SlackBot
from assistant.slack.serve import EVENTS_PATH, http_server
from tests.fake_slack import BOT_USER_ID, FakeSlack, event_body, signed_post

SLACK_AS_OF = dt.date(2026, 11, 22)  # the dev set's own as-of date for most of its questions
FOLLOW_UPS = ("only high severity", "and in 2025?", "what about Q3?", "only open cases", "exclude low severity")
MOVED_DATES = (("2025-01-01", "2025-12-31"), ("2026-01-01", "2026-06-30"), ("2025-07-01", "2026-03-31"))
GRACE_S = 180.0  # after the deadline, how long a question in flight may still take before it counts as failed
CHAT, CHIPS, PLAN_JSON = 0, 4, 15  # positions of the chat, the chips and the plan's JSON among /ask's outputs
TOKEN, SIGNING_SECRET = "xoxb-load-" + secrets.token_hex(8), secrets.token_hex(16)


@dataclass
class Front:
    """What one front (chat, batch, slack) measured: each question's seconds by kind, and the failures."""

    name: str
    seconds: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    span: list[float] = field(default_factory=list)  # monotonic start and end of every question
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, started: float, error: str | None = None, took: float | None = None) -> None:
        """One question answered (or failed) that started at `started`; `took` when measured elsewhere."""
        ended = time.monotonic()
        with self.lock:
            self.seconds.setdefault(kind, []).append(ended - started if took is None else took)
            self.span += [started, ended]
            if error:
                self.errors.append(f"{kind}: {error}")

    @property
    def all_seconds(self) -> list[float]:
        """Every question's seconds, all kinds together."""
        return [s for kind in self.seconds.values() for s in kind]


# --- chat sessions over the UI's HTTP API ----------------------------------------------------------------------


class ChatSession:
    """One browser tab's worth of conversation, over Gradio's queue API with its own session hash."""

    def __init__(self, url: str, asked: list[dict[str, str]], front: Front, rng: random.Random) -> None:
        self.client = Client(url, download_files=False, verbose=False, analytics_enabled=False, max_workers=2)
        self.asked, self.front, self.rng = asked, front, rng
        self.chips: list[str] = []
        self.plan_json = ""
        self.client.predict(api_name="/load")  # what a browser does first: the header, examples, editable fields

    def run(self, deadline: float) -> None:
        """Ask until the deadline: first questions, follow-ups and plan edits, one at a time."""
        while time.monotonic() < deadline:
            self.ask(*self.next_step(), deadline=deadline)

    def next_step(self) -> tuple[str, str, tuple[Any, ...]]:
        """The next thing the analyst does: a first question until there is a plan, then a mix."""
        draw = self.rng.random()
        if not self.plan_json or draw < 0.25:
            case = self.rng.choice(self.asked)
            return "first", "/ask", (case["question"], case["as_of"])
        if draw < 0.6:
            return "follow-up", "/ask", (self.rng.choice(FOLLOW_UPS), "2026-11-22")
        if draw < 0.75 and self.chips:
            kept = [c for c in self.chips if c != self.rng.choice(self.chips)]
            return "remove chip", "/remove_chip", (kept,)
        if draw < 0.88:
            return "edit dates", "/apply_dates", self.rng.choice(MOVED_DATES)
        plan = json.loads(self.plan_json)
        plan["k"] = self.rng.choice((10, 30))
        return "edit plan json", "/run_json", (json.dumps(plan),)

    def ask(self, kind: str, endpoint: str, args: tuple[Any, ...], deadline: float) -> None:
        """Submit one event, wait for the stream's end, record its seconds and any failure shown."""
        started = time.monotonic()
        try:
            job = self.client.submit(*args, api_name=endpoint)
            final = job.result(timeout=max(1.0, deadline - started) + GRACE_S)
            self.remember(job.outputs())
            error = failure_shown(final[CHAT])
        except Exception as exc:  # a refused request, a broken stream, a timeout: each is a finding
            error = f"{type(exc).__name__}: {exc}"
        self.front.record(kind, started, error)

    def remember(self, outputs: list[Any]) -> None:
        """Keep the last chips and plan JSON the page was sent: what the analyst edits next."""
        for output in outputs:
            chips = output[CHIPS]
            if isinstance(chips, dict) and "value" in chips:
                self.chips = list(chips["value"] or [])
            if isinstance(output[PLAN_JSON], str) and output[PLAN_JSON].startswith("{"):
                self.plan_json = output[PLAN_JSON]

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()


def failure_shown(chat: Any) -> str | None:
    """The chat's last message when it is an error the UI shows in place of an answer."""
    text = json.dumps(chat[-1] if chat else "", ensure_ascii=False)
    return text[:300] if "Could not answer" in text or "Something went wrong" in text else None


def run_chat(url: str, asked: list[dict[str, str]], front: Front, seed: int, deadline: float) -> None:
    """One chat session from connection to deadline; a session that cannot even connect is an error."""
    started = time.monotonic()
    try:
        session = ChatSession(url, asked, front, random.Random(seed))
    except Exception as exc:
        front.record("connect", started, f"{type(exc).__name__}: {exc}")
        return
    try:
        session.run(deadline)
    finally:
        session.close()


# --- the batch and the Slack bot, in this process --------------------------------------------------------------


def run_batches(assistant: RiskAssistant, asked: list[dict[str, str]], front: Front, concurrency: int,
                deadline: float) -> None:
    """Batches of the dev set's questions, in a shuffled order, one after the other until the deadline."""
    rng = random.Random(7)
    while time.monotonic() < deadline:
        chunk = rng.sample(asked, 4 * concurrency)
        started = time.monotonic()
        for result in assistant.ask_batch(chunk, concurrency=concurrency):
            front.record("batch", started, result.error, took=result.seconds)


@dataclass
class SlackRig:
    """The bot served over HTTP on loopback, talking to a fake Slack."""

    fake: FakeSlack
    url: str
    counter: Callable[[], int]

    def mention(self, text: str, user: str, thread_ts: str | None) -> str:
        """Deliver an app_mention as Slack does; the message's ts (SystemError when refused)."""
        n = self.counter()
        ts = f"1763700000.{n:06d}"
        event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}", "ts": ts,
                 "channel": "C0LOAD001", "event_ts": ts, **({"thread_ts": thread_ts} if thread_ts else {})}
        status, body, _ = signed_post(self.url, event_body(event, f"Ev{n:08d}"), SIGNING_SECRET)
        if status != 200:
            raise SystemError(f"delivery refused: HTTP {status} {body[:200]}")
        return ts

    def final_text(self, thread_ts: str, nth: int, timeout_s: float) -> str:
        """The text of the nth answer in a thread once the bot has finished it (TimeoutError if never)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            working = [c for c in self.fake.calls_to("chat.postMessage")
                       if c.params.get("thread_ts") == thread_ts and c.reply.get("ok")]
            if len(working) > nth:
                ts = working[nth].reply["ts"]
                done = [json.dumps(c.params.get("blocks") or [], ensure_ascii=False)
                        for c in self.fake.calls_to("chat.update") if c.params.get("ts") == ts]
                done = [text for text in done if "working…" not in text]
                if done:
                    return done[-1]
            time.sleep(0.1)
        raise TimeoutError(f"no answer in thread {thread_ts} within {timeout_s:.0f} s")


def start_slack(assistant: RiskAssistant) -> tuple[SlackRig, Callable[[], None]]:
    """The bot over `assistant`, on a free port, against a fresh fake Slack; the rig and how to stop both."""
    fake = FakeSlack(TOKEN)
    bot = SlackBot(assistant, as_of=SLACK_AS_OF, secrets=(TOKEN, SIGNING_SECRET))
    server = http_server(build_app(bot, token=TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.api_url),
                         "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    numbers, lock = itertools.count(1), threading.Lock()

    def counter() -> int:
        with lock:
            return next(numbers)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        fake.close()

    return SlackRig(fake, f"http://{host!s}:{port}{EVENTS_PATH}", counter), stop


def run_slack_user(rig: SlackRig, asked: list[dict[str, str]], front: Front, seed: int, deadline: float) -> None:
    """One analyst in Slack: a question in a new thread, then two follow-ups in it, until the deadline."""
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        ask_thread(rig, [rng.choice(asked)["question"], *rng.sample(FOLLOW_UPS, 2)], front, f"U0LOAD{seed:03d}",
                   deadline)


def ask_thread(rig: SlackRig, texts: list[str], front: Front, user: str, deadline: float) -> None:
    """Mention the bot with the first text, then reply in its thread with the others, each once answered;
    stop at the deadline or at the first failure (the thread has no answer to follow up)."""
    thread: str | None = None
    for nth, text in enumerate(texts):
        if nth and time.monotonic() >= deadline:
            return
        started = time.monotonic()
        try:
            ts = rig.mention(text, user, thread)
            thread = thread or ts
            final = rig.final_text(thread, nth, max(1.0, deadline - started) + GRACE_S)
            error = final[:300] if ":warning:" in final else None
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        front.record("follow-up" if nth else "first", started, error)
        if error:
            return
