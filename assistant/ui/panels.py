"""Pure rendering of the side panels: the chart's frame, themes, anomalies and one event in full."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from assistant.models import Anomaly, Facts, ThemeSet
from assistant.render.markdown import escape
from assistant.ui.render import format_amount, format_date, format_entity

CHART_COLUMNS = ("month", "category", "events")
_DETAIL_FIELDS = ("occurred_at", "category", "subcategory", "severity", "status", "source", "source_id", "scope")
_KIND_WORDS = {"outlier": "unlike every theme", "amount": "unusual amount", "timing": "unusual timing"}


def chart_frame(facts: Facts) -> pd.DataFrame:
    """Matching events per month and category, from the facts over every matching event, in date order."""
    rows = []
    for count in facts.breakdown("month_category"):
        month, _, category = count.value.partition(" ")
        rows.append((month, category or "(none)", count.count))
    return pd.DataFrame(rows, columns=list(CHART_COLUMNS))


def chart_title(facts: Facts) -> str:
    """The chart's caption: what it counts."""
    return f"All {facts.matched:,} matching events by month and category"


def themes_markdown(themes: ThemeSet) -> str:
    """The themes with their labels, sizes, distinctive values and most typical events; text escaped."""
    if not themes.themes:
        return "*No themes: too few similar events among the evidence.*"
    lines = [f"**{len(themes.themes)} themes** among the evidence ({themes.method})", ""]
    for theme in themes.themes:
        typical = " ".join(f"#{i}" for i in theme.representative_ids[:3])
        lines.append(f"{theme.id}. **{escape(theme.label)}** — {theme.size} events ({theme.share:.0%})")
        if theme.dominant:
            lines.append(f"   - mostly {escape(', '.join(c.value for c in theme.dominant[:3]))}")
        if typical:
            lines.append(f"   - typical: {typical}")
    if themes.unassigned:
        lines += ["", f"*{themes.unassigned} events fit no theme.*"]
    return "\n".join(lines)


def anomalies_markdown(anomalies: Sequence[Anomaly]) -> str:
    """The unusual events with their reasons, most unusual first; text escaped."""
    if not anomalies:
        return "*Nothing stands out among the evidence.*"
    ranked = sorted(anomalies, key=lambda a: a.score, reverse=True)
    lines = [f"**{len(ranked)} unusual events**", ""]
    lines += [f"- **#{a.event_id}** · {_KIND_WORDS.get(a.kind, a.kind)} (score {a.score:.1f}): {escape(a.reason)}"
              for a in ranked]
    return "\n".join(lines)


def event_markdown(event: dict[str, Any]) -> str:
    """One event in full: title, key fields, amount, entity, attributes and its whole text, all escaped."""
    title = escape(str(event.get("title") or "(untitled)"))
    lines = [f"### #{event['id']} · {title}", ""]
    lines += ["| field | value |", "|---|---|"]
    for name in _DETAIL_FIELDS:
        value = format_date(event.get(name)) if name == "occurred_at" else event.get(name)
        if value not in (None, ""):
            lines.append(f"| {name} | {_cell(value)} |")
    entity = format_entity(event.get("entity_name"), event.get("entity_id"))
    if entity:
        lines.append(f"| entity | {_cell(entity)} |")
    amount = format_amount(event.get("amount"), event.get("currency"))
    if amount:
        lines.append(f"| amount | {_cell(amount)} |")
    for key, value in sorted((event.get("attributes") or {}).items()):
        lines.append(f"| {_cell(key)} | {_cell(value)} |")
    text = escape(str(event.get("text") or "")).replace("\n", "  \n")
    return "\n".join([*lines, "", "**Text**", "", text])


def _cell(value: Any) -> str:
    return escape(str(value)).replace("\n", " ")
