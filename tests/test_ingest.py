"""Ingestion: idempotent upserts keyed by source id, bad rows reported, atomic batches."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from assistant.db import Database
from assistant.embed import Embedder
from assistant.errors import InputError
from assistant.ingest import ingest_file
from assistant.mapping import Mapping
from assistant.resources import resource_dir

from .conftest import CfpbSet

GOOD = {"source_id": "E1", "occurred_at": "2025-11-03T10:00:00+00:00", "category": "fraud_alert",
        "severity": "high", "amount": "120.50", "currency": "USD", "text": "Card used online at a new merchant.",
        "merchant_id": "MER-1"}


def _rows(n: int) -> list[dict[str, Any]]:
    return [{**GOOD, "source_id": f"E{i}", "text": f"Alert number {i}: card used online."} for i in range(n)]


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _counts(db: Database) -> tuple[int, int]:
    events = db.execute("SELECT count(*) FROM risk_events")[0]
    vectors = db.execute("SELECT count(*) FROM event_embeddings")[0]
    assert events is not None and vectors is not None
    return events[0], vectors[0]


@pytest.mark.slow
def test_cfpb_export_ingested_twice_gives_exact_counts(cfpb: CfpbSet, embedder: Embedder) -> None:
    with open(cfpb.path, newline="", encoding="utf-8") as handle:
        narratives = [r for r in csv.DictReader(handle)
                      if r["Consumer complaint narrative"].strip() not in ("", "None")]
    first = cfpb.first
    assert (first.inserted, first.updated, first.unchanged) == (len(narratives), 0, 0)
    assert first.rejected == first.total - len(narratives)
    with open(cfpb.rejects, newline="") as handle:
        report = list(csv.DictReader(handle))
    assert {r["field"] for r in report} == {"text"} and all(r["file"] == str(cfpb.path) for r in report)
    db = cfpb.assistant.db
    mapping = Mapping.load(resource_dir("mappings") / "cfpb.toml")
    second = ingest_file(db, embedder, cfpb.path, mapping, report_path=cfpb.rejects.with_name("again.csv"))
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, len(narratives))
    assert second.embedded == 0
    assert _counts(db) == (len(narratives), len(narratives))
    stored = db.execute("SELECT occurred_at::date, attributes->>'zip_code' FROM risk_events "
                             "WHERE source_id = %s", [narratives[0]["Complaint ID"]])[0]
    assert stored is not None and stored[1] == (narratives[0]["ZIP code"] or None)


def test_bad_rows_are_reported_by_file_row_and_field_and_good_rows_load(
        db: Database, embedder: Embedder, tmp_path: Path) -> None:
    rows = [GOOD,
            {**GOOD, "source_id": "E2", "occurred_at": "31/31/2025"},
            {**GOOD, "source_id": ""},
            {**GOOD, "source_id": "E4", "text": "  "},
            {**GOOD, "source_id": "E5", "amount": "twelve"},
            {**GOOD, "source_id": "E6", "severity": "urgent"},
            {**GOOD, "source_id": "E1", "text": "a repeat of the first id"},
            {**GOOD, "source_id": "E8"}]
    path = _write_jsonl(tmp_path / "events.jsonl", rows)
    (tmp_path / "events.jsonl").write_text(path.read_text() + "{not json\n")
    result = ingest_file(db, embedder, path, Mapping.identity("t"), report_path=tmp_path / "r.csv")
    assert (result.inserted, result.rejected) == (2, 7)
    with open(tmp_path / "r.csv", newline="") as handle:
        report = {(int(r["row"]), r["field"]): r for r in csv.DictReader(handle)}
    assert set(report) == {(2, "occurred_at"), (3, "source_id"), (4, "text"), (5, "amount"),
                           (6, "severity"), (7, "source_id"), (9, "-")}
    assert "31/31/2025" in report[(2, "occurred_at")]["error"]
    assert "row 1" in report[(7, "source_id")]["error"]
    assert all(r["file"] == str(path) for r in report.values())
    assert "7 rejected" in result.summary()
    assert f"; {result.embedded} embedded by {embedder.backend}" in result.summary() and result.embedded > 0


def test_changed_rows_are_updated_and_re_embedded_others_untouched(
        db: Database, embedder: Embedder, tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "a.jsonl", _rows(5))
    ingest_file(db, embedder, path, Mapping.identity("t"))
    before = dict(db.execute("SELECT source_id, embedding::text FROM risk_events "
                                  "JOIN event_embeddings ON event_id = id"))
    rows = _rows(5)
    rows[2]["text"] = "Completely different: wire transfer to a new beneficiary abroad."
    rows.append({**GOOD, "source_id": "E99"})
    result = ingest_file(db, embedder, _write_jsonl(path, rows), Mapping.identity("t"))
    assert (result.inserted, result.updated, result.unchanged, result.embedded) == (1, 1, 4, 2)
    after = dict(db.execute("SELECT source_id, embedding::text FROM risk_events "
                                 "JOIN event_embeddings ON event_id = id"))
    assert after["E2"] != before["E2"] and after["E1"] == before["E1"]
    assert _counts(db) == (6, 6)


def test_an_event_with_more_words_than_the_keyword_index_holds_is_refused_by_row(
        db: Database, embedder: Embedder, tmp_path: Path) -> None:
    # A BM25 document vector (a sparsevec) holds at most 16,000 terms. Such an event used to fail its whole
    # batch when stored; it is now refused alone, and what was stored under its id stays as it was.
    path = _write_jsonl(tmp_path / "a.jsonl", _rows(3))
    ingest_file(db, embedder, path, Mapping.identity("t"))
    before = db.execute("SELECT text, embedding::text FROM risk_events JOIN event_embeddings ON event_id = id "
                        "WHERE source_id = 'E1'")
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = [f"x{a}{b}{c}q" for a in letters for b in letters for c in letters][:16_100]  # stem to themselves
    rows = _rows(3)
    rows[1]["text"] = " ".join(words)
    rows.append({**GOOD, "source_id": "E3"})
    result = ingest_file(db, embedder, _write_jsonl(path, rows), Mapping.identity("t"),
                         report_path=tmp_path / "r.csv")
    assert (result.inserted, result.updated, result.unchanged, result.rejected) == (1, 0, 2, 1)
    assert result.embedded == 1  # E3 only: E1's new text was embedded, then refused with its row
    [rejection] = result.rejections
    assert (rejection.row, rejection.field) == (2, "text") and "16,100 distinct words" in rejection.error
    assert "at most 16,000" in rejection.error and rejection.file == str(path)
    assert db.execute("SELECT text, embedding::text FROM risk_events JOIN event_embeddings ON event_id = id "
                      "WHERE source_id = 'E1'") == before
    assert _counts(db) == (4, 4)


def test_interrupted_ingest_leaves_no_half_batch_and_a_rerun_completes(
        db: Database, embedder: Embedder, tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "big.jsonl", _rows(25))
    batches = 0

    def interrupt_after_first_batch(_: int) -> None:
        nonlocal batches
        batches += 1
        if batches == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_file(db, embedder, path, Mapping.identity("t"), batch_size=10,
                    progress=interrupt_after_first_batch)
    assert _counts(db) == (20, 20)  # two whole batches committed; the third never started
    rerun = ingest_file(db, embedder, path, Mapping.identity("t"), batch_size=10)
    assert (rerun.inserted, rerun.updated, rerun.unchanged) == (5, 0, 20)
    assert _counts(db) == (25, 25)


def test_csv_and_parquet_load_like_jsonl(db: Database, embedder: Embedder, tmp_path: Path) -> None:
    rows = _rows(3)
    csv_path = tmp_path / "e.csv"
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    pq.write_table(pa.Table.from_pylist([{**r, "source_id": r["source_id"] + "p"} for r in rows]),
                   tmp_path / "e.parquet")
    assert ingest_file(db, embedder, csv_path, Mapping.identity("t")).inserted == 3
    assert ingest_file(db, embedder, tmp_path / "e.parquet", Mapping.identity("t")).inserted == 3
    row = db.execute("SELECT amount, attributes FROM risk_events WHERE source_id = 'E1p'")[0]
    assert row is not None and str(row[0]) == "120.50" and row[1] == {"merchant_id": "MER-1"}


def test_mapping_errors_name_the_mapping_and_the_column(db: Database, embedder: Embedder,
                                                        tmp_path: Path) -> None:
    bad_field = tmp_path / "bad.toml"
    bad_field.write_text('source = "x"\n[fields]\nnarrative = "text"\n')
    with pytest.raises(InputError, match="unknown canonical field"):
        Mapping.load(bad_field)
    missing = tmp_path / "missing.toml"
    missing.write_text('source = "x"\n[fields]\ntext = "Narrative"\n')
    path = tmp_path / "e.csv"
    path.write_text("source_id,occurred_at,category,text\n1,2025-01-01,fraud,hello\n")
    with pytest.raises(InputError, match="Narrative"):
        ingest_file(db, embedder, path, Mapping.load(missing))
    with pytest.raises(InputError, match="unsupported file type"):
        ingest_file(db, embedder, tmp_path / "e.xlsx", Mapping.identity("x"))
