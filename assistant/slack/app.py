"""The Bolt app: mentions, direct messages, /risk, the share and feedback buttons, wired to a SlackBot.

Every listener acknowledges at once and does its work in a lazy listener (Bolt runs it in a thread), so
Slack gets its answer within 3 seconds however long the question takes.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from assistant.slack.blocks import FEEDBACK_DOWN, FEEDBACK_UP, SHARE
from assistant.slack.bot import Respond, SlackBot, Thread
from assistant.slack.failures import log
from assistant.slack.mrkdwn import question_from

SLACK_API_URL = "https://slack.com/api/"
USAGE = "Ask me about risk events, e.g. `/risk Q4 2025 card-not-present fraud patterns`."


def make_client(token: str, api_url: str = SLACK_API_URL) -> WebClient:
    """A WebClient that waits out rate limits (Retry-After) and retries dropped connections."""
    return WebClient(token=token, base_url=api_url,
                     retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2),
                                     RateLimitErrorRetryHandler(max_retry_count=3)])


def build_app(bot: SlackBot, *, token: str, signing_secret: str = "", api_url: str = SLACK_API_URL) -> App:
    """The Bolt app (it calls auth.test once, to learn its own user id). HTTP mode verifies every request
    against the signing secret; Socket Mode needs none."""
    app = App(client=make_client(token, api_url), signing_secret=signing_secret, name="risk-assistant",
              logger=log.getChild("bolt"))
    _listen_to_messages(app, bot)
    _listen_to_commands(app, bot)
    _listen_to_buttons(app, bot)
    return app


def _listen_to_messages(app: App, bot: SlackBot) -> None:
    def answer_mention(event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient,
                       request: BoltRequest) -> None:
        _answer(bot, client, event, body, context, retry_number(request))

    def answer_direct_message(event: dict[str, Any], body: dict[str, Any], context: BoltContext,
                              client: WebClient, request: BoltRequest) -> None:
        # Only what a person writes in a DM: no edits, joins or bot messages (subtypes), no channel messages.
        if event.get("channel_type") == "im" and not event.get("subtype") and not event.get("bot_id"):
            _answer(bot, client, event, body, context, retry_number(request))

    app.event("app_mention")(ack=_ack, lazy=[answer_mention])
    app.event("message")(ack=_ack, lazy=[answer_direct_message])


def _answer(bot: SlackBot, client: WebClient, event: dict[str, Any], body: dict[str, Any],
            context: BoltContext, retry: int) -> None:
    channel, ts = str(event.get("channel", "")), str(event.get("ts", ""))
    # A retried delivery (X-Slack-Retry-Num) carries the same event id; a DM that also mentions the bot
    # comes as two events for one message: either way, one answer.
    if not bot.first_delivery(str(body.get("event_id", "")), f"{channel}:{ts}"):
        log.info("ignored a repeated delivery (retry %d) of event %s", retry, body.get("event_id"))
        return
    thread = Thread(channel, str(event.get("thread_ts") or ts))
    question = question_from(str(event.get("text", "")), context.bot_user_id)
    if not question:
        client.chat_postMessage(channel=channel, thread_ts=thread.ts, text=USAGE)
        return
    bot.answer_in_thread(client, thread, question, str(event.get("user", "unknown")))


def _listen_to_commands(app: App, bot: SlackBot) -> None:
    def acknowledge_command(ack: Ack, command: dict[str, Any]) -> None:
        if command.get("text", "").strip():
            ack(text="Working on it… (only you can see this answer until you share it)", response_type="ephemeral")
        else:
            ack(text=USAGE, response_type="ephemeral")

    def answer_command(command: dict[str, Any], respond: Respond) -> None:
        question = question_from(str(command.get("text", "")))
        if question:
            bot.answer_privately(respond, question, str(command.get("user_id", "unknown")))

    app.command("/risk")(ack=acknowledge_command, lazy=[answer_command])


def _listen_to_buttons(app: App, bot: SlackBot) -> None:
    def share_answer(body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
        bot.share(client, respond, str(action.get("value", "")), str(channel), _user(body))

    def record_feedback(body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        up = action.get("action_id") == FEEDBACK_UP
        bot.feedback(respond, str(action.get("value", "")), "up" if up else "down", _user(body))

    app.action(SHARE)(ack=_ack, lazy=[share_answer])
    app.action(re.compile(f"^({FEEDBACK_UP}|{FEEDBACK_DOWN})$"))(ack=_ack, lazy=[record_feedback])


def _ack(ack: Ack) -> None:
    ack()


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id", "unknown"))


def retry_number(request: BoltRequest) -> int:
    """The delivery's X-Slack-Retry-Num (0 for the first delivery)."""
    values = request.headers.get("x-slack-retry-num") or ["0"]
    return int(values[0]) if values[0].isdigit() else 0
