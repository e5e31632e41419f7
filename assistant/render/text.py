"""An answer as plain text for a terminal: control characters in untrusted text are dropped."""

from __future__ import annotations

import re

from assistant.models import Answer
from assistant.render.parts import Section, sections

# Terminal escape sequences and other control characters (tab and newline are kept).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def to_text(answer: Answer) -> str:
    """The whole answer: summary, patterns, trend, unusual events, caveats, coverage and notes."""
    return "\n\n".join(_section(s) for s in sections(answer))


def clean(text: str) -> str:
    """Text with control characters removed, so that event text cannot drive the terminal."""
    return _CONTROL.sub("", text)


def _section(section: Section) -> str:
    if not section.heading:
        return clean(section.lines[0])
    return section.heading + ":\n" + "\n".join(f"  - {clean(line)}" for line in section.lines)
