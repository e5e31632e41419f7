"""Readings beyond category and subcategory: places and companies (assistant/places.py,
assistant/companies.py), a low-cardinality field's value named by its words or its meaning, and
numbers bound to a numeric attribute (assistant/quantities.py).

Every reading carries a certainty (1.0 for the stored words themselves) and says how it was read; the
planner applies it as a filter and lists it in the plan's `readings`, the first to relax when nothing
matches. Each reader also returns the spans of text it used, so that no other reader reads them again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.companies import CompanyIndex, company_spans
from assistant.meaning import NO, STOP, YES, ValueNames, field_words
from assistant.models import Filter, Reading
from assistant.phrases import joined, longest_phrases, words
from assistant.places import PlaceField, places_in_text
from assistant.quantities import quantities_in_text

# A single-word value this common names nothing by itself ("Other", "None", "Closed" is fine).
_GENERIC_VALUES = STOP | {"other", "none", "unknown", "n/a", "na", "-", "null"}
QUANTITY_MIN = 0.5  # below it a number's binding is a suggestion (a tie between fields, a bare size)
PLACE_MIN = 0.6  # below it a place is a suggestion ("Georgia" where both the state and the country are stored)


@dataclass
class Found:
    """What the readers found in one text: readings to apply, suggestions, spans used."""

    readings: list[Reading] = field(default_factory=list)
    suggestions: list[Reading] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)


def read_quantities(text: str, numeric_fields: dict[str, list[str]]) -> Found:
    """Comparisons on numeric attributes ("more than 2 million units"); a tie between fields is a suggestion."""
    found = Found()
    by_span: dict[tuple[int, int], list[Reading]] = {}
    for m in quantities_in_text(text, numeric_fields):
        op = "between" if isinstance(m.value, list) else m.op
        reading = Reading(filter=Filter(field=m.field, op=op, value=m.value), certainty=round(m.certainty, 2),
                          how=f"'{m.phrase}' bound to {field_words(m.field)}")
        by_span.setdefault((m.start, m.end), []).append(reading)
    for span, readings in by_span.items():
        found.spans.append(span)
        if len(readings) == 1 and readings[0].certainty >= QUANTITY_MIN:
            found.readings += readings
        else:
            found.suggestions += readings
    return found


def read_names(text: str, places: list[PlaceField], place_values: dict[str, list[str]],
               companies: CompanyIndex | None, other_names: list[tuple[int, int]], notes: list[str]) -> Found:
    """Places (state, country, currency fields, in the form each stores) and companies (every stored
    name of the company the text names). Other names' spans (stored categories) are not read again."""
    found = Found()
    spans = company_spans(text, companies) + other_names
    by_field: dict[str, list[tuple[str, float, str]]] = {}
    for m in places_in_text(text, places, place_values, spans):
        if not m.stored:
            notes.append(f"no stored event has {m.field} = {m.value} ('{m.phrase}'); not used as a filter")
            continue
        by_field.setdefault(m.field, []).append((m.value, m.certainty, m.phrase))
        found.spans.append((m.start, m.end))
    for name, readings in by_field.items():
        _add(found, name, readings, PLACE_MIN, "place")
    if companies is not None:
        named = companies.find(text, exclude=found.spans + other_names)
        found.spans += [(c.start, c.end) for c in named]
        if named:  # "Navient or JPMorgan Chase": one filter over every company named
            _add(found, "entity_name", [(v, c.certainty, c.phrase) for c in named for v in c.values], 0.0, "company")
    return found


def _add(found: Found, name: str, readings: list[tuple[str, float, str]], least: float, kind: str) -> None:
    """One filter for a field's values (eq, or in for several), a reading when any is uncertain."""
    values = sorted({v for v, _, _ in readings})
    certainty = min(c for _, c, _ in readings)
    f = Filter(field=name, op="eq", value=values[0]) if len(values) == 1 else Filter(field=name, op="in", value=values)
    reading = Reading(filter=f, certainty=round(certainty, 2),
                      how=f"{kind} {' / '.join(sorted({p for _, _, p in readings}))!r}")
    if certainty < least:
        found.suggestions.append(reading)
        return
    found.readings.append(reading)


def read_choices(text: str, choices: dict[str, list[str]], meaning: ValueNames | None,
                 notes: list[str]) -> Found:
    """Values of low-cardinality fields the text names: by their words (longest name wins), else by
    meaning in the context of the field's name ("sent by post" -> submitted via = Postal mail)."""
    found = Found()
    named = longest_phrases([(name, v) for name, values in choices.items() for v in values if _nameable(v)],
                            joined(text))
    by_field: dict[str, list[str]] = {}
    for name, value in named:
        # A list-valued field ("Older American, Servicemember") holds the named value inside longer ones.
        by_field.setdefault(name, []).extend(v for v in choices[name] if v == value or value in _parts(v))
    for name, values in by_field.items():
        values = sorted(set(values))
        f = Filter(field=name, op="eq", value=values[0]) if len(values) == 1 else \
            Filter(field=name, op="in", value=values)
        found.readings.append(Reading(filter=f, certainty=1.0, how=f"{' / '.join(values)} named"))
    if meaning is None:
        return found
    for name in choices:
        if name in by_field:
            continue
        meant = meaning.match(text, name, notes)[:1]  # one value: an 'in' would widen a guess
        found.readings += [Reading(filter=Filter(field=name, op="eq", value=m.value), certainty=round(m.similarity, 2),
                                   how=f"'{m.phrase}' read by meaning (similarity {m.similarity:.2f})")
                           for m in meant]
    return found


def _parts(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;|]", value)]


def _nameable(value: str) -> bool:
    """A value whose own words can name it in a question: not yes/no, not a lone common word."""
    said = words(value)
    if not said or value.strip().lower() in YES | NO:
        return False
    return len(said) > 1 or (said[0] not in _GENERIC_VALUES and len(said[0]) > 2)
