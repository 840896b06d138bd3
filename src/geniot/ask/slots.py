"""Slots of a question: which assets, which signal, which statistic, when, how much.

The parser only recognises names it was given (the store's assets and signals) and a closed set
of words; everything it returns is one of those names, a number or a datetime, so nothing the
user types reaches a query as text.
"""

from __future__ import annotations

import bisect
import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime

from geniot.ask.timewords import TimeRange, find_duration, read_time
from geniot.ask.unread import unread_words
from geniot.ask.vocabulary import (
    ALL_ASSETS_WORDS,
    AMBIGUOUS_SIGNAL_WORDS,
    ASSET_NOUNS,
    DEFAULT_CONTROL,
    LOWER_WORDS,
    PERCENTILE_PATTERNS,
    QUARTILE_WORDS,
    SIGNAL_WORDS,
    STATISTIC_HINTS,
    STATISTIC_WORDS,
    percentile_statistic,
)

_NUMBER_LIST = r"\d+(?:\s*(?:,|and|und|&|or|oder|/)\s*\d+)*"
_RANGE_INTENTS = ("anomalies", "stats", "summary", "impute")
_TOKEN = re.compile(r"[\w-]+")
_MAX_PHRASE_WORDS = 6  # longer signal names are matched by their first six words
_NEAR_VOCABULARY = 2000  # above this many one-word phrases, misspellings are looked up in the built-in words only


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text.lower())]


def _key(phrase: str) -> str:
    return " ".join(t for t, _, _ in _tokens(phrase))


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
    unread: list[str] = field(default_factory=list)  # constraint-like words no parser read
    time_problem: str | None = None  # time words read, but not one answerable range

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
    """Parses slots against one plant's asset and signal names.

    Built once per store change (:func:`parser_for`): building is O(n log n) in the number of
    names, and parsing a question looks its words up instead of trying every name.
    """

    builds = 0  # how many parsers were built in this process (the service builds one per store change)

    def __init__(self, assets: list[str], signals: list[str], *, shifts: str | None = None) -> None:
        type(self).builds += 1
        self.assets = list(assets)
        self.signals = list(signals)
        self.shifts = shifts
        self._signal_set = set(self.signals)
        self._asset_by_number = {}
        for name in self.assets:
            digits = re.findall(r"\d+", name)
            if digits:
                self._asset_by_number.setdefault(str(int(digits[-1])), name)
        self._asset_keys: dict[str, str] = {}
        for name in self.assets:
            for variant in (name, name.replace("-", "")):
                self._asset_keys.setdefault(_key(variant), name)
        self._known_names = {k for k in self._asset_keys} | {k.replace(" ", "-") for k in self._asset_keys}
        self._asset_words = max((k.count(" ") + 1 for k in self._asset_keys), default=1)
        self._prefix = self._asset_prefix()
        self._signal_phrases = self._build_signal_phrases()
        self._exact: dict[str, tuple[int, str]] = {}  # phrase key -> (rank, signal); lower rank wins
        self._stems: list[tuple[int, str, str]] = []  # "durchfluss*": (rank, stem, signal)
        for rank, (phrase, signal) in enumerate(self._signal_phrases):
            if phrase.endswith("*"):
                self._stems.append((rank, phrase[:-1], signal))
            else:
                self._exact.setdefault(_key(phrase), (rank, signal))
        self._phrase_words = min(_MAX_PHRASE_WORDS, max((k.count(" ") + 1 for k in self._exact), default=1))
        words = {p.rstrip("*"): sig for p, sig in self._signal_phrases if " " not in p and len(p.rstrip("*")) >= 5}
        if len(words) > _NEAR_VOCABULARY:
            words = {w: sig for w, sig in words.items() if any(w in ws for ws in (v for v in SIGNAL_WORDS.values()))}
        self._near_words = words

    def _build_signal_phrases(self) -> list[tuple[str, str]]:
        phrases: list[tuple[str, str]] = []
        for signal in self.signals:
            phrases.append((signal.lower(), signal))
            phrases.append((signal.lower().replace("_", " "), signal))
            phrases.extend((word, signal) for word in SIGNAL_WORDS.get(signal, ()))
        # a store's own sensors: their first word ("flow" of "flow_m3h") when no other name starts so
        names = sorted(s.lower() for s in self.signals)
        for signal in self.signals:
            if signal not in SIGNAL_WORDS:
                head = signal.lower().split("_")[0]
                if len(head) > 2 and bisect.bisect_left(names, head + "\uffff") - bisect.bisect_left(names, head) == 1:
                    phrases.append((head, signal))
        return sorted(phrases, key=lambda p: len(p[0]), reverse=True)  # longest phrase wins

    # ------------------------------------------------------------------ parts
    def parse_assets(self, question: str) -> tuple[list[str] | None, list[str]]:
        """(assets named, names that look like assets but are not in the store)."""
        assets, unknown, _ = self._assets_with_spans(question)
        return assets, unknown

    def _assets_with_spans(self, question: str) -> tuple[list[str] | None, list[str], list[tuple[int, int]]]:
        q = question.lower()
        found: set[str] = set()
        unknown: list[str] = []
        spans: list[tuple[int, int]] = []
        toks = _tokens(q)
        for i in range(len(toks)):
            for n in range(1, self._asset_words + 1):
                if i + n > len(toks):
                    break
                name = self._asset_keys.get(" ".join(t for t, _, _ in toks[i : i + n]))
                if name:
                    found.add(name)
                    spans.append((toks[i][1], toks[i + n - 1][2]))
        nouns = "|".join(ASSET_NOUNS)
        for m in re.finditer(rf"\b(?:{nouns})\s*(?:nr\.?\s*|no\.?\s*|number\s*|#\s*)?({_NUMBER_LIST})\b", q):
            spans.append((m.start(), m.end()))
            for number in re.findall(r"\d+", m.group(1)):
                name = self._asset_by_number.get(str(int(number)))
                if name:
                    found.add(name)
                else:
                    unknown.append(number)
        if self._prefix:
            for m in re.finditer(rf"(?<![\w]){re.escape(self._prefix.lower())}\s?(\d+)\b", q):
                name = self._asset_by_number.get(str(int(m.group(1))))
                spans.append((m.start(), m.end()))
                if name is None:
                    unknown.append(f"{self._prefix}{m.group(1)}")
        if any(word in q for word in ALL_ASSETS_WORDS):
            return None, sorted(set(unknown)), spans
        ordered = [a for a in self.assets if a in found]
        return (ordered or None), sorted(set(unknown)), spans

    def _asset_prefix(self) -> str | None:
        """"P-" when every asset is P-<number>: then "P-7" names an asset this plant lacks."""
        prefixes = {re.sub(r"\d+$", "", a) for a in self.assets}
        return prefixes.pop() if len(prefixes) == 1 and all(re.search(r"\d+$", a) for a in self.assets) else None

    def parse_signal(self, question: str) -> tuple[str | None, tuple[str, ...]]:
        signal, ambiguous, _ = self._signal_with_span(question)
        return signal, ambiguous

    def _signal_with_span(self, question: str) -> tuple[str | None, tuple[str, ...], list[tuple[int, int]]]:
        q = question.lower()
        best: tuple[int, str, tuple[int, int]] | None = None
        toks = _tokens(q)
        for i in range(len(toks)):
            for n in range(1, min(self._phrase_words, len(toks) - i) + 1):
                hit = self._exact.get(" ".join(t for t, _, _ in toks[i : i + n]))
                if hit and (best is None or hit[0] < best[0]):
                    best = (hit[0], hit[1], (toks[i][1], toks[i + n - 1][2]))
        for rank, stem, signal in self._stems:
            if best is not None and rank > best[0]:
                break
            m = re.search(_word(stem + "*"), q)
            if m:
                best = (rank, signal, (m.start(), m.end()))
                break
        if best is not None:
            return best[1], (), [best[2]]
        for word, options in AMBIGUOUS_SIGNAL_WORDS.items():
            m = re.search(_word(word), q)
            if m:
                present = tuple(s for s in options if s in self._signal_set)
                if present:
                    return None, present, [(m.start(), m.end())]
        return self._near_signal(q), (), []

    def _near_signal(self, q: str) -> str | None:
        """A misspelt one-word signal name ("vibraton", "presure"): the closest word of the
        vocabulary, if it is close and belongs to one signal only."""
        words = self._near_words
        for token in re.findall(r"[a-zäöüß]{5,}", q):
            close = difflib.get_close_matches(token, list(words), n=2, cutoff=0.85)
            if close and len({words[c] for c in close}) == 1:
                return words[close[0]]
        return None

    @staticmethod
    def parse_statistic(question: str) -> str | None:
        return SlotParser._statistic_with_span(question)[0]

    @staticmethod
    def _statistic_with_span(question: str) -> tuple[str | None, list[tuple[int, int]]]:
        """The statistic, and where a percentile was read (so that "95th" is not read as a date)."""
        q = question.lower()
        found = _percentile(q)
        if found is not None:
            return found
        for table in (STATISTIC_WORDS, STATISTIC_HINTS):
            best: tuple[int, str] | None = None
            for stat, words in table.items():
                for word in words:
                    m = re.search(_word(word), q)
                    if m and (best is None or m.start() < best[0]):
                        best = (m.start(), stat)
            if best is not None:
                return best[1], []
        return None, []

    def parse_change(self, question: str) -> dict | None:
        """``{"control", "percent"}`` or ``{"control", "value"}`` for a what-if."""
        return self._change_with_span(question)[0]

    def _change_with_span(self, question: str) -> tuple[dict | None, list[tuple[int, int]]]:
        q = question.lower()
        # The pumps have one control (speed); a store without it uses the signal the question names.
        control = DEFAULT_CONTROL if DEFAULT_CONTROL in self._signal_set else self.parse_signal(q)[0]
        sign = -1.0 if any(re.search(rf"(?<![\w-]){w}(?![\w-])", q) for w in LOWER_WORDS) else 1.0
        pct = re.search(r"([+-]?\d+(?:[.,]\d+)?)\s*(?:%|percent|per cent|prozent|pct)", q)
        if pct:
            value = float(pct.group(1).replace(",", "."))
            return {"control": control, "percent": value if value < 0 else sign * value}, [(pct.start(), pct.end())]
        absolute = re.search(r"\b(?:to|auf|at|bei|=)\s*(\d+(?:[.,]\d+)?)\s*(?:rpm|u/min|1/min|upm)?", q)
        if absolute is None:
            absolute = re.search(r"(\d+(?:[.,]\d+)?)\s*(?:rpm|u/min|1/min|upm)\b", q)
        if absolute:
            return {"control": control, "value": float(absolute.group(1).replace(",", "."))}, [(absolute.start(), absolute.end())]
        return None, []

    @staticmethod
    def parse_count(question: str) -> int | None:
        return SlotParser._count_with_span(question)[0]

    @staticmethod
    def _count_with_span(question: str) -> tuple[int | None, list[tuple[int, int]]]:
        m = re.search(r"(\d+)\s*(?:synthetic\s+|synthetische[nr]?\s+|künstliche[nr]?\s+|fake\s+)?(?:windows|samples|fenster|beispiele|examples|sequences|sequenzen)", question.lower())
        return (int(m.group(1)), [(m.start(), m.end())]) if m else (None, [])

    # ------------------------------------------------------------------ all
    def parse(self, question: str, now: datetime, intent: str | None = None) -> Slots:
        """Every slot the intent uses (all of them when the intent is unknown), and the
        constraint-like words of the question that none of them read."""
        assets, unknown, read = self._assets_with_spans(question)
        time_spans: list[tuple[int, int]] = []
        signal, ambiguous, signal_spans = self._signal_with_span(question)
        slots = Slots(assets=assets, unknown_assets=unknown)
        if intent in (None, "stats", "summary", "impute", "forecast"):
            slots.signal, slots.ambiguous_signal = signal, ambiguous
        if intent in (None, "stats"):
            no_assets = "".join(" " if any(a <= i < b for a, b in read) else ch for i, ch in enumerate(question))
            slots.statistic, spans = self._statistic_with_span(no_assets)  # asset names (P1) are no percentile
            slots.statistic = slots.statistic or ("mean" if intent == "stats" else None)
            read += spans
        if intent in (None, "anomalies", "stats", "summary", "impute"):
            # Asset names are not times: "P-2 jan 8" is the 8th, not the 2nd (offsets kept).
            masked = "".join(" " if any(a <= i < b for a, b in read) else ch for i, ch in enumerate(question))
            reading = read_time(masked, now, self.shifts)
            slots.range, slots.time_problem = reading.range, reading.problem
            read += reading.spans
            time_spans = reading.spans
        if intent in (None, "forecast"):
            found = find_duration(question)
            if found is not None:
                slots.horizon_minutes = found[0]
                read.append(found[1])
        if intent in (None, "whatif"):
            slots.change, spans = self._change_with_span(question)
            read += spans
        if intent in (None, "synthesize"):
            slots.count, spans = self._count_with_span(question)
            read += spans
        slots.unread = unread_words(question, read, known_names=self._known_names, signal_words=signal_spans,
                                     time_words=time_spans, connectives=intent in (None, *_RANGE_INTENTS))  # fmt: skip
        return slots


def _percentile(q: str) -> tuple[str, list[tuple[int, int]]] | None:
    """A percentile or quartile named in lower-case ``q``: ("p95", [span]), or None."""
    for pattern in PERCENTILE_PATTERNS:
        m = re.search(pattern, q)
        if m and 0 < float(m.group(1).replace(",", ".")) < 100:
            return percentile_statistic(float(m.group(1).replace(",", "."))), [(m.start(), m.end())]
    for value, words in QUARTILE_WORDS.items():
        for word in words:
            m = re.search(_word(word), q)
            if m:
                return percentile_statistic(value), [(m.start(), m.end())]
    return None


_CACHE: dict[tuple, SlotParser] = {}


def parser_for(assets: list[str], signals: list[str], *, shifts: str | None = None) -> SlotParser:
    """The parser for these names, built once per distinct store content (the last few kept)."""
    key = (tuple(assets), tuple(signals), shifts)
    parser = _CACHE.get(key)
    if parser is None:
        if len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        parser = _CACHE[key] = SlotParser(assets, signals, shifts=shifts)
    return parser
