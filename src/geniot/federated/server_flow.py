"""What the server does in one federation, over a Flower ``Grid`` (simulation or real SuperLink).

1. setup: wait for ``min_sites`` sites, ask each for its channels and window counts, check they
   agree, pool the per-channel min/max (the torch models' scaling);
2. fit: the Gaussian baseline in two exact passes of summed statistics; a torch generator in
   ``rounds`` rounds of Flower's FedAvg or FedProx, each round followed by a pooled calibration
   and a federated evaluation (loss on held-out normal windows; F1/FAR/MAR where sites have labels);
3. calibrate the final model (pooled POT threshold, sensor attribution) and save it as a normal
   geniot model folder with ``detector.json`` (usable by ``geniot detect`` and ``geniot sample``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from geniot.core.exceptions import GeniotError
from geniot.core.record import TrainingRecord
from geniot.federated import gaussian_stats as gstats
from geniot.federated.calibration import (
    assemble_detector,
    pooled_channel_stats,
    pooled_threshold,
    tail_size,
)
from geniot.federated.payload import ARRAY_PREFIX, generator_from_payload, weights_to_arrays
from geniot.federated.plan import FederatedPlan
from geniot.federated.records import config_record, flwr_app, from_array_record, to_array_record
from geniot.federated.strategies import make_strategy
from geniot.federated.tallies import summed_counts
from geniot.models.registry import generator_class

Progress = Callable[[dict], None]
RESULT_FILE = "federation.json"


class FederationError(GeniotError):
    """A federation could not run: too few sites, a site failed, or sites disagree."""


@dataclass
class FederatedOutcome:
    plan: FederatedPlan
    sites: list[dict] = field(default_factory=list)
    rounds: list[dict] = field(default_factory=list)
    final: dict = field(default_factory=dict)
    model: Any = None  # AnomalyDetector, or the generator when it has no likelihood
    out: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "plan": json.loads(self.plan.to_json()), "sites": self.sites, "rounds": self.rounds,
            "final": self.final, "out": self.out, "seconds": round(self.seconds, 2),
        }  # fmt: skip


# ------------------------------------------------------------------------------ messaging
def wait_for_nodes(grid, n: int, timeout_s: float) -> list[int]:
    started = time.monotonic()
    while True:
        nodes = sorted(grid.get_node_ids())
        if len(nodes) >= n:
            return nodes
        if time.monotonic() - started > timeout_s:
            raise FederationError(f"only {len(nodes)} of {n} sites connected within {timeout_s:.0f} s")
        time.sleep(0.5)


def ask(grid, nodes: list[int], message_type: str, config, arrays: dict | None = None, *, timeout_s: float) -> list:
    """Send one message to every node and return the reply contents (an error names the site's)."""
    app = flwr_app()
    content = {"config": config}
    if arrays is not None:
        content["arrays"] = to_array_record(arrays)
    messages = [app.Message(app.RecordDict(dict(content)), dst_node_id=n, message_type=message_type) for n in nodes]
    replies = list(grid.send_and_receive(messages, timeout=timeout_s))
    failed = [r for r in replies if r.has_error()]
    if failed:
        raise FederationError(f"{len(failed)} site(s) failed at {message_type}: {failed[0].error.reason}")
    if len(replies) < len(nodes):
        raise FederationError(f"{len(nodes) - len(replies)} site(s) did not answer {message_type} within {timeout_s:.0f} s")
    return [r.content for r in replies]


def _metric(content, key: str) -> float:
    return float(content["metrics"][key])


# ------------------------------------------------------------------------------ the federation
class Federation:
    def __init__(self, grid, plan: FederatedPlan, progress: Progress | None = None) -> None:
        self.grid, self.plan, self.progress = grid, plan, progress
        self.final_calibration: dict | None = None  # the last round's, with sensor attribution
        self.outcome = FederatedOutcome(plan)

    def emit(self, event: dict) -> None:
        if self.progress is not None:
            self.progress(event)

    # -------------------------------------------------------------- setup
    def setup(self) -> None:
        plan = self.plan
        self.nodes = wait_for_nodes(self.grid, plan.min_sites, plan.timeout_s)
        replies = ask(self.grid, self.nodes, "query.setup", config_record(plan), timeout_s=plan.timeout_s)
        channels = [list(r["config"]["channels"]) for r in replies]
        for other in channels[1:]:
            if sorted(other) != sorted(channels[0]):
                raise FederationError(f"sites disagree on channels: {channels[0]} vs {other}")
        self.channels = channels[0]
        stats = [from_array_record(r["arrays"]) for r in replies]
        self.moments = gstats.sum_stats([{k: s[k] for k in ("n_windows", "count", "total")} for s in stats])
        lo = np.min([s["min"] for s in stats], axis=0)
        hi = np.max([s["max"] for s in stats], axis=0)
        self.data_min, self.data_scale = lo, np.where(hi - lo > 0, hi - lo, 1.0)
        self.n_calibration = int(sum(_metric(r, "n-calibration") for r in replies))
        self.n_test = int(sum(_metric(r, "n-test") for r in replies))
        self.outcome.sites = [
            {"site": str(r["config"]["site"]), "windows": int(_metric(r, "num-examples")),
             "series": int(_metric(r, "n-series")), "calibration_windows": int(_metric(r, "n-calibration")),
             "test_rows": int(_metric(r, "n-test"))}
            for r in replies
        ]  # fmt: skip
        self.emit({"phase": "setup", "sites": self.outcome.sites, "channels": self.channels})
        self.config = lambda **kv: config_record(plan, channels=self.channels, **kv)

    # -------------------------------------------------------------- calibration and evaluation
    def calibrate(self, arrays: dict, model_state: dict, *, attribution: bool) -> dict:
        plan = self.plan
        k = tail_size(self.n_calibration, plan.threshold, level=plan.level, quantile=plan.quantile)
        config = self.config(model_state=model_state, tail_k=k, attribution=attribution)
        replies = ask(self.grid, self.nodes, "query.calibrate", config, arrays, timeout_s=plan.timeout_s)
        parts = [from_array_record(r["arrays"]) for r in replies]
        counts = np.array([_metric(r, "num-examples") for r in replies])
        n_total = int(counts.sum())
        threshold = pooled_threshold(
            [p["tail"] for p in parts], n_total, plan.threshold, risk=plan.risk, level=plan.level, quantile=plan.quantile
        )
        losses = np.array([_metric(r, "loss") for r in replies])
        out = {"threshold": threshold, "n": n_total, "loss": float(np.sum(counts * losses) / max(n_total, 1))}
        if attribution:
            summaries = [{k[3:]: v for k, v in p.items() if k.startswith("ch.")} for p in parts if "ch.n" in p]
            out["center"], out["scale"] = pooled_channel_stats(summaries)
        return out

    def evaluate_config(self, model_state: dict, threshold) -> Any:
        return self.config(model_state=model_state, threshold_value=float(threshold.value), threshold_rule=threshold.rule)

    def evaluate(self, arrays: dict, model_state: dict, threshold) -> dict:
        replies = ask(self.grid, self.nodes, "evaluate", self.evaluate_config(model_state, threshold), arrays, timeout_s=self.plan.timeout_s)
        return summed_counts([r["metrics"] for r in replies])

    # -------------------------------------------------------------- fits
    def fit_gaussian(self) -> tuple[dict, dict]:
        plan = self.plan
        c = len(self.channels)
        mean = gstats.pooled_mean(self.moments, c)
        replies = ask(self.grid, self.nodes, "query.centred", self.config(), {"mean": mean}, timeout_s=plan.timeout_s)
        centred = gstats.sum_stats([from_array_record(r["arrays"]) for r in replies])
        state, fitted = gstats.gaussian_state(
            self.moments, centred, n_channels=c,
            shrinkage=plan.params.get("shrinkage"), min_variance=plan.params.get("min_variance", 1e-4),
        )  # fmt: skip
        arrays = {ARRAY_PREFIX + k: v for k, v in fitted.items()}
        cal = self.final_calibration = self.calibrate(arrays, state, attribution=True)
        record = {"round": 1, "rounds": 1, "loss": cal["loss"], "threshold": cal["threshold"].value}
        if self.n_test:
            record.update(self.evaluate(arrays, state, cal["threshold"]))
        self.outcome.rounds.append(record)
        self.emit({"phase": "round", **record})
        return arrays, state

    def fit_torch(self) -> tuple[dict, dict]:
        from geniot.nn.rng import seeded

        plan = self.plan
        gen = generator_class(plan.model)(**plan.params)
        with seeded(int(plan.seed)):
            module = gen._build_module(plan.window, len(self.channels), 0)
        initial = weights_to_arrays(module.state_dict())
        strategy = make_strategy(self)
        train_config = self.config(data_min=self.data_min, data_scale=self.data_scale)
        result = strategy.start(
            grid=self.grid,
            initial_arrays=to_array_record(initial),
            num_rounds=int(plan.rounds),
            timeout=float(plan.timeout_s),
            train_config=train_config,
            evaluate_config=self.config(),
        )
        if result.arrays is None:
            raise FederationError("no round of training succeeded")
        return from_array_record(result.arrays), strategy.model_state

    def on_round(self, server_round: int, train: dict, calibration: dict | None, evaluation: dict | None) -> None:
        record = {"round": server_round, "rounds": int(self.plan.rounds), **train}
        if calibration is not None:  # held-out loss under the global model, and its threshold
            record.update(loss=calibration["loss"], threshold=calibration["threshold"].value)
        else:  # no likelihood: the sites' validation loss of their local models
            record["loss"] = train.get("val_loss", float("nan"))
        if evaluation:
            record.update(evaluation)
        self.outcome.rounds.append(record)
        self.emit({"phase": "round", **record})

    # -------------------------------------------------------------- the whole run
    def run(self) -> FederatedOutcome:
        started = time.monotonic()
        plan = self.plan
        self.setup()
        arrays, model_state = self.fit_gaussian() if plan.is_exact else self.fit_torch()
        federation = {"sites": len(self.nodes), "strategy": "exact sufficient statistics" if plan.is_exact else plan.strategy,
                      "rounds": 1 if plan.is_exact else plan.rounds}  # fmt: skip
        if plan.normalize == "series":
            federation["input_normalization"] = "each series standardised by the mean and std of its own normal rows"
        record = TrainingRecord(window=plan.window, seed=int(plan.seed), federation=federation)
        history = [{"epoch": r["round"], "val_loss": r.get("loss"), **({"train_loss": r["train_loss"]} if "train_loss" in r else {})} for r in self.outcome.rounds]
        state = {**model_state, "n_channels_": len(self.channels), "n_steps_": plan.window, "history_": history,
                 "channel_names_": list(self.channels), "training_": record.to_json()}
        generator = generator_from_payload(plan.model, plan.params, arrays, state)
        model: Any = generator
        if generator.tags.likelihood != "none":
            cal = self.final_calibration or self.calibrate(arrays, model_state, attribution=True)
            model = assemble_detector(
                generator, plan, cal["threshold"], channel_center=cal.get("center"),
                channel_scale=cal.get("scale"), n_calibration_windows=cal["n"],
            )  # fmt: skip
            self.outcome.final = {"threshold": cal["threshold"].value, "threshold_rule": cal["threshold"].rule, "loss": cal["loss"]}
            if self.outcome.rounds and "f1" in self.outcome.rounds[-1]:
                self.outcome.final.update({k: self.outcome.rounds[-1][k] for k in ("f1", "far", "mar", "tp", "fp", "fn", "tn")})
        self.outcome.model = model
        self.outcome.seconds = time.monotonic() - started
        if plan.out:
            out = Path(plan.out)
            model.save(out)
            self.outcome.out = str(out)
            (out / RESULT_FILE).write_text(json.dumps(self.outcome.to_dict(), indent=2))
        self.emit({"phase": "done", **self.outcome.final, "out": self.outcome.out})
        self.tell_sites_done()
        return self.outcome

    def tell_sites_done(self) -> None:
        """Tell every site the run is over (with the final figures), so `geniot fl join` can stop
        its SuperNode and exit; a site that has already left does not fail the run."""
        summary = json.dumps({"final": self.outcome.final, "out": self.outcome.out, "sites": len(self.nodes)})
        try:
            ask(self.grid, self.nodes, "query.done", flwr_app().ConfigRecord({"summary": summary}), timeout_s=30.0)
        except Exception as exc:  # noqa: BLE001 - the model is saved; say it and go on
            self.emit({"phase": "warning", "message": f"not every site heard that the run is over: {exc}"})
