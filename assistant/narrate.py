"""The offline answer: facts, themes and anomalies written as a pattern report an analyst would read.

Plain text with citation markers [#id]; every figure is formatted from a computed Fact (the checker
passes this text unchanged: tests/test_narrate.py holds it to that). Renderers add the markup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from assistant.models import Anomaly, Count, EventHit, Facts, Pattern, QueryPlan, Theme, ThemeSet, Trend

OFFLINE_NOTICE = "Offline mode: no LLM is configured, so this report is computed from the matching events."
THEMES_SHOWN = 5
ANOMALIES_SHOWN = 5
CITED_PER_THEME = 3


@dataclass(frozen=True)
class Narrative:
    """An offline answer's text: the lead finding, one pattern per theme, and the sections as streamed."""

    summary: str
    patterns: list[Pattern]
    sections: list[str] = field(default_factory=list)


def narrate(plan: QueryPlan, facts: Facts, themes: ThemeSet, anomalies: list[Anomaly],
            evidence: list[EventHit]) -> Narrative:
    """Write the pattern report: lead finding, themes, trend, anomalies, coverage."""
    if facts.matched == 0:
        summary = "No events match the filters, so there is no pattern to report."
        return Narrative(summary, [], [summary])
    summary = " ".join(_lead(facts, themes, evidence))
    patterns = [theme_pattern(t) for t in themes.themes[:THEMES_SHOWN]]
    sections = [summary, *(f"{p.title}: {p.text}" for p in patterns)]
    if facts.trend is not None:
        sections.append(describe_trend(facts.trend))
    sections += [describe_anomaly(a) for a in anomalies[:ANOMALIES_SHOWN]]
    sections.append(describe_coverage(facts))
    return Narrative(summary, patterns, sections)


def theme_pattern(theme: Theme) -> Pattern:
    """One theme as a pattern: its label, size, dominant values and its most representative events."""
    cited = theme.representative_ids[:CITED_PER_THEME]
    mostly = _values(theme.dominant[:3], theme.size)
    text = f"{theme.size} events ({_pct(theme.share * 100)})"
    text += f", mostly {mostly}" if mostly else ""
    return Pattern(title=theme.label, text=f"{text}; e.g. {_markers(cited)}", event_ids=cited)


def describe_trend(t: Trend) -> str:
    """The period against the previous one of equal length, in words, with the test's verdict."""
    days = (t.start - t.previous_start).days
    last, previous_last = t.end - dt.timedelta(days=1), t.start - dt.timedelta(days=1)
    change = "" if t.change_pct is None else f" ({t.change_pct:+.1f}%)"
    verdict = ("more than chance would explain" if t.significant else "within what chance would explain")
    text = (f"Trend: {t.count:,} events from {t.start.isoformat()} to {last.isoformat()} against "
            f"{t.previous_count:,} in the previous {days} days ({t.previous_start.isoformat()} to "
            f"{previous_last.isoformat()}){change}, {verdict} ({_p(t.p_value)}).")
    for a in t.amounts:
        text += f" Amounts in {a.currency}: {a.total:,.2f} against {a.previous_total:,.2f}."
    return text + (f" Note: {t.note}." if t.note else "")


def describe_anomaly(a: Anomaly) -> str:
    """One anomaly with its reason."""
    return f"Unusual: [#{a.event_id}] {a.reason}"


def describe_coverage(facts: Facts) -> str:
    """How much was read."""
    return (f"Coverage: {facts.matched:,} events match; the figures above count all of them, and the themes "
            f"and listed events are drawn from the {facts.evidence:,} best-ranked.")


def _lead(facts: Facts, themes: ThemeSet, evidence: list[EventHit]) -> Iterator[str]:
    yield f"{facts.matched:,} events match the filters."
    # The first dimension the filters leave open (a filtered category is 100% of itself: nothing to say).
    for dimension in ("subcategory", "category", "severity"):
        counts = facts.breakdown(dimension)
        if len(counts) > 1:
            yield f"Most common {dimension}: {_values(counts[:2], facts.matched)}."
            break
    for a in [a for a in facts.amounts if a.scope == "matched"][:1]:
        yield (f"Amounts ({a.currency or 'no currency'}): {a.total:,.2f} in total over {a.events:,} events, "
               f"median {a.median:,.2f}, up to {a.max:,.2f}.")
    for n in [n for n in facts.numeric if n.scope == "matched" and n.field.endswith(" change")][:1]:
        yield (f"{n.field.capitalize()}: median {n.median:,.2f}, from {n.min:,.2f} to {n.max:,.2f} "
               f"over {n.events:,} events.")
    if themes.themes:
        t = themes.themes[0]
        yield (f"The largest theme among the {facts.evidence:,} best-ranked, “{t.label}”, holds {t.size} of them "
               f"({_pct(t.share * 100)}) {_markers(t.representative_ids[:CITED_PER_THEME])}.")
    elif evidence:
        yield f"The best-ranked events: {_markers([h.id for h in evidence[:CITED_PER_THEME]])}."


def _p(value: float) -> str:
    return "p < 0.0001" if value < 0.0001 else f"p = {value:.4f}"


def _values(counts: list[Count], total: int) -> str:
    return ", ".join(f"{c.value} ({c.count:,}, {_pct(100 * c.count / total)})" for c in counts if total)


def _pct(value: float) -> str:
    return f"{value:.1f}%"


def _markers(ids: list[int]) -> str:
    return " ".join(f"[#{i}]" for i in ids)
