"""Compile plan filters to SQL: allowlisted fields and operators only, every value a bound parameter."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from psycopg import sql

from assistant.errors import PlanError
from assistant.models import Filter

# Typed columns an analyst may filter on, and how their values are checked.
COLUMNS: dict[str, str] = {
    "id": "integer", "source": "text", "source_id": "text", "occurred_at": "timestamp",
    "category": "text", "subcategory": "text", "severity": "text", "entity_id": "text",
    "entity_name": "text", "amount": "numeric", "currency": "text", "status": "text",
    "scope": "text",
}
ATTRIBUTE_PREFIX = "attributes."
_ATTRIBUTE_KEY = re.compile(r"[a-z0-9_]{1,63}")

_COMPARE = {"eq": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_ORDERED = ("lt", "lte", "gt", "gte")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_NUMERIC_ATTRIBUTE = "(CASE WHEN {0} ~ '^-?[0-9]+(\\.[0-9]+)?$' THEN ({0})::numeric END)"


def field_type(field: str) -> str:
    """The value type of an allowed field; PlanError for anything else."""
    if field in COLUMNS:
        return COLUMNS[field]
    if field.startswith(ATTRIBUTE_PREFIX) and _ATTRIBUTE_KEY.fullmatch(field[len(ATTRIBUTE_PREFIX):]):
        return "text"
    raise PlanError(f"unknown filter field {field!r}; allowed: {', '.join(COLUMNS)} or attributes.<key>")


class CompiledFilters:
    """A WHERE fragment with named placeholders and the parameters that fill them."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self._parts: list[sql.Composable] = []

    @property
    def where(self) -> sql.Composable:
        """AND of every compiled filter (TRUE when there is none)."""
        return sql.SQL(" AND ").join(self._parts) if self._parts else sql.SQL("TRUE")

    def bind(self, value: Any) -> sql.Placeholder:
        """Add a parameter; return its placeholder."""
        name = f"f{len(self.params)}"
        self.params[name] = value
        return sql.Placeholder(name)

    def add(self, part: sql.Composable) -> None:
        """Add one condition."""
        self._parts.append(part)


def compile_filters(filters: list[Filter], alias: str = "ev") -> CompiledFilters:
    """Compile filters; fields are identifiers from the allowlist, values are bound parameters."""
    out = CompiledFilters()
    for f in filters:
        out.add(_compile(f, alias, out))
    return out


def _compile(f: Filter, alias: str, out: CompiledFilters) -> sql.Composable:
    kind = field_type(f.field)
    col = _column(f.field, alias, out)
    if kind == "text" and f.field.startswith(ATTRIBUTE_PREFIX) and f.op in (*_ORDERED, "between") \
            and all(_is_number(v) for v in _operands(f)):
        # "attributes.score_drop gt 80" compares numbers, not text ("9" > "80" as text): an attribute
        # stored as a JSON number, or as a numeric string (CSV), is compared as numeric; any other
        # value matches nothing. The regex guards the cast, so a stray string never raises.
        kind, col = "numeric", sql.SQL(_NUMERIC_ATTRIBUTE).format(col)
    if f.op == "exists":
        return sql.SQL("{} IS NOT NULL" if f.value in (None, True) else "{} IS NULL").format(col)
    if f.op in ("in", "not_in"):
        values = out.bind([_coerce(f, kind, v) for v in _as_list(f)])
        template = "{0} = ANY({1})" if f.op == "in" else "({0} IS NULL OR NOT {0} = ANY({1}))"
        return sql.SQL(template).format(col, values)
    if f.op == "between":
        low, high = _pair(f, kind)
        return sql.SQL("{} BETWEEN {} AND {}").format(col, out.bind(low), out.bind(high))
    if f.op == "contains":
        pattern = "%" + _escape_like(_text(f, str(f.value))) + "%"
        return sql.SQL("{}::text ILIKE {}").format(col, out.bind(pattern))
    if f.op == "ne":
        return sql.SQL("{} IS DISTINCT FROM {}").format(col, out.bind(_coerce(f, kind, f.value)))
    if f.op in _COMPARE:
        op = sql.SQL(_COMPARE[f.op])
        return sql.SQL("{} {} {}").format(col, op, out.bind(_coerce(f, kind, f.value)))
    raise PlanError(f"unknown filter operator {f.op!r}")


def _column(field: str, alias: str, out: CompiledFilters) -> sql.Composable:
    if field in COLUMNS:
        return sql.Identifier(alias, field)
    key = out.bind(field[len(ATTRIBUTE_PREFIX):])
    return sql.SQL("({} ->> {})").format(sql.Identifier(alias, "attributes"), key)


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and _NUMBER.fullmatch(str(value).strip()) is not None


def _operands(f: Filter) -> list[Any]:
    # A between's value may be anything an editor typed (None, a number): _pair refuses it by name later.
    return list(f.value) if f.op == "between" and isinstance(f.value, list | tuple) else [f.value]


def _as_list(f: Filter) -> list[Any]:
    if not isinstance(f.value, list | tuple) or not f.value:
        raise PlanError(f"filter {f.field} {f.op} needs a non-empty list of values")
    return list(f.value)


def _pair(f: Filter, kind: str) -> tuple[Any, Any]:
    values = _as_list(f)
    if len(values) != 2:
        raise PlanError(f"filter {f.field} between needs exactly two values, got {len(values)}")
    return _coerce(f, kind, values[0]), _coerce(f, kind, values[1])


def _coerce(f: Filter, kind: str, value: Any) -> Any:
    try:
        if kind == "timestamp":
            return _timestamp(value)
        if kind == "numeric":
            return Decimal(str(value))
        if kind == "integer":
            return int(value)
    except (ValueError, TypeError, InvalidOperation):
        raise PlanError(f"filter {f.field} {f.op}: {value!r} is not a valid {kind}") from None
    if value is None or isinstance(value, dict | list):
        raise PlanError(f"filter {f.field} {f.op}: {value!r} is not a valid value")
    return _text(f, str(value))


def _text(f: Filter, text: str) -> str:
    # PostgreSQL text cannot hold NUL: a plan that carries one is refused by field, not by the database.
    if "\x00" in text:
        raise PlanError(f"filter {f.field} {f.op}: a value cannot contain a NUL (\\x00) character")
    return text


def _timestamp(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    else:
        parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
