"""Load a file of risk events: map, check, embed what changed, upsert in atomic batches via COPY."""

from __future__ import annotations

import csv
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from assistant import bm25, registry, sources, vector_index
from assistant.db import Database
from assistant.embed import Embedder
from assistant.errors import DatabaseError, InputError
from assistant.mapping import FieldError, Mapping
from assistant.models import RiskEvent
from assistant.resources import query

Progress = Callable[[int], None]  # told how many more rows were read (loaded or rejected)


@dataclass(frozen=True)
class Rejection:
    """A row that was not loaded, and why."""

    file: str
    row: int
    field: str
    value: str
    error: str


MAX_LEXEMES = 16_000  # a sparsevec's most non-zero elements: the BM25 document vector (migrations/0008_bm25.sql)


@dataclass
class IngestResult:
    """Counts for one ingest run; `rejections` name file, row and field."""

    path: Path
    source: str
    total: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    embedded: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    report_path: Path | None = None
    seconds: float = 0.0
    index_build: vector_index.IndexBuild | None = None  # the vector index (re)built after this run, if it was
    backend: str = ""  # the embedding backend that embedded this run's texts (torch, torch-bf16, onnx-int8)

    @property
    def rejected(self) -> int:
        """Rows rejected (a row with several bad fields counts once)."""
        return len({r.row for r in self.rejections})

    def summary(self) -> str:
        """The one-line summary the CLI prints."""
        line = (f"{self.path.name}: {self.inserted} inserted, {self.updated} updated, "
                f"{self.unchanged} unchanged, {self.rejected} rejected")
        if self.report_path is not None:
            line += f" (report: {self.report_path})"
        if self.embedded:
            line += f"; {self.embedded} embedded by {self.backend or 'the model'}"
        if self.index_build is not None:
            built = self.index_build
            line += f"; vector index built: {built.lists} lists over {built.rows} vectors in {built.seconds:.1f} s"
        return line


@dataclass
class _Batch:
    events: list[RiskEvent] = field(default_factory=list)
    hashes: list[bytes] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # the events' row numbers in the file

    def describe(self) -> str:
        """Which rows of the file the batch holds, for an error message."""
        return f"rows {self.rows[0]}-{self.rows[-1]}" if self.rows else "no rows"


def ingest_file(db: Database, embedder: Embedder, path: Path, mapping: Mapping, *,
                batch_size: int = 1000,
                report_path: Path | None = None, progress: Progress | None = None) -> IngestResult:
    """Ingest one file; each batch commits whole or not at all, so a re-run completes exactly."""
    started = time.monotonic()
    db.ensure_embedding_model(embedder.name, embedder.dimension)
    _check_columns(path, mapping)
    result = IngestResult(path=path, source=mapping.source, backend=embedder.backend)
    reported = 0  # rows read, loaded or rejected, that progress has been told about
    for batch in _batches(path, mapping, batch_size, result):
        with _storing(db, path, f"the batch of {batch.describe()}"):
            _load_batch(db, embedder, batch, result)
        if progress is not None:
            progress(result.total - reported)
            reported = result.total
    if progress is not None and result.total > reported:
        progress(result.total - reported)
    with _storing(db, path, "the registry of stored values, after every batch was stored,"):
        registry.save_labels(db, mapping.stored_labels())
        # Refreshed even when every row was unchanged: a run killed after its last batch committed but
        # before this refresh left the registry without that batch's values, and its re-run changes nothing.
        if result.total > result.rejected:
            registry.refresh(db)
    with _storing(db, path, "the BM25 weights, after every batch was stored,"):
        # Called even when nothing changed, for the same reason as the refresh above (migrations/0008_bm25.sql).
        bm25.reweigh(db)
    with _storing(db, path, "the vector index, after every batch was stored,"):
        # Built once the model has enough vectors, rebuilt as they double (assistant/vector_index.py).
        result.index_build = vector_index.maintain(db, embedder.name, embedder.dimension)
    if result.rejections:
        result.report_path = report_path or Path.cwd() / f"{path.name}.rejected.csv"
        write_rejections(result.rejections, result.report_path)
    with _storing(db, path, "the record of this run, after every batch was stored,"):
        db.execute(query("insert_ingest_run"), {
            "source": result.source, "path": str(path), "inserted": result.inserted,
            "updated": result.updated, "unchanged": result.unchanged, "rejected": result.rejected,
        })
    result.seconds = time.monotonic() - started
    return result


def content_hash(event: RiskEvent) -> bytes:
    """SHA-256 of the event's canonical JSON: equal content, equal hash."""
    canonical = json.dumps(event.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).digest()


def write_rejections(rejections: list[Rejection], path: Path) -> None:
    """Write the rejected rows as CSV: file, row, field, value, error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "row", "field", "value", "error"])
        for r in rejections:
            writer.writerow([r.file, r.row, r.field, r.value, r.error])


@contextmanager
def _storing(db: Database, path: Path, what: str) -> Iterator[None]:
    """Turn a failed write (a full disk, a server that went away) into an error naming the file, the rows
    and where the database keeps its files; the failed transaction left nothing of it behind."""
    try:
        yield
    except (psycopg.Error, DatabaseError) as err:  # the pool turns a lost or failing server into DatabaseError
        cause = err.__cause__ if isinstance(err, DatabaseError) and isinstance(err.__cause__, psycopg.Error) else err
        where = f" (the database's files are in {db.server.pgdata})" if db.server is not None else ""
        detail = " ".join(str(cause).split())[:300] or type(cause).__name__
        raise DatabaseError(f"{path}: {what} could not be stored{where}: {detail}; nothing of it was written, "
                            "the batches before it are stored: fix the cause (free disk space, restart the "
                            "database) and run the same ingest again to finish") from err


def _check_columns(path: Path, mapping: Mapping) -> None:
    available = sources.columns(path)
    if available is None:
        return
    missing = mapping.missing_columns(available)
    if missing:
        raise InputError(f"{path}: the mapping names column(s) the file lacks: {'; '.join(missing)} "
                         f"(columns: {', '.join(available)})")


def _batches(path: Path, mapping: Mapping, size: int, result: IngestResult) -> Iterator[_Batch]:
    """Good rows in batches; bad rows and repeated source ids go to result.rejections."""
    seen: dict[str, int] = {}
    batch = _Batch()
    for row in sources.read_rows(path):
        result.total += 1
        event = _event_or_reject(path, row, mapping, result)
        if event is None:
            continue
        first = seen.setdefault(event.source_id, row.number)
        if first != row.number:
            _reject(result, path, row.number, [FieldError(
                "source_id", event.source_id, f"repeats the id of row {first}; the first one was kept")])
            continue
        batch.events.append(event)
        batch.hashes.append(content_hash(event))
        batch.rows.append(row.number)
        if len(batch.events) >= size:
            yield batch
            batch = _Batch()
    if batch.events:
        yield batch


def _event_or_reject(path: Path, row: sources.SourceRow, mapping: Mapping,
                     result: IngestResult) -> RiskEvent | None:
    if row.error is not None:
        _reject(result, path, row.number, [FieldError("-", "", row.error)])
        return None
    event = mapping.to_event(row.values)
    if isinstance(event, list):
        _reject(result, path, row.number, event)
        return None
    return event


def _reject(result: IngestResult, path: Path, row: int, errors: list[FieldError]) -> None:
    for e in errors:
        value = "" if e.value is None else str(e.value)[:200]
        result.rejections.append(Rejection(str(path), row, e.field, value, e.message))


def _load_batch(db: Database, embedder: Embedder, batch: _Batch, result: IngestResult) -> None:
    stored = {r["source_id"]: r for r in db.fetch_all("select_existing_events", {
        "model": embedder.name, "source": batch.events[0].source,
        "source_ids": [e.source_id for e in batch.events]})}
    changed = [i for i, e in enumerate(batch.events)
               if e.source_id not in stored or bytes(stored[e.source_id]["content_hash"]) != batch.hashes[i]]
    changed_set = set(changed)
    to_embed = [i for i, e in enumerate(batch.events)
                if i in changed_set or not stored[e.source_id]["embedded"]]
    # Embed before the transaction opens, so that the transaction stays short.
    vectors = embedder.encode([batch.events[i].text for i in to_embed])
    with db.transaction() as conn:
        conn.execute(query("create_staging_tables"))
        with conn.cursor().copy(query("copy_staging_events")) as copy:
            for i in changed:
                copy.write_row(_copy_row(batch.events[i], batch.hashes[i]))
        # Refused here, by PostgreSQL's own tokeniser, rather than failing the whole batch when stored.
        too_long = {r[0]: int(r[1]) for r in conn.execute(query("select_staged_too_many_lexemes"),
                                                          {"max_lexemes": MAX_LEXEMES}).fetchall()}
        if too_long:
            conn.execute(query("delete_staged_events"), {"source_ids": list(too_long)})
        inserted = [row[0] for row in conn.execute(query("upsert_events")).fetchall()]
        embedded = [(batch.events[i].source_id, vector) for i, vector in zip(to_embed, vectors, strict=True)
                    if batch.events[i].source_id not in too_long]
        with conn.cursor().copy(query("copy_staging_embeddings")) as copy:
            copy.set_types(["text", "vector"])
            for source_id, vector in embedded:
                copy.write_row([source_id, vector])
        conn.execute(query("upsert_embeddings"), {"model": embedder.name, "source": batch.events[0].source})
    for i, event in enumerate(batch.events):
        if event.source_id in too_long:
            _reject(result, result.path, batch.rows[i], [FieldError(
                "text", event.text, f"has {too_long[event.source_id]:,} distinct words after stemming; the "
                f"keyword index holds at most {MAX_LEXEMES:,} per event: split the text or shorten it")])
    result.inserted += sum(inserted)
    result.updated += len(inserted) - sum(inserted)
    result.unchanged += len(batch.events) - len(inserted) - len(too_long)
    result.embedded += len(embedded)


def _copy_row(event: RiskEvent, digest: bytes) -> list[Any]:
    return [
        event.source, event.source_id, event.occurred_at, event.category, event.subcategory,
        event.severity, event.entity_id, event.entity_name, event.amount, event.currency,
        event.status, event.title, event.text, Jsonb(event.attributes), digest, event.scope,
    ]
