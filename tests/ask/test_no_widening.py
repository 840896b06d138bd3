"""No silent widening: a constraint the parsers could not read makes the answer ask back, naming
the words (and `geniot ask` exit 1); actions are refused as such and out-of-scope questions are
refused in either language; every answer names its range, assets, signal, statistic and store.
The small plant runs Monday 2026-01-05 to Tuesday 2026-01-06 23:59."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from geniot.cli.main import app


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("max flow of P-1 in early January", "early January"),
        ("Maximaler Druck von P-1 Anfang der Woche", "Anfang der Woche"),
        ("average flow of P-2 around quarter end", "quarter"),
        ("mean pressure of P-1 when the flow was above 50 m3/h", "above 50"),
        ("max vibration of V-3 yesterday", "V-3"),
        ("mean humidity of P-1 yesterday", "humidity"),
        ("Durchschnittlicher Durchfluss von P-1 pro Stunde", "pro Stunde"),
        ("max flow of P-1 from 6 to 14 yesterday", "from 6 to 14 yesterday"),  # bare hours: not guessed
        ("max flow of P-1 seit der Wartung", "seit"),
    ],
)
def test_unread_constraint_asks_back(assistant, question, words):
    answer = assistant.ask(question)
    assert answer.refused and answer.tool is None
    assert f"«{words}»" in answer.text, answer.text


@pytest.mark.parametrize(
    ("question", "why"),
    [
        ("max flow of P-1 tomorrow", "after the latest reading"),
        ("max flow of P-1 on Monday and on 2026-01-02", "more than one"),
        ("average flow of P-1 every morning", "several separate times"),
    ],
)
def test_time_not_one_range_asks_back(assistant, question, why):
    answer = assistant.ask(question)
    assert answer.refused and why in answer.text


def test_month_name_date_and_clock_range_are_answered_exactly(assistant, small_plant):
    _, plant = small_plant
    r = plant.readings
    answer = assistant.ask("What was the maximum flow of P-1 on 5 January between 8 and 10 am?")
    assert not answer.refused and answer.slots["range"] == ["2026-01-05T08:00:00", "2026-01-05T10:00:00"]
    want = r[(r.asset == "P-1") & (r.signal == "flow_m3h") & (r.ts >= "2026-01-05 08:00") & (r.ts < "2026-01-05 10:00")]["value"].max()
    assert answer.values["values"] == {"P-1": pytest.approx(want)}
    # the answer says what it used
    assert "assets: P-1" in answer.text and "signal: flow_m3h" in answer.text and "statistic: maximum" in answer.text
    assert "range: 2026-01-05 08:00 – 2026-01-05 10:00" in answer.text
    german = assistant.ask("Wie hoch war der maximale Durchfluss von P-1 am 5. Januar zwischen 8 und 10 Uhr?")
    assert german.language == "de" and german.values["values"] == {"P-1": pytest.approx(want)}
    shift = assistant.ask("Average bearing temperature of P-2 in the night shift of Monday")
    assert shift.slots["range"] == ["2026-01-05T22:00:00", "2026-01-06T06:00:00"]


def test_whole_history_is_said_when_no_time_is_asked(assistant):
    answer = assistant.ask("What was the average flow of P-1?")
    assert not answer.refused and "range: whole history (up to 2026-01-06 23:59)" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "Shut down P-2",
        "Please restart pump 1",
        "acknowledge the alarm on P-1",
        "Increase the speed of P-1 to 1500 rpm",
        "Can you set the speed of P-2 to 1400?",
        "Stell die Drehzahl von P-1 auf 1500",
        "Schalte Pumpe 2 ab",
        "Kannst du Pumpe 1 neu starten?",
        "Lösche die Daten von P-1",
        "Quittiere den Alarm an P-2",
        "Bitte die Drehzahl von P-2 erhöhen",
    ],
)
def test_actions_are_refused_as_such(assistant, question):
    answer = assistant.ask(question)
    assert answer.refused and answer.intent == "out_of_scope"
    assert ("only reads" in answer.text) or ("liest und analysiert nur" in answer.text), answer.text


@pytest.mark.parametrize(
    "question",
    [
        "What if we increase the speed of P-1 by 10%?",
        "Was passiert mit P-1, wenn wir die Drehzahl um 10 % erhöhen?",
    ],
)
def test_a_what_if_is_no_action(assistant, question):
    assert assistant.plan(question)[0] == "whatif"


@pytest.mark.parametrize(
    "question",
    [
        "Wie wird das Wetter am Wochenende?",
        "Was kostet ein neuer Motor?",
        "Wer hat gestern Schicht gehabt?",
        "Wie spät ist es?",
        "Hallo, wie geht's?",
        "What does a new bearing cost?",
    ],
)
def test_out_of_scope_is_refused_in_either_language(assistant, question):
    answer = assistant.ask(question)
    assert answer.refused and answer.intent == "out_of_scope" and answer.tool is None


def test_cli_exits_1_on_an_unread_time_phrase_and_names_the_store(small_plant, monkeypatch, tmp_path):
    path, _ = small_plant
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    unread = runner.invoke(app, ["ask", "max flow of P-1 in early January", "--store", str(path)])
    assert unread.exit_code == 1 and "«early January»" in unread.output
    assert str(path.resolve()) in unread.output and "--store" in unread.output
    good = runner.invoke(app, ["ask", "max flow of P-1 am 5. Januar", "--store", str(path), "--json"])
    assert good.exit_code == 0, good.output
    body = json.loads(good.output)
    assert body["store"] == str(path.resolve()) and body["store_rule"] == "--store"
    assert body["slots"]["range"] == ["2026-01-05T00:00:00", "2026-01-06T00:00:00"]


def test_an_asset_number_is_never_read_as_a_day():
    """Found by the independent half: "P-2 jan 8" was read as 2 January."""
    from datetime import datetime

    from geniot.ask.slots import SlotParser

    parser = SlotParser(["P-1", "P-2", "P-4"], ["pressure_bar", "speed_rpm"])
    now = datetime(2026, 1, 11, 23, 59)
    assert parser.parse("min prssure P-2 jan 8", now, "stats").range.as_slot() == ["2026-01-08T00:00:00", "2026-01-09T00:00:00"]
    assert parser.parse("min speed P-4 Jan 9 between 14:00 and 15:30", now, "stats").range.as_slot() == [
        "2026-01-09T14:00:00", "2026-01-09T15:30:00"]
