"""Score the planner against labelled questions, and retrieval against a BEIR-format collection."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psycopg import sql
from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.db import Database
from assistant.embed import Embedder
from assistant.errors import AssistantError, InputError, PlanError
from assistant.filters import compile_filters, field_type
from assistant.ingest import ingest_file
from assistant.mapping import Mapping
from assistant.models import Filter, QueryPlan
from assistant.planning import deterministic_plan
from assistant.resources import query
from assistant.retrieve import Fusion, RetrievalMode, retrieve

if TYPE_CHECKING:
    from assistant.api import RiskAssistant

FilterKey = tuple[str, str, Any]  # (field, op, normalised value)
MODES: tuple[RetrievalMode, ...] = ("dense", "keyword", "hybrid")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_QRELS_HEADER = ["query-id", "corpus-id", "score"]


class PlannerCase(BaseModel):
    """One labelled question: the filters a careful analyst means by it, as of a given day."""

    model_config = ConfigDict(extra="forbid")

    question: str
    as_of: dt.date
    expected: list[Filter]
    note: str = ""  # why the label is what it is, where that is not obvious


@dataclass
class Counts:
    """Filters planned, expected and both: the numerators and denominators of precision and recall."""

    matched: int = 0
    planned: int = 0
    expected: int = 0

    @property
    def precision(self) -> float:
        """Share of planned filters that were expected (1.0 when nothing was planned or expected)."""
        return self.matched / self.planned if self.planned else float(self.expected == 0)

    @property
    def recall(self) -> float:
        """Share of expected filters that were planned (1.0 when nothing was expected)."""
        return self.matched / self.expected if self.expected else 1.0

    def add(self, planned: set[FilterKey], expected: set[FilterKey]) -> None:
        """Count one case's filters."""
        self.matched += len(planned & expected)
        self.planned += len(planned)
        self.expected += len(expected)


@dataclass(frozen=True)
class CaseFailure:
    """A question whose plan differs from its label: what was missing, what was extra."""

    question: str
    as_of: str
    missing: list[str]
    extra: list[str]


@dataclass
class PlannerScores:
    """Filter-level precision and recall over all cases, per field, and the rate of exact plans."""

    cases: int = 0
    exact: int = 0
    total: Counts = field(default_factory=Counts)
    by_field: dict[str, Counts] = field(default_factory=dict)
    failures: list[CaseFailure] = field(default_factory=list)
    # What the analyst sees (with answers=True): the listed events that satisfy the gold filters, per
    # question with events, and the questions that returned no event at all (or failed).
    answered: int = 0
    event_precision_sum: float = 0.0
    empty: list[str] = field(default_factory=list)

    @property
    def event_precision(self) -> float:
        """Mean share of an answer's listed events that satisfy its question's gold filters."""
        return self.event_precision_sum / self.answered if self.answered else 0.0

    @property
    def empty_share(self) -> float:
        """Share of questions whose answer listed no event."""
        return len(self.empty) / self.cases if self.cases else 0.0

    @property
    def exact_rate(self) -> float:
        """Share of cases whose filters are exactly the expected ones."""
        return self.exact / self.cases if self.cases else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The scores as plain JSON-ready values."""
        def scored(c: Counts) -> dict[str, Any]:
            return {**asdict(c), "precision": round(c.precision, 4), "recall": round(c.recall, 4)}

        return {"cases": self.cases, "exact": self.exact, "exact_rate": round(self.exact_rate, 4),
                **scored(self.total), "by_field": {k: scored(v) for k, v in sorted(self.by_field.items())},
                "answered": self.answered, "event_precision": round(self.event_precision, 4),
                "empty_share": round(self.empty_share, 4), "empty": self.empty,
                "failures": [asdict(f) for f in self.failures]}


@dataclass(frozen=True)
class RetrievalScores:
    """Mean nDCG@10 and recall@100 over the queries that have relevant documents."""

    mode: str
    queries: int
    ndcg_at_10: float
    recall_at_100: float


@dataclass(frozen=True)
class BeirSet:
    """A BEIR-format collection: the corpus file, queries by id, graded relevance by query and document."""

    name: str
    corpus: Path
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def load_cases(path: Path) -> list[PlannerCase]:
    """Read labelled planner cases from JSON Lines; InputError names the file, line and field."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read the planner cases: {error}") from error
    cases = [_case(path, number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    if not cases:
        raise InputError(f"{path}: no cases; write one JSON object per line: {{question, as_of, expected}}")
    return cases


def _case(path: Path, number: int, line: str) -> PlannerCase:
    where = f"{path}, line {number}"
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(f"{where}: not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a JSON object {{question, as_of, expected}}, got {type(raw).__name__}")
    try:
        case = PlannerCase.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or "-"
        raise InputError(f"{where}, field {name!r}: {first['msg']}") from None
    for index, expected in enumerate(case.expected):
        try:
            field_type(expected.field)
        except PlanError as error:
            raise InputError(f"{where}, field 'expected.{index}.field': {error}") from None
    return case


def filter_key(f: Filter) -> FilterKey:
    """A filter as a comparable triple: one-value in/not_in read as eq/ne, lists of alternatives sorted,
    numbers, dates and text in one canonical spelling ("5000.00" = "5000", "Fraud_Alert" = "fraud_alert")."""
    op, value = f.op, f.value
    if op in ("in", "not_in") and isinstance(value, list) and len(value) == 1:
        op, value = ("eq" if op == "in" else "ne"), value[0]
    if isinstance(value, list):
        items = tuple(_normal(v) for v in value)
        return f.field, op, tuple(sorted(items)) if op in ("in", "not_in") else items
    return f.field, op, _normal(value)


def _normal(value: Any) -> str:
    text = str(value).strip()
    if isinstance(value, bool) or value is None:
        return text.lower()
    if _NUMBER.fullmatch(text):
        return format(Decimal(text).normalize(), "f")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text.lower()
    return moment.date().isoformat() if moment.time() == dt.time() else moment.isoformat()


def score_plan(planned: Iterable[Filter], expected: Iterable[Filter]) -> tuple[set[FilterKey], set[FilterKey]]:
    """The planned and expected filters as sets of comparable triples."""
    return {filter_key(f) for f in planned}, {filter_key(f) for f in expected}


def read_plan(assistant: RiskAssistant, case: PlannerCase) -> QueryPlan:
    """The deterministic planner's reading of a case, before any relaxation: what the labels describe."""
    return deterministic_plan(assistant.db, case.question, case.as_of, assistant.embedder, assistant.settings)


def evaluate_planner(assistant: RiskAssistant, cases: Iterable[PlannerCase], *, answers: bool = False) -> PlannerScores:
    """Plan every case's question as of its day; compare the filters with its label. With `answers`,
    also answer it and check the listed events against the label's filters (event precision, empties)."""
    scores = PlannerScores()
    for case in cases:
        planned, expected = score_plan(read_plan(assistant, case).filters, case.expected)
        scores.cases += 1
        scores.total.add(planned, expected)
        for name in {key[0] for key in planned | expected}:
            scores.by_field.setdefault(name, Counts()).add(
                {k for k in planned if k[0] == name}, {k for k in expected if k[0] == name})
        if planned == expected:
            scores.exact += 1
        else:
            scores.failures.append(CaseFailure(case.question, case.as_of.isoformat(),
                                               _shown(expected - planned), _shown(planned - expected)))
        if answers:
            _score_answer(assistant, case, scores)
    return scores


def _score_answer(assistant: RiskAssistant, case: PlannerCase, scores: PlannerScores) -> None:
    try:
        ids = [hit.id for hit in assistant.ask(case.question, as_of=case.as_of).events]
    except AssistantError:
        ids = []
    if not ids:
        scores.empty.append(case.question)
        return
    compiled = compile_filters(case.expected)
    statement = sql.SQL(query("count_events_among")).format(where=compiled.where)
    row = next(iter(assistant.db.execute(statement, {**compiled.params, "ids": ids})), None)
    scores.answered += 1
    scores.event_precision_sum += (int(row[0]) if row else 0) / len(ids)


def _shown(keys: set[FilterKey]) -> list[str]:
    return sorted(f"{name} {op} {list(value) if isinstance(value, tuple) else value}" for name, op, value in keys)


def ndcg_at(ranked: Sequence[str], relevance: dict[str, int], k: int = 10) -> float:
    """nDCG@k with graded gains: sum(rel / log2(rank + 1)) over the top k, over the ideal ordering's."""
    dcg = sum(relevance.get(doc, 0) / math.log2(rank + 1) for rank, doc in enumerate(ranked[:k], start=1))
    ideal = sorted((grade for grade in relevance.values() if grade > 0), reverse=True)[:k]
    best = sum(grade / math.log2(rank + 1) for rank, grade in enumerate(ideal, start=1))
    return dcg / best if best else 0.0


def recall_at(ranked: Sequence[str], relevance: dict[str, int], k: int = 100) -> float:
    """Share of the relevant documents (grade > 0) found in the top k."""
    relevant = {doc for doc, grade in relevance.items() if grade > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def load_beir(directory: Path) -> BeirSet:
    """Check and read a BEIR directory: corpus.jsonl, queries.jsonl, qrels/test.tsv."""
    corpus, queries, qrels = directory / "corpus.jsonl", directory / "queries.jsonl", directory / "qrels" / "test.tsv"
    for needed in (corpus, queries, qrels):
        if not needed.is_file():
            raise InputError(f"{directory}: {needed.relative_to(directory)} is missing; a BEIR directory holds "
                             "corpus.jsonl, queries.jsonl and qrels/test.tsv")
    return BeirSet(directory.resolve().name, corpus, _read_queries(queries), _read_qrels(qrels))


def _read_queries(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}, line {number}: not valid JSON ({error.msg})") from None
        for name in ("_id", "text"):
            if not isinstance(raw, dict) or not isinstance(raw.get(name), str | int) or not str(raw[name]).strip():
                raise InputError(f"{path}, line {number}, field {name!r}: required, a non-empty string")
        found[str(raw["_id"])] = str(raw["text"])
    return found


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    if not rows or [c.strip() for c in rows[0]] != _QRELS_HEADER:
        raise InputError(f"{path}, line 1: the header must be {' '.join(_QRELS_HEADER)} (tab-separated)")
    qrels: dict[str, dict[str, int]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 3 or not re.fullmatch(r"-?\d+", row[2].strip()):
            raise InputError(f"{path}, line {number}: expected query-id, corpus-id and an integer score")
        qrels.setdefault(row[0].strip(), {})[row[1].strip()] = int(row[2])
    return qrels


def beir_mapping(name: str) -> Mapping:
    """How a BEIR corpus row becomes an event: _id is the source id, one category, one fixed date."""
    return Mapping(source=f"beir:{name}", fields={"source_id": "_id"},
                   defaults={"category": "document", "occurred_at": "2000-01-01"})


def evaluate_retrieval(db: Database, embedder: Embedder, beir_dir: Path,
                       modes: Sequence[RetrievalMode] = MODES, *, report_path: Path | None = None,
                       fusion: Fusion | None = None) -> dict[str, RetrievalScores]:
    """Ingest the corpus (idempotent), then run every query in each mode: mean nDCG@10 and recall@100.
    BM25's statistics (document frequencies, average length) cover the whole database: a set scored in a database
    of its own is scored as on its own (eval/fusion_grid.py gives each set one)."""
    beir = load_beir(beir_dir)
    mapping = beir_mapping(beir.name)
    ingest_file(db, embedder, beir.corpus, mapping, report_path=report_path)
    judged = {qid: text for qid, text in beir.queries.items() if any(g > 0 for g in beir.qrels.get(qid, {}).values())}
    if not judged:
        raise InputError(f"{beir_dir}: no query in queries.jsonl has a relevant document in qrels/test.tsv")
    # The corpus's own source is the only filter: other events in the same database are not part of it.
    scope = [Filter(field="source", op="eq", value=mapping.source)]
    scores: dict[str, RetrievalScores] = {}
    for mode in modes:
        ndcg = recall = 0.0
        for qid, text in judged.items():
            plan = QueryPlan(question=text, query=text, filters=scope, k=100, as_of=dt.date.today())
            found = retrieve(db, embedder, plan, limit=100, mode=mode, fusion=fusion)
            ranked = [str(hit.fields["source_id"]) for hit in found.hits]
            ndcg += ndcg_at(ranked, beir.qrels[qid])
            recall += recall_at(ranked, beir.qrels[qid])
        scores[mode] = RetrievalScores(mode, len(judged), ndcg / len(judged), recall / len(judged))
    return scores
