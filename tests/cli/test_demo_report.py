"""`geniot demo` end to end (tiny settings): the report holds a synthetic day of the fleet beside
the real one, the dashboard's JSON of it is written, and the memorization verdict names the
holdout and its time span and does not call a model that cannot copy a copier."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from geniot.cli.main import app


def test_demo_report_has_the_synthetic_day_and_a_true_verdict(tmp_path):
    r = CliRunner().invoke(app, ["demo", "--home", str(tmp_path), "--model", "gaussian", "--assets", "2", "--days", "0.5"])
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())
    assert "synthetic day:" in said and "2 pumps, 720 steps each from 2026-01-01 12:00:00" in said
    # a Gaussian samples fresh windows: no copies, and the holdout is named with its span
    assert "memorization: no copies" in said
    assert "holdout: 20% of the windows in 10 blocks spread over the whole span of 2026-01-01T00:00:00 to 2026-01-01T11:59:00" in said
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "A synthetic day of the fleet" in page and "from 2026-01-01 12:00:00 to 2026-01-01 23:59:00" in page
    assert "Memorization verdict" in page and "no copies" in page and "10 blocks spread over the whole span" in page
    day = json.loads((tmp_path / "synthetic_day.json").read_text(encoding="utf-8"))
    assert set(day["synthetic"]["assets"]) == {"S-1", "S-2"} and set(day["real"]["assets"]) == {"P-1", "P-2"}
    assert (tmp_path / "synthetic_day.csv").read_text().splitlines()[0].split(",")[:4] == ["ts", "asset", "signal", "value"]
