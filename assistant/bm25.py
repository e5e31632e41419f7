"""BM25 inside PostgreSQL: the query's known terms and the avgdl re-weighing policy (migrations/0008_bm25.sql)."""

from __future__ import annotations

from assistant.db import Database

# Stored weights use an average length within this share of the true one (checked at the end of every ingest
# run): a weight's relative error is below the avgdl's, so scores stay within 0.5% of exact BM25 without
# rewriting every event's weights each time a batch moves the average a little. 0 re-weighs on any change.
AVGDL_TOLERANCE = 0.005


def reweigh(db: Database, tolerance: float = AVGDL_TOLERANCE) -> bool:
    """Re-weigh every event's BM25 weights if the average length moved beyond `tolerance`; whether it did."""
    row = db.fetch_one("select_bm25_reweigh", {"tolerance": tolerance})
    return row is not None and bool(row["reweighed"])


def has_terms(db: Database, keywords: str) -> bool:
    """Whether the keyword text has any lexeme to search for (a question of the text alone, not of the data)."""
    row = db.fetch_one("count_query_lexemes", {"keywords": keywords})
    return row is not None and int(row["lexemes"]) > 0
