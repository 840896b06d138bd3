"""The typed tools: one per intent, with the JSON schema an LLM backend is given for tool calling
and the function the router calls. Arguments are checked against the plant before any tool runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from geniot.ask import tools_data, tools_model


@dataclass(frozen=True)
class Tool:
    name: str
    intent: str
    description: str
    run: Callable
    parameters: dict  # JSON schema of the arguments (the slots the intent uses)


_ASSETS = {"type": "array", "items": {"type": "string"}, "description": "asset names; omit for all assets"}
_SIGNAL = {"type": "string", "description": "one signal name"}
_RANGE = {
    "type": "array", "items": {"type": ["string", "null"]}, "minItems": 2, "maxItems": 2,
    "description": "[start, end) as ISO datetimes on the plant's clock; null end = up to the latest reading",
}  # fmt: skip


def _schema(required: tuple[str, ...] = (), **props) -> dict:
    return {"type": "object", "properties": props, "required": list(required), "additionalProperties": False}


TOOLS: dict[str, Tool] = {
    t.intent: t
    for t in (
        Tool("list_anomalies", "anomalies", "Anomaly events per asset in a time range, with the sensors that were off.",
             tools_data.anomalies, _schema(assets=_ASSETS, range=_RANGE)),
        Tool("signal_statistic", "stats", "A statistic (mean, max, min, std, median, or a percentile such as p95) of one signal per asset over a time range.",
             tools_data.stats, _schema(("signal", "statistic"), assets=_ASSETS, signal=_SIGNAL,
                                       statistic={"type": "string", "pattern": r"^(mean|max|min|std|median|p\d{1,2}(\.\d+)?)$"}, range=_RANGE)),
        Tool("summarize", "summary", "A short summary of the data: readings, outages, anomaly events, trends.",
             tools_data.summary, _schema(assets=_ASSETS, signal=_SIGNAL, range=_RANGE)),
        Tool("fill_gaps", "impute", "Fill missing readings with each asset's generative model; writes a CSV with 90% intervals.",
             tools_model.impute, _schema(assets=_ASSETS, signal=_SIGNAL, range=_RANGE)),
        Tool("forecast", "forecast", "Forecast the next minutes/hours of a signal of one asset, with a 90% interval.",
             tools_model.forecast, _schema(assets=_ASSETS, signal=_SIGNAL, horizon_minutes={"type": "integer", "minimum": 1, "maximum": 10080})),
        Tool("what_if", "whatif", "Simulate an asset with its control (speed) changed by a percent or set to a value.",
             tools_model.whatif, _schema(("change",), assets=_ASSETS, change={"type": "object", "properties": {
                 "control": {"type": "string"}, "percent": {"type": "number"}, "value": {"type": "number"}}})),
        Tool("remaining_life", "rul", "Remaining useful life per asset from the trend of its wear indicator.",
             tools_model.remaining_life, _schema(assets=_ASSETS)),
        Tool("synthesize", "synthesize", "Generate synthetic sensor windows from each asset's model; writes a CSV.",
             tools_model.synthesize, _schema(assets=_ASSETS, count={"type": "integer", "minimum": 1, "maximum": 100000})),
        Tool("plant_overview", "overview", "The plant's assets, their signals and the time span of the data.",
             tools_data.overview, _schema(assets=_ASSETS)),
    )
}  # fmt: skip


def openai_tools() -> list[dict]:
    """The tools in the OpenAI chat-completions ``tools`` format."""
    return [{"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}} for t in TOOLS.values()]


def by_name(name: str) -> Tool | None:
    return next((t for t in TOOLS.values() if t.name == name), None)
