"""Downloads of an answer: its evidence as CSV and Markdown, and the whole answer as Markdown."""

from __future__ import annotations

import csv
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.models import Answer, EventHit
from assistant.render.markdown import escape, to_markdown
from assistant.ui.render import format_date, format_filter, format_shared, ordered_hits

CSV_COLUMNS = ("id", "cited", "score", "occurred_at", "category", "subcategory", "severity", "entity_id",
               "entity_name", "amount", "currency", "status", "title", "text", "shares_with_target")
_MARKDOWN_COLUMNS = ("id", "cited", "score", "date", "category", "subcategory", "severity", "entity", "amount",
                     "title")
# A spreadsheet runs a cell that starts with one of these as a formula: event text must not.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?[0-9][0-9,]*(\.[0-9]+)?")
_SAFE_ID = re.compile(r"[^A-Za-z0-9-]")


@dataclass(frozen=True)
class Exports:
    """The files written for one answer."""

    evidence_csv: Path
    evidence_markdown: Path
    answer_markdown: Path


def write_exports(answer: Answer, base: Path | None = None) -> Exports:
    """Write the answer's downloads into a folder of their own (under the system temp dir by default)."""
    root = base or Path(tempfile.gettempdir()) / "risk-assistant-ui"
    folder = root / _SAFE_ID.sub("", answer.id)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"answer-{answer.id[:8]}"
    exports = Exports(folder / f"{stem}-evidence.csv", folder / f"{stem}-evidence.md", folder / f"{stem}.md")
    rows = evidence_records(answer)
    with exports.evidence_csv.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS))
        writer.writeheader()
        writer.writerows({name: csv_cell(row[name]) for name in CSV_COLUMNS} for row in rows)
    exports.evidence_markdown.write_text(evidence_markdown(answer), encoding="utf-8")
    exports.answer_markdown.write_text(answer_markdown(answer), encoding="utf-8")
    return exports


def evidence_records(answer: Answer) -> list[dict[str, Any]]:
    """One record per listed event (cited first) with every CSV column."""
    cited = set(answer.citations)
    return [_record(hit, hit.id in cited) for hit in ordered_hits(answer)]


def evidence_markdown(answer: Answer) -> str:
    """The listed events as a Markdown table, every cell escaped."""
    header = "| " + " | ".join(_MARKDOWN_COLUMNS) + " |"
    lines = [header, "|" + "---|" * len(_MARKDOWN_COLUMNS)]
    for row in evidence_records(answer):
        entity = " ".join(str(v) for v in (row["entity_name"], row["entity_id"]) if v)
        amount = " ".join(str(v) for v in (row["amount"], row["currency"]) if v not in (None, ""))
        cells = [row["id"], row["cited"], row["score"], row["occurred_at"], row["category"], row["subcategory"],
                 row["severity"], entity, amount, row["title"]]
        lines.append("| " + " | ".join(_md_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def answer_markdown(answer: Answer) -> str:
    """The whole answer for a report: question, answer, plan filters and the evidence table."""
    filters = [f"- {format_filter(f)}" for f in answer.plan.filters] or ["- (none)"]
    return "\n".join([
        f"# {escape(answer.question)}", "",
        f"*Answer {answer.id} · mode {answer.mode} · as of {answer.plan.as_of.isoformat()}*", "",
        to_markdown(answer), "", "## Filters", *filters, "", "## Evidence", "", evidence_markdown(answer),
    ])


def csv_cell(value: Any) -> Any:
    """A value safe for a spreadsheet: text that would start a formula is quoted with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _record(hit: EventHit, cited: bool) -> dict[str, Any]:
    fields = hit.fields
    record: dict[str, Any] = {name: fields.get(name) for name in CSV_COLUMNS if name in fields}
    return {
        **{name: "" for name in CSV_COLUMNS}, **{k: ("" if v is None else v) for k, v in record.items()},
        "id": hit.id, "cited": "yes" if cited else "", "score": hit.score,
        "occurred_at": format_date(fields.get("occurred_at")), "shares_with_target": format_shared(hit.shared),
    }


def _md_cell(value: Any) -> str:
    return escape("" if value is None else str(value)).replace("\n", " ")
