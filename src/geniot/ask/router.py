"""Intent routing: the question's MiniLM embedding against example questions of every intent
and of things geniot cannot answer. The nearest examples vote; too far from every intent, or
nearer to the out-of-scope examples, is a refusal."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geniot.ask.actions import is_action_request
from geniot.ask.intents import INTENTS, OUT_OF_SCOPE_EXAMPLES

OUT_OF_SCOPE = "out_of_scope"

@dataclass(frozen=True)
class Route:
    intent: str  # an intent name or "out_of_scope"
    similarity: float  # cosine similarity of the nearest example of the chosen intent
    runner_up: str | None
    margin: float  # similarity gap to the best other intent
    reason: str = ""


class IntentRouter:
    """Nearest-example routing over sentence embeddings.

    ``min_similarity``: below it the question is too far from anything geniot does. A question
    whose nearest example is out of scope is refused when it beats the best intent by more than
    ``oos_margin``.
    """

    def __init__(self, *, min_similarity: float = 0.40, oos_margin: float = 0.0, k: int = 2, cue_bonus: float = 0.12) -> None:
        self.min_similarity = min_similarity
        self.oos_margin = oos_margin
        self.k = k
        self.cue_bonus = cue_bonus
        self._fitted = False

    def fit(self, embed, *, cache_dir: Path | None = None) -> IntentRouter:
        """Embed the examples; with ``cache_dir`` the vectors are kept there (``.npy``, keyed by a
        hash of the examples and the encoder), so a fresh process skips embedding them again."""
        texts, labels = [], []
        for name, spec in INTENTS.items():
            texts.extend(spec["examples"])
            labels.extend([name] * len(spec["examples"]))
        texts.extend(OUT_OF_SCOPE_EXAMPLES)
        labels.extend([OUT_OF_SCOPE] * len(OUT_OF_SCOPE_EXAMPLES))
        self._embed = embed
        self.vectors_ = _cached_vectors(embed, texts, cache_dir)
        self.labels_ = np.asarray(labels)
        self.names_ = [*INTENTS, OUT_OF_SCOPE]
        self.cues_ = {name: re.compile("|".join(rf"(?<!\w){c}" for c in spec["cues"])) for name, spec in INTENTS.items()}
        self._fitted = True
        return self

    def scores(self, question: str) -> dict[str, float]:
        """Per intent: the mean of the ``k`` highest similarities to its examples."""
        sims = self.vectors_ @ self._embed([question])[0]
        out = {}
        for name in self.names_:
            top = np.sort(sims[self.labels_ == name])[::-1][: self.k]
            out[name] = float(top.mean())
        q = question.lower()
        for name, cue in self.cues_.items():
            if cue.search(q):
                out[name] += self.cue_bonus
        return out

    def has_cue(self, question: str) -> bool:
        """Whether a word of the question gives an intent away."""
        q = question.lower()
        return any(cue.search(q) for cue in self.cues_.values())

    def route(self, question: str) -> Route:
        if is_action_request(question):
            return Route(OUT_OF_SCOPE, 1.0, None, 1.0, "it asks to act on a machine or on the data; geniot only reads and analyses")
        scores = self.scores(question)
        oos = scores.pop(OUT_OF_SCOPE)
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        (best, sim), (second, sim2) = ranked[0], ranked[1]
        if sim < self.min_similarity:
            return Route(OUT_OF_SCOPE, sim, best, sim - sim2, "it is too far from anything geniot can answer")
        if oos > sim + self.oos_margin:
            return Route(OUT_OF_SCOPE, sim, best, sim - sim2, "it is nearer to questions geniot cannot answer")
        return Route(best, sim, second, sim - sim2)


def _cached_vectors(embed, texts: list[str], cache_dir: Path | None) -> np.ndarray:
    if cache_dir is None:
        return embed(texts)
    key = hashlib.sha256(json.dumps([getattr(embed, "model_id", "minilm"), texts]).encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"ask-router-{key}.npy"
    try:
        vectors = np.load(path, allow_pickle=False)
        if vectors.shape[0] == len(texts):
            return vectors
    except (OSError, ValueError):
        pass  # no cache yet, or an unreadable one: embed again
    vectors = embed(texts)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors, allow_pickle=False)
        tmp.replace(path)
    except OSError:
        pass  # a read-only home: the next process embeds again
    return vectors
