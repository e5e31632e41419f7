"""The pattern report: aggregates over retrieved events, every number computed by the database."""

from __future__ import annotations

from assistant.db import Database
from assistant.models import AmountStats, Count, PatternReport

TOP = 5


def build_report(db: Database, model: str, ids: list[int], matched: int) -> PatternReport:
    """Counts by category, severity, month and entity, shared attributes, amounts, typical events."""
    params = {"ids": ids, "model": model, "limit": TOP}
    groups: dict[str, list[Count]] = {}
    for row in db.fetch_all("report_counts", params):
        count = Count(value=row["value"], count=row["n"], event_ids=row["ids"])
        groups.setdefault(row["dimension"], []).append(count)
    return PatternReport(
        evidence=len(ids),
        matched=matched,
        by_category=groups.get("category", []),
        by_severity=groups.get("severity", []),
        by_month=sorted(groups.get("month", []), key=lambda c: c.value),
        top_entities=groups.get("entity", [])[:TOP],
        shared_attributes=[Count(value=r["value"], count=r["n"], event_ids=r["ids"])
                           for r in db.fetch_all("report_shared_attributes", params)],
        amounts=[AmountStats(**row) for row in db.fetch_all("report_amounts", params)],
        representative_ids=[r["id"] for r in db.fetch_all("report_representative", params)][:3],
    )
