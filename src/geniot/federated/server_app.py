"""The Flower ServerApp: runs one :class:`Federation` with the plan it is given."""

from __future__ import annotations

from collections.abc import Callable

from geniot.federated.plan import FederatedPlan
from geniot.federated.records import flwr_app
from geniot.federated.server_flow import FederatedOutcome, Federation


def format_event(event: dict) -> str:
    """One line per event, for logs streamed from a real SuperLink (``flwr run --stream``)."""
    phase = event.get("phase")
    if phase == "setup":
        sites = ", ".join(f"{s['site']} ({s['windows']} windows)" for s in event["sites"])
        return f"geniot: {len(event['sites'])} sites: {sites}"
    if phase == "round":
        parts = [f"round {event['round']}/{event['rounds']}"]
        for key in ("train_loss", "loss", "f1", "far", "mar"):
            if key in event:
                parts.append(f"{key} {event[key]:.4g}")
        return "geniot: " + "  ".join(parts)
    if phase == "warning":
        return f"geniot: warning: {event['message']}"
    if phase == "done":
        return f"geniot: done; model saved to {event.get('out') or '(not saved)'}"
    return f"geniot: {event}"


def make_server_app(
    plan: FederatedPlan | None = None,
    *,
    progress: Callable[[dict], None] | None = None,
    sink: list[FederatedOutcome] | None = None,
):
    """A ServerApp running ``plan`` (or the run config's ``plan`` JSON when None)."""
    flwr_app()
    from flwr.serverapp import ServerApp

    app = ServerApp()

    @app.main()
    def main(grid, context) -> None:
        run_plan = plan if plan is not None else FederatedPlan.from_json(str(context.run_config["plan"]))

        def report(event: dict) -> None:
            if progress is not None:
                progress(event)
            else:  # a real SuperLink streams the ServerApp's output to `flwr run --stream`
                print(format_event(event), flush=True)

        outcome = Federation(grid, run_plan, report).run()
        if sink is not None:
            sink.append(outcome)

    return app
