"""Pure rendering for the web UI: an answer as chat text, a plan as markdown, events as table rows."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from assistant.models import Answer, EventHit, Filter, Mode, QueryPlan, Reading
from assistant.render.markdown import to_markdown

EVENT_COLUMNS: tuple[str, ...] = (
    "id", "score", "date", "category", "subcategory", "severity", "entity", "amount", "title",
)
EVENT_DATATYPES: tuple[Literal["number", "str"], ...] = (
    "number", "number", "str", "str", "str", "str", "str", "str", "str",
)
# Fixed widths keep codes like "transaction_limit_breach" on one line and let entity and title wrap.
EVENT_COLUMN_WIDTHS: tuple[str, ...] = (
    "60px", "72px", "110px", "170px", "215px", "90px", "190px", "136px", "252px",
)
MODE_DESCRIPTIONS: dict[str, str] = {
    "offline": "no LLM configured — answers are computed pattern reports",
    "llm": "summaries written by the configured LLM from the retrieved events",
}
_OP_WORDS: dict[str, str] = {
    "eq": "=", "ne": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥", "in": "in",
    "not_in": "not in", "between": "between", "contains": "contains", "exists": "exists",
}


def format_status(event_count: int | None, mode: Mode) -> str:
    """Return the header line: how many events are loaded and what the mode means."""
    loaded = "event count unavailable" if event_count is None else f"**{event_count:,}** events loaded"
    return f"{loaded} · mode: **{mode}** ({MODE_DESCRIPTIONS[mode]})"


def format_reply(answer: Answer) -> str:
    """Return the assistant's chat message: the rendered answer, then a one-line provenance footer."""
    footer = f"mode: {answer.mode} · answer {answer.id[:8]}"
    return f"{to_markdown(answer)}\n\n*{footer}*"


def format_filter(item: Filter) -> str:
    """Return one filter as readable markdown: `field` op `value`."""
    op = _OP_WORDS.get(item.op, item.op)
    if item.op == "exists":
        return f"`{item.field}` {op}"
    value = item.value
    if item.op == "between" and isinstance(value, (list, tuple)) and len(value) == 2:
        shown = f"{_code(value[0])} and {_code(value[1])}"
    elif isinstance(value, (list, tuple)):
        shown = ", ".join(_code(part) for part in value)
    else:
        shown = _code(value)
    return f"`{item.field}` {op} {shown}"


def format_plan(plan: QueryPlan, notes: Sequence[object] = ()) -> str:
    """Return the plan that ran as markdown: filters, query text, as-of date and notes."""
    filters = [f"- {format_filter(item)}" for item in plan.filters] or ["- *(none)*"]
    search = [f"- **Query text:** {_code(plan.query)}"]
    if plan.keywords:
        search.append(f"- **Keywords:** {', '.join(_code(word) for word in plan.keywords)}")
    if plan.like is not None:
        search.append(f"- **Like {plan.like.kind}:** {_code(plan.like.value)}")
    search.append(f"- **As of:** {plan.as_of.isoformat()} · **k:** {plan.k}")
    lines = ["**Filters**", *filters, "", "**Search**", *search]
    if plan.readings:
        lines += ["", "**Read with less than full certainty**", *map(_reading, plan.readings)]
    if plan.suggestions:
        lines += ["", "**Suggestions** (not applied: add them in the plan editor)", *map(_reading, plan.suggestions)]
    all_notes = list(dict.fromkeys([*plan.notes, *map(str, notes)]))  # a relaxation note is in both
    if all_notes:
        lines += ["", "**Notes**", *(f"- {_escape(note)}" for note in all_notes)]
    return "\n".join(lines)


def _reading(r: Reading) -> str:
    return f"- {format_filter(r.filter)}: {_escape(r.how)}, certainty {r.certainty:.2f}"


def event_rows(answer: Answer) -> list[list[Any]]:
    """Return one table row per retrieved event, cited events first in citation order."""
    by_id = {hit.id: hit for hit in answer.events}
    cited = [by_id[event_id] for event_id in dict.fromkeys(answer.citations) if event_id in by_id]
    cited_ids = {hit.id for hit in cited}
    rest = [hit for hit in answer.events if hit.id not in cited_ids]
    return [event_row(hit) for hit in [*cited, *rest]]


def event_row(hit: EventHit) -> list[Any]:
    """Return one event as a row matching EVENT_COLUMNS."""
    fields = hit.fields
    return [
        hit.id,
        float(f"{hit.score:.3g}"),  # hybrid (RRF) scores are small: keep significant digits
        format_date(fields.get("occurred_at")),
        _text(fields.get("category")),
        _text(fields.get("subcategory")),
        _text(fields.get("severity")),
        format_entity(fields.get("entity_name"), fields.get("entity_id")),
        format_amount(fields.get("amount"), fields.get("currency")),
        _text(fields.get("title")),
    ]


def format_date(value: Any) -> str:
    """Return the calendar date of a datetime, date or ISO string; empty when missing."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()[:10]
    return "" if value is None else str(value)[:10]


def format_entity(name: Any, entity_id: Any) -> str:
    """Return "name (id)", or whichever of the two is present."""
    if name and entity_id:
        return f"{name} ({entity_id})"
    return _text(name or entity_id)


def format_amount(amount: Any, currency: Any) -> str:
    """Return an amount with thousands separators and its currency; empty when missing."""
    if amount is None or amount == "":
        return ""
    try:
        number = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    shown = f"{number:,.2f}"
    return f"{shown} {currency}" if currency else shown


def redact(message: str, secrets: Sequence[str]) -> str:
    """Return message with every non-empty secret value replaced by ***."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _code(value: Any) -> str:
    shown = value if isinstance(value, str) else json.dumps(value, default=str)
    return f"`{shown.replace('`', 'ʼ')}`"


def _escape(text: str) -> str:
    # Notes are plain text from the planner; keep them from turning into markdown structure.
    return text.replace("<", "&lt;").replace(">", "&gt;")
