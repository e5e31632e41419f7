"""Hostile inputs for the attack tests (Hypothesis strategies), and the server's statement log read back."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from assistant.filters import COLUMNS
from assistant.models import FilterOp
from assistant.resources import resource_dir

OPS: tuple[str, ...] = FilterOp.__args__  # type: ignore[attr-defined]
SQL_BITS = ("'", '"', ";", "--", "/*", "*/", "\\", "$$", "%", "%s", "%(f0)s", "{where}", "{}", ")", "(",
            "\x00", "\u202e", "\ufeff", "é", "ß", "İ", "ｃ", "\U0001f4a3", "\n", "\t", " ")
SQL_WORDS = (
    "category; DROP TABLE risk_events; --", "category' OR '1'='1", 'category" OR "1"="1', "id) OR (1=1",
    "amount::text", "ev.category", "attributes->>'x'", "pg_sleep(10)", "category--", "CATEGORY", "Category",
    "cаtegory",  # a Cyrillic а
    "category\x00", " category", "category ", "attributes.", "attributes", "attributes..x", "attributes.x.y",
    "attributes.X", "attributes.x'--", "attributes.a b", "attributes.ï", "attributes.x;drop", "attributes.\x00",
    "attributes." + "a" * 64, "attributes." + "a" * 63, "embedding", "text", "title", "attributes.__proto__",
    "scope", "risk_events.category", "$1", "%(f0)s", "{where}",
)
VALUE_WORDS = ("'; DROP TABLE risk_events; --", "' OR 1=1 --", "%", "_", "\\", "$$", "%(f0)s", "{where}",
               "NaN", "Infinity", "-Infinity", "1e999999", "-1e-999999", "0x10", "١٢٣", "12", "-0", "1_000",
               "2025-02-30", "0000-01-01", "10000-01-01", "2025-13-01T00:00:00", "2025-01-01T25:00:00",
               "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "\x00", "a\x00b", "null", "true")


def _grow(text: str, times: int) -> str:
    return text * times


def sql_text() -> st.SearchStrategy[str]:
    """Short strings stitched from SQL syntax, quotes, control and confusable characters."""
    return st.lists(st.sampled_from(SQL_BITS) | st.text(max_size=6), max_size=6).map("".join)


def huge_text() -> st.SearchStrategy[str]:
    """Strings up to a few megabytes, made cheaply by repetition."""
    return st.builds(_grow, st.sampled_from(["a", "'", "\u00e9", "%_", "x" * 17]),
                     st.sampled_from([5_000, 100_000, 1_000_000]))


def hostile_fields() -> st.SearchStrategy[str]:
    """Field names: the allowed ones, attribute keys good and bad, SQL, quotes, unicode, sizes."""
    key = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=70)
    allowed = st.sampled_from(list(COLUMNS)) | key.map("attributes.".__add__)
    hostile = st.one_of(st.sampled_from(SQL_WORDS), sql_text().map("attributes.".__add__), sql_text(),
                        st.text(max_size=40), huge_text())
    return st.one_of(allowed, allowed, hostile)


def scalars() -> st.SearchStrategy[Any]:
    """Values of every JSON type and beyond: NaN, infinities, huge ints, dates out of range, huge strings."""
    return st.one_of(
        st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**60), max_value=10**60),
        st.sampled_from([2**63, -(2**63) - 1, 2**31, 10**400]), st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(VALUE_WORDS), sql_text(), st.text(max_size=30),
        st.dates().map(dt.date.isoformat), st.datetimes(timezones=st.timezones()).map(dt.datetime.isoformat),
        st.datetimes().map(dt.datetime.isoformat), huge_text())


def hostile_values() -> st.SearchStrategy[Any]:
    """Scalars, and lists and objects of them nested a few levels deep."""
    return st.recursive(scalars(), lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(max_size=8), inner, max_size=3), max_leaves=8)


def well_formed_filters() -> st.SearchStrategy[dict[str, Any]]:
    """{field, op, value} with a hostile field, operator (mostly allowed ones) and value."""
    return st.fixed_dictionaries(
        {"field": hostile_fields(), "op": st.one_of(st.sampled_from(OPS), st.sampled_from(OPS), sql_text()),
         "value": hostile_values()})


def hostile_filters() -> st.SearchStrategy[Any]:
    """A filter as JSON would carry it: mostly {field, op, value}, sometimes missing keys, extra keys or not a dict."""
    well_formed = well_formed_filters()
    odd = st.one_of(
        well_formed.map(lambda f: {**f, "extra": "x"}), well_formed.map(lambda f: {"field": f["field"]}),
        st.fixed_dictionaries({"field": hostile_values(), "op": hostile_values(), "value": hostile_values()}),
        hostile_values())
    return st.one_of(well_formed, well_formed, well_formed, well_formed, odd)


def hostile_plans() -> st.SearchStrategy[dict[str, Any]]:
    """A QueryPlan as the plan editor's JSON: hostile filters, k, dates, texts, like-targets, keywords."""
    long = st.builds(_grow, st.sampled_from(["a", "'", "%_"]), st.sampled_from([1_000, 5_000, 50_000]))
    text = st.one_of(st.just("card-not-present fraud"), sql_text(), st.text(max_size=30), long)
    like = st.one_of(st.none(), st.fixed_dictionaries({"kind": st.sampled_from(["event", "entity", "x"]),
                                                       "value": st.one_of(sql_text(), st.sampled_from(
                                                           ["1", "#1", "99999999999999999999", "ACC-57393"]))}))
    return st.fixed_dictionaries({
        "question": text, "query": text,
        "filters": st.lists(hostile_filters(), max_size=4),
        "keywords": st.lists(st.one_of(sql_text(), st.text(max_size=12)), max_size=3),
        "like": like,
        # k and as_of mostly valid, so that most plans reach the filter compiler
        "k": st.one_of(st.integers(min_value=-5, max_value=50), st.integers(min_value=1, max_value=50),
                       st.sampled_from([0, 10**6, 2**63, 10**30]), hostile_values()),
        "as_of": st.one_of(st.dates().map(dt.date.isoformat), st.dates().map(dt.date.isoformat), st.sampled_from(
            ["0000-01-01", "2026-02-30", "10000-01-01", "", "today"]), hostile_values()),
    })


def names_field(message: str, name: Any) -> bool:
    """Whether an error message names a field (whole, as repr, or the start of either when it is long)."""
    text = str(name)
    return any(form[:40] in message for form in (text, repr(text), repr(text)[1:])) if text else True


# --- the server's statement log ----------------------------------------------------------------------------

_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\] ", re.M)
_STATEMENT = re.compile(r"^(?:LOG|DEBUG):\s+(?:statement|execute [^:]*|duration: \S+ ms\s+statement):\s?(.*)\Z", re.S)
# What psycopg itself sends: transaction control around conn.transaction(), the pool's liveness check (an
# empty statement) and pgvector's type lookup (psycopg's TypeInfo.fetch).
LIBRARY = (re.compile(r"(BEGIN|COMMIT|ROLLBACK|SAVEPOINT \"?_pg3_\d+\"?|RELEASE( SAVEPOINT)? \"?_pg3_\d+\"?|"
                      r"ROLLBACK TO( SAVEPOINT)? \"?_pg3_\d+\"?|)"),
           re.compile(re.escape("SELECT typname AS name, oid, typarray AS array_oid, oid::regtype::text AS regtype, "
                                "typdelim AS delimiter FROM pg_type t WHERE t.oid = to_regtype($1) ORDER BY t.oid")))
# Ours, but not (yet) in db/queries: assistant/migrate.py takes its advisory lock with inline SQL.
INLINE = (re.compile(r"SELECT pg_advisory_xact_lock\(\$1\)"),)


@dataclass
class StatementLog:
    """The part of the server log written since `start`: its statements and its errors."""

    path: Path
    start: int = 0
    records: list[str] = field(default_factory=list)

    @classmethod
    def from_now(cls, path: Path) -> StatementLog:
        """A reader of what the server logs from now on."""
        return cls(path, path.stat().st_size)

    def read(self) -> StatementLog:
        """Read the records written since `start`."""
        with self.path.open("rb") as handle:
            handle.seek(self.start)
            text = handle.read().decode("utf-8", errors="replace")
        heads = [m.start() for m in _RECORD.finditer(text)]
        self.records = [_RECORD.sub("", text[a:b], count=1).rstrip("\n") for a, b in zip(heads, [*heads[1:], len(text)],
                                                                                             strict=True)]
        return self

    def statements(self) -> list[str]:
        """Every statement logged (log_statement = all)."""
        return [m.group(1) for r in self.records if (m := _STATEMENT.match(r))]

    def errors(self) -> list[str]:
        """Every ERROR or FATAL record."""
        return [r for r in self.records if r.startswith(("ERROR:", "FATAL:", "PANIC:"))]


def normalise(statement: str) -> str:
    """A statement with its -- comments dropped and its whitespace collapsed."""
    return " ".join(re.sub(r"--[^\n]*", " ", statement).split())


@cache
def known_statements() -> tuple[re.Pattern[str], ...]:
    """Every named query and migration as a pattern: %(name)s and %s are $n, {name} is any composed SQL."""
    queries = sorted(resource_dir("queries").glob("*.sql"))
    files = [*queries, *sorted(resource_dir("migrations").glob("*.sql"))]
    patterns = []
    for path in files:
        text = normalise(path.read_text(encoding="utf-8"))
        if path in queries:
            parts = re.split(r"(%\([a-z_0-9]+\)s|%s|\{[a-z_]*\})", text)
            # psycopg sends a literal %% as %
            regex = "".join(r"\$\d+" if p.startswith("%") else ".*" if p.startswith("{")
                            else re.escape(p.replace("%%", "%")) for p in parts)
        else:  # a migration runs without parameters: its %s (in format() strings) are sent as written
            regex = re.escape(text)
        patterns.append(re.compile(regex, re.S))
        # selfcheck runs smoke_test_vector a block at a time
        patterns += [re.compile(re.escape(normalise(b)), re.S) for b in path.read_text().split(";\n\n") if b.strip()]
    return tuple(patterns)


def foreign(statements: list[str]) -> list[str]:
    """The statements that are neither one of ours nor psycopg's own."""
    allowed = (*known_statements(), *LIBRARY, *INLINE)
    return [s for s in statements if not any(p.fullmatch(normalise(s).rstrip(";")) or p.fullmatch(normalise(s))
                                              for p in allowed)]
