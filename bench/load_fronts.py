"""The fronts a load test (bench/load.py) drives in its own process: batches of questions through the Python API,
and analysts in Slack threads; each records into a Front (the chat sessions are bench/load_chat.py's)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from assistant.api import RiskAssistant
from assistant.slack.app import build_app
from assistant.slack.bot import SlackBot
from assistant.slack.serve import EVENTS_PATH, http_server
from bench.load_chat import FOLLOW_UPS, GRACE_S, Front
from tests.fake_slack import BOT_USER_ID, FakeSlack, event_body, signed_post

SLACK_AS_OF = dt.date(2026, 11, 22)  # the dev set's own as-of date for most of its questions
TOKEN, SIGNING_SECRET = "xoxb-load-" + secrets.token_hex(8), secrets.token_hex(16)


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

    def forget(self, thread_ts: str) -> None:
        """Drop a finished thread's calls from the fake's record, so that a long run's memory is the bot's."""
        working = {c.reply.get("ts") for c in self.fake.calls_to("chat.postMessage")
                   if c.params.get("thread_ts") == thread_ts}
        self.fake.forget(lambda c: c.params.get("thread_ts") == thread_ts or c.params.get("ts") in working)


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
    stop at the deadline or at the first failure (the thread has no answer to follow up). Then forget it."""
    thread: str | None = None
    for nth, text in enumerate(texts):
        if nth and time.monotonic() >= deadline:
            break
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
            break
    if thread is not None:
        rig.forget(thread)
