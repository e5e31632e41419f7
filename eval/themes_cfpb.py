"""Score the themes against the consumers' own Issue labels on the CFPB mixed export.

Run `.venv/bin/python eval/themes_cfpb.py [--data-dir DIR]`. It ingests
../shared/data/cfpb/complaints_mixed_2015_2020.csv with eval/cfpb_themes.toml (the product's CFPB mapping
without `Issue` and `Sub-issue`, so the themes never see the labels) into a fresh embedded database in a
temporary directory (or DIR, kept and reused; or DATABASE_URL when set, which should name an empty
database). For each question it takes the evidence as the product does (plan, then hybrid retrieval of
settings.evidence_size events), runs find_themes, and scores the themes against the held-out Issue of
each complaint (read from the CSV by complaint id), beside plain KMeans on the same vectors.

Scoring: every evidence event counts. HDBSCAN's unassigned events count as one more cluster (label -1),
so that noise is neither dropped (which would flatter the themes) nor scored as correct. Purity is the
share of events whose cluster's commonest Issue is their own. NMI and purity both rise with the number of
clusters even when they mean nothing, so the table also gives "chance", the NMI of the themes' labels
shuffled over the same events (mean of 20 shuffles), and AMI (adjusted mutual information: 0 is chance,
whatever the number of clusters). Questions whose evidence is too small for themes are listed and left
out of the means.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_mutual_info_score, normalized_mutual_info_score

from assistant.api import RiskAssistant
from assistant.config import Settings
from assistant.db import Database
from assistant.embed import Embedder
from assistant.mapping import Mapping
from assistant.retrieve import Fusion, retrieve
from assistant.themes import evidence_vectors, find_themes

HERE = Path(__file__).resolve().parent
CSV = HERE.parents[1] / "shared" / "data" / "cfpb" / "complaints_mixed_2015_2020.csv"
MAPPING = HERE / "cfpb_themes.toml"
AS_OF = dt.date(2021, 1, 1)
SHUFFLES = 20
# One question per product with at least 29 narratives, then questions across products.
QUESTIONS = [
    "complaints about credit reporting",
    "debt collection complaints",
    "mortgage complaints",
    "credit card or prepaid card complaints",
    "checking or savings account complaints",
    "student loan complaints",
    "vehicle loan or lease complaints",
    "money transfer complaints",
    "payday loan, title loan or personal loan complaints",
    "fees I did not expect",
    "accounts on my report that are not mine",
    "harassing calls from collectors",
    "complaints from 2019",
]


Scores = tuple[float, float, float]  # NMI, purity, AMI


@dataclass(frozen=True)
class Row:
    """One question's scores: the themes, and KMeans at two choices of k."""

    question: str
    evidence: int
    issues: int
    method: str
    themes: int
    unassigned: int
    scores: Scores
    chance: float
    kmeans_same_k: Scores
    kmeans_issues_k: Scores


def scores(truth: list[str], clusters: list[int]) -> Scores:
    """NMI, purity and AMI of a clustering against the labels."""
    return (normalized_mutual_info_score(truth, clusters), purity(truth, clusters),
            adjusted_mutual_info_score(truth, clusters))


def purity(truth: list[str], clusters: list[int]) -> float:
    """Share of events whose cluster's commonest label is their own."""
    total = 0
    for cluster in set(clusters):
        labels = [t for t, c in zip(truth, clusters, strict=True) if c == cluster]
        total += max(labels.count(label) for label in set(labels))
    return total / len(truth)


def kmeans_scores(vectors: np.ndarray, truth: list[str], k: int) -> Scores:
    """Scores of plain KMeans (k clusters, fixed seed) on the same vectors."""
    k = max(1, min(k, len(truth) - 1))
    return scores(truth, KMeans(k, n_init=10, random_state=0).fit_predict(vectors).tolist())


def chance_nmi(truth: list[str], clusters: list[int]) -> float:
    """Mean NMI of the same cluster sizes assigned at random."""
    rng = np.random.default_rng(0)
    return float(np.mean([normalized_mutual_info_score(truth, rng.permutation(clusters).tolist())
                          for _ in range(SHUFFLES)]))


def read_issues(path: Path) -> dict[str, str]:
    """The Issue of every complaint, by complaint id."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["Complaint ID"]: row["Issue"] for row in csv.DictReader(handle)}


def score_question(assistant: RiskAssistant, question: str, issues: dict[str, str]) -> Row:
    """Evidence as the product takes it, its themes, and their scores against the Issue labels."""
    settings = assistant.settings
    plan = assistant.plan(question, as_of=AS_OF)
    print(f"{question!r}: filters {[str(f) for f in plan.filters]}")
    hits = retrieve(assistant.db, assistant.embedder, plan, limit=settings.evidence_size,
                    exact_below=settings.exact_search_below, mode=settings.retrieval_mode,
                    fusion=Fusion.from_settings(settings)).hits
    ids = [hit.id for hit in hits]
    vectors = evidence_vectors(assistant.db, assistant.embedder.name, ids)
    found = find_themes(ids, vectors, hits)
    theme_of = {event_id: theme.id for theme in found.themes for event_id in theme.event_ids}
    clusters = [theme_of.get(event_id, -1) for event_id in ids]
    truth = [issues[hit.fields["source_id"]] for hit in hits]
    if found.method == "none":
        return Row(question, len(ids), len(set(truth)), found.method, 0, 0, (0, 0, 0), 0, (0, 0, 0), (0, 0, 0))
    return Row(question, len(ids), len(set(truth)), found.method, len(found.themes), found.unassigned,
               scores(truth, clusters), chance_nmi(truth, clusters),
               kmeans_scores(vectors, truth, max(2, len(found.themes))),
               kmeans_scores(vectors, truth, len(set(truth))))


def table(rows: list[Row]) -> str:
    """The scores as a Markdown table, with the mean over the questions that have themes."""
    lines = ["| question | evidence | Issues | method | themes | unassigned | themes NMI / purity / AMI "
             "| chance NMI | KMeans k=themes | KMeans k=Issues |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.method == "none":
            lines.append(f"| {r.question} | {r.evidence} | {r.issues} | none (too few events) | | | | | | |")
            continue
        lines.append(f"| {r.question} | {r.evidence} | {r.issues} | {r.method} | {r.themes} | {r.unassigned} "
                     f"| {_triple(r.scores)} | {r.chance:.3f} | {_triple(r.kmeans_same_k)} "
                     f"| {_triple(r.kmeans_issues_k)} |")
    scored = [r for r in rows if r.method != "none"]
    mean = {name: tuple(np.mean([getattr(r, name) for r in scored], axis=0).tolist())
            for name in ("scores", "kmeans_same_k", "kmeans_issues_k")}
    chance = float(np.mean([r.chance for r in scored]))
    lines.append(f"| **mean of {len(scored)}** | | | | | | {_triple(mean['scores'])} | {chance:.3f} "
                 f"| {_triple(mean['kmeans_same_k'])} | {_triple(mean['kmeans_issues_k'])} |")
    return "\n".join(lines)


def _triple(values: tuple[float, ...]) -> str:
    return " / ".join(f"{v:.3f}" for v in values)


def open_assistant(data_dir: Path) -> RiskAssistant:
    """The assistant over DATABASE_URL when set, else over an embedded server under data_dir."""
    settings = Settings(data_dir=data_dir, openai_api_key=None, openai_base_url=None, llm_agent=False)
    return RiskAssistant(settings, Database.open(settings), Embedder.load(settings))


def run(data_dir: Path, source: Path) -> str:
    """Ingest, score every question, and return the table."""
    assistant = open_assistant(data_dir)
    try:
        result = assistant.ingest(source, Mapping.load(MAPPING), report_path=data_dir / "rejected.csv")
        print(f"ingested {source.name}: {result.inserted} inserted, {result.unchanged} unchanged, "
              f"{len(result.rejections)} rows without a narrative left out")
        issues = read_issues(source)
        rows = [score_question(assistant, question, issues) for question in QUESTIONS]
    finally:
        assistant.close()
    return table(rows)


def main() -> None:
    """Parse the command line and print the scores."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="keep the embedded database here (reused when run again)")
    parser.add_argument("--csv", type=Path, default=CSV)
    args = parser.parse_args()
    if os.environ.get("DATABASE_URL"):
        print("using DATABASE_URL: it should name an empty database or one holding only this export")
    if args.data_dir is not None:
        print(run(args.data_dir, args.csv))
        return
    with tempfile.TemporaryDirectory(prefix="themes-cfpb-") as tmp:
        print(run(Path(tmp), args.csv))


if __name__ == "__main__":
    main()
