"""Companies a question names the way people say them ("Citi", "wells fargo"), read as stored legal names."""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cleanco import prepare_default_terms  # type: ignore[import-untyped]
from wordfreq import zipf_frequency

EXACT_CERTAINTY = 1.0  # the mention is a stored name once legal forms, case and punctuation are set aside
LEAD_CERTAINTY = 0.9  # the mention is the leading word(s) or a clipped first word of stored names
# A lower-case word names a company on its own only when English hardly uses it. Calibrated on
# wordfreq's Zipf scale: navient 1.6, transunion 2.0, synchrony 2.4, experian 2.4, jpmorgan 2.8,
# citi 3.05, santander 3.05, hsbc 3.1, barclays 3.2 pass; encore 3.4, midland 3.4, huntington 3.5,
# fargo 3.6, karma 3.9, wells 4.3, discover 4.4, chase 4.4, block 4.9, capital 5.0, mark 5.1 do not.
RARE_ZIPF = 3.3
# The first word of a sentence is capitalised whatever it is: there a capital counts only for a word less
# common than question verbs (show 5.7, find 5.8, list 5.3, count 4.8, explain 4.9), so "Discover
# complaints" (discover 4.4) reads DISCOVER BANK.
SENTENCE_START_ZIPF = 4.5
MIN_PREFIX = 4  # "Citi" reads "Citibank"; a shorter clipping ("Cit") says too little
_LONGEST = 8  # words in a mention; longer legal names are not said whole

# Words that lead many unrelated companies ("First National Bank of Omaha", "American Express"): alone
# they name none, the next word is needed. Connectors never start a name either.
_COMMON_LEADS = frozenset({
    "the", "a", "an", "and", "of", "&", "i", "us", "usa", "bank", "banco", "first", "american", "america",
    "national", "capital", "citizens", "united", "credit", "community", "federal", "state", "ocean", "new",
    "great", "central", "home", "security", "general", "global", "financial", "mutual", "savings", "trust",
    "north", "south", "east", "west", "northern", "southern", "eastern", "western", "pacific", "atlantic",
    "midwest", "consumer", "premier", "professional", "international", "universal", "allied", "commercial",
    "peoples", "farmers", "merchants", "money", "cash", "loan", "auto", "student", "medical", "law", "debt",
    "mortgage", "asset", "portfolio", "total", "express", "direct", "advance", "select", "choice", "quality",
    "city", "county", "collection", "collections", "recovery", "account", "accounts", "service", "services",
    "data", "fresh", "food", "foods", "farm", "farms", "golden", "star", "royal", "best", "all", "one"})
# Words after a company's own name that say what kind of business it is, not which one: a lower-case
# mention may leave them out ("capital one" is CAPITAL ONE FINANCIAL CORPORATION).
_GENERIC_TAIL = frozenset({
    "financial", "finance", "holdings", "holding", "group", "services", "service", "solutions", "intermediate",
    "information", "bank", "banks", "bancorp", "bancorporation", "bankshares", "bancshares", "national",
    "association", "na", "fsb", "us", "usa", "company", "companies", "corporation", "corp", "co", "inc",
    "international", "worldwide", "headquarters", "operations", "llc", "ltd"})
_GOES_ON = _GENERIC_TAIL | {"card", "cards", "auto", "loan", "loans", "mortgage", "student", "home", "&", "of"}
# What a clipped first word may stand before: "Citi" + "bank" / "group" / "corp", not "Citi" + "zens".
_COMPOUND_TAILS = frozenset({
    "bank", "banc", "bancorp", "group", "corp", "card", "cards", "mortgage", "financial", "finance", "credit",
    "lending", "loans", "loan", "cash", "pay", "holdings", "trust", "capital", "net", "direct", "fund"})
# Banking forms cleanco's legal-suffix list lacks ("CITIBANK, N.A.", "FLAGSTAR BANK, FSB", ", THE").
_EXTRA_LEGAL = (("na",), ("national", "association"), ("fsb",), ("the",))
# A capitalised word that makes the run of capitalised words it stands in a company's name, whatever
# place the run names: "Ohio Valley Bank", "New York Life Insurance", "Banco Popular de Puerto Rico".
_COMPANY_WORDS = frozenset({
    "bank", "banco", "bancorp", "bancshares", "bankshares", "banking", "financial", "finance", "savings", "credit",
    "insurance", "life", "mutual", "management", "services", "service", "federal", "trust", "corp", "corporation",
    "inc", "incorporated", "llc", "ltd", "company", "co", "group", "holdings", "capital", "mortgage", "loan", "loans",
    "lending", "funding", "fund", "national", "community", "union", "associates", "association", "partners",
    "investments", "securities", "assurance", "acceptance", "recovery", "collection", "collections", "foods",
    "food", "farms", "seafood", "bakery", "dairy", "produce", "brands", "products", "enterprises", "industries"})
_NAME_JOINERS = frozenset({"&", "of", "de", "del"})
_CONNECTORS = frozenset({"&", "of", "and", "the", "de"})  # inside a name, never its first or last word
# "Conopco DBA Unilever", "Populus Financial Group, Inc. (F/K/A Ace Cash Express)", "... (FNIS)": each part,
# and what stands in parentheses, is a name of the same company.
_ASIDE = re.compile(r"\(([^()]*)\)")
_ALSO_KNOWN = re.compile(r"\b(?:d\s*/\s*b\s*/\s*a|dba|f\s*/\s*k\s*/\s*a|fka|a\s*/\s*k\s*/\s*a|aka)\b\.?", re.I)
_PAIR = re.compile(r"^\s*([^\W_]{3,})/([^\W_]{3,})\s*$")  # "AES/PHEAA": two names, either said alone
_PLAIN_LEAD = re.compile(r"([a-z0-9]{3,})(?:[\s,]|$)")
_MARKS = re.compile(r"'s\b|['.]")
_WORD = re.compile(r"&|[^\W_]+")
_TOKEN = re.compile(r"&|[^\W_]+(?:['’.][^\W_]+)*(?:['’]s\b)?")
_JOINING = re.compile(r"[ \t]*(?:[-/][ \t]*)?")  # what may stand between two words of one name
_SENTENCE_BREAK = re.compile(r"[.!?;:\n(\"“]")


@dataclass(frozen=True)
class CompanyMatch:
    """Stored entity names one phrase of the question names; certainty 1.0 when it is a stored name whole."""

    values: tuple[str, ...]
    phrase: str
    start: int
    end: int
    certainty: float


@dataclass(frozen=True)
class _Token:
    norm: str
    start: int
    end: int
    capital: bool  # written with a capital first letter
    cased: bool  # ... where that says something: not the first word of a sentence, not an all-capitals text
    joins: bool  # stands right after the previous word, inside one name (a space, a hyphen, a slash)


class CompanyIndex:
    """Stored entity names, indexed by their first word for reading company mentions in questions.
    A name is read whole (legal forms, also-known-as parts) only when a question's words may name it."""

    def __init__(self, entity_names: Iterable[tuple[str, int]]) -> None:
        self._events: dict[str, int] = {}
        self._by_lead: defaultdict[str, set[str]] = defaultdict(set)  # first word of a name form -> names
        self._initials: defaultdict[str, set[str]] = defaultdict(set)  # "p&g": only a whole name, never a lead
        self._sorted_leads: list[str] = []  # for clipped first words ("Citi"), sorted when first needed
        for value, events in entity_names:
            if value in self._events:
                self._events[value] = max(events, self._events[value])
                continue
            self._events[value] = events
            lead = _plain_lead(value)
            if lead is not None:
                self._by_lead[lead].add(value)
            else:
                self._add_forms(value)

    def find(self, text: str, exclude: Sequence[tuple[int, int]] = ()) -> list[CompanyMatch]:
        """Each phrase of the text that names stored companies, left to right, longest reading first."""
        tokens = _tokens(text)
        free = [not any(s < t.end and t.start < e for s, e in exclude) for t in tokens]
        found: list[CompanyMatch] = []
        i = 0
        while i < len(tokens):
            read = self._read_at(text, tokens, free, i) if free[i] and not _continues(tokens, free, i) else None
            if read is None:
                i += 1
                continue
            found.append(read)
            i += 1
            while i < len(tokens) and tokens[i].start < read.end:
                i += 1
        return found

    def _add_forms(self, value: str) -> None:
        for tokens, whole in _forms(value):
            self._by_lead[tokens[0]].add(value)
            if whole and "&" in tokens[1:-1]:  # "P&G": Procter & Gamble; "J&J": Johnson & Johnson Consumer
                amp = tokens.index("&")
                self._initials["".join(t[0] for t in tokens[: amp + 2])].add(value)

    def _read_at(self, text: str, tokens: list[_Token], free: list[bool], i: int) -> CompanyMatch | None:
        last = min(len(tokens), i + _LONGEST)
        said = _said_from(self._by_lead, "".join(t.norm for t in tokens[i:last]))
        for j in range(last, i, -1):
            window = tokens[i:j]
            if not all(free[i:j]) or not all(t.joins for t in window[1:]) or window[-1].norm in _CONNECTORS:
                continue
            values, certainty = self._reading(window, said)
            goes_on = j < len(tokens) and tokens[j].joins and tokens[j].capital
            if not values and not goes_on:
                values, certainty = self._initials.get("".join(t.norm for t in window), set()), LEAD_CERTAINTY
            # "New York Life Insurance" is no New York Community Bank: a name read by its lead must end
            # where the written name ends, or go on only with words of a kind ("Santander Bank").
            if certainty < EXACT_CERTAINTY and goes_on and tokens[j].cased and tokens[j].norm not in _GOES_ON:
                continue
            if values:
                ranked = tuple(sorted(values, key=lambda v: (-self._events[v], v)))
                return CompanyMatch(ranked, text[window[0].start:window[-1].end], window[0].start,
                                    window[-1].end, certainty)
        return None

    def _reading(self, window: list[_Token], said: dict[int, _Said]) -> tuple[set[str], float]:
        key = "".join(t.norm for t in window)
        exact, lead, plain = said.get(len(key), (set(), set(), set()))
        if len(window) == 1 or key in self._by_lead:
            values = self._one_word(window, key, exact | lead)
        elif _cased(window) or any(_rare(t.norm) for t in window if t.norm not in _CONNECTORS):
            values = exact | lead
        else:
            values = exact | plain
        return values, EXACT_CERTAINTY if values & exact else LEAD_CERTAINTY

    def _one_word(self, window: list[_Token], key: str, values: set[str]) -> set[str]:
        """A single word (or one split in two, "Trans Union"): said as a name, or too rare to be English."""
        if key in _COMMON_LEADS or len(key) < 2 or not (_cased(window) or _rare(key)):
            return set()
        if not values and len(window) == 1 and window[0].capital and len(key) >= MIN_PREFIX:
            return self._clipped(key)
        return values

    def _clipped(self, key: str) -> set[str]:
        """Names whose first word is the key and a word of a kind: "Citi" -> Citibank, Citigroup, not Citizens."""
        if not self._sorted_leads:
            self._sorted_leads = sorted(self._by_lead)
        found: set[str] = set()
        for lead in self._sorted_leads[bisect.bisect_left(self._sorted_leads, key):]:
            if not lead.startswith(key):
                break
            if lead[len(key):] in _COMPOUND_TAILS:
                found |= self._by_lead[lead]
        return found


_Said = tuple[set[str], set[str], set[str]]  # names said whole, by a lead, by a lead before generic words


def _said_from(by_lead: dict[str, set[str]], said: str) -> dict[int, _Said]:
    """What the words said from one place on name, by how much of them (joined) they take: the names
    whose form is that much whole, begins with it, or begins with it before generic words only."""
    found: dict[int, _Said] = {}
    names = {v for end in range(1, len(said) + 1) for v in by_lead.get(said[:end], ())}
    for value in names:
        for tokens, whole in _forms(value):
            joined = ""
            for k, token in enumerate(tokens):
                joined += token
                if not said.startswith(joined):
                    break
                exact, lead, plain = found.setdefault(len(joined), (set(), set(), set()))
                if whole and k == len(tokens) - 1:
                    exact.add(value)
                    continue
                lead.add(value)
                if whole and all(t in _GENERIC_TAIL for t in tokens[k + 1:]):
                    plain.add(value)
    return found


def company_spans(text: str, index: CompanyIndex | None = None) -> list[tuple[int, int]]:
    """Where the text writes a company's name: stored names the index reads there, and runs of capitalised
    words holding a company word. A place inside one is part of the name ("Ohio Valley Bank")."""
    spans = [(m.start, m.end) for m in index.find(text)] if index is not None else []
    run: list[_Token] = []
    for t in [*_tokens(text), None]:
        if t is not None and run and t.joins and (t.capital or t.norm in _NAME_JOINERS):
            run.append(t)
            continue
        while run and run[-1].norm in _NAME_JOINERS:
            run.pop()
        if len(run) > 1 and any(w.norm in _COMPANY_WORDS for w in run):
            spans.append((run[0].start, run[-1].end))
        run = [t] if t is not None and t.capital else []
    return spans


def companies_in_text(text: str, entity_names: Sequence[tuple[str, int]],
                      exclude: Sequence[tuple[int, int]] = ()) -> list[CompanyMatch]:
    """Companies the text names, as stored entity names; build a CompanyIndex once to read many texts."""
    return CompanyIndex(entity_names).find(text, exclude)


def name_forms(value: str) -> tuple[tuple[str, ...], ...]:
    """The word forms a stored name is said by: legal forms removed, each also-known-as part on its own,
    and without leading initials ("The J.M. Smucker Company": jm smucker, smucker)."""
    return tuple(tokens for tokens, _ in _forms(value))


# A name is read when a question may name it (a special one when indexed), once in a process.
@functools.lru_cache(maxsize=1 << 16)
def _forms(value: str) -> tuple[tuple[tuple[str, ...], bool], ...]:
    """name_forms, each marked whole, or short of its initials."""
    folded = _fold(value)
    if "(" not in folded and "/" not in folded and not _maybe_aka(folded):  # most names: one part
        return _part_forms(folded)
    pair = _PAIR.match(folded)
    aside = _ASIDE.findall(folded)
    parts = [part for chunk in [_ASIDE.sub(" ", folded), *aside] for part in _ALSO_KNOWN.split(chunk)]
    forms = [form for part in [*parts, *(pair.groups() if pair else ())] for form in _part_forms(part)]
    return tuple(dict.fromkeys(forms))


def _plain_lead(value: str) -> str | None:
    """The first word of a name that needs no reading to know it ("Navient Solutions, LLC." -> navient);
    None for the others: accents, marks, initials, also-known-as parts."""
    low = value.strip().lower()
    if not low.isascii() or any(c in low for c in "(/&'_") or _maybe_aka(low):
        return None
    plain = _PLAIN_LEAD.match(low[4:] if low.startswith("the ") else low)
    return plain[1] if plain else None


def _maybe_aka(low: str) -> bool:
    return "dba" in low or "ka " in low or low.endswith("ka")


def _part_forms(folded: str) -> tuple[tuple[tuple[str, ...], bool], ...]:
    if "'" in folded or "." in folded:  # "reser's" -> reser, "n.a." -> na, as _norm reads a question's words
        folded = _MARKS.sub("", folded)
    tokens = _strip_legal(tuple(_WORD.findall(folded)))
    if tokens and tokens[0] == "the":
        tokens = tokens[1:]
    if not tokens or (len(tokens) < 5 and tokens in _legal_forms()) or (len(tokens) == 1 and len(tokens[0]) < 2):
        return ()
    # "The J.M. Smucker Company" is said "Smucker's": leading initials ("J.M.", "JM", "R J") may be left out.
    initials = 0
    while initials < len(tokens) - 1 and len(tokens[initials]) <= 2 and tokens[initials].isalpha():
        initials += 1
    rest = tokens[initials:]
    if initials and len(rest[0]) >= MIN_PREFIX and rest[0] not in _COMMON_LEADS and rest[0] not in _GENERIC_TAIL:
        return (tokens, True), (rest, False)
    return ((tokens, True),)


@functools.cache
def _legal_forms() -> frozenset[tuple[str, ...]]:
    terms = {tuple(_norm(w) for w in words) for _, words in prepare_default_terms()}
    return frozenset(terms | set(_EXTRA_LEGAL))


@functools.cache
def _legal_ends() -> frozenset[str]:
    return frozenset(form[-1] for form in _legal_forms())


def _strip_legal(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Legal forms removed from the end, repeatedly: "JPMORGAN CHASE & CO." -> jpmorgan chase."""
    legal, ends = _legal_forms(), _legal_ends()
    while len(tokens) > 1 and tokens[-1] in ends:
        cut = next((n for n in (4, 3, 2, 1) if len(tokens) > n and tokens[-n:] in legal), 0)
        if not cut:
            break
        tokens = tokens[:-cut]
    return tokens


def _fold(text: str) -> str:
    """Lower case without accents, one apostrophe."""
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.lower().replace("’", "'")


def _clean(word: str) -> str:
    """Apostrophes, dots and a possessive 's set aside: "reser's" -> reser, "n.a" -> na."""
    if word.endswith("'s"):
        word = word[:-2]
    return word.replace("'", "").replace(".", "")


def _norm(word: str) -> str:
    """A word as the index holds it: "Reser's" -> reser, "N.A." -> na, "Société" -> societe."""
    return _clean(_fold(word))


def _tokens(text: str) -> list[_Token]:
    shouting = not any(c.islower() for c in text)
    tokens: list[_Token] = []
    for m in _TOKEN.finditer(text):
        gap = text[tokens[-1].end:m.start()] if tokens else "."
        opens = bool(_SENTENCE_BREAK.search(gap)) and not (tokens and len(tokens[-1].norm) <= 2 and gap == ". ")
        joins = bool(tokens) and (_JOINING.fullmatch(gap) is not None or (len(tokens[-1].norm) <= 2 and gap == ". "))
        capital = m[0][0].isupper()
        tokens.append(_Token(_norm(m[0]), m.start(), m.end(), capital, capital and not shouting and not opens, joins))
    return tokens


def _continues(tokens: list[_Token], free: list[bool], i: int) -> bool:
    """The word goes on a name begun before it ("Block" in "H&R Block", "Valley" in "Ohio Valley Bank")."""
    if i == 0 or not tokens[i].joins or not free[i - 1]:
        return False
    before = tokens[i - 1]
    return before.norm == "&" or (before.norm not in _CONNECTORS and before.cased)


def _cased(window: list[_Token]) -> bool:
    """Written as a name: every word capitalised (connectors aside), and not only by position."""
    content = [t for t in window if t.norm not in _CONNECTORS]
    if not content or not all(t.capital for t in content):
        return False
    return any(t.cased for t in content) or (len(content) == 1 and _rare(content[0].norm, SENTENCE_START_ZIPF))


@functools.lru_cache(maxsize=4096)
def _rare(word: str, below: float = RARE_ZIPF) -> bool:
    """Hardly used in English, nor the plural of a word that is ("bureaus": bureau 4.4)."""
    common = zipf_frequency(word, "en") >= below
    return not common and not (word.endswith("s") and zipf_frequency(word[:-1], "en") >= below)
