"""geniot ask on its evaluation set: tool-call and slot accuracy, answer accuracy, out-of-scope
rejection and latency, on the development and held-out halves.

    python benchmarks/ask.py                    # both halves; results to benchmarks/results/ask.jsonl
    python benchmarks/ask.py --halves independent   # any half: benchmarks/ask_eval/<half>.jsonl
    python benchmarks/ask.py --write-expected   # (re)compute the expected answer values into the files

The plant is the seeded simulation of benchmarks/ask_eval/SCHEMA.md, stored in DuckDB with a
detector scan. Expected answer values are computed here with pandas (readings) and plain SQL
(events), not through geniot.ask, from the expected slots.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import torch

from geniot.ask import PlantAssistant, PlantView
from geniot.ask.evalset import EVAL_PLANT, INTENT_SLOTS, load_questions, slot_errors
from geniot.ask.router import OUT_OF_SCOPE
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.data.store import SensorStore
from geniot.workflows.history import scan_history

HERE = Path(__file__).parent
EVAL = HERE / "ask_eval"
ASSETS = [f"P-{i}" for i in range(1, EVAL_PLANT["n_assets"] + 1)]
VALUE_INTENTS = ("stats", "anomalies", "summary", "overview", "impute", "synthesize")


def _window(frame: pd.DataFrame, rng, column="ts") -> pd.DataFrame:
    if rng is None:
        return frame
    start, end = rng
    if start is not None:
        frame = frame[frame[column] >= pd.Timestamp(start)]
    if end is not None:
        frame = frame[frame[column] < pd.Timestamp(end)]
    return frame


def expected_values(q: dict, plant, store_path: Path) -> dict | None:
    """What a right answer holds, from the expected slots."""
    s, intent = q["slots"], q["intent"]
    assets = s.get("assets") or ASSETS
    r = plant.readings
    if intent == "stats":
        agg = {"mean": "mean", "max": "max", "min": "min", "std": "std", "median": "median"}[s["statistic"]]
        rows = _window(r[r.signal == s["signal"]], s["range"])
        return {a: float(getattr(rows[rows.asset == a]["value"], agg)()) for a in assets}
    if intent == "anomalies":
        con = duckdb.connect(str(store_path), read_only=True)
        sql, params = "SELECT asset FROM events WHERE list_contains(?, asset)", [assets]
        if s["range"] is not None and s["range"][0] is not None:
            sql, params = sql + " AND end_ts >= ?", [*params, datetime.fromisoformat(s["range"][0])]
        if s["range"] is not None and s["range"][1] is not None:
            sql, params = sql + " AND start_ts < ?", [*params, datetime.fromisoformat(s["range"][1])]
        rows = [a for (a,) in con.execute(sql, params).fetchall()]
        con.close()
        return {"assets": sorted(set(rows)), "n_events": len(rows)}
    if intent == "summary":
        rows = _window(r, s["range"])
        if s.get("signal"):
            rows = rows[rows.signal == s["signal"]]
        return {a: int((rows.asset == a).sum()) for a in assets}
    if intent == "overview":
        return {"assets": assets}
    if intent == "impute":
        out = {}
        for a in assets:
            wide = plant.wide(a)
            last = r[r.asset == a]["ts"].max()
            wide = _window(wide[wide["timestamp"] <= last], s["range"], "timestamp")
            cols = [s["signal"]] if s.get("signal") else [c for c in wide.columns if c != "timestamp"]
            out[a] = int(wide[cols].isna().to_numpy().sum())
        return out
    if intent == "synthesize":
        return {a: int(s.get("count") or 100) for a in assets}
    return None


def wanted(q: dict):
    """The expected answer of a question: ``expect`` (dev/held-out, written by --write-expected),
    or the independent half's own plain-SQL ``expected`` (build_independent.py) in the same form;
    ``"ask_back"`` where the only right answer is to say the time cannot be read or answered."""
    if "expect" in q:
        return q["expect"]
    exp = q.get("expected")
    if not isinstance(exp, dict):
        return exp
    if q["intent"] == "stats" and "values" in exp:
        return {a: (None if v is None else float(v)) for a, v in exp["values"].items()}
    if q["intent"] == "anomalies" and "count" in exp:
        return {"assets": sorted(a for a, n in exp["count"].items() if n), "n_events": int(sum(exp["count"].values()))}
    return None


def got_values(intent: str, values: dict) -> dict | None:
    if intent == "stats":
        return values["values"]
    if intent == "anomalies":
        return {"assets": sorted(values["assets"]), "n_events": values["n_events"]}
    if intent == "summary":
        return {a: v["readings"] for a, v in values["assets"].items()}
    if intent == "overview":
        return {"assets": values["assets"]}
    if intent == "impute":
        return {a: v["filled"] for a, v in values["assets"].items()}
    if intent == "synthesize":
        return {a: v["windows"] for a, v in values["assets"].items()}
    return None


def _close(want, got) -> bool:
    if isinstance(want, dict):
        return isinstance(got, dict) and want.keys() == got.keys() and all(_close(v, got[k]) for k, v in want.items())
    if isinstance(want, float):
        return got is not None and abs(want - got) <= 1e-6 * max(1.0, abs(want))
    return want == got


def _verdict(ans, q: dict) -> str:
    """"right", "refused" (asked back or refused: no number given) or "wrong" (a tool answered
    another question: other intent or slots, or other values)."""
    if ans.refused:
        return "refused"
    if ans.intent != q["intent"] or slot_errors(q, ans.intent, ans.slots):
        return "wrong"
    want = wanted(q)
    if ans.intent in VALUE_INTENTS and want is not None and not _close(want, got_values(ans.intent, ans.values)):
        return "wrong"
    return "right"


def run_half(assistant: PlantAssistant, questions: list[dict], answer: bool) -> dict:
    inscope = [q for q in questions if q["intent"] != OUT_OF_SCOPE]
    oos = [q for q in questions if q["intent"] == OUT_OF_SCOPE]
    plan_ms, ok_intent, ok_call, failures = [], 0, 0, []
    answer_ms: dict[str, list[float]] = {}
    answer_ok, answer_n = 0, 0
    safe = wrong_numbers = 0  # every in-scope question answered: right, or said it could not (never a wrong number)
    for q in inscope:
        t = time.perf_counter()
        intent, slots, _ = assistant.plan(q["q"])
        plan_ms.append((time.perf_counter() - t) * 1000)
        asked = assistant.ask(q["q"]) if answer else None
        if asked is not None:
            verdict = _verdict(asked, q)
            safe += verdict != "wrong"
            if verdict == "wrong":
                wrong_numbers += 1
                failures.append({"id": q["id"], "q": q["q"], "why": "WRONG ANSWER GIVEN (not refused)"})
        if intent != q["intent"]:
            failures.append({"id": q["id"], "q": q["q"], "why": f"intent {intent} (expected {q['intent']})"})
            continue
        ok_intent += 1
        errors = slot_errors(q, intent, slots.as_dict())
        if errors:
            failures.append({"id": q["id"], "q": q["q"], "why": "; ".join(errors)})
            continue
        ok_call += 1
        if answer:
            ans = asked
            answer_ms.setdefault(intent, []).append(ans.latency_ms)
            want = wanted(q)
            if intent in VALUE_INTENTS and want is not None:
                answer_n += 1
                good = not ans.refused and _close(want, got_values(intent, ans.values))
                answer_ok += good
                if not good:
                    failures.append({"id": q["id"], "q": q["q"], "why": f"answer {got_values(intent, ans.values) if not ans.refused else ans.text} != {want}"})
            elif ans.refused:
                failures.append({"id": q["id"], "q": q["q"], "why": f"refused: {ans.text}"})
    rejected = refused_in_the_end = 0
    for q in oos:
        t = time.perf_counter()
        intent, _, _ = assistant.plan(q["q"])
        plan_ms.append((time.perf_counter() - t) * 1000)
        if intent == OUT_OF_SCOPE:
            rejected += 1
            refused_in_the_end += 1
            continue
        # routed to a tool: does the answer still refuse (no signal, unknown asset...) or give numbers?
        final = assistant.ask(q["q"]) if answer else None
        refused_in_the_end += bool(final is not None and final.refused)
        verdict = "refused later" if final is not None and final.refused else "ANSWERED"
        failures.append({"id": q["id"], "q": q["q"], "why": f"out of scope routed to {intent} ({verdict})"})
    slot_ok = ok_call / ok_intent if ok_intent else float("nan")
    return {
        "n_in_scope": len(inscope), "n_out_of_scope": len(oos),
        "tool_accuracy": ok_intent / len(inscope), "call_accuracy": ok_call / len(inscope), "slot_accuracy_given_tool": slot_ok,
        "rejection_rate": rejected / len(oos) if oos else float("nan"),
        "refused_in_the_end_rate": refused_in_the_end / len(oos) if oos and answer else None,
        "false_rejections": sum(1 for f in failures if f["why"].startswith("intent out_of_scope")),
        "answer_accuracy": answer_ok / answer_n if answer_n else None, "answers_checked": answer_n,
        "right_or_refused_rate": safe / len(inscope) if answer and inscope else None, "wrong_answers": wrong_numbers if answer else None,
        "route_ms_p50": float(np.percentile(plan_ms, 50)), "route_ms_p95": float(np.percentile(plan_ms, 95)),
        "answer_ms_p95_by_intent": {k: float(np.percentile(v, 95)) for k, v in answer_ms.items()},
        "answer_ms_p95_all": float(np.percentile([x for v in answer_ms.values() for x in v], 95)) if answer_ms else None,
        "failures": failures,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--halves", nargs="+", default=["dev", "heldout"])
    ap.add_argument("--no-answers", action="store_true", help="routing and slots only (no tools run)")
    ap.add_argument("--write-expected", action="store_true", help="compute expected answer values into the files")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "ask.jsonl")
    ap.add_argument("--note", default="", help="stored with the results (e.g. what changed since the last run)")
    args = ap.parse_args()
    torch.set_num_threads(1)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        plant = simulate_plant(PlantConfig(**EVAL_PLANT))
        store_path = tmp / "plant.duckdb"
        t = time.perf_counter()
        with SensorStore(store_path) as store:
            store.append(plant.readings)
            events = scan_history(store, tmp / "models")
        print(f"plant: {len(plant.readings):,} readings, events {events} ({time.perf_counter() - t:.0f} s)")
        if args.write_expected:
            for half in args.halves:
                path = EVAL / f"{half}.jsonl"
                rows = load_questions(path)
                for q in rows:
                    if q["intent"] in VALUE_INTENTS:
                        q["slots"] = {k: q["slots"].get(k) for k in INTENT_SLOTS[q["intent"]]}
                        q["expect"] = expected_values(q, plant, store_path)
                path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in rows), encoding="utf-8")
                print(f"{path}: expected values for {sum('expect' in q for q in rows)} questions")
            return
        with SensorStore(store_path, read_only=True) as store:
            t = time.perf_counter()
            assistant = PlantAssistant(PlantView(store, models_dir=tmp / "models", out_dir=tmp / "answers"))
            load_s = time.perf_counter() - t
            for q in ("warm up", "average flow of P-1 today", "which assets had anomalies yesterday?"):
                assistant.ask(q)
            for half in args.halves:
                questions = load_questions(EVAL / f"{half}.jsonl")
                res = run_half(assistant, questions, answer=not args.no_answers)
                counts = Counter(q["intent"] for q in questions)
                record = {"benchmark": "ask", "half": half, "load_s": load_s, "intents": dict(counts), **res,
                          "date": time.strftime("%Y-%m-%d"), "torch_threads": 1, "note": args.note}  # fmt: skip
                args.out.parent.mkdir(parents=True, exist_ok=True)
                with args.out.open("a") as f:
                    f.write(json.dumps(record) + "\n")
                print(f"\n== {half}: tool {res['tool_accuracy']:.1%}  tool+slots {res['call_accuracy']:.1%}  "
                      f"slots|tool {res['slot_accuracy_given_tool']:.1%}  out-of-scope rejected {res['rejection_rate']:.1%} "
                      f"(no number given: {res['refused_in_the_end_rate']})  "
                      f"answers {res['answer_accuracy']} ({res['answers_checked']} checked)  "
                      f"right or refused {res['right_or_refused_rate']} (wrong answers: {res['wrong_answers']})  "
                      f"route p95 {res['route_ms_p95']:.1f} ms  answer p95 {res['answer_ms_p95_all']} ms")  # fmt: skip
                print("   answer p95 by intent (ms):", {k: round(v) for k, v in res["answer_ms_p95_by_intent"].items()})
                for f in res["failures"]:
                    print(f"   {f['id']}: {f['q']!r}: {f['why']}")


if __name__ == "__main__":
    main()
