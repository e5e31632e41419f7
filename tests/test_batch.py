"""The batch front: many questions at once through the API, DataFrames and the `batch` command, resumable."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import Result
from pydantic import SecretStr
from typer.testing import CliRunner

from assistant.api import RiskAssistant
from assistant.batch import describe_error
from assistant.config import Settings
from assistant.errors import InputError
from assistant.models import Filter
from assistant.results import COLUMNS, journal_path
from tests.conftest import AS_OF

# Distinct demo questions from the planner's evaluation set (each matches a different set of events).
QUESTIONS = [
    "Q4 2025 card-not-present fraud patterns",
    "structuring cash deposits just under 10k in March 2026",
    "chargebacks over $1,000",
    "AML alerts between $10k and $50k",
    "phishing or credential stuffing security incidents",
    "identity theft cases over $10,000 in 2025",
]


def answer_count(assistant: RiskAssistant) -> int:
    """Rows in the `answers` table: the pipeline records every answer it gives."""
    return int(assistant.db.execute("SELECT count(*) FROM answers")[0][0])


def test_answers_come_back_in_input_order_from_concurrent_threads(demo_assistant: RiskAssistant) -> None:
    started = time.perf_counter()
    results = demo_assistant.ask_batch(QUESTIONS, concurrency=4, as_of=AS_OF)
    wall = time.perf_counter() - started
    assert [r.key for r in results] == [str(n) for n in range(1, len(QUESTIONS) + 1)]
    assert [r.question for r in results] == QUESTIONS
    assert all(r.error is None and r.answer is not None for r in results), [r.error for r in results]
    # Each result's seconds run from its own start: overlapping questions add up to more than the wall clock.
    assert sum(r.seconds for r in results) > 1.5 * wall
    sequential = [demo_assistant.ask(q, as_of=AS_OF) for q in QUESTIONS]
    assert [r.answer.facts.matched for r in results if r.answer] == [a.facts.matched for a in sequential]
    assert len({a.facts.matched for a in sequential}) > 1  # different questions: a shuffled order would show
    assert all(r.answer.question == r.question for r in results if r.answer)


def test_a_failing_question_is_an_error_row_and_the_rest_are_answered(demo_assistant: RiskAssistant) -> None:
    plan = demo_assistant.plan(QUESTIONS[2], as_of=AS_OF)
    bad_plan = plan.model_copy(update={"filters": [Filter(field="risk_colour", op="eq", value="red")]})
    before = answer_count(demo_assistant)
    results = demo_assistant.ask_batch([
        ("first", QUESTIONS[0]),
        {"id": "edited", "question": QUESTIONS[2], "plan": bad_plan},
        {"id": "dated", "question": QUESTIONS[1], "as_of": "2026-02-30"},
        ("blank", "   "),
        {"id": "last", "question": QUESTIONS[1], "as_of": "2026-11-22"},
    ], concurrency=2, as_of=AS_OF)
    by_key = {r.key: r for r in results}
    assert [r.key for r in results] == ["first", "edited", "dated", "blank", "last"]
    assert by_key["first"].answer is not None and by_key["last"].answer is not None
    assert by_key["first"].error is None and by_key["last"].error is None
    assert by_key["edited"].answer is None and "unknown filter field 'risk_colour'" in str(by_key["edited"].error)
    assert by_key["dated"].answer is None and by_key["dated"].error == "as_of '2026-02-30' is not a date (YYYY-MM-DD)"
    assert by_key["blank"].error == "the question is empty"
    for failed in ("edited", "dated", "blank"):
        assert "Traceback" not in str(by_key[failed].error) and "\n" not in str(by_key[failed].error)
        assert by_key[failed].row()["answer_id"] is None and by_key[failed].row()["error"]
    assert answer_count(demo_assistant) == before + 2  # only the answered ones are recorded


def test_an_unexpected_error_reads_as_one_line_without_secrets() -> None:
    settings = Settings(database_url="postgresql://risk:hunter2@db.internal/risk",  # type: ignore[arg-type]
                        openai_api_key=SecretStr("sk-live-123"))
    error = RuntimeError("connection to postgresql://risk:hunter2@db.internal/risk failed\n  File \"x.py\", line 3")
    assert describe_error(error, settings) == "unexpected RuntimeError: connection to *** failed"
    other = ValueError("bad key sk-live-123 for https://user:pw@proxy.example/v1")
    assert describe_error(other, settings) == "unexpected ValueError: bad key *** for https://user:***@proxy.example/v1"


def test_repeated_ids_are_refused_before_anything_is_asked(demo_assistant: RiskAssistant) -> None:
    before = answer_count(demo_assistant)
    with pytest.raises(InputError, match=r"question 3, field 'id': 'a' repeats the id of question 1"):
        demo_assistant.ask_batch([("a", QUESTIONS[0]), ("b", QUESTIONS[1]), ("a", QUESTIONS[2])], as_of=AS_OF)
    with pytest.raises(InputError, match="concurrency must be at least 1"):
        demo_assistant.ask_batch(QUESTIONS[:1], concurrency=0, as_of=AS_OF)
    assert answer_count(demo_assistant) == before


def test_ask_batch_async_gives_what_ask_batch_gives(demo_assistant: RiskAssistant) -> None:
    asked = [("x", QUESTIONS[3]), ("y", QUESTIONS[4]), ("z", QUESTIONS[5]), ("bad", "")]
    sync = demo_assistant.ask_batch(asked, concurrency=2, as_of=AS_OF)
    in_loop = asyncio.run(demo_assistant.ask_batch_async(asked, concurrency=3, as_of=AS_OF))
    assert [r.key for r in in_loop] == [r.key for r in sync] == ["x", "y", "z", "bad"]
    assert [r.error for r in in_loop] == [r.error for r in sync] == [None, None, None, "the question is empty"]
    assert [(r.answer.facts.matched, r.answer.plan.filters, r.answer.citations) for r in in_loop if r.answer] == \
           [(r.answer.facts.matched, r.answer.plan.filters, r.answer.citations) for r in sync if r.answer]
    assert len({r.answer.id for r in [*sync, *in_loop] if r.answer}) == 6  # each a new, recorded answer


def test_ask_frame_returns_one_row_per_question_in_the_documented_columns(demo_assistant: RiskAssistant) -> None:
    frame = pd.DataFrame({"ticket": ["T-9", "T-2"], "text": QUESTIONS[:2], "as_of": ["2026-11-22", None]})
    answered = demo_assistant.ask_frame(frame, question_column="text", id_column="ticket", as_of=AS_OF)
    assert list(answered.columns) == list(COLUMNS) == ["id", "question", "answer_id", "matched", "summary",
                                                       "citations", "mode", "error", "seconds", "as_of"]
    assert list(answered["id"]) == ["T-9", "T-2"] and list(answered["question"]) == QUESTIONS[:2]
    assert answered["error"].isna().all() and (answered["mode"] == "offline").all()
    assert (answered["as_of"] == "2026-11-22").all() and (answered["seconds"] > 0).all()
    assert all("no LLM" in s and "\x1b" not in s for s in answered["summary"])  # the plain-text rendering
    assert all(isinstance(c, list) and all(isinstance(i, int) for i in c) for c in answered["citations"])
    for answer_id, matched in zip(answered["answer_id"], answered["matched"], strict=True):
        record = demo_assistant.db.fetch_one("select_answer", {"id": answer_id})
        assert record is not None and record["matched"] == matched
    numbered = demo_assistant.ask_frame(pd.DataFrame({"question": QUESTIONS[:1]}), as_of=AS_OF)
    assert list(numbered["id"]) == ["1"]  # no id column: the row number


def test_ask_frame_refuses_a_frame_with_an_empty_question(demo_assistant: RiskAssistant) -> None:
    before = answer_count(demo_assistant)
    frame = pd.DataFrame({"question": [QUESTIONS[0], None]})
    with pytest.raises(InputError, match=r"^DataFrame, row 2, field 'question': empty"):
        demo_assistant.ask_frame(frame, as_of=AS_OF)
    with pytest.raises(InputError, match=r"^DataFrame, header, field 'ticket': no such column \(columns: question\)"):
        demo_assistant.ask_frame(frame, id_column="ticket", as_of=AS_OF)
    assert answer_count(demo_assistant) == before


# The command


@pytest.fixture
def cli(demo_assistant: RiskAssistant, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Run `risk-assistant` in-process against the demo database, offline."""
    from assistant.cli import app

    assert demo_assistant.settings.database_url is not None
    monkeypatch.setenv("DATABASE_URL", demo_assistant.settings.database_url.get_secret_value())
    monkeypatch.setenv("RISK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "400")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return lambda *args: CliRunner().invoke(app, ["batch", *map(str, args)])


def write_questions(path: Path, rows: list[dict[str, Any]]) -> Path:
    """A questions file in the format its name says."""
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif path.suffix == ".csv":
        pd.DataFrame(rows).to_csv(path, index=False)
    else:
        pd.DataFrame(rows).to_parquet(path, index=False)
    return path


def read_answers(path: Path) -> pd.DataFrame:
    """The output file as a frame (ids as text)."""
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype={"id": str})
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype={"id": str})
    return pd.read_parquet(path)


def flat(result: Result) -> str:
    """The command's output with line wrapping undone."""
    return " ".join(result.output.split())


@pytest.mark.parametrize(("source", "target"), [("csv", "csv"), ("jsonl", "jsonl"), ("parquet", "parquet"),
                                                ("csv", "parquet")])
def test_the_command_reads_and_writes_each_format(cli: Any, demo_assistant: RiskAssistant, tmp_path: Path,
                                                  source: str, target: str) -> None:
    rows = [{"case": f"C{n}", "ask": q} for n, q in zip((7, 3, 5), QUESTIONS[:3], strict=True)]
    questions = write_questions(tmp_path / f"in.{source}", rows)
    out = tmp_path / f"out.{target}"
    result = cli(questions, "-o", out, "--question-column", "ask", "--id-column", "case", "--as-of", "2026-11-22",
                 "--concurrency", "2")
    assert result.exit_code == 0, result.output
    assert f"{out}: 3 answered, 0 failed, 0 already there (of 3)" in flat(result)
    answers = read_answers(out)
    assert list(answers.columns) == list(COLUMNS)
    assert list(answers.sort_values("id")["id"]) == ["C3", "C5", "C7"]
    assert set(answers["question"]) == set(QUESTIONS[:3]) and answers["error"].isna().all()
    assert (answers["as_of"].astype(str) == "2026-11-22").all() and (answers["matched"] > 0).all()
    for answer_id in answers["answer_id"]:
        assert demo_assistant.db.fetch_one("select_answer", {"id": answer_id}) is not None
    assert not journal_path(out).exists()


def test_the_command_keys_rows_by_row_number_without_an_id_column(cli: Any, tmp_path: Path) -> None:
    questions = write_questions(tmp_path / "in.csv", [{"question": QUESTIONS[0]}, {"question": QUESTIONS[1]}])
    result = cli(questions, "-o", tmp_path / "out.jsonl", "--as-of", "2026-11-22")
    assert result.exit_code == 0, result.output
    answers = read_answers(tmp_path / "out.jsonl")
    assert dict(zip(answers["id"], answers["question"], strict=True)) == {"1": QUESTIONS[0], "2": QUESTIONS[1]}


def plain(value: Any) -> Any:
    """A value read back by pandas as the Python value it was written from (NaN: None)."""
    value = value.tolist() if hasattr(value, "tolist") else value
    return None if isinstance(value, float) and math.isnan(value) else value


def csv_lines(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([["" if r[c] is None else r[c] for c in COLUMNS] for r in rows])
    return buffer.getvalue()


def tear(out: Path, target: str, kept: list[dict[str, Any]], torn: dict[str, Any]) -> None:
    """Leave OUT as a crash would: `kept` complete, then `torn` cut in the middle of its summary."""
    if target == "csv":
        whole, start = csv_lines([*kept, torn]), len(csv_lines(kept))
        cut = whole.index(torn["summary"][:40], start) + len(torn["summary"]) // 2
        assert "\n" in whole[start:cut]  # torn inside the quoted, multi-line summary
        out.write_text(whole[:cut], encoding="utf-8")
    else:
        jsonl = out if target == "jsonl" else journal_path(out)
        if target == "parquet":  # killed before the merge: the first rows in OUT, the rest in the journal
            pd.DataFrame(kept[:1]).to_parquet(out, index=False)
            kept = kept[1:]
        line = json.dumps(torn)
        jsonl.write_text("".join(json.dumps(r) + "\n" for r in kept) + line[:len(line) // 2], encoding="utf-8")


@pytest.mark.parametrize("target", ["csv", "jsonl", "parquet"])
def test_a_rerun_asks_only_the_ids_not_yet_in_the_output(cli: Any, demo_assistant: RiskAssistant, tmp_path: Path,
                                                        target: str) -> None:
    rows = [{"id": f"Q{n}", "question": q} for n, q in enumerate(QUESTIONS[:5], start=1)]
    questions = write_questions(tmp_path / "in.jsonl", rows)
    out = tmp_path / f"out.{target}"
    assert cli(questions, "-o", out, "--as-of", "2026-11-22").exit_code == 0
    first = read_answers(out).set_index("id")
    records = [{"id": i, **{k: plain(v) for k, v in first.loc[i].items()}} for i in ("Q1", "Q2", "Q3")]
    out.unlink()
    tear(out, target, records[:2], records[2])  # Q1, Q2 whole; Q3 torn; Q4, Q5 never written

    before = answer_count(demo_assistant)
    result = cli(questions, "-o", out, "--as-of", "2026-11-22")
    assert result.exit_code == 0, result.output
    assert f"{out}: 3 answered, 0 failed, 2 already there (of 5)" in flat(result)
    assert answer_count(demo_assistant) == before + 3  # Q3, Q4 and Q5 only
    final = read_answers(out)
    assert sorted(final["id"]) == ["Q1", "Q2", "Q3", "Q4", "Q5"]  # each once: the torn Q3 was dropped
    kept = final.set_index("id")
    assert [kept.loc[i, "answer_id"] for i in ("Q1", "Q2")] == [first.loc[i, "answer_id"] for i in ("Q1", "Q2")]
    assert kept.loc["Q3", "answer_id"] != first.loc["Q3", "answer_id"]
    assert not journal_path(out).exists()

    again = cli(questions, "-o", out, "--as-of", "2026-11-22")
    assert "0 answered, 0 failed, 5 already there (of 5)" in flat(again)
    assert answer_count(demo_assistant) == before + 3 and len(read_answers(out)) == 5


BAD_INPUTS = [
    ("in.csv", "text\nsome question\n", "in.csv, header, field 'question': no such column (columns: text)"),
    ("in.csv", "id,question\na,first\nb,\nc,third\n", "in.csv, row 2, field 'question': empty"),
    ("in.jsonl", '{"id": 1, "question": "a"}\n{"id": 2, "question": "b"}\n{"id": 1, "question": "c"}\n',
     "in.jsonl, row 3, field 'id': '1' repeats the id of row 1"),
    ("in.jsonl", '{"question": "a"}\n{"question": 42}\n', "in.jsonl, row 2, field 'question': not text (int)"),
    ("in.jsonl", '{"question": "a"}\n{"question": "b"\n', "in.jsonl, row 2: not valid JSON"),
    ("in.csv", "question,as_of\na,2026-11-22\nb,22/11/2026\n",
     "in.csv, row 2, field 'as_of': as_of '22/11/2026' is not a date (YYYY-MM-DD)"),
    ("in.parquet", "not a parquet file", "in.parquet: cannot read it as parquet"),
    ("in.txt", "question\na\n", "in.txt: unknown format '.txt'"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_INPUTS, ids=[m for _, _, m in BAD_INPUTS])
def test_bad_input_names_file_row_and_field_and_loses_nothing_in_the_output(
        cli: Any, demo_assistant: RiskAssistant, tmp_path: Path, name: str, content: str, message: str) -> None:
    source = tmp_path / name
    source.write_text(content, encoding="utf-8")
    out = tmp_path / "out.csv"
    out.write_text(csv_lines([{c: ("old" if c == "id" else None) for c in COLUMNS}]), encoding="utf-8")
    kept = out.read_bytes()
    before = answer_count(demo_assistant)
    result = cli(source, "-o", out)
    assert result.exit_code == 1
    assert f"error: {tmp_path / message}" in flat(result), result.output
    assert out.read_bytes() == kept and answer_count(demo_assistant) == before


def test_an_output_that_is_not_a_batch_output_is_left_alone(cli: Any, tmp_path: Path) -> None:
    questions = write_questions(tmp_path / "in.csv", [{"question": QUESTIONS[0]}])
    out = tmp_path / "report.csv"
    out.write_text("name,total\nfraud,12\nchargebacks,7\n", encoding="utf-8")
    result = cli(questions, "-o", out)
    assert result.exit_code == 1 and "report.csv, header: not what a batch run writes" in flat(result)
    assert out.read_text(encoding="utf-8") == "name,total\nfraud,12\nchargebacks,7\n"
    missing = cli(tmp_path / "nowhere.csv", "-o", out)
    assert missing.exit_code == 1 and f"{tmp_path / 'nowhere.csv'}: no such file" in flat(missing)
