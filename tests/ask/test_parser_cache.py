"""The slot parser is built once per store change, not per question: a store with thousands of
signal names answers many questions with one build, and a new signal triggers exactly one more."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geniot.ask import PlantAssistant, PlantView
from geniot.ask.slots import SlotParser
from geniot.data.store import SensorStore

N_SIGNALS = 3000


def _rows(asset: str, signals: list[str], ts: str = "2026-01-05T00:00:00") -> pd.DataFrame:
    return pd.DataFrame({"ts": pd.Timestamp(ts), "asset": asset, "signal": signals,
                         "value": np.arange(len(signals), dtype=float), "quality": 1.0})  # fmt: skip


def test_parser_built_once_per_store_change(router, tmp_path):
    signals = [f"line{i // 100}_sensor_{i:04d}_temp_c" for i in range(N_SIGNALS)]
    with SensorStore(tmp_path / "wide.duckdb") as store:
        store.append_rows(_rows("U-1", signals))
        store.append_rows(_rows("U-2", signals[:10]))
        before = SlotParser.builds
        assistant = PlantAssistant(PlantView(store, out_dir=tmp_path / "answers"), router=router)
        for question in ("max line3_sensor_0342_temp_c of U-1", "what was the mean of line0_sensor_0007_temp_c of U-2",
                         "min line29_sensor_2999_temp_c of U-1 on 5 January"):  # fmt: skip
            assistant.refresh()  # what the service does before every question
            answer = assistant.ask(question)
            assert answer.tool == "signal_statistic", answer.text
        assert SlotParser.builds - before == 1
        assert answer.slots["signal"] == "line29_sensor_2999_temp_c" and answer.slots["range"] == ["2026-01-05T00:00:00", None]
        store.append_rows(_rows("U-2", ["brand_new_signal"], ts="2026-01-05T00:01:00"))
        assistant.refresh()
        assistant.refresh()
        assert SlotParser.builds - before == 2
        assert assistant.parser.parse("mean brand_new_signal of U-2", assistant.plant.now, "stats").signal == "brand_new_signal"


def test_long_questions_are_refused_before_reading(assistant):
    answer = assistant.ask("max flow of P-1 yesterday " * 40)
    assert answer.refused and "500 characters" in answer.text


def test_router_examples_are_embedded_once_across_processes(tmp_path):
    """The CLI keeps the router's example vectors beside the store: a fresh router reads them."""
    from geniot.ask.embedder import embed
    from geniot.ask.router import IntentRouter

    calls = []

    def counting(texts):
        calls.append(len(texts))
        return embed(texts)

    first = IntentRouter().fit(counting, cache_dir=tmp_path)
    second = IntentRouter().fit(counting, cache_dir=tmp_path)
    assert len(calls) == 1 and np.array_equal(first.vectors_, second.vectors_)
    assert second.route("max flow of P-1 yesterday").intent == "stats" and len(calls) == 2  # the question itself
