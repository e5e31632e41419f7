"""The registry of filterable values (field_values): refreshed by ingestion, read by the planner."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.db import Database
from assistant.meaning import STOP
from assistant.plan import Vocabulary
from assistant.resources import query


@dataclass(frozen=True)
class ValueMatch:
    """A stored attribute value found in a question; score 1.0 is an exact occurrence."""

    field: str
    value: str
    events: int
    score: float


def refresh(db: Database) -> None:
    """Rebuild the registry from the stored events, atomically."""
    with db.transaction() as conn:
        conn.execute(query("refresh_field_values").encode())


def ensure_filled(db: Database) -> None:
    """Fill the registry once for a database whose events predate it."""
    state = db.fetch_one("select_registry_state")
    if state is not None and state["has_events"] and not state["filled"]:
        refresh(db)


def stored_values(db: Database, fields: Sequence[str]) -> dict[str, list[str]]:
    """The stored values of each of the given fields (an empty list for a field with none), sorted."""
    values: dict[str, list[str]] = {name: [] for name in fields}
    for row in db.fetch_all("select_stored_values", {"fields": list(fields)}):
        values[row["field"]].append(row["value"])
    return values


def names_in_text(db: Database, text: str, vocabulary: Vocabulary) -> list[ValueMatch]:
    """Attribute values and entity names the text names: by pg_trgm, or (entity names) by their
    leading word; one match per value, with its best score."""
    best: dict[tuple[str, str], ValueMatch] = {}
    for m in [*values_in_text(db, text), *entity_names_by_lead(db, text, vocabulary)]:
        if (m.field, m.value) not in best or m.score > best[m.field, m.value].score:
            best[m.field, m.value] = m
    return list(best.values())


def values_in_text(db: Database, text: str) -> list[ValueMatch]:
    """Attribute values that occur in the text, exactly or approximately (pg_trgm), best first."""
    return [ValueMatch(r["field"], r["value"], int(r["events"]), float(r["score"]))
            for r in db.fetch_all("select_values_in_text", {"text": text})]


# First words too common to name a company alone ("Bank of America", "First National"): the first two count.
_COMMON_LEADS = frozenset({"bank", "first", "american", "national", "capital", "citizens", "united", "the",
                           "credit", "community", "federal", "state", "new", "great", "central", "home",
                           "security", "general", "global", "financial", "mutual", "savings", "trust"})
LEAD_SCORE = 0.9  # an entity name read from its leading word(s): approximate, so noted in the plan


def entity_names_by_lead(db: Database, text: str, vocabulary: Vocabulary | None = None) -> list[ValueMatch]:
    """Stored entity names whose leading word (two words when the first is common or short) the
    text contains as words, scored LEAD_SCORE: "complaints about Experian" names
    "Experian Information Solutions Inc."; several names with one lead are all returned (a tie)."""
    # Written as a name: capitalised ("Experian", "Wells Fargo"), so that "we mark as fraud" never reads
    # an account holder called Mark. Question words ("Show", "Which") and the words of stored category
    # and subcategory names ("Debt collection") are never a company's lead.
    domain = STOP | {w for v in (vocabulary.categories + vocabulary.subcategories if vocabulary else [])
                     for w in re.findall(r"[a-z0-9]+", v.lower())}
    proper = {m[0].lower() for m in re.finditer(r"\b[A-Z][A-Za-z0-9]{2,}", text) if m[0].lower() not in domain}
    if not proper:
        return []
    candidates = db.fetch_all("select_entity_names_by_word", {"words": sorted(proper)})
    found = []
    for row in candidates:
        name_words = re.findall(r"[A-Za-z0-9]+", row["value"])
        lead = name_words[:2] if (name_words[0].lower() in _COMMON_LEADS or len(name_words[0]) < 4) else name_words[:1]
        pattern = r"\b" + r"\W+".join(map(re.escape, lead)) + r"\b"
        said = re.search(pattern, text, re.I)
        if len(name_words) > len(lead) and said is not None and said[0][0].isupper():
            found.append(ValueMatch("entity_name", row["value"], int(row["events"]), LEAD_SCORE))
    return found
