"""The LLM's draft of an answer: a cited summary, patterns and caveats, streamed as it is written."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator, Iterable, Iterator
from typing import Any

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelRefusalError,
    ModelTimeoutError,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, ValidationError

from assistant.errors import LLMError
from assistant.models import Anomaly, EventHit, Fact, Facts, Pattern, QueryPlan, Theme, ThemeSet
from assistant.resources import prompt

PROMPTS = ("answer_system", "answer_user")
MAX_TEXT = 800  # characters of an event's text in the prompt
MAX_TITLE = 200
MAX_FACTS = 200
MAX_THEMES = 12
MAX_ANOMALIES = 12
MAX_ERROR = 300  # characters of a provider's error message kept in an LLMError
_EVENT_FIELDS = ("category", "subcategory", "severity", "status", "entity_name", "entity_id", "amount",
                 "currency")
# Failures that a second request in text mode would meet again (no connection, a timeout, a bad key, a
# prompt too long, a refusal): raised at once. LangChain's provider packages raise these classes for every
# provider; a 400 (tools not supported) or a 5xx (a server choking on tools) still gets the text mode.
_FINAL = (ModelConnectionError, ModelTimeoutError, ModelAuthenticationError, ModelPermissionDeniedError,
          ModelNotFoundError, ModelRateLimitError, ContextOverflowError, ModelRefusalError,
          ConnectionError, TimeoutError)


class Draft(BaseModel):
    """What the model wrote: a 2-4 sentence summary with [#id] markers, patterns and caveats."""

    summary: str
    # Defaults, although the schema requires both: a model that omits an empty list still drafted an answer.
    patterns: list[Pattern] = Field(default_factory=list)
    caveats: list[str] = Field(default_factory=list)


DraftChunk = str | Draft  # summary text as it is written, then the Draft last

# Structure only; what to write in each field is in prompts/answer_system.md. Written out rather than
# Draft.model_json_schema(): no $defs/$ref for the servers' schema-to-grammar converters to resolve.
DRAFT_SCHEMA: dict[str, Any] = {
    "title": "Draft",
    "description": "The written answer: summary, patterns and caveats.",
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "patterns": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "text": {"type": "string"},
                    "event_ids": {"type": "array", "items": {"type": "integer"}},
                },
                "required": ["title", "text", "event_ids"],
            },
        },
        "caveats": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["summary", "patterns", "caveats"],
}


def write_draft(model: BaseChatModel, *, plan: QueryPlan, facts: Facts, themes: ThemeSet,
                anomalies: list[Anomaly], hits: list[EventHit]) -> Iterator[DraftChunk]:
    """Stream the summary as it is written, then the Draft; raises LLMError when nothing usable comes."""
    messages = build_messages(plan=plan, facts=facts, themes=themes, anomalies=anomalies, hits=hits)
    draft = yield from _structured(model, messages)
    if not isinstance(draft, Draft):
        draft = yield from _text(model, messages, earlier=draft)
    yield draft


def prompt_hashes() -> dict[str, str]:
    """The first 12 hex digits of the SHA-256 of each prompt this module sends, for the answer record."""
    return {name: hashlib.sha256(prompt(name).encode("utf-8")).hexdigest()[:12] for name in PROMPTS}


def build_messages(*, plan: QueryPlan, facts: Facts, themes: ThemeSet, anomalies: list[Anomaly],
                   hits: list[EventHit]) -> list[BaseMessage]:
    """The system rules and the fenced data, as sent to the model."""
    variables = prompt_variables(plan=plan, facts=facts, themes=themes, anomalies=anomalies, hits=hits)
    return [SystemMessage(prompt("answer_system")), HumanMessage(prompt("answer_user").format(**variables))]


def prompt_variables(*, plan: QueryPlan, facts: Facts, themes: ThemeSet, anomalies: list[Anomaly],
                     hits: list[EventHit]) -> dict[str, str]:
    """The named values prompts/answer_user.md is filled with, each safe inside its fence."""
    cited = {h.id for h in hits}
    return {
        "question": _fenced(plan.question),
        "plan": _fenced(plan.model_dump(mode="json", include={"filters", "query", "like", "as_of"})),
        "facts": _lines(_fact(f) for f in facts.items[:MAX_FACTS]),
        "themes": _lines(_theme(t, cited) for t in themes.themes[:MAX_THEMES]),
        # Only anomalies among the listed events: an anomaly is worth mentioning with its citation.
        "anomalies": _lines([{"event_id": a.event_id, "kind": a.kind, "reason": a.reason}
                             for a in anomalies if a.event_id in cited][:MAX_ANOMALIES]),
        "events": _lines(_event(h) for h in hits),
    }


def _structured(model: BaseChatModel, messages: list[BaseMessage]) -> Generator[str, None, Draft | str | None]:
    """Summary deltas from a tool-calling draft; when the text mode should answer instead (nothing yielded),
    why the draft was unusable, or None when the model has no tool calling."""
    try:
        # function_calling, not ChatOpenAI's default json_schema: it is the one method every LangChain chat
        # model implements (the base with_structured_output binds the schema as a forced tool and ignores
        # `method`), the planner agent already needs the endpoint to call tools, and vLLM honours a named
        # tool_choice by constrained decoding. Servers that ignore the forced tool and write prose, or reject
        # tools outright, end in the text mode below.
        runnable = model.with_structured_output(DRAFT_SCHEMA, method="function_calling")
    except (NotImplementedError, TypeError, ValueError):  # no tools, no `method` parameter, or not that method
        return None
    written, last = "", None
    try:
        # A dict schema yields each growing partial dict; a Pydantic one, only partials that already validate.
        for partial in runnable.stream(messages):
            last = partial
            summary = partial.get("summary") if isinstance(partial, dict) else None
            if isinstance(summary, str) and len(summary) > len(written) and summary.startswith(written):
                yield summary[len(written):]
                written = summary
    except Exception as err:  # any provider or parsing failure
        if written or isinstance(err, _FINAL):
            raise LLMError(f"the language model failed while drafting the answer: {_describe(err)}") from err
        return f"its drafted answer failed: {_describe(err)}"
    return _validated(last, written)


def _validated(last: object, written: str) -> Draft | str:
    """The final partial dict as a Draft; why not, when it holds no summary and nothing was yielded."""
    if not last and not written:  # no tool call came at all (an empty reply, or prose instead)
        return "it called no tool to draft the answer"
    try:
        draft = Draft.model_validate(last)
    except ValidationError as err:
        if written:  # the summary already streamed cannot be taken back: no second attempt
            raise LLMError("the language model's drafted answer did not match its schema: "
                           f"{err.error_count()} invalid field(s), first at "
                           f"{'.'.join(map(str, err.errors()[0]['loc']))}") from err
        return (f"its drafted answer did not match its schema ({err.error_count()} invalid field(s), "
                f"first at {'.'.join(map(str, err.errors()[0]['loc'])) or 'the top'})")
    return draft if draft.summary.strip() else "its drafted answer had an empty summary"


def _text(model: BaseChatModel, messages: list[BaseMessage], *, earlier: str | None = None
          ) -> Generator[str, None, Draft]:
    """Stream a plain-text summary; the Draft has no patterns or caveats. `earlier` says why the drafted
    answer before it was unusable, so that a failure here names both."""
    before = f"; before that, {earlier}" if earlier else ""
    parts: list[str] = []
    try:
        for chunk in model.stream(messages):
            text = str(chunk.text)
            if text:
                parts.append(text)
                yield text
    except Exception as err:  # any transport or provider failure: the caller falls back offline
        raise LLMError(f"the language model failed: {_describe(err)}{before}") from err
    summary = "".join(parts)
    if not summary.strip():
        raise LLMError(f"the language model returned an empty answer{before}")
    return Draft(summary=summary, patterns=[], caveats=[])


def _describe(err: BaseException) -> str:
    # Provider messages name the status and the cause; they never hold the key or the prompt, but some
    # echo a response body, so they are cut short.
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text[:MAX_ERROR]}" if text else type(err).__name__


def _fact(fact: Fact) -> dict[str, Any]:
    line: dict[str, Any] = {"key": fact.key, "value": fact.value, "label": fact.label}
    if fact.currency:
        line["currency"] = fact.currency
    return line


def _theme(theme: Theme, cited: set[int]) -> dict[str, Any]:
    return {
        # A percentage at one decimal, the figure the checker holds for it (assistant/figures.py).
        "id": theme.id, "label": theme.label, "size": theme.size, "share_pct": round(100 * theme.share, 1),
        "dominant": [{"value": c.value, "count": c.count} for c in theme.dominant],
        # Only the representatives the model may cite: the others are not among <events>.
        "representative_ids": [i for i in theme.representative_ids if i in cited],
    }


def _event(hit: EventHit) -> dict[str, Any]:
    fields = hit.fields
    event: dict[str, Any] = {"id": hit.id, "date": str(fields.get("occurred_at") or "")[:10]}
    event.update({k: fields[k] for k in _EVENT_FIELDS if fields.get(k) not in (None, "", {})})
    if fields.get("title"):
        event["title"] = str(fields["title"])[:MAX_TITLE]
    event["text"] = str(fields.get("text") or "")[:MAX_TEXT]
    return event


def _lines(values: Iterable[object]) -> str:
    return "\n".join(_fenced(v) for v in values)


def _fenced(value: object) -> str:
    """Compact JSON that no text inside it can close a fence with."""
    text = json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
    # Escaped angle brackets are still valid JSON, and no "</events>" or "<system>" can appear in it.
    return text.replace("<", "\\u003c").replace(">", "\\u003e")
