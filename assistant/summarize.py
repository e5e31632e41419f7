"""Summaries of retrieved events: a computed pattern report offline, or an LLM's cited summary."""

from __future__ import annotations

import json
import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from assistant.errors import LLMError
from assistant.models import Count, EventHit, PatternReport, QueryPlan
from assistant.resources import prompt

CITATION = re.compile(r"\[#(\d+)\]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")
OFFLINE_NOTICE = "Offline mode: no LLM is configured, so this report is computed from the retrieved events."


def offline_summary(plan: QueryPlan, report: PatternReport, hits: list[EventHit]) -> str:
    """A markdown pattern report; every figure comes from the database's aggregates."""
    lines = [f"**{OFFLINE_NOTICE}**", "", _scope_line(plan, report)]
    if not hits:
        return "\n".join([*lines, "", "No events matched, so there is no pattern to report."])
    lines.append("")
    for label, counts in (("Categories", report.by_category), ("Severity", report.by_severity),
                          ("By month", report.by_month)):
        if counts:
            lines.append(f"- **{label}:** " + ", ".join(f"{escape(c.value)} {c.count}" for c in counts))
    lines += _cited("Shared attributes", report.shared_attributes, report.evidence)
    lines += _cited("Top entities", report.top_entities, report.evidence)
    for a in report.amounts:
        lines.append(f"- **Amounts ({a.currency or 'no currency'}):** {a.events} events, total "
                     f"{a.total:,.2f}, median {a.median:,.2f}, max {a.max:,.2f}")
    by_id = {h.id: h for h in hits}
    typical = [f"[#{i}] {_snippet(by_id[i])}" for i in report.representative_ids if i in by_id]
    if typical:
        lines += ["", "**Most representative events:**", *[f"- {t}" for t in typical]]
    return "\n".join(lines)


def llm_summary(model: BaseChatModel, plan: QueryPlan, report: PatternReport,
                hits: list[EventHit]) -> str:
    """Ask the model for a cited summary; raises LLMError if it fails or cites nothing valid."""
    messages = [
        SystemMessage(prompt("summarize_system")),
        HumanMessage(prompt("summarize_user").format(
            question=plan.question,
            plan=plan.model_dump_json(include={"filters", "query", "like", "as_of"}),
            report=report.model_dump_json(exclude={"representative_ids"}),
            events="\n".join(_event_json(h) for h in hits))),
    ]
    try:
        reply = model.invoke(messages)
    except Exception as err:  # any transport or provider failure: the caller falls back offline
        raise LLMError(f"the language model failed: {type(err).__name__}: {err}") from err
    text = reply.content if isinstance(reply.content, str) else str(reply.content)
    if not text.strip():
        raise LLMError("the language model returned an empty answer")
    return text


def citations(summary: str, allowed: set[int]) -> tuple[list[int], list[int]]:
    """Ids cited in the summary, split into (valid, not among the retrieved events)."""
    cited = list(dict.fromkeys(int(m) for m in CITATION.findall(summary)))
    return [i for i in cited if i in allowed], [i for i in cited if i not in allowed]


def strip_citations(summary: str, invalid: list[int]) -> str:
    """Remove citations of ids that were not retrieved."""
    for event_id in invalid:
        summary = summary.replace(f"[#{event_id}]", "")
    return summary


def escape(text: str) -> str:
    """Escape markdown so that event text shows as text, never as markup or links."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _scope_line(plan: QueryPlan, report: PatternReport) -> str:
    filters = "; ".join(map(str, plan.filters)) or "no filters"
    return (f"{report.matched} events match ({escape(filters)}); the figures below cover the "
            f"{report.evidence} best-ranked for “{escape(plan.query)}”.")


def _cited(label: str, counts: list[Count], total: int) -> list[str]:
    if not counts:
        return []
    shown = [f"{escape(c.value)} in {c.count} of {total} "
             + " ".join(f"[#{i}]" for i in c.event_ids[:3]) for c in counts[:5]]
    return [f"- **{label}:** " + "; ".join(shown)]


def _snippet(hit: EventHit) -> str:
    f = hit.fields
    head = f"{str(f['occurred_at'])[:10]} {f['category']}"
    text = " ".join(str(f.get("title") or f.get("text") or "").split())[:140]
    return f"{escape(head)}: {escape(text)}"


def _event_json(hit: EventHit) -> str:
    keep: dict[str, Any] = {"id": hit.id, "score": hit.score}
    keep.update({k: v for k, v in hit.fields.items() if v not in (None, {}, "")})
    keep["text"] = str(keep.get("text", ""))[:1200]
    # Escaped angle brackets (still valid JSON): event text can never close the <events> block.
    return json.dumps(keep, default=str, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
