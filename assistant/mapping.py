"""Map a source's columns to canonical event fields (TOML mapping files) and check each value."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from assistant.errors import InputError
from assistant.models import SEVERITIES, RiskEvent

CANONICAL = (
    "source_id", "occurred_at", "category", "subcategory", "severity", "entity_id", "entity_name",
    "amount", "currency", "status", "title", "text", "scope",
)
REQUIRED = ("source_id", "occurred_at", "category", "text")
_AMOUNT_JUNK = re.compile(r"[\s,$€£{}]")


@dataclass(frozen=True)
class FieldError:
    """Why one field of one row was rejected."""

    field: str
    value: Any
    message: str


class Mapping(BaseModel):
    """How one source's columns become canonical fields; unmapped columns become attributes."""

    source: str
    fields: dict[str, str] = Field(default_factory=dict)
    defaults: dict[str, str] = Field(default_factory=dict)
    date_formats: list[str] = Field(default_factory=list)
    null_values: list[str] = Field(default_factory=lambda: ["", "None", "null", "NULL", "N/A", "NaN"])
    severity_map: dict[str, str] = Field(default_factory=dict)
    exclude: list[str] = Field(default_factory=list)
    # [labels.<column or field>]: words for stored values that are codes or terse ("CFSAN" = "Center
    # for Food Safety and Applied Nutrition"); the planner reads a value by its label too.
    labels: dict[str, dict[str, str]] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Mapping:
        """Read and check a TOML mapping file."""
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
            mapping = cls.model_validate(_flatten_parse_table(raw))
        except (OSError, tomllib.TOMLDecodeError, ValidationError) as err:
            raise InputError(f"mapping {path}: {err}") from err
        unknown = sorted(set(mapping.fields) - set(CANONICAL))
        if unknown:
            raise InputError(f"mapping {path}: [fields] has unknown canonical field(s) {unknown}; "
                             f"known: {', '.join(CANONICAL)}")
        return mapping

    @classmethod
    def identity(cls, source: str) -> Mapping:
        """Columns already named like the canonical fields."""
        return cls(source=source)

    def stored_labels(self) -> list[tuple[str, str, str]]:
        """(stored field, value, label) for every declared label: a canonical field keeps its name, a
        column mapped to one becomes that field, any other column its attribute."""
        by_column = {column: field for field, column in self.fields.items()}
        found = []
        for name, labels in self.labels.items():
            field = name if name in CANONICAL else by_column.get(name, f"attributes.{attribute_key(name)}")
            found += [(field, value, label) for value, label in labels.items()]
        return found

    def column_for(self, field: str) -> str:
        """The source column that feeds a canonical field."""
        return self.fields.get(field, field)

    def missing_columns(self, available: list[str]) -> list[str]:
        """Mapped columns the file does not have."""
        return [f"{field} = {col!r}" for field, col in self.fields.items() if col not in available]

    def to_event(self, values: dict[str, Any]) -> RiskEvent | list[FieldError]:
        """Build the canonical event for one row, or say which fields are wrong."""
        errors: list[FieldError] = []
        canonical: dict[str, Any] = {"source": self.source}
        for field in CANONICAL:
            raw = self._value(values, field)
            try:
                converted = _CONVERT.get(field, _text)(raw, self)
            except ValueError as err:
                errors.append(FieldError(field, raw, str(err)))
                continue
            if converted is None and field in REQUIRED:
                errors.append(FieldError(field, raw, "required but empty"))
            elif converted is not None:
                canonical[field] = converted
        if errors:
            return errors
        canonical["attributes"] = self._attributes(values)
        return RiskEvent.model_validate(canonical)

    def _value(self, values: dict[str, Any], field: str) -> Any:
        raw = values.get(self.column_for(field))
        if self._is_null(raw):
            raw = self.defaults.get(field)
        return None if self._is_null(raw) else raw

    def _is_null(self, raw: Any) -> bool:
        return raw is None or (isinstance(raw, str) and raw.strip() in self.null_values)

    def _attributes(self, values: dict[str, Any]) -> dict[str, Any]:
        used = {self.column_for(field) for field in CANONICAL} | set(self.exclude)
        attributes: dict[str, Any] = {}
        for column, raw in values.items():
            if column in used or self._is_null(raw):
                continue
            if column == "attributes" and isinstance(raw, dict):
                attributes.update({attribute_key(k): _json_value(v) for k, v in raw.items()})
            else:
                attributes[attribute_key(column)] = _json_value(raw)
        return attributes


def attribute_key(column: str) -> str:
    """A column name as an attribute key: lower snake_case ("ZIP code" -> "zip_code")."""
    key = re.sub(r"[^0-9a-zA-Z]+", "_", column).strip("_").lower()
    return key or "column"


def _flatten_parse_table(raw: dict[str, Any]) -> dict[str, Any]:
    parse = raw.pop("parse", {})
    attributes = raw.pop("attributes", {})
    return {**raw, **parse, **({"exclude": attributes["exclude"]} if "exclude" in attributes else {})}


def _text(raw: Any, _: Mapping) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # ids read from Parquet or JSON as 3571115.0
    if isinstance(raw, dict | list):
        raise ValueError(f"expected text, got a {type(raw).__name__}")
    text = str(raw).strip()
    return text or None


def _timestamp(raw: Any, mapping: Mapping) -> dt.datetime | None:
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, dt.date):
        value = dt.datetime.combine(raw, dt.time())
    elif isinstance(raw, str):
        value = _parse_date_text(raw.strip(), mapping.date_formats)
    else:
        raise ValueError(f"expected a date, got {type(raw).__name__} {raw!r}")
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _parse_date_text(text: str, formats: list[str]) -> dt.datetime:
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        tried = ", ".join([*formats, "ISO 8601"])
        raise ValueError(f"unparseable date {text!r} (formats tried: {tried})") from None


def _amount(raw: Any, _: Mapping) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError(f"expected a number, got {raw!r}")
    try:
        value = Decimal(_AMOUNT_JUNK.sub("", raw) if isinstance(raw, str) else str(raw))
    except InvalidOperation:
        raise ValueError(f"expected a number, got {raw!r}") from None
    if not value.is_finite() or abs(value) >= Decimal("1e16"):
        raise ValueError(f"amount {raw!r} is out of range")
    return value.quantize(Decimal("0.01"))


def _severity(raw: Any, mapping: Mapping) -> str | None:
    text = _text(raw, mapping)
    if text is None:
        return None
    value = mapping.severity_map.get(text, text).strip().lower()
    if value not in SEVERITIES:
        raise ValueError(f"{text!r} is not one of {', '.join(SEVERITIES)} (map it in [parse.severity_map])")
    return value


def _currency(raw: Any, mapping: Mapping) -> str | None:
    text = _text(raw, mapping)
    if text is None:
        return None
    if not re.fullmatch(r"[A-Za-z]{3}", text):
        raise ValueError(f"{text!r} is not a three-letter ISO 4217 code")
    return text.upper()


def _json_value(raw: Any) -> Any:
    if isinstance(raw, dt.date | dt.datetime):
        return raw.isoformat()
    if isinstance(raw, Decimal):
        return float(raw)
    if isinstance(raw, str):
        return raw.strip()
    return raw


_CONVERT = {
    "occurred_at": _timestamp,
    "amount": _amount,
    "severity": _severity,
    "currency": _currency,
}
