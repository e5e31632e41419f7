"""Never an empty answer without a reason: when a plan's filters match nothing, find the filter that
emptied the set, drop it, and say so.

Candidates are tried in order of doubt: the readings the planner was least sure of first (approximate
names, meanings, aliases), then the other filters from the most specific kind (attributes, entities)
to the broadest (category). The date range is never dropped: an answer about another period would
answer another question, so then the notes say which days the stored events cover instead. The first
filter whose removal leaves events is dropped, and the plan's notes say which and why ("no event has
attributes.state = OH and category = Student loan; showing category = Student loan"). A plan whose
least certain reading cuts the set to almost nothing is relaxed the same way: an approximate reading
should not decide an answer alone.
"""

from __future__ import annotations

from assistant.db import Database
from assistant.filters import compile_filters
from assistant.models import Filter, QueryPlan, Reading
from assistant.retrieve import count_matching

# Kinds of filter from the most specific, dropped first, to the broadest (dates are never dropped).
_ORDER = ("attributes.", "entity_name", "entity_id", "status", "amount", "severity", "subcategory", "category")
# A reading below this certainty that leaves fewer than FEW events, where FAR_FEWER times more match
# without it, is dropped as well.
DOUBTFUL = 0.8
FEW = 3
FAR_FEWER = 20
MAX_DROPS = 3  # filters left out at most: beyond that the answer would be about another question


def relax_plan(db: Database, plan: QueryPlan) -> tuple[QueryPlan, str | None]:
    """The plan less the filters that emptied it, and the note that says so (None: unchanged). When no
    one filter alone empties the set, the most doubtful is left out and the search goes on, up to
    MAX_DROPS filters."""
    original, said = plan, []
    for _ in range(MAX_DROPS):
        matched = _count(db, plan.filters)
        if matched > 0 and not _doubtful_cut(db, plan, matched):
            break
        step = _drop_one(db, plan, matched)
        if step is None:
            break
        plan, note = step
        said.append(note)
    if _count(db, plan.filters) == 0:  # leaving filters out did not help: the plan stays as it was read
        note = "no stored event matches these filters, and none matches with the doubtful ones left out"
        if any(f.field == "occurred_at" for f in original.filters):
            span = db.fetch_one("select_event_date_range") or {}
            note += f"; the stored events run from {span.get('first')} to {span.get('last')}"
        return original.model_copy(update={"notes": [*original.notes, note]}), note
    return plan, "; ".join(said) or None


def _drop_one(db: Database, plan: QueryPlan, matched: int) -> tuple[QueryPlan, str] | None:
    """The plan less the first candidate whose removal brings events back; with none, and nothing
    matched, less the most doubtful candidate (others may have emptied the set with it)."""
    candidates = _candidates(plan)
    for dropped in candidates:
        kept = [f for f in plan.filters if f not in dropped]
        found = _count(db, kept)
        if found > matched:
            return _relaxed(plan, kept, dropped, matched, found)
    if matched > 0 or not candidates:
        return None
    kept = [f for f in plan.filters if f not in candidates[0]]
    return _relaxed(plan, kept, candidates[0], matched, 0)


def _doubtful_cut(db: Database, plan: QueryPlan, matched: int) -> bool:
    """True when the least certain reading alone cuts the events to a handful."""
    doubtful = [r for r in plan.readings if r.certainty < DOUBTFUL and r.filter in plan.filters]
    if matched >= FEW or not doubtful:
        return False
    weakest = min(doubtful, key=lambda r: r.certainty).filter
    return _count(db, [f for f in plan.filters if f != weakest]) >= FAR_FEWER * matched


def _candidates(plan: QueryPlan) -> list[list[Filter]]:
    """Groups of filters to try leaving out, most doubtful first."""
    uncertain = [r.filter for r in sorted(plan.readings, key=lambda r: r.certainty) if r.filter in plan.filters]
    rest = [f for f in plan.filters if f not in uncertain and f.field != "occurred_at"]
    rest.sort(key=_rank)
    return [[f] for f in [*uncertain, *rest]]


def _rank(f: Filter) -> int:
    for i, prefix in enumerate(_ORDER):
        if f.field.startswith(prefix):
            return i
    return len(_ORDER)


def _relaxed(plan: QueryPlan, kept: list[Filter], dropped: list[Filter], matched: int,
             found: int) -> tuple[QueryPlan, str]:
    read = {str(r.filter): r for r in plan.readings}
    said = "; ".join(f"{f}" + (f" ({read[str(f)].how})" if str(f) in read else "") for f in dropped)
    showing = "; ".join(map(str, kept)) or "no filters"
    if matched == 0:
        every = " and ".join(map(str, plan.filters))
        note = f"no event has {every}; left out {said}, showing {showing} ({found} events)"
        if found == 0:
            note = f"no event has {every}; left out {said}, the most doubtful, and looked further"
    else:
        note = (f"only {matched} event(s) match with {said}, against {found} without it; it was left out as "
                f"too uncertain to decide the answer alone, showing {showing}")
    readings = [r for r in plan.readings if r.filter not in dropped]
    suggestions = [*plan.suggestions, *[read.get(str(f)) or Reading(filter=f, certainty=1.0, how="left out: no event "
                                                                       "matched with it") for f in dropped]]
    update = {"filters": kept, "readings": readings, "notes": [*plan.notes, note], "suggestions": suggestions}
    return plan.model_copy(update=update), note


def _count(db: Database, filters: list[Filter]) -> int:
    return count_matching(db, compile_filters(filters))
