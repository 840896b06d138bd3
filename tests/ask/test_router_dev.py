"""The router and the slot parser on the development half of the evaluation set."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from geniot.ask.evalset import load_questions, slot_errors
from geniot.ask.router import OUT_OF_SCOPE
from geniot.ask.slots import SlotParser
from geniot.data.simulate import SIGNALS

DEV = Path(__file__).parents[2] / "benchmarks" / "ask_eval" / "dev.jsonl"
NOW = datetime(2026, 1, 11, 23, 59)


def test_dev_half_tool_calls_and_slots(router):
    parser = SlotParser(["P-1", "P-2", "P-3", "P-4"], list(SIGNALS))
    questions = [q for q in load_questions(DEV) if q["intent"] != OUT_OF_SCOPE]
    assert len(questions) == 100
    wrong = []
    for q in questions:
        intent = router.route(q["q"]).intent
        errors = [f"intent {intent}"] if intent != q["intent"] else slot_errors(q, intent, parser.parse(q["q"], NOW, intent).as_dict())
        if errors:
            wrong.append((q["id"], q["q"], errors))
    assert len(wrong) <= 5, wrong


def test_dev_half_out_of_scope_is_refused(router):
    questions = [q for q in load_questions(DEV) if q["intent"] == OUT_OF_SCOPE]
    assert len(questions) == 20
    accepted = [(q["q"], r.intent) for q in questions if (r := router.route(q["q"])).intent != OUT_OF_SCOPE]
    assert len(accepted) <= 1, accepted
