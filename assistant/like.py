""""Like X": what the analyst quotes as X, and which stored event or entity it is.

Analysts quote what they see: a complaint number or case id (the event's source id, `3456789`,
`inc-20417`, `2019-F-1123`), the assistant's own event id (`#123`, `event 123`), or an entity id
(`ACC-10234`). X is looked up in all three; the plan's notes say which reading was taken. An X that
is not stored is a note, and the question is answered without it, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.db import Database
from assistant.models import LikeTarget

# X contains a digit: an id, not a word ("like fraud"). A label word before it says what kind of id it is.
_LIKE = re.compile(
    r"\b(?:like|similar\s+to|resembling)\s+(?:the\s+|that\s+|this\s+)?"
    r"(?:(?P<label>complaint|case|incident|event|recall|product|account|entity|customer|client|merchant|report"
    r"|ticket|alert|record|breach)s?\s+){0,2}(?:(?:number|no\.?|id)\s*)?"
    r"(?P<x>#?[A-Za-z0-9][\w-]*)", re.I)
_EVENT_LABELS = {"event"}
_ENTITY_LABELS = {"account", "entity", "customer", "client", "merchant"}


@dataclass(frozen=True)
class LikePhrase:
    """The X of "like X" as written, with the word that labels it ("complaint", "account") if any."""

    text: str
    label: str | None
    start: int
    end: int


@dataclass
class LikeReading:
    """What X was read as: a target, or None with a note saying why it was left out."""

    phrase: LikePhrase
    target: LikeTarget | None
    notes: list[str] = field(default_factory=list)


def find_like(question: str) -> LikePhrase | None:
    """The "like X" phrase of a question, if any."""
    for match in _LIKE.finditer(question):
        text = match["x"].rstrip("-_")
        if any(ch.isdigit() for ch in text):
            label = match["label"].lower() if match["label"] else None
            return LikePhrase(text, label, match.start("x"), match.start("x") + len(text))
    return None


def syntactic_target(phrase: LikePhrase) -> LikeTarget:
    """The target read from the text alone (no database): digits are an event id, others an entity id."""
    bare = phrase.text.lstrip("#")
    if bare.isdigit() and phrase.label not in _ENTITY_LABELS:
        return LikeTarget(kind="event", value=bare)
    return LikeTarget(kind="entity", value=bare.upper())


def resolve_like(db: Database, phrase: LikePhrase) -> LikeReading:
    """Look X up as a source id, an event id and an entity id; take the reading its label or form suggests."""
    bare = phrase.text.lstrip("#")
    number = int(bare) if bare.isdigit() and len(bare) < 19 else None
    rows = db.fetch_all("select_like_targets", {"variants": list({bare, bare.upper(), bare.lower()}), "id": number})
    found = {row["kind"]: row for row in rows}
    for kind in _preference(phrase):
        row = found.get(kind)
        if row is None:
            continue
        if kind == "entity_id":
            target = LikeTarget(kind="entity", value=row["value"])
            return LikeReading(phrase, target, [f"like {phrase.text}: entity {row['value']} ({row['events']} events)"])
        target = LikeTarget(kind="event", value=row["event_id"])
        how = "source id" if kind == "source_id" else "event id"
        others = sorted(set(found) - {kind})
        also = f"; it is also a stored {' and '.join(o.replace('_', ' ') for o in others)}" if others else ""
        return LikeReading(phrase, target, [f"like {phrase.text}: event #{row['event_id']} (by its {how}){also}"])
    return LikeReading(phrase, None, [f"{phrase.text} is not a stored event id, source id or entity id; "
                                      "the question was answered without 'like' it"])


def _preference(phrase: LikePhrase) -> tuple[str, ...]:
    if phrase.text.startswith("#") or phrase.label in _EVENT_LABELS:
        return ("event_id", "source_id", "entity_id")
    if phrase.label in _ENTITY_LABELS:
        return ("entity_id", "source_id", "event_id")
    return ("source_id", "entity_id", "event_id")
