"""Example questions drawn from the events actually loaded: their commonest kinds in their latest quarters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from assistant.db import Database

EXAMPLES_MAX = 4
MAX_WORDS_LENGTH = 48  # a kind named at greater length makes an unreadable button (long CFPB product names)
_KINDS_LIMIT = 12


@dataclass(frozen=True)
class Kind:
    """A category / subcategory pair, how many events it has in a period and how many are high or critical."""

    category: str
    subcategory: str | None
    events: int
    severe: int


def example_questions(db: Database, today: dt.date | None = None) -> list[str]:
    """Up to four questions about the loaded events, each naming a kind and a period that has events."""
    before = (today or dt.date.today()) + dt.timedelta(days=1)
    quarters = [row["quarter_start"] for row in db.fetch_all("ui_count_events_by_quarter",
                                                              {"before": before, "limit": 2})]
    if not quarters:
        return []
    latest = quarters[0]
    previous = quarters[1] if len(quarters) > 1 else None
    year_start = dt.date(latest.year, 1, 1)
    return phrase_examples(
        latest=(latest, _kinds(db, latest, quarter_end(latest))),
        previous=(previous, _kinds(db, previous, quarter_end(previous))) if previous else None,
        year=(latest.year, _kinds(db, year_start, quarter_end(latest))),
    )


def phrase_examples(latest: tuple[dt.date, list[Kind]], previous: tuple[dt.date, list[Kind]] | None,
                    year: tuple[int, list[Kind]]) -> list[str]:
    """The questions, in plain words: the latest quarter's commonest kind, its most severe category, the year's
    trend of another category, and the previous quarter's commonest other kind."""
    questions: list[str] = []
    used: set[str] = set()
    quarter, kinds = latest
    named = [k for k in kinds if len(kind_words(k)) <= MAX_WORDS_LENGTH]
    if named:
        questions.append(f"{kind_words(named[0])} in {quarter_label(quarter)}")
        used.add(named[0].category)
    severe = sorted((k for k in named if k.severe and k.category not in used), key=lambda k: -k.severe)
    if severe:
        questions.append(f"high or critical {words(severe[0].category)} events in {quarter_label(quarter)}")
        used.add(severe[0].category)
    trend = [k for k in year[1] if k.category not in used and len(words(k.category)) <= MAX_WORDS_LENGTH]
    if trend:
        questions.append(f"{words(trend[0].category)} trend in {year[0]}")
        used.add(trend[0].category)
    if previous is not None:
        earlier = [k for k in previous[1] if k.category not in used and len(kind_words(k)) <= MAX_WORDS_LENGTH]
        if earlier:
            questions.append(f"{kind_words(earlier[0])} in {quarter_label(previous[0])}")
    return questions[:EXAMPLES_MAX]


def kind_words(kind: Kind) -> str:
    """A kind as an analyst says it: "card not present fraud alert events"."""
    if kind.subcategory:
        return f"{words(kind.subcategory)} {words(kind.category)} events"
    return f"{words(kind.category)} events"


def words(value: str) -> str:
    """A stored code as words: "card_not_present" -> "card not present"."""
    return " ".join(value.replace("_", " ").split())


def quarter_label(start: dt.date) -> str:
    """The quarter starting on a date, as "Q3 2026"."""
    return f"Q{(start.month - 1) // 3 + 1} {start.year}"


def quarter_end(start: dt.date) -> dt.date:
    """The first day after the quarter that starts on a date."""
    month = start.month + 3
    return dt.date(start.year + (month > 12), (month - 1) % 12 + 1, 1)


def _kinds(db: Database, start: dt.date, end: dt.date) -> list[Kind]:
    rows: list[dict[str, Any]] = db.fetch_all("ui_count_event_kinds",
                                              {"start": start, "end": end, "limit": _KINDS_LIMIT})
    return [Kind(r["category"], r["subcategory"], int(r["events"]), int(r["severe"])) for r in rows]
