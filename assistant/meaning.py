"""Grounding by meaning: question phrases matched to stored value names by embedding similarity.

The lexical planner matches stored values by phrase, by a word only one value has, and (for
attributes) by pg_trgm. What it cannot see is a paraphrase: "money laundering" for `aml_alert`,
"sanctions hits" for `sanctions_screening_hit`, "complaints about fees" for `fee_dispute`. Here each
stored category and subcategory name is embedded once (underscores as spaces, well-known acronyms
spelled out), and the short phrases of the question (runs of one to four content words) are compared
with them. A phrase is read as a value only when the similarity clears `Thresholds.meaning_min` and no
other value of the same field comes within `Thresholds.meaning_margin`; a near-tie is reported, not used.
Only stored values can come out, so a field or value that does not exist is never emitted.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from assistant.config import Thresholds
from assistant.embed import Embedder, Vector

MAX_WORDS = 4

# Acronyms in value names, spelled out before embedding: the model knows the words better than the letters.
ACRONYMS = {
    "aml": "anti money laundering (AML)", "kyc": "know your customer (KYC)", "pep": "politically exposed person (PEP)",
    "ato": "account takeover (ATO)", "cnp": "card not present (CNP)", "sar": "suspicious activity report (SAR)",
    "ctr": "currency transaction report (CTR)", "bnpl": "buy now pay later (BNPL)", "ofac": "OFAC sanctions",
}
# Words that never start or end a phrase: function words, question framing, and words every event shares.
STOP = frozenset({
    "a", "an", "the", "of", "to", "in", "on", "at", "by", "for", "from", "with", "about", "into", "over",
    "under", "than", "and", "or", "but", "not", "no", "nor", "any", "all", "some", "show", "me", "find",
    "list", "give", "get", "what", "which", "who", "whose", "where", "when", "why", "how", "is", "are", "was",
    "were", "be", "been", "there", "their", "this", "that", "these", "those", "it", "its", "our", "my", "your",
    "i", "we", "you", "they", "them", "recent", "recently", "latest", "new", "large", "big", "small", "top",
    "most", "many", "much", "more", "less", "few", "pattern", "trend", "summary", "summarize", "common",
    "similar", "like", "event", "alert", "flag", "case", "issue", "report", "risk", "change", "other", "low",
    "medium", "high", "critical", "severity", "priority", "analyst", "please",
})


@dataclass(frozen=True)
class MeaningMatch:
    """A question phrase read as a stored value by meaning."""

    field: str
    value: str
    phrase: str
    similarity: float


class ValueNames:
    """The embedded names of one set of stored values; matches question phrases against them."""

    def __init__(self, embedder: Embedder, values: dict[str, list[str]],
                 labels: dict[tuple[str, str], str] | None = None, thresholds: Thresholds | None = None) -> None:
        self._embedder = embedder
        self._t = thresholds or Thresholds()
        self._values = {name: list(stored) for name, stored in values.items() if stored}
        # Each value is embedded as its name and as each synonym of its label; it scores its best one.
        self._owners: dict[str, list[int]] = {}
        self._names: dict[str, Vector] = {}
        for name, stored in self._values.items():
            texts = [(i, t) for i, v in enumerate(stored) for t in value_texts(v, name, (labels or {}).get((name, v)))]
            self._owners[name] = [i for i, _ in texts]
            self._names[name] = embedder.encode([t for _, t in texts])
        # Words of the value and its label, not of the key: every value of a field shares those.
        self._words = {name: [_stems(f"{v} {(labels or {}).get((name, v), '')}") for v in stored]
                       for name, stored in self._values.items()}
        self._phrases: OrderedDict[str, Vector] = OrderedDict()  # phrase vectors, least recently used first

    def _scores(self, phrase_vectors: Vector, field_name: str) -> Vector:
        """Similarity of each phrase to each stored value: the best of the value's texts."""
        by_text = phrase_vectors @ self._names[field_name].T
        scores = np.full((by_text.shape[0], len(self._values[field_name])), -1.0, dtype=np.float32)
        for column, owner in enumerate(self._owners[field_name]):
            scores[:, owner] = np.maximum(scores[:, owner], by_text[:, column])
        return scores

    def match(self, text: str, field_name: str, notes: list[str]) -> list[MeaningMatch]:
        """The stored values of `field_name` that phrases of `text` mean, best first, one per phrase,
        phrases not overlapping; a near-tie between two values is noted and not used."""
        if field_name not in self._names:
            return []
        spans = phrases(text)
        if not spans:
            return []
        scores = self._scores(self._vectors([p for p, _ in spans]), field_name)
        stored = self._values[field_name]
        order = sorted(range(len(spans)), key=lambda i: -float(scores[i].max()))
        taken: set[int] = set()
        found: list[MeaningMatch] = []
        for i in order:
            phrase, words = spans[i]
            ranked = np.argsort(-scores[i])
            best = float(scores[i][ranked[0]])
            if best < self._t.meaning_min:
                break
            if words & taken or (len(words) == 1 and best < self._t.meaning_min_one_word):
                continue
            if self._shared_word(phrase, field_name, int(ranked[0])):
                continue
            taken |= words
            runner = float(scores[i][ranked[1]]) if len(ranked) > 1 else -1.0
            if runner >= best - self._t.meaning_margin:
                notes.append(f"'{phrase}' could mean {field_name} {stored[ranked[0]]} ({best:.2f}) or "
                             f"{stored[ranked[1]]} ({runner:.2f}); not used as a filter")
                continue
            if all(m.value != stored[ranked[0]] for m in found):
                found.append(MeaningMatch(field_name, stored[ranked[0]], phrase, best))
        return found

    def _shared_word(self, phrase: str, field_name: str, best: int) -> bool:
        """True when another stored name shares as many of the phrase's words as the best one: the
        similarity then comes from a word they share ("card" in card_present and card_not_present),
        which says nothing about which one is meant."""
        said = _stems(phrase) - STOP
        names = self._words[field_name]
        overlap = len(said & names[best])
        return overlap > 0 and any(len(said & words) >= overlap for j, words in enumerate(names) if j != best)

    def _vectors(self, texts: list[str]) -> Vector:
        missing = [t for t in dict.fromkeys(texts) if t not in self._phrases]
        if missing:
            for text, vector in zip(missing, self._embedder.encode(missing), strict=True):
                self._phrases[text] = vector
        for text in texts:
            self._phrases.move_to_end(text)
        while len(self._phrases) > 20_000:
            self._phrases.popitem(last=False)
        return np.stack([self._phrases[t] for t in texts])


def value_texts(value: str, field: str, label: str | None) -> list[str]:
    """The texts a stored value is known by: its name (with the label) and each synonym the label lists."""
    synonyms = [part.strip() for part in re.split(r"[,;]", label or "") if part.strip()]
    return list(dict.fromkeys([name_text(value, field, label), *synonyms]))


def name_text(value: str, field: str = "category", label: str | None = None) -> str:
    """The text embedded for a stored value: "aml_alert" -> "anti money laundering (AML) alert". A
    declared label joins the value ("HFP (Human Foods Program)"); an attribute's value is read in the
    context of its key ("submitted via: Postal mail"), and a yes/no value as the key said or denied
    ("consumer disputed", "not consumer disputed")."""
    words = re.split(r"[\s_]+", value.strip())
    text = " ".join(ACRONYMS.get(w.lower(), w) for w in words)
    if label and label.strip().lower() != text.lower():
        text = f"{text} ({label.strip()})"
    if field in ("category", "subcategory"):
        return text
    context = field_words(field)
    if value.strip().lower() in YES:
        return context
    if value.strip().lower() in NO:
        return f"not {context}"
    return f"{context}: {text}"


YES = frozenset({"yes", "y", "true", "t"})
NO = frozenset({"no", "n", "false", "f"})


def field_words(field: str) -> str:
    """A field's name as words: "attributes.submitted_via" -> "submitted via"."""
    return re.sub(r"[_\s]+", " ", field.removeprefix("attributes.")).strip()


def phrases(text: str) -> list[tuple[str, frozenset[int]]]:
    """Runs of one to MAX_WORDS words inside a clause, neither starting nor ending on a stop word, with
    no digits; each with the positions of its words (so that overlapping phrases can be told apart)."""
    found: list[tuple[str, frozenset[int]]] = []
    position = 0
    for clause in re.split(r"[,.;:!?()]", text.lower()):
        words = re.findall(r"[a-z0-9'-]+", clause)
        for start in range(len(words)):
            for end in range(start + 1, min(start + MAX_WORDS, len(words)) + 1):
                run = words[start:end]
                if _stop(run[0]) or _stop(run[-1]) or any(ch.isdigit() for w in run for ch in w):
                    continue
                found.append((" ".join(run), frozenset(range(position + start, position + end))))
        position += len(words) + 1
    return found


def stem(word: str) -> str:
    """A light stem: plurals to singular, British -ise spellings to -ize ("anomalies" -> "anomaly",
    "breaches" -> "breach", "fees" -> "fee", "unauthorised" -> "unauthorized"). Both sides of every
    comparison pass through it, so a stem only has to be consistent, not a dictionary word."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 4 and word.endswith(("sses", "ches", "shes", "xes", "zes")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return re.sub(r"is(e|ed|es|ing|ation)$", r"iz\1", word) if len(word) > 5 else word


def _stems(text: str) -> frozenset[str]:
    return frozenset(stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()))


def _stop(word: str) -> bool:
    return word in STOP or (word.endswith("s") and word[:-1] in STOP)


_CACHE: OrderedDict[tuple[object, ...], ValueNames] = OrderedDict()


def value_names(embedder: Embedder, values: dict[str, list[str]],
                labels: dict[tuple[str, str], str] | None = None, thresholds: Thresholds | None = None) -> ValueNames:
    """The ValueNames for these stored values (and declared labels), built once per model and value
    set (ingestion changes the set; the few most recent sets are kept)."""
    key = (embedder.name, tuple(sorted((name, tuple(sorted(v))) for name, v in values.items())),
           tuple(sorted((labels or {}).items())), thresholds)
    if key not in _CACHE:
        _CACHE[key] = ValueNames(embedder, values, labels, thresholds)
        while len(_CACHE) > 4:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(key)
    return _CACHE[key]
