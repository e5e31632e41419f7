"""Answering in Slack: a "working…" message updated in place as the answer streams, ephemeral answers to
/risk, sharing them, and feedback. Bolt-free: app.py hands each call the client and the reply function."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.analysts import front_analyst
from assistant.api import RiskAssistant
from assistant.models import (
    Answer,
    AnswerEvent,
    EvidenceEvent,
    FactsEvent,
    PlanEvent,
    QueryPlan,
    Rating,
    StreamEvent,
    SummaryDelta,
    ThemesEvent,
)
from assistant.slack.blocks import Block, answer_blocks, fallback_text, notice_blocks, progress_blocks
from assistant.slack.failures import failure_text
from assistant.slack.memory import Lru
from assistant.slack.mrkdwn import escape

log = logging.getLogger("assistant.slack")
Respond = Callable[..., Any]  # Bolt's respond(): posts to the interaction's response_url
WORKING = "Working on it…"


@dataclass(frozen=True)
class Thread:
    """Where a conversation lives: a channel and the ts of the thread's first message."""

    channel: str
    ts: str


class SlackBot:
    """A RiskAssistant behind Slack: the last plan per thread (follow-ups refine it), recent answers
    (for "share to channel"), and the deliveries already answered, all bounded."""

    def __init__(self, assistant: RiskAssistant, *, ui_base_url: str | None = None, as_of: dt.date | None = None,
                 update_every_s: float = 1.0, remember: int = 1000, remember_answers: int = 200,
                 secrets: tuple[str, ...] = ()) -> None:
        self.assistant = assistant
        self.ui_base_url = ui_base_url
        self.as_of = as_of
        self.update_every_s = update_every_s
        self.secrets = secrets  # values never to show or log (tokens, the signing secret)
        self.plans: Lru[Thread, QueryPlan] = Lru(remember)
        # Whole answers (tens of kB each, more with many events) for "share to channel", which follows within
        # minutes of the question: fewer of them than of plans, which are small.
        self.answers: Lru[str, Answer] = Lru(remember_answers)
        self.seen: Lru[str, bool] = Lru(remember * 10)

    def first_delivery(self, *keys: str) -> bool:
        """False when any key (an event id, a channel and message ts) was seen before: a retry or a duplicate."""
        fresh = [self.seen.add_new(key, True) for key in keys if key]
        return all(fresh)

    def answer_in_thread(self, client: WebClient, thread: Thread, question: str, user: str) -> None:
        """Post "working…" in the thread, update it as the answer streams, end with the answer or a failure."""
        try:
            posted = client.chat_postMessage(channel=thread.channel, thread_ts=thread.ts, text=WORKING,
                                             blocks=progress_blocks(question, []))
        except SlackApiError as error:  # Slack refuses us even the working message: there is no one to tell
            failure_text(error, self.secrets)
            return
        message = LiveMessage(client, thread.channel, str(posted["ts"]), question, self.update_every_s)
        try:
            answer = self._stream(message, thread, question, user)
        except Exception as error:
            message.finish(*self._failure(error))
            return
        self.answers.put(answer.id, answer)
        if not message.finish(fallback_text(answer), answer_blocks(answer, ui_base_url=self.ui_base_url)):
            message.finish(*self._failure(RuntimeError("Slack refused the answer's message")))

    def answer_privately(self, respond: Respond, question: str, user: str) -> None:
        """Answer /risk with a reply only the asker sees, with a "share to channel" button."""
        try:
            answer = self.assistant.ask(question, as_of=self.as_of, analyst=self._analyst(user))
        except Exception as error:
            text, blocks = self._failure(error)
            respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
            return
        self.answers.put(answer.id, answer)
        respond(text=fallback_text(answer), blocks=answer_blocks(answer, ui_base_url=self.ui_base_url, share=True),
                response_type="ephemeral", replace_original=False)

    def share(self, client: WebClient, respond: Respond, answer_id: str, channel: str, user: str) -> None:
        """Post a remembered answer to the channel; its thread then refines the answer's plan."""
        answer = self.answers.get(answer_id)
        if answer is None:
            self._tell(respond, "That answer is no longer in my memory (it is old, or I restarted): "
                                "ask again with /risk.")
            return
        try:
            posted = client.chat_postMessage(channel=channel, text=fallback_text(answer),
                                             blocks=answer_blocks(answer, ui_base_url=self.ui_base_url, shared_by=user))
        except Exception as error:
            text, blocks = self._failure(error)
            respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
            return
        self.plans.put(Thread(channel, str(posted["ts"])), answer.plan)
        respond(text="Shared to the channel.", replace_original=True)

    def feedback(self, respond: Respond, answer_id: str, rating: Rating, user: str) -> None:
        """Store a thumbs up or down from Slack, as the web UI does, and confirm it to the analyst alone."""
        try:
            self.assistant.record_feedback(answer_id, rating, analyst=self._analyst(user), source="slack")
        except Exception as error:
            text, blocks = self._failure(error)
            respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
            return
        self._tell(respond, f"Thanks: your {'thumbs up' if rating == 'up' else 'thumbs down'} is recorded.")

    def _analyst(self, user: str) -> str:
        """The analyst this Slack user is (see analysts.front_analyst): their scopes bound what they see."""
        return front_analyst(self.assistant.db, "slack", user)

    def _stream(self, message: LiveMessage, thread: Thread, question: str, user: str) -> Answer:
        stream = self.assistant.ask_stream(question, as_of=self.as_of, previous=self.plans.get(thread),
                                           analyst=self._analyst(user))
        stream.on_plan = lambda plan: self.plans.put(thread, plan)
        lines: list[str] = []
        summary = ""
        for event in stream:
            if isinstance(event, AnswerEvent):
                return event.answer
            if isinstance(event, SummaryDelta):
                summary += event.text
            else:
                lines.append(describe_stage(event))
            message.progress([*lines, summary] if summary else lines)
        raise AssertionError("the answer stream ended without an answer")  # the pipeline always ends with one

    def _failure(self, error: BaseException) -> tuple[str, list[Block]]:
        text = failure_text(error, self.secrets)
        return f":warning: {escape(text)}", notice_blocks(f"⚠️ {text}")

    @staticmethod
    def _tell(respond: Respond, text: str) -> None:
        respond(text=escape(text), response_type="ephemeral", replace_original=False)


def describe_stage(event: StreamEvent) -> str:
    """One line of progress for a stage of the answer (plain text)."""
    if isinstance(event, PlanEvent):
        filters = "; ".join(str(f) for f in event.plan.filters) or "no filters"
        return f"Plan: {filters}"
    if isinstance(event, EvidenceEvent):
        return f"{event.matched:,} events match; reading the {event.evidence:,} best-ranked…"
    if isinstance(event, FactsEvent):
        return "Counted every matching event; looking for themes…"
    if isinstance(event, ThemesEvent):
        return f"{len(event.themes.themes)} theme(s) found; writing the summary…"
    return ""


class LiveMessage:
    """A bot message updated in place (chat.update), at most once per `every_s` while in progress."""

    def __init__(self, client: WebClient, channel: str, ts: str, question: str, every_s: float) -> None:
        self.client, self.channel, self.ts, self.question, self.every_s = client, channel, ts, question, every_s
        self._last = float("-inf")

    def progress(self, lines: list[str]) -> None:
        """Show progress unless the last update was too recent; a failed progress update is only logged."""
        now = time.monotonic()
        if now - self._last < self.every_s:
            return
        self._last = now
        try:
            self.client.chat_update(channel=self.channel, ts=self.ts, text=WORKING,
                                    blocks=progress_blocks(self.question, lines))
        except SlackApiError as error:
            log.warning("a progress update failed: %s", error.response.get("error"))

    def finish(self, text: str, blocks: list[Block]) -> bool:
        """Replace the message with its final content; False (logged) when Slack refuses it."""
        try:
            self.client.chat_update(channel=self.channel, ts=self.ts, text=text, blocks=blocks)
        except SlackApiError as error:
            log.warning("the final update failed: %s", error.response.get("error"))
            return False
        return True
