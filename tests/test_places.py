"""Places read in the form a field stores them: the CFPB state codes, the FDA state and country names."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from assistant.companies import CompanyIndex, company_spans
from assistant.places import (
    ALIAS_CERTAINTY,
    AMBIGUOUS_CERTAINTY,
    EXACT_CERTAINTY,
    PART_CERTAINTY,
    PlaceField,
    place_fields,
    places_in_text,
)

from .conftest import CFPB_DIR

FDA_FILE = CFPB_DIR.parent / "fda_food_recalls" / "fda_food_recalls_2022_2026.csv"
CFPB_FILES = [CFPB_DIR / "complaints_mixed_2015_2020.csv", CFPB_DIR / "complaints_payday_2023.csv"]
Stored = dict[str, list[str]]


def _stored(files: list[str], columns: dict[str, str]) -> tuple[Stored, Counter[str]]:
    """The stored values of each field (as the registry lists them), and the entity names with their events."""
    values: dict[str, set[str]] = {name: set() for name in columns.values()}
    company = next(column for column, name in columns.items() if name == "entity_name")
    entities: Counter[str] = Counter()
    for path in files:
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                entities[row[company]] += 1
                for column, name in columns.items():
                    values[name].add(row[column])
    return {name: sorted(v) for name, v in values.items()}, entities


@pytest.fixture(scope="module")
def cfpb() -> tuple[Stored, CompanyIndex]:
    stored, entities = _stored([str(p) for p in CFPB_FILES], {
        "Company": "entity_name", "State": "attributes.state", "Product": "category",
        "Submitted via": "attributes.submitted_via", "ZIP code": "attributes.zip_code"})
    return stored, CompanyIndex(entities.items())


@pytest.fixture(scope="module")
def fda() -> tuple[Stored, CompanyIndex]:
    stored, entities = _stored([str(FDA_FILE)], {
        "Recalling Firm Name": "entity_name", "Recalling Firm State": "attributes.recalling_firm_state",
        "Recalling Firm Country": "attributes.recalling_firm_country",
        "Recalling Firm City": "attributes.recalling_firm_city",
        "Product Classification": "attributes.product_classification"})
    return stored, CompanyIndex(entities.items())


def _read(text: str, data: tuple[Stored, CompanyIndex]) -> list[tuple[str, str, str, float, bool]]:
    """(field, value, phrase, certainty, stored) of each place, company names read first as the planner does."""
    stored, index = data
    found = places_in_text(text, place_fields(stored), stored, company_spans(text, index))
    for m in found:
        assert text[m.start:m.end] == m.phrase
    return [(m.field.removeprefix("attributes."), m.value, m.phrase, m.certainty, m.stored) for m in found]


def test_cfpb_fields(cfpb: tuple[Stored, CompanyIndex]) -> None:
    """Codes OH, WA, PR, DC ("None" and "" aside; AE, AP, armed forces, are no ISO codes) are state codes."""
    assert place_fields(cfpb[0]) == [PlaceField("attributes.state", "us_state_code")]


def test_fda_fields(fda: tuple[Stored, CompanyIndex]) -> None:
    assert place_fields(fda[0]) == [PlaceField("attributes.recalling_firm_state", "us_state_name"),
                                    PlaceField("attributes.recalling_firm_country", "country_name")]


@pytest.mark.parametrize(("values", "name", "kind"), [
    (["USD", "EUR", "GBP", "JPY"], "currency", "currency_code"),
    (["USA", "CAN", "MEX", "DEU", "-"], "country", "country_code3"),
    (["US", "CA", "MX", "DE", "FR"], "country", "country_code2"),
    # valid as states and as countries alike: the field's name decides, then its values, then states
    (["CA", "GA", "IN", "PA", "DE"], "region", "us_state_code"),
    (["CA", "GA", "IN", "PA", "DE"], "country_code", "country_code2"),
    (["CA", "GA", "IN", "PA", "DE", "US"], "code", "country_code2"),
    (["CA", "GA", "IN", "PA", "DE"], "code", "us_state_code"),
    (["CA", "NY", "TX", "FL", "GA", "None", ""], "code", "us_state_code"),  # mostly no country codes
    (["Georgia"], "home", "us_state_name"),
    (["Georgia", "Armenia"], "home", "country_name"),
    (["California", "District of Columbia", "Puerto Rico", "Washington"], "st", "us_state_name"),
    (["United States", "Canada", "Taiwan", "South Korea", "Russia", "Viet Nam"], "origin", "country_name"),
])
def test_field_kinds(values: list[str], name: str, kind: str) -> None:
    assert [(f.field, f.kind) for f in place_fields({name: values})] == [(name, kind)]


@pytest.mark.parametrize("values", [
    ["in", "out"], ["Web", "Phone", "Referral"], ["OH", "WA", "Web", "Phone", "Fax"], ["-", "None", ""], [],
    ["12345", "30301"], ["Navient Solutions, LLC.", "Ohio Valley Bank"],
])
def test_fields_without_places(values: list[str]) -> None:
    assert place_fields({"f": values}) == []


# (question, place fields read: (field, value, phrase, certainty, stored)), against the stored CFPB values.
CFPB_QUESTIONS = [
    ("debt collection complaints from Ohio in 2019", [("state", "OH", "Ohio", EXACT_CERTAINTY, True)]),
    ("complaints from ohio", [("state", "OH", "ohio", EXACT_CERTAINTY, True)]),
    ("Ohio's complaints", [("state", "OH", "Ohio's", EXACT_CERTAINTY, True)]),
    ("Texas consumers' debt collection complaints", [("state", "TX", "Texas", EXACT_CERTAINTY, True)]),
    ("complaints filed by DC residents", [("state", "DC", "DC", EXACT_CERTAINTY, True)]),
    ("complaints from D.C.", [("state", "DC", "D.C.", EXACT_CERTAINTY, True)]),
    ("complaints from Washington, D.C.", [("state", "DC", "Washington, D.C.", ALIAS_CERTAINTY, True)]),
    ("complaints from Washington DC", [("state", "DC", "Washington DC", ALIAS_CERTAINTY, True)]),
    ("complaints from the District of Columbia", [("state", "DC", "District of Columbia", EXACT_CERTAINTY, True)]),
    ("complaints from consumers in Washington state, 2019",
     [("state", "WA", "Washington state", ALIAS_CERTAINTY, True)]),
    ("complaints from Washington", [("state", "WA", "Washington", EXACT_CERTAINTY, True)]),
    ("Nevada consumers complaining about debt collectors", [("state", "NV", "Nevada", EXACT_CERTAINTY, True)]),
    ("complaints submitted online from NY in 2019", [("state", "NY", "NY", EXACT_CERTAINTY, True)]),
    ("NY-based consumers", [("state", "NY", "NY", EXACT_CERTAINTY, True)]),
    ("complaints from N.Y.", [("state", "NY", "N.Y.", EXACT_CERTAINTY, True)]),
    ("complaints from New York City", [("state", "NY", "New York City", ALIAS_CERTAINTY, True)]),
    ("mortgage complaints out of Puerto Rico", [("state", "PR", "Puerto Rico", EXACT_CERTAINTY, True)]),
    ("complaints from the Carolinas in 2019", [("state", "NC", "Carolinas", ALIAS_CERTAINTY, True),
                                               ("state", "SC", "Carolinas", ALIAS_CERTAINTY, True)]),
    ("floridians' mortgage complaints", [("state", "FL", "floridians", ALIAS_CERTAINTY, True)]),
    ("complaints in ME", [("state", "ME", "ME", EXACT_CERTAINTY, True)]),
    ("Georgia complaints", [("state", "GA", "Georgia", EXACT_CERTAINTY, True)]),  # the state: a state field
    ("complaints from Ohio about Navient", [("state", "OH", "Ohio", EXACT_CERTAINTY, True)]),
    ("complaints from New York", [("state", "NY", "New York", EXACT_CERTAINTY, True)]),
    ("complaints from New Mexico", [("state", "NM", "New Mexico", EXACT_CERTAINTY, True)]),  # not Mexico
    ("complaints from West Virginia or Virginia", [("state", "WV", "West Virginia", EXACT_CERTAINTY, True),
                                                   ("state", "VA", "Virginia", EXACT_CERTAINTY, True)]),
    ("complaints from Guam", [("state", "GU", "Guam", EXACT_CERTAINTY, True)]),
    ("complaints from Alaska", [("state", "AK", "Alaska", EXACT_CERTAINTY, True)]),
    ("complaints from Wyoming", [("state", "WY", "Wyoming", EXACT_CERTAINTY, True)]),
    ("complaints from American Samoa", [("state", "AS", "American Samoa", EXACT_CERTAINTY, False)]),
]


@pytest.mark.parametrize(("text", "places"), CFPB_QUESTIONS)
def test_cfpb_places(cfpb: tuple[Stored, CompanyIndex], text: str,
                     places: list[tuple[str, str, str, float, bool]]) -> None:
    assert _read(text, cfpb) == places


CFPB_NO_PLACE = [
    "in or out",  # lower-case "in", "or", "me", "ok", "de" are words, never states
    "show me the ok ones, de facto",
    "complaints about Ohio Valley Bank",  # a place name is never read as the start of a company's name
    "complaints about Ohio Financial Management Services",
    "New York Life Insurance complaints",
    "complaints about New York Community Bank",
    "complaints about Banco Popular de Puerto Rico",
    "complaints about Washington Federal",
    "complaints about Bank of Hawaii",
    "COMPLAINTS IN OR FROM ME",  # in capitals throughout, two capitals are no code
    "US consumers",  # no country field here
    "Canadian consumers",
    "complaints about Navient in 2019",
    "complaints about the Chinese Wall",  # demonyms need a country field
]


@pytest.mark.parametrize("text", CFPB_NO_PLACE)
def test_cfpb_no_place(cfpb: tuple[Stored, CompanyIndex], text: str) -> None:
    assert _read(text, cfpb) == []


def test_all_capitals_still_read_names(cfpb: tuple[Stored, CompanyIndex]) -> None:
    assert _read("COMPLAINTS FROM OHIO IN 2019", cfpb) == [("state", "OH", "OHIO", EXACT_CERTAINTY, True)]


STATE, COUNTRY = "recalling_firm_state", "recalling_firm_country"
FDA_QUESTIONS = [
    ("class I recalls by firms in CA during 2024", [(STATE, "California", "CA", EXACT_CERTAINTY, True)]),
    ("recalls by Canadian firms in 2023", [(COUNTRY, "Canada", "Canadian", ALIAS_CERTAINTY, True)]),
    ("recalls by a Mexican company", [(COUNTRY, "Mexico", "Mexican", ALIAS_CERTAINTY, True)]),
    ("texas firms' recalls in 2025", [(STATE, "Texas", "texas", EXACT_CERTAINTY, True)]),
    ("have any D.C. firms had recalls?", [(STATE, "District of Columbia", "D.C.", EXACT_CERTAINTY, True)]),
    ("ongoing recalls by NJ or PA firms", [(STATE, "New Jersey", "NJ", EXACT_CERTAINTY, True),
                                           (STATE, "Pennsylvania", "PA", EXACT_CERTAINTY, True)]),
    ("Class II recalls from NY-based firms in 2023", [(STATE, "New York", "NY", EXACT_CERTAINTY, True)]),
    ("any recalls by companies in Mexico since 2023?", [(COUNTRY, "Mexico", "Mexico", EXACT_CERTAINTY, True)]),
    ("recalls from Oregon companies last year", [(STATE, "Oregon", "Oregon", EXACT_CERTAINTY, True)]),
    ("recalls by non-US firms in 2024", [(COUNTRY, "United States", "US", ALIAS_CERTAINTY, True)]),
    ("recalls by firms in the U.S.", [(COUNTRY, "United States", "U.S.", ALIAS_CERTAINTY, True)]),
    ("recalls by firms in the United States", [(COUNTRY, "United States", "United States", EXACT_CERTAINTY, True)]),
    ("terminated recalls from WA state firms in 2024", [(STATE, "Washington", "WA", EXACT_CERTAINTY, True)]),
    ("firms in Washington state", [(STATE, "Washington", "Washington state", ALIAS_CERTAINTY, True)]),
    ("recalls by minnesota firms", [(STATE, "Minnesota", "minnesota", EXACT_CERTAINTY, True)]),
    ("recalls by firms in Georgia", [(STATE, "Georgia", "Georgia", EXACT_CERTAINTY, True)]),  # GE is not stored
    ("Puerto Rico firms", [(STATE, "Puerto Rico", "Puerto Rico", EXACT_CERTAINTY, True)]),  # stored as a state
    ("recalls by firms in Taiwan", [(COUNTRY, "Taiwan", "Taiwan", EXACT_CERTAINTY, True)]),
    ("recalls by Chinese firms", [(COUNTRY, "China", "Chinese", ALIAS_CERTAINTY, True)]),
    ("recalls by Indian firms", [(COUNTRY, "India", "Indian", ALIAS_CERTAINTY, True)]),
    ("recalls by firms in El Salvador", [(COUNTRY, "El Salvador", "El Salvador", EXACT_CERTAINTY, True)]),
    # not stored: the value the field would store it as, marked so
    ("South Korean firms", [(COUNTRY, "South Korea", "South Korean", ALIAS_CERTAINTY, False)]),
    ("firms in the UK", [(COUNTRY, "United Kingdom", "UK", ALIAS_CERTAINTY, False)]),
    ("firms in England", [(COUNTRY, "United Kingdom", "England", PART_CERTAINTY, False)]),
    ("firms in Russia", [(COUNTRY, "Russian Federation", "Russia", ALIAS_CERTAINTY, False)]),
    ("firms in Alaska", [(STATE, "Alaska", "Alaska", EXACT_CERTAINTY, False)]),
    ("firms in the Republic of Korea", [(COUNTRY, "South Korea", "Republic of Korea", EXACT_CERTAINTY, False)]),
    ("firms in Cote d'Ivoire", [(COUNTRY, "Côte d'Ivoire", "Cote d'Ivoire", EXACT_CERTAINTY, False)]),
    ("firms in St. Lucia", [(COUNTRY, "Saint Lucia", "St. Lucia", EXACT_CERTAINTY, False)]),
]


@pytest.mark.parametrize(("text", "places"), FDA_QUESTIONS)
def test_fda_places(fda: tuple[Stored, CompanyIndex], text: str,
                    places: list[tuple[str, str, str, float, bool]]) -> None:
    assert _read(text, fda) == places


@pytest.mark.parametrize("text", [
    "recalls from Texas Pecan Co",  # stored firm names that begin with a place
    "Washington Crab & Seafood recalls",
    "Oregon Potato Company recalls",
    "recalls of china plates",  # a single-word country name is written capitalised
    "polish sausage recalls",
    "undeclared milk in chocolate",
])
def test_fda_no_place(fda: tuple[Stored, CompanyIndex], text: str) -> None:
    assert _read(text, fda) == []


def test_a_place_of_two_kinds_is_read_where_stored() -> None:
    """Georgia the state and Georgia the country, both stored: both read, marked ambiguous."""
    stored = {"state": ["Georgia", "Ohio", "Texas"], "country": ["Georgia", "Armenia", "United States"]}
    found = places_in_text("firms in Georgia", place_fields(stored), stored)
    assert [(m.field, m.value, m.certainty) for m in found] == [("state", "Georgia", AMBIGUOUS_CERTAINTY),
                                                                ("country", "Georgia", AMBIGUOUS_CERTAINTY)]


def test_a_territory_is_a_state_and_a_country() -> None:
    stored = {"state": ["PR", "OH", "TX"], "country": ["PR", "US", "CA"]}
    for text in ("firms in Puerto Rico", "firms in PR"):
        found = places_in_text(text, place_fields(stored), stored)
        assert [(m.field, m.value) for m in found] == [("state", "PR"), ("country", "PR")]


def test_two_capitals_that_are_a_state_are_the_state() -> None:
    """"CA" is California, never Canada; a country code that is no state code is read ("MX")."""
    stored = {"country": ["CA", "MX", "US"]}
    fields = place_fields(stored)
    assert places_in_text("firms in CA", fields, stored) == []
    assert [m.value for m in places_in_text("firms in MX or Canada", fields, stored)] == ["MX", "CA"]


@pytest.mark.parametrize(("text", "values"), [
    ("payments in USD", ["USD"]),
    ("payments in euros", ["EUR"]),
    ("payments in Canadian dollars", ["CAD"]),  # a currency, not Canada
    ("payments in US dollars", ["USD"]),
    ("payments in Yen or pounds sterling", ["JPY", "GBP"]),
    ("ALL payments to the TOP accounts", []),  # codes that are English words
    ("we won a real case", []),
])
def test_currencies(text: str, values: list[str]) -> None:
    stored = {"currency": ["USD", "EUR", "GBP", "CAD", "JPY"], "country": ["United States", "Canada"]}
    assert [m.value for m in places_in_text(text, place_fields(stored), stored)] == values


def test_company_spans_hide_places_inside_them() -> None:
    stored = {"state": ["OH", "NY"]}
    fields = place_fields(stored)
    text = "complaints about Ohio Valley Bank from New York"
    assert [m.value for m in places_in_text(text, fields, stored)] == ["OH", "NY"]
    assert [m.value for m in places_in_text(text, fields, stored, company_spans(text))] == ["NY"]


def test_a_place_inside_a_category_name_is_none() -> None:
    """"VA mortgage" is a stored CFPB sub-product (Veterans Affairs): the planner passes its span."""
    stored = {"state": ["VA", "OH"]}
    text = "FHA and VA mortgage complaints from Ohio"
    category = (text.index("VA mortgage"), text.index("VA mortgage") + len("VA mortgage"))
    assert [m.value for m in places_in_text(text, place_fields(stored), stored)] == ["VA", "OH"]
    assert [m.value for m in places_in_text(text, place_fields(stored), stored, [category])] == ["OH"]
