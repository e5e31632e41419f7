"""An answer as markdown for the web UI: event text and model text escaped, so nothing renders as markup."""

from __future__ import annotations

import re

from assistant.models import Answer
from assistant.render.parts import Section, sections, split_citations

_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")
# What a GFM renderer (the UI's) links with no markup at all: "scheme://", "www." and e-mail addresses. A backslash
# before the ":", "." or "@" breaks the pattern and still shows the same character.
_AUTOLINK = re.compile(r"(?<=[A-Za-z]):(?=//)|(?<=[Ww]{3})\.|@")


def to_markdown(answer: Answer) -> str:
    """The whole answer: summary, patterns, trend, unusual events, caveats, coverage and notes."""
    return "\n\n".join(_section(s) for s in sections(answer))


def escape(text: str) -> str:
    """Escape markdown and HTML so that untrusted text shows as text, never as markup or links."""
    escaped = _SPECIAL.sub(r"\\\1", text)
    return _AUTOLINK.sub(lambda m: "\\" + m.group(0), escaped).replace("&", "&amp;")


def inline(text: str) -> str:
    """Escaped text with its citation markers kept as visible [#id] tokens."""
    return "".join(f"**\\[#{p}\\]**" if isinstance(p, int) else escape(p) for p in split_citations(text))


def _section(section: Section) -> str:
    if section.kind == "notice":
        return f"*{inline(section.lines[0])}*"
    if section.kind == "summary":
        return inline(section.lines[0])
    if section.kind == "coverage":
        return f"*{inline(section.lines[0])}*"
    items = "\n".join(f"- {inline(line)}" for line in section.lines)
    return f"**{escape(section.heading)}**\n{items}"
