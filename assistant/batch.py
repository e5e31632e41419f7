"""Many questions at once: answers in input order, a failing question kept as an error row, and
resumable CSV, JSON Lines and Parquet files in and out.

Concurrency is threads over the synchronous pipeline: the database is a connection pool and the embedding
model is behind a lock, so N workers run `RiskAssistant.ask` at once (never more than the pool's
RISK_POOL_SIZE connections). `ask_batch_async` runs the same workers under asyncio, bounded by a semaphore.

Files (`open_file_job` / `run_file_job`, the `risk-assistant batch` command): each output row is keyed by
the input's id, or its row number (1 = first data row) when there is no id column; a re-run skips the ids
already in OUT (assistant/results.py: how OUT is appended durably, and how a torn last record is handled).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import itertools
import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeAlias

from assistant.errors import AssistantError, InputError, redact
from assistant.models import Answer, QueryPlan
from assistant.render.text import to_text
from assistant.results import COLUMNS, ResultFile
from assistant.sources import FORMATS

if TYPE_CHECKING:
    import pandas as pd

    from assistant.api import RiskAssistant
    from assistant.config import Settings

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class BatchItem:
    """One question to answer, under its key."""

    key: str
    question: str
    as_of: dt.date | str | None = None  # text is read as YYYY-MM-DD when answered; a bad one fails that question
    plan: QueryPlan | None = None  # runs exactly as given, like `ask(question, plan=...)`


# A string, an (id, question) pair, or a dict {"question", and optionally "id", "as_of" (a date or ISO text),
# "plan" (a QueryPlan)}, or an item.
BatchQuestion: TypeAlias = str | tuple[Any, str] | Mapping[str, Any] | BatchItem


@dataclass(frozen=True)
class BatchResult:
    """The outcome of one question: its answer, or a readable error (never a traceback)."""

    key: str
    question: str
    answer: Answer | None
    error: str | None
    seconds: float
    as_of: dt.date | None = None  # the plan's as-of date (the asked one when the question failed)

    def row(self) -> dict[str, Any]:
        """One output row: the columns of COLUMNS, the summary as plain text (assistant.render.text)."""
        a = self.answer
        return {"id": self.key, "question": self.question, "answer_id": a.id if a else None,
                "matched": a.facts.matched if a else None, "summary": to_text(a) if a else None,
                "citations": list(a.citations) if a else None, "mode": a.mode if a else None,
                "error": self.error, "seconds": round(self.seconds, 3),
                "as_of": self.as_of.isoformat() if self.as_of else None}


def ask_batch(assistant: RiskAssistant, questions: Iterable[BatchQuestion], *, concurrency: int = 4,
              as_of: dt.date | None = None, analyst: str = "local") -> list[BatchResult]:
    """Answer every question on `concurrency` threads; results in input order, a failure as an error."""
    items = to_items(questions, as_of)
    by_key = {r.key: r for r in iter_batch(assistant, items, concurrency=concurrency, analyst=analyst)}
    return [by_key[item.key] for item in items]


async def ask_batch_async(assistant: RiskAssistant, questions: Iterable[BatchQuestion], *, concurrency: int = 4,
                          as_of: dt.date | None = None, analyst: str = "local") -> list[BatchResult]:
    """ask_batch under asyncio: the same workers on a thread pool, at most `concurrency` at a time."""
    items = to_items(questions, as_of)
    workers = worker_count(assistant.settings, concurrency)
    semaphore, loop = asyncio.Semaphore(workers), asyncio.get_running_loop()
    pool = ThreadPoolExecutor(workers, thread_name_prefix="risk-batch")

    async def one(item: BatchItem) -> BatchResult:
        async with semaphore:
            return await loop.run_in_executor(pool, answer_item, assistant, item, analyst)

    try:
        return list(await asyncio.gather(*(one(item) for item in items)))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def iter_batch(assistant: RiskAssistant, items: Iterable[BatchItem], *, concurrency: int = 4,
               analyst: str = "local") -> Iterator[BatchResult]:
    """Results as they finish; at most twice `concurrency` questions are taken from `items` ahead."""
    workers = worker_count(assistant.settings, concurrency)
    pending = iter(items)
    running: set[Future[BatchResult]] = set()
    with ThreadPoolExecutor(workers, thread_name_prefix="risk-batch") as pool:
        try:
            while True:
                for item in itertools.islice(pending, 2 * workers - len(running)):
                    running.add(pool.submit(answer_item, assistant, item, analyst))
                if not running:
                    return
                done, running = wait(running, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in done)
        finally:  # stopped early (Ctrl-C): what has not started never will; what runs finishes
            for future in running:
                future.cancel()


def worker_count(settings: Settings, concurrency: int) -> int:
    """Threads to run: `concurrency`, at most the connection pool's size (a worker holds one at a time)."""
    if concurrency < 1:
        raise InputError(f"concurrency must be at least 1, got {concurrency}")
    return min(concurrency, settings.pool_size)


def answer_item(assistant: RiskAssistant, item: BatchItem, analyst: str = "local") -> BatchResult:
    """Answer one question; any failure becomes the result's error message."""
    started, as_of = time.perf_counter(), None
    try:
        as_of = _date(item.as_of, "as_of")
        if not item.question.strip():
            raise InputError("the question is empty")
        answer = assistant.ask(item.question, as_of=as_of, plan=item.plan, analyst=analyst)
    except Exception as error:  # one question's failure must not stop the others
        log.debug("batch question %r failed", item.key, exc_info=True)
        return BatchResult(item.key, item.question, None, describe_error(error, assistant.settings),
                           time.perf_counter() - started, as_of)
    return BatchResult(item.key, item.question, answer, None, time.perf_counter() - started, answer.plan.as_of)


def describe_error(error: Exception, settings: Settings) -> str:
    """One readable line: the core's message, or the type and first line of an unexpected error, with the
    configured secrets and any password in a URL masked."""
    text = str(error) if isinstance(error, AssistantError) else f"unexpected {type(error).__name__}: {error}"
    text = (text.strip().splitlines() or [type(error).__name__])[0][:500]
    return redact(text, settings.secret_values())


def to_items(questions: Iterable[BatchQuestion], as_of: dt.date | None = None) -> list[BatchItem]:
    """The questions as items: strings are keyed by their position (1 = first), pairs and dicts by their id."""
    items = [_item(number, question, as_of) for number, question in enumerate(questions, start=1)]
    seen: dict[str, int] = {}
    for number, item in enumerate(items, start=1):
        first = seen.setdefault(item.key, number)
        if first != number:
            raise InputError(f"question {number}, field 'id': {item.key!r} repeats the id of question {first}")
    return items


def _item(number: int, question: BatchQuestion, as_of: dt.date | None) -> BatchItem:
    if isinstance(question, BatchItem):
        return question
    if isinstance(question, str):
        return BatchItem(str(number), question, as_of)
    if isinstance(question, tuple) and len(question) == 2 and isinstance(question[1], str):
        return BatchItem(str(question[0]), question[1], as_of)
    if isinstance(question, Mapping) and isinstance(question.get("question"), str):
        plan = question.get("plan")
        if plan is not None and not isinstance(plan, QueryPlan):
            raise InputError(f"question {number}, field 'plan': expected a QueryPlan, got {type(plan).__name__}")
        return BatchItem(str(question.get("id", number)), question["question"], question.get("as_of") or as_of, plan)
    raise InputError(f"question {number}: expected a string, an (id, question) pair or a dict with a "
                     f"'question' string; got {type(question).__name__}")


def _date(value: object, name: str) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"{name} {value!r} is not a date (YYYY-MM-DD)") from None


# DataFrames


def answers_frame(results: Iterable[BatchResult]) -> pd.DataFrame:
    """One row per result, the columns of COLUMNS in that order."""
    import pandas as pd

    return pd.DataFrame([r.row() for r in results], columns=list(COLUMNS))


def ask_frame(assistant: RiskAssistant, frame: pd.DataFrame, *, question_column: str = "question",
              id_column: str | None = None, as_of: dt.date | None = None, concurrency: int = 4,
              analyst: str = "local") -> pd.DataFrame:
    """Answer a DataFrame's questions; one row per question (answers_frame). The id column defaults to `id`
    when there is one, else the row number (1 = first); an `as_of` column, where set, overrides `as_of`."""
    rows = [(number, {str(k): v for k, v in record.items()})
            for number, record in enumerate(frame.to_dict("records"), start=1)]
    items = items_from_rows("DataFrame", rows, [str(c) for c in frame.columns], question_column=question_column,
                            id_column=id_column, as_of=as_of)
    return answers_frame(ask_batch(assistant, items, concurrency=concurrency, analyst=analyst))


def items_from_rows(where: str, rows: Iterable[tuple[int, Mapping[str, Any]]], columns: list[str] | None, *,
                    question_column: str, id_column: str | None, as_of: dt.date | None) -> list[BatchItem]:
    """Rows of a file or frame as items; a missing column, an empty question, a bad id or as_of, or a repeated
    id is an InputError naming `where`, the row (1 = first data row) and the field."""
    for name in (question_column, id_column):
        if columns is not None and name is not None and name not in columns:
            raise InputError(f"{where}, header, field {name!r}: no such column (columns: {', '.join(columns)})")
    rows = list(rows)
    if id_column is None and any("id" in values for _, values in rows):
        id_column = "id"
    items: list[BatchItem] = []
    seen: dict[str, int] = {}
    for number, values in rows:
        item = _row_item(where, number, values, question_column, id_column, as_of)
        first = seen.setdefault(item.key, number)
        if first != number:
            raise InputError(f"{where}, row {number}, field {id_column!r}: {item.key!r} repeats the id of row {first}")
        items.append(item)
    return items


def _row_item(where: str, number: int, values: Mapping[str, Any], question_column: str, id_column: str | None,
              as_of: dt.date | None) -> BatchItem:
    at = f"{where}, row {number}"
    question = _blank_to_none(values.get(question_column))
    if not isinstance(question, str) or not question.strip():
        kind = "empty" if question is None or isinstance(question, str) else f"not text ({type(question).__name__})"
        raise InputError(f"{at}, field {question_column!r}: {kind}; every row needs a question")
    key = str(number)
    if id_column is not None:
        raw = _blank_to_none(values.get(id_column))
        if raw is None or not str(raw).strip():
            raise InputError(f"{at}, field {id_column!r}: empty; every row needs an id")
        key = str(raw).strip()
    try:
        row_as_of = _date(_blank_to_none(values.get("as_of")), "as_of") or as_of
    except InputError as error:
        raise InputError(f"{at}, field 'as_of': {error}") from None
    return BatchItem(key, question, row_as_of)


def _blank_to_none(value: object) -> object:
    """None for a missing value: pandas' NaN / NaT and an absent key alike."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return None if type(value).__name__ in ("NaTType", "NAType") else value


# Files


@dataclass
class FileSummary:
    """What a file run did."""

    out: Path
    total: int  # questions in the input
    skipped: int  # already in OUT
    answered: int = 0
    failed: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (id, error) of the failed questions

    def summary(self) -> str:
        """The one-line summary the CLI prints."""
        return (f"{self.out}: {self.answered} answered, {self.failed} failed, {self.skipped} already there "
                f"(of {self.total})")


@dataclass
class FileJob:
    """An input file read and checked, and its output opened for appending: what is left to ask."""

    source: Path
    out: Path
    items: list[BatchItem]
    pending: list[BatchItem]
    out_format: str


def open_file_job(source: Path, out: Path, *, in_format: str | None = None, out_format: str | None = None,
                  question_column: str = "question", id_column: str | None = None,
                  as_of: dt.date | None = None) -> FileJob:
    """Read and check the whole input and find the ids OUT already holds; nothing is written yet."""
    if source.resolve() == out.resolve():
        raise InputError(f"{out}: the output must not be the input file")
    fmt = file_format(source, in_format)
    columns, rows = read_records(source, fmt)
    items = items_from_rows(str(source), rows, columns, question_column=question_column, id_column=id_column,
                            as_of=as_of)
    out_format = file_format(out, out_format)
    done = ResultFile.done_ids(out, out_format)
    return FileJob(source, out, items, [i for i in items if i.key not in done], out_format)


def run_file_job(assistant: RiskAssistant, job: FileJob, *, concurrency: int = 4, analyst: str = "local",
                 progress: Callable[[int], None] | None = None) -> FileSummary:
    """Ask what is left and append each row as it finishes (a torn last record is cut off first); OUT is
    whole even when interrupted."""
    worker_count(assistant.settings, concurrency)
    result = FileSummary(job.out, len(job.items), len(job.items) - len(job.pending))
    sink = ResultFile.open(job.out, job.out_format)
    try:
        for done in iter_batch(assistant, job.pending, concurrency=concurrency, analyst=analyst):
            sink.write(done.row())
            result.answered += done.error is None
            result.failed += done.error is not None
            result.errors += [(done.key, done.error)] if done.error else []
            if progress is not None:
                progress(1)
    finally:
        sink.close()
    return result


def file_format(path: Path, given: str | None = None) -> str:
    """csv, jsonl or parquet: as given, else from the file name."""
    fmt = given.lower() if given else FORMATS.get(path.suffix.lower())
    if fmt not in ("csv", "jsonl", "parquet"):
        raise InputError(f"{path}: unknown format {given or path.suffix!r}; use .csv, .jsonl or .parquet "
                         "(or name the format: csv, jsonl, parquet)")
    return fmt


def read_records(path: Path, fmt: str) -> tuple[list[str] | None, list[tuple[int, dict[str, Any]]]]:
    """The file's columns (None for JSON Lines) and its records numbered from 1; an unreadable file or record
    is an InputError naming file and row."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            return [str(n) for n in table.column_names], list(enumerate(table.to_pylist(), start=1))
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return _read_csv(path, handle) if fmt == "csv" else (None, _read_jsonl(path, handle))
    except (OSError, ValueError, csv.Error) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise InputError(f"{path}: cannot read it as {fmt}: {str(error).strip().splitlines()[0]}") from None


def _read_csv(path: Path, handle: IO[str]) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    reader = csv.DictReader(handle)
    records = []
    for number, record in enumerate(reader, start=1):
        if None in record:
            raise InputError(f"{path}, row {number}: more values than the header has columns")
        records.append((number, dict(record)))
    return list(reader.fieldnames or []), records


def _read_jsonl(path: Path, handle: IO[str]) -> list[tuple[int, dict[str, Any]]]:
    records: list[tuple[int, dict[str, Any]]] = []
    for line in filter(str.strip, handle):
        number = len(records) + 1
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}, row {number}: not valid JSON ({error.msg} at column {error.colno})") from None
        if not isinstance(value, dict):
            raise InputError(f"{path}, row {number}: a JSON object is expected on each line")
        records.append((number, value))
    return records
