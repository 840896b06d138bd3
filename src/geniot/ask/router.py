"""Intent routing: the question's MiniLM embedding against example questions of every intent
and of things geniot cannot answer. The nearest examples vote; too far from every intent, or
nearer to the out-of-scope examples, is a refusal."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from geniot.ask.intents import INTENTS, OUT_OF_SCOPE_EXAMPLES

OUT_OF_SCOPE = "out_of_scope"

# Requests to act on the machines or the data: geniot answers questions, it never writes.
_ACTION_RE = re.compile(
    r"\b(delete|drop|remove|truncate|erase|wipe|shut\s*down|turn\s+off|switch\s+off|power\s+off|stop\s+(?:the\s+)?pump|"
    r"restart|reboot|order|buy|send|email|book|call|"
    r"lösche\w*|entferne\w*|schalte\w*|abschalten|ausschalten|herunterfahren|bestelle\w*|sende\w*|kaufe\w*)\b",
    re.IGNORECASE,
)
_SET_RE = re.compile(r"^\s*(set|change|adjust|stell\w*|setz\w*|änder\w*)\b", re.IGNORECASE)


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

    def fit(self, embed) -> IntentRouter:
        texts, labels = [], []
        for name, spec in INTENTS.items():
            texts.extend(spec["examples"])
            labels.extend([name] * len(spec["examples"]))
        texts.extend(OUT_OF_SCOPE_EXAMPLES)
        labels.extend([OUT_OF_SCOPE] * len(OUT_OF_SCOPE_EXAMPLES))
        self._embed = embed
        self.vectors_ = embed(texts)
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

    def route(self, question: str) -> Route:
        if _ACTION_RE.search(question) or _SET_RE.search(question):
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
