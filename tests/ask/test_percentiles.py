"""Percentiles and quartiles are statistics ("95th percentile", "p99", "90. Perzentil",
"oberes Quartil"), computed from the store; their numbers are never read as dates."""

from __future__ import annotations

import numpy as np
import pytest

from geniot.ask.slots import SlotParser
from geniot.ask.vocabulary import statistic_name


@pytest.mark.parametrize(("question", "statistic"), [
    ("what was the 95th percentile of flow of P-1?", "p95"),
    ("p99 of motor current of P-2 yesterday", "p99"),
    ("percentile 10 of pressure", "p10"),
    ("Wie hoch war das 90. Perzentil der Lagertemperatur?", "p90"),
    ("95%-Quantil des Durchflusses", "p95"),
    ("upper quartile of pressure of P-1", "p75"),
    ("das untere Quartil des Drucks", "p25"),
    ("99.9th percentile of vibration", "p99.9"),
    ("the median flow", "median"),
])  # fmt: skip
def test_percentile_words_name_the_statistic(question, statistic):
    assert SlotParser.parse_statistic(question) == statistic


def test_an_asset_named_like_a_percentile_is_an_asset():
    parser = SlotParser(["P1", "P2"], ["flow"])
    slots = parser.parse("average flow of P1 yesterday", np.datetime64("2026-01-06T12:00").astype(object), "stats")
    assert slots.statistic == "mean" and slots.assets == ["P1"]


def test_names():
    assert statistic_name("p95", "en") == "95th percentile" and statistic_name("p1", "en") == "1st percentile"
    assert statistic_name("p11", "en") == "11th percentile" and statistic_name("p90", "de") == "90. Perzentil"


@pytest.mark.parametrize("question", ["What was the 95th percentile of the bearing temperature of P-2 yesterday?",
                                      "Wie hoch war das 95. Perzentil der Lagertemperatur von P-2 gestern?"])  # fmt: skip
def test_a_percentile_is_computed_from_the_store_over_the_asked_day(assistant, small_plant, question):
    _, plant = small_plant
    answer = assistant.ask(question)
    assert answer.tool == "signal_statistic" and not answer.refused, answer.text
    r = plant.readings
    day = r[(r.asset == "P-2") & (r.signal == "bearing_temp_c") & (r.ts >= "2026-01-05") & (r.ts < "2026-01-06")]["value"]
    assert answer.values["statistic"] == "p95"
    assert answer.values["values"] == {"P-2": pytest.approx(np.percentile(day.dropna(), 95))}
