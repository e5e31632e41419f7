"""Deterministic planner: a question becomes filters grounded in stored values, with dates, amounts, negations."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from assistant.amounts import amounts_in
from assistant.companies import CompanyIndex
from assistant.dates import resolve_dates
from assistant.ground import Found, read_choices, read_names, read_quantities
from assistant.like import LikeReading, find_like, syntactic_target
from assistant.meaning import MeaningMatch, ValueNames
from assistant.models import QUERY_MAX, Filter, LikeTarget, QueryPlan, Reading
from assistant.phrases import bare as _bare
from assistant.phrases import is_prose
from assistant.phrases import joined as _joined
from assistant.phrases import longest_phrases as _longest_phrases
from assistant.phrases import words as _words
from assistant.places import PlaceField

# A negation reaches to the end of its clause: punctuation, or a word that starts a new condition.
_NEGATION = re.compile(
    r"(?<![\w-])(?P<cue>excluding|exclude|except(?:\s+for)?|but\s+not|without|not|other\s+than|apart\s+from"
    r"|(?:anything|everything|all)\s+but)(?![\w-])"
    r"\s*(?P<scope>.*?)(?=[,.;:?!()]|\s*\b(?:in|during|for|with|on|at|from|since|over|under|above|below|between"
    r"|more|less|last|this|next|but|where|which|that|who|whose|by)\b|$)", re.I)
_LEVEL = r"(?:low|medium|high|critical)"
# "high severity", "severity high", "critical", "high or critical", "medium, high and critical priority",
# "high severity and above": a list needs a severity word after it, or critical among its levels.
_SEVERITY = re.compile(
    rf"\b(?:severity\s+(?P<after>{_LEVEL}(?:\s*(?:,|/|\bor\b|\band\b)\s*{_LEVEL})*)"
    rf"|(?P<levels>{_LEVEL}(?:\s*(?:,|/|,?\s*\bor\b|,?\s*\band\b)\s*{_LEVEL})*)"
    rf"(?P<word>[- ](?:severity|priority))?(?P<up>\s+(?:and|or)\s+(?:above|higher|up))?)\b", re.I)
_LEVELS = ("low", "medium", "high", "critical")
# "account ACC-1", "merchant MER-4417": the label word belongs to the id, it names no category.
_ID_LABEL = re.compile(r"\b(?:account|entity|customer|client|merchant|case|event)s?\s+#?(?=[A-Z]{0,6}-?\d)", re.I)
ENTITY_ID = re.compile(r"\b[A-Z]{2,6}-\d{2,}\b", re.I)
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
    # subcategory -> the categories it is stored under, from the registry.
    parents: dict[str, set[str]] = field(default_factory=dict)
    # The embedded category and subcategory names, for phrases no stored name matches word for word.
    meaning: ValueNames | None = None
    # "like X" looked up in the database (None: not looked up, X is read from its form alone).
    like: LikeReading | None = None
    # Low-cardinality fields (status, attributes) -> their stored values, named by words or meaning.
    choices: dict[str, list[str]] = field(default_factory=dict)
    # Numeric attribute fields -> extra words that name them: what a number may be bound to.
    numeric_fields: dict[str, list[str]] = field(default_factory=dict)
    # Fields holding places (state, country, currency) with their stored values; the stored companies.
    place_fields: list[PlaceField] = field(default_factory=list)
    place_values: dict[str, list[str]] = field(default_factory=dict)
    companies: CompanyIndex | None = None
    trigram_min: float = 0.8  # pg_trgm word similarity for an attribute value to count as named (Thresholds)


# A reading the planner was not sure of: (field, value, certainty, how it was read).
RawReading = tuple[str, str, float, str]


def make_plan(question: str, vocabulary: Vocabulary, as_of: dt.date, k: int = 20, *,
              fiscal_year_start_month: int = 1) -> QueryPlan:
    """Turn a question into a plan without an LLM; every category, subcategory and entity is a stored value."""
    notes: list[str] = []
    raw: list[RawReading] = []
    filters, semantic = _dates(question, as_of, fiscal_year_start_month, notes)
    wanted_text, unwanted_text = _negations(semantic, vocabulary)
    quantities = read_quantities(wanted_text, vocabulary.numeric_fields)
    wanted_text = _cut(wanted_text, quantities.spans)
    filters += [r.filter for r in quantities.readings] + amounts_in(wanted_text)
    like, like_text = _like(question, vocabulary, notes)
    names, unwanted_names = _names(wanted_text, vocabulary, notes), _names(unwanted_text, vocabulary, notes)
    wanted_text, unwanted_text = _cut(wanted_text, names.spans), _cut(unwanted_text, unwanted_names.spans)
    wanted = _described(wanted_text, vocabulary, like_text, notes, raw, negated=False)
    unwanted = _described(unwanted_text, vocabulary, like_text, notes, raw, negated=True)
    wanted += [r.filter for r in names.readings]
    unwanted += [r.filter for r in unwanted_names.readings]
    filters += _without(wanted, unwanted) + [_negated(f) for f in unwanted]
    said = {v.lower() for v in _values(filters)}
    # A value another filter already reads ("Class I" as the category) does not name an attribute too.
    # Choice fields are read below, by words or meaning; pg_trgm reads the longer-tailed attributes.
    named = [a for a in vocabulary.attribute_values if a[1].lower() not in said and a[0] not in vocabulary.choices]
    filters += _attribute_filters(named, vocabulary.trigram_min, notes, raw)
    choices = _choices(wanted_text, filters, vocabulary, notes)
    filters += [r.filter for r in choices.readings]
    query = re.sub(r"\s+(?:in|during|for|from)$", "", re.sub(r"\s+", " ", semantic).strip(" ,.?")) or question
    query = query[:QUERY_MAX]  # a very long question still searches, by its opening
    readings = [r for r in [*quantities.readings, *names.readings, *choices.readings] if r.certainty < 1.0]
    readings = [r for r in readings if r.filter in filters] + _attach(raw, filters)
    suggestions = [*quantities.suggestions, *names.suggestions]
    return QueryPlan(question=question, query=query, filters=filters, like=like, k=k, as_of=as_of, notes=notes,
                     readings=readings, suggestions=suggestions)


def _names(text: str, vocabulary: Vocabulary, notes: list[str]) -> Found:
    """Places and companies the text names; the stored category names in it are not read as either."""
    stored = vocabulary.categories + vocabulary.subcategories
    spans = [(m.start(), m.end()) for name in stored if re.search(r"[A-Za-z0-9]", name)
             for m in re.finditer(_name_pattern(name), text, re.I)]
    return read_names(text, vocabulary.place_fields, vocabulary.place_values, vocabulary.companies, spans, notes)


def _name_pattern(name: str) -> str:
    return r"\b" + r"\W+".join(map(re.escape, re.findall(r"[A-Za-z0-9]+", name))) + r"\b"


def _choices(text: str, filters: list[Filter], vocabulary: Vocabulary, notes: list[str]) -> Found:
    """Low-cardinality fields not yet filtered, read from the words no other filter used."""
    used = _values(filters)
    open_fields = {name: values for name, values in vocabulary.choices.items()
                   if name not in {f.field for f in filters}}
    return read_choices(_without_phrases(text, used), open_fields, vocabulary.meaning, notes)


def _values(filters: list[Filter]) -> list[str]:
    """Every value the filters name, as text (the items of a list value one by one)."""
    return [str(v) for f in filters for v in (f.value if isinstance(f.value, list) else [f.value])]


def _cut(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with the given character spans replaced by a clause break."""
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " , " + text[end:]
    return text


def _attach(raw: list[RawReading], filters: list[Filter]) -> list[Reading]:
    """Each uncertain reading, attached to the final filter that carries its value."""
    attached = []
    for name, value, certainty, how in raw:
        for f in filters:
            if f.field == name and (f.value == value or (isinstance(f.value, list) and value in f.value)):
                attached.append(Reading(filter=f, certainty=round(certainty, 2), how=how))
                break
    return attached


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


def _described(text: str, vocabulary: Vocabulary, like: str | None, notes: list[str], raw: list[RawReading],
               negated: bool) -> list[Filter]:
    """Severity, category, subcategory and entity filters for the stored values the text names."""
    # Both fields' names compete for the words: a name inside a longer named one does not count
    # ("credit card or prepaid card" is the category, not also the subcategory "credit card").
    # strength: how many words named the value (a word only it has, or a meaning, counts one).
    phrased = _longest_phrases([("category", v) for v in vocabulary.categories]
                               + [("subcategory", v) for v in vocabulary.subcategories], _joined(text))
    strength = {v: float(len(_words(_bare(v)))) for _, v in phrased}
    subs = sorted(v for name, v in phrased if name == "subcategory")
    cats = sorted(v for name, v in phrased if name == "category")
    named = list(subs)
    if not subs:  # no stored name in the words: try the meaning of the words no name used ("sanctions hits")
        unnamed = _without_phrases(text, [c for c in cats if _holds_a_name(c, vocabulary.subcategories)])
        meant = _by_meaning(vocabulary.meaning, unnamed, "subcategory", notes, raw)
        subs, named = sorted(m.value for m in meant), [m.phrase for m in meant]
        strength |= {m.value: 1.0 for m in meant}
        if negated:  # "other than conventional mortgages" excludes that kind, not every mortgage
            cats = [c for c in cats if not any(_inside(c, m.phrase) for m in meant)]
    # Words that name a subcategory do not name a category again: "score drops" is the subcategory
    # alone, "credit score drops" adds the credit category. And "except score drops" excludes that
    # subcategory, not the whole category its words point to.
    if not cats and not (negated and subs):
        # Only the words a subcategory's name shares are used up: in "complaints about fees"
        # (fee_dispute, by meaning) the word "complaints" still names the complaint category.
        used = [w for phrase in named for w in _words(phrase) if any(w in _words(v) for v in subs)]
        rest = _without_phrases(text, used)
        cats = _distinctive(vocabulary.categories, rest)
        if not cats:
            cats = sorted(m.value for m in _by_meaning(vocabulary.meaning, rest, "category", notes, raw))
        strength |= {c: 1.0 for c in cats}
    if not negated:
        cats, subs = _consistent(cats, subs, vocabulary.parents, strength, notes)
    stored_elsewhere = {value.upper() for _, value, score in vocabulary.attribute_values if score == 1.0}
    entities = _entities(text, vocabulary.known_entities, like, notes, stored_elsewhere)
    return _severity(text) + _as_filters("category", cats) + _as_filters("subcategory", subs) + entities


def _inside(name: str, phrase: str) -> bool:
    """True when the stored name's words occur, in order and together, within the phrase."""
    return f" {' '.join(_words(name))} " in f" {' '.join(_words(phrase))} "


def _holds_a_name(category: str, subcategories: list[str]) -> bool:
    """True when a subcategory's name lies inside this category's name ("title loan" in "Payday loan,
    title loan, or personal loan"): those words were used by the category and must not be read again."""
    return any(_inside(sub, category) for sub in subcategories if _words(sub) != _words(category))


def _by_meaning(meaning: ValueNames | None, text: str, field_name: str, notes: list[str],
                raw: list[RawReading]) -> list[MeaningMatch]:
    """Stored values of the field that phrases of the text mean (embedding similarity), each noted."""
    if meaning is None:
        return []
    found = meaning.match(_ID_LABEL.sub(" ", text), field_name, notes)
    for m in found:
        notes.append(f"read '{m.phrase}' as {field_name} = {m.value} (by meaning, similarity {m.similarity:.2f})")
        raw.append((field_name, m.value, m.similarity, f"'{m.phrase}' read by meaning"))
    return found


def _without_phrases(text: str, phrases: list[str]) -> str:
    """The text with the given phrases (stored names, or phrases read by meaning) cut out, compared
    stem by stem; the rest of the text is kept as written (embeddings read words, not stems)."""
    tokens = list(re.finditer(r"[a-z0-9]+", text.lower()))
    stems = [_words(t[0])[0] for t in tokens]
    cut: list[tuple[int, int]] = []
    for phrase in phrases:
        words = _words(phrase)
        for i in range(len(stems) - len(words) + 1):
            if words and stems[i:i + len(words)] == words:
                cut.append((tokens[i].start(), tokens[i + len(words) - 1].end()))
    for start, end in sorted(cut, reverse=True):
        text = text[:start] + " , " + text[end:]
    return text


def _consistent(cats: list[str], subs: list[str], parents: dict[str, set[str]], strength: dict[str, float],
                notes: list[str]) -> tuple[list[str], list[str]]:
    """A category and a subcategory that is never stored under it would together match nothing: the one
    named by fewer words goes, with a note ("high risk jurisdiction transfers": the subcategory's three
    words beat the category "Money transfer" found by one; "student loan ... federal loans": the
    category "Student loan" beats the subcategory "Loan"). On a tie the subcategory, the more specific, stays."""
    if not (cats and subs and parents):
        return cats, subs
    for cat in list(cats):
        rivals = [sub for sub in subs if cat not in parents.get(sub, set())]
        if not rivals or len(rivals) < len(subs):
            continue  # some named subcategory is stored under it: the pair is consistent
        if strength.get(cat, 1.0) > max(strength.get(sub, 1.0) for sub in rivals):
            subs = [sub for sub in subs if sub not in rivals]
            notes.append(f"subcategory {' / '.join(rivals)} was not used: no stored {cat} event has it")
        else:
            cats = [c for c in cats if c != cat]
            notes.append(f"category {cat} was not used: no stored {' or '.join(subs)} event has it")
    return cats, subs


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
    """The severity levels named: one (eq), several or "and above" (in)."""
    levels: set[str] = set()
    for m in _SEVERITY.finditer(question):
        named = re.findall(_LEVEL, (m["after"] or m["levels"]).lower())
        if not (m["after"] or m["word"] or m["up"] or "critical" in named):
            continue  # "high" alone is an adjective ("high risk jurisdiction"), not a severity
        if m["up"]:
            named = list(_LEVELS[_LEVELS.index(named[-1]):])
        levels.update(named)
    if not levels:
        return []
    ordered = [level for level in _LEVELS if level in levels]
    if len(ordered) == 1:
        return [Filter(field="severity", op="eq", value=ordered[0])]
    return [Filter(field="severity", op="in", value=ordered)]


def _as_filters(field_name: str, values: list[str]) -> list[Filter]:
    if not values:
        return []
    if len(values) == 1:
        return [Filter(field=field_name, op="eq", value=values[0])]
    return [Filter(field=field_name, op="in", value=sorted(values))]


def _distinctive(stored: list[str], text: str) -> list[str]:
    """Stored values named by a word only they have ("chargebacks" -> chargeback, "fraud" -> fraud_alert)."""
    words = set(_words(text))
    owners: dict[str, set[str]] = {}
    for value in stored:
        for word in set(_words(value)) - _GENERIC:
            owners.setdefault(word, set()).add(value)
    return sorted({next(iter(v)) for w, v in owners.items() if len(v) == 1 and w in words})


def _like(question: str, vocabulary: Vocabulary, notes: list[str]) -> tuple[LikeTarget | None, str | None]:
    """The "like X" target (looked up, or read from X's form without a database) and X as written."""
    if vocabulary.like is not None:
        notes += vocabulary.like.notes
        return vocabulary.like.target, vocabulary.like.phrase.text.lstrip("#").upper()
    phrase = find_like(question)
    if phrase is None:
        return None, None
    return syntactic_target(phrase), phrase.text.lstrip("#").upper()


def _entities(question: str, known: set[str], like: str | None, notes: list[str],
              stored_elsewhere: set[str]) -> list[Filter]:
    ids = {m.upper() for m in ENTITY_ID.findall(question)} - stored_elsewhere  # e.g. a merchant id
    if like is not None:
        ids.discard(like)
    found = sorted(ids & known)
    for unknown in sorted(ids - known):
        notes.append(f"{unknown} is not a stored entity id; it was not used as a filter")
    if not found:
        return []
    if len(found) == 1:
        return [Filter(field="entity_id", op="eq", value=found[0])]
    return [Filter(field="entity_id", op="in", value=found)]


_AMBIGUITY = 0.05


def _attribute_filters(found: list[tuple[str, str, float]], least: float, notes: list[str],
                       raw: list[RawReading]) -> list[Filter]:
    """One eq filter per attribute whose stored value the question names; near-ties are only noted."""
    by_field: dict[str, list[tuple[str, float]]] = {}
    for name, value, score in found:
        if score >= least and _specific(value):
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
            raw.append((name, best, score, "approximate match of the name"))
        filters.append(Filter(field=name, op="eq", value=best))
    return filters


def _specific(value: str) -> bool:
    """Names and ids ("QuickShip Electronics", "MER-4417", "US-East"), not common words ("online"), nor prose
    that an event stored as a value (phrases.is_prose)."""
    if is_prose(value):
        return False
    return len(_words(value)) >= 2 or any(ch.isdigit() for ch in value)
