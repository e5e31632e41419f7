"""The demo generator: determinism, a current bundled file, valid rows, and findable planted patterns."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.demo import (
    DEMO_END,
    DEMO_SIZE,
    DEMO_START,
    DemoSet,
    bundled_demo_path,
    generate_demo,
    read_jsonl_gz,
    write_jsonl_gz,
)

Row = dict[str, Any]
CATEGORIES = {
    "fraud_alert": 0.30, "credit_score_change": 0.20, "aml_alert": 0.12, "compliance_flag": 0.12,
    "chargeback": 0.12, "security_incident": 0.07, "complaint": 0.07,
}
SEVERITIES = {"low", "medium", "high", "critical"}
STATUSES = {"open", "under_review", "escalated", "closed_confirmed", "closed_false_positive"}
CHANNELS = {"online", "pos", "atm", "wire", "mobile", "branch", None}
CURRENCIES = {"USD", "EUR", "GBP"}
STRING_KEYS = ("source_id", "occurred_at", "category", "subcategory", "severity", "entity_id", "entity_name",
               "status", "title", "text", "region")
OPTIONAL_STRING_KEYS = ("currency", "merchant_id", "merchant_name", "channel", "rule_id")
KEYS = {*STRING_KEYS, *OPTIONAL_STRING_KEYS, "amount", "score_before", "score_after"}
DIGEST_SCRIPT = (
    "import hashlib, json; from assistant.demo import generate_demo; "
    "print(hashlib.sha256(json.dumps(generate_demo().rows, sort_keys=True).encode()).hexdigest())"
)


@pytest.fixture(scope="module")
def demo() -> DemoSet:
    return generate_demo()


def when(row: Row) -> datetime:
    return datetime.fromisoformat(row["occurred_at"])


def planted_rows(demo: DemoSet, name: str) -> list[Row]:
    ids = demo.planted[name].source_ids
    return [row for row in demo.rows if row["source_id"] in ids]


def in_q4_2025(row: Row) -> bool:
    return date(2025, 10, 1) <= when(row).date() <= date(2025, 12, 31)


def test_same_seed_gives_identical_rows(demo: DemoSet) -> None:
    again = generate_demo()
    assert again.rows == demo.rows
    assert again.planted == demo.planted


def test_other_seed_gives_other_rows(demo: DemoSet) -> None:
    assert generate_demo(seed=8).rows != demo.rows


def test_rows_do_not_depend_on_hash_seed(demo: DemoSet) -> None:
    expected = hashlib.sha256(json.dumps(demo.rows, sort_keys=True).encode()).hexdigest()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == expected


def test_bundled_file_is_current(demo: DemoSet) -> None:
    assert read_jsonl_gz(bundled_demo_path()) == demo.rows, "stale: run `python -m assistant.demo`"


def test_written_bytes_are_reproducible(tmp_path: Path, demo: DemoSet) -> None:
    first, second = tmp_path / "a.jsonl.gz", tmp_path / "b" / "b.jsonl.gz"
    write_jsonl_gz(demo.rows[:50], first)
    write_jsonl_gz(demo.rows[:50], second)
    assert first.read_bytes() == second.read_bytes()
    assert read_jsonl_gz(first) == demo.rows[:50]


def test_size_is_respected_and_checked() -> None:
    assert len(generate_demo(size=500).rows) == 500
    with pytest.raises(ValueError, match="at least"):
        generate_demo(size=50)


def test_rows_have_valid_fields(demo: DemoSet) -> None:
    assert len(demo.rows) == DEMO_SIZE
    for row in demo.rows:
        assert set(row) == KEYS, row["source_id"]
        assert all(isinstance(row[key], str) and row[key] for key in STRING_KEYS), row
        assert all(row[key] is None or isinstance(row[key], str) for key in OPTIONAL_STRING_KEYS), row
        assert row["category"] in CATEGORIES and row["severity"] in SEVERITIES
        assert row["status"] in STATUSES and row["channel"] in CHANNELS
        assert row["entity_id"].startswith("ACC-") and len(row["title"]) <= 80
        assert_amount_valid(row)
        assert_category_attributes(row)
        assert "{" not in row["text"] and "{" not in row["title"], row


def assert_amount_valid(row: Row) -> None:
    if row["amount"] is None:
        assert row["currency"] is None, row
        return
    assert isinstance(row["amount"], float) and row["amount"] > 0, row
    assert round(row["amount"], 2) == row["amount"] and row["currency"] in CURRENCIES, row


def assert_category_attributes(row: Row) -> None:
    credit = row["category"] == "credit_score_change"
    assert (row["score_before"] is not None) == credit and (row["score_after"] is not None) == credit, row
    assert (row["rule_id"] is not None) == (row["category"] == "compliance_flag"), row
    assert (row["merchant_id"] is None) == (row["merchant_name"] is None), row
    if credit:
        assert row["amount"] is None, row
        assert 300 <= row["score_after"] <= 850 and 300 <= row["score_before"] <= 850, row
    if row["merchant_id"] is not None:
        assert row["merchant_id"].startswith("MER-"), row


def test_source_ids_are_unique_and_chronological(demo: DemoSet) -> None:
    ids = [row["source_id"] for row in demo.rows]
    assert ids == [f"EVT-{n:06d}" for n in range(1, len(ids) + 1)]
    times = [when(row) for row in demo.rows]
    assert times == sorted(times)


def test_dates_lie_within_the_demo_window(demo: DemoSet) -> None:
    for row in demo.rows:
        moment = when(row)
        assert row["occurred_at"].endswith("+00:00") and moment.utcoffset() == timedelta(0)
        assert DEMO_START <= moment.astimezone(UTC).date() <= DEMO_END, row


def test_background_population_looks_like_the_brief(demo: DemoSet) -> None:
    shares = Counter(row["category"] for row in demo.rows)
    for category, share in CATEGORIES.items():
        assert abs(shares[category] / len(demo.rows) - share) < 0.03, (category, shares)
    assert len({row["entity_id"] for row in demo.rows}) > 1000
    assert len({row["merchant_id"] for row in demo.rows} - {None}) > 100
    assert Counter(row["currency"] for row in demo.rows).most_common(1)[0][0] == "USD"
    assert len({row["text"] for row in demo.rows}) > 0.95 * len(demo.rows)


def test_planted_patterns_are_described(demo: DemoSet) -> None:
    assert set(demo.planted) == {"cnp_burst_q4_2025", "structuring_2026_03", "credit_drops_2026_q2"}
    all_ids = {row["source_id"] for row in demo.rows}
    for name, pattern in demo.planted.items():
        assert pattern.name == name and pattern.description and pattern.question
        assert pattern.source_ids <= all_ids
    assert demo.planted["cnp_burst_q4_2025"].question == "Q4 2025 card-not-present fraud patterns"


def test_cnp_burst(demo: DemoSet) -> None:
    rows = planted_rows(demo, "cnp_burst_q4_2025")
    assert 50 <= len(rows) <= 70
    for row in rows:
        assert (row["category"], row["subcategory"]) == ("fraud_alert", "card_not_present"), row
        assert row["channel"] == "online", row
        assert (row["merchant_id"], row["merchant_name"]) == ("MER-4417", "QuickShip Electronics")
        assert in_q4_2025(row) and 300 <= row["amount"] <= 2500, row
    assert len({row["entity_id"] for row in rows}) >= 30
    assert sum(row["severity"] in ("high", "critical") for row in rows) > 0.7 * len(rows)
    others = [row for row in demo.rows if row["source_id"] not in demo.planted["cnp_burst_q4_2025"].source_ids
              and row["merchant_id"] == "MER-4417" and row["subcategory"] == "card_not_present"]
    assert len(others) <= 3 and not any(in_q4_2025(row) for row in others)


def test_structuring(demo: DemoSet) -> None:
    rows = planted_rows(demo, "structuring_2026_03")
    assert 20 <= len(rows) <= 30
    for row in rows:
        assert (row["category"], row["subcategory"], row["region"]) == ("aml_alert", "structuring", "US-East")
        assert when(row).strftime("%Y-%m") == "2026-03" and row["channel"] in ("atm", "branch"), row
        assert 9000 <= row["amount"] <= 9950 and row["currency"] == "USD", row
    assert 4 <= len({row["entity_id"] for row in rows}) <= 8
    march_us_east = [row for row in demo.rows if row["subcategory"] == "structuring"
                     and row["region"] == "US-East" and when(row).strftime("%Y-%m") == "2026-03"]
    assert len(march_us_east) == len(rows)


def test_credit_drops(demo: DemoSet) -> None:
    rows = planted_rows(demo, "credit_drops_2026_q2")
    assert 25 <= len(rows) <= 35
    for row in rows:
        assert (row["category"], row["subcategory"]) == ("credit_score_change", "score_drop"), row
        assert date(2026, 4, 1) <= when(row).date() <= date(2026, 6, 30), row
        assert row["score_before"] - row["score_after"] >= 80 and row["amount"] is None, row
        assert "BNPL" in row["text"], row
    large_q2 = [row for row in demo.rows if row["subcategory"] == "score_drop"
                and row["score_before"] - row["score_after"] >= 80
                and date(2026, 4, 1) <= when(row).date() <= date(2026, 6, 30)]
    assert len(large_q2) == len(rows)
    planted = demo.planted["credit_drops_2026_q2"].source_ids
    credit = [row for row in demo.rows if row["category"] == "credit_score_change"]
    assert not any("BNPL" in row["text"] for row in credit if row["source_id"] not in planted)


def test_planted_rows_are_not_contiguous(demo: DemoSet) -> None:
    index = {row["source_id"]: n for n, row in enumerate(demo.rows)}
    for pattern in demo.planted.values():
        positions = sorted(index[source_id] for source_id in pattern.source_ids)
        assert positions[-1] - positions[0] > len(positions), pattern.name


def test_no_row_labels_a_pattern(demo: DemoSet) -> None:
    banned = ("planted", *demo.planted)
    for row in demo.rows:
        for value in row.values():
            assert not any(word in str(value).lower() for word in banned), row
