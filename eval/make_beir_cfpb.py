"""Write eval/beir_cfpb/: the CFPB complaint narratives as a BEIR corpus, analyst queries, label-based qrels.

Run `python eval/make_beir_cfpb.py [CSV] [OUT_DIR]` (CSV defaults to
../shared/data/cfpb/complaints_mixed_2015_2020.csv beside the repository), then
`risk-assistant eval retrieval eval/beir_cfpb`. The data is read where it lies and the generated
directories are not committed. It also writes eval/beir_cfpb_dev/ (the odd-numbered queries, for tuning
fusion) and eval/beir_cfpb_heldout/ (the even-numbered ones, never tuned on), each with the whole corpus.

Relevance comes from the consumers' own labels, not from us: each query paraphrases one CFPB
(issue, sub-issue) pair in an analyst's words, and every complaint filed under that pair is
relevant (grade 1). The corpus holds the narrative alone, so the labels never leak into the text
being searched. Consumers pick labels loosely, so absolute scores are low for every method; the
set is for comparing dense, keyword and hybrid retrieval (and fusion weights) on real text that
none of them was tuned on.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CSV = HERE.parents[1] / "shared" / "data" / "cfpb" / "complaints_mixed_2015_2020.csv"
OUT = HERE / "beir_cfpb"

# (query id, analyst's wording, CFPB issue, CFPB sub-issue ("" where the issue has none))
QUERIES: list[tuple[str, str, str, str]] = [
    ("c01", "a debt collector is trying to collect a debt that I do not owe",
     "Attempts to collect debt not owed", "Debt is not yours"),
    ("c02", "collection attempts for a balance that was already paid off",
     "Attempts to collect debt not owed", "Debt was paid"),
    ("c03", "the collection agency keeps calling me over and over every day",
     "Communication tactics", "Frequent or repeated calls"),
    ("c04", "threatened with a lawsuit over a very old debt",
     "Took or threatened to take negative or legal action", "Threatened to sue you for very old debt"),
    ("c05", "accounts on my credit report that belong to someone else",
     "Incorrect information on your report", "Information belongs to someone else"),
    ("c06", "hard inquiries on my credit file that I never authorized",
     "Improper use of your report", "Credit inquiries on your report that you don't recognize"),
    ("c07", "the bureau's reinvestigation did not correct the error on my report",
     "Problem with a credit reporting company's investigation into an existing problem",
     "Their investigation did not fix an error on your report"),
    ("c08", "wrong name, address or other personal details on my credit report",
     "Incorrect information on your report", "Personal information incorrect"),
    ("c09", "negative items that were deleted keep coming back on my report",
     "Incorrect information on your report", "Old information reappears or never goes away"),
    ("c10", "being pursued for a debt that came from identity theft",
     "Attempts to collect debt not owed", "Debt was result of identity theft"),
    ("c11", "never got a validation letter proving the debt is mine",
     "Written notification about debt", "Didn't receive enough information to verify debt"),
    ("c12", "the collector demands more than the amount I actually owe",
     "False statements or representation", "Attempted to collect wrong amount"),
    ("c13", "bankruptcy or judgment shown wrongly in the public records section",
     "Incorrect information on your report", "Public record information inaccurate"),
    ("c14", "overdraft fees charged when my balance ran low",
     "Problem caused by your funds being low", "Overdrafts and overdraft fees"),
    ("c15", "my card was billed for something I did not buy",
     "Problem with a purchase shown on your statement",
     "Card was charged for something you did not purchase with the card"),
    ("c16", "the card issuer will not settle my dispute over a purchase",
     "Problem with a purchase shown on your statement",
     "Credit card company isn't resolving a dispute about a purchase on your statement"),
    ("c17", "unable to get my free yearly credit report",
     "Unable to get your credit report or credit score", "Problem getting your free annual credit report"),
    ("c18", "behind on mortgage payments and trying to avoid foreclosure or get a modification",
     "Struggling to pay mortgage", ""),
    ("c19", "trouble placing or lifting a security freeze or fraud alert",
     "Problem with fraud alerts or security freezes", ""),
    ("c20", "they keep contacting me after I asked them in writing to stop",
     "Communication tactics", "You told them to stop contacting you, but they keep trying"),
    ("c21", "credit bureau took longer than 30 days to finish the dispute",
     "Problem with a credit reporting company's investigation into an existing problem",
     "Investigation took more than 30 days"),
    ("c22", "collecting on a debt that was discharged in bankruptcy",
     "Attempts to collect debt not owed", "Debt was already discharged in bankruptcy and is no longer owed"),
    ("c23", "told my credit score would be ruined unless I pay right away",
     "Took or threatened to take negative or legal action",
     "Threatened or suggested your credit would be damaged"),
    ("c24", "problems with deposits and withdrawals on my bank account",
     "Managing an account", "Deposits and withdrawals"),
]


def write_beir_cfpb(source: Path, out: Path) -> tuple[int, int, int]:
    """Write corpus.jsonl, queries.jsonl and qrels/test.tsv; (documents, queries, judgements)."""
    with source.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle)
                if r["Consumer complaint narrative"].strip() not in ("", "None")]
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as corpus:
        for r in rows:
            corpus.write(json.dumps({"_id": r["Complaint ID"], "title": "",
                                     "text": r["Consumer complaint narrative"]}) + "\n")
    judgements = 0
    with (out / "queries.jsonl").open("w", encoding="utf-8") as handle, \
            (out / "qrels" / "test.tsv").open("w", encoding="utf-8") as qrels:
        qrels.write("query-id\tcorpus-id\tscore\n")
        for qid, text, issue, sub_issue in QUERIES:
            relevant = [r["Complaint ID"] for r in rows if r["Issue"] == issue and r["Sub-issue"] == sub_issue]
            if not relevant:
                raise SystemExit(f"{source}: no complaint has issue {issue!r} / sub-issue {sub_issue!r} ({qid})")
            handle.write(json.dumps({"_id": qid, "text": text}) + "\n")
            qrels.writelines(f"{qid}\t{doc}\t1\n" for doc in relevant)
            judgements += len(relevant)
    return len(rows), len(QUERIES), judgements


def write_halves(full: Path) -> list[Path]:
    """Beside the full set, its two halves (same corpus): odd query ids for tuning (_dev), even ones held out."""
    written = []
    lines = (full / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    judged = (full / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    for half, parity in (("dev", 1), ("heldout", 0)):
        out = full.with_name(f"{full.name}_{half}")
        ids = {json.loads(line)["_id"] for line in lines if int(json.loads(line)["_id"][1:]) % 2 == parity}
        (out / "qrels").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(full / "corpus.jsonl", out / "corpus.jsonl")
        (out / "queries.jsonl").write_text(
            "".join(line + "\n" for line in lines if json.loads(line)["_id"] in ids), encoding="utf-8")
        (out / "qrels" / "test.tsv").write_text(
            "".join(row + "\n" for row in judged[:1] + [r for r in judged[1:] if r.split("\t")[0] in ids]),
            encoding="utf-8")
        written.append(out)
    return written


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else CSV
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else OUT
    docs, n_queries, n_judged = write_beir_cfpb(source, target)
    print(f"wrote {docs} documents, {n_queries} queries, {n_judged} judgements to {target}")
    print("and its halves (fusion tuned on the first only):", ", ".join(str(p) for p in write_halves(target)))
