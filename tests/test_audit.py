"""The audit trail: each answer's record holds what it takes to reconstruct it, and a replay says whether the
evidence and facts still hold, and what changed since (new events, other settings), from Python and the CLI."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage
from typer.testing import CliRunner

from assistant.api import RiskAssistant
from assistant.audit import list_answers, replay_answer, show_answer
from assistant.cli import app
from assistant.cli_trust import REPLAY_DIFFERS
from assistant.demo import bundled_demo_path
from assistant.draft import prompt_hashes
from assistant.embed import Embedder
from assistant.errors import InputError
from assistant.mapping import Mapping
from assistant.record import shaping_settings
from assistant.server import EmbeddedServer

from .conftest import AS_OF, assistant_in_new_database
from .fakes import TextChat

QUESTION = "high severity AML alerts in 2026"


def demo_rows(keep: int) -> list[str]:
    """Every `keep`-th demo event, as JSON lines."""
    with gzip.open(bundled_demo_path(), "rt") as rows:
        return [line for n, line in enumerate(rows) if n % keep == 0]


@pytest.fixture(scope="module")
def changing(server: EmbeddedServer, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[RiskAssistant]:
    """A database holding every fourth demo event: the tests add events to it after an answer."""
    tmp = tmp_path_factory.mktemp("audit")
    path = tmp / "first.jsonl"
    path.write_text("".join(demo_rows(4)))
    assistant = assistant_in_new_database(server, embedder, tmp)
    assistant.ingest(path, Mapping(source="demo"))
    yield assistant
    assistant.close()


def test_the_record_holds_what_reconstructs_the_answer(demo_assistant: RiskAssistant) -> None:
    answer = demo_assistant.ask(QUESTION, as_of=AS_OF, analyst="ana")
    record = show_answer(demo_assistant.db, answer.id)
    assert (record["analyst"], record["question"], record["as_of"], record["mode"]) == ("ana", QUESTION, AS_OF,
                                                                                        "offline")
    assert record["plan"] == json.loads(answer.plan.model_dump_json())
    assert record["evidence_ids"] == answer.evidence_ids and record["evidence_scores"] == answer.evidence_scores
    assert record["cited_ids"] == answer.citations and record["matched"] == answer.facts.matched
    assert record["facts"]["items"] == json.loads(answer.facts.model_dump_json())["items"]
    assert record["embedding_model"] == demo_assistant.embedder.name and record["llm_model"] is None
    assert record["settings"] == shaping_settings(demo_assistant.settings) and record["scopes"] == ["*"]
    assert set(record["timings"]) >= {"plan", "evidence", "facts", "summary"}


def test_an_unchanged_answer_replays_the_same(demo_assistant: RiskAssistant) -> None:
    answer = demo_assistant.ask("Q4 2025 card-not-present fraud patterns", as_of=AS_OF)
    before = len(list_answers(demo_assistant.db, limit=10_000))
    replay = replay_answer(demo_assistant.db, demo_assistant.embedder, demo_assistant.settings, answer.id)
    assert replay.same and replay.evidence == [] and replay.facts == [] and replay.causes == [], replay
    assert len(list_answers(demo_assistant.db, limit=10_000)) == before  # a replay records nothing


def test_an_llm_answer_replays_its_evidence_and_facts_without_the_llm(demo_assistant: RiskAssistant) -> None:
    model = TextChat(messages=iter([AIMessage(content="High severity AML alerts cluster in a few accounts.")]))
    llm = RiskAssistant(demo_assistant.settings, demo_assistant.db, demo_assistant.embedder, chat_model=model)
    answer = llm.ask(QUESTION, as_of=AS_OF)
    record = show_answer(demo_assistant.db, answer.id)
    assert record["mode"] == "llm" and record["prompt_hashes"] == prompt_hashes()
    replay = replay_answer(demo_assistant.db, demo_assistant.embedder, demo_assistant.settings, answer.id)
    assert replay.same and replay.causes == []


def test_events_ingested_since_change_the_replay_and_are_named(changing: RiskAssistant, tmp_path: Path) -> None:
    answer = changing.ask(QUESTION, as_of=AS_OF)
    more = tmp_path / "more.jsonl"
    more.write_text("".join(demo_rows(3)))  # every third event: most are new
    changing.ingest(more, Mapping(source="demo"))
    replay = replay_answer(changing.db, changing.embedder, changing.settings, answer.id)
    assert not replay.same
    assert any(c.what == "matched.count" or c.what.startswith("matched") for c in replay.facts), replay.facts
    assert replay.evidence and replay.evidence[0].what in ("evidence ids", "evidence order")
    ingested = [c for c in replay.causes if c.what.startswith("events matching the plan")]
    assert ingested and not str(ingested[0].replayed).startswith("0 ")


def test_other_settings_are_named_as_a_cause(changing: RiskAssistant) -> None:
    answer = changing.ask("Q4 2025 card-not-present fraud patterns", as_of=AS_OF)
    other = changing.settings.model_copy(update={"top_k": changing.settings.top_k + 1})
    replay = replay_answer(changing.db, changing.embedder, other, answer.id)
    assert [c.what for c in replay.causes] == ["setting top_k"]
    assert (replay.causes[0].recorded, replay.causes[0].replayed) == (changing.settings.top_k,
                                                                      changing.settings.top_k + 1)


def test_the_embedding_backend_is_recorded_and_older_records_read_as_fp32(changing: RiskAssistant) -> None:
    answer = changing.ask("Q4 2025 card-not-present fraud patterns", as_of=AS_OF)
    fp32 = changing.settings.model_copy(update={"embedding_backend": "torch"})
    bf16 = changing.settings.model_copy(update={"embedding_backend": "torch-bf16"})
    with changing.db.admin_connection() as conn:  # as recorded before the backend was: no such key
        conn.execute("UPDATE answers SET settings = settings - 'embedding_backend' WHERE id = %s", (answer.id,))
    assert replay_answer(changing.db, changing.embedder, fp32, answer.id).causes == []
    causes = replay_answer(changing.db, changing.embedder, bf16, answer.id).causes
    assert [(c.what, c.recorded, c.replayed) for c in causes] == [
        ("setting embedding_backend", "torch", "torch-bf16")]


def test_unknown_and_malformed_ids_are_refused(demo_assistant: RiskAssistant) -> None:
    with pytest.raises(InputError, match="no recorded answer"):
        show_answer(demo_assistant.db, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(InputError, match="not an answer id"):
        show_answer(demo_assistant.db, "'; DROP TABLE answers; --")


@pytest.mark.slow
def test_the_cli_lists_shows_and_replays(changing: RiskAssistant, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    assert changing.settings.database_url is not None
    monkeypatch.setenv("DATABASE_URL", changing.settings.database_url.get_secret_value())
    monkeypatch.setenv("RISK_DATA_DIR", str(tmp_path))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    answer = changing.ask("structuring cash deposits", as_of=AS_OF, analyst="cli-check")
    runner = CliRunner()
    listed = runner.invoke(app, ["audit", "list", "--analyst", "cli-check", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [r["id"] for r in json.loads(listed.stdout)] == [answer.id]
    shown = runner.invoke(app, ["audit", "show", answer.id])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["question"] == "structuring cash deposits"
    same = runner.invoke(app, ["audit", "replay", answer.id])
    assert same.exit_code == 0 and "the same evidence and facts" in same.stdout, same.output
    more = tmp_path / "all.jsonl"
    more.write_text("".join(demo_rows(1)))
    changing.ingest(more, Mapping(source="demo"))
    changed = runner.invoke(app, ["audit", "replay", answer.id, "--json"])
    assert changed.exit_code == REPLAY_DIFFERS, changed.output
    assert json.loads(changed.stdout)["same"] is False
    missing = runner.invoke(app, ["audit", "show", "not-an-id"])
    assert missing.exit_code == 1 and "not an answer id" in missing.output
