"""`geniot fl` says why a pooled F1 is low, from the counts and the sites' own labels."""

from __future__ import annotations

from geniot.cli.fl_cmd import anomalous_training_rows, explain_f1


def test_labelled_anomalies_in_the_training_rows_are_counted(tmp_path):
    site = tmp_path / "P-3.csv"
    site.write_text("timestamp,a,anomaly\n" + "".join(f"2026-01-01 00:{m:02d},1.0,{int(m in (2, 3, 9))}\n" for m in range(12)))
    assert anomalous_training_rows([str(site)], 6) == ["P-3.csv: 2 of 6 training rows"]
    assert anomalous_training_rows([str(site)], 2) == []


def test_a_low_f1_is_explained_and_a_good_one_is_not():
    final = {"f1": 0.059, "far": 3.1, "mar": 94.6, "tp": 20, "fp": 250, "fn": 311}
    text = explain_f1(final, ["P-3.csv: 725 of 2880 training rows"])
    assert text.startswith("F1 is low (0.06)") and "725 of 2880" in text and "311 of 331" in text and "FAR 3.1%" in text
    assert explain_f1({**final, "f1": 0.8}, []) is None
    assert "no labelled anomaly" in explain_f1({"f1": 0.0, "far": 2.0, "mar": 0.0, "tp": 0, "fp": 5, "fn": 0}, [])
