"""Facts for an answer, computed in SQL over every event the filters match and over the evidence.

Each figure is also flattened into a `Fact` under a stable key (`matched.category[fraud_alert].count`,
`trend.change_pct`, ...), so that a number in a summary can be traced to the query that produced it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from psycopg import sql
from psycopg.rows import dict_row

from assistant import registry
from assistant.db import Database
from assistant.figures import fact_items
from assistant.filters import CompiledFilters, compile_filters
from assistant.models import (
    AmountStats,
    Breakdown,
    Count,
    EventHit,
    Facts,
    Filter,
    LikeContrast,
    NumericStats,
    QueryPlan,
)
from assistant.resources import query
from assistant.similar import flatten, profile_of
from assistant.trend import compute_trend

Scope = Literal["matched", "evidence"]
TOP_VALUES = 8  # values listed per dimension (every month is listed)
IDS_PER_VALUE = 20  # evidence ids kept per counted value: enough to cite, bounded for the prompt
SHARED_ATTRIBUTES = 8
_PAIR_SUFFIXES = ("_before", "_after")


def compute_facts(db: Database, plan: QueryPlan, evidence: list[EventHit], *, matched: int,
                  seed_ids: list[int] | None = None) -> Facts:
    """Breakdowns, amounts and numeric statistics over the matching events and the evidence, the trend
    against the previous period, and for "like X" what the matches share with X."""
    scopes: dict[Scope, CompiledFilters] = {"matched": compile_filters(plan.filters)}
    if evidence:
        scopes["evidence"] = compile_filters([Filter(field="id", op="in", value=[h.id for h in evidence])])
    numeric = registry.numeric_fields(db)
    facts = Facts(matched=matched, evidence=len(evidence))
    for scope, compiled in scopes.items():
        facts.breakdowns += _breakdowns(db, scope, compiled, total=matched if scope == "matched" else len(evidence))
        facts.amounts += [AmountStats(scope=scope, **row) for row in _rows(db, "facts_amounts", compiled)]
        facts.numeric += [NumericStats(scope=scope, **row)
                          for row in _rows(db, "facts_numeric", compiled, _numeric_params(numeric))]
    if evidence:
        facts.shared_attributes = [Count(value=r["value"], count=r["n"], event_ids=r["ids"][:IDS_PER_VALUE])
                                   for r in _rows(db, "facts_shared_attributes", scopes["evidence"],
                                                  {"limit": SHARED_ATTRIBUTES})]
    stored = db.fetch_one("select_event_date_range")
    facts.trend = compute_trend(db, plan, stored["first"] if stored else None)
    if plan.like is not None and seed_ids:
        facts.like = like_contrast(db, plan.like.value, seed_ids, evidence)
    facts.items = fact_items(facts, _date_range(db, scopes["matched"]))
    return facts


def like_contrast(db: Database, target: str, seed_ids: list[int], evidence: list[EventHit]) -> LikeContrast:
    """What the target's events have in common, how many matches share each of it, and where they differ."""
    profile = profile_of(db.fetch_all("select_events_by_ids", {"ids": seed_ids[:1000]}))
    shared: list[Count] = []
    differing: list[Count] = []
    flat = [(h.id, flatten(h.fields)) for h in evidence]
    for name, value in profile.items():
        same = [i for i, f in flat if f.get(name) == value]
        shared.append(Count(value=f"{name} = {value}", count=len(same), event_ids=same[:IDS_PER_VALUE]))
        if 2 * len(same) < len(flat):
            others: dict[Any, list[int]] = {}
            for i, f in flat:
                if f.get(name) not in (None, "", value):
                    others.setdefault(f.get(name), []).append(i)
            if others:
                other, ids = max(others.items(), key=lambda kv: (len(kv[1]), str(kv[0])))
                differing.append(Count(value=f"{name} = {other}", count=len(ids), event_ids=ids[:IDS_PER_VALUE]))
    return LikeContrast(target=target, target_events=len(seed_ids), profile={k: str(v) for k, v in profile.items()},
                        shared=sorted(shared, key=lambda c: -c.count), differing=differing)


def _breakdowns(db: Database, scope: Scope, compiled: CompiledFilters, total: int) -> list[Breakdown]:
    params = {"limit": TOP_VALUES, "ids_per_value": IDS_PER_VALUE if scope == "evidence" else 0}
    groups: dict[str, list[Count]] = {}
    for row in _rows(db, "facts_counts", compiled, params):
        groups.setdefault(row["dimension"], []).append(
            Count(value=row["value"], count=row["n"], event_ids=row["ids"] or []))
    groups["month"] = sorted(groups.get("month", []), key=lambda c: c.value)
    timeline = groups.pop("month_category", [])
    found = [Breakdown(dimension=d, scope=scope, total=total, counts=counts) for d, counts in groups.items() if counts]
    if scope == "matched":  # the chart's series: every month and category of the whole matching set
        found.append(Breakdown(dimension="month_category", scope=scope, total=total,
                               counts=sorted(timeline, key=lambda c: c.value)))
    return found


def _numeric_params(fields: list[str]) -> dict[str, Any]:
    keys = [f.removeprefix("attributes.") for f in fields]
    pairs = sorted(k.removesuffix("_before") for k in keys
                   if k.endswith("_before") and k.removesuffix("_before") + "_after" in keys)
    return {"fields": keys, "pair_names": pairs, "befores": [p + "_before" for p in pairs],
            "afters": [p + "_after" for p in pairs]}


def _rows(db: Database, name: str, compiled: CompiledFilters, params: dict[str, Any] | None = None
          ) -> list[dict[str, Any]]:
    statement = sql.SQL(query(name)).format(where=compiled.where)
    with db.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(statement, {**compiled.params, **(params or {})})
        return cur.fetchall()


def _date_range(db: Database, compiled: CompiledFilters) -> tuple[dt.date | None, dt.date | None]:
    rows = _rows(db, "facts_date_range", compiled)
    return (rows[0]["first"], rows[0]["last"]) if rows else (None, None)
