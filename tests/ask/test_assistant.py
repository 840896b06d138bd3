"""Answers on a small simulated plant: the numbers are the store's, computed independently here;
nothing a question says reaches SQL; refusals say why."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from geniot.data.store import SensorStore


def test_statistic_matches_an_independent_computation(assistant, small_plant):
    _, plant = small_plant
    answer = assistant.ask("What was the maximum bearing temperature of P-2 yesterday?")
    assert answer.tool == "signal_statistic" and not answer.refused
    r = plant.readings
    want = r[(r.asset == "P-2") & (r.signal == "bearing_temp_c") & (r.ts >= "2026-01-05") & (r.ts < "2026-01-06")]["value"].max()
    assert answer.values["values"] == {"P-2": pytest.approx(want)}
    assert f"{want:.1f}" in answer.text


def test_german_question_gets_a_german_answer(assistant, small_plant):
    _, plant = small_plant
    answer = assistant.ask("Wie hoch war der durchschnittliche Durchfluss von Pumpe 1 heute?")
    assert answer.language == "de" and answer.intent == "stats"
    r = plant.readings
    want = r[(r.asset == "P-1") & (r.signal == "flow_m3h") & (r.ts >= "2026-01-06")]["value"].mean()
    assert answer.values["values"]["P-1"] == pytest.approx(want)
    assert answer.text.startswith("Durchschnitt")


def test_anomalies_are_the_stored_events(assistant, small_plant):
    path, _ = small_plant
    answer = assistant.ask("which assets had anomalies yesterday?")
    assert answer.tool == "list_anomalies"
    con = duckdb.connect(str(path), read_only=True)
    rows = con.execute("SELECT DISTINCT asset FROM events WHERE end_ts >= '2026-01-05' AND start_ts < '2026-01-06' ORDER BY asset").fetchall()
    n = con.execute("SELECT count(*) FROM events WHERE end_ts >= '2026-01-05' AND start_ts < '2026-01-06'").fetchone()[0]
    con.close()
    assert sorted(answer.values["assets"]) == [a for (a,) in rows]
    assert answer.values["n_events"] == n


def test_no_events_table_content_means_no_made_up_answer(router, tmp_path, small_plant):
    from geniot.ask import PlantAssistant, PlantView

    _, plant = small_plant
    with SensorStore(tmp_path / "bare.duckdb") as store:
        store.append(plant.readings)
        answer = PlantAssistant(PlantView(store), router=router).ask("which assets had anomalies yesterday?")
    assert answer.values["detected"] is False and "No anomaly detection has run" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "P-1'; DROP TABLE readings; --",
        "average flow of P-1'); DELETE FROM readings; -- yesterday",
        "max vibration of pump 1 yesterday; DROP TABLE events",
        "mean flow of x' OR '1'='1",
    ],
)
def test_no_sql_injection_through_questions(assistant, small_plant, question):
    path, _ = small_plant
    before = assistant.plant.store.count()
    answer = assistant.ask(question)
    assert assistant.plant.store.count() == before
    # whatever was answered used only the plant's own names
    assert set(answer.slots.get("assets") or []) <= {"P-1", "P-2"}


def test_the_store_is_opened_read_only(assistant):
    with pytest.raises(duckdb.Error):
        assistant.plant.store.append_rows(pd.DataFrame({"ts": [pd.Timestamp("2026-01-07")], "asset": ["P-1"], "signal": ["flow_m3h"], "value": [1.0], "quality": [1.0]}))


def test_refusals_say_why_and_suggest(assistant):
    joke = assistant.ask("Tell me a joke about pumps")
    assert joke.refused and joke.tool is None and len(joke.suggestions) >= 2
    action = assistant.ask("Delete all data of P-1")
    assert action.refused and "only reads" in action.text
    ambiguous = assistant.ask("What was the average temperature of P-1 yesterday?")
    assert ambiguous.refused and set(ambiguous.suggestions) == {"bearing_temp_c", "motor_temp_c", "ambient_temp_c"}
    unknown = assistant.ask("max vibration of P-7 yesterday")
    assert unknown.refused and "P-7" in unknown.text


def test_model_tools_answer(assistant):
    gaps = assistant.ask("Fill the gaps in the flow data of P-1 yesterday")
    assert gaps.tool == "fill_gaps" and not gaps.refused
    filled = gaps.values["assets"]["P-1"]
    if filled["filled"]:
        frame = pd.read_csv(filled["file"])
        assert int(frame["flow_m3h_imputed"].sum()) == filled["filled"] and not frame["flow_m3h"].isna().any()
        assert "chosen on held-out gaps" in gaps.text and filled["method"]  # `geniot impute`'s choice, not the raw model
    forecast = assistant.ask("Forecast the motor current of P-2 for the next 2 hours")
    band = forecast.values["signals"]["motor_current_a"]
    assert forecast.tool == "forecast" and len(band["median"]) == 12
    assert np.all(np.array(band["lower"]) <= np.array(band["upper"]))
    whatif = assistant.ask("What happens to P-1 if we raise the speed by 5%?")
    assert whatif.tool == "what_if"
    # the affinity laws: more speed, more flow
    assert whatif.values["changes"]["flow_m3h"]["then"] > whatif.values["changes"]["flow_m3h"]["now"]
    rul = assistant.ask("How long will pump 2 last?")
    assert rul.tool == "remaining_life" and "P-2" in rul.values["assets"]
    synth = assistant.ask("Generate 10 synthetic windows for P-2")
    assert synth.values["assets"]["P-2"]["windows"] == 10 and pd.read_csv(synth.files[0])["window"].nunique() == 10
