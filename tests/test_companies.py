"""Company mentions read as stored legal names: real CFPB and FDA firm names, and negative cases."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from assistant.companies import (
    EXACT_CERTAINTY,
    LEAD_CERTAINTY,
    CompanyIndex,
    companies_in_text,
    company_spans,
    name_forms,
)

from .conftest import CFPB_DIR

FDA_FILE = CFPB_DIR.parent / "fda_food_recalls" / "fda_food_recalls_2022_2026.csv"


def _counted(path_column: list[tuple[str, str]]) -> Counter[str]:
    """Events per stored name, as the registry counts them."""
    counts: Counter[str] = Counter()
    for path, column in path_column:
        with open(path, newline="", encoding="utf-8") as f:
            counts.update(row[column] for row in csv.DictReader(f))
    return counts


@pytest.fixture(scope="module")
def cfpb_names() -> Counter[str]:
    return _counted([(str(CFPB_DIR / "complaints_mixed_2015_2020.csv"), "Company"),
                     (str(CFPB_DIR / "complaints_payday_2023.csv"), "Company")])


@pytest.fixture(scope="module")
def cfpb(cfpb_names: Counter[str]) -> CompanyIndex:
    return CompanyIndex(cfpb_names.items())


@pytest.fixture(scope="module")
def fda() -> CompanyIndex:
    return CompanyIndex(_counted([(str(FDA_FILE), "Recalling Firm Name")]).items())


def _read(index: CompanyIndex, text: str) -> list[tuple[str, set[str], float]]:
    return [(m.phrase, set(m.values), m.certainty) for m in index.find(text)]


# (question, phrase, stored names it reads, certainty), against every company name stored in the CFPB files.
CFPB_FOUND = [
    ("JPMorgan Chase complaints in 2019", "JPMorgan Chase", {"JPMORGAN CHASE & CO."}, EXACT_CERTAINTY),
    ("complaints about JP Morgan Chase", "JP Morgan Chase", {"JPMORGAN CHASE & CO."}, EXACT_CERTAINTY),
    ("complaints about jpmorgan", "jpmorgan", {"JPMORGAN CHASE & CO."}, LEAD_CERTAINTY),
    ("complaints about Citi in 2019", "Citi", {"CITIBANK, N.A."}, LEAD_CERTAINTY),
    ("Citi Cards complaints", "Citi", {"CITIBANK, N.A."}, LEAD_CERTAINTY),
    ("complaints about Citibank, N.A. in 2019", "Citibank", {"CITIBANK, N.A."}, EXACT_CERTAINTY),
    ("Navient student loan complaints", "Navient", {"Navient Solutions, LLC."}, LEAD_CERTAINTY),
    ("navient complaints", "navient", {"Navient Solutions, LLC."}, LEAD_CERTAINTY),
    ("synchrony complaints in 2019", "synchrony", {"SYNCHRONY FINANCIAL"}, LEAD_CERTAINTY),
    ("complaints about Wells Fargo in 2019", "Wells Fargo", {"WELLS FARGO & COMPANY"}, EXACT_CERTAINTY),
    ("wells fargo complaints from California", "wells fargo", {"WELLS FARGO & COMPANY"}, EXACT_CERTAINTY),
    ("complaints about Bank of America", "Bank of America", {"BANK OF AMERICA, NATIONAL ASSOCIATION"},
     EXACT_CERTAINTY),
    ("bank of america fees", "bank of america", {"BANK OF AMERICA, NATIONAL ASSOCIATION"}, EXACT_CERTAINTY),
    ("complaints about Experian in 2018", "Experian", {"Experian Information Solutions Inc."}, LEAD_CERTAINTY),
    ("equifax disputes", "equifax", {"EQUIFAX, INC."}, EXACT_CERTAINTY),
    ("complaints about EQUIFAX, INC. in 2019", "EQUIFAX", {"EQUIFAX, INC."}, EXACT_CERTAINTY),
    ("credit reporting complaints against TransUnion", "TransUnion", {"TRANSUNION INTERMEDIATE HOLDINGS, INC."},
     LEAD_CERTAINTY),
    ("complaints against Trans Union", "Trans Union", {"TRANSUNION INTERMEDIATE HOLDINGS, INC."}, LEAD_CERTAINTY),
    ("Capital One complaints", "Capital One", {"CAPITAL ONE FINANCIAL CORPORATION"}, LEAD_CERTAINTY),
    ("capital one complaints", "capital one", {"CAPITAL ONE FINANCIAL CORPORATION"}, LEAD_CERTAINTY),
    ("Santander complaints", "Santander", {"SANTANDER BANK, NATIONAL ASSOCIATION",
                                           "Santander Consumer USA Holdings Inc.", "SANTANDER HOLDINGS USA, INC."},
     LEAD_CERTAINTY),
    ("PHEAA student loan complaints", "PHEAA", {"AES/PHEAA"}, EXACT_CERTAINTY),
    ("complaints about Discover cards", "Discover", {"DISCOVER BANK"}, LEAD_CERTAINTY),
    ("Discover complaints", "Discover", {"DISCOVER BANK"}, LEAD_CERTAINTY),  # discover 4.4 < 4.5 at a start
    ("COMPLAINTS ABOUT NAVIENT", "NAVIENT", {"Navient Solutions, LLC."}, LEAD_CERTAINTY),
    ("Show me Ocwen complaints", "Ocwen", {"Ocwen Financial Corporation"}, LEAD_CERTAINTY),
    ("complaints about Block", "Block", {"Block, Inc."}, EXACT_CERTAINTY),
    ("Santander Bank complaints", "Santander Bank", {"SANTANDER BANK, NATIONAL ASSOCIATION"}, EXACT_CERTAINTY),
    ("complaints about Wells Fargo Advisors", "Wells Fargo", {"WELLS FARGO & COMPANY"}, EXACT_CERTAINTY),
    ("complaints about Ace Cash Express", "Ace Cash Express",
     {"Populus Financial Group, Inc. (F/K/A Ace Cash Express)", "ACE CASH EXPRESS, INC."}, EXACT_CERTAINTY),
    ("complaints about First National", "First National",
     {"FIRST NATIONAL BANK OF OMAHA", "FIRST NATIONAL BANK OF PENNSYLVANIA"}, LEAD_CERTAINTY),
]


@pytest.mark.parametrize(("text", "phrase", "values", "certainty"), CFPB_FOUND)
def test_cfpb_names_are_read(cfpb: CompanyIndex, text: str, phrase: str, values: set[str], certainty: float) -> None:
    assert _read(cfpb, text) == [(phrase, values, certainty)]


CFPB_NONE = [
    "complaints about mortgage servicing",
    "credit card complaints",
    "debt collection complaints",
    "complaints against Chase about checking accounts",  # no stored name leads with Chase (JPMORGAN CHASE)
    "chase complaints",
    "we mark as fraud",
    "Mark complaints",  # Johnson Mark LLC: Mark is no lead
    "complaints about block chain",  # block 4.9: lower case, too common a word
    "wells complaints",
    "complaints about the three credit bureaus",  # The Bureaus, Inc.: bureaus is the plural of bureau (4.4)
    "complaints about First complaints",  # a common lead alone
    "complaints from Capital",
    "US consumers",
    "Show complaints",
    "Which complaints were closed?",
    "complaints about Ohio Valley Bank",  # not stored; Ohio Valley does not start a stored name
    "New York Life Insurance complaints",  # NEW YORK COMMUNITY BANK is not New York Life
    "H&R Block fees",  # H&R Block not stored: neither Block, Inc. nor Hiday & Ricke (H&R before Block)
    "Amex complaints",  # an abbreviation: a known miss
]


@pytest.mark.parametrize("text", CFPB_NONE)
def test_no_company_is_read(cfpb: CompanyIndex, text: str) -> None:
    assert _read(cfpb, text) == []


def test_several_companies_in_one_question(cfpb: CompanyIndex) -> None:
    found = _read(cfpb, "Experian, Equifax and TransUnion disputes versus Wells Fargo")
    assert [phrase for phrase, _, _ in found] == ["Experian", "Equifax", "TransUnion", "Wells Fargo"]


# (question, phrase, stored names), against every firm name stored in the FDA recalls file.
FDA_FOUND = [
    ("Taylor Farms recalls since 2024", "Taylor Farms",
     {"Taylor Farms Colorado, Inc.", "Taylor Farms Illinois Inc.", "Taylor Farms Maryland, Inc.",
      "Taylor Farms Northwest LLC", "Taylor Farms Northwest, LLC", "Taylor Farms Retail, Inc.",
      "Taylor Farms Southwest, Inc"}),
    ("class 2 recalls from quaker oats", "quaker oats", {"The Quaker Oats Co."}),
    ("Reser's recalls that are still ongoing", "Reser's",
     {"Reser's Fine Foods, Inc.", "Reser's Fine Foods, Inc. dba Fresh Creative Foods"}),
    ("all Unilever recalls", "Unilever",
     {"Conopco DBA Unilever", "Unilever Manufacturing (US), Inc.", "Unilever North America Supply Chain Company, LLC"}),
    ("P&G recalls in 2024", "P&G", {"The Procter & Gamble Company"}),
    ("smucker's recalls", "smucker's", {"The J.M. Smucker Company", "The JM Smucker Company LLC"}),
    ("frito lay recalls", "frito lay", {"Frito Lay Inc", "Frito-Lay, Inc. Headquarters"}),
    ("Johnson & Johnson recalls", "Johnson & Johnson", {"Johnson & Johnson Consumer, Inc."}),
    ("recalls from Texas Pecan Co", "Texas Pecan", {"Texas Pecan Co"}),
]


@pytest.mark.parametrize(("text", "phrase", "values"), FDA_FOUND)
def test_fda_names_are_read(fda: CompanyIndex, text: str, phrase: str, values: set[str]) -> None:
    assert [(m.phrase, set(m.values)) for m in fda.find(text)] == [(phrase, values)]


@pytest.mark.parametrize("text", ["texas firms' recalls in 2025", "undeclared soy lecithin recalls",
                                  "class II recalls", "frozen foods recalls"])
def test_no_firm_is_read(fda: CompanyIndex, text: str) -> None:
    assert fda.find(text) == []


STORED = [("CITIBANK, N.A.", 150), ("Citibank, N.A.", 20), ("CITIGROUP INC", 40),
          ("CITIZENS FINANCIAL GROUP, INC.", 30),
          ("WELLS FARGO & COMPANY", 174), ("Wells Fargo Bank, N.A.", 90), ("WELLS FARGO FINANCIAL NATIONAL BANK", 3),
          ("H&R Block, Inc.", 12), ("Block, Inc.", 9), ("AT&T Inc.", 5), ("Johnson & Johnson Consumer, Inc.", 4),
          ("Mead Johnson & Company", 3), ("JPMORGAN CHASE & CO.", 160)]


@pytest.mark.parametrize(("text", "values"), [
    ("complaints about Citi", ("CITIBANK, N.A.", "CITIGROUP INC", "Citibank, N.A.")),  # never Citizens
    ("complaints about Citizens Financial", ("CITIZENS FINANCIAL GROUP, INC.",)),
    ("complaints about Wells Fargo", ("WELLS FARGO & COMPANY", "Wells Fargo Bank, N.A.",
                                      "WELLS FARGO FINANCIAL NATIONAL BANK")),
    ("wells fargo complaints", ("WELLS FARGO & COMPANY", "Wells Fargo Bank, N.A.",
                                "WELLS FARGO FINANCIAL NATIONAL BANK")),
    ("H&R Block fees", ("H&R Block, Inc.",)),
    ("H & R Block fees", ("H&R Block, Inc.",)),
    ("complaints about Block", ("Block, Inc.",)),
    ("AT&T billing", ("AT&T Inc.",)),
    ("Johnson & Johnson recalls", ("Johnson & Johnson Consumer, Inc.",)),
    ("J&J recalls", ("Johnson & Johnson Consumer, Inc.",)),
    ("Mead Johnson recalls", ("Mead Johnson & Company",)),
])
def test_every_stored_name_of_a_company(text: str, values: tuple[str, ...]) -> None:
    """One match lists every stored name of the company, most events first."""
    found = companies_in_text(text, STORED)
    assert [m.values for m in found] == [values]


@pytest.mark.parametrize(("text", "values"), [
    ("capital one complaints", ["CAPITAL ONE FINANCIAL CORPORATION"]),  # financial: a generic word
    ("Capital One complaints", ["CAPITAL ONE FINANCIAL CORPORATION", "Capital One Auto Finance"]),
    ("credit card complaints", []),
    ("Credit Card Receivables complaints", ["Credit Card Receivables Fund Incorporated"]),
    ("complaints about Citizens", []),  # a common lead alone
])
def test_a_lower_case_lead_needs_the_rest_generic(text: str, values: list[str]) -> None:
    """Written in lower case, a stored name's lead reads it only when the rest says what kind of business it is."""
    stored = [("CAPITAL ONE FINANCIAL CORPORATION", 110), ("Capital One Auto Finance", 3),
              ("Credit Card Receivables Fund Incorporated", 2), ("CITIZENS FINANCIAL GROUP, INC.", 30)]
    assert [v for m in companies_in_text(text, stored) for v in m.values] == values


def test_spans_used_by_other_readings_are_excluded(cfpb: CompanyIndex) -> None:
    text = "complaints from New York about Navient"
    assert [m.phrase for m in cfpb.find(text)] == ["New York", "Navient"]  # NEW YORK COMMUNITY BANK's lead
    new_york = (text.index("New York"), text.index("New York") + len("New York"))
    assert [m.phrase for m in cfpb.find(text, exclude=[new_york])] == ["Navient"]


def test_match_spans_point_into_the_text(cfpb: CompanyIndex) -> None:
    text = "Were there complaints about JP Morgan Chase in 2019?"
    (match,) = cfpb.find(text)
    assert text[match.start:match.end] == match.phrase == "JP Morgan Chase"


@pytest.mark.parametrize(("text", "spans"), [
    ("complaints about Ohio Valley Bank", ["Ohio Valley Bank"]),
    ("New York Life Insurance complaints", ["New York Life Insurance"]),
    ("complaints about Banco Popular de Puerto Rico", ["Banco Popular de Puerto Rico"]),
    ("complaints from Ohio about Navient", ["Navient"]),
    ("Texas consumers' complaints", []),
    ("complaints from New York", ["New York"]),  # a stored name's lead: no longer than the place
])
def test_company_spans(cfpb: CompanyIndex, text: str, spans: list[str]) -> None:
    assert [text[s:e] for s, e in sorted(set(company_spans(text, cfpb)))] == spans


@pytest.mark.parametrize(("name", "forms"), [
    ("JPMORGAN CHASE & CO.", [("jpmorgan", "chase")]),
    ("CITIBANK, N.A.", [("citibank",)]),
    ("BANK OF AMERICA, NATIONAL ASSOCIATION", [("bank", "of", "america")]),
    ("CHARLES SCHWAB CORPORATION, THE", [("charles", "schwab")]),
    ("Conopco DBA Unilever", [("conopco",), ("unilever",)]),
    ("Endpoint Resolution Services (ERS)", [("endpoint", "resolution", "services"), ("ers",)]),
    ("The J.M. Smucker Company", [("jm", "smucker"), ("smucker",)]),
    ("H&R Block, Inc.", [("h", "&", "r", "block")]),
    ("CN Frozen Foods", [("cn", "frozen", "foods"), ("frozen", "foods")]),
    ("AES/PHEAA", [("aes", "pheaa"), ("aes",), ("pheaa",)]),
    ("Société Générale S.A.", [("societe", "generale")]),
])
def test_name_forms(name: str, forms: list[tuple[str, ...]]) -> None:
    assert list(name_forms(name)) == forms
