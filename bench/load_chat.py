"""Chat sessions over the UI's HTTP API, for the load test (bench/load.py), and the Front each front records into.

Run by bench/load.py as a process of its own (`python bench/load_chat.py ...`), so that the Gradio clients'
memory is not counted as the bot's and the batch's: it drives `--sessions` sessions until `--seconds` have
passed, each one a new browser tab (a new session hash) every `--new-session-every` steps, then prints what it
measured as one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from gradio_client import Client  # type: ignore[import-untyped]

FOLLOW_UPS = ("only high severity", "and in 2025?", "what about Q3?", "only open cases", "exclude low severity")
MOVED_DATES = (("2025-01-01", "2025-12-31"), ("2026-01-01", "2026-06-30"), ("2025-07-01", "2026-03-31"))
GRACE_S = 180.0  # after the deadline, how long a question in flight may still take before it counts as failed
CHAT, CHIPS, PLAN_JSON = 0, 4, 15  # positions of the chat, the chips and the plan's JSON among /ask's outputs


@dataclass
class Front:
    """What one front (chat, batch, slack) measured: each question's seconds by kind, and the failures."""

    name: str
    seconds: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    span: list[float] = field(default_factory=list)  # monotonic start and end of every question
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

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

    def to_json(self) -> str:
        """What it measured, as JSON (CLOCK_MONOTONIC is the machine's: spans compare across processes)."""
        with self.lock:
            return json.dumps({"name": self.name, "seconds": self.seconds, "errors": self.errors, "span": self.span})

    @classmethod
    def from_json(cls, text: str) -> Front:
        """A Front measured in another process."""
        return cls(**json.loads(text))


class ChatSession:
    """One browser tab's worth of conversation, over Gradio's queue API with its own session hash."""

    def __init__(self, url: str, asked: list[dict[str, str]], front: Front, rng: random.Random) -> None:
        self.client = Client(url, download_files=False, verbose=False, analytics_enabled=False, max_workers=2)
        self.asked, self.front, self.rng = asked, front, rng
        self.chips: list[str] = []
        self.plan_json = ""
        self.client.predict(api_name="/load")  # what a browser does first: the header, examples, editable fields

    def run(self, deadline: float, steps: int | None = None) -> None:
        """Ask until the deadline (or `steps` steps): first questions, follow-ups and plan edits, one at a time."""
        done = 0
        while time.monotonic() < deadline and (steps is None or done < steps):
            self.ask(*self.next_step(), deadline=deadline)
            done += 1

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


def run_chat(url: str, asked: list[dict[str, str]], front: Front, seed: int, deadline: float,
             new_session_every: int | None = None) -> None:
    """One analyst from connection to deadline, in a new tab every `new_session_every` steps (None: one tab
    throughout); a tab that cannot even connect is an error, and ends this analyst's run."""
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            session = ChatSession(url, asked, front, rng)
        except Exception as exc:
            front.record("connect", started, f"{type(exc).__name__}: {exc}")
            return
        try:
            session.run(deadline, new_session_every)
        finally:
            session.close()


def main() -> None:
    """Drive the sessions for the given seconds; print the Front as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--questions", required=True, help="a JSON list of {question, as_of}")
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--new-session-every", type=int, default=None)
    parser.add_argument("--name", default="chat (UI over HTTP)")
    args = parser.parse_args()
    with open(args.questions, encoding="utf-8") as file:
        asked = json.load(file)
    front = Front(args.name)
    deadline = time.monotonic() + args.seconds
    workers = [threading.Thread(target=run_chat, args=(args.url, asked, front, args.seed + n, deadline,
                                                        args.new_session_every))
               for n in range(args.sessions)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    sys.stdout.write(front.to_json() + "\n")


if __name__ == "__main__":
    main()
