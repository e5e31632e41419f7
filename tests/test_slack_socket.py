"""The Slack bot in real Socket Mode: Bolt's SocketModeHandler as serve.py builds it, over the demo data, against
a fake Socket Mode server and the fake Web API on loopback: acknowledgements, answers, a redelivery, /risk."""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler

from assistant.api import RiskAssistant
from assistant.slack.app import USAGE, build_app
from assistant.slack.bot import SlackBot
from assistant.slack.serve import socket_handler

from .conftest import AS_OF
from .fake_slack import BOT_USER_ID, TEAM_ID, Call, FakeSlack, message_problem
from .fake_slack_socket import Acknowledgement, FakeSocketMode
from .test_slack import ANALYST, CHANNEL, FIRST, UI, blocks_text, buttons, final_update, section_texts, workings

TOKEN = "xoxb-1-" + secrets.token_hex(12)
APP_TOKEN = "xapp-1-A0RISK001-1-" + secrets.token_hex(16)
SLACK_ACK_S = 3.0  # Slack redelivers an envelope not acknowledged within 3 seconds


@dataclass
class Connected:
    """A bot connected over Socket Mode: the fake Web API, the fake websocket server, the bot, its handler."""

    fake: FakeSlack
    socket: FakeSocketMode
    bot: SlackBot
    handler: SocketModeHandler

    def send(self, kind: str, payload: dict[str, Any], **fields: Any) -> Acknowledgement:
        """Send an envelope; its acknowledgement, which must come within Slack's 3 seconds."""
        ack = self.socket.wait_ack(self.socket.send(kind, payload, **fields), timeout=SLACK_ACK_S)
        assert ack.seconds < SLACK_ACK_S, ack
        return ack

    def mention(self, text: str, ts: str, event_id: str, *, retry: int = 0, reason: str = "") -> Acknowledgement:
        """Mention the bot in the channel, delivered as Slack delivers events over Socket Mode."""
        event = {"type": "app_mention", "user": ANALYST, "text": f"<@{BOT_USER_ID}> {text}", "ts": ts,
                 "channel": CHANNEL, "event_ts": ts}
        return self.send("events_api", event_callback(event, event_id), accepts_response_payload=False,
                         retry_attempt=retry, retry_reason=reason)

    def final_in_thread(self, thread_ts: str) -> Call:
        self.fake.wait_for(lambda f: bool(workings(f, thread_ts)))
        working = workings(self.fake, thread_ts)[0]
        self.fake.wait_for(lambda f: final_update(f, working.reply["ts"]) is not None)
        found = final_update(self.fake, working.reply["ts"])
        assert found is not None
        return found


def event_callback(event: dict[str, Any], event_id: str) -> dict[str, Any]:
    """The payload of an events_api envelope: the same JSON as an HTTP event callback."""
    return {"token": "legacy-verification-token", "team_id": TEAM_ID, "api_app_id": "A0RISK001", "event": event,
            "type": "event_callback", "event_id": event_id, "event_time": 1763800000,
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
            "is_ext_shared_channel": False, "event_context": f"4-{event_id}"}


def command(text: str, response_url: str) -> dict[str, Any]:
    """The payload of a slash_commands envelope: the command's fields as JSON, not form-encoded."""
    return {"token": "legacy-verification-token", "team_id": TEAM_ID, "team_domain": "risk-team",
            "channel_id": CHANNEL, "channel_name": "risk", "user_id": ANALYST, "user_name": "analyst",
            "command": "/risk", "text": text, "api_app_id": "A0RISK001", "is_enterprise_install": "false",
            "response_url": response_url, "trigger_id": "1.2.3"}


@contextmanager
def connected_bot(assistant: RiskAssistant) -> Iterator[Connected]:
    socket = FakeSocketMode()
    fake = FakeSlack(TOKEN, app_token=APP_TOKEN, socket_url=socket.url)
    bot = SlackBot(assistant, ui_base_url=UI, as_of=AS_OF, update_every_s=0.0, secrets=(TOKEN, APP_TOKEN))
    handler = socket_handler(build_app(bot, token=TOKEN, api_url=fake.api_url), APP_TOKEN)
    try:
        # What serve_socket's start() does before it parks the thread: open the connection.
        connecting = threading.Thread(target=handler.connect, daemon=True)
        connecting.start()
        connecting.join(timeout=15)
        assert not connecting.is_alive(), "connecting to the fake Socket Mode server hung"
        socket.wait_connected(timeout=10)
        yield Connected(fake, socket, bot, handler)
    finally:
        handler.close()
        socket.close()
        fake.close()


@pytest.fixture
def connected(demo_assistant: RiskAssistant) -> Iterator[Connected]:
    with connected_bot(demo_assistant) as running:
        yield running


def test_the_bot_connects_with_the_app_token_and_closes_cleanly(connected: Connected) -> None:
    opened = connected.fake.calls_to("apps.connections.open")
    assert [c.authorization for c in opened] == [f"Bearer {APP_TOKEN}"] and opened[0].reply["ok"]
    assert [c.method for c in connected.fake.calls] == ["auth.test", "apps.connections.open"]
    assert connected.handler.client.is_connected()
    time.sleep(1.0)  # the client pings at once; a healthy connection is not dropped or replaced
    assert connected.socket.connections == 1 and connected.handler.client.is_connected()

    connected.handler.close()
    connected.socket.wait_disconnected(timeout=5)
    client = connected.handler.client
    assert not client.is_connected() and not client.current_session_runner.is_alive()
    assert not client.current_app_monitor.is_alive() and not client.message_processor.is_alive()
    time.sleep(0.5)
    assert connected.socket.connections == 1 and len(connected.fake.calls_to("apps.connections.open")) == 1


def test_a_mention_is_acknowledged_then_answered_in_its_thread_and_a_redelivery_once(
        connected: Connected, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="assistant.slack")
    ts, event_id = "1763700000.000001", "EvSocket001"
    first = connected.mention(FIRST, ts, event_id)
    assert first.payload is None  # an event's ack is the envelope id alone
    connected.fake.wait_for(lambda f: bool(workings(f, ts)))
    # Slack redelivers an envelope it thinks was lost: a new envelope, the same event, retry_attempt set.
    again = connected.mention(FIRST, ts, event_id, retry=1, reason="timeout")
    assert again.envelope_id != first.envelope_id and again.payload is None

    final = connected.final_in_thread(ts)
    working = workings(connected.fake, ts)[0]
    assert working.params["channel"] == CHANNEL and "Working on it" in working.params["text"]
    updates = [c for c in connected.fake.calls_to("chat.update") if c.params["ts"] == working.reply["ts"]]
    assert len(updates) >= 3 and updates[-1] is final  # progress stage by stage, then the answer in place
    assert any("events match" in blocks_text(c) for c in updates[:-1])
    text = "\n".join(section_texts(final))
    assert "*Cited events*" in text and "card_not_present" in text
    assert set(buttons(final)) == {"feedback_up", "feedback_down"}
    assert connected.bot.answers.get(buttons(final)["feedback_up"]) is not None
    assert all(c.reply["ok"] for c in connected.fake.calls)

    time.sleep(1.0)
    assert len(workings(connected.fake, ts)) == 1 and len(connected.fake.calls_to("chat.postMessage")) == 1
    # retry_attempt reached the app as Bolt's X-Slack-Retry-Num, as in HTTP mode.
    assert f"ignored a repeated delivery (retry 1) of event {event_id}" in caplog.text
    assert [m["envelope_id"] for m in connected.socket.received] == [first.envelope_id, again.envelope_id]
    assert TOKEN not in caplog.text and APP_TOKEN not in caplog.text


def test_risk_is_acknowledged_privately_then_answered_through_the_response_url(connected: Connected) -> None:
    ack = connected.send("slash_commands", command("chargebacks in 2025", connected.fake.response_url("command")),
                         accepts_response_payload=True)
    # A command's ack carries the immediate reply, shown only to the analyst.
    assert ack.payload is not None and ack.payload["response_type"] == "ephemeral"
    assert ack.payload["text"].startswith("Working on it")
    connected.fake.wait_for(lambda f: bool(f.calls_to("respond/command")))
    private = connected.fake.calls_to("respond/command")
    assert len(private) == 1
    reply = private[0].params
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert "chargeback" in blocks_text(private[0]) and "share_answer" in buttons(private[0])
    assert message_problem({**reply, "channel": CHANNEL}) is None
    assert connected.bot.answers.get(buttons(private[0])["share_answer"]) is not None

    usage = connected.send("slash_commands", command("  ", connected.fake.response_url("empty")),
                           accepts_response_payload=True)
    assert usage.payload == {"text": USAGE, "response_type": "ephemeral"}
    time.sleep(0.5)
    assert not connected.fake.calls_to("respond/empty") and not connected.fake.calls_to("chat.postMessage")
    assert json.dumps(connected.socket.received).count('"envelope_id"') == 2  # one ack per envelope
