"""Optional LLM backend: any OpenAI-compatible chat-completions endpoint (Ollama, vLLM,
llama.cpp server) gets geniot's typed tools and answers from their results.

The model only chooses tools and words. Every argument it sends is checked like a parsed slot
(asset and signal names must be the plant's, times must parse) before a tool runs, and the
answer names the tools whose numbers it used.
"""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import datetime

from geniot.ask.answer import Answer
from geniot.ask.assistant import PlantAssistant, detect_language
from geniot.ask.timewords import TimeRange
from geniot.ask.toolbox import by_name, openai_tools
from geniot.core.exceptions import DataError, GeniotError

_SYSTEM = (
    "You answer questions about an industrial plant's sensor data. Use the tools for every number; "
    "never state a number that no tool returned. If no tool fits, say that you cannot answer from the data. "
    "Answer in the language of the question, briefly. The plant's clock now is {now}; assets: {assets}; signals: {signals}."
)


class LLMAssistant:
    """Tool calling through an OpenAI-compatible endpoint, over the same plant and tools."""

    def __init__(self, assistant: PlantAssistant, *, url: str, model: str, api_key: str | None = None,
                 timeout: float = 60.0, max_rounds: int = 4) -> None:  # fmt: skip
        self.assistant = assistant
        self.url = url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.max_rounds = max_rounds

    def _post(self, messages: list[dict]) -> dict:
        body = json.dumps({"model": self.model, "messages": messages, "tools": openai_tools(), "temperature": 0}).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - URL from settings
            return json.loads(response.read())

    def _checked_args(self, raw: str) -> dict:
        """Tool arguments from the model, held to the plant's names and to parseable times."""
        try:
            args = json.loads(raw or "{}")
        except json.JSONDecodeError as exc:
            raise DataError(f"tool arguments are not JSON ({exc.msg})") from None
        plant = self.assistant.plant
        assets = args.get("assets")
        if assets is not None:
            unknown = [a for a in assets if a not in plant.assets]
            if unknown:
                raise DataError(f"unknown assets {unknown}; the plant has {plant.assets}")
        signal = args.get("signal")
        if signal is not None and signal not in plant.all_signals:
            raise DataError(f"unknown signal {signal!r}; the plant has {plant.all_signals}")
        if args.get("range") is not None:
            start, end = (None if t is None else datetime.fromisoformat(t) for t in args["range"])
            args["range"] = TimeRange(start, end, "")
        return args

    def ask(self, question: str) -> Answer:
        started = time.perf_counter()
        lang = detect_language(question)
        plant = self.assistant.plant
        messages = [
            {"role": "system", "content": _SYSTEM.format(now=plant.now.isoformat(), assets=", ".join(plant.assets), signals=", ".join(plant.all_signals))},
            {"role": "user", "content": question},
        ]
        used, values, figure, files = [], {}, None, []
        for _ in range(self.max_rounds):
            message = self._post(messages)["choices"][0]["message"]
            calls = message.get("tool_calls") or []
            if not calls:
                text = (message.get("content") or "").strip()
                if used:
                    text += f"\n(tools: {', '.join(used)})"
                answer = Answer(question, lang, used[0] if used else "out_of_scope", {}, text, tool=", ".join(used) or None,
                                values=values, figure=figure, files=files, refused=not used, backend="llm")  # fmt: skip
                answer.latency_ms = (time.perf_counter() - started) * 1000.0
                return answer
            messages.append({"role": "assistant", "content": message.get("content"), "tool_calls": calls})
            for call in calls:
                tool = by_name(call["function"]["name"])
                try:
                    if tool is None:
                        raise DataError(f"no tool named {call['function']['name']!r}")
                    result = tool.run(plant, lang=lang, **self._checked_args(call["function"].get("arguments")))
                    used.append(tool.name)
                    values[tool.name] = result.values
                    figure = figure or result.figure
                    files += result.files
                    content = json.dumps({"text": result.text, "values": result.values}, default=str)[:20_000]
                except (GeniotError, TypeError, ValueError) as exc:
                    content = json.dumps({"error": str(exc)})
                messages.append({"role": "tool", "tool_call_id": call.get("id", ""), "content": content})
        raise DataError(f"the LLM did not finish within {self.max_rounds} tool rounds")
