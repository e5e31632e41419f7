"""Deterministic planner: a question becomes filters grounded in stored values, with dates, amounts, negations."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from assistant.dates import resolve_dates
from assistant.models import Filter, FilterOp, LikeTarget, QueryPlan

_AMOUNT = (r"(?<![#\w.,-])(?:(?:usd|eur|gbp)\s*)?[$€£]?\s?(?P<{0}>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)"
           r"\s*(?P<{0}_scale>k|m|mn|bn|thousand|million|billion)?\b(?![.,]\d)")
# "more than 3 alerts", "over 50 points": numbers that count or score things are not money.
_NOT_MONEY = (r"(?!\s*(?:%|percent|x\b|times|(?:day|week|month|quarter|year|hour|minute|point|account|alert"
              r"|event|transaction|customer|card|merchant|attempt|incident|case|complaint|chargeback|flag|user"
              r"|entit(?:y|ie)|record|login|device|item)s?\b|people))")
_COMPARISON = re.compile(
    r"(?:\b(?:(?:just|slightly|well)\s+)?(?P<cue>over|above|under|below|exceeding|(?:more|greater|less|fewer)\s+than"
    r"|at\s+(?:least|most)|no\s+(?:more|less)\s+than|upwards\s+of|in\s+excess\s+of)\s+|(?P<sign>[<>]=?)\s*)"
    + _AMOUNT.format("n") + _NOT_MONEY, re.I)
_AMOUNT_RANGE = re.compile(r"\bbetween\s+" + _AMOUNT.format("low") + r"\s*(?:and|to|-)\s*" + _AMOUNT.format("high")
                           + _NOT_MONEY, re.I)
_OPS: dict[str, FilterOp] = {
    "over": "gt", "above": "gt", "exceeding": "gt", "more than": "gt", "greater than": "gt", "upwards of": "gt",
    "in excess of": "gt", ">": "gt", "under": "lt", "below": "lt", "less than": "lt", "fewer than": "lt", "<": "lt",
    "at least": "gte", "no less than": "gte", ">=": "gte", "at most": "lte", "no more than": "lte", "<=": "lte"}
_SCALES = {"k": 3, "thousand": 3, "m": 6, "mn": 6, "million": 6, "bn": 9, "billion": 9}
# A negation reaches to the end of its clause: punctuation, or a word that starts a new condition.
_NEGATION = re.compile(
    r"(?<![\w-])(?P<cue>excluding|exclude|except(?:\s+for)?|but\s+not|without|not|other\s+than|apart\s+from)(?![\w-])"
    r"\s*(?P<scope>.*?)(?=[,.;:?!()]|\s*\b(?:in|during|for|with|on|at|from|since|over|under|above|below|between"
    r"|more|less|last|this|next|but|where|which|that|who|whose|by)\b|$)", re.I)
_SEVERITY = re.compile(
    r"\b(?:(low|medium|high|critical)[- ](?:severity|priority)|severity\s+(low|medium|high|critical)"
    r"|(critical))\b", re.I)
ENTITY_ID = re.compile(r"\b[A-Z]{2,6}-\d{2,}\b", re.I)
_LIKE = re.compile(r"\b(?:like|similar to)\s+(?:account\s+|entity\s+|event\s+)?(#?\d+|[A-Z]{2,6}-\d{2,})\b", re.I)
_GENERIC = {"alert", "alerts", "flag", "flags", "change", "changes", "event", "events", "other",
            "or", "and", "the", "of", "a", "an", "to", "not", "on", "your", "my", "i"}


@dataclass
class Vocabulary:
    """Values stored in the database that question phrases may be grounded in."""

    categories: list[str] = field(default_factory=list)
    subcategories: list[str] = field(default_factory=list)
    known_entities: set[str] = field(default_factory=set)
    # Stored attribute values found in the question: (field, value, similarity 0..1), from the registry.
    attribute_values: list[tuple[str, str, float]] = field(default_factory=list)


def make_plan(question: str, vocabulary: Vocabulary, as_of: dt.date, k: int = 20, *,
              fiscal_year_start_month: int = 1) -> QueryPlan:
    """Turn a question into a plan without an LLM; every category, subcategory and entity is a stored value."""
    notes: list[str] = []
    filters, semantic = _dates(question, as_of, fiscal_year_start_month, notes)
    wanted_text, unwanted_text = _negations(semantic, vocabulary)
    filters += _amounts(wanted_text)
    like = _like(question)
    wanted = _described(wanted_text, vocabulary, like, notes, negated=False)
    unwanted = _described(unwanted_text, vocabulary, like, notes, negated=True)
    filters += _without(wanted, unwanted) + [_negated(f) for f in unwanted]
    filters += _attribute_filters(vocabulary.attribute_values, notes)
    query = re.sub(r"\s+(?:in|during|for|from)$", "", re.sub(r"\s+", " ", semantic).strip(" ,.?")) or question
    return QueryPlan(question=question, query=query, filters=filters, like=like, k=k,
                     as_of=as_of, notes=notes)


def _dates(question: str, as_of: dt.date, fiscal_year_start_month: int,
           notes: list[str]) -> tuple[list[Filter], str]:
    """Date filters (gte start, lt end) and the question with its date phrase removed."""
    match = resolve_dates(question, as_of, fiscal_year_start_month)
    if match is None:
        return [], question
    notes += [*match.notes, match.label]
    start, stop = match.span
    return [Filter(field="occurred_at", op="gte", value=match.start.isoformat()),
            Filter(field="occurred_at", op="lt", value=match.end.isoformat())], question[:start] + " " + question[stop:]


def _amounts(text: str) -> list[Filter]:
    """Amount bounds: "over $5k" (gt 5000), "just under 10k" (lt 10000), "between $1k and $10k"."""
    found: list[Filter] = []
    for m in _AMOUNT_RANGE.finditer(text):
        low, high = sorted((_money(m["low"], m["low_scale"]), _money(m["high"], m["high_scale"])))
        found.append(Filter(field="amount", op="between", value=[_plain(low), _plain(high)]))
    for m in _COMPARISON.finditer(text):
        op = _OPS[" ".join((m["cue"] or m["sign"]).lower().split())]
        found.append(Filter(field="amount", op=op, value=_plain(_money(m["n"], m["n_scale"]))))
    return found


def _money(number: str, scale: str | None) -> Decimal:
    return Decimal(number.replace(",", "")).scaleb(_SCALES[scale.lower()] if scale else 0)


def _plain(amount: Decimal) -> str:
    """A plain decimal string: no exponent, no trailing zeros ("5000", "2.5")."""
    return format(amount.normalize(), "f")


def _negations(text: str, vocabulary: Vocabulary) -> tuple[str, str]:
    """The text without its negated clauses, and those clauses ("excluding chargebacks" -> "chargebacks")."""
    guarded = [_words(v) for v in vocabulary.categories + vocabulary.subcategories if "not" in _words(v)]
    kept: list[str] = []
    negated: list[str] = []
    at = 0
    for m in _NEGATION.finditer(text):
        if m["cue"].lower() == "not" and _in_phrase(_words(text[:m.start()]), _words(text[m.end("cue"):]), guarded):
            continue
        kept.append(text[at:m.start()])
        negated.append(m["scope"])
        at = m.end()
    return " ".join([*kept, text[at:]]), " , ".join(negated)


def _in_phrase(before: list[str], after: list[str], phrases: list[list[str]]) -> bool:
    """True when the "not" between these words belongs to a stored phrase ("card not present"): it negates nothing."""
    for words in phrases:
        i = words.index("not")
        if before[len(before) - i:] == words[:i] and after[:len(words) - i - 1] == words[i + 1:]:
            return True
    return False


def _described(text: str, vocabulary: Vocabulary, like: LikeTarget | None, notes: list[str],
               negated: bool) -> list[Filter]:
    """Severity, category, subcategory and entity filters for the stored values the text names."""
    subcategories = _values("subcategory", vocabulary.subcategories, text, distinctive=False)
    # "except score drops" excludes that subcategory, not the whole category its words point to.
    categories = _values("category", vocabulary.categories, text, distinctive=not (negated and subcategories))
    if negated:  # "other than FHA mortgages" excludes that subcategory, not the mortgage category inside its name
        named = [" ".join(_words(v)) for f in subcategories for v in _listed(f)]
        categories = [f for f in categories
                      if not all(any(" ".join(_words(v)) in n for n in named) for v in _listed(f))]
    stored_elsewhere = {value.upper() for _, value, score in vocabulary.attribute_values if score == 1.0}
    entities = _entities(text, vocabulary.known_entities, like, notes, stored_elsewhere)
    return _severity(text) + categories + subcategories + entities


def _without(wanted: list[Filter], unwanted: list[Filter]) -> list[Filter]:
    """The wanted filters less every value that is also unwanted."""
    dropped = {(f.field, v) for f in unwanted for v in _listed(f)}
    kept: list[Filter] = []
    for f in wanted:
        values = [v for v in _listed(f) if (f.field, v) not in dropped]
        if values:
            kept.append(Filter(field=f.field, op="eq", value=values[0]) if len(values) == 1
                        else Filter(field=f.field, op="in", value=values))
    return kept


def _negated(f: Filter) -> Filter:
    return Filter(field=f.field, op="ne" if f.op == "eq" else "not_in", value=f.value)


def _listed(f: Filter) -> list[str]:
    return list(f.value) if f.op == "in" else [f.value]


def _severity(question: str) -> list[Filter]:
    match = _SEVERITY.search(question)
    if not match:
        return []
    level = next(group for group in match.groups() if group).lower()
    return [Filter(field="severity", op="eq", value=level)]


def _values(field_name: str, stored: list[str], question: str, distinctive: bool) -> list[Filter]:
    """Stored values named in the question: as a phrase, or (for categories) by a word only they have."""
    words = _words(question)
    found = _longest_phrases(stored, " " + " ".join(words) + " ")
    if not found and distinctive:
        owners: dict[str, set[str]] = {}
        for value in stored:
            for word in set(_words(value)) - _GENERIC:
                owners.setdefault(word, set()).add(value)
        found = sorted({next(iter(v)) for w, v in owners.items() if len(v) == 1
                        and (w in words or w + "s" in words or (w.endswith("s") and w[:-1] in words))})
    if not found:
        return []
    if len(found) == 1:
        return [Filter(field=field_name, op="eq", value=found[0])]
    return [Filter(field=field_name, op="in", value=sorted(found))]


def _longest_phrases(stored: list[str], text: str) -> list[str]:
    """Stored values named as phrases; a value named only inside a longer named value does not count
    ("vehicle loan or lease" names that product, not also a product called "loan")."""
    spans: dict[str, tuple[int, int]] = {}
    for value in stored:
        phrase = " " + " ".join(_words(value))
        at = max(text.find(phrase + " "), text.find(phrase + "s "))
        if at >= 0:
            spans[value] = (at, at + len(phrase))
    return [v for v, (start, end) in spans.items()
            if not any(o != v and s <= start and end <= e and e - s > end - start for o, (s, e) in spans.items())]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _like(question: str) -> LikeTarget | None:
    match = _LIKE.search(question)
    if not match:
        return None
    target = match[1]
    if target.lstrip("#").isdigit():
        return LikeTarget(kind="event", value=target.lstrip("#"))
    return LikeTarget(kind="entity", value=target.upper())


def _entities(question: str, known: set[str], like: LikeTarget | None, notes: list[str],
              stored_elsewhere: set[str]) -> list[Filter]:
    ids = {m.upper() for m in ENTITY_ID.findall(question)} - stored_elsewhere  # e.g. a merchant id
    if like is not None:
        ids.discard(like.value)
    found = sorted(ids & known)
    for unknown in sorted(ids - known):
        notes.append(f"{unknown} is not a stored entity id; it was not used as a filter")
    if not found:
        return []
    if len(found) == 1:
        return [Filter(field="entity_id", op="eq", value=found[0])]
    return [Filter(field="entity_id", op="in", value=found)]


FUZZY_MIN = 0.8  # pg_trgm word similarity for a stored value to count as named in the question
_AMBIGUITY = 0.05


def _attribute_filters(found: list[tuple[str, str, float]], notes: list[str]) -> list[Filter]:
    """One eq filter per attribute whose stored value the question names; near-ties are only noted."""
    by_field: dict[str, list[tuple[str, float]]] = {}
    for name, value, score in found:
        if score >= FUZZY_MIN and _specific(value):
            by_field.setdefault(name, []).append((value, score))
    filters = []
    for name, candidates in by_field.items():
        candidates.sort(key=lambda c: -c[1])
        best, score = candidates[0]
        rivals = [v for v, s in candidates[1:] if s >= score - _AMBIGUITY]
        if rivals and score < 1.0:
            notes.append(f"{name} is ambiguous ({', '.join([best, *rivals])}); not used as a filter")
            continue
        if score < 1.0:
            notes.append(f"read as {name} = {best} (approximate match, similarity {score:.2f})")
        filters.append(Filter(field=name, op="eq", value=best))
    return filters


def _specific(value: str) -> bool:
    """Names and ids ("QuickShip Electronics", "MER-4417", "US-East"), not common words ("online")."""
    return len(_words(value)) >= 2 or any(ch.isdigit() for ch in value)
