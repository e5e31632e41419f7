"""Read rows from CSV, JSON Lines and Parquet files, numbered as a person counts them."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from assistant.errors import InputError

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


@dataclass(frozen=True)
class SourceRow:
    """One record of an input file: its number (1 = first data row) and its values."""

    number: int
    values: dict[str, Any]
    error: str | None = None  # set when the record itself could not be read


def file_format(path: Path) -> str:
    """csv, jsonl or parquet, from the file name (a trailing .gz is allowed for text formats)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None or (fmt == "parquet" and path.suffix.lower() == ".gz"):
        raise InputError(f"{path}: unsupported file type; use .csv, .jsonl (or .gz of them) or .parquet")
    return fmt


def read_rows(path: Path) -> Iterator[SourceRow]:
    """Yield the file's records in order."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    fmt = file_format(path)
    if fmt == "parquet":
        yield from _read_parquet(path)
        return
    with _open_text(path) as handle:
        yield from (_read_csv(handle) if fmt == "csv" else _read_jsonl(handle))


def count_rows(path: Path) -> int:
    """Number of records, cheaply, for a progress bar."""
    fmt = file_format(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    with _open_text(path) as handle:
        if fmt == "csv":
            return max(sum(1 for _ in csv.reader(handle)) - 1, 0)
        return sum(1 for line in handle if line.strip())


def columns(path: Path) -> list[str] | None:
    """Column names of a CSV or Parquet file (None for JSON Lines, whose keys vary by row)."""
    fmt = file_format(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return [str(name) for name in pq.ParquetFile(path).schema_arrow.names]
    if fmt == "csv":
        with _open_text(path) as handle:
            return next(csv.reader(handle), [])
    return None


def _open_text(path: Path) -> IO[str]:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _read_csv(handle: IO[str]) -> Iterator[SourceRow]:
    reader = csv.DictReader(handle)
    for number, record in enumerate(reader, start=1):
        extra = record.pop(None, None)
        error = f"{len(extra)} more values than the header has columns" if extra else None
        yield SourceRow(number, dict(record), error)


def _read_jsonl(handle: IO[str]) -> Iterator[SourceRow]:
    number = 0
    for line in handle:
        if not line.strip():
            continue
        number += 1
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            yield SourceRow(number, {}, f"invalid JSON: {err.msg} at column {err.colno}")
            continue
        if not isinstance(value, dict):
            yield SourceRow(number, {}, "a JSON object is expected on each line")
            continue
        yield SourceRow(number, value)


def _read_parquet(path: Path) -> Iterator[SourceRow]:
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
        for record in batch.to_pylist():
            number += 1
            yield SourceRow(number, record)
