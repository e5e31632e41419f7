"""Edits an analyst makes to a plan on the page: remove a chip, change the dates, pick stored values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.models import Filter, QueryPlan
from assistant.ui.render import filter_text

DATE_FIELD = "occurred_at"
_DATE_OPS = ("gte", "gt", "lt", "lte", "between")
_VALUE_OPS = ("eq", "in")


@dataclass(frozen=True)
class Chip:
    """One removable chip: a label and the plan filters it stands for (a date range is one chip for two)."""

    label: str
    indices: tuple[int, ...]



def plan_chips(plan: QueryPlan) -> list[Chip]:
    """The plan's filters as chips: the date range first, as one chip, then each other filter. Labels are unique:
    the chips control holds them as its values (its × reads "Remove <label>")."""
    dates = tuple(i for i, f in enumerate(plan.filters) if _is_date(f))
    chips = [Chip(date_label(plan), dates)] if dates else []
    seen = {chip.label for chip in chips}
    for i, f in enumerate(plan.filters):
        if i not in dates:
            label = filter_text(f) if filter_text(f) not in seen else f"{filter_text(f)} ({i + 1})"
            chips.append(Chip(label, (i,)))
            seen.add(label)
    return chips


def date_label(plan: QueryPlan) -> str:
    """The plan's date range in words: "date 2025-10-01 → 2025-12-31" (both days included)."""
    start, end = date_range(plan)
    return f"date {start.isoformat() if start else '…'} → {end.isoformat() if end else '…'}"


def keep_chips(plan: QueryPlan, kept: Sequence[str]) -> QueryPlan:
    """The plan with only the filters of the kept chips (by label), noting what was removed."""
    chips = plan_chips(plan)
    keep = {i for chip in chips if chip.label in kept for i in chip.indices}
    removed = [c.label for c in chips if c.label not in kept]
    filters = [f for i, f in enumerate(plan.filters) if i in keep]
    return _edited(plan, filters, f"removed {'; '.join(removed)}" if removed else "no change")


def date_range(plan: QueryPlan) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day the plan's date filters allow (None: unbounded)."""
    start: dt.date | None = None
    end: dt.date | None = None
    for f in filter(_is_date, plan.filters):
        values = f.value if f.op == "between" and isinstance(f.value, list | tuple) else [f.value]
        days = [_day(v) for v in values]
        if f.op in ("gte", "between"):
            start = days[0]
        elif f.op == "gt":
            start = days[0] + dt.timedelta(days=1)
        if f.op == "lt":
            end = days[0] - dt.timedelta(days=1)
        elif f.op in ("lte", "between"):
            end = days[-1]
    return start, end


def with_date_range(plan: QueryPlan, start: dt.date | None, end: dt.date | None) -> QueryPlan:
    """The plan with its date filters replaced by [start, end], both days included (None: unbounded)."""
    if start and end and end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    filters = [f for f in plan.filters if not _is_date(f)]
    if start:
        filters.append(Filter(field=DATE_FIELD, op="gte", value=start.isoformat()))
    if end:
        filters.append(Filter(field=DATE_FIELD, op="lt", value=(end + dt.timedelta(days=1)).isoformat()))
    shown = f"{start or '…'} → {end or '…'}"
    return _edited(plan, filters, f"dates set to {shown}")


def field_values(plan: QueryPlan, field: str) -> list[str]:
    """The values the plan asks a field to equal (its eq and in filters)."""
    found: list[str] = []
    for f in plan.filters:
        if f.field == field and f.op in _VALUE_OPS:
            found += [str(v) for v in (f.value if isinstance(f.value, list | tuple) else [f.value])]
    return list(dict.fromkeys(found))


def with_field_values(plan: QueryPlan, field: str, values: Sequence[str]) -> QueryPlan:
    """The plan with the field's eq / in filters replaced by the chosen values (none: the field is free)."""
    filters = [f for f in plan.filters if not (f.field == field and f.op in _VALUE_OPS)]
    chosen = list(dict.fromkeys(values))
    if len(chosen) == 1:
        filters.append(Filter(field=field, op="eq", value=chosen[0]))
    elif chosen:
        filters.append(Filter(field=field, op="in", value=chosen))
    what = ", ".join(chosen) if chosen else "any value"
    return _edited(plan, filters, f"{field} set to {what}")


def parse_day(value: object) -> dt.date | None:
    """A date picker's value (a date or an ISO date or timestamp string) as a date; None when blank."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, tz=dt.UTC).date()
    return dt.date.fromisoformat(str(value).strip()[:10])


def _edited(plan: QueryPlan, filters: list[Filter], what: str) -> QueryPlan:
    """The plan with new filters; readings of filters no longer there are dropped."""
    readings = [r for r in plan.readings if r.filter in filters]
    return plan.model_copy(update={"filters": filters, "readings": readings,
                                   "notes": [*plan.notes, f"edited on the page: {what}"]})


def _is_date(f: Filter) -> bool:
    return f.field == DATE_FIELD and f.op in _DATE_OPS


def _day(value: object) -> dt.date:
    return dt.date.fromisoformat(str(value)[:10])
