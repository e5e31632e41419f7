"""The trend of an answer: its period against the preceding period of equal length, with a rate test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from psycopg import sql
from scipy.stats import binomtest

from assistant.db import Database
from assistant.filters import compile_filters
from assistant.models import Filter, QueryPlan, Trend, TrendAmount
from assistant.resources import query

DATE_FIELD = "occurred_at"
SIGNIFICANCE = 0.05


def plan_period(plan: QueryPlan) -> tuple[dt.date, dt.date] | None:
    """The plan's date window [start, end), cut at the day after its as-of date; None without both ends."""
    start: dt.date | None = None
    end: dt.date | None = None
    for f in plan.filters:
        if f.field != DATE_FIELD:
            continue
        if f.op == "between" and isinstance(f.value, list | tuple) and len(f.value) == 2:
            start, end = _day(f.value[0]), _day(f.value[1]) + dt.timedelta(days=1)
        elif f.op in ("gte", "gt"):
            start = _day(f.value) + dt.timedelta(days=1 if f.op == "gt" else 0)
        elif f.op in ("lt", "lte"):
            end = _day(f.value) + dt.timedelta(days=1 if f.op == "lte" else 0)
    if start is not None and end is None:
        end = plan.as_of + dt.timedelta(days=1)  # "since March": up to the as-of date
    if start is None or end is None:
        return None
    end = min(end, max(start + dt.timedelta(days=1), plan.as_of + dt.timedelta(days=1)))
    return (start, end) if start < end else None


def compute_trend(db: Database, plan: QueryPlan, first_stored: dt.date | None) -> Trend | None:
    """Counts and amounts in the plan's period and the one before it, under the plan's other filters."""
    period = plan_period(plan)
    if period is None:
        return None
    start, end = period
    previous_start = previous_period_start(start, end)
    days, previous_days = (end - start).days, (start - previous_start).days
    now, before = _period(db, plan, start, end), _period(db, plan, previous_start, start)
    count, previous = sum(n for n, _ in now.values()), sum(n for n, _ in before.values())
    change = None if previous == 0 else round(100.0 * (count - previous) / previous, 1)
    # Under equal Poisson rates, this period's count given the total is Binomial(total, its share of the days).
    share = days / (days + previous_days)
    p_value = 1.0 if count + previous == 0 else float(binomtest(count, count + previous, share).pvalue)
    amounts = [TrendAmount(currency=currency, total=now.get(currency, (0, Decimal(0)))[1],
                           previous_total=before.get(currency, (0, Decimal(0)))[1])
               for currency in sorted({*now, *before}, key=lambda c: c or "") if currency is not None]
    note = None
    if first_stored is not None and first_stored > previous_start:
        note = (f"stored events begin on {first_stored.isoformat()}, after the previous period starts "
                f"({previous_start.isoformat()}): the comparison undercounts it")
    return Trend(start=start, end=end, previous_start=previous_start, count=count, previous_count=previous,
                 change_pct=change, p_value=round(p_value, 4), significant=p_value < SIGNIFICANCE,
                 amounts=amounts, note=note)


def previous_period_start(start: dt.date, end: dt.date) -> dt.date:
    """The start of the preceding period: the previous quarter for a quarter (whole calendar months are
    stepped back by months, so Q2's 91 days meet Q1's 90), else the same number of days earlier."""
    if start.day == 1 and end.day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month
        index = start.year * 12 + start.month - 1 - months
        return dt.date(index // 12, index % 12 + 1, 1)
    return start - (end - start)


def _period(db: Database, plan: QueryPlan, start: dt.date, end: dt.date) -> dict[str | None, tuple[int, Decimal]]:
    filters = [f for f in plan.filters if f.field != DATE_FIELD] + [
        Filter(field=DATE_FIELD, op="gte", value=start.isoformat()),
        Filter(field=DATE_FIELD, op="lt", value=end.isoformat())]
    compiled = compile_filters(filters)
    statement = sql.SQL(query("facts_period")).format(where=compiled.where)
    rows = db.execute(statement, compiled.params)
    return {row[0]: (int(row[1]), Decimal(row[2] or 0)) for row in rows}


def _day(value: object) -> dt.date:
    return dt.date.fromisoformat(str(value)[:10])
