"""Write eval/beir_demo/: the demo events as a BEIR corpus, queries about them, graded qrels.

Run `python eval/make_beir_demo.py [OUT_DIR]` before `risk-assistant eval retrieval eval/beir_demo`.
The corpus is generated (assistant.demo.generate_demo is deterministic), not committed; the
queries and qrels are rewritten identically on every run.

Grades: 2 for a member of a planted pattern (or of a clear group the query names), 1 for an event
that is clearly related (same kind of event outside the pattern's window, merchant or size).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.demo import DemoSet, generate_demo

Row = dict[str, Any]
Grade = Callable[[Row], int]
OUT = Path(__file__).resolve().parent / "beir_demo"


def _sub(*names: str) -> Grade:
    return lambda r: 2 if r["subcategory"] in names else 0


def _drop(r: Row) -> int:
    return int(r["score_before"] - r["score_after"]) if r["subcategory"] == "score_drop" else 0


def _queries(demo: DemoSet) -> list[tuple[str, str, Grade]]:
    """(id, text, grade of one event) for every query."""
    cnp, structuring, drops = (demo.planted[n].source_ids for n in
                               ("cnp_burst_q4_2025", "structuring_2026_03", "credit_drops_2026_q2"))

    def cnp_burst(r: Row) -> int:
        quickship = r["subcategory"] == "card_not_present" and r["merchant_id"] == "MER-4417"
        return 2 if r["source_id"] in cnp else 1 if quickship else 0

    def cash_under_10k(r: Row) -> int:
        return 2 if r["source_id"] in structuring else 1 if r["subcategory"] == "structuring" else 0

    def bnpl_drops(r: Row) -> int:
        return 2 if r["source_id"] in drops else 1 if _drop(r) >= 80 else 0

    return [
        ("q01", "card-not-present fraud at QuickShip Electronics", cnp_burst),
        ("q02", "online fraud ring hitting many cards at one electronics merchant at night", cnp_burst),
        ("q03", "cash deposits just under the $10,000 reporting threshold", cash_under_10k),
        ("q04", "structuring: repeated cash deposits kept below the CTR limit at ATMs and branches", cash_under_10k),
        ("q05", "credit score drops after a missed buy-now-pay-later instalment", bnpl_drops),
        ("q06", "large credit score falls caused by late BNPL payments", bnpl_drops),
        ("q07", "SIM swap before account changes", _sub("sim_swap")),
        ("q08", "politically exposed person screening match", _sub("pep_match")),
        ("q09", "customer charged twice for the same purchase", _sub("duplicate_charge")),
        ("q10", "phishing message led the customer to give away credentials", _sub("phishing")),
        ("q11", "payment held after a sanctions list name match", _sub("sanctions_screening_hit")),
        ("q12", "rooted phone or emulator or remote access tool during a session", _sub("device_anomaly")),
        ("q13", "complaints about debt collectors calling", _sub("collections_contact")),
        ("q14", "customer complains about an overdraft or maintenance fee", _sub("fee_dispute")),
        ("q15", "new credit opened with stolen or synthetic identity documents", _sub("identity_theft")),
        ("q16", "wire transfers to offshore high-risk jurisdictions like Panama or Cyprus",
         _sub("high_risk_jurisdiction")),
    ]


def write_beir_demo(out: Path) -> tuple[int, int, int]:
    """Write corpus.jsonl, queries.jsonl and qrels/test.tsv; (documents, queries, judgements)."""
    demo = generate_demo()
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as corpus:
        for row in demo.rows:
            corpus.write(json.dumps({"_id": row["source_id"], "title": row["title"], "text": row["text"]}) + "\n")
    queries = _queries(demo)
    judgements = 0
    with (out / "queries.jsonl").open("w", encoding="utf-8") as handle, \
            (out / "qrels" / "test.tsv").open("w", encoding="utf-8") as qrels:
        qrels.write("query-id\tcorpus-id\tscore\n")
        for qid, text, grade in queries:
            handle.write(json.dumps({"_id": qid, "text": text}) + "\n")
            for row in demo.rows:
                if (g := grade(row)) > 0:
                    qrels.write(f"{qid}\t{row['source_id']}\t{g}\n")
                    judgements += 1
    return len(demo.rows), len(queries), judgements


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    docs, n_queries, n_judged = write_beir_demo(target)
    print(f"wrote {docs} documents, {n_queries} queries, {n_judged} judgements to {target}")
