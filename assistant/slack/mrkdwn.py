"""Slack mrkdwn: untrusted text escaped so that it shows as text, and questions read back from Slack's markup."""

from __future__ import annotations

import re

# Slack's markup: <@U123>, <!channel>, <#C123|name>, <http://x|label>; text arrives with &, <, > escaped.
_TOKEN = re.compile(r"<([^<>]*)>")
_ENTITY = re.compile(r"&[a-z]*;?$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def escape(text: str) -> str:
    """Escape &, < and > (Slack's rules): no mention, channel ping or link can be formed from the text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    """A link with an escaped label; the url is ours (a configured base), made safe for Slack's <url|label>."""
    safe = url.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C").replace(" ", "%20")
    return f"<{safe}|{escape(label)}>"


def mention(user_id: str) -> str:
    """<@U…> for a well-formed Slack user id, else nothing (an id from a payload is checked, not trusted)."""
    return f"<@{user_id}>" if _USER_ID.match(user_id) else ""


def question_from(text: str, bot_user_id: str | None = None) -> str:
    """The question in a message: the bot's mention removed, links and mentions as words, entities unescaped."""
    if bot_user_id:
        text = text.replace(f"<@{bot_user_id}>", " ")
    text = _TOKEN.sub(_token_words, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def cut(text: str, limit: int) -> str:
    """Mrkdwn cut to at most `limit` characters with an ellipsis, never inside a <link> or an &entity;."""
    if len(text) <= limit:
        return text
    return text[:_safe_cut(text, limit - 1)].rstrip() + "…"


def split(text: str, limit: int) -> list[str]:
    """Mrkdwn in pieces of at most `limit` characters, at line breaks or spaces (outside links) where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        at = _break_before(text, limit) or _safe_cut(text, limit)
        pieces.append(text[:at].rstrip())
        text = text[at:].lstrip()
    return [*pieces, text] if text else pieces


def _safe_cut(text: str, limit: int) -> int:
    """The longest prefix within `limit` that ends outside a <link> and an &entity;."""
    head = text[:limit]
    opened = head.rfind("<")
    if opened > head.rfind(">"):
        head = head[:opened]
    head = _ENTITY.sub("", head)
    return len(head) or limit  # a single token longer than the limit is cut where it must be


def _break_before(text: str, limit: int) -> int:
    """The last line break (else space) before `limit` that is not inside a <link>; 0 when there is none."""
    head = text[:limit]
    for sep in ("\n", " "):
        at = head.rfind(sep)
        while at > 0 and head.rfind("<", 0, at) > head.rfind(">", 0, at):
            at = head.rfind(sep, 0, at)
        if at > 0:
            return at
    return 0


def _token_words(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + (label or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        return "@" + (label or target[1:].split("^")[0])
    return label or target
