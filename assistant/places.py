"""Places a question names (US states, countries, currencies), read in the form a field stores them."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import pycountry
from wordfreq import zipf_frequency

Kind = Literal["us_state_code", "us_state_name", "country_code2", "country_code3", "country_name", "currency_code"]
KINDS: tuple[Kind, ...] = ("us_state_code", "us_state_name", "country_code2", "country_code3", "country_name",
                           "currency_code")
Place = tuple[str, str]  # ("us", "OH"), ("country", "CA"), ("currency", "USD")

FIELD_SHARE = 0.8  # of a field's distinct values (placeholders aside) that must be places in one form
EXACT_CERTAINTY = 1.0  # an ISO name or code, as written
ALIAS_CERTAINTY = 0.9  # a spoken form ("Washington state", "the UK") or a demonym ("Canadian")
PART_CERTAINTY = 0.8  # a part named for the whole: "England" read as the United Kingdom (GB)
AMBIGUOUS_CERTAINTY = 0.5  # one phrase, two places both stored ("Georgia" the state and the country)
# A country or currency code written in capitals is read unless its lower-case form is a common English
# word (Zipf >= 4.5: it 7.0, in 7.3, no 6.4, can 6.5, all 6.5, top 5.6, try 5.5, id 4.6; usd 4.0 is read).
# Two capitals that are a US state code are always that state ("ME", "OR", "IN", "OK").
CODE_WORD_ZIPF = 4.5

_SCHEME: dict[Kind, str] = {"us_state_code": "us", "us_state_name": "us", "country_code2": "country",
                            "country_code3": "country", "country_name": "country", "currency_code": "currency"}
_CODE_KINDS = frozenset({"us_state_code", "country_code2", "country_code3", "currency_code"})
_PLACEHOLDERS = frozenset({"", "-", "--", "none", "null", "n/a", "unknown", "not provided", "other"})

# Spoken forms ISO 3166 and ISO 4217 lack. Lower-case text matches in any case; a capital, or capitals,
# must be written so ("the States", "NYC"). ISO names and codes come from pycountry, never from here.
_US_ALIASES: dict[str, tuple[str, ...]] = {
    "washington dc": ("DC",), "washington state": ("WA",), "state of washington": ("WA",),
    "new york city": ("NY",), "NYC": ("NY",), "us virgin islands": ("VI",), "carolinas": ("NC", "SC"),
    "dakotas": ("ND", "SD"),
}
# People of a state name it, plural too ("floridians' complaints").
_US_DEMONYMS = {
    "floridian": "FL", "texan": "TX", "californian": "CA", "new yorker": "NY", "ohioan": "OH", "virginian": "VA",
    "oregonian": "OR", "nevadan": "NV", "arizonan": "AZ", "coloradan": "CO", "michigander": "MI",
    "minnesotan": "MN", "pennsylvanian": "PA", "tennessean": "TN", "kentuckian": "KY", "alaskan": "AK",
    "hawaiian": "HI", "puerto rican": "PR",
}
_COUNTRY_ALIASES: dict[str, str] = {
    "US": "US", "USA": "US", "the States": "US", "UK": "GB", "Britain": "GB", "great britain": "GB",
    "Russia": "RU", "Turkey": "TR", "Holland": "NL", "ivory coast": "CI", "Burma": "MM", "Swaziland": "SZ",
    "cape verde": "CV", "east timor": "TL", "Vatican": "VA", "vatican city": "VA", "Macedonia": "MK",
    "UAE": "AE", "DRC": "CD", "dr congo": "CD", "Brunei": "BN", "Macau": "MO", "Korea": "KR",
}
# The nations of the United Kingdom are no ISO 3166-1 countries: read as GB, with less certainty.
_COUNTRY_PARTS = {"England": "GB", "Scotland": "GB", "Wales": "GB", "northern ireland": "GB"}
# pycountry has no demonyms: the commonest, written capitalised ("Polish", "French" are also other words).
_DEMONYMS: dict[str, str] = {
    "American": "US", "Canadian": "CA", "Mexican": "MX", "British": "GB", "Chinese": "CN", "Japanese": "JP",
    "Korean": "KR", "south korean": "KR", "north korean": "KP", "Indian": "IN", "German": "DE", "French": "FR",
    "Italian": "IT", "Spanish": "ES", "Dutch": "NL", "Irish": "IE", "Swiss": "CH", "Swedish": "SE",
    "Norwegian": "NO", "Danish": "DK", "Belgian": "BE", "Austrian": "AT", "Polish": "PL", "Portuguese": "PT",
    "Greek": "GR", "Turkish": "TR", "Israeli": "IL", "Brazilian": "BR", "Argentine": "AR", "Argentinian": "AR",
    "Chilean": "CL", "Colombian": "CO", "Peruvian": "PE", "Australian": "AU", "Filipino": "PH", "Vietnamese": "VN",
    "Thai": "TH", "Taiwanese": "TW", "Pakistani": "PK", "Russian": "RU", "Ukrainian": "UA", "Salvadoran": "SV",
    "Guatemalan": "GT", "Honduran": "HN", "Dominican": "DO", "Cuban": "CU", "Jamaican": "JM", "Nigerian": "NG",
    "south african": "ZA", "Indonesian": "ID", "Malaysian": "MY", "Singaporean": "SG", "Serbian": "RS",
}
_CURRENCY_ALIASES = {"euro": "EUR", "pounds sterling": "GBP", "british pounds": "GBP", "yuan": "CNY",
                     "renminbi": "CNY"}
_TOKEN = re.compile(r"(?:[^\W\d_]\.){2,}|[^\W\d_]+(?:['’][^\W\d_]+)*")


@dataclass(frozen=True)
class PlaceField:
    """A field whose stored values are places, and the form they are written in."""

    field: str
    kind: Kind


@dataclass(frozen=True)
class PlaceMatch:
    """A place the question names, as the field stores it; stored is False for a place the field lacks."""

    field: str
    value: str
    phrase: str
    start: int
    end: int
    certainty: float
    stored: bool = True


@dataclass(frozen=True)
class _Token:
    written: str  # as in the text, dots removed ("D.C." -> DC)
    norm: str
    start: int
    end: int


@dataclass(frozen=True)
class _Reading:
    place: Place
    form: tuple[str, ...]  # as it must be written: lower case reads any case, capitals must be capitals
    certainty: float
    code: bool


@dataclass
class _Catalogue:
    phrases: defaultdict[tuple[str, ...], list[_Reading]] = field(default_factory=lambda: defaultdict(list))
    forms: dict[str, dict[str, Place]] = field(default_factory=lambda: {k: {} for k in KINDS})
    canonical: dict[str, dict[Place, str]] = field(default_factory=lambda: {k: {} for k in KINDS})
    twins: dict[Place, Place] = field(default_factory=dict)  # a US territory that is also an ISO country
    longest: int = 0  # words in the longest phrase


@dataclass(frozen=True)
class _Occurrence:
    i: int
    j: int
    readings: tuple[_Reading, ...]


def place_fields(stored: dict[str, list[str]]) -> list[PlaceField]:
    """The fields whose stored values are places, each with the form most of its values take."""
    found = []
    for name, values in stored.items():
        kind = _field_kind(name, {v.strip() for v in values if v.strip().lower() not in _PLACEHOLDERS})
        if kind is not None:
            found.append(PlaceField(name, kind))
    return found


def places_in_text(text: str, fields: Sequence[PlaceField], stored: dict[str, list[str]],
                   names: Sequence[tuple[int, int]] = ()) -> list[PlaceMatch]:
    """Places the text names, each as every place field writes it, the stored value when there is one.
    names: spans of other names in the text, companies (companies.company_spans) and stored categories;
    a place inside a longer one is part of that name ("Ohio Valley Bank", "VA mortgage")."""
    cat = _catalogue()
    tokens = _tokens(text)
    lookups = {f.field: _lookup(f, stored.get(f.field, []), cat) for f in fields}
    matches: list[PlaceMatch] = []
    for o in _occurrences(text, tokens, cat):
        start, end = tokens[o.i].start, tokens[o.j - 1].end
        if not any(s <= start and end <= e and e - s > end - start for s, e in names):
            matches += _resolve(text, tokens, o, fields, lookups, cat)
    return matches


def _field_kind(name: str, values: set[str]) -> Kind | None:
    cat = _catalogue()
    # More distinct values than any form has places (entity names, free text): no places, and not read.
    if not values or len(values) * FIELD_SHARE > max(len(forms) for forms in cat.forms.values()):
        return None
    keys = {v: " ".join(_key(v)) for v in values}
    shares = {k: sum((v if k in _CODE_KINDS else keys[v]) in cat.forms[k] for v in values) / len(values)
              for k in KINDS}
    best = max(shares.values())
    tied = [k for k in KINDS if shares[k] == best]
    return None if best < FIELD_SHARE else _tie_break(name.lower(), values, tied)


def _tie_break(name: str, values: set[str], tied: list[Kind]) -> Kind:
    """Two-letter codes valid as states and as countries, "Georgia": the field's name, then its values."""
    schemes = {_SCHEME[k] for k in tied}
    if len(schemes) == 1:
        return tied[0]
    if any(w in name for w in ("state", "province", "region", "subdivision")) and "us" in schemes:
        return next(k for k in tied if _SCHEME[k] == "us")
    if any(w in name for w in ("curr", "ccy")) and "currency" in schemes:
        return next(k for k in tied if _SCHEME[k] == "currency")
    if any(w in name for w in ("countr", "nation")) or values & {"US", "USA", "United States"}:
        return next((k for k in tied if _SCHEME[k] == "country"), tied[0])
    return tied[0]  # a state before a country: the data this assistant reads is mostly American


def _value_key(kind: str, value: str) -> str:
    return value if kind in _CODE_KINDS else " ".join(_key(value))


def _lookup(place_field: PlaceField, values: list[str], cat: _Catalogue) -> dict[Place, str]:
    """Each place the field stores, and the value it stores it as."""
    forms = cat.forms[place_field.kind]
    found: dict[Place, str] = {}
    for value in values:
        place = forms.get(_value_key(place_field.kind, value.strip()))
        if place is not None:
            found.setdefault(place, value)
    return found


def _resolve(text: str, tokens: list[_Token], o: _Occurrence, fields: Sequence[PlaceField],
             lookups: dict[str, dict[Place, str]], cat: _Catalogue) -> list[PlaceMatch]:
    """The occurrence as each field writes it: its stored value, else (no field storing it) the value it
    would be stored as. A phrase naming places of two kinds ("Georgia") is read only where a field stores
    it; read in two fields at once, it is marked ambiguous."""
    start, end = tokens[o.i].start, tokens[o.j - 1].end
    ambiguous = len({_identity(r.place, cat)[0] for r in o.readings}) > 1
    found: list[tuple[PlaceField, _Reading, str, bool]] = []
    for f in fields:
        for r in (r for r in o.readings if r.place[0] == _SCHEME[f.kind]):
            value = lookups[f.field].get(r.place)
            if value is not None:
                found.append((f, r, value, True))
            elif not ambiguous:
                found.append((f, r, cat.canonical[f.kind][r.place], False))
    if any(is_stored for *_, is_stored in found):  # "Puerto Rico" stored as a state is no unstored country
        found = [m for m in found if m[3]]
    doubt = ambiguous and len({_identity(r.place, cat) for _, r, _, _ in found}) > 1
    best: dict[tuple[str, str], PlaceMatch] = {}
    for f, r, value, is_stored in found:
        match = PlaceMatch(f.field, value, text[start:end], start, end,
                           AMBIGUOUS_CERTAINTY if doubt else r.certainty, is_stored)
        if (f.field, value) not in best or match.certainty > best[f.field, value].certainty:
            best[f.field, value] = match
    return list(best.values())


def _identity(place: Place, cat: _Catalogue) -> Place:
    """Puerto Rico the country is Puerto Rico the US territory."""
    return cat.twins[place] if place[0] == "country" and place in cat.twins else place


def _occurrences(text: str, tokens: list[_Token], cat: _Catalogue) -> list[_Occurrence]:
    """Place phrases as written, none inside a longer one ("New Mexico", not Mexico)."""
    shouting = not any(c.islower() for c in text)  # in capitals throughout, "IN" and "OR" are words
    found = []
    for i in range(len(tokens)):
        key: tuple[str, ...] = ()
        for j in range(i + 1, min(len(tokens), i + cat.longest) + 1):
            key += (tokens[j - 1].norm,)
            readings = tuple(r for r in cat.phrases.get(key, ()) if _written_as(r, tokens[i:j], shouting))
            if readings:
                found.append(_Occurrence(i, j, readings))
    return [o for o in found
            if not any(p.i <= o.i and o.j <= p.j and p.j - p.i > o.j - o.i for p in found)]


def _written_as(reading: _Reading, tokens: list[_Token], shouting: bool) -> bool:
    if reading.code and shouting:
        return False
    for form, token in zip(reading.form, tokens, strict=True):
        if len(form) > 1 and form.isupper() and not token.written.isupper():
            return False
        if form[0].isupper() and not token.written[0].isupper():
            return False
    return True


def _tokens(text: str) -> list[_Token]:
    found = []
    for m in _TOKEN.finditer(text):
        written = m[0].replace(".", "")
        norm = _fold(written).replace("’", "'")
        found.append(_Token(written, norm[:-2] if norm.endswith("'s") else norm, m.start(), m.end()))
    return found


def _fold(text: str) -> str:
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.lower()


def _key(text: str) -> tuple[str, ...]:
    return tuple(t.norm for t in _tokens(text))


@functools.cache
def _catalogue() -> _Catalogue:
    """Every place's names and codes as pycountry has them, with the spoken forms above."""
    cat = _Catalogue()
    _add_states(cat)
    _add_countries(cat)
    _add_currencies(cat)
    _add_aliases(cat)
    for key, readings in cat.phrases.items():
        twins = [_Reading(cat.twins[r.place], r.form, r.certainty, r.code) for r in readings if r.place in cat.twins]
        cat.phrases[key] = list(dict.fromkeys(readings + twins))
    cat.longest = max(len(k) for k in cat.phrases)
    return cat


def _add_states(cat: _Catalogue) -> None:
    for sub in (s for s in pycountry.subdivisions if s.country_code == "US"):
        code = str(sub.code).split("-")[1]
        place = ("us", code)
        _add_name(cat, place, "us_state_name", str(sub.name), any_case=True)
        _add_code(cat, place, "us_state_code", code, in_text=True)
        cat.canonical["us_state_name"][place] = str(sub.name)
        country = pycountry.countries.get(alpha_2=code)
        if country is not None and country.name == sub.name:  # Puerto Rico, Guam, ...: a state and a country
            cat.twins[place], cat.twins[("country", code)] = ("country", code), place


def _add_countries(cat: _Catalogue) -> None:
    states = {code for _, code in cat.canonical["us_state_code"]}
    heads = Counter(str(c.name).split(", ")[0] for c in pycountry.countries)
    taken = {str(n) for c in pycountry.countries for n in (c.name, getattr(c, "common_name", None)) if n}
    for c in pycountry.countries:
        place = ("country", str(c.alpha_2))
        names = [str(n) for n in (c.name, getattr(c, "common_name", None), getattr(c, "official_name", None)) if n]
        for name in list(names):
            if ", " in name:  # "Korea, Republic of" is said "Republic of Korea"; "Iran, ..." is said "Iran"
                head, tail = name.split(", ", 1)
                names.append(re.sub(r"^[Tt]he ", "", f"{tail} {head}"))
                if heads[head] == 1 and head not in taken:
                    names.append(head)
        for name in names:
            _add_name(cat, place, "country_name", name, any_case=" " in name, also_saint=True)
        _add_code(cat, place, "country_code2", str(c.alpha_2),
                  in_text=c.alpha_2 not in states and _uncommon(str(c.alpha_2)))
        _add_code(cat, place, "country_code3", str(c.alpha_3), in_text=_uncommon(str(c.alpha_3)))
        cat.canonical["country_name"][place] = str(getattr(c, "common_name", None) or c.name)


def _add_currencies(cat: _Catalogue) -> None:
    for cur in pycountry.currencies:
        code, name = str(cur.alpha_3), str(cur.name)
        # ISO 4217 also codes precious metals, bond units and test codes: nobody's money in a question.
        if code.startswith("X") and not name.endswith(("Franc", "Dollar")):
            continue
        place = ("currency", code)
        _add_code(cat, place, "currency_code", code, in_text=_uncommon(code))
        if " " in name or _uncommon(name):  # "Won", "Real" alone are English words
            for said in (name, name + "s"):
                _add_name(cat, place, None, said, any_case=" " in name, certainty=EXACT_CERTAINTY)


def _add_aliases(cat: _Catalogue) -> None:
    """The spoken forms: names a field may store too; demonyms and capitals only said."""
    spoken: list[tuple[Place, Kind | None, str, float]] = [
        (("us", code), "us_state_name", said, ALIAS_CERTAINTY) for said, codes in _US_ALIASES.items() for code in codes]
    spoken += [(("us", code), None, said, ALIAS_CERTAINTY) for d, code in _US_DEMONYMS.items() for said in _plural(d)]
    spoken += [(("country", code), "country_name", said, ALIAS_CERTAINTY) for said, code in _COUNTRY_ALIASES.items()]
    spoken += [(("country", code), "country_name", said, PART_CERTAINTY) for said, code in _COUNTRY_PARTS.items()]
    spoken += [(("country", code), None, said, ALIAS_CERTAINTY) for d, code in _DEMONYMS.items() for said in _plural(d)]
    spoken += [(("currency", code), None, said, ALIAS_CERTAINTY) for a, code in _CURRENCY_ALIASES.items()
               for said in (a, a + "s")]
    for place, kind, said, certainty in spoken:
        upper = said.isupper()  # "UK", "NYC": read as codes are, never in a text written in capitals throughout
        _add_name(cat, place, None if upper else kind, said, any_case=said.islower(), certainty=certainty, code=upper)


def _plural(demonym: str) -> tuple[str, ...]:
    return (demonym,) if demonym.endswith(("sh", "ch", "ese", "ss")) else (demonym, demonym + "s")


def _add_name(cat: _Catalogue, place: Place, kind: Kind | None, name: str, *, any_case: bool,
              certainty: float = EXACT_CERTAINTY, also_saint: bool = False, code: bool = False) -> None:
    tokens = _tokens(name)
    key = tuple(t.norm for t in tokens)
    if not key:
        return
    cat.phrases[key].append(_Reading(place, key if any_case else tuple(t.written for t in tokens), certainty, code))
    if kind is not None:
        cat.forms[kind].setdefault(" ".join(key), place)
    if also_saint and "saint" in key:  # "Saint Lucia" is written "St. Lucia"
        _add_name(cat, place, kind, " ".join("st" if w == "saint" else w for w in key), any_case=True,
                  certainty=certainty)


def _add_code(cat: _Catalogue, place: Place, kind: Kind, code: str, *, in_text: bool) -> None:
    cat.forms[kind].setdefault(code, place)
    cat.canonical[kind].setdefault(place, code)
    if in_text:
        cat.phrases[(code.lower(),)].append(_Reading(place, (code,), EXACT_CERTAINTY, True))


def _uncommon(code: str) -> bool:
    return zipf_frequency(code.lower(), "en") < CODE_WORD_ZIPF
