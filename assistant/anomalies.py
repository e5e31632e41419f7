"""Anomalies among the evidence: events far from every theme, amounts and gaps unusual for their entity."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from assistant.db import Database
from assistant.models import Anomaly, EventHit, ThemeSet
from assistant.themes import Vectors, centroids, normalise

# Iglewicz and Hoaglin's cut-off for the modified z-score 0.6745 (x - median) / MAD; a value drawn from a
# normal distribution passes it about once in 2,000 draws.
Z_MIN = 3.5
MAD_SCALE = 0.6745  # MAD of a normal sample is 0.6745 sigma
MEAN_AD_SCALE = 1.253314  # with MAD 0 (half the sample equal), the mean absolute deviation stands in
MIN_HISTORY = 5  # fewer earlier amounts or gaps than this give no idea of the entity's normal
MAX_ANOMALIES = 10
# Templated alerts differ from their rewordings by a few hundredths of cosine distance; a floor on the MAD of
# distances keeps such a tight spread from making an event 0.1 away look extreme.
MIN_DISTANCE_MAD = 0.02
# Amounts and gaps vary by factors, so both are compared on a log scale (on raw amounts one large purchase
# among small ones is "extreme" for any entity). However steady an entity's history (a fixed monthly
# payment has MAD 0), an amount within 5 times its median, or a gap less than 20 times shorter than its
# median, is never unusual: the MAD of the logs has a floor that puts those ratios at z = 3.5.
MIN_AMOUNT_RATIO = 5.0
MIN_GAP_RATIO = 20.0


@dataclass(frozen=True)
class Past:
    """One stored event of an evidence entity: what its amount and timing are judged against."""

    id: int
    entity_id: str
    occurred_at: dt.datetime
    amount: Decimal | None
    currency: str | None


def find_anomalies(db: Database, ids: list[int], vectors: Vectors, hits: list[EventHit],
                   themes: ThemeSet) -> list[Anomaly]:
    """Evidence events that stand out by meaning, amount or timing, most unusual first (at most 10)."""
    found = outliers(ids, normalise(np.asarray(vectors, dtype=np.float64)), themes)
    history = entity_history(db, hits)
    found += amount_anomalies(hits, history) + timing_anomalies(hits, history)
    found.sort(key=lambda a: (-a.score, a.event_id, a.kind))
    return found[:MAX_ANOMALIES]


def robust_z(value: float, sample: Sequence[float], *, min_mad: float = 0.0) -> float | None:
    """The modified z-score of `value` against `sample`; None when the sample has no spread at all."""
    values = np.asarray(sample, dtype=np.float64)
    median = float(np.median(values))
    mad = max(float(np.median(np.abs(values - median))), min_mad)
    if mad > 0:
        return MAD_SCALE * (value - median) / mad
    mean_ad = float(np.mean(np.abs(values - median)))
    return (value - median) / (MEAN_AD_SCALE * mean_ad) if mean_ad > 0 else None


def outliers(ids: list[int], unit: Vectors, themes: ThemeSet) -> list[Anomaly]:
    """Events far from every theme's centroid and from every other evidence event (robust z, both)."""
    if not themes.themes or len(ids) < 2:
        return []
    distance = 1.0 - unit @ centroids(unit, ids, themes).T  # events x themes
    position = {event_id: n for n, event_id in enumerate(ids)}
    # Members' distances to their own theme's centroid, pooled: a theme of near-identical texts alone
    # would make any other event look extreme.
    own = [float(distance[position[i], t]) for t, theme in enumerate(themes.themes) for i in theme.event_ids]
    # Far from the themes is not enough: HDBSCAN leaves out small groups (a rare phrasing, a handful of
    # similar events), and those are not outliers. An outlier also has no close neighbour in the evidence.
    neighbour = nearest_neighbour_distance(unit)
    found = []
    for row, event_id in enumerate(ids):
        nearest = int(np.argmin(distance[row]))
        far = robust_z(float(distance[row, nearest]), own, min_mad=MIN_DISTANCE_MAD)
        alone = robust_z(float(neighbour[row]), neighbour.tolist(), min_mad=MIN_DISTANCE_MAD)
        if far is None or alone is None or min(far, alone) < Z_MIN:
            continue
        theme = themes.themes[nearest]
        reason = (f"far from every theme: nearest is theme {theme.id} '{theme.label}', at distance "
                  f"{distance[row, nearest]:.2f} against a typical {np.median(own):.2f}; its most similar "
                  f"evidence event is at {neighbour[row]:.2f} against a typical {np.median(neighbour):.2f}")
        found.append(Anomaly(event_id=event_id, kind="outlier", score=round(min(far, alone), 2), reason=reason))
    return found


def nearest_neighbour_distance(unit: Vectors, block: int = 512) -> Vectors:
    """Each row's cosine distance to its most similar other row (in blocks: evidence may be 5,000 events)."""
    nearest = np.empty(len(unit))
    for start in range(0, len(unit), block):
        similarity = unit[start:start + block] @ unit.T
        rows = np.arange(similarity.shape[0])
        similarity[rows, rows + start] = -np.inf  # not itself
        nearest[start:start + block] = 1.0 - similarity.max(axis=1)
    return nearest


def entity_history(db: Database, hits: list[EventHit]) -> dict[str, list[Past]]:
    """Every stored event of the evidence's entities, by entity, oldest first."""
    entity_ids = sorted({str(hit.fields["entity_id"]) for hit in hits if hit.fields.get("entity_id")})
    if not entity_ids:
        return {}
    history: dict[str, list[Past]] = {}
    for row in db.fetch_all("select_entity_history", {"entity_ids": entity_ids}):
        history.setdefault(row["entity_id"], []).append(Past(**row))
    return history


def amount_anomalies(hits: list[EventHit], history: dict[str, list[Past]]) -> list[Anomaly]:
    """Amounts far from the entity's other amounts in the same currency (robust z of log amounts, both ways)."""
    found = []
    for hit in hits:
        entity, amount, currency = hit.fields.get("entity_id"), hit.fields.get("amount"), hit.fields.get("currency")
        if not entity or amount is None or Decimal(amount) <= 0:
            continue  # a refund or a zero has no log; its size is not what makes it unusual
        others = [float(p.amount) for p in history.get(entity, [])
                  if p.id != hit.id and p.amount is not None and p.amount > 0 and p.currency == currency]
        if len(others) < MIN_HISTORY:
            continue
        z = robust_z(math.log(float(amount)), np.log(others).tolist(), min_mad=_mad_floor(MIN_AMOUNT_RATIO))
        if z is None or abs(z) < Z_MIN:
            continue
        unit, median = f" {currency}" if currency else "", float(np.median(others))
        reason = (f"amount {Decimal(amount):,.2f}{unit} is {abs(z):.1f} robust z {'above' if z > 0 else 'below'} "
                  f"{entity}'s median of {median:,.2f}{unit} over {len(others)} other events "
                  f"({float(amount) / median:,.1f} times the median)")
        found.append(Anomaly(event_id=hit.id, kind="amount", score=round(abs(z), 2), reason=reason))
    return found


def _mad_floor(ratio: float) -> float:
    """The MAD of logs at which a value `ratio` times the median scores exactly Z_MIN."""
    return MAD_SCALE * math.log(ratio) / Z_MIN


def timing_anomalies(hits: list[EventHit], history: dict[str, list[Past]]) -> list[Anomaly]:
    """Events that came unusually soon after their entity's previous event (robust z of the log gap)."""
    found = []
    for hit in hits:
        past = history.get(hit.fields.get("entity_id") or "", [])
        at = next((n for n, p in enumerate(past) if p.id == hit.id), None)
        if not at:  # not stored under the entity, or its first event: no gap to judge
            continue
        gaps = [_log_gap(a, b) for a, b in itertools.pairwise(past)]
        own, others = gaps[at - 1], gaps[:at - 1] + gaps[at:]
        z = robust_z(own, others, min_mad=_mad_floor(MIN_GAP_RATIO)) if len(others) >= MIN_HISTORY else None
        if z is None or z > -Z_MIN:
            continue
        previous, typical = past[at - 1], math.exp(float(np.median(others)))
        reason = (f"came {_duration(math.exp(own))} after {hit.fields['entity_id']}'s previous event "
                  f"(#{previous.id}), against a typical gap of {_duration(typical)} over {len(others)} other "
                  f"gaps (robust z {z:.1f})")
        found.append(Anomaly(event_id=hit.id, kind="timing", score=round(abs(z), 2), reason=reason))
    return found


def _log_gap(earlier: Past, later: Past) -> float:
    # Gaps span seconds to years, so they are compared on a log scale; a floor of one second keeps
    # simultaneous events finite.
    return math.log(max((later.occurred_at - earlier.occurred_at).total_seconds(), 1.0))


def _duration(seconds: float) -> str:
    for size, unit in ((86_400, "days"), (3_600, "hours"), (60, "minutes")):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} seconds"
