"""Slots of a question: which assets, which signal, which statistic, when, how much.

The parser only recognises names it was given (the store's assets and signals) and a closed set
of words; everything it returns is one of those names, a number or a datetime, so nothing the
user types reaches a query as text.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime

from geniot.ask.timewords import TimeRange, parse_duration_minutes, parse_time_range
from geniot.ask.vocabulary import (
    ALL_ASSETS_WORDS,
    AMBIGUOUS_SIGNAL_WORDS,
    ASSET_NOUNS,
    DEFAULT_CONTROL,
    LOWER_WORDS,
    SIGNAL_WORDS,
    STATISTIC_HINTS,
    STATISTIC_WORDS,
)

_NUMBER_LIST = r"\d+(?:\s*(?:,|and|und|&|or|oder|/)\s*\d+)*"


@dataclass
class Slots:
    assets: list[str] | None = None
    signal: str | None = None
    statistic: str | None = None
    range: TimeRange | None = None
    horizon_minutes: int | None = None
    change: dict | None = None
    count: int | None = None
    unknown_assets: list[str] = field(default_factory=list)  # named in the question, not in the store
    ambiguous_signal: tuple[str, ...] = ()  # "temperature": these could be meant

    def as_dict(self) -> dict:
        return {
            "assets": self.assets,
            "signal": self.signal,
            "statistic": self.statistic,
            "range": None if self.range is None else self.range.as_slot(),
            "horizon_minutes": self.horizon_minutes,
            "change": self.change,
            "count": self.count,
        }


def _word(text: str) -> str:
    """A whole-word pattern; a trailing ``*`` allows any ending."""
    if text.endswith("*"):
        return r"(?<![\w-])" + re.escape(text[:-1]) + r"\w*"
    return r"(?<![\w-])" + re.escape(text) + r"(?![\w-])"


class SlotParser:
    """Parses slots against one plant's asset and signal names."""

    def __init__(self, assets: list[str], signals: list[str]) -> None:
        self.assets = list(assets)
        self.signals = list(signals)
        self._asset_by_number = {}
        for name in self.assets:
            digits = re.findall(r"\d+", name)
            if digits:
                self._asset_by_number.setdefault(str(int(digits[-1])), name)
        self._signal_phrases = self._build_signal_phrases()

    def _build_signal_phrases(self) -> list[tuple[str, str]]:
        phrases: list[tuple[str, str]] = []
        for signal in self.signals:
            phrases.append((signal.lower(), signal))
            phrases.append((signal.lower().replace("_", " "), signal))
            phrases.extend((word, signal) for word in SIGNAL_WORDS.get(signal, ()))
        known = {s for s in self.signals}
        for signal in self.signals:  # a store's own sensors: their first word ("flow" of "flow_m3h")
            if signal not in SIGNAL_WORDS:
                head = signal.lower().split("_")[0]
                if len(head) > 2 and sum(s.lower().startswith(head) for s in known) == 1:
                    phrases.append((head, signal))
        return sorted(phrases, key=lambda p: len(p[0]), reverse=True)  # longest phrase wins

    # ------------------------------------------------------------------ parts
    def parse_assets(self, question: str) -> tuple[list[str] | None, list[str]]:
        """(assets named, names that look like assets but are not in the store)."""
        q = question.lower()
        found: list[str] = []
        unknown: list[str] = []
        for name in self.assets:
            if re.search(_word(name.lower()), q) or re.search(_word(name.lower().replace("-", "")), q):
                found.append(name)
        nouns = "|".join(ASSET_NOUNS)
        for m in re.finditer(rf"\b(?:{nouns})\s*(?:nr\.?\s*|no\.?\s*|number\s*|#\s*)?({_NUMBER_LIST})\b", q):
            for number in re.findall(r"\d+", m.group(1)):
                name = self._asset_by_number.get(str(int(number)))
                (found if name else unknown).append(name or number)
        prefix = self._asset_prefix()
        if prefix:
            for m in re.finditer(rf"(?<![\w]){re.escape(prefix.lower())}\s?(\d+)\b", q):
                name = self._asset_by_number.get(str(int(m.group(1))))
                if name is None:
                    unknown.append(f"{prefix}{m.group(1)}")
        if any(word in q for word in ALL_ASSETS_WORDS):
            return None, unknown
        ordered = [a for a in self.assets if a in found]
        return (ordered or None), sorted(set(unknown))

    def _asset_prefix(self) -> str | None:
        prefixes = {re.sub(r"\d+$", "", a) for a in self.assets}
        return prefixes.pop() if len(prefixes) == 1 and all(re.search(r"\d+$", a) for a in self.assets) else None

    def parse_signal(self, question: str) -> tuple[str | None, tuple[str, ...]]:
        q = question.lower()
        for phrase, signal in self._signal_phrases:
            if re.search(_word(phrase), q):
                return signal, ()
        for word, options in AMBIGUOUS_SIGNAL_WORDS.items():
            if re.search(_word(word), q):
                present = tuple(s for s in options if s in self.signals)
                if present:
                    return None, present
        return self._near_signal(q), ()

    def _near_signal(self, q: str) -> str | None:
        """A misspelt one-word signal name ("vibraton", "presure"): the closest word of the
        vocabulary, if it is close and belongs to one signal only."""
        words = {p.rstrip("*"): sig for p, sig in self._signal_phrases if " " not in p and len(p.rstrip("*")) >= 5}
        for token in re.findall(r"[a-zäöüß]{5,}", q):
            close = difflib.get_close_matches(token, list(words), n=2, cutoff=0.85)
            if close and len({words[c] for c in close}) == 1:
                return words[close[0]]
        return None

    @staticmethod
    def parse_statistic(question: str) -> str | None:
        q = question.lower()
        for table in (STATISTIC_WORDS, STATISTIC_HINTS):
            best: tuple[int, str] | None = None
            for stat, words in table.items():
                for word in words:
                    m = re.search(_word(word), q)
                    if m and (best is None or m.start() < best[0]):
                        best = (m.start(), stat)
            if best is not None:
                return best[1]
        return None

    def parse_change(self, question: str) -> dict | None:
        """``{"control", "percent"}`` or ``{"control", "value"}`` for a what-if."""
        q = question.lower()
        # The pumps have one control (speed); a store without it uses the signal the question names.
        control = DEFAULT_CONTROL if DEFAULT_CONTROL in self.signals else self.parse_signal(q)[0]
        sign = -1.0 if any(re.search(rf"(?<![\w-]){w}(?![\w-])", q) for w in LOWER_WORDS) else 1.0
        pct = re.search(r"([+-]?\d+(?:[.,]\d+)?)\s*(?:%|percent|per cent|prozent|pct)", q)
        if pct:
            value = float(pct.group(1).replace(",", "."))
            return {"control": control, "percent": value if value < 0 else sign * value}
        absolute = re.search(r"\b(?:to|auf|at|bei|=)\s*(\d+(?:[.,]\d+)?)\s*(?:rpm|u/min|1/min|upm)?", q)
        if absolute is None:
            absolute = re.search(r"(\d+(?:[.,]\d+)?)\s*(?:rpm|u/min|1/min|upm)\b", q)
        if absolute:
            return {"control": control, "value": float(absolute.group(1).replace(",", "."))}
        return None

    @staticmethod
    def parse_count(question: str) -> int | None:
        m = re.search(r"(\d+)\s*(?:synthetic\s+|synthetische[nr]?\s+|künstliche[nr]?\s+|fake\s+)?(?:windows|samples|fenster|beispiele|examples|sequences|sequenzen)", question.lower())
        return int(m.group(1)) if m else None

    # ------------------------------------------------------------------ all
    def parse(self, question: str, now: datetime, intent: str | None = None) -> Slots:
        """Every slot the intent uses (all of them when the intent is unknown)."""
        assets, unknown = self.parse_assets(question)
        signal, ambiguous = self.parse_signal(question)
        slots = Slots(assets=assets, unknown_assets=unknown)
        if intent in (None, "stats", "summary", "impute", "forecast"):
            slots.signal, slots.ambiguous_signal = signal, ambiguous
        if intent in (None, "stats"):
            slots.statistic = self.parse_statistic(question) or ("mean" if intent == "stats" else None)
        if intent in (None, "anomalies", "stats", "summary", "impute"):
            slots.range = parse_time_range(question, now)
        if intent in (None, "forecast"):
            slots.horizon_minutes = parse_duration_minutes(question)
        if intent in (None, "whatif"):
            slots.change = self.parse_change(question)
        if intent in (None, "synthesize"):
            slots.count = self.parse_count(question)
        return slots

