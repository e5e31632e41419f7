"""What an answer shows, in order, as plain text with citation markers [#id]: the target-neutral layout."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from assistant.models import Answer
from assistant.narrate import OFFLINE_NOTICE, describe_anomaly, describe_trend

CITATION = re.compile(r"\[#(\d+)\]")
SectionKind = Literal["notice", "summary", "patterns", "trend", "anomalies", "caveats", "coverage", "notes"]
ANOMALIES_SHOWN = 5


@dataclass(frozen=True)
class Section:
    """One part of an answer: a heading (may be empty) and its lines of plain text."""

    kind: SectionKind
    heading: str
    lines: list[str] = field(default_factory=list)


def sections(answer: Answer) -> list[Section]:
    """The lead finding first, then the themes (patterns), the trend, the anomalies, caveats, coverage, notes."""
    parts: list[Section] = []
    if answer.mode == "offline":
        parts.append(Section("notice", "", [OFFLINE_NOTICE]))
    parts.append(Section("summary", "", [answer.summary]))
    if answer.patterns:
        parts.append(Section("patterns", "Patterns", [f"{p.title}: {p.text}" + _cite_missing(p.text, p.event_ids)
                                                      for p in answer.patterns]))
    if answer.facts.trend is not None:
        parts.append(Section("trend", "Trend", [describe_trend(answer.facts.trend).removeprefix("Trend: ")]))
    if answer.anomalies:
        parts.append(Section("anomalies", "Unusual events", [describe_anomaly(a).removeprefix("Unusual: ")
                                                             for a in answer.anomalies[:ANOMALIES_SHOWN]]))
    if answer.caveats:
        parts.append(Section("caveats", "Caveats", list(answer.caveats)))
    parts.append(Section("coverage", "", [f"Coverage: {answer.coverage}."]))
    notes = [n.text for n in answer.notes if n.kind not in ("offline",)]
    if notes:
        parts.append(Section("notes", "Notes", list(dict.fromkeys(notes))))
    return parts


def split_citations(text: str) -> list[str | int]:
    """Text pieces and cited event ids, in order: a renderer escapes the one and formats the other."""
    pieces: list[str | int] = []
    last = 0
    for m in CITATION.finditer(text):
        pieces += [text[last:m.start()], int(m.group(1))]
        last = m.end()
    pieces.append(text[last:])
    return [p for p in pieces if p != ""]


def _cite_missing(text: str, ids: list[int]) -> str:
    """A pattern's event ids, as markers, when its text does not already cite them."""
    cited = {int(i) for i in CITATION.findall(text)}
    missing = [i for i in ids if i not in cited]
    return (" " + " ".join(f"[#{i}]" for i in missing)) if missing else ""
