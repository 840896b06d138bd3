"""Flower's FedAvg and FedProx, with geniot's calibration and evaluation between rounds.

The strategies aggregate exactly as Flower does (window-weighted average of the sites' weights;
FedProx only tells the sites its ``proximal-mu``). Two hooks are added: after each round's
aggregation the global model is calibrated across sites (pooled POT threshold), and the round's
evaluation messages carry that threshold so that every site reports flag counts of the very
detector the federation would ship; counts are summed (not averaged) into F1, FAR and MAR.
"""

from __future__ import annotations

import json

from geniot.federated.records import flwr_app, from_array_record
from geniot.federated.tallies import most_common, summed_counts
from geniot.models.registry import generator_class


def make_strategy(federation):
    """Flower's FedAvg or FedProx for ``federation`` (a :class:`~geniot.federated.server_flow.Federation`),
    with its calibration and evaluation between rounds."""
    flwr_app()
    from flwr.serverapp.strategy import FedAvg, FedProx

    plan = federation.plan
    base = FedProx if plan.strategy == "fedprox" else FedAvg
    kwargs = {"proximal_mu": float(plan.proximal_mu)} if plan.strategy == "fedprox" else {}
    n = int(plan.min_sites)
    scorable = generator_class(plan.model).tags.likelihood != "none"  # a GAN cannot be calibrated

    def sum_evaluations(records, weight_key):
        app = flwr_app()
        metrics = [next(iter(r.metric_records.values())) for r in records]
        return app.MetricRecord({k: float(v) for k, v in summed_counts(metrics).items()})

    class GeniotStrategy(base):
        model_state: dict = {}

        def aggregate_train(self, server_round, replies):
            replies = list(replies)
            arrays, metrics = super().aggregate_train(server_round, replies)
            states = [str(r.content["state"]["json"]) for r in replies if not r.has_error() and "state" in r.content]
            self.model_state = json.loads(most_common(states))
            self.last_train = {} if metrics is None else {k: float(v) for k, v in metrics.items() if not isinstance(v, list)}
            return arrays, metrics

        def configure_evaluate(self, server_round, arrays, config, grid):
            if not scorable:
                self.calibration = None
                return []
            last = server_round == int(plan.rounds)  # the shipped model's calibration: add attribution
            self.calibration = federation.calibrate(from_array_record(arrays), self.model_state, attribution=last)
            if last:
                federation.final_calibration = self.calibration
            config = federation.evaluate_config(self.model_state, self.calibration["threshold"])
            if not federation.n_test:  # nothing labelled to score: the round ends with its calibration
                return []
            return super().configure_evaluate(server_round, arrays, config, grid)

        def aggregate_evaluate(self, server_round, replies):
            replies = list(replies)
            metrics = super().aggregate_evaluate(server_round, replies) if replies else None
            evaluation = {} if metrics is None else {k: float(v) for k, v in metrics.items()}
            for key in ("tp", "fp", "fn", "tn"):
                if key in evaluation:
                    evaluation[key] = int(evaluation[key])
            federation.on_round(server_round, self.last_train, self.calibration, evaluation)
            return metrics

    return GeniotStrategy(
        min_train_nodes=n, min_evaluate_nodes=n, min_available_nodes=n,
        evaluate_metrics_aggr_fn=sum_evaluations, **kwargs,
    )  # fmt: skip
