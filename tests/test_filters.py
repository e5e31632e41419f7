"""The filter compiler against a real database: one shared table of cases, positive and negative."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from psycopg import sql

from assistant.db import Database
from assistant.embed import Embedder
from assistant.errors import PlanError
from assistant.filters import compile_filters
from assistant.ingest import ingest_file
from assistant.mapping import Mapping
from assistant.models import Filter
from assistant.server import EmbeddedServer

from .conftest import new_database_url, settings_for

Row = dict[str, Any]
UTC = dt.UTC

# A handful of events; merchant_id, channel, note and score_drop are not canonical, so they become attributes.
ROWS: list[Row] = [
    {"source_id": "e1", "occurred_at": "2025-10-01T00:00:00+00:00", "category": "fraud_alert",
     "subcategory": "card_not_present", "severity": "high", "entity_id": "ACC-101", "amount": "120.50",
     "currency": "USD", "text": "CNP purchase at QuickShip Electronics from a new device",
     "merchant_id": "MER-4417", "channel": "online", "entity_name": "Ana QuickShip-Lee"},
    {"source_id": "e2", "occurred_at": "2025-10-15T12:30:00+00:00", "category": "fraud_alert",
     "subcategory": "card_present", "severity": "critical", "entity_id": "ACC-102", "amount": "980.00",
     "currency": "USD", "text": "Skimming suspected at a compromised terminal",
     "merchant_id": "MER-1001", "channel": "pos"},
    {"source_id": "e3", "occurred_at": "2025-12-31T23:59:59+00:00", "category": "chargeback",
     "subcategory": "goods_not_received", "severity": "low", "entity_id": "ACC-101", "amount": "45.00",
     "currency": "EUR", "text": "Goods never arrived (bought with the 50_off promo code)",
     "merchant_id": "MER-4417", "channel": "online", "entity_name": "Promo 50_off Buyer",
     "note": "used code 50_off"},
    {"source_id": "e4", "occurred_at": "2026-01-01T00:00:00+00:00", "category": "aml_alert",
     "subcategory": "structuring", "severity": "medium", "entity_id": "ACC-103", "amount": "9500.00",
     "currency": "USD", "text": "Cash deposit just under the reporting threshold", "channel": "atm"},
    {"source_id": "e5", "occurred_at": "2026-03-15T06:00:00+00:00", "category": "credit_score_change",
     "subcategory": "score_drop", "entity_id": "ACC-104", "text": "Bureau score fell after a missed payment",
     "score_drop": 85},
    {"source_id": "e6", "occurred_at": "2024-06-30T08:00:00+00:00", "category": "complaint",
     "subcategory": "fee_dispute", "severity": "low", "amount": "35.00", "currency": "GBP",
     "text": "Customer says a 50% fee was charged twice", "merchant_id": "MER-2002",
     "entity_name": "Fee 50% Payer", "note": "refund 50% of the fee"},
    {"source_id": "e7", "occurred_at": "2025-11-20T18:45:00+00:00", "category": "fraud_alert",
     "subcategory": "card_not_present", "severity": "high", "entity_id": "ACC-102", "amount": "1200.00",
     "currency": "USD", "text": "Checkout note read: x' OR '1'='1 -- then the card was declined",
     "merchant_id": "MER-9999", "channel": "online", "entity_name": "x' OR '1'='1 Jones"},
    # score_drop as a small JSON number, a numeric string (as a CSV gives it), and a non-number.
    {"source_id": "e8", "occurred_at": "2026-03-16T06:00:00+00:00", "category": "credit_score_change",
     "subcategory": "score_drop", "entity_id": "ACC-105", "text": "Score fell slightly", "score_drop": 9},
    {"source_id": "e9", "occurred_at": "2026-03-17T06:00:00+00:00", "category": "credit_score_change",
     "subcategory": "score_drop", "entity_id": "ACC-106", "text": "Score fell sharply", "score_drop": "120"},
    {"source_id": "e10", "occurred_at": "2026-03-18T06:00:00+00:00", "category": "credit_score_change",
     "subcategory": "score_drop", "entity_id": "ACC-107", "text": "Score change unknown", "score_drop": "n/a"},
]
ALL = {r["source_id"] for r in ROWS}


def when(row: Row) -> dt.datetime:
    return dt.datetime.fromisoformat(row["occurred_at"])


def at(text: str) -> dt.datetime:
    """An ISO date or time; without an offset it is UTC, as the compiler reads it."""
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def amount(row: Row) -> Decimal | None:
    return Decimal(row["amount"]) if row.get("amount") is not None else None


def number(row: Row, key: str) -> float:
    """The attribute as a number; NaN (never in range) when absent or not numeric."""
    try:
        return float(row[key])
    except (KeyError, ValueError):
        return float("nan")


def has(key: str) -> Callable[[Row], bool]:
    return lambda r: r.get(key) is not None


def is_(key: str, value: Any) -> Callable[[Row], bool]:
    return lambda r: r.get(key) == value


def attr(row: Row, key: str) -> str | None:
    """An attribute as `->>` reads it: text, or None when absent."""
    value = row.get(key)
    return None if value is None else str(value)


def amount_is(test: Callable[[Decimal], bool]) -> Callable[[Row], bool]:
    return lambda r: (a := amount(r)) is not None and test(a)


def text_is(key: str, test: Callable[[str], bool]) -> Callable[[Row], bool]:
    return lambda r: (v := r.get(key)) is not None and test(str(v))


# (filter, which fixture rows it should select). Expected sets are computed from ROWS, never typed in.
POSITIVE: list[tuple[Filter, Callable[[Row], bool]]] = [
    # text columns
    (Filter(field="category", op="eq", value="fraud_alert"), is_("category", "fraud_alert")),
    (Filter(field="category", op="ne", value="fraud_alert"), lambda r: r["category"] != "fraud_alert"),
    (Filter(field="severity", op="ne", value="low"), lambda r: r.get("severity") != "low"),  # NULL kept
    (Filter(field="subcategory", op="in", value=["card_present", "structuring"]),
     lambda r: r["subcategory"] in ("card_present", "structuring")),
    (Filter(field="severity", op="not_in", value=["low", "medium"]),
     lambda r: r.get("severity") not in ("low", "medium")),
    (Filter(field="entity_id", op="lt", value="ACC-102"), text_is("entity_id", lambda v: v < "ACC-102")),
    (Filter(field="entity_id", op="lte", value="ACC-102"), text_is("entity_id", lambda v: v <= "ACC-102")),
    (Filter(field="entity_id", op="gt", value="ACC-102"), text_is("entity_id", lambda v: v > "ACC-102")),
    (Filter(field="entity_id", op="gte", value="ACC-102"), text_is("entity_id", lambda v: v >= "ACC-102")),
    (Filter(field="entity_id", op="between", value=["ACC-102", "ACC-103"]),
     text_is("entity_id", lambda v: "ACC-102" <= v <= "ACC-103")),
    (Filter(field="entity_name", op="contains", value="quickship"),
     text_is("entity_name", lambda v: "quickship" in v.lower())),
    (Filter(field="entity_id", op="exists", value=True), has("entity_id")),
    (Filter(field="entity_id", op="exists", value=False), lambda r: not has("entity_id")(r)),
    (Filter(field="severity", op="exists"), has("severity")),
    (Filter(field="source_id", op="eq", value="e3"), is_("source_id", "e3")),
    # timestamp column: dates are midnight UTC, offsets are honoured, ranges are inclusive where stated
    (Filter(field="occurred_at", op="eq", value="2025-10-01"), lambda r: when(r) == at("2025-10-01")),
    (Filter(field="occurred_at", op="ne", value="2025-10-01T00:00:00+00:00"),
     lambda r: when(r) != at("2025-10-01")),
    (Filter(field="occurred_at", op="gte", value="2025-10-01"), lambda r: when(r) >= at("2025-10-01")),
    (Filter(field="occurred_at", op="lt", value="2026-01-01"), lambda r: when(r) < at("2026-01-01")),
    (Filter(field="occurred_at", op="gt", value="2026-01-01"), lambda r: when(r) > at("2026-01-01")),
    (Filter(field="occurred_at", op="lte", value="2024-06-30"), lambda r: when(r) <= at("2024-06-30")),
    (Filter(field="occurred_at", op="gte",
            value=dt.datetime(2026, 1, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))),
     lambda r: when(r) >= at("2025-12-31T23:00:00+00:00")),
    (Filter(field="occurred_at", op="gte", value=dt.date(2026, 1, 1)), lambda r: when(r) >= at("2026-01-01")),
    (Filter(field="occurred_at", op="between", value=["2025-10-01", "2025-12-31T23:59:59+00:00"]),
     lambda r: at("2025-10-01") <= when(r) <= at("2025-12-31T23:59:59+00:00")),
    (Filter(field="occurred_at", op="in", value=["2026-01-01", "2024-06-30T08:00:00+00:00"]),
     lambda r: when(r) in (at("2026-01-01"), at("2024-06-30T08:00:00+00:00"))),
    (Filter(field="occurred_at", op="not_in", value=["2026-01-01"]), lambda r: when(r) != at("2026-01-01")),
    (Filter(field="occurred_at", op="exists", value=False), lambda r: False),
    # numeric column: strings and numbers alike; NULL amounts only where the operator keeps NULLs
    (Filter(field="amount", op="eq", value="980"), amount_is(lambda a: a == 980)),
    (Filter(field="amount", op="eq", value=120.5), amount_is(lambda a: a == Decimal("120.5"))),
    (Filter(field="amount", op="ne", value=45), lambda r: amount(r) != 45),
    (Filter(field="amount", op="lt", value=45), amount_is(lambda a: a < 45)),
    (Filter(field="amount", op="lte", value="45.00"), amount_is(lambda a: a <= 45)),
    (Filter(field="amount", op="gt", value=100), amount_is(lambda a: a > 100)),
    (Filter(field="amount", op="gte", value="120.50"), amount_is(lambda a: a >= Decimal("120.50"))),
    (Filter(field="amount", op="between", value=[40, 1000]), amount_is(lambda a: 40 <= a <= 1000)),
    (Filter(field="amount", op="in", value=[45, "35.00"]), amount_is(lambda a: a in (45, 35))),
    (Filter(field="amount", op="not_in", value=[45]), lambda r: amount(r) != 45),
    (Filter(field="amount", op="contains", value="0.5"), amount_is(lambda a: "0.5" in f"{a:.2f}")),
    (Filter(field="amount", op="exists", value=False), lambda r: amount(r) is None),
    (Filter(field="id", op="gt", value=0), lambda r: True),
    # attributes: compared as the text `->>` gives; absent keys are NULL
    (Filter(field="attributes.merchant_id", op="eq", value="MER-4417"), is_("merchant_id", "MER-4417")),
    (Filter(field="attributes.merchant_id", op="ne", value="MER-4417"),
     lambda r: attr(r, "merchant_id") != "MER-4417"),
    (Filter(field="attributes.channel", op="in", value=["pos", "atm"]),
     lambda r: attr(r, "channel") in ("pos", "atm")),
    (Filter(field="attributes.channel", op="not_in", value=["online"]),
     lambda r: attr(r, "channel") != "online"),
    (Filter(field="attributes.merchant_id", op="lt", value="MER-2002"),
     text_is("merchant_id", lambda v: v < "MER-2002")),
    (Filter(field="attributes.merchant_id", op="lte", value="MER-2002"),
     text_is("merchant_id", lambda v: v <= "MER-2002")),
    (Filter(field="attributes.merchant_id", op="gt", value="MER-2002"),
     text_is("merchant_id", lambda v: v > "MER-2002")),
    (Filter(field="attributes.merchant_id", op="gte", value="MER-4417"),
     text_is("merchant_id", lambda v: v >= "MER-4417")),
    (Filter(field="attributes.merchant_id", op="between", value=["MER-2000", "MER-5000"]),
     text_is("merchant_id", lambda v: "MER-2000" <= v <= "MER-5000")),
    (Filter(field="attributes.merchant_id", op="contains", value="4417"),
     text_is("merchant_id", lambda v: "4417" in v)),
    (Filter(field="attributes.merchant_id", op="exists", value=True), has("merchant_id")),
    (Filter(field="attributes.merchant_id", op="exists", value=False), lambda r: not has("merchant_id")(r)),
    (Filter(field="attributes.score_drop", op="eq", value=85), lambda r: attr(r, "score_drop") == "85"),
    # ordered comparisons with a number compare numbers (as text "9" > "80"); non-numbers match nothing
    (Filter(field="attributes.score_drop", op="gt", value=80), lambda r: number(r, "score_drop") > 80),
    (Filter(field="attributes.score_drop", op="lte", value="85"), lambda r: number(r, "score_drop") <= 85),
    (Filter(field="attributes.score_drop", op="between", value=[5, 100]),
     lambda r: 5 <= number(r, "score_drop") <= 100),
    (Filter(field="attributes.no_such_key", op="exists", value=True), lambda r: False),
    # values that look like SQL or LIKE patterns are matched literally
    (Filter(field="category", op="eq", value="x' OR '1'='1"), lambda r: r["category"] == "x' OR '1'='1"),
    (Filter(field="attributes.channel", op="eq", value="x' OR '1'='1"), lambda r: False),
    (Filter(field="entity_name", op="contains", value="x' OR '1'='1"),
     text_is("entity_name", lambda v: "x' or '1'='1" in v.lower())),
    (Filter(field="entity_name", op="contains", value="50%"), text_is("entity_name", lambda v: "50%" in v)),
    (Filter(field="entity_name", op="contains", value="50_"), text_is("entity_name", lambda v: "50_" in v)),
    (Filter(field="entity_name", op="contains", value="%"), text_is("entity_name", lambda v: "%" in v)),
    (Filter(field="entity_name", op="contains", value="\\"), text_is("entity_name", lambda v: "\\" in v)),
    (Filter(field="attributes.note", op="contains", value="50%"), text_is("note", lambda v: "50%" in v)),
    (Filter(field="attributes.note", op="contains", value="50_"), text_is("note", lambda v: "50_" in v)),
]

NEGATIVE: list[tuple[str, Filter]] = [
    ("unknown field", Filter(field="merchant", op="eq", value="MER-4417")),
    ("column outside the allowlist", Filter(field="content_hash", op="exists")),
    ("SQL in a field", Filter(field="category; DROP TABLE risk_events", op="eq", value="x")),
    ("quote in an attribute key", Filter(field="attributes.x'--", op="eq", value="x")),
    ("space and capitals in an attribute key", Filter(field="attributes.A B", op="eq", value="x")),
    ("empty attribute key", Filter(field="attributes.", op="exists")),
    ("newline after an attribute key", Filter(field="attributes.merchant_id\n", op="exists")),
    ("attribute key too long", Filter(field="attributes." + "k" * 64, op="exists")),
    ("unknown operator", Filter.model_construct(field="category", op="like", value="fraud%")),
    ("SQL as an operator", Filter.model_construct(field="category", op="= '' OR 1=1 --", value="x")),
    ("in with an empty list", Filter(field="category", op="in", value=[])),
    ("not_in with an empty list", Filter(field="attributes.channel", op="not_in", value=[])),
    ("in with a scalar", Filter(field="category", op="in", value="fraud_alert")),
    ("between with one value", Filter(field="amount", op="between", value=[10])),
    ("between with three values", Filter(field="amount", op="between", value=[1, 2, 3])),
    ("between with a scalar", Filter(field="occurred_at", op="between", value="2025-10-01")),
    ("non-numeric amount", Filter(field="amount", op="gt", value="lots")),
    ("non-numeric amount in a list", Filter(field="amount", op="in", value=[10, "ten"])),
    ("non-numeric amount in a range", Filter(field="amount", op="between", value=["1", "x"])),
    ("non-integer id", Filter(field="id", op="eq", value="abc")),
    ("bad date", Filter(field="occurred_at", op="gte", value="not a date")),
    ("impossible date", Filter(field="occurred_at", op="lt", value="2025-13-01")),
    ("bad date in a range", Filter(field="occurred_at", op="between", value=["2025-10-01", "soon"])),
    ("no value", Filter(field="category", op="eq", value=None)),
    ("object as a value", Filter(field="category", op="eq", value={"a": 1})),
]


@pytest.fixture(scope="module")
def events_db(server: EmbeddedServer, embedder: Embedder,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A fresh migrated database holding ROWS, loaded by the real ingest path (shared by the table)."""
    tmp_path = tmp_path_factory.mktemp("filters")
    database = Database.open(settings_for(new_database_url(server), tmp_path))
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    result = ingest_file(database, embedder, path, Mapping.identity("t"))
    assert (result.inserted, result.rejected) == (len(ROWS), 0)
    yield database
    database.close()


def select_ids(db: Database, filters: list[Filter]) -> set[str]:
    """Source ids of the stored events the compiled filters select."""
    compiled = compile_filters(filters)
    statement = sql.SQL("SELECT ev.source_id FROM risk_events ev WHERE {}").format(compiled.where)
    return {row[0] for row in db.execute(statement, compiled.params)}


def expected(*predicates: Callable[[Row], bool]) -> set[str]:
    return {r["source_id"] for r in ROWS if all(p(r) for p in predicates)}


def case_id(case: tuple[Filter, Any]) -> str:
    f = case[0]
    return f"{f.field} {f.op} {f.value!r}"


@pytest.mark.parametrize("case", POSITIVE, ids=[case_id(c) for c in POSITIVE])
def test_filter_selects_the_expected_events(events_db: Database,
                                            case: tuple[Filter, Callable[[Row], bool]]) -> None:
    f, predicate = case
    assert select_ids(events_db, [f]) == expected(predicate)


def test_the_table_discriminates() -> None:
    """Every positive case but the deliberately empty ones selects some events and leaves some out."""
    sizes = [len(expected(p)) for _, p in POSITIVE]
    assert sum(0 < n < len(ROWS) for n in sizes) >= len(POSITIVE) - 8


@pytest.mark.parametrize("name, f", NEGATIVE, ids=[n for n, _ in NEGATIVE])
def test_filter_is_refused(name: str, f: Filter) -> None:
    with pytest.raises(PlanError):
        compile_filters([Filter(field="category", op="eq", value="fraud_alert"), f])


def test_filters_are_and_ed(events_db: Database) -> None:
    filters = [Filter(field="category", op="eq", value="fraud_alert"),
               Filter(field="occurred_at", op="gte", value="2025-10-01"),
               Filter(field="occurred_at", op="lt", value="2026-01-01"),
               Filter(field="attributes.merchant_id", op="ne", value="MER-1001")]
    want = expected(is_("category", "fraud_alert"), lambda r: at("2025-10-01") <= when(r) < at("2026-01-01"),
                    lambda r: attr(r, "merchant_id") != "MER-1001")
    assert select_ids(events_db, filters) == want
    assert want and want != ALL


def test_no_filters_select_everything(events_db: Database) -> None:
    assert select_ids(events_db, []) == ALL


def test_values_are_bound_never_spliced(events_db: Database) -> None:
    hostile = "x' OR '1'='1"
    compiled = compile_filters([Filter(field="category", op="eq", value=hostile),
                                Filter(field="attributes.channel", op="eq", value="'; DROP TABLE risk_events; --")])
    rendered = compiled.where.as_string()
    assert hostile not in rendered and "DROP" not in rendered
    assert hostile in compiled.params.values()
    assert select_ids(events_db, [Filter(field="category", op="eq", value=hostile)]) == set()
    select_ids(events_db, [Filter(field="attributes.channel", op="eq", value="'; DROP TABLE risk_events; --")])
    count = events_db.execute("SELECT count(*) FROM risk_events")[0]
    assert count is not None and count[0] == len(ROWS)


def test_refused_field_never_reaches_the_database(events_db: Database) -> None:
    with pytest.raises(PlanError, match="unknown filter field"):
        select_ids(events_db, [Filter(field="category; DROP TABLE risk_events", op="eq", value="x")])
    count = events_db.execute("SELECT count(*) FROM risk_events")[0]
    assert count is not None and count[0] == len(ROWS)
