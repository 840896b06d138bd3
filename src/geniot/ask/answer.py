"""What a tool returns and what the assistant answers, in the user's language."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from geniot.ask.timewords import TimeRange


def say(lang: str, en: str, de: str) -> str:
    return de if lang == "de" else en


def fmt_time(t: datetime | None) -> str:
    return "now" if t is None else t.strftime("%Y-%m-%d %H:%M")


def fmt_range(rng: TimeRange | None, lang: str) -> str:
    """'yesterday (2026-01-10 00:00 to 2026-01-11 00:00)'; the whole history when None."""
    if rng is None:
        return say(lang, "over the whole history", "über die gesamte Historie")
    end = say(lang, "the latest reading", "zum letzten Messwert") if rng.end is None else fmt_time(rng.end)
    return f"{rng.phrase} ({fmt_time(rng.start)} {say(lang, 'to', 'bis')} {end})"


def fmt_number(x: float) -> str:
    if x != x:  # NaN
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}" if abs(x) < 1 else f"{x:.1f}"


@dataclass
class ToolResult:
    """A tool's numbers (``values``: JSON-ready), its sentences and an optional plotly figure."""

    values: dict
    text: str
    figure: dict | None = None  # plotly figure as JSON (dashboard and HTML report)
    files: list[str] = field(default_factory=list)


@dataclass
class Answer:
    question: str
    language: str
    intent: str
    slots: dict
    text: str
    tool: str | None = None  # the tool that produced the numbers; None when refused
    values: dict = field(default_factory=dict)
    figure: dict | None = None
    files: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    refused: bool = False
    backend: str = "router"  # "router" or "llm"
    latency_ms: float = 0.0
    store: str | None = None  # the store the answer was read from

    def to_dict(self) -> dict:
        return asdict(self)
