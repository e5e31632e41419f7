"""An Answer as Slack Block Kit, from its structure: every untrusted text escaped, within Slack's limits.

Event text and model text are escaped (mrkdwn.escape) and every text object is `verbatim`, so Slack
neither pings nor links anything they carry; the only links are ours (cited events in the web UI).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from assistant.models import Answer, EventHit, QueryPlan
from assistant.render.parts import Section, sections, split_citations
from assistant.slack.mrkdwn import cut, escape, link, mention, split

Block = dict[str, Any]

SECTION_MAX = 3000  # characters of a section's text
BLOCKS_MAX = 50  # blocks in one message
TEXT_MAX = 40000  # characters of a message's top-level text
FALLBACK_MAX = 3000  # the notification text is the summary's opening, not the whole answer
CONTEXT_MAX = 2000  # characters of one context element (Slack allows 3000; notes stay readable)
TITLE_MAX = 160  # characters of an event's title in the event list
EVENTS_SHOWN = 20  # listed events shown; the rest are counted
FEEDBACK_UP, FEEDBACK_DOWN, SHARE = "feedback_up", "feedback_down", "share_answer"


def answer_blocks(answer: Answer, *, ui_base_url: str | None = None, share: bool = False,
                  shared_by: str | None = None) -> list[Block]:
    """The whole answer: question, summary, patterns, trend, unusual events, caveats, filters, cited events,
    coverage and notes, then the feedback buttons (and "share to channel" for an ephemeral reply)."""
    head = [_context(f"{mention(shared_by)} shared an answer to /risk")] if shared_by and mention(shared_by) else []
    body = [_section(f"*Q:* {escape(answer.question)}")]
    for part in sections(answer):
        body += _part(part, ui_base_url)
    body += _filters(answer.plan)
    body += _events(answer, ui_base_url)
    tail = [_context(_footer(answer, ui_base_url)), _actions(answer.id, share)]
    return _fit([*head, *body], tail, ui_base_url)


def fallback_text(answer: Answer) -> str:
    """The message's notification text: the summary's opening, escaped, citation markers as #id."""
    summary = "".join(f"#{p}" if isinstance(p, int) else p for p in split_citations(answer.summary))
    return cut(escape(summary), FALLBACK_MAX)


def progress_blocks(question: str, lines: list[str]) -> list[Block]:
    """The "working…" message as the answer streams: the question, then what has happened so far."""
    shown = [escape(line) for line in lines] or ["Working on it…"]
    return [_section(f"*Q:* {escape(question)}"),
            *(_section(piece) for piece in split(cut("\n".join(shown), 3 * SECTION_MAX), SECTION_MAX)),
            _context(":hourglass_flowing_sand: working…")]


def notice_blocks(text: str) -> list[Block]:
    """A short message of ours (a failure, a confirmation) as one section; `text` is escaped here."""
    return [_section(cut(escape(text), SECTION_MAX))]


def cite(event_id: int, ui_base_url: str | None) -> str:
    """An event id as a link to the web UI's detail view when a base URL is configured, else bold."""
    if ui_base_url:
        return link(f"{ui_base_url.rstrip('/')}/?event={event_id}", f"#{event_id}")
    return f"*#{event_id}*"


def inline(text: str, ui_base_url: str | None) -> str:
    """Untrusted text escaped, its citation markers [#id] turned into event links."""
    return "".join(cite(p, ui_base_url) if isinstance(p, int) else escape(p) for p in split_citations(text))


def _part(part: Section, base: str | None) -> list[Block]:
    if part.kind in ("notice", "coverage"):
        return [_context(cut(inline(part.lines[0], base), CONTEXT_MAX))]
    if part.kind == "notes":
        return [_context(cut("*Notes:* " + "; ".join(inline(line, base) for line in part.lines), CONTEXT_MAX))]
    if part.kind == "summary":
        return [_section(piece) for piece in split(inline(part.lines[0], base), SECTION_MAX)]
    lines = [f"*{escape(part.heading)}*", *(f"• {inline(line, base)}" for line in part.lines)]
    return [_section(piece) for piece in split("\n".join(lines), SECTION_MAX)]


def _filters(plan: QueryPlan) -> list[Block]:
    filters = "; ".join(str(f) for f in plan.filters) or "none"
    like = f" · like {plan.like.kind} {plan.like.value}" if plan.like else ""
    text = f"*Filters:* {escape(filters)} · *query:* {escape(plan.query)}{escape(like)} · *as of* {plan.as_of}"
    return [_section(cut(text, SECTION_MAX))]


def _events(answer: Answer, base: str | None) -> list[Block]:
    by_id = {hit.id: hit for hit in answer.events}
    cited = [by_id[i] for i in dict.fromkeys(answer.citations) if i in by_id]
    others = [hit for hit in answer.events if hit.id not in {c.id for c in cited}]
    blocks: list[Block] = []
    room = EVENTS_SHOWN
    for heading, hits in (("Cited events", cited), ("Other listed events", others)):
        if hits and room > 0:
            lines = [f"*{heading}*", *(_event_line(hit, base) for hit in hits[:room])]
            if len(hits) > room:
                lines.append(f"…and {len(hits) - room} more")
            room -= len(hits)
            blocks += [_section(piece) for piece in split("\n".join(lines), SECTION_MAX)]
    return blocks


def _event_line(hit: EventHit, base: str | None) -> str:
    f = hit.fields
    kind = "/".join(str(v) for v in (f.get("category"), f.get("subcategory")) if v)
    entity = " ".join(str(v) for v in (f.get("entity_name"), f.get("entity_id") and f"({f['entity_id']})") if v)
    amount = " ".join(v for v in (_amount(f.get("amount")), str(f.get("currency") or "")) if v)
    facts = " · ".join(p for p in (str(f.get("occurred_at") or "")[:10], kind, str(f.get("severity") or ""),
                                   entity, amount) if p)
    title = str(f.get("title") or f.get("text") or "")
    title = title if len(title) <= TITLE_MAX else title[:TITLE_MAX - 1] + "…"
    return f"• {cite(hit.id, base)} {escape(facts)}: {escape(title)}"


def _amount(value: Any) -> str:
    try:
        return "" if value in (None, "") else f"{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value)


def _footer(answer: Answer, base: str | None) -> str:
    ui = f" · {link(base, 'open the web UI')}" if base else ""
    return f"mode: {answer.mode} · answer {answer.id}{ui}"


def _actions(answer_id: str, share: bool) -> Block:
    buttons = [_button(FEEDBACK_UP, ":thumbsup: Helpful", answer_id), _button(FEEDBACK_DOWN, ":thumbsdown: Not helpful",
                                                                               answer_id)]
    if share:
        buttons.append({**_button(SHARE, "Share to channel", answer_id), "style": "primary"})
    return {"type": "actions", "block_id": "answer_actions", "elements": buttons}


def _button(action_id: str, label: str, value: str) -> Block:
    return {"type": "button", "action_id": action_id, "value": value,
            "text": {"type": "plain_text", "text": label, "emoji": True}}


def _fit(body: list[Block], tail: list[Block], base: str | None) -> list[Block]:
    """At most BLOCKS_MAX blocks: a long answer loses its last sections and says so, with a link to the UI."""
    room = BLOCKS_MAX - len(tail)
    if len(body) <= room:
        return [*body, *tail]
    kept = body[:room - 1]
    where = f": the whole answer is in the {link(base, 'web UI')}" if base else ": ask a narrower question"
    note = _context(f":scissors: {len(body) - len(kept)} more part(s) of this answer did not fit in Slack{where}")
    return [*kept, note, *tail]


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text, "verbatim": True}]}
