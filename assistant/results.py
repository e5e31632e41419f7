"""The output file of a batch run, appended durably and resumable: CSV, JSON Lines or Parquet.

Rows are keyed by id (text); `ResultFile.open` reports the ids already there, so that a re-run skips them
and an interrupted run is resumed by running it again.
- CSV and JSON Lines are appended one complete record per write, flushed and fsynced: a crash loses at most
  the rows in flight. A torn last record (a crash mid-write: no final newline, or an unterminated quote) is
  cut off on resume before anything is appended; anything else that does not parse stops the run with an
  InputError, so nothing already in OUT is lost.
- Parquet cannot be appended. Rows are appended to a JSON Lines journal beside it (`OUT.journal.jsonl`, as
  above); when the run ends, interrupted or not, OUT is rewritten from its old rows and the journal's (to a
  temporary file, fsynced, then os.replace, so OUT is always a whole file) and the journal is removed. A
  killed run leaves the journal: the next run counts its ids as done and merges it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.errors import InputError

COLUMNS = ("id", "question", "answer_id", "matched", "summary", "citations", "mode", "error", "seconds", "as_of")


class ResultFile:
    """OUT opened for appending: CSV and JSON Lines directly, Parquet through a journal (see the module doc)."""

    def __init__(self, path: Path, fmt: str, done: set[str], journal: _Lines | None = None,
                 lines: _Lines | None = None) -> None:
        self.path, self.fmt, self.done = path, fmt, done
        self._journal, self._lines = journal, lines

    @classmethod
    def open(cls, path: Path, fmt: str) -> ResultFile:
        """Open OUT, cutting off a torn last record; `done` holds the ids already there."""
        if fmt != "parquet":
            lines = _Lines(path, fmt)
            return cls(path, fmt, set(lines.done), lines=lines)
        journal = _Lines(journal_path(path), "jsonl")
        return cls(path, fmt, _parquet_ids(path) | journal.done, journal=journal)

    @staticmethod
    def done_ids(path: Path, fmt: str) -> set[str]:
        """The ids OUT already holds (its journal's too), read without changing anything."""
        if fmt != "parquet":
            return _complete_ids(path, fmt)[0]
        return _parquet_ids(path) | _complete_ids(journal_path(path), "jsonl")[0]

    def write(self, row: dict[str, Any]) -> None:
        """Append one row durably."""
        target = self._lines or self._journal
        assert target is not None
        target.write(row)
        self.done.add(str(row["id"]))

    def close(self) -> None:
        """Close; for Parquet, merge the journal into OUT (atomically) and remove it."""
        if self._lines is not None:
            self._lines.close()
        if self._journal is not None:
            self._journal.close()
            _merge_parquet(self.path, self._journal.path)


def journal_path(path: Path) -> Path:
    """Where a Parquet output's rows are journalled until they are merged."""
    return path.with_name(path.name + ".journal.jsonl")


class _Lines:
    """An append-only CSV or JSON Lines file: one complete record per write, flushed and fsynced."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path, self.fmt = path, fmt
        self.done, good = _complete_ids(path, fmt)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(path, "ab")  # noqa: SIM115 (open for the object's lifetime; close() closes it)
        if self._handle.tell() > good:  # a torn last record: cut it off before appending
            self._handle.truncate(good)
            self._fsync()
        if good == 0 and fmt == "csv":
            self._append(_csv_line(list(COLUMNS)))

    def write(self, row: dict[str, Any]) -> None:
        if self.fmt == "csv":
            cited = row["citations"]
            values = {**row, "citations": " ".join(map(str, cited)) if cited is not None else None}
            self._append(_csv_line(["" if values[c] is None else str(values[c]) for c in COLUMNS]))
        else:
            self._append(json.dumps(row, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self._handle.close()

    def _append(self, text: str) -> None:
        self._handle.write(text.encode("utf-8"))  # one write of one whole record
        self._fsync()

    def _fsync(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())


def _csv_line(values: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def _complete_ids(path: Path, fmt: str) -> tuple[set[str], int]:
    """The ids of OUT's complete records and the byte length they fill (what follows is a torn record)."""
    if not path.exists():
        return set(), 0
    data = path.read_bytes()
    lines = [m.group() for m in re.finditer(rb"[^\n]*\n|[^\n]+", data)]
    records, good = (_csv_records if fmt == "csv" else _jsonl_records)(path, lines)
    return {r["id"] for r in records}, good


def _jsonl_records(path: Path, lines: list[bytes]) -> tuple[list[dict[str, str]], int]:
    records, good = [], 0
    for number, line in enumerate(lines, start=1):
        if not line.endswith(b"\n"):
            break  # the torn last line
        try:
            value = json.loads(line)
            if set(value) != set(COLUMNS):
                raise ValueError("other columns")
            records.append({"id": str(value["id"])})
        except (ValueError, TypeError):
            raise InputError(f"{path}, row {number}: not what a batch run writes (a JSON object with the keys "
                             f"{', '.join(COLUMNS)}); move the file away or choose another output") from None
        good += len(line)
    return records, good


class _Feed:
    """Lines for csv.reader, remembering how far it has read: a record ends with the last line it took."""

    def __init__(self, lines: list[bytes]) -> None:
        self.lines, self.read, self.last = lines, 0, b""

    def __iter__(self) -> Iterator[str]:
        for line in self.lines:
            self.read, self.last = self.read + len(line), line
            yield line.decode("utf-8", errors="replace")


def _csv_records(path: Path, lines: list[bytes]) -> tuple[list[dict[str, str]], int]:
    feed, records, good = _Feed(lines), [], 0
    try:
        for number, record in enumerate(csv.reader(feed, strict=True)):
            if not feed.last.endswith(b"\n"):
                break  # the torn last record
            expected = tuple(record) == COLUMNS if number == 0 else len(record) == len(COLUMNS)
            if not expected:
                where = f"row {number}" if number else "header"
                raise InputError(f"{path}, {where}: not what a batch run writes (columns: {', '.join(COLUMNS)}); "
                                 "move the file away or choose another output")
            records += [{"id": record[0]}] if number else []
            good = feed.read
    except csv.Error as error:
        if feed.read < sum(map(len, lines)):  # not at the end of the file: not a torn record
            raise InputError(f"{path}, after byte {good}: not valid CSV ({error}); move the file away or "
                             "choose another output") from None
    return records, good


def _parquet_schema() -> Any:
    import pyarrow as pa

    text = pa.string()
    return pa.schema([("id", text), ("question", text), ("answer_id", text), ("matched", pa.int64()),
                      ("summary", text), ("citations", pa.list_(pa.int64())), ("mode", text), ("error", text),
                      ("seconds", pa.float64()), ("as_of", text)])


def _parquet_rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot read it as parquet: {error}; move it away or choose another output") from None
    if tuple(table.column_names) != COLUMNS:
        raise InputError(f"{path}: not a batch output (columns: {', '.join(table.column_names)}); move it away "
                         "or choose another output")
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _parquet_ids(path: Path) -> set[str]:
    return {str(r["id"]) for r in _parquet_rows(path)}


def _merge_parquet(path: Path, journal: Path) -> None:
    """OUT's rows and then the journal's (each id once, the first kept), written whole; then no journal."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    added = [json.loads(line) for line in journal.read_bytes().splitlines(keepends=True) if line.endswith(b"\n")]
    if path.exists() and not added:
        journal.unlink()
        return
    rows: dict[str, dict[str, Any]] = {}
    for row in [*_parquet_rows(path), *added]:
        rows.setdefault(str(row["id"]), row)  # an id merged before a crash is in both: the first one wins
    temporary = path.with_name(path.name + ".tmp")
    pq.write_table(pa.Table.from_pylist(list(rows.values()), schema=_parquet_schema()), temporary)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    journal.unlink()
