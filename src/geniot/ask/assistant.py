"""The plant assistant: a question in, an answer with numbers, a summary and a plot out.

Route the question to an intent (MiniLM embeddings), parse its slots against the plant's own
names, check what the intent needs, run the typed tool, and answer in the question's language.
Out of scope, ambiguous or incomplete questions get an answer that says so, with suggestions;
a tool never runs on a guess.
"""

from __future__ import annotations

import re
import time

from geniot.ask.answer import Answer, say
from geniot.ask.embedder import embed
from geniot.ask.plant import PlantView
from geniot.ask.router import OUT_OF_SCOPE, IntentRouter
from geniot.ask.slots import SlotParser, Slots
from geniot.ask.toolbox import TOOLS
from geniot.core.exceptions import GeniotError

_GERMAN = re.compile(
    r"\b(welche|welcher|wie|was|wann|wer|gab|gibt|hatte|hatten|der|die|das|den|dem|des|und|von|für|mit|seit|gestern|heute|"
    r"letzte|nächsten|pumpe|pumpen|zeig|fülle|erzeuge|ist|sind|wäre|noch|nicht|bitte|über)\b|[äöüß]",
    re.IGNORECASE,
)
MAX_QUESTION_CHARS = 500


def detect_language(question: str) -> str:
    """``de`` when German function words or umlauts outnumber nothing else; ``en`` otherwise."""
    return "de" if len(_GERMAN.findall(question)) >= 2 else "en"


def _suggestions(lang: str) -> list[str]:
    en = ["Which assets had anomalies yesterday?", "What was the average bearing temperature of P-1 this week?",
          "Forecast the flow of P-2 for the next 6 hours", "How long will P-3 last?"]  # fmt: skip
    de = ["Welche Pumpen hatten gestern Anomalien?", "Durchschnittliche Lagertemperatur von P-1 diese Woche?",
          "Prognose des Durchflusses von P-2 für die nächsten 6 Stunden", "Wie lange hält P-3 noch?"]  # fmt: skip
    return de if lang == "de" else en


class PlantAssistant:
    """Answers questions about one plant (a :class:`PlantView`)."""

    def __init__(self, plant: PlantView, *, router: IntentRouter | None = None) -> None:
        self.plant = plant
        self.router = router or IntentRouter().fit(embed)
        self.parser = SlotParser(plant.assets, plant.all_signals)

    def refresh(self) -> None:
        self.plant.refresh()
        self.parser = SlotParser(self.plant.assets, self.plant.all_signals)

    # ------------------------------------------------------------ routing only
    def plan(self, question: str) -> tuple[str, Slots, str]:
        """(intent, slots, reason) without running a tool: what the benchmark scores."""
        route = self.router.route(question)
        if route.intent == OUT_OF_SCOPE:
            return OUT_OF_SCOPE, Slots(), route.reason
        return route.intent, self.parser.parse(question, self.plant.now, route.intent), ""

    # ------------------------------------------------------------ answering
    def ask(self, question: str) -> Answer:
        started = time.perf_counter()
        answer = self._answer(question)
        answer.latency_ms = (time.perf_counter() - started) * 1000.0
        return answer

    def _answer(self, question: str) -> Answer:
        question = " ".join(str(question).split())
        lang = detect_language(question)
        if not question or len(question) > MAX_QUESTION_CHARS:
            why = say(lang, f"Please ask a question of 1 to {MAX_QUESTION_CHARS} characters.", f"Bitte stellen Sie eine Frage mit 1 bis {MAX_QUESTION_CHARS} Zeichen.")
            return self._refusal(question, lang, OUT_OF_SCOPE, {}, why)
        intent, slots, reason = self.plan(question)
        if intent == OUT_OF_SCOPE:
            why = say(lang, f"I can't answer that from the plant's data ({reason}). I can answer questions like these:",
                      f"Das kann ich aus den Anlagendaten nicht beantworten ({_de_reason(reason)}). Ich beantworte Fragen wie diese:")  # fmt: skip
            return self._refusal(question, lang, intent, {}, why)
        problem = self._missing(intent, slots, lang)
        if problem:
            text, suggestions = problem
            return self._refusal(question, lang, intent, slots.as_dict(), text, suggestions)
        tool = TOOLS[intent]
        args = {k: v for k, v in vars(slots).items() if k in tool.parameters["properties"]}
        try:
            result = tool.run(self.plant, lang=lang, **args)
        except GeniotError as exc:
            return self._refusal(question, lang, intent, slots.as_dict(), say(lang, f"I could not answer: {exc}", f"Das konnte ich nicht beantworten: {exc}"))
        return Answer(question, lang, intent, slots.as_dict(), result.text, tool=tool.name, values=result.values,
                      figure=result.figure, files=result.files)  # fmt: skip

    def _missing(self, intent: str, slots: Slots, lang: str) -> tuple[str, list[str]] | None:
        """What keeps the tool from running: unknown assets, an ambiguous or missing signal."""
        p = self.plant
        if slots.unknown_assets:
            names = ", ".join(slots.unknown_assets)
            return say(lang, f"There is no asset {names} in this plant; it has {', '.join(p.assets)}.",
                       f"Die Anlage hat keine Maschine {names}; sie hat {', '.join(p.assets)}."), p.assets  # fmt: skip
        if slots.ambiguous_signal and slots.signal is None:
            options = list(slots.ambiguous_signal)
            return say(lang, f"Which signal do you mean: {', '.join(options)}?", f"Welches Signal meinen Sie: {', '.join(options)}?"), options
        if intent == "stats" and slots.signal is None:
            return say(lang, "Which signal? The plant measures: ", "Welches Signal? Gemessen werden: ") + ", ".join(p.all_signals) + ".", p.all_signals
        if intent == "whatif" and slots.change is None:
            example = say(lang, "e.g. 'raise the speed of P-1 by 10%' or 'P-1 at 1400 rpm'", "z. B. 'Drehzahl von P-1 um 10 % erhöhen' oder 'P-1 mit 1400 U/min'")
            return say(lang, f"What should change, and by how much? ({example})", f"Was soll sich ändern, und um wie viel? ({example})"), []
        return None

    @staticmethod
    def _refusal(question: str, lang: str, intent: str, slots: dict, text: str, suggestions: list[str] | None = None) -> Answer:
        return Answer(question, lang, intent, slots, text, suggestions=_suggestions(lang) if suggestions is None else suggestions, refused=True)


def _de_reason(reason: str) -> str:
    return {
        "it asks to act on a machine or on the data; geniot only reads and analyses": "es ist eine Aktion an einer Maschine oder an den Daten; geniot liest und analysiert nur",
        "it is too far from anything geniot can answer": "es liegt zu weit von allem, was geniot beantworten kann",
        "it is nearer to questions geniot cannot answer": "es ähnelt Fragen, die geniot nicht beantworten kann",
    }.get(reason, reason)

