"""The Flower ClientApp: everything a site does, on its own data, answering the server's messages.

Messages (``message_type``) and what goes back — never a window, only sums, weights and scores:

* ``query.setup``: channel names, window counts, per-position counts and sums (Gaussian pass 1),
  per-channel min and max (the torch models' shared scaling);
* ``query.centred``: centred cross-products, pair counts and fourth moments (Gaussian pass 2);
* ``train``: one round of local training from the global weights (FedAvg / FedProx, optional DP);
  the local weights and fitted arrays, weighted by the site's window count;
* ``query.calibrate``: the largest anomaly scores of the site's calibration windows under the global
  model (for the pooled threshold), a summary of each sensor's surprise, and the held-out loss;
* ``evaluate``: flag counts (TP, FP, FN, TN) of the calibrated global detector on the site's
  labelled test rows, and the held-out loss;
* ``query.done``: the run is over (with its final figures); nothing goes back.

The site is ``node_config["site"]`` (a path on the SuperNode's machine, ``geniot fl join --site``)
or, in the simulation, the ``partition-id``-th of the sites the simulation was given.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from geniot.core.record import TrainingRecord
from geniot.federated import gaussian_stats as gstats
from geniot.federated.calibration import assemble_detector, channel_summary, site_tail
from geniot.federated.payload import (
    arrays_to_weights,
    generator_from_payload,
    generator_payload,
    model_state,
)
from geniot.federated.plan import FederatedPlan
from geniot.federated.records import (
    config_record,
    flwr_app,
    from_array_record,
    plan_from,
    to_array_record,
)
from geniot.federated.sites import SiteData, load_site
from geniot.metrics import detection_counts
from geniot.models.registry import generator_class
from geniot.tasks.detector import anomaly_scores
from geniot.tasks.thresholds import Threshold

_MAX_ATTRIBUTION_WINDOWS = 2000
DONE_FILE_ENV = "GENIOT_FL_DONE_FILE"  # set by `geniot fl join`: where the run's summary goes
_CACHE: dict[tuple, SiteData] = {}


def site_data(spec: str, plan: FederatedPlan) -> SiteData:
    """The site's data, read once per process and plan settings."""
    key = (spec, plan.window, plan.stride, plan.train_rows, plan.calibration_fraction, plan.normalize)
    if key not in _CACHE:
        if len(_CACHE) >= 8:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = load_site(
            spec, window=plan.window, stride=plan.stride, train_rows=plan.train_rows,
            calibration_fraction=plan.calibration_fraction, normalize=plan.normalize,
        )  # fmt: skip
    return _CACHE[key]


# ---------------------------------------------------------------------------------- handlers
def handle_setup(data: SiteData, plan: FederatedPlan):
    app = flwr_app()
    fit = data.fit_windows()
    arrays = gstats.moment_stats(fit)
    arrays["min"] = np.nanmin(fit, axis=(0, 1))
    arrays["max"] = np.nanmax(fit, axis=(0, 1))
    n_cal = sum(len(w) for w in data.calibration_windows())
    n_test = sum(len(s.values) - s.normal_rows for s in data.series if s.has_test_labels)
    metrics = {"num-examples": float(len(fit)), "n-series": float(len(data.series)), "n-calibration": float(n_cal), "n-test": float(n_test)}
    config = {"channels": list(data.channels), "site": Path(data.source).name}
    return app.RecordDict({"arrays": to_array_record(arrays), "metrics": app.MetricRecord(metrics), "config": app.ConfigRecord(config)})


def handle_centred(data: SiteData, arrays: dict[str, np.ndarray]):
    app = flwr_app()
    fit = data.fit_windows()
    stats = gstats.centred_stats(fit, arrays["mean"])
    return app.RecordDict({"arrays": to_array_record(stats), "metrics": app.MetricRecord({"num-examples": float(len(fit))})})


def handle_train(data: SiteData, plan: FederatedPlan, arrays: dict[str, np.ndarray], config, site_number: int):
    from geniot.federated.local_training import check_trainable, train_locally

    app = flwr_app()
    template = generator_class(plan.model)(**plan.params)
    check_trainable(template, plan.strategy)
    server_round = int(config.get("server-round", 1))
    mu = float(config.get("proximal-mu", 0.0))
    update = train_locally(
        template,
        data.fit_windows(),
        global_weights=arrays_to_weights(arrays),
        data_min=np.asarray(config["data_min"], dtype=np.float64),
        data_scale=np.asarray(config["data_scale"], dtype=np.float64),
        epochs=plan.local_epochs,
        seed=int(plan.seed) + 1000 * server_round + site_number % 997,
        proximal_mu=mu,
        dp_clip=plan.dp_clip,
        dp_noise=plan.dp_noise,
    )
    payload, state = generator_payload(update.generator)
    metrics = {
        "num-examples": float(update.n_windows),
        "train_loss": update.train_loss,
        "val_loss": update.val_loss,
        "update_norm": update.update_norm,
    }
    return app.RecordDict({
        "arrays": to_array_record(payload),
        "metrics": app.MetricRecord(metrics),
        "state": app.ConfigRecord({"json": json.dumps(model_state(state))}),
    })  # fmt: skip


def global_generator(plan: FederatedPlan, arrays: dict[str, np.ndarray], config, channels: list[str]):
    state = json.loads(str(config.get("model_state", "{}")))
    state.update(n_channels_=len(channels), n_steps_=plan.window, channel_names_=list(channels),
                 training_=TrainingRecord(window=plan.window, seed=int(plan.seed)).to_json())
    return generator_from_payload(plan.model, plan.params, arrays, state)


def handle_calibrate(data: SiteData, plan: FederatedPlan, arrays, config):
    app = flwr_app()
    gen = global_generator(plan, arrays, config, list(data.channels))
    windows = data.calibration_windows()
    scores = np.concatenate([anomaly_scores(gen, w) for w in windows]) if windows else np.zeros(0)
    finite = scores[np.isfinite(scores)]
    out = {"tail": site_tail(finite, int(config.get("tail_k", 0)))}
    if windows and bool(config.get("attribution", True)):
        pooled = np.concatenate(windows)
        if len(pooled) > _MAX_ATTRIBUTION_WINDOWS:
            pick = np.random.default_rng(0).choice(len(pooled), _MAX_ATTRIBUTION_WINDOWS, replace=False)
            pooled = pooled[np.sort(pick)]
        surprise = -gen.score_channels(pooled, mask=~np.isnan(pooled))
        out.update({f"ch.{k}": v for k, v in channel_summary(surprise).items()})
    metrics = {"num-examples": float(len(finite)), "loss": float(np.mean(finite)) if len(finite) else float("nan")}
    return app.RecordDict({"arrays": to_array_record(out), "metrics": app.MetricRecord(metrics)})


def handle_evaluate(data: SiteData, plan: FederatedPlan, arrays, config):
    app = flwr_app()
    gen = global_generator(plan, arrays, config, list(data.channels))
    threshold = Threshold(float(config["threshold_value"]), str(config.get("threshold_rule", "")))
    detector = assemble_detector(gen, plan, threshold)
    detector.attribute = "none"
    pairs = []
    for s in data.series:
        if not s.has_test_labels or len(s.values) < gen.n_steps_:
            continue
        local = detector
        if plan.threshold_scope == "series" and len(s.calibration_part) >= gen.n_steps_:
            # A personalised threshold: this series' own normal rows, at its own site.
            local = assemble_detector(gen, plan, threshold)
            local.attribute = "none"
            local.fit(s.calibration_part)
        flags = local.detect(s.values).flags
        pairs.append((s.labels[s.normal_rows :], flags[s.normal_rows :]))
    counts = detection_counts(pairs)
    n_test = sum(len(p[0]) for p in pairs)
    metrics = {"num-examples": float(max(n_test, 1)), **{k: float(v) for k, v in counts.items()}, "n-test": float(n_test)}
    return app.RecordDict({"metrics": app.MetricRecord(metrics)})


# ---------------------------------------------------------------------------------- the app
def make_client_app(sites: list[str] | None = None):
    """A ClientApp whose site is ``sites[partition-id]`` (simulation) or ``node_config["site"]``."""
    require_flwr = flwr_app()  # noqa: F841 - fail early with the extra's name
    from flwr.clientapp import ClientApp

    app = ClientApp()

    def resolve(context) -> str:
        if sites is not None:
            return sites[int(context.node_config["partition-id"])]
        if "site" not in context.node_config:
            raise ValueError("this SuperNode has no site: start it with --node-config 'site=\"PATH\"' (geniot fl join --site PATH)")
        return str(context.node_config["site"])

    def run(message, context, handler):
        content = message.content
        config = content["config"]
        plan = plan_from(config)
        data = site_data(resolve(context), plan)
        if "channels" in config:
            data = data.reorder(list(config["channels"]))
        arrays = from_array_record(content["arrays"]) if "arrays" in content else {}
        reply = handler(data, plan, arrays, config, context)
        return flwr_app().Message(reply, reply_to=message)

    @app.query("setup")
    def setup(message, context):
        return run(message, context, lambda d, p, a, c, ctx: handle_setup(d, p))

    @app.query("centred")
    def centred(message, context):
        return run(message, context, lambda d, p, a, c, ctx: handle_centred(d, a))

    @app.train()
    def train(message, context):
        # The simulation's partition id is stable across runs (node ids are not): reproducible seeds.
        site_number = int(context.node_config.get("partition-id", context.node_id))
        return run(message, context, lambda d, p, a, c, ctx: handle_train(d, p, a, c, site_number))

    @app.query("calibrate")
    def calibrate(message, context):
        return run(message, context, lambda d, p, a, c, ctx: handle_calibrate(d, p, a, c))

    @app.evaluate()
    def evaluate(message, context):
        return run(message, context, lambda d, p, a, c, ctx: handle_evaluate(d, p, a, c))

    @app.query("done")
    def done(message, context):
        # The run is over: leave its summary where `geniot fl join` looks (it then stops this node).
        target = os.environ.get(DONE_FILE_ENV)
        if target:
            Path(target).write_text(str(message.content["config"]["summary"]))
        return flwr_app().Message(flwr_app().RecordDict({}), reply_to=message)

    return app


__all__ = ["config_record", "make_client_app", "site_data"]
