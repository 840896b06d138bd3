"""The plant assistant: a question in, an answer with numbers, a summary and a plot out.

Route the question to an intent (MiniLM embeddings), parse its slots against the plant's own
names, check what the intent needs, run the typed tool, and answer in the question's language.
Out of scope, ambiguous or incomplete questions get an answer that says so, with suggestions;
a tool never runs on a guess.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from geniot.ask.answer import Answer, fmt_time, say
from geniot.ask.embedder import embed
from geniot.ask.plant import PlantView
from geniot.ask.router import OUT_OF_SCOPE, IntentRouter
from geniot.ask.shifts import parse_shifts
from geniot.ask.slots import Slots, parser_for
from geniot.ask.toolbox import TOOLS
from geniot.ask.vocabulary import statistic_name
from geniot.core.exceptions import GeniotError

_GERMAN = re.compile(
    r"\b(welche|welcher|wie|was|wann|wer|gab|gibt|hatte|hatten|der|die|das|den|dem|des|und|von|für|mit|seit|gestern|heute|"
    r"letzte|nächsten|pumpe|pumpen|zeig|fülle|erzeuge|ist|sind|wäre|noch|nicht|bitte|über)\b|[äöüß]",
    re.IGNORECASE,
)
MAX_QUESTION_CHARS = 500
# Reading a question (routing and slots) is bounded by the length cap and by lookups that do not
# grow with the number of signals; this budget is the check that it stayed so.
READ_BUDGET_S = 10.0
_RANGE_INTENTS = ("anomalies", "stats", "summary", "impute")
# Words that name the plant or its data; an in-scope question names at least one of them, an
# asset or a signal (language-independent: the words of both languages are listed).
_PLANT_WORDS = re.compile(
    r"\b(?:data|daten\w*|sensors?|sensoren|signals?|signale?n?|readings?|messwert\w*|werte?n?|values?|plant|anlagen?|fleet|"
    r"flotte|machines?|maschinen?|equipment|assets?|pumps?|pumpen?|aggregat\w*|units?|rul|status|overview|überblick|"
    r"outliers?|ausreißer\w*|events?|ereignis\w*)\b",
    re.IGNORECASE,
)
# Topics no plant data answers, in either language.
_OFF_TOPIC = re.compile(
    r"\b(?:weather|wetter|rain|regen|snow|schnee|prices?|preis\w*|costs?|kost\w*|euro|dollar|€|\$|stock|aktien?\w*|"
    r"jokes?|witz\w*|poem|gedicht\w*|haiku|password|passwort|lunch|mittagessen|kantine|canteen|vacation|urlaub\w*|"
    r"meeting|besprechung\w*|capital|hauptstadt|translate|übersetz\w*|pizza|football|fußball|ceo|manufacturer|hersteller|"
    r"warranty|garantie|invoice|rechnung\w*|work\s+orders?|arbeitsauftr\w*|sap|news|nachrichten)\b|^\s*(?:who|wer|wem|wen)\b",
    re.IGNORECASE,
)


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

    def __init__(self, plant: PlantView, *, router: IntentRouter | None = None, shifts: str | None = None,
                 router_cache: Path | None = None) -> None:  # fmt: skip
        from geniot.core.settings import get_settings

        self.plant = plant
        self.router = router or IntentRouter().fit(embed, cache_dir=router_cache)
        self.shifts = shifts if shifts is not None else get_settings().shift_hours
        parse_shifts(self.shifts)  # a bad GENIOT_SHIFT_HOURS fails here, naming the setting's value, not per question
        self.parser = parser_for(plant.assets, plant.all_signals, shifts=self.shifts)

    def refresh(self) -> None:
        """Re-read the store's names; the parser is rebuilt only when they changed."""
        self.plant.refresh()
        self.parser = parser_for(self.plant.assets, self.plant.all_signals, shifts=self.shifts)

    # ------------------------------------------------------------ routing only
    def plan(self, question: str) -> tuple[str, Slots, str]:
        """(intent, slots, reason) without running a tool: what the benchmark scores."""
        route = self.router.route(question)
        if route.intent == OUT_OF_SCOPE:
            return OUT_OF_SCOPE, Slots(), route.reason
        if _OFF_TOPIC.search(question):
            return OUT_OF_SCOPE, Slots(), "it is about something the plant's data does not hold"
        slots = self.parser.parse(question, self.plant.now, route.intent)
        if not (slots.assets or slots.unknown_assets or slots.signal or slots.ambiguous_signal or _PLANT_WORDS.search(question)
                or self.router.has_cue(question)):  # fmt: skip
            return OUT_OF_SCOPE, Slots(), "it names nothing of the plant or its data"
        return route.intent, slots, ""

    # ------------------------------------------------------------ answering
    def ask(self, question: str, *, plan: tuple[str, Slots, str] | None = None) -> Answer:
        """Answer ``question``; ``plan`` is :meth:`plan`'s result for it when the caller already
        has one (the service checks the plan's scope first), so the question is read once."""
        started = time.perf_counter()
        answer = self._answer(question, plan)
        answer.latency_ms = (time.perf_counter() - started) * 1000.0
        return answer

    def _answer(self, question: str, plan: tuple[str, Slots, str] | None = None) -> Answer:
        question = " ".join(str(question).split())
        lang = detect_language(question)
        if not question or len(question) > MAX_QUESTION_CHARS:
            why = say(lang, f"Please ask a question of 1 to {MAX_QUESTION_CHARS} characters.", f"Bitte stellen Sie eine Frage mit 1 bis {MAX_QUESTION_CHARS} Zeichen.")
            return self._refusal(question, lang, OUT_OF_SCOPE, {}, why)
        started = time.perf_counter()
        intent, slots, reason = plan if plan is not None else self.plan(question)
        if time.perf_counter() - started > READ_BUDGET_S:
            why = say(lang, f"Reading this question took longer than {READ_BUDGET_S:.0f} s; please ask a shorter one.",
                      f"Das Lesen dieser Frage dauerte länger als {READ_BUDGET_S:.0f} s; bitte kürzer fragen.")  # fmt: skip
            return self._refusal(question, lang, intent, slots.as_dict(), why)
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
        text = result.text + "\n" + self._scope(intent, slots, lang)
        return Answer(question, lang, intent, slots.as_dict(), text, tool=tool.name, values=result.values,
                      figure=result.figure, files=result.files, store=self.store_name)  # fmt: skip

    @property
    def store_name(self) -> str:
        return str(getattr(self.plant.store, "path", ""))

    def _scope(self, intent: str, slots: Slots, lang: str) -> str:
        """The exact assets, signal, statistic and range the answer used, in one line."""
        p = self.plant
        parts = [say(lang, "assets: ", "Maschinen: ") + ", ".join(slots.assets or p.assets)]
        if intent in ("stats", "summary", "impute", "forecast"):
            parts.append(say(lang, "signal: ", "Signal: ") + (slots.signal or say(lang, "all", "alle")))
        if intent == "stats":
            parts.append(say(lang, "statistic: ", "Statistik: ") + statistic_name(slots.statistic, lang))
        if intent in _RANGE_INTENTS:
            rng = slots.range
            if rng is None:
                span = say(lang, "whole history", "gesamte Historie")
                parts.append(f"{say(lang, 'range', 'Zeitraum')}: {span} ({say(lang, 'up to', 'bis')} {fmt_time(p.now)})")
            else:
                end = fmt_time(rng.end) if rng.end is not None else f"{say(lang, 'latest reading', 'letzter Messwert')} {fmt_time(p.now)}"
                parts.append(f"{say(lang, 'range', 'Zeitraum')}: {fmt_time(rng.start) if rng.start else say(lang, 'start', 'Beginn')} – {end}")
        if intent == "forecast":
            parts.append(say(lang, "from ", "ab ") + fmt_time(p.now))
        return "(" + "; ".join(parts) + ")"

    def _missing(self, intent: str, slots: Slots, lang: str) -> tuple[str, list[str]] | None:
        """What keeps the tool from running: unknown assets, an ambiguous or missing signal."""
        p = self.plant
        if slots.time_problem:
            return say(lang, f"I could not answer over one time range: {slots.time_problem}.",
                       f"Ich kann das nicht über einen Zeitraum beantworten: {slots.time_problem}.") + _time_examples(lang), []  # fmt: skip
        if slots.unread:
            words = ", ".join(f"«{w}»" for w in slots.unread)
            return say(lang, f"I could not read {words}, so I will not answer a wider question than the one you asked. Please say it in another way"
                             f" (this plant has {_few(p.assets)}; it measures {_few(p.all_signals)}).",
                       f"Ich konnte {words} nicht lesen und beantworte deshalb keine weitere Frage als die gestellte. Bitte sagen Sie es anders"
                       f" (die Anlage hat {_few(p.assets)}; gemessen werden {_few(p.all_signals)}).") + _time_examples(lang), []  # fmt: skip
        rng = slots.range
        if intent in _RANGE_INTENTS and rng is not None and (
            (rng.start is not None and rng.start > p.now) or (rng.end is not None and rng.end <= p.first)
        ):  # a range with no stored reading in it: say so rather than answer with nothing
            shown = f"{fmt_time(rng.start) if rng.start else '…'} – {fmt_time(rng.end) if rng.end else '…'}"
            return say(lang, f"«{rng.phrase}» ({shown}) lies outside the stored data ({fmt_time(p.first)} – {fmt_time(p.now)}); there is nothing to answer from.",
                       f"«{rng.phrase}» ({shown}) liegt außerhalb der gespeicherten Daten ({fmt_time(p.first)} – {fmt_time(p.now)}); dazu gibt es keine Messwerte."), []  # fmt: skip
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

    def _refusal(self, question: str, lang: str, intent: str, slots: dict, text: str, suggestions: list[str] | None = None) -> Answer:
        return Answer(question, lang, intent, slots, text, suggestions=_suggestions(lang) if suggestions is None else suggestions,
                      refused=True, store=self.store_name)  # fmt: skip


def _few(names: list[str], n: int = 12) -> str:
    return ", ".join(names[:n]) + (f" … ({len(names)} in all)" if len(names) > n else "")


def _time_examples(lang: str) -> str:
    return say(lang, " For example: 'yesterday', 'on 7 January', 'since Monday', 'between 08:00 and 10:00 yesterday', 'last night shift'.",
               " Zum Beispiel: 'gestern', 'am 7. Januar', 'seit Montag', 'gestern zwischen 8 und 10 Uhr', 'letzte Nachtschicht'.")  # fmt: skip


def _de_reason(reason: str) -> str:
    return {
        "it asks to act on a machine or on the data; geniot only reads and analyses": "es ist eine Aktion an einer Maschine oder an den Daten; geniot liest und analysiert nur",
        "it is too far from anything geniot can answer": "es liegt zu weit von allem, was geniot beantworten kann",
        "it is nearer to questions geniot cannot answer": "es ähnelt Fragen, die geniot nicht beantworten kann",
        "it is about something the plant's data does not hold": "es geht um etwas, das nicht in den Anlagendaten steht",
        "it names nothing of the plant or its data": "es nennt nichts aus der Anlage oder ihren Daten",
    }.get(reason, reason)

