"""Secrets (issue 11): the OpenAI key, the Slack tokens and signing secret and the database password never reach a
log, an error, the CLI's output, the UI, a Slack message or the answers table, even when things fail."""

from __future__ import annotations

import gzip
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import gradio as gr
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from assistant.api import RiskAssistant
from assistant.cli import app as cli
from assistant.config import Settings
from assistant.db import Database
from assistant.demo import bundled_demo_path
from assistant.embed import Embedder
from assistant.errors import AssistantError
from assistant.llm import make_chat_model
from assistant.mapping import Mapping
from assistant.resources import resource_dir
from assistant.server import EmbeddedServer
from assistant.slack.app import build_app
from assistant.slack.bot import SlackBot
from assistant.slack.serve import EVENTS_PATH, SlackTokens, http_server, run_bot
from assistant.ui.handlers import Handlers
from assistant.ui.layout import build_view
from assistant.ui.session import Session

from .conftest import AS_OF, new_database_url
from .fake_slack import BOT_USER_ID, FakeSlack, event_body, signed_post

# Distinctive fake values: each is searched for whole and by its distinctive middle. The token prefixes are
# joined at run time so that no committed line looks like a real key to a secret scanner.
SECRETS = {
    "openai_api_key": "sk-" + "proj-FAKEopenaiKEY7f3c9a1e5b2d8f4a6c0e",
    "slack_bot_token": "xoxb" + "-111-222-FAKEbotTOKEN9d8c7b6a5f4e",
    "slack_app_token": "xapp-1-A111-333-FAKEappTOKEN1a2b3c4d5e",
    "slack_signing_secret": "FAKEsigningSECRET0f1e2d3c4b5a6978",
    "database_password": "FAKEdbPASSWORD8e7d6c5b4a39",
}
QUESTION = "Q4 2025 card-not-present fraud patterns"


@dataclass
class Outputs:
    """Every channel a secret could leak through, as text, by name."""

    channels: dict[str, list[str]] = field(default_factory=dict)

    def add(self, channel: str, *texts: Any) -> None:
        """Record output of one channel (anything: it is compared as its JSON or str form)."""
        self.channels.setdefault(channel, []).extend(
            t if isinstance(t, str) else json.dumps(t, default=str, ensure_ascii=False) for t in texts)

    def leaks(self) -> list[tuple[str, str]]:
        """(channel, secret name) for every secret found in a channel."""
        return [(channel, name) for channel, texts in self.channels.items() for name, secret in SECRETS.items()
                for text in texts if _found(secret, text)]


def _found(secret: str, text: str) -> bool:
    return secret in text or secret[len(secret) // 3: 2 * len(secret) // 3] in text


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _with_password(url: str) -> str:
    """The database URL with the fake password in it (trust auth ignores it; a leak would still show it)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"postgres:{SECRETS['database_password']}@{parts.hostname or ''}"))


def _secret_env(url: str) -> dict[str, str]:
    return {"DATABASE_URL": url, "OPENAI_API_KEY": SECRETS["openai_api_key"],
            "OPENAI_BASE_URL": f"http://127.0.0.1:{_closed_port()}/v1", "RISK_LLM_TIMEOUT_S": "2",
            "RISK_LLM_MAX_RETRIES": "0", "SLACK_BOT_TOKEN": SECRETS["slack_bot_token"],
            "SLACK_APP_TOKEN": SECRETS["slack_app_token"], "SLACK_SIGNING_SECRET": SECRETS["slack_signing_secret"]}


@pytest.fixture(scope="module")
def secret_settings(server: EmbeddedServer, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings holding every fake secret, an LLM endpoint nobody listens on, and a small database."""
    env = _secret_env(_with_password(new_database_url(server)))
    values: dict[str, Any] = {
        "database_url": env["DATABASE_URL"], "openai_api_key": env["OPENAI_API_KEY"],
        "openai_base_url": env["OPENAI_BASE_URL"], "llm_timeout_s": 2, "llm_max_retries": 0,
        "slack_bot_token": env["SLACK_BOT_TOKEN"], "slack_app_token": env["SLACK_APP_TOKEN"],
        "slack_signing_secret": env["SLACK_SIGNING_SECRET"]}
    return Settings(data_dir=tmp_path_factory.mktemp("secrets"), _env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def leaky(secret_settings: Settings, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[RiskAssistant]:
    """An assistant over 200 demo events whose LLM endpoint is unreachable."""
    assistant = RiskAssistant(secret_settings, Database.open(secret_settings), embedder,
                              make_chat_model(secret_settings))
    with gzip.open(bundled_demo_path(), "rt", encoding="utf-8") as handle:
        rows = [r for r in map(json.loads, handle) if r["occurred_at"] >= "2025-10-01"][:200]
    path = tmp_path_factory.mktemp("rows") / "demo.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assistant.ingest(path, Mapping.load(resource_dir("mappings") / "demo.toml"))
    yield assistant
    assistant.close()


def test_secrets_are_in_the_settings(secret_settings: Settings) -> None:
    """The test is only as good as its secrets: each is configured and listed as a secret."""
    listed = secret_settings.secret_values()
    assert all(secret in listed for secret in SECRETS.values()), "a fake secret is not configured"


def _library(outputs: Outputs, assistant: RiskAssistant) -> None:
    """Python: an answer with the LLM unreachable, and a database URL that cannot connect."""
    answer = assistant.ask(QUESTION, as_of=AS_OF)
    outputs.add("answers (Python)", answer.model_dump(mode="json"))
    bad = assistant.settings.model_copy(update={"database_url": SecretStr(
        f"postgresql://postgres:{SECRETS['database_password']}@127.0.0.1:{_closed_port()}/nowhere"),
        "pool_timeout_s": 1.0})
    with pytest.raises(Exception) as caught:
        Database.open(bad)
    outputs.add("errors", str(caught.value), repr(caught.value), str(caught.value.__cause__ or ""))


def _ui(outputs: Outputs, assistant: RiskAssistant) -> None:
    """The UI's handlers: a question, a plan edited as JSON (valid, then refused), and feedback on nothing."""
    with gr.Blocks():
        view = build_view()
    handlers = Handlers(assistant, view)
    session = Session()
    updates = list(handlers.ask(QUESTION, AS_OF.isoformat(), session, None))  # type: ignore[arg-type]
    assert session.last_plan is not None
    updates += list(handlers.run_json(session.last_plan.model_dump_json(), session, None))  # type: ignore[arg-type]
    bad = session.last_plan.model_dump(mode="json") | {"filters": [{"field": "x;--", "op": "eq", "value": 1}]}
    updates += list(handlers.run_json(json.dumps(bad), session, None))  # type: ignore[arg-type]
    updates += list(handlers.run_json("{not json", session, None))  # type: ignore[arg-type]
    outputs.add("UI handler outputs", *(repr(u) for u in updates))


def _slack(outputs: Outputs, assistant: RiskAssistant) -> None:
    """The Slack bot over the fake Slack API: an answer in a thread, then Slack out of reach."""
    settings = assistant.settings
    token = settings.slack_bot_token.get_secret_value()  # type: ignore[union-attr]
    signing = settings.slack_signing_secret.get_secret_value()  # type: ignore[union-attr]
    fake = FakeSlack(token)
    bot = SlackBot(assistant, as_of=AS_OF, update_every_s=0.0, secrets=tuple(settings.secret_values()))
    server = http_server(build_app(bot, token=token, signing_secret=signing, api_url=fake.api_url), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        event = {"type": "app_mention", "user": "U0ANALYST", "text": f"<@{BOT_USER_ID}> {QUESTION}",
                 "ts": "1763700000.000001", "channel": "C0RISK001", "event_ts": "1763700000.000001"}
        host, port = server.server_address[:2]
        signed_post(f"http://{host!s}:{port}{EVENTS_PATH}", event_body(event, "Ev1"), signing)
        fake.wait_for(lambda f: any(not _working(c.params) for c in f.calls_to("chat.update")))
    finally:
        server.shutdown()
        server.server_close()
        fake.close()
    outputs.add("Slack messages", *(c.params for c in fake.calls))
    tokens = SlackTokens(bot_token=token, app_token="", signing_secret=signing)
    with pytest.raises(AssistantError) as caught:
        run_bot(assistant, tokens, "http", host="127.0.0.1", port=0, api_url=f"http://127.0.0.1:{_closed_port()}/api/")
    outputs.add("errors", str(caught.value))


def _working(params: dict[str, Any]) -> bool:
    return "working…" in json.dumps(params.get("blocks") or [], ensure_ascii=False)


def _cli(outputs: Outputs, assistant: RiskAssistant) -> None:
    """The CLI: ask and plan with every secret in the environment, then ask with a database that refuses."""
    url = assistant.settings.database_url.get_secret_value()  # type: ignore[union-attr]
    env = _secret_env(url) | {"RISK_DATA_DIR": str(assistant.settings.data_dir)}
    runs = [CliRunner().invoke(cli, args, env=env) for args in (
        ["ask", QUESTION, "--as-of", AS_OF.isoformat()], ["plan", QUESTION], ["ask", "x", "--as-of", "not-a-date"])]
    refused = env | {"DATABASE_URL": f"postgresql://postgres:{SECRETS['database_password']}@127.0.0.1:"
                                     f"{_closed_port()}/nowhere", "RISK_POOL_TIMEOUT_S": "1"}
    runs.append(CliRunner().invoke(cli, ["ask", QUESTION], env=refused))
    assert runs[0].exit_code == 0 and runs[-1].exit_code != 0, [r.output for r in runs]
    outputs.add("CLI stdout and stderr", *(r.output for r in runs), *(repr(r.exception) for r in runs))


def test_no_secret_reaches_any_output(leaky: RiskAssistant, caplog: pytest.LogCaptureFixture,
                                      capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    outputs = Outputs()
    for exercise in (_library, _ui, _slack, _cli):
        exercise(outputs, leaky)
    rows = leaky.db.execute("SELECT row_to_json(a)::text FROM answers a")
    outputs.add("answers table", *(r[0] for r in rows))
    captured = capfd.readouterr()
    outputs.add("process stdout and stderr", captured.out, captured.err)
    outputs.add("log records (DEBUG)", caplog.text, *(str(r.args) for r in caplog.records))
    assert len(rows) >= 3 and "chat.update" in caplog.text, "the exercises must have run and logged"
    assert "connect" in " ".join(outputs.channels["errors"]).lower()
    assert not outputs.leaks(), outputs.leaks()
    checked = sum(len(t) for t in outputs.channels.values())
    print(f"\nsecrets: {len(SECRETS)} secrets x 2 forms, {len(outputs.channels)} channels, {checked} texts "
          f"({sum(len(x) for t in outputs.channels.values() for x in t):,} characters) checked")
