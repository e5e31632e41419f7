"""Every figure behind an answer as a `Fact` under a stable key: what the checker holds prose to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from assistant.check import find_claims
from assistant.models import Anomaly, EventHit, Fact, FactKind, Facts, ThemeSet


def fact_items(facts: Facts, dates: tuple[dt.date | None, dt.date | None]) -> list[Fact]:
    """The facts' breakdowns, amounts, statistics, trend and "like" contrast, flattened."""
    items = [Fact(key="matched.count", label="events matching the filters", value=facts.matched, kind="count"),
             Fact(key="evidence.count", label="best-ranked events read for themes and listing",
                  value=facts.evidence, kind="count")]
    first, last = dates
    if first is not None and last is not None:
        items += [Fact(key="matched.first_day", label="first day of a matching event", value=first.isoformat(),
                       kind="date"),
                  Fact(key="matched.last_day", label="last day of a matching event", value=last.isoformat(),
                       kind="date")]
    items += [*_breakdowns(facts), *_amounts(facts), *_numeric(facts), *_shared(facts), *_trend(facts), *_like(facts)]
    return items


def theme_items(themes: ThemeSet, anomalies: list[Anomaly]) -> list[Fact]:
    """Theme sizes and shares, and anomaly scores."""
    items = [Fact(key="themes.count", label="themes found", value=len(themes.themes), kind="count")]
    for t in themes.themes:
        items += [Fact(key=f"themes[{t.id}].size", label=f"events in theme {t.id} ({t.label})", value=t.size,
                       kind="count", event_ids=t.event_ids),
                  Fact(key=f"themes[{t.id}].share", label=f"share of the evidence in theme {t.id} (%)",
                       value=round(100 * t.share, 1), kind="share")]
        for c in t.dominant:
            key = f"themes[{t.id}].dominant[{c.value}]"
            items += [Fact(key=f"{key}.count", label=f"events of theme {t.id} with {c.value}", value=c.count,
                           kind="count", event_ids=c.event_ids),
                      Fact(key=f"{key}.share", label=f"share of theme {t.id} with {c.value} (%)",
                           value=round(100 * c.count / t.size, 1) if t.size else 0.0, kind="share")]
    for a in anomalies:
        items.append(Fact(key=f"anomalies[{a.event_id}].score", label=f"how unusual event {a.event_id} is ({a.kind})",
                          value=round(a.score, 1), kind="number", event_ids=[a.event_id]))
        items += _reason_items(a)
    if anomalies:
        items.append(Fact(key="anomalies.count", label="anomalies flagged", value=len(anomalies), kind="count"))
    return items


def event_items(hits: list[EventHit]) -> list[Fact]:
    """The date and amount of each event shown to the summary: a summary may quote them."""
    items: list[Fact] = []
    for h in hits:
        day = str(h.fields.get("occurred_at") or "")[:10]
        if day:
            items.append(Fact(key=f"event[{h.id}].date", label=f"date of event {h.id}", value=day, kind="date",
                              event_ids=[h.id]))
        if h.fields.get("amount") not in (None, ""):
            items.append(Fact(key=f"event[{h.id}].amount", label=f"amount of event {h.id}",
                              value=float(Decimal(str(h.fields["amount"]))), kind="amount",
                              currency=h.fields.get("currency"), event_ids=[h.id]))
    return items


_CLAIM_KINDS: dict[str, FactKind] = {"date": "date", "amount": "amount", "percent": "share"}


def _reason_items(a: Anomaly) -> Iterator[Fact]:
    """The figures an anomaly's reason states (written by the analytics from what it computed)."""
    for n, claim in enumerate(find_claims(a.reason)):
        kind = _CLAIM_KINDS.get(claim.kind, "number")
        yield Fact(key=f"anomalies[{a.event_id}].reason[{n}]", label=f"a figure in why event {a.event_id} is unusual",
                   value=claim.value, kind=kind, currency=claim.currency, event_ids=[a.event_id])


def _breakdowns(facts: Facts) -> Iterator[Fact]:
    for b in facts.breakdowns:
        if b.dimension == "month_category":
            continue  # the chart's series: its months and categories are facts already, one by one
        for c in b.counts:
            key = f"{b.scope}.{b.dimension}[{c.value}]"
            yield Fact(key=f"{key}.count", label=f"{b.scope} events with {b.dimension} {c.value}", value=c.count,
                       kind="count", event_ids=c.event_ids)
            if b.total:
                yield Fact(key=f"{key}.share", label=f"share of {b.scope} events with {b.dimension} {c.value} (%)",
                           value=round(100 * c.count / b.total, 1), kind="share")
            if b.dimension == "month":
                yield Fact(key=f"{key}.month", label=f"a month with {b.scope} events", value=c.value, kind="date")


def _amounts(facts: Facts) -> Iterator[Fact]:
    for a in facts.amounts:
        key = f"{a.scope}.amount[{a.currency or 'none'}]"
        yield Fact(key=f"{key}.events", label=f"{a.scope} events with an amount in {a.currency}", value=a.events,
                   kind="count")
        for stat in ("total", "median", "min", "max"):
            yield Fact(key=f"{key}.{stat}", label=f"{stat} amount of {a.scope} events in {a.currency}",
                       value=float(getattr(a, stat)), kind="amount", currency=a.currency)


def _numeric(facts: Facts) -> Iterator[Fact]:
    for n in facts.numeric:
        key = f"{n.scope}.numeric[{n.field}]"
        yield Fact(key=f"{key}.events", label=f"{n.scope} events with {n.field}", value=n.events, kind="count")
        for stat in ("mean", "median", "min", "max"):
            yield Fact(key=f"{key}.{stat}", label=f"{stat} {n.field} over {n.scope} events",
                       value=round(float(getattr(n, stat)), 2), kind="number")


def _shared(facts: Facts) -> Iterator[Fact]:
    for c in facts.shared_attributes:
        yield Fact(key=f"evidence.attribute[{c.value}].count", label=f"evidence events with {c.value}",
                   value=c.count, kind="count", event_ids=c.event_ids)


def _trend(facts: Facts) -> Iterator[Fact]:
    t = facts.trend
    if t is None:
        return
    yield Fact(key="trend.count", label="events in the period", value=t.count, kind="count")
    yield Fact(key="trend.previous_count", label="events in the previous period of equal length",
               value=t.previous_count, kind="count")
    if t.change_pct is not None:
        yield Fact(key="trend.change_pct", label="change against the previous period (%)", value=t.change_pct,
                   kind="change")
    yield Fact(key="trend.days", label="days in the period", value=(t.end - t.start).days, kind="count")
    yield Fact(key="trend.previous_days", label="days in the previous period", value=(t.start - t.previous_start).days,
               kind="count")
    yield Fact(key="trend.p_value", label="p-value of the change (exact Poisson rate test)", value=t.p_value,
               kind="p_value")
    for key, day in (("start", t.start), ("last_day", t.end - dt.timedelta(days=1)),
                     ("previous_start", t.previous_start), ("previous_last_day", t.start - dt.timedelta(days=1))):
        yield Fact(key=f"trend.{key}", label=f"trend period {key.replace('_', ' ')}", value=day.isoformat(),
                   kind="date")
    for a in t.amounts:
        yield Fact(key=f"trend.amount[{a.currency}].total", label=f"amount total in the period in {a.currency}",
                   value=float(a.total), kind="amount", currency=a.currency)
        yield Fact(key=f"trend.amount[{a.currency}].previous_total", currency=a.currency, kind="amount",
                   label=f"amount total in the previous period in {a.currency}", value=float(a.previous_total))


def _like(facts: Facts) -> Iterator[Fact]:
    like = facts.like
    if like is None:
        return
    yield Fact(key="like.target_events", label=f"events of the target {like.target}", value=like.target_events,
               kind="count")
    for kind, counts in (("shared", like.shared), ("differing", like.differing)):
        for c in counts:
            yield Fact(key=f"like.{kind}[{c.value}].count", label=f"evidence events with {c.value}", value=c.count,
                       kind="count", event_ids=c.event_ids)
