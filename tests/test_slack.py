"""The Slack bot, over the real demo data and a real Bolt HTTP server, against a fake Slack Web API on loopback:
threads, streaming updates, retries, follow-ups, /risk and sharing, feedback, failures, limits, escaping, secrets."""

from __future__ import annotations

import json
import logging
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from langchain_core.messages import AIMessage
from slack_sdk.models.blocks import Block as SdkBlock
from typer.testing import CliRunner

from assistant.api import RiskAssistant
from assistant.cli import app as cli
from assistant.db import Database
from assistant.errors import ConfigError
from assistant.models import EventHit, Pattern
from assistant.slack.app import build_app
from assistant.slack.blocks import BLOCKS_MAX, SECTION_MAX, answer_blocks, fallback_text
from assistant.slack.bot import SlackBot, Thread
from assistant.slack.mrkdwn import cut, escape, question_from, split
from assistant.slack.serve import EVENTS_PATH, SlackTokens, http_server, run_bot

from .conftest import AS_OF
from .fake_slack import BOT_USER_ID, Call, FakeSlack, action_body, event_body, form, message_problem, signed_post
from .fakes import TextChat

TOKEN = "xoxb-1-" + secrets.token_hex(12)
SIGNING_SECRET = secrets.token_hex(16)
UI = "https://risk.example.com"
CHANNEL, ANALYST = "C0RISK001", "U0ANALYST"
FIRST = "Q4 2025 card-not-present fraud patterns"
HOSTILE = "<!channel> <@U0BOSS> <http://evil.example/steal|click here> & more"


@dataclass
class Running:
    """A bot served over HTTP on loopback, talking to a fake Slack."""

    fake: FakeSlack
    bot: SlackBot
    url: str
    counter: Iterator[int]

    def post(self, body: str, *, content_type: str = "application/json", **headers: str) -> tuple[int, str, float]:
        return signed_post(self.url, body, SIGNING_SECRET, content_type=content_type, headers=headers)

    def mention(self, text: str, *, thread_ts: str | None = None, event_id: str | None = None,
                **headers: str) -> tuple[str, str]:
        """Mention the bot in the channel; the message's ts and the event id."""
        n = next(self.counter)
        ts, event_id = f"1763700000.{n:06d}", event_id or f"Ev{n:08d}"
        event = {"type": "app_mention", "user": ANALYST, "text": f"<@{BOT_USER_ID}> {text}", "ts": ts,
                 "channel": CHANNEL, "event_ts": ts, **({"thread_ts": thread_ts} if thread_ts else {})}
        status, _, seconds = self.post(event_body(event, event_id), **headers)
        assert status == 200 and seconds < 3.0, (status, seconds)
        return ts, event_id

    def final_in_thread(self, thread_ts: str, nth: int = 0) -> Call:
        """Wait for the nth working message in a thread to get its final update; that update."""
        self.fake.wait_for(lambda f: len(workings(f, thread_ts)) > nth)
        working = workings(self.fake, thread_ts)[nth]
        self.fake.wait_for(lambda f: final_update(f, working.reply["ts"]) is not None)
        found = final_update(self.fake, working.reply["ts"])
        assert found is not None
        return found


@contextmanager
def running_bot(assistant: RiskAssistant, **options: Any) -> Iterator[Running]:
    fake = FakeSlack(TOKEN)
    bot = SlackBot(assistant, ui_base_url=UI, as_of=AS_OF, update_every_s=0.0, secrets=(TOKEN, SIGNING_SECRET),
                   **options)
    app = build_app(bot, token=TOKEN, signing_secret=SIGNING_SECRET, api_url=fake.api_url)
    server = http_server(app, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    try:
        yield Running(fake, bot, f"http://{host!s}:{port}{EVENTS_PATH}", iter(range(1, 10**6)))
    finally:
        server.shutdown()
        server.server_close()
        fake.close()


@pytest.fixture
def slack(demo_assistant: RiskAssistant) -> Iterator[Running]:
    with running_bot(demo_assistant) as running:
        yield running


def workings(fake: FakeSlack, thread_ts: str) -> list[Call]:
    return [c for c in fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == thread_ts and c.reply["ok"]]


def final_update(fake: FakeSlack, ts: str) -> Call | None:
    done = [c for c in fake.calls_to("chat.update") if c.params["ts"] == ts and "working…" not in blocks_text(c)]
    return done[-1] if done else None


def blocks_text(call: Call) -> str:
    return json.dumps(call.params.get("blocks") or [], ensure_ascii=False)


def buttons(call: Call) -> dict[str, str]:
    found = [e for b in call.params.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]
    return {e["action_id"]: e["value"] for e in found}


def section_texts(call: Call) -> list[str]:
    return [b["text"]["text"] for b in call.params["blocks"] if b["type"] == "section"]


def test_a_mention_is_acknowledged_at_once_then_answered_in_its_thread(slack: Running,
                                                                        demo_assistant: RiskAssistant) -> None:
    ts, _ = slack.mention(FIRST)
    final = slack.final_in_thread(ts)
    working = workings(slack.fake, ts)[0]
    assert working.params["channel"] == CHANNEL and "Working on it" in working.params["text"]
    updates = [c for c in slack.fake.calls_to("chat.update") if c.params["ts"] == working.reply["ts"]]
    assert len(updates) >= 3 and updates[-1] is final  # progress stage by stage, then the answer in place
    assert any("events match" in blocks_text(c) for c in updates[:-1])
    text = "\n".join(section_texts(final))
    assert "*Cited events*" in text and "card_not_present" in text
    assert re.search(r"<https://risk\.example\.com/\?event=\d+\|#\d+>", text)  # ids link to the UI's detail view
    answer_id = buttons(final)["feedback_up"]
    assert set(buttons(final)) == {"feedback_up", "feedback_down"}
    assert demo_assistant.db.execute("SELECT analyst, question FROM answers WHERE id = %s", (answer_id,)) == [
        (ANALYST, FIRST)]
    assert all(c.reply["ok"] for c in slack.fake.calls)  # Slack accepted every call: blocks within limits


def test_a_retried_delivery_is_answered_once(slack: Running) -> None:
    ts, event_id = slack.mention(FIRST)
    # Slack retries when it thinks the first delivery failed: same event id, X-Slack-Retry-Num set.
    slack.mention(FIRST, event_id=event_id, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    slack.final_in_thread(ts)
    n = next(slack.counter)
    event = {"type": "app_mention", "user": ANALYST, "text": f"<@{BOT_USER_ID}> {FIRST}", "ts": ts, "channel": CHANNEL}
    assert slack.post(event_body(event, f"Ev{n:08d}"), **{"X-Slack-Retry-Num": "2"})[0] == 200
    time.sleep(1.0)
    assert len(workings(slack.fake, ts)) == 1


def test_a_follow_up_in_the_thread_narrows_the_previous_plan(slack: Running) -> None:
    ts, _ = slack.mention(FIRST)
    slack.final_in_thread(ts)
    slack.mention("only high severity", thread_ts=ts)
    follow = slack.final_in_thread(ts, nth=1)
    filters = next(t for t in section_texts(follow) if t.startswith("*Filters:*"))
    for expected in ("subcategory eq card_not_present", "severity eq high", "occurred_at gte 2025-10-01"):
        assert expected in filters
    plan = slack.bot.plans.get(Thread(CHANNEL, ts))
    assert plan is not None and {(f.field, str(f.value)) for f in plan.filters} >= {("severity", "high")}
    # Another thread starts fresh: no severity filter carried over.
    other, _ = slack.mention("only high severity chargebacks in 2025")
    fresh = slack.final_in_thread(other)
    assert "subcategory eq card_not_present" not in next(t for t in section_texts(fresh) if t.startswith("*Filters:*"))


def test_a_direct_message_is_answered_in_its_thread_and_other_messages_are_ignored(slack: Running) -> None:
    def message(ts: str, n: int, **fields: str) -> None:
        event = {"type": "message", "channel": "D0DIRECT1", "channel_type": "im", "user": ANALYST, "ts": ts,
                 "text": "chargebacks in 2025", **fields}
        assert slack.post(event_body(event, f"EvDM{n:06d}"))[0] == 200

    message("1763700001.000001", 1)
    message("1763700001.000002", 2, user=BOT_USER_ID, bot_id="BBOT00001")  # the bot's own message
    message("1763700001.000003", 3, subtype="message_changed")
    message("1763700001.000004", 4, channel_type="channel")  # not a DM
    final = slack.final_in_thread("1763700001.000001")
    assert final.params["channel"] == "D0DIRECT1" and "chargeback" in blocks_text(final)
    time.sleep(0.5)
    assert {c.params.get("thread_ts") for c in slack.fake.calls_to("chat.postMessage")} == {"1763700001.000001"}


def test_risk_replies_privately_and_share_posts_the_answer_to_the_channel(slack: Running) -> None:
    status, body, seconds = slack.post(form({
        "token": "legacy", "team_id": "T0RISK001", "channel_id": CHANNEL, "user_id": ANALYST, "command": "/risk",
        "text": "chargebacks in 2025", "response_url": slack.fake.response_url("command"), "trigger_id": "1.2.3"}),
        content_type="application/x-www-form-urlencoded")
    assert status == 200 and seconds < 3.0 and json.loads(body)["response_type"] == "ephemeral"
    slack.fake.wait_for(lambda f: bool(f.calls_to("respond/command")))
    private = slack.fake.calls_to("respond/command")[0]
    assert private.params["response_type"] == "ephemeral" and "chargeback" in blocks_text(private)
    assert message_problem({**private.params, "channel": CHANNEL}) is None
    answer_id = buttons(private)["share_answer"]
    assert not slack.fake.calls_to("chat.postMessage")  # nothing public until shared

    click = action_body("share_answer", answer_id, user=ANALYST, channel=CHANNEL, ephemeral=True,
                        response_url=slack.fake.response_url("share"))
    assert slack.post(click, content_type="application/x-www-form-urlencoded")[0] == 200
    slack.fake.wait_for(lambda f: bool(f.calls_to("chat.postMessage")) and bool(f.calls_to("respond/share")))
    shared = slack.fake.calls_to("chat.postMessage")[0]
    assert shared.params["channel"] == CHANNEL and "thread_ts" not in shared.params
    assert f"<@{ANALYST}> shared" in blocks_text(shared) and "share_answer" not in buttons(shared)
    assert buttons(shared)["feedback_up"] == answer_id
    assert slack.fake.calls_to("respond/share")[0].params["replace_original"] is True
    # The shared message's thread continues the answer's conversation.
    assert slack.bot.plans.get(Thread(CHANNEL, shared.reply["ts"])) is not None


def test_feedback_clicks_are_stored_like_the_ui_s(slack: Running, demo_assistant: RiskAssistant) -> None:
    answer = demo_assistant.ask("chargebacks in 2025", as_of=AS_OF)
    for n, (action, user) in enumerate([("feedback_up", "U0FIRST01"), ("feedback_down", "U0SECOND1")]):
        click = action_body(action, answer.id, user=user, channel=CHANNEL,
                            response_url=slack.fake.response_url(f"f{n}"))
        assert slack.post(click, content_type="application/x-www-form-urlencoded")[0] == 200
    slack.fake.wait_for(lambda f: bool(f.calls_to("respond/f0")) and bool(f.calls_to("respond/f1")))
    rows = demo_assistant.db.execute(
        "SELECT analyst, rating, source FROM feedback WHERE answer_id = %s ORDER BY analyst", (answer.id,))
    # Each click is handled on its own lazy-listener thread: the two may land in either order.
    assert rows == [("U0FIRST01", "up", "slack"), ("U0SECOND1", "down", "slack")]
    assert "recorded" in slack.fake.calls_to("respond/f0")[0].params["text"]

    unknown = action_body("feedback_up", "00000000-0000-4000-8000-000000000000", user=ANALYST, channel=CHANNEL,
                          response_url=slack.fake.response_url("unknown"))
    assert slack.post(unknown, content_type="application/x-www-form-urlencoded")[0] == 200
    slack.fake.wait_for(lambda f: bool(f.calls_to("respond/unknown")))
    reply = slack.fake.calls_to("respond/unknown")[0].params
    assert reply["response_type"] == "ephemeral" and "no recorded answer has id" in reply["text"]


def test_a_core_error_is_a_readable_reply_in_the_thread(demo_assistant: RiskAssistant, tmp_path: Path) -> None:
    settings = demo_assistant.settings.model_copy(update={"pool_size": 1, "pool_timeout_s": 0.3})
    db = Database.open(settings)
    try:
        busy = RiskAssistant(settings, db, demo_assistant.embedder)
        with running_bot(busy) as slack, db.connection():  # the only connection is taken: the pool times out
            ts, _ = slack.mention(FIRST)
            final = slack.final_in_thread(ts)
    finally:
        db.close()
    assert final.params["text"].startswith(":warning:")
    assert "no database connection came free" in section_texts(final)[0]


def test_an_unexpected_error_is_a_readable_reply_logged_without_secrets(
        demo_assistant: RiskAssistant, caplog: pytest.LogCaptureFixture) -> None:
    db = Database.open(demo_assistant.settings)
    closed = RiskAssistant(demo_assistant.settings, db, demo_assistant.embedder)
    db.close()  # a pool that is closed: not an error the core expects
    caplog.set_level(logging.DEBUG)
    with running_bot(closed) as slack:
        ts, _ = slack.mention(FIRST)
        final = slack.final_in_thread(ts)
    reply = section_texts(final)[0]
    reference = re.search(r"reference ([0-9a-f]{8})", reply)
    assert reference and "something went wrong" in reply
    assert f"reference {reference.group(1)}" in caplog.text and "Traceback" in caplog.text
    assert TOKEN not in caplog.text and SIGNING_SECRET not in caplog.text


def test_tokens_are_never_logged(slack: Running, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # slack_sdk logs each request at DEBUG (its headers redacted)
    ts, _ = slack.mention(FIRST)
    slack.final_in_thread(ts)
    assert "chat.update" in caplog.text  # the run was logged in detail
    assert TOKEN not in caplog.text and TOKEN.split("-")[-1] not in caplog.text and SIGNING_SECRET not in caplog.text


def test_a_bad_signature_is_refused(slack: Running) -> None:
    n = next(slack.counter)
    event = {"type": "app_mention", "user": ANALYST, "text": f"<@{BOT_USER_ID}> {FIRST}", "ts": f"1763.{n}",
             "channel": CHANNEL}
    body = event_body(event, "EvForged1")
    assert signed_post(slack.url, body, "not-the-secret")[0] == 401
    assert signed_post(slack.url, body, SIGNING_SECRET, timestamp=int(time.time()) - 3600)[0] == 401  # replayed
    challenge = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "legacy"})
    status, body, _ = slack.post(challenge)
    assert (status, json.loads(body)) == (200, {"challenge": "abc123"})  # a well-signed request gets through
    time.sleep(0.5)
    assert not slack.fake.calls_to("chat.postMessage")


def test_a_rate_limited_call_is_retried_after_retry_after(slack: Running) -> None:
    slack.fake.rate_limit("chat.postMessage", retry_after=1)
    ts, _ = slack.mention(FIRST)
    slack.final_in_thread(ts)
    posts = [c for c in slack.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]
    assert [c.status for c in posts] == [429, 200]


def test_a_long_answer_is_cut_to_slack_s_limits_with_a_link(slack: Running, demo_assistant: RiskAssistant) -> None:
    wide = RiskAssistant(demo_assistant.settings.model_copy(update={"top_k": 300}), demo_assistant.db,
                         demo_assistant.embedder)
    slack.bot.assistant = wide
    ts, _ = slack.mention("fraud alerts in 2025")
    final = slack.final_in_thread(ts)
    assert final.reply["ok"], final.reply
    assert "…and" in blocks_text(final) and "more" in blocks_text(final)  # the other listed events are counted
    answer = slack.bot.answers.get(buttons(final)["feedback_up"])
    assert answer is not None and len(answer.events) > 100

    long = answer.model_copy(update={
        "summary": " ".join(f"Finding {n} [#{answer.events[0].id}] & <more>." for n in range(2500)),
        "patterns": [Pattern(title=f"Pattern {n}", text="x" * 500, event_ids=[answer.events[0].id])
                     for n in range(200)],
        "caveats": ["y" * 5000]})
    blocks = answer_blocks(long, ui_base_url=UI)
    assert len(blocks) == BLOCKS_MAX and blocks[-1]["type"] == "actions"
    assert "did not fit in Slack" in json.dumps(blocks) and f"<{UI}|web UI>" in json.dumps(blocks)
    for block in blocks:
        SdkBlock.parse(block).validate_json()  # type: ignore[no-untyped-call]
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_MAX
    assert message_problem({"channel": CHANNEL, "text": fallback_text(long), "blocks": blocks}) is None


def test_event_and_model_text_cannot_ping_or_link(demo_assistant: RiskAssistant) -> None:
    answer = demo_assistant.ask(FIRST, as_of=AS_OF)
    cited = answer.citations[0]
    hostile_hit = EventHit(id=cited, score=1.0, fields={**answer.events[0].fields, "title": HOSTILE})
    hostile = answer.model_copy(update={
        "summary": f"{HOSTILE} [#{cited}]", "events": [hostile_hit, *answer.events[1:]],
        "patterns": [Pattern(title=HOSTILE, text=f"{HOSTILE} [#{cited}]", event_ids=[cited])],
        "caveats": [HOSTILE], "question": HOSTILE})
    rendered = json.dumps(answer_blocks(hostile, ui_base_url=UI, share=True)) + fallback_text(hostile)
    for markup in ("<!channel>", "<@U0BOSS>", "<http://evil", "& more"):
        assert markup not in rendered
    assert "&lt;!channel&gt; &lt;@U0BOSS&gt; &lt;http://evil.example/steal|click here&gt; &amp; more" in rendered
    assert f"<{UI}/?event={cited}|#{cited}>" in rendered  # our own links survive
    texts = [t for b in answer_blocks(hostile) for t in [b.get("text"), *b.get("elements", [])]
             if isinstance(t, dict) and t.get("type") == "mrkdwn"]
    assert texts and all(t["verbatim"] is True for t in texts)  # Slack auto-links nothing either


def test_model_text_streamed_and_final_is_escaped(demo_assistant: RiskAssistant) -> None:
    cited = demo_assistant.ask(FIRST, as_of=AS_OF).evidence_ids[0]
    hostile = "<!channel> <@UBOSSMAN> <http://evil.example/steal|click here>"
    draft = f"Most of these alerts sit with one online merchant [#{cited}]. Heads up {hostile} now."
    llm = RiskAssistant(demo_assistant.settings, demo_assistant.db, demo_assistant.embedder,
                        chat_model=TextChat(messages=iter([AIMessage(content=draft)])))
    with running_bot(llm) as slack:
        ts, _ = slack.mention(FIRST)
        final = slack.final_in_thread(ts)
        updates = [blocks_text(c) + c.params["text"] for c in slack.fake.calls_to("chat.update")]
    assert slack.bot.answers.get(buttons(final)["feedback_up"]) is not None
    assert "evil.example" in blocks_text(final) and f"<{UI}/?event={cited}|#{cited}>" in blocks_text(final)
    assert any("Heads up" in u for u in updates[:-1])  # the model's text streamed into the working message
    for shown in updates:
        assert "<!channel>" not in shown and "<@UBOSSMAN>" not in shown and "<http://evil" not in shown


def test_mrkdwn_helpers() -> None:
    assert escape("<!here> & <@U1>") == "&lt;!here&gt; &amp; &lt;@U1&gt;"
    assert question_from(f"<@{BOT_USER_ID}> over $5k &amp; under &lt;10k from <@U0PEER|ann> "
                         "<http://x.example|x.example>", BOT_USER_ID) == "over $5k & under <10k from @ann x.example"
    linked = "word " * 10 + "<https://risk.example.com/?event=1|#1> &amp; tail"
    for limit in range(5, 70, 3):
        piece = cut(linked, limit)
        assert len(piece) <= limit and piece.count("<") == piece.count(">") and not re.search(r"&[a-z]*…", piece)
    for limit in range(40, 70, 3):  # at least the longest link: a link is never cut
        parts = split(linked, limit)
        assert all(len(p) <= limit for p in parts) and " ".join(parts).split() == linked.split()


def test_missing_tokens_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "RISK_SLACK_BOT_TOKEN",
                 "RISK_SLACK_APP_TOKEN", "RISK_SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    socket = CliRunner().invoke(cli, ["slack", "--mode", "socket"])
    assert socket.exit_code == 1 and "SLACK_APP_TOKEN" in socket.output and "SLACK_BOT_TOKEN" not in socket.output
    http = CliRunner().invoke(cli, ["slack", "--mode", "http", "--port", "0"])
    assert http.exit_code == 1 and "SLACK_SIGNING_SECRET" in http.output
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    both = CliRunner().invoke(cli, ["slack", "--mode", "http"])
    assert "SLACK_BOT_TOKEN" in both.output and "SLACK_SIGNING_SECRET" in both.output
    assert CliRunner().invoke(cli, ["slack", "--mode", "carrier-pigeon"]).exit_code == 2
    assert TOKEN not in socket.output + http.output


def test_the_manifest_ships_in_the_package() -> None:
    manifest = yaml.safe_load((resources.files("assistant.slack") / "manifest.yml").read_text(encoding="utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "im:history", "commands"} <= scopes
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im"}
    assert manifest["features"]["slash_commands"][0]["command"] == "/risk"
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_slack_out_of_reach_is_a_clear_error_without_the_token(demo_assistant: RiskAssistant) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    tokens = SlackTokens(bot_token="xoxb-test7", app_token="", signing_secret="signing-7")
    with pytest.raises(ConfigError, match="cannot reach Slack") as caught:
        run_bot(demo_assistant, tokens, "http", host="127.0.0.1", port=0, api_url=f"http://127.0.0.1:{closed}/api/")
    assert "xoxb-test7" not in str(caught.value)
