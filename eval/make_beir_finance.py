"""Write eval/beir_finance_dev/ and eval/beir_finance_heldout/: annual-report passages and questions (TAT-QA style).

Run `python eval/make_beir_finance.py [OUT_PARENT]`, then `risk-assistant eval retrieval eval/beir_finance_dev`
(and `..._heldout`, each in its own database: the two share one corpus). Deterministic (seeded).

The corpus is short annual-report passages, one per (fictional company, line item, fiscal year): figures with
their prior-year comparatives, the driver of the change, the segment or region. Each question is written from
one passage and that passage alone is relevant (grade 1). Questions come in four styles, as analysts ask them:
by company and line item in the report's words, by company in other words (a paraphrase: "capex" for purchases
of property, plant and equipment), by a figure without the company ("which company ... $45.2 million"), and
without company or figure, by the paraphrased line item, the driver and the segment (several passages fit
in part: as in TAT-QA, where a question seldom names the company, many passages look alike).
The questions are split in two by a fixed hash: fusion weights are tuned on the dev half only, the held-out
half is scored and never tuned on.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent
SEED = 20261130

PREFIXES = ["Norwood", "Alder", "Brightwater", "Castleford", "Dunmore", "Eastgate", "Fairhaven", "Glenrock",
            "Harlow", "Ironbridge", "Juniper", "Kestrel", "Larchmont", "Meridian", "Northfield", "Oakridge",
            "Pemberton", "Quarry Lane", "Redcliff", "Silverlake", "Thornbury", "Upland", "Valemont", "Westbrook",
            "Yarrow", "Zenith", "Ashcombe", "Beacon Hill", "Coldstream", "Driftwood"]
SUFFIXES = ["Industries", "Holdings", "Group", "Technologies", "Logistics", "Foods", "Energy", "Pharma",
            "Retail", "Semiconductors"]
SEGMENTS = ["Industrial Automation", "Consumer Products", "Cloud Services", "Specialty Chemicals", "Medical Devices",
            "Renewable Power", "Freight Forwarding", "Packaged Foods", "Wealth Management", "Data Centres"]
REGIONS = ["North America", "Europe", "Asia Pacific", "Latin America", "the Middle East"]

# (key, the report's words, an analyst's paraphrase, the driver sentences the passage may give)
ITEMS: list[tuple[str, str, str, list[str]]] = [
    ("revenue", "revenue", "total sales", [
        "higher volumes in the {segment} segment", "price increases across {region}",
        "the acquisition of a regional distributor"]),
    ("gross_margin", "gross margin", "gross profit as a share of sales", [
        "lower input costs", "an unfavourable product mix in {region}", "freight cost inflation"]),
    ("opex", "selling, general and administrative expenses", "overheads", [
        "higher headcount in {region}", "marketing for the {segment} launch", "one-off consulting fees"]),
    ("rnd", "research and development expense", "R&D spending", [
        "new programmes in the {segment} segment", "capitalisation of development costs", "lower grant income"]),
    ("capex", "purchases of property, plant and equipment", "capex", [
        "a new plant in {region}", "expansion of {segment} capacity", "the deferral of maintenance projects"]),
    ("goodwill", "goodwill impairment charge", "write-down of goodwill", [
        "weaker forecasts for the {segment} cash-generating unit", "higher discount rates", "the exit from {region}"]),
    ("tax", "effective tax rate", "tax rate on profits", [
        "the release of a valuation allowance on deferred tax assets", "profits earned in {region}",
        "non-deductible acquisition costs"]),
    ("leases", "lease liabilities", "lease obligations", [
        "new warehouse leases in {region}", "the adoption of IFRS 16", "early termination of office leases"]),
    ("inventories", "inventories", "stock on hand", [
        "a build-up of {segment} components", "supply chain disruption in {region}", "slower sell-through"]),
    ("receivables", "trade receivables", "money owed by customers", [
        "longer payment terms in {region}", "strong December billing in {segment}", "a factoring programme"]),
    ("dividend", "dividends paid", "cash returned to shareholders as dividends", [
        "a higher payout ratio", "a special dividend", "an increased interim dividend"]),
    ("debt", "net debt", "borrowings net of cash", [
        "the refinancing of a term loan", "the {segment} acquisition", "strong free cash flow"]),
]


def _money(rng: random.Random, low: float, high: float) -> float:
    return round(rng.uniform(low, high), 1)


def _passage(rng: random.Random, company: str, item: tuple[str, str, str, list[str]], year: int) -> dict[str, str]:
    key, words, _, drivers = item
    segment, region = rng.choice(SEGMENTS), rng.choice(REGIONS)
    driver = rng.choice(drivers).format(segment=segment, region=region)
    if key in ("gross_margin", "tax"):
        now, before = round(rng.uniform(12, 48), 1), round(rng.uniform(12, 48), 1)
        figure, prior = f"{now}%", f"{before}%"
    else:
        now = _money(rng, 5, 2500)
        before = round(now * rng.uniform(0.7, 1.3), 1)
        figure, prior = f"${now:,} million", f"${before:,} million"
    moved = "increased" if now > before else "decreased"
    text = (f"{company} annual report {year}. The {words} {moved} to {figure} in fiscal {year} from {prior} in "
            f"fiscal {year - 1}, mainly due to {driver}. The {segment} segment contributed most of the change, "
            f"while {region} was the largest region by sales.")
    return {"company": company, "key": key, "year": str(year), "figure": figure, "driver": driver,
            "segment": segment, "text": text}


def _question(rng: random.Random, p: dict[str, str], item: tuple[str, str, str, list[str]]) -> str:
    _, words, paraphrase, _ = item
    style = rng.randrange(4)
    if style == 0:
        return f"What was {p['company']}'s {words} in fiscal {p['year']}?"
    if style == 1:
        return f"Why did {p['company']}'s {paraphrase} change in {p['year']}?"
    if style == 2:
        return f"Which company reported {words} of {p['figure']} in {p['year']}?"
    return f"Whose {paraphrase} moved in {p['year']} because of {p['driver']}, with {p['segment']} the main segment?"


def build(out_parent: Path) -> tuple[int, int, int]:
    """Write both directories; (documents, dev questions, held-out questions)."""
    rng = random.Random(SEED)
    # Two companies per name (Norwood Logistics and Norwood Foods), two consecutive years per line item.
    companies = [f"{p} {s}" for p in PREFIXES for s in rng.sample(SUFFIXES, 2)]
    corpus, questions = [], []
    for company in companies:
        first = rng.choice([2018, 2019, 2020])
        for item in rng.sample(ITEMS, 6):
            for year in (first, first + 1):
                p = _passage(rng, company, item, year)
                doc_id = f"f{len(corpus):04d}"
                corpus.append({"_id": doc_id, "title": "", "text": p["text"]})
                if rng.random() < 0.5:
                    questions.append((f"q{len(questions):04d}", _question(rng, p, item), doc_id))
    halves: dict[str, list[tuple[str, str, str]]] = {"dev": [], "heldout": []}
    for q in questions:
        halves["dev" if hashlib.sha256(q[0].encode()).digest()[0] % 2 == 0 else "heldout"].append(q)
    for half, chosen in halves.items():
        root = out_parent / f"beir_finance_{half}"
        (root / "qrels").mkdir(parents=True, exist_ok=True)
        (root / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus), encoding="utf-8")
        (root / "queries.jsonl").write_text(
            "".join(json.dumps({"_id": qid, "text": text}) + "\n" for qid, text, _ in chosen), encoding="utf-8")
        (root / "qrels" / "test.tsv").write_text(
            "query-id\tcorpus-id\tscore\n" + "".join(f"{qid}\t{doc}\t1\n" for qid, _, doc in chosen), encoding="utf-8")
    return len(corpus), len(halves["dev"]), len(halves["heldout"])


if __name__ == "__main__":
    parent = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    documents, dev, heldout = build(parent)
    print(f"wrote {documents} documents, {dev} dev and {heldout} held-out questions to {parent}/beir_finance_*")
