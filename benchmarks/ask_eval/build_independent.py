"""Expected answers for `independent.jsonl`, the third half of the `geniot ask` evaluation set.

The questions were written by someone who saw only `SCHEMA.md` and the store's tables, never the
router, its examples or the other halves. This script rebuilds the plant SCHEMA.md describes
(`simulate_plant(PlantConfig(n_assets=4, days=7, seed=0, start="2026-01-05T00:00:00"))` stored in
a temporary DuckDB file, then `scan_history` for the anomaly events), computes every expected
value with plain SQL on that file and writes it back into the same JSON lines. `scan_history`
runs with its default, each pump's detector trained on all of its history, as
`geniot.workflows.demo` does; SCHEMA.md says "trained on the first day", which `--normal-days 1`
gives and which flags far more events (91 against 6). It never imports
`geniot.ask`: the answerer is what is being checked.

    .venv/bin/python benchmarks/ask_eval/build_independent.py          # rewrite the file
    .venv/bin/python benchmarks/ask_eval/build_independent.py --check  # exit 1 if out of date

Fields beyond SCHEMA.md:
- `"expect": "ask_back"`: the question's time phrase cannot be read ("since the last maintenance
  stop", "February 30th") or lies outside the data ("March 2025", "last week", "KW 3"). The right
  answer says it cannot read or answer that time and gives no number. Its `slots.range` is the
  literal reading of the phrase where it has one (checked here to hold no reading and no event),
  else `null` (not to be compared: `null` does not mean "the whole range" here).
- `"expected"` (added by this script; SCHEMA.md does not name a key), per asset asked (`assets:
  null` = all four pumps):
  - stats: `{"values": {asset: statistic of the signal's stored readings in [start, end)},
    "readings": {asset: how many}}`; `std` is the sample standard deviation (ddof 1, as pandas),
    `median` the interpolated one (`quantile_cont`), values rounded to 6 decimals.
  - anomalies: `{"events": {asset: [{"id", "start", "end", "peak", "top_sensors"}, ...]},
    "count": {asset: n}}`: the stored events that overlap the range (an event's `end_ts` is its
    last flagged minute, so it overlaps [start, end) when `start_ts < end` and `end_ts >= start`).
  - ask_back with a literal range: `{"readings": {asset: 0}, "events": {asset: 0}}`; ask_back
    without one: `null`. Other intents carry no `expected`.
Action requests (shut down, setpoints, delete data, acknowledge alarms) are plain `out_of_scope`
rows with empty slots, as SCHEMA.md says.

Readings of time words used when writing the slots (the plant's clock, now = 2026-01-11T23:59,
a Sunday; SCHEMA.md's time words otherwise):
- Shifts: early 06:00-14:00, late 14:00-22:00, night 22:00-06:00 (Früh-, Spät-, Nachtschicht;
  the project default). "The night shift on Wednesday" starts on Wednesday at 22:00.
- A range whose end lies after the latest reading is written with a `null` end ("today", "this
  week", "on the weekend", "KW 2", "Sunday" = today).
- "Before Wednesday" starts at the first reading (2026-01-05T00:00): SCHEMA.md has no open start.
- "Earlier this week" = this week before today, [2026-01-05, 2026-01-11). "Two days ago" = the day
  before yesterday. "Last Thursday" = the latest Thursday (2026-01-08). "After Thursday" = from
  Friday 00:00. "On Friday until noon" = [Friday 00:00, 12:00).
- "Monday morning" / "Vormittag" = 06:00-12:00, afternoon 12:00-18:00, evening 18:00-24:00 (a
  past day's evening ends at midnight), "last night" = [20:00, 06:00).
- "1/9" (English) = January 9 (month/day); German "8.1." = 8 January of the plant's year.
- "KW n" = ISO calendar week n of 2026 (KW 2 = 2026-01-05 .. 2026-01-11).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import duckdb

from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.data.store import SensorStore
from geniot.workflows.history import scan_history

QUESTIONS = Path(__file__).with_name("independent.jsonl")
PLANT = PlantConfig(n_assets=4, days=7, seed=0, start="2026-01-05T00:00:00")
SIGNALS = ("speed_rpm", "motor_current_a", "flow_m3h", "pressure_bar", "vibration_rms_mms",
           "bearing_temp_c", "motor_temp_c", "ambient_temp_c")  # fmt: skip
STATISTICS = {"mean": "avg(value)", "max": "max(value)", "min": "min(value)",
              "std": "stddev_samp(value)", "median": "quantile_cont(value, 0.5)"}  # fmt: skip
SLOT_KEYS = {
    "stats": {"assets", "signal", "statistic", "range"},
    "anomalies": {"assets", "range"},
    "summary": {"assets", "signal", "range"},
    "impute": {"assets", "signal", "range"},
    "forecast": {"assets", "signal", "horizon_minutes"},
    "whatif": {"assets", "change"},
    "rul": {"assets"},
    "synthesize": {"assets", "count"},
    "overview": set(),  # plus "assets" when the question names a pump
    "out_of_scope": set(),
}
ISO = "%Y-%m-%dT%H:%M:%S"


class QuestionError(ValueError):
    """A question line that does not follow SCHEMA.md (names the line and the field)."""


def load(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionError(f"{path.name} line {n}: not JSON ({exc})") from exc
        row.pop("expected", None)
        rows.append(row)
    return rows


def parse_time(value, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, ISO)
    except (TypeError, ValueError) as exc:
        raise QuestionError(f"{where}: {value!r} is not YYYY-MM-DDTHH:MM:SS") from exc


def check_row(row: dict, n: int, assets: list[str]) -> None:
    """Raise QuestionError naming the row and field where a line leaves SCHEMA.md."""
    where = f"line {n} ({row.get('id')})"
    if row.get("id") != f"i{n:03d}":
        raise QuestionError(f"{where}: id should be i{n:03d}")
    if row.get("lang") not in ("en", "de") or not isinstance(row.get("q"), str) or not row["q"].strip():
        raise QuestionError(f"{where}: lang must be en|de and q a non-empty text")
    intent, slots = row.get("intent"), row.get("slots")
    if intent not in SLOT_KEYS or not isinstance(slots, dict):
        raise QuestionError(f"{where}: unknown intent {intent!r} or slots not an object")
    allowed = SLOT_KEYS[intent] | ({"assets"} if intent == "overview" else set())
    if set(slots) - allowed or (intent != "overview" and set(slots) != SLOT_KEYS[intent]):
        raise QuestionError(f"{where}: slots {sorted(slots)} for {intent}, expected {sorted(SLOT_KEYS[intent])}")
    if row.get("expect", "ask_back") != "ask_back" or ("expect" in row and "range" not in slots):
        raise QuestionError(f"{where}: expect must be 'ask_back' and only on a question with a range")
    if slots.get("assets") is not None and (not slots["assets"] or set(slots["assets"]) - set(assets)):
        raise QuestionError(f"{where}: assets {slots['assets']} not among {assets}")
    if "signal" in slots and slots["signal"] is not None and slots["signal"] not in SIGNALS:
        raise QuestionError(f"{where}: unknown signal {slots['signal']!r}")
    if intent == "stats" and (slots["signal"] is None or slots["statistic"] not in STATISTICS):
        raise QuestionError(f"{where}: stats needs a signal and one of {sorted(STATISTICS)}")
    if intent == "whatif":
        change = slots["change"]
        if not isinstance(change, dict) or change.get("control") != "speed_rpm" or len(change) != 2 or \
                not ({"percent", "value"} & set(change)):  # fmt: skip
            raise QuestionError(f"{where}: change must be {{control: speed_rpm, percent|value: n}}")
    if "range" in slots and slots["range"] is not None:
        rng = slots["range"]
        if not isinstance(rng, list) or len(rng) != 2:
            raise QuestionError(f"{where}: range must be [start, end]")
        start, end = parse_time(rng[0], f"{where} range start"), parse_time(rng[1], f"{where} range end")
        if start is None or (end is not None and end <= start):
            raise QuestionError(f"{where}: range {rng} must have a start before its end")


def build_store(directory: Path, normal_days: float | None = None) -> Path:
    """The plant SCHEMA.md describes, in a DuckDB file under ``directory``."""
    path = directory / "plant.duckdb"
    plant = simulate_plant(PLANT)
    with SensorStore(path) as store:
        store.append(plant.readings)
        counts = scan_history(store, directory / "models", normal_days=normal_days)
    print(f"plant: {path} ({len(plant.readings)} readings; events {counts})", file=sys.stderr)
    return path


def _window(rng: list | None, first: str = "ts", last: str = "ts") -> tuple[str, list]:
    """SQL condition and parameters for [start, end); ``first``/``last`` name the row's own span."""
    if rng is None:
        return "TRUE", []
    sql, params = f"{last} >= ?", [parse_time(rng[0], "range")]
    if rng[1] is not None:
        sql, params = sql + f" AND {first} < ?", params + [parse_time(rng[1], "range")]
    return sql, params


def stats(con, assets: list[str], signal: str, statistic: str, rng: list | None) -> dict:
    cond, params = _window(rng)
    values, readings = {}, {}
    for asset in assets:
        value, n = con.execute(
            f"SELECT {STATISTICS[statistic]}, count(value) FROM readings WHERE asset = ? AND signal = ? AND {cond}",
            [asset, signal, *params],
        ).fetchone()
        values[asset] = None if value is None else round(float(value), 6)
        readings[asset] = int(n)
    return {"values": values, "readings": readings}


def events(con, assets: list[str], rng: list | None) -> dict:
    cond, params = _window(rng, first="start_ts", last="end_ts")
    found = {}
    for asset in assets:
        rows = con.execute(
            f"SELECT id, start_ts, end_ts, peak_ts, top_sensors FROM events WHERE asset = ? AND {cond} ORDER BY start_ts",
            [asset, *params],
        ).fetchall()
        found[asset] = [
            {"id": i, "start": s.strftime(ISO), "end": e.strftime(ISO), "peak": p.strftime(ISO), "top_sensors": t}
            for i, s, e, p, t in rows
        ]
    return {"events": found, "count": {a: len(v) for a, v in found.items()}}


def expected(con, row: dict, all_assets: list[str]) -> tuple[bool, dict | None]:
    """(has an expected value, the value) for one question; raises when data contradict it."""
    slots, intent, where = row["slots"], row["intent"], row["id"]
    if intent not in ("stats", "anomalies") and "expect" not in row:
        return False, None
    assets = slots["assets"] or all_assets
    rng = slots["range"]
    if row.get("expect") == "ask_back":
        if rng is None:
            return True, None
        cond, params = _window(rng)
        seen = {a: con.execute(f"SELECT count(*) FROM readings WHERE asset = ? AND {cond}", [a, *params]).fetchone()[0]
                for a in assets}  # fmt: skip
        hits = events(con, assets, rng)["count"]
        if any(seen.values()) or any(hits.values()):
            raise QuestionError(f"{where}: marked ask_back but its range {rng} holds data ({seen}, events {hits})")
        return True, {"readings": seen, "events": hits}
    if intent == "stats":
        value = stats(con, assets, slots["signal"], slots["statistic"], rng)
        empty = [a for a, n in value["readings"].items() if n == 0]
        if empty:
            raise QuestionError(f"{where}: no {slots['signal']} reading of {empty} in {rng}; mark it ask_back or fix it")
        return True, value
    return True, events(con, assets, rng)


def summarize(rows: list[dict]) -> str:
    by_intent: dict[str, int] = {}
    for row in rows:
        by_intent[row["intent"]] = by_intent.get(row["intent"], 0) + 1
    german = sum(row["lang"] == "de" for row in rows)
    ask_back = sum(row.get("expect") == "ask_back" for row in rows)
    return f"{len(rows)} questions, {german} German, {ask_back} ask_back; per intent {dict(sorted(by_intent.items()))}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=QUESTIONS, help="question file (JSON lines)")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if out of date")
    parser.add_argument("--normal-days", type=float, default=None,
                        help="train the detectors on the first N days (default: all history, as the demo)")  # fmt: skip
    args = parser.parse_args(argv)

    before = args.file.read_text(encoding="utf-8")
    rows = load(args.file)
    all_assets = [f"{PLANT.asset_prefix}{i}" for i in range(1, PLANT.n_assets + 1)]
    for n, row in enumerate(rows, 1):  # every line checked before the plant is built
        check_row(row, n, all_assets)
    with tempfile.TemporaryDirectory(prefix="geniot-askeval-") as tmp:
        store_path = build_store(Path(tmp), args.normal_days)
        con = duckdb.connect(str(store_path), read_only=True)
        try:
            stored = [a for (a,) in con.execute("SELECT DISTINCT asset FROM readings ORDER BY asset").fetchall()]
            if stored != all_assets:
                raise QuestionError(f"the store holds {stored}, not the plant's {all_assets}")
            for row in rows:
                has, value = expected(con, row, all_assets)
                if has:
                    row["expected"] = value
        finally:
            con.close()
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    print(summarize(rows), file=sys.stderr)
    if args.check:
        if text != before:
            print(f"{args.file} is out of date: run without --check", file=sys.stderr)
            return 1
        print(f"{args.file} is up to date", file=sys.stderr)
        return 0
    args.file.write_text(text, encoding="utf-8")
    print(f"wrote {args.file}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
