"""Seeded synthetic risk events for the demo, with planted patterns as their ground truth."""

from __future__ import annotations

import gzip
import json
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any, NamedTuple

from assistant import demo_text

DEMO_SEED = 7
DEMO_SIZE = 3000
DEMO_START = date(2024, 10, 1)
DEMO_END = date(2026, 9, 30)


@dataclass(frozen=True)
class PlantedPattern:
    """A pattern hidden in the demo data: what it is, the question that finds it, its events."""

    name: str
    description: str
    question: str
    source_ids: frozenset[str]


@dataclass(frozen=True)
class DemoSet:
    """Generated demo rows and the planted patterns among them, by name."""

    rows: list[dict[str, Any]]
    planted: dict[str, PlantedPattern]


class _Spec(NamedTuple):
    category: str
    weight: float  # share of background events, in percent
    channels: tuple[str, ...]
    amount: tuple[float, float, float, float] | None  # lognormal median, sigma, clamp low, clamp high
    merchant: bool
    rule: str | None


_SPECS: dict[str, _Spec] = {
    "card_not_present": _Spec("fraud_alert", 15, ("online", "mobile"), (150, 0.9, 5, 4000), True, None),
    "card_present": _Spec("fraud_alert", 5.5, ("pos", "atm"), (90, 0.8, 5, 3000), True, None),
    "account_takeover": _Spec("fraud_alert", 6, ("online", "mobile"), (2500, 0.8, 200, 25000), False, None),
    "identity_theft": _Spec("fraud_alert", 3.5, ("online", "branch"), (4000, 0.7, 500, 30000), False, None),
    "score_drop": _Spec("credit_score_change", 12, (), None, False, None),
    "score_increase": _Spec("credit_score_change", 8, (), None, False, None),
    "structuring": _Spec("aml_alert", 4.2, ("atm", "branch"), (28000, 0.4, 12000, 80000), False, None),
    "rapid_movement": _Spec("aml_alert", 4.2, ("wire", "online"), (45000, 1.0, 5000, 400000), False, None),
    "high_risk_jurisdiction": _Spec("aml_alert", 3.6, ("wire",), (30000, 1.0, 2000, 500000), False, None),
    "kyc_refresh_overdue": _Spec("compliance_flag", 4, (), None, False, "KYC"),
    "sanctions_screening_hit": _Spec("compliance_flag", 2.5, ("wire",), (15000, 1, 500, 3e5), False, "SAN"),
    "pep_match": _Spec("compliance_flag", 1.5, (), None, False, "PEP"),
    "transaction_limit_breach": _Spec(
        "compliance_flag", 4, ("wire", "online", "mobile"), (8000, 0.6, 1500, 60000), False, "LIM"
    ),
    "goods_not_received": _Spec("chargeback", 4, ("online",), (180, 0.9, 10, 3000), True, None),
    "unauthorized_transaction": _Spec("chargeback", 4, ("online", "pos"), (140, 0.9, 5, 3000), True, None),
    "not_as_described": _Spec("chargeback", 2.5, ("online", "pos"), (120, 0.8, 10, 2500), True, None),
    "duplicate_charge": _Spec("chargeback", 1.5, ("online", "pos"), (70, 0.8, 5, 1500), True, None),
    "credential_stuffing": _Spec("security_incident", 2.5, ("online", "mobile"), None, False, None),
    "phishing": _Spec("security_incident", 2, ("online", "mobile"), (1200, 1.0, 50, 15000), False, None),
    "device_anomaly": _Spec("security_incident", 1.5, ("mobile",), None, False, None),
    "sim_swap": _Spec("security_incident", 1, ("mobile",), None, False, None),
    "fee_dispute": _Spec("complaint", 2.5, (), (35, 0.6, 5, 150), False, None),
    "service_delay": _Spec("complaint", 2, (), None, False, None),
    "card_declined": _Spec("complaint", 1.5, ("pos", "online"), (120, 0.9, 5, 2500), True, None),
    "collections_contact": _Spec("complaint", 1, (), None, False, None),
}
_SUBCATEGORIES = tuple(_SPECS)
_SUBCATEGORY_CUM = list(accumulate(spec.weight for spec in _SPECS.values()))

_REGION_CURRENCY = {"EU": "EUR", "UK": "GBP"}
_SEVERITY_WEIGHTS = {
    "fraud_alert": (20, 35, 30, 15), "aml_alert": (15, 40, 35, 10), "compliance_flag": (30, 40, 22, 8),
    "chargeback": (45, 40, 12, 3), "security_incident": (20, 35, 30, 15), "complaint": (55, 35, 9, 1),
}
_FALSE_POSITIVE_RATE = {
    "fraud_alert": 0.35, "aml_alert": 0.5, "compliance_flag": 0.4, "chargeback": 0.25,
    "credit_score_change": 0.03,
}
_DAYS = range((DEMO_END - DEMO_START).days + 1)


@dataclass(frozen=True)
class _Account:
    id: str
    name: str
    region: str
    currency: str
    score: int


@dataclass(frozen=True)
class _Merchant:
    id: str
    name: str
    currency: str


@dataclass(frozen=True)
class _World:
    accounts: list[_Account]
    account_cum: list[float]
    merchants: list[_Merchant]
    merchant_cum: list[float]
    day_cum: dict[str, list[float]]


def _make_accounts(rng: random.Random, n: int = 2000) -> list[_Account]:
    ids = rng.sample(range(10000, 100000), n)
    combos = [f"{f} {m}. {last}" for f in demo_text.FIRST_NAMES for m in "ABCDEFGHJKLMNPRSTW"
              for last in demo_text.LAST_NAMES]
    names = rng.sample(combos, n)
    accounts = []
    for num, name in zip(ids, names, strict=True):
        region = rng.choices(demo_text.REGIONS, (30, 22, 18, 12, 10, 8))[0]
        score = min(830, max(520, round(rng.gauss(700, 55))))
        accounts.append(_Account(f"ACC-{num}", name, region, _REGION_CURRENCY.get(region, "USD"), score))
    return accounts


def _make_merchants(rng: random.Random, n: int = 150) -> list[_Merchant]:
    ids = rng.sample([i for i in range(1000, 10000) if i != 4417], n - 1)
    names = rng.sample([f"{a} {b}" for a in demo_text.MERCHANT_PREFIXES for b in demo_text.MERCHANT_KINDS], n - 1)
    currencies = rng.choices(("USD", "EUR", "GBP"), (80, 12, 8), k=n - 1)
    merchants = [_Merchant(f"MER-{i}", nm, c) for i, nm, c in zip(ids, names, currencies, strict=True)]
    merchants.insert(rng.randrange(n), _Merchant(*demo_text.QUICKSHIP, "USD"))
    return merchants


def _day_weights(category: str) -> list[float]:
    weights = []
    for i in _DAYS:
        day = DEMO_START + timedelta(days=i)
        w = 1.0 + 0.25 * i / len(_DAYS)  # slow growth in volume over the two years
        if day.month in (11, 12) and category in ("fraud_alert", "chargeback", "complaint"):
            w *= 1.45  # holiday shopping season
        if day.month == 1 and category == "chargeback":
            w *= 1.3  # disputes of holiday purchases arrive in January
        if day.weekday() >= 5:
            w *= 0.45 if category in ("compliance_flag", "aml_alert", "complaint") else 0.9
        weights.append(w)
    return list(accumulate(weights))


def _make_world(rng: random.Random) -> _World:
    accounts = _make_accounts(rng)
    merchants = _make_merchants(rng)
    return _World(
        accounts,
        list(accumulate(rng.lognormvariate(0, 0.9) for _ in accounts)),
        merchants,
        list(accumulate(rng.lognormvariate(0, 0.8) for _ in merchants)),
        {spec.category: _day_weights(spec.category) for spec in _SPECS.values()},
    )


def _at(rng: random.Random, day: date, hour: int) -> datetime:
    moment = time(hour, rng.randrange(60), rng.randrange(60))
    return datetime.combine(day, moment, tzinfo=UTC)


def _pick_hour(rng: random.Random, category: str) -> int:
    if category == "credit_score_change":
        return rng.randint(3, 7)  # bureau files arrive in the early-morning batch
    if category in ("compliance_flag", "aml_alert", "complaint") and rng.random() < 0.85:
        return rng.randint(8, 18)
    return rng.randrange(24)


def _pick_amount(rng: random.Random, spec: _Spec) -> float | None:
    if spec.amount is None:
        return None
    median, sigma, low, high = spec.amount
    return round(float(min(high, max(low, rng.lognormvariate(math.log(median), sigma)))), 2)


def _pick_status(rng: random.Random, when: datetime, category: str) -> str:
    age = (DEMO_END - when.date()).days
    in_progress = 1.0 if age < 21 else 0.45 if age < 90 else 0.04
    if rng.random() < in_progress:
        return rng.choices(("open", "under_review", "escalated"), (40 if age < 21 else 5, 40, 20))[0]
    fp_rate = _FALSE_POSITIVE_RATE.get(category, 0.15)
    return "closed_false_positive" if rng.random() < fp_rate else "closed_confirmed"


def _pick_scores(rng: random.Random, account: _Account, subcategory: str) -> tuple[int, int]:
    before = min(850, max(300, account.score + rng.randint(-25, 25)))
    if subcategory == "score_increase":
        return before, min(850, before + rng.randint(5, 60))
    # A few severe drops (defaults, collections) keep 80+ point drops from being unique to one quarter.
    delta = rng.randint(80, 140) if rng.random() < 0.04 else rng.randint(8, 75)
    return before, max(300, before - delta)


def _base_row(
    rng: random.Random, when: datetime, sub: str, account: _Account, merchant: _Merchant | None
) -> dict[str, Any]:
    spec = _SPECS[sub]
    amount = _pick_amount(rng, spec)
    credit = spec.category == "credit_score_change"
    before, after = _pick_scores(rng, account, sub) if credit else (None, None)
    severity = rng.choices(("low", "medium", "high", "critical"), _SEVERITY_WEIGHTS.get(spec.category))[0]
    if credit:
        severity = "low" if sub == "score_increase" else _drop_severity(before or 0, after or 0)
    return {
        "source_id": "", "occurred_at": when, "category": spec.category, "subcategory": sub,
        "severity": severity, "entity_id": account.id, "entity_name": account.name, "amount": amount,
        "currency": None if amount is None else (merchant or account).currency,
        "status": _pick_status(rng, when, spec.category), "title": "", "text": "",
        "merchant_id": merchant and merchant.id, "merchant_name": merchant and merchant.name,
        "region": account.region, "channel": rng.choice(spec.channels) if spec.channels else None,
        "score_before": before, "score_after": after,
        "rule_id": f"{spec.rule}-{rng.randint(101, 106)}" if spec.rule else None,
    }


def _drop_severity(before: int, after: int) -> str:
    drop = before - after
    return "low" if drop < 30 else "medium" if drop < 60 else "high" if drop < 100 else "critical"


def _context(rng: random.Random, row: dict[str, Any]) -> dict[str, Any]:
    symbol = demo_text.CURRENCY_SYMBOLS.get(row["currency"] or "USD", "$")
    amount = row["amount"]
    before, after = row["score_before"], row["score_after"]
    limit = max(500, math.floor((amount or 0) * 0.8 / 500) * 500)
    return {
        "name": row["entity_name"], "acct": row["entity_id"], "merchant": row["merchant_name"],
        "amt": f"{symbol}{amount:,.2f}" if amount is not None else "", "channel": row["channel"],
        "rule": row["rule_id"], "before": before, "after": after,
        "drop": abs(before - after) if before is not None else 0, "limit": f"{symbol}{limit:,}",
        "where": "an ATM" if row["channel"] == "atm" else "a branch teller",
        "reason": rng.choice(demo_text.DOWN_REASONS), "reason_up": rng.choice(demo_text.UP_REASONS),
        "country": rng.choice(demo_text.COUNTRIES), "provider": rng.choice(demo_text.BNPL_PROVIDERS),
        "n": rng.randint(3, 12), "days": rng.randint(3, 45), "hours": rng.randint(2, 36),
        "mins": rng.randint(5, 40), "km": rng.randint(80, 2400), "pct": rng.randint(82, 97),
    }


def _describe(rng: random.Random, row: dict[str, Any], key: str) -> dict[str, Any]:
    title, *phrasings = demo_text.TEXTS[key]
    context = _context(rng, row)
    text = rng.choice(phrasings).format_map(context)
    if row["category"] != "credit_score_change" and rng.random() < 0.5:  # bureau feeds carry no case notes
        text += " " + rng.choice(demo_text.STATUS_NOTES[row["status"]])
    row["title"] = title.format_map(context)
    row["text"] = text[0].upper() + text[1:]
    return row


def _collides(row: dict[str, Any]) -> bool:
    """True when a background row would meet a planted pattern's definition and blur its ground truth."""
    sub, when = row["subcategory"], row["occurred_at"]
    if sub == "card_not_present":
        return bool(row["merchant_id"] == demo_text.QUICKSHIP[0])
    if sub == "structuring":
        return bool(row["region"] == "US-East" and (when.year, when.month) == (2026, 3))
    if sub == "score_drop":
        in_q2_2026 = (2026, 4) <= (when.year, when.month) <= (2026, 6)
        return bool(in_q2_2026 and row["score_before"] - row["score_after"] >= 80)
    return False


def _pick(rng: random.Random, items: Sequence[Any], cum: list[float]) -> Any:
    return rng.choices(items, cum_weights=cum)[0]


def _background_row(rng: random.Random, world: _World) -> dict[str, Any]:
    while True:
        sub = rng.choices(_SUBCATEGORIES, cum_weights=_SUBCATEGORY_CUM)[0]
        spec = _SPECS[sub]
        day = DEMO_START + timedelta(days=_pick(rng, _DAYS, world.day_cum[spec.category]))
        account = _pick(rng, world.accounts, world.account_cum)
        merchant = _pick(rng, world.merchants, world.merchant_cum) if spec.merchant else None
        row = _base_row(rng, _at(rng, day, _pick_hour(rng, spec.category)), sub, account, merchant)
        if not _collides(row):
            return _describe(rng, row, sub)


def _quickship(world: _World) -> _Merchant:
    return next(m for m in world.merchants if m.id == demo_text.QUICKSHIP[0])


def _plant_cnp_burst(rng: random.Random, world: _World) -> list[dict[str, Any]]:
    accounts = rng.sample(world.accounts, 40)
    victims = accounts + [rng.choice(accounts) for _ in range(20)]
    rows = []
    for account in victims:
        day = date(2025, 10, 6) + timedelta(days=round(rng.triangular(0, 75, 40)))
        # Night-time in UTC: the fraud ring's scripts run while the cardholders sleep.
        row = _base_row(rng, _at(rng, day, rng.randint(0, 6)), "card_not_present", account, _quickship(world))
        row["amount"] = round(rng.uniform(300, 2500), 2)
        row["channel"] = "online"
        row["severity"] = rng.choices(("medium", "high", "critical"), (15, 55, 30))[0]
        outcomes = ("escalated", "closed_confirmed", "closed_false_positive")
        row["status"] = rng.choices(outcomes, (20, 72, 8))[0]
        rows.append(_describe(rng, row, "card_not_present"))
    return rows


def _plant_structuring(rng: random.Random, world: _World) -> list[dict[str, Any]]:
    accounts = rng.sample([a for a in world.accounts if a.region == "US-East"], 6)
    depositors = [a for a, times in zip(accounts, (5, 5, 4, 4, 4, 3), strict=True) for _ in range(times)]
    rows = []
    for account in depositors:
        when = _at(rng, date(2026, 3, rng.randint(2, 31)), rng.randint(9, 17))
        row = _base_row(rng, when, "structuring", account, None)
        row["amount"] = round(rng.uniform(9000, 9950), 2)
        row["channel"] = rng.choice(("atm", "branch"))
        row["severity"] = rng.choice(("medium", "high"))
        row["status"] = rng.choices(("under_review", "escalated", "closed_confirmed"), (20, 40, 40))[0]
        rows.append(_describe(rng, row, "structuring_single"))
    return rows


def _plant_credit_drops(rng: random.Random, world: _World) -> list[dict[str, Any]]:
    accounts = rng.sample([a for a in world.accounts if a.score >= 660], 30)
    rows = []
    for account in accounts:
        when = _at(rng, date(2026, 4, 1) + timedelta(days=rng.randint(0, 90)), rng.randint(3, 7))
        row = _base_row(rng, when, "score_drop", account, None)
        before = min(850, account.score + rng.randint(-10, 10))
        row["score_before"], row["score_after"] = before, before - rng.randint(80, 150)
        row["severity"] = _drop_severity(row["score_before"], row["score_after"])
        rows.append(_describe(rng, row, "score_drop_bnpl"))
    return rows


def _quickship_baseline(rng: random.Random, world: _World) -> list[dict[str, Any]]:
    rows = []
    for day in (date(2025, 3, rng.randint(1, 31)), date(2026, 6, rng.randint(1, 30))):
        account = _pick(rng, world.accounts, world.account_cum)
        row = _base_row(rng, _at(rng, day, rng.randrange(24)), "card_not_present", account, _quickship(world))
        rows.append(_describe(rng, row, "card_not_present"))
    return rows


def generate_demo(seed: int = DEMO_SEED, size: int = DEMO_SIZE) -> DemoSet:
    """Generate `size` demo events for a seed, the same on every run and machine."""
    rng = random.Random(seed)
    world = _make_world(rng)
    planters = (_plant_cnp_burst, _plant_structuring, _plant_credit_drops)
    tagged: list[tuple[str | None, dict[str, Any]]] = [
        (name, row) for name, plant in zip(demo_text.PATTERNS, planters, strict=True) for row in plant(rng, world)
    ]
    tagged += [(None, row) for row in _quickship_baseline(rng, world)]
    if size < len(tagged):
        raise ValueError(f"demo size must be at least {len(tagged)} to hold the planted patterns, got {size}")
    tagged += [(None, _background_row(rng, world)) for _ in range(size - len(tagged))]
    rng.shuffle(tagged)
    tagged.sort(key=lambda pair: pair[1]["occurred_at"])  # stable: ties keep their shuffled order
    ids: dict[str, set[str]] = {name: set() for name in demo_text.PATTERNS}
    for number, (name, row) in enumerate(tagged, start=1):
        row["source_id"] = f"EVT-{number:06d}"
        row["occurred_at"] = row["occurred_at"].isoformat()
        if name is not None:
            ids[name].add(row["source_id"])
    planted = {
        name: PlantedPattern(name, description, question, frozenset(ids[name]))
        for name, (description, question) in demo_text.PATTERNS.items()
    }
    return DemoSet([row for _, row in tagged], planted)


def write_jsonl_gz(rows: Iterable[dict[str, Any]], path: Path) -> None:
    """Write rows as gzipped JSON lines with a fixed header, so equal rows give equal bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        for row in rows:
            out.write(json.dumps(row, sort_keys=True).encode("utf-8") + b"\n")


def read_jsonl_gz(path: Path) -> list[dict[str, Any]]:
    """Read rows written by `write_jsonl_gz`."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def bundled_demo_path() -> Path:
    """Path of the demo events shipped with the package."""
    return Path(__file__).parent / "data" / "demo_events.jsonl.gz"


if __name__ == "__main__":
    write_jsonl_gz(generate_demo().rows, bundled_demo_path())
    print(f"wrote {DEMO_SIZE} events to {bundled_demo_path()}")
