"""Themes among the evidence: groups of similar events, each labelled by its distinctive terms."""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.cluster import HDBSCAN, AgglomerativeClustering, KMeans
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from assistant.db import Database
from assistant.errors import EmbeddingModelError
from assistant.models import Count, EventHit, Theme, ThemeSet
from assistant.similar import to_array

Vectors = NDArray[np.float64]
Labels = NDArray[np.int64]
Method = Literal["hdbscan", "kmeans", "none"]

MIN_EVIDENCE = 10  # below this, "groups" would be two or three events each: not themes
MAX_NOISE_SHARE = 0.5  # HDBSCAN leaving more than this unassigned has found no structure worth naming
# Two HDBSCAN groups are one theme in other words when every pair of groups merged has centroids at least
# this similar (cosine; complete linkage): templated alerts come in a few phrasings each, and HDBSCAN finds
# the phrasings. On the demo's planted patterns every value tried from 0.55 to 0.66 gives the same themes;
# 0.6 is in the middle (eval/README.md, "Themes").
MERGE_SIMILARITY = 0.6
KMEANS_MAX_K = 8
KMEANS_N_INIT = 10
TERMS = 4
LABEL_TERMS = 3
REPRESENTATIVES = 3
DOMINANT_SHARE = 0.5  # a field value is "dominant" when at least half of the theme holds it
DOMINANT_LIFT = 0.1  # ... and its share of the theme is at least 10 points above its share of the evidence
NOISE = -1
# Words only: digits, amounts and ids ("9,800.00", "ACC-1234") never name a theme.
_WORD = r"(?u)\b[^\W\d_]{2,}\b"
_ID_PREFIX = re.compile(r"\b([^\W\d_]{2,})[-_#]?\d")  # "ACC" of "ACC-1234", "MER" of "MER4417"
_SCRUBBED = re.compile(r"^x+$")  # CFPB's redactions: "XXXX", "XX/XX/XXXX"


def evidence_vectors(db: Database, model: str, ids: list[int]) -> Vectors:
    """The events' vectors under `model`, one row per id in the order of `ids`, L2-normalised."""
    rows = db.fetch_all("select_evidence_vectors", {"ids": ids, "model": model})
    by_id = {int(row["event_id"]): to_array(row["embedding"]).astype(np.float64) for row in rows}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise EmbeddingModelError(
            f"{len(missing)} evidence event(s) (first: {missing[0]}) have no vector under model {model!r}; "
            "re-ingest them with this model or set RISK_EMBEDDING_MODEL to the model they were embedded with")
    if not ids:
        return np.zeros((0, 0))
    return normalise(np.vstack([by_id[i] for i in ids]))


def normalise(vectors: Vectors) -> Vectors:
    """Rows scaled to unit length (zero rows stay zero), so that dot products are cosine similarities."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.where(norms == 0, 1.0, norms), dtype=np.float64)


def find_themes(ids: list[int], vectors: Vectors, hits: list[EventHit], *, seed: int = 0,
                asked: str = "") -> ThemeSet:
    """Group the evidence by meaning (HDBSCAN, else KMeans) and describe each group; same input, same themes."""
    if len(ids) < MIN_EVIDENCE:
        return ThemeSet(method="none")
    unit = normalise(np.asarray(vectors, dtype=np.float64))
    labels, method = cluster(unit, seed=seed)
    if method == "none":
        return ThemeSet(method="none")
    by_id = {hit.id: hit.fields for hit in hits}
    fields = [by_id.get(i, {}) for i in ids]
    groups = _groups(labels)
    # The words of the question and its filters are what every theme is about: they tell none apart.
    terms = distinctive_terms(_class_documents(fields, labels, groups), top=TERMS,
                              also_excluded=set(re.findall(_WORD, asked.lower())))
    themes = [_theme(ids, unit, fields, members, words) for members, words in zip(groups, terms, strict=False)]
    themes = [t.model_copy(update={"dominant": distinctive_values(t, fields)}) for t in themes]
    themes.sort(key=lambda t: (-t.size, ids.index(t.event_ids[0])))
    numbered = [t.model_copy(update={"id": n}) for n, t in enumerate(themes, start=1)]
    return ThemeSet(method=method, themes=numbered, unassigned=int(np.sum(labels == NOISE)))


def cluster(unit: Vectors, *, seed: int = 0) -> tuple[Labels, Method]:
    """Cluster labels per row (NOISE for none) and the method that found them."""
    n = len(unit)
    # Euclidean distance between unit vectors is a monotone function of cosine distance, so HDBSCAN's
    # default metric clusters by meaning. 5% of the evidence (10 of the usual 200) is a group an analyst
    # would call a theme; the floor of 5 keeps small evidence from splitting into pairs and triples.
    # min_samples stays at min_cluster_size (HDBSCAN's default): a core point needs a real neighbourhood.
    hdbscan = HDBSCAN(min_cluster_size=max(5, round(n * 0.05)), copy=True)
    labels = merge_rephrasings(unit, np.asarray(hdbscan.fit_predict(unit), dtype=np.int64))
    # Counted after merging: groups that are one theme in other words are one group.
    if len(set(labels.tolist()) - {NOISE}) >= 2 and np.mean(labels == NOISE) <= MAX_NOISE_SHARE:
        return labels, "hdbscan"
    fallback = _kmeans(unit, seed)
    return (fallback, "kmeans") if fallback is not None else (np.full(n, NOISE, dtype=np.int64), "none")


def merge_rephrasings(unit: Vectors, labels: Labels) -> Labels:
    """Labels with groups merged whose centroids are all at cosine similarity >= MERGE_SIMILARITY."""
    groups = sorted(set(labels.tolist()) - {NOISE})
    if len(groups) < 2:
        return labels
    means = np.vstack([unit[labels == g].mean(axis=0) for g in groups])
    # Complete linkage: a chain of pairwise-similar groups (A ~ B ~ C, A far from C) is not merged into one.
    merged = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="complete",
                                     distance_threshold=1 - MERGE_SIMILARITY).fit_predict(means)
    relabelled = labels.copy()
    for group, theme in zip(groups, merged.tolist(), strict=True):
        relabelled[labels == group] = theme
    return relabelled


def _kmeans(unit: Vectors, seed: int) -> Labels | None:
    """KMeans with the k (2..8, at least 5 events a group on average) of the best silhouette."""
    best: tuple[float, Labels] | None = None
    for k in range(2, min(KMEANS_MAX_K, len(unit) // 5) + 1):
        # One thread: on a small machine BLAS threads fighting over the cores make this ~10x slower.
        with threadpool_limits(1):
            labels = np.asarray(KMeans(k, n_init=KMEANS_N_INIT, random_state=seed).fit_predict(unit), dtype=np.int64)
        found = len(set(labels.tolist()))
        if not 2 <= found < len(unit):
            continue  # duplicate vectors can leave clusters empty; silhouette needs 2..n-1 groups
        score = float(silhouette_score(unit, labels))
        if best is None or score > best[0]:  # strictly greater: ties keep the smaller k
            best = (score, labels)
    return None if best is None else best[1]


def _groups(labels: Labels) -> list[list[int]]:
    """Row positions per cluster label (noise left out), in label order."""
    return [np.flatnonzero(labels == label).tolist() for label in sorted(set(labels.tolist()) - {NOISE})]


def _theme(ids: list[int], unit: Vectors, fields: list[dict[str, Any]], members: list[int],
           terms: list[str]) -> Theme:
    centroid = unit[members].mean(axis=0)
    closeness = unit[members] @ centroid
    nearest = [members[j] for j in sorted(range(len(members)), key=lambda j: (-closeness[j], members[j]))]
    return Theme(
        id=0, label=" / ".join(terms[:LABEL_TERMS]) or "(no distinctive words)", terms=terms,
        size=len(members), share=round(len(members) / len(ids), 4), event_ids=[ids[m] for m in members],
        representative_ids=[ids[m] for m in nearest[:REPRESENTATIVES]],
        dominant=dominant_values([ids[m] for m in members], [fields[m] for m in members]),
    )


def centroids(unit: Vectors, ids: list[int], themes: ThemeSet) -> Vectors:
    """Each theme's unit-length mean vector, one row per theme in the order of themes.themes."""
    position = {event_id: n for n, event_id in enumerate(ids)}
    means = [unit[[position[i] for i in theme.event_ids]].mean(axis=0) for theme in themes.themes]
    return normalise(np.vstack(means)) if means else np.zeros((0, unit.shape[1] if unit.ndim == 2 else 0))


def _text(fields: dict[str, Any]) -> str:
    return " ".join(str(fields.get(key) or "") for key in ("title", "text")).strip()


def _class_documents(fields: list[dict[str, Any]], labels: Labels, groups: list[list[int]]) -> list[str]:
    """One document per theme (its events' titles and texts joined), then one for the unassigned events."""
    documents = [" ".join(_text(fields[m]) for m in members) for members in groups]
    noise = np.flatnonzero(labels == NOISE).tolist()
    if noise:  # a class of its own, as in BERTopic: words common in the noise too are not distinctive
        documents.append(" ".join(_text(fields[m]) for m in noise))
    return documents


def distinctive_values(theme: Theme, fields: list[dict[str, Any]]) -> list[Count]:
    """The theme's dominant values that set it apart: held by a share of it at least DOMINANT_LIFT above their
    share of all the evidence (the category the filters chose, or a field nearly every event has, is not)."""
    held: dict[str, int] = {}
    for event in fields:
        for value in _descriptors(event):
            held[value] = held.get(value, 0) + 1
    return [c for c in theme.dominant
            if c.count / theme.size - held.get(c.value, 0) / len(fields) >= DOMINANT_LIFT]


def distinctive_terms(documents: list[str], *, top: int = TERMS, also_excluded: set[str] | None = None
                      ) -> list[list[str]]:
    """Class-based TF-IDF (BERTopic's c-TF-IDF): each class document's `top` most distinctive words."""
    vectorizer = CountVectorizer(stop_words="english", token_pattern=_WORD)
    try:
        counts = np.asarray(vectorizer.fit_transform(documents).toarray(), dtype=np.float64)
    except ValueError:  # nothing but stop words, digits and ids: no vocabulary
        return [[] for _ in documents]
    vocabulary = vectorizer.get_feature_names_out().tolist()
    excluded = _id_like(documents) | (also_excluded or set())
    frequency = counts.sum(axis=0)
    average_words = counts.sum() / len(documents)
    idf = np.log(1 + average_words / np.where(frequency == 0, 1.0, frequency))
    lengths = counts.sum(axis=1, keepdims=True)
    frequencies = counts / np.where(lengths == 0, 1.0, lengths)
    # A word no more frequent in this class than across the classes ("account" in every complaint) names none.
    weights = frequencies * idf * (frequencies > frequencies.mean(axis=0))
    return [_top_terms(row, vocabulary, excluded, top) for row in weights]


def _id_like(documents: list[str]) -> set[str]:
    return {prefix.lower() for document in documents for prefix in _ID_PREFIX.findall(document)}


def _top_terms(weights: Vectors, vocabulary: list[str], excluded: set[str], top: int) -> list[str]:
    ranked = sorted((j for j in np.flatnonzero(weights > 0).tolist()), key=lambda j: (-weights[j], vocabulary[j]))
    chosen: list[str] = []
    for j in ranked:
        term = vocabulary[j]
        if term in excluded or _SCRUBBED.match(term) or _same_word(term, chosen):
            continue
        chosen.append(term)
        if len(chosen) == top:
            break
    return chosen


def _same_word(term: str, chosen: list[str]) -> bool:
    """A plural or "-ed" form of a word already chosen ("deposits" beside "deposit") adds nothing."""
    return any(_inflects(term, word) or _inflects(word, term) for word in chosen)


def _inflects(longer: str, stem: str) -> bool:
    return longer.startswith(stem) and longer[len(stem):] in ("s", "es", "ed", "d")


def dominant_values(event_ids: list[int], fields: list[dict[str, Any]]) -> list[Count]:
    """"<field> = <value>" held by at least half of the events: metadata fields and attribute values."""
    holders: dict[str, list[int]] = {}
    for event_id, event in zip(event_ids, fields, strict=True):
        for value in _descriptors(event):
            holders.setdefault(value, []).append(event_id)
    needed = DOMINANT_SHARE * len(event_ids)
    found = [Count(value=v, count=len(ids), event_ids=ids) for v, ids in holders.items() if len(ids) >= needed]
    return sorted(found, key=lambda c: (-c.count, c.value))


def _descriptors(event: dict[str, Any]) -> set[str]:
    found = {f"{key} = {event[key]}" for key in ("category", "subcategory", "severity") if event.get(key)}
    entity = " ".join(str(event[k]) for k in ("entity_id", "entity_name") if event.get(k))
    if entity:
        found.add(f"entity = {entity}")
    attributes = event.get("attributes") or {}
    found |= {f"{key} = {_scalar(value)}" for key, value in attributes.items()
              if value is not None and not isinstance(value, dict | list)}
    return found


def _scalar(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)

