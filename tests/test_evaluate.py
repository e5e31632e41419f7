"""The evaluation harness: metrics by hand, the planner scorer, input errors, retrieval end to end."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path

import pytest

from assistant.api import RiskAssistant
from assistant.db import Database
from assistant.demo import DemoSet
from assistant.embed import Embedder
from assistant.errors import InputError
from assistant.evaluate import (
    PlannerCase,
    evaluate_planner,
    evaluate_retrieval,
    filter_key,
    load_beir,
    load_cases,
    ndcg_at,
    recall_at,
)
from assistant.ingest import ingest_file
from assistant.mapping import Mapping
from assistant.models import Filter

from .conftest import CFPB_DIR, CfpbSet, eval_script

EVAL_DIR = Path(__file__).resolve().parents[1] / "eval"
# The floors sit a little below the measured scores (see the closing notes and README), so that a
# relabelled case does not fail CI but a planner regression does. Each set is scored on its own data.
FLOORS = {"planner_demo.jsonl": (0.97, 0.97), "planner_cfpb.jsonl": (0.95, 0.95)}
# Sets written before the planner ever saw their data (eval/README.md): field precision, field recall,
# event precision and the most empty answers allowed, a little under the scores measured on them.
# Measured: fda dev 0.979/0.940/0.937/0, test 0.914/0.914/0.867/0;
# cfpb dev 0.982/0.932/0.909/0, test 0.875/0.875/0.751/0.
UNSEEN_FLOORS = {
    "planner_fda_dev.jsonl": (0.95, 0.90, 0.85, 0),
    "planner_fda_test.jsonl": (0.88, 0.88, 0.80, 1),
    "planner_cfpb_unseen_dev.jsonl": (0.95, 0.90, 0.85, 0),
    "planner_cfpb_unseen_test.jsonl": (0.85, 0.85, 0.70, 1),
}


def test_ndcg_uses_graded_gains_and_the_ideal_order() -> None:
    relevance = {"d1": 1, "d3": 2, "d4": 2, "d5": 0}
    # DCG = 1/log2(2) + 0 + 2/log2(4) = 2; ideal = 2/log2(2) + 2/log2(3) + 1/log2(4)
    ideal = 2 + 2 / math.log2(3) + 0.5
    assert ndcg_at(["d1", "d2", "d3"], relevance) == pytest.approx(2 / ideal)
    assert ndcg_at(["d3", "d4", "d1"], relevance) == pytest.approx(1.0)
    assert ndcg_at(["d2", "d5"], relevance) == 0.0
    assert ndcg_at(["d2", "d1"], {"d1": 1}, k=1) == 0.0  # below the cut-off counts for nothing
    assert ndcg_at(["d1"], {}) == 0.0


def test_recall_counts_relevant_documents_within_the_cut_off() -> None:
    relevance = {"a": 2, "b": 1, "c": 1, "z": 0}
    assert recall_at(["a", "x", "b"], relevance) == pytest.approx(2 / 3)
    assert recall_at(["a", "x", "b"], relevance, k=2) == pytest.approx(1 / 3)
    assert recall_at(["z"], {"z": 0}) == 0.0


def test_filter_keys_compare_meaning_not_spelling() -> None:
    def key(op: str, value: object, field: str = "category") -> object:
        return filter_key(Filter(field=field, op=op, value=value))  # type: ignore[arg-type]

    assert key("in", ["fraud_alert"]) == key("eq", "Fraud_Alert")
    assert key("not_in", ["a"]) == key("ne", "a")
    assert key("in", ["b", "a"]) == key("in", ["a", "b"])
    assert key("gt", "5000.00", "amount") == key("gt", 5000, "amount")
    assert key("gte", "2025-10-01T00:00:00+00:00", "occurred_at") == key("gte", "2025-10-01", "occurred_at")
    assert key("between", ["1000", "5000"], "amount") != key("between", ["5000", "1000"], "amount")


def test_planner_scores_count_filters_per_case_and_field(demo_assistant: RiskAssistant) -> None:
    day = dt.date(2026, 11, 22)
    chargebacks = Filter(field="category", op="eq", value="chargeback")
    over_1k = Filter(field="amount", op="gt", value="1000")
    cases = [
        PlannerCase(question="chargebacks over $1,000", as_of=day, expected=[chargebacks, over_1k]),
        # Labels that ask for more, and for less, than the question says: a miss and two extras.
        PlannerCase(question="chargebacks over $1,000", as_of=day,
                    expected=[chargebacks, over_1k, Filter(field="severity", op="eq", value="high")]),
        PlannerCase(question="chargebacks in Q1 2026", as_of=day, expected=[chargebacks]),
    ]
    scores = evaluate_planner(demo_assistant, cases)
    assert (scores.cases, scores.exact) == (3, 1)
    assert (scores.total.matched, scores.total.planned, scores.total.expected) == (5, 7, 6)
    assert scores.total.precision == pytest.approx(5 / 7)
    assert scores.total.recall == pytest.approx(5 / 6)
    assert scores.exact_rate == pytest.approx(1 / 3)
    assert scores.by_field["severity"].recall == 0.0
    assert scores.by_field["occurred_at"].precision == 0.0
    assert [(f.missing, f.extra) for f in scores.failures] == [
        (["severity eq high"], []),
        ([], ["occurred_at gte 2026-01-01", "occurred_at lt 2026-04-01"]),
    ]
    assert scores.to_dict()["precision"] == round(5 / 7, 4)


@pytest.mark.parametrize("lines, message", [
    (['{"question": "q", "as_of": "2026-01-01", "expected": []}', '{"question": '], "line 2: not valid JSON"),
    (['{"as_of": "2026-01-01", "expected": []}'], "line 1, field 'question'"),
    (['{"question": "q", "as_of": "01/02/2026", "expected": []}'], "line 1, field 'as_of'"),
    (['{"question": "q", "as_of": "2026-01-01", "expected": [{"field": "category", "op": "like"}]}'],
     "line 1, field 'expected.0.op'"),
    (['{"question": "q", "as_of": "2026-01-01", "expected": [{"field": "colour", "op": "eq"}]}'],
     "line 1, field 'expected.0.field': unknown filter field 'colour'"),
    (['{"question": "q", "as_of": "2026-01-01", "expected": [], "expceted": []}'], "line 1, field 'expceted'"),
    (['["q", "2026-01-01"]'], "line 1: expected a JSON object"),
    (["", "  "], "no cases"),
])
def test_bad_case_files_name_file_line_and_field(tmp_path: Path, lines: list[str], message: str) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"cases\.jsonl") as caught:
        load_cases(path)
    assert message in str(caught.value)


def test_labelled_cases_load_and_have_enough_questions() -> None:
    assert len(load_cases(EVAL_DIR / "planner_demo.jsonl")) >= 40
    assert len(load_cases(EVAL_DIR / "planner_cfpb.jsonl")) >= 20


def test_the_planner_keeps_its_measured_scores_on_the_demo_cases(demo_assistant: RiskAssistant) -> None:
    precision, recall = FLOORS["planner_demo.jsonl"]
    scores = evaluate_planner(demo_assistant, load_cases(EVAL_DIR / "planner_demo.jsonl"))
    assert scores.total.precision >= precision, scores.failures
    assert scores.total.recall >= recall, scores.failures


@pytest.mark.slow
def test_the_planner_keeps_its_measured_scores_on_the_cfpb_cases(cfpb: CfpbSet) -> None:
    precision, recall = FLOORS["planner_cfpb.jsonl"]
    scores = evaluate_planner(cfpb.assistant, load_cases(EVAL_DIR / "planner_cfpb.jsonl"))
    assert scores.total.precision >= precision, scores.failures
    assert scores.total.recall >= recall, scores.failures


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(UNSEEN_FLOORS))
def test_the_planner_keeps_its_scores_on_data_it_was_not_written_for(name: str, fda: RiskAssistant,
                                                                     cfpb: CfpbSet) -> None:
    precision, recall, event_precision, empty = UNSEEN_FLOORS[name]
    assistant = fda if "fda" in name else cfpb.assistant
    scores = evaluate_planner(assistant, load_cases(EVAL_DIR / name), answers=True)
    assert scores.total.precision >= precision, scores.failures
    assert scores.total.recall >= recall, scores.failures
    assert scores.event_precision >= event_precision and len(scores.empty) <= empty, scores.to_dict()


DOCS = [
    ("d1", "SIM swap", "The carrier moved the customer's phone number to a new SIM card, then passwords were reset."),
    ("d2", "Phishing", "A fake bank email asked the customer to type their password into a look-alike website."),
    ("d3", "Structuring", "Repeated cash deposits of about $9,500, each kept below the $10,000 reporting threshold."),
    ("d4", "Mortgage escrow", "The escrow account for the home mortgage was miscalculated and the payment rose."),
    ("d5", "Card declined", "The debit card was declined at a restaurant abroad although funds were available."),
]


def write_beir(root: Path, qrels: str = "query-id\tcorpus-id\tscore\nq1\td1\t2\nq2\td3\t2\nq2\td2\t0\n") -> Path:
    """A five-document BEIR directory: two queries, one relevant document each."""
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in DOCS), encoding="utf-8")
    (root / "queries.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "phone number ported to another SIM"}) + "\n"
        + json.dumps({"_id": "q2", "text": "cash deposits split to stay under the reporting threshold"}) + "\n",
        encoding="utf-8")
    (root / "qrels" / "test.tsv").write_text(qrels, encoding="utf-8")
    return root


def test_retrieval_is_scored_on_the_corpus_alone(db: Database, embedder: Embedder, tmp_path: Path) -> None:
    # An event from another source that is the query word for word: it must not count against the corpus.
    decoy = tmp_path / "decoy.jsonl"
    decoy.write_text(json.dumps({"source_id": "x1", "occurred_at": "2026-01-01", "category": "other",
                                 "text": "phone number ported to another SIM"}) + "\n", encoding="utf-8")
    ingest_file(db, embedder, decoy, Mapping.identity("decoy"))
    scores = evaluate_retrieval(db, embedder, write_beir(tmp_path / "tiny"))
    assert set(scores) == {"dense", "keyword", "hybrid"}
    for s in scores.values():
        assert s.queries == 2
        assert s.recall_at_100 == 1.0
    assert scores["dense"].ndcg_at_10 == pytest.approx(1.0)
    assert scores["hybrid"].ndcg_at_10 == pytest.approx(1.0)
    stored = db.fetch_one("count_events")
    assert stored is not None and int(stored["n"]) == 6


@pytest.mark.parametrize("qrels, message", [
    ("q1\td1\t2\n", "the header must be"),
    ("query-id\tcorpus-id\tscore\nq1\td1\thigh\n", "test.tsv, line 2"),
])
def test_bad_qrels_are_reported_with_their_line(tmp_path: Path, qrels: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        load_beir(write_beir(tmp_path / "bad", qrels))


def test_a_beir_directory_without_qrels_is_refused(tmp_path: Path) -> None:
    root = write_beir(tmp_path / "noqrels")
    (root / "qrels" / "test.tsv").unlink()
    with pytest.raises(InputError, match=r"qrels/test\.tsv is missing"):
        load_beir(root)


def test_the_cfpb_beir_set_is_built_from_the_consumers_labels(tmp_path: Path) -> None:
    script = eval_script("make_beir_cfpb")
    docs, queries, judged = script.write_beir_cfpb(CFPB_DIR / "complaints_mixed_2015_2020.csv", tmp_path)
    beir = load_beir(tmp_path)
    assert (docs, queries) == (1532, 24) and len(beir.queries) == 24
    assert judged == sum(len(q) for q in beir.qrels.values()) and all(beir.qrels[qid] for qid in beir.queries)
    corpus = [json.loads(line) for line in (tmp_path / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len({d["_id"] for d in corpus}) == docs and all(d["title"] == "" for d in corpus)  # no label leaks


def test_the_demo_beir_set_grades_the_planted_patterns(tmp_path: Path, demo: DemoSet) -> None:
    script = eval_script("make_beir_demo")
    docs, queries, _ = script.write_beir_demo(tmp_path)
    beir = load_beir(tmp_path)
    assert docs == len(demo.rows) and len(beir.queries) == queries
    planted = set(demo.planted["cnp_burst_q4_2025"].source_ids)
    graded_two = {doc for q in beir.qrels.values() for doc, grade in q.items() if grade == 2}
    assert planted & graded_two == planted
