"""LLM mode over the demo with scripted chat models: the draft is held to the facts (numbers) and the
evidence (citations), a failing or untrustworthy draft falls back to the offline answer, and the
answer records which model and prompts made it."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage
from pydantic import SecretStr

from assistant.api import RiskAssistant
from assistant.config import Settings
from assistant.draft import prompt_hashes
from assistant.llm import make_chat_model
from assistant.models import Answer, AnswerEvent, SummaryDelta

from .conftest import AS_OF
from .fakes import FailingChat, TextChat, ToolChat, tool_reply

QUESTION = "Q4 2025 card-not-present fraud patterns"
MISSING_ID = 999999


def text_model(*replies: str) -> TextChat:
    """A model without tool calling: the draft falls back to text mode and reads its reply as the summary."""
    return TextChat(messages=iter([AIMessage(content=r) for r in replies]))


def with_model(demo_assistant: RiskAssistant, model: TextChat) -> RiskAssistant:
    # Shares the session's database: not closed here.
    assistant = RiskAssistant(demo_assistant.settings, demo_assistant.db, demo_assistant.embedder, chat_model=model)
    assert assistant.mode == "llm"
    return assistant


def ask_with(demo_assistant: RiskAssistant, model: TextChat) -> Answer:
    return with_model(demo_assistant, model).ask(QUESTION, as_of=AS_OF)


@pytest.fixture(scope="module")
def offline(demo_assistant: RiskAssistant) -> Answer:
    """The offline answer to the question: its evidence is what an LLM may cite, its facts what it may state."""
    answer = demo_assistant.ask(QUESTION, as_of=AS_OF)
    assert answer.mode == "offline" and len(answer.events) >= 6
    assert MISSING_ID not in answer.evidence_ids
    return answer


def test_valid_citations_kept_and_invented_ones_removed(demo_assistant: RiskAssistant, offline: Answer) -> None:
    first, second = offline.events[5].id, offline.events[2].id
    reply = (f"{offline.facts.matched} events match the filters [#{first}] [#{second}]. "
             f"Most came through one merchant [#{MISSING_ID}].")
    model = text_model(reply)
    answer = ask_with(demo_assistant, model)
    assert len(model.received) == 1 and answer.mode == "llm"
    assert answer.citations == [first, second]
    assert f"[#{MISSING_ID}]" not in answer.summary and str(MISSING_ID) not in answer.summary
    assert answer.summary.startswith(f"{offline.facts.matched} events match the filters [#{first}] [#{second}].")
    assert "Most came through one merchant" in answer.summary
    assert any(n.kind == "check" and "removed citations" in n.text and str(MISSING_ID) in n.text
               for n in answer.notes)
    assert [e.id for e in answer.events[:2]] == [first, second]  # cited events are listed first


def test_a_wrong_number_is_caught_and_its_sentence_removed(demo_assistant: RiskAssistant, offline: Answer) -> None:
    cited = offline.events[0].id
    right = f"{offline.facts.matched} events match the filters [#{cited}]."
    wrong = f"The ring hit {offline.facts.matched + 1} cardholders [#{cited}]."
    reply = f"{right} {wrong} Most alerts were confirmed as fraud [#{cited}]. Check the merchant [#{cited}]."
    answer = ask_with(demo_assistant, text_model(reply))
    assert answer.mode == "llm"
    assert answer.summary == f"{right} Most alerts were confirmed as fraud [#{cited}]. Check the merchant [#{cited}]."
    note = next(n for n in answer.notes if n.kind == "check")
    assert f"stating {offline.facts.matched + 1}" in note.text and "The ring hit" in note.text


def test_a_summary_that_gets_most_numbers_wrong_is_replaced_by_the_offline_answer(
        demo_assistant: RiskAssistant, offline: Answer) -> None:
    cited = offline.events[0].id
    reply = (f"There were 7,777 alerts [#{cited}]. Losses reached $1.5M [#{cited}]. "
             f"Alerts rose 400% on the previous quarter [#{MISSING_ID}].")
    answer = ask_with(demo_assistant, text_model(reply))
    assert answer.mode == "offline" and answer.summary == offline.summary
    assert any(n.kind == "check" and "did not match the computed facts" in n.text for n in answer.notes)


def test_correct_figures_pass_unchanged(demo_assistant: RiskAssistant, offline: Answer) -> None:
    trend = offline.facts.trend
    assert trend is not None and trend.change_pct is not None
    cited = offline.events[1].id
    reply = (f"{offline.facts.matched:,} card-not-present alerts match, against {trend.previous_count} in the "
             f"previous quarter, a change of {trend.change_pct:+.0f}% [#{cited}].")
    answer = ask_with(demo_assistant, text_model(reply))
    assert answer.mode == "llm" and answer.summary == reply
    assert not any(n.kind == "check" for n in answer.notes)


def test_failing_model_falls_back_to_the_offline_report(demo_assistant: RiskAssistant, offline: Answer) -> None:
    model = FailingChat(messages=iter([]))
    answer = ask_with(demo_assistant, model)
    assert model.received  # it was asked, and it failed
    assert answer.mode == "offline" and answer.summary == offline.summary
    assert answer.citations == offline.citations and answer.llm_model is None
    assert any(n.kind == "llm" and "LLM failed" in n.text and "boom" in n.text for n in answer.notes)


def test_empty_reply_falls_back_to_the_offline_report(demo_assistant: RiskAssistant, offline: Answer) -> None:
    answer = ask_with(demo_assistant, text_model("   "))
    assert answer.mode == "offline" and answer.summary == offline.summary
    assert any(n.kind == "llm" and "LLM failed" in n.text for n in answer.notes)


def test_a_structured_draft_gives_patterns_with_checked_event_ids(demo_assistant: RiskAssistant,
                                                                  offline: Answer) -> None:
    a, b = offline.events[0].id, offline.events[3].id
    model = ToolChat(messages=iter([tool_reply({
        "summary": f"{offline.facts.matched} events match [#{a}].",
        "patterns": [{"title": "One merchant", "text": f"Night-time online charges [#{b}]",
                      "event_ids": [b, MISSING_ID]}],
        "caveats": ["Statuses may lag the investigation."]})]))
    assistant = with_model(demo_assistant, model)
    stream = assistant.ask_stream(QUESTION, as_of=AS_OF)
    events = list(stream)
    answer = stream.answer()
    deltas = [e.text for e in events if isinstance(e, SummaryDelta)]
    assert deltas and "".join(deltas) == answer.summary  # the summary streamed as the model wrote it
    assert isinstance(events[-1], AnswerEvent) and answer.mode == "llm"
    assert [(p.title, p.event_ids) for p in answer.patterns] == [("One merchant", [b])]
    assert answer.caveats == ["Statuses may lag the investigation."] and answer.citations == [a, b]
    assert any(str(MISSING_ID) in n.text for n in answer.notes if n.kind == "check")
    row = demo_assistant.db.fetch_one("select_answer", {"id": answer.id})
    assert row is not None and row["mode"] == "llm" and row["llm_model"] == answer.llm_model
    assert row["prompt_hashes"] == prompt_hashes() and row["cited_ids"] == [a, b]


def test_the_prompt_carries_the_facts_and_fences_the_events(demo_assistant: RiskAssistant, offline: Answer) -> None:
    model = text_model(f"{offline.facts.matched} events match [#{offline.events[0].id}].")
    ask_with(demo_assistant, model)
    human = str(model.received[0][-1].content)
    facts = human[human.index("<facts>"):human.index("</facts>")]
    assert '"matched.count"' in facts and str(offline.facts.matched) in facts
    events = human[human.index("<events>"):human.index("</events>")]
    assert str(offline.events[0].id) in events and human.count("<events>") == 1


def test_no_endpoint_means_no_chat_model() -> None:
    assert make_chat_model(Settings(openai_api_key=None, openai_base_url=None)) is None


def test_chat_model_keeps_its_key_secret() -> None:
    from langchain_openai import ChatOpenAI

    key = "sk-test-123"
    settings = Settings(openai_api_key=SecretStr(key), openai_base_url="http://127.0.0.1:9/v1")
    model = make_chat_model(settings)
    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_base == "http://127.0.0.1:9/v1"
    assert isinstance(model.openai_api_key, SecretStr) and model.openai_api_key.get_secret_value() == key
    assert key not in repr(model) and key not in str(model) and key not in repr(settings)


def test_local_endpoint_needs_no_key() -> None:
    model = make_chat_model(Settings(openai_api_key=None, openai_base_url="http://127.0.0.1:9/v1"))
    assert model is not None and model.openai_api_key is not None  # type: ignore[attr-defined]
    assert model.openai_api_key.get_secret_value() == "not-needed"  # type: ignore[attr-defined]


def test_settings_name_the_chat_model() -> None:
    settings = Settings(openai_base_url="http://127.0.0.1:9/v1", llm_model="local-model")
    model = make_chat_model(settings)
    assert model is not None and model.model_name == "local-model"  # type: ignore[attr-defined]
