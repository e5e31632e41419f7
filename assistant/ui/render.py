"""Pure rendering for the web UI: an answer as chat text, a plan as markdown, events as table rows."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from assistant.models import Answer, EventHit, Filter, Mode, QueryPlan, Reading
from assistant.render.markdown import escape, inline, to_markdown

Datatype = Literal["number", "str"]
# (column, datatype): a number column is right-aligned and sorts numerically.
_COLUMNS: tuple[tuple[str, Datatype], ...] = (
    ("id", "number"), ("cited", "str"), ("score", "number"), ("date", "str"), ("category", "str"),
    ("subcategory", "str"), ("severity", "str"), ("entity", "str"), ("amount", "number"), ("currency", "str"),
    ("title", "str"),
)
MATCHED_COLUMN: tuple[str, Datatype] = ("shares with target", "str")
EVENT_COLUMNS: tuple[str, ...] = tuple(name for name, _ in _COLUMNS)
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


def format_draft(text: str, stage: str) -> str:
    """Return the chat message while an answer is being made: the summary so far, then what is running."""
    shown = "\n\n".join(inline(part) for part in text.split("\n") if part.strip())
    status = f"*{escape(stage)}…*"
    return f"{shown}\n\n{status}" if shown else status


def format_question(text: str) -> str:
    """Return the analyst's own question for the chat, escaped (it may quote event text)."""
    return escape(text)


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


def filter_text(item: Filter) -> str:
    """Return one filter as plain text for a chip: field op value."""
    op = _OP_WORDS.get(item.op, item.op)
    if item.op == "exists":
        return f"{item.field} {op}"
    value = item.value
    if isinstance(value, (list, tuple)):
        joiner = " and " if item.op == "between" else ", "
        return f"{item.field} {op} {joiner.join(map(str, value))}"
    return f"{item.field} {op} {value}"


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


def ordered_hits(answer: Answer) -> list[EventHit]:
    """Return the listed events, cited ones first in citation order."""
    by_id = {hit.id: hit for hit in answer.events}
    cited = [by_id[event_id] for event_id in dict.fromkeys(answer.citations) if event_id in by_id]
    cited_ids = {hit.id for hit in cited}
    return [*cited, *(hit for hit in answer.events if hit.id not in cited_ids)]


def event_rows(answer: Answer) -> list[list[Any]]:
    """Return one table row per retrieved event, cited events first in citation order."""
    cited = set(answer.citations)
    return [event_row(hit, cited=hit.id in cited) for hit in ordered_hits(answer)]


def event_row(hit: EventHit, *, cited: bool = False) -> list[Any]:
    """Return one event as a row matching EVENT_COLUMNS."""
    fields = hit.fields
    return [
        hit.id,
        "✓" if cited else "",
        float(f"{hit.score:.3g}"),  # hybrid (RRF) scores are small: keep significant digits
        format_date(fields.get("occurred_at")),
        _text(fields.get("category")),
        _text(fields.get("subcategory")),
        _text(fields.get("severity")),
        format_entity(fields.get("entity_name"), fields.get("entity_id")),
        amount_number(fields.get("amount")),
        _text(fields.get("currency")),
        _text(fields.get("title")),
    ]


def table_columns(hits: Sequence[EventHit]) -> list[tuple[str, Datatype]]:
    """Return the table's columns: the shared-metadata column only when some hit shares metadata ("like X")."""
    return [*_COLUMNS[:-1], MATCHED_COLUMN, _COLUMNS[-1]] if any(hit.shared for hit in hits) else list(_COLUMNS)


def table_rows(hits: Sequence[EventHit], cited: set[int]) -> list[list[Any]]:
    """Return the rows for table_columns(hits): each event, with what it shares with a "like" target."""
    with_matched = any(hit.shared for hit in hits)
    rows = []
    for hit in hits:
        row = event_row(hit, cited=hit.id in cited)
        rows.append([*row[:-1], ", ".join(shared_fields(hit.shared)), row[-1]] if with_matched else row)
    return rows


def shared_fields(shared: dict[str, Any]) -> list[str]:
    """The names of the fields a match shares with its target (attributes without their prefix)."""
    return [name.removeprefix("attributes.") for name in shared]


def format_shared(shared: dict[str, Any]) -> str:
    """Return the metadata a match shares with its target as "field=value, …"."""
    return ", ".join(f"{name.removeprefix('attributes.')}={value}" for name, value in shared.items())


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


def amount_number(amount: Any) -> float | None:
    """Return an amount as a number the table can sort; None when missing or not a number."""
    if amount is None or amount == "":
        return None
    try:
        return float(Decimal(str(amount)))
    except InvalidOperation:
        return None


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


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _code(value: Any) -> str:
    shown = value if isinstance(value, str) else json.dumps(value, default=str)
    return f"`{shown.replace('`', 'ʼ')}`"


def _escape(text: str) -> str:
    # Notes are plain text that may quote stored values: never markdown structure, HTML or links.
    return escape(text)
