"""`geniot fl`: federated training across sites whose raw data never leaves them (Flower).

    geniot fl simulate --sites 3 --out model/           # simulator pumps, one site per asset
    geniot fl simulate --site a.csv --site b.csv --out model/ --model vae --rounds 5
    geniot fl serve --sites 2 --out model/ --port 9092  # then, at each site:
    geniot fl join --site plant_a.duckdb --superlink 127.0.0.1:9092
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import typer

from geniot.cli.progress import console, user_errors
from geniot.core.exceptions import DataError
from geniot.workflows.training import parse_params

fl_app = typer.Typer(help="Federated training across sites (Flower): simulate, serve, join.", no_args_is_help=True)

_MODEL = typer.Option("gaussian", "--model", help="generator: gaussian (exact, one pass) or a torch model (vae, diffusion, gan)")
_PARAMS = typer.Option(None, "--params", help="model parameters as JSON, e.g. '{\"epochs\": 1}'")
_WINDOW = typer.Option(16, "--window", help="steps per window")
_ROUNDS = typer.Option(3, "--rounds", help="federated rounds (torch models)")
_EPOCHS = typer.Option(2, "--local-epochs", help="local epochs per round at each site (torch models)")
_STRATEGY = typer.Option("fedavg", "--strategy", help="fedavg or fedprox (proximal term, for unlike sites)")
_MU = typer.Option(0.1, "--mu", help="FedProx proximal weight")
_TRAIN_ROWS = typer.Option(None, "--train-rows", help="the first K rows of each series are normal training data; later rows are scored")
_THRESHOLD = typer.Option("pot", "--threshold", help="'pot' (peaks over threshold), 'quantile' or a number")
_RISK = typer.Option(1e-3, "--risk", help="for 'pot': exceedance probability per window on normal data")
_DP_CLIP = typer.Option(None, "--dp-clip", help="clip each site's round update to this L2 norm (torch models)")
_DP_NOISE = typer.Option(0.0, "--dp-noise", help="Gaussian noise on the clipped update, times --dp-clip")
_SEED = typer.Option(0, "--seed", help="random seed")
_NORMALIZE = typer.Option(
    "none", "--normalize",
    help="'series': each site standardises every series by its own normal rows (the model then expects standardised input)",
)  # fmt: skip
_OUT = typer.Option(..., "--out", help="folder for the global model (a normal geniot model folder)")


def _plan(model, params, window, rounds, local_epochs, strategy, mu, train_rows, threshold, risk, dp_clip, dp_noise, seed, out, min_sites, normalize):
    from geniot.federated.plan import FederatedPlan

    try:
        threshold = float(threshold)
    except ValueError:
        if threshold not in ("pot", "quantile"):
            raise DataError(f"--threshold must be 'pot', 'quantile' or a number, got {threshold!r}") from None
    return FederatedPlan(
        model=model, params=parse_params(params), window=window, rounds=rounds, local_epochs=local_epochs,
        strategy=strategy, proximal_mu=mu, train_rows=train_rows, threshold=threshold, risk=risk,
        dp_clip=dp_clip, dp_noise=dp_noise, seed=seed, out=str(Path(out).expanduser().resolve()), min_sites=min_sites,
        normalize=normalize,
    )  # fmt: skip


def explain_f1(final: dict, anomalous_training: list[str]) -> str | None:
    """Why a pooled F1 is low, in words, from the counts behind it (None when F1 is 0.5 or more)."""
    f1, far, mar = (float(final.get(k, float("nan"))) for k in ("f1", "far", "mar"))
    if not f1 < 0.5:
        return None
    tp, fp, fn = (int(final.get(k, 0)) for k in ("tp", "fp", "fn"))
    if tp + fn == 0:
        return "F1 is 0: the test rows hold no labelled anomaly, so there is nothing to find; read FAR"
    why = []
    if anomalous_training:
        why.append(f"the training rows, taken as normal, hold labelled anomalies ({'; '.join(anomalous_training)}): "
                   "the model learns them and the threshold rises above them")  # fmt: skip
    if mar >= 50:
        why.append(f"{fn} of {tp + fn} labelled rows stay under the threshold (MAR {mar:.0f}%): labels cover whole episodes, "
                   "while slow drifts and wear stand out only late in them")  # fmt: skip
    if far >= 1:
        why.append(f"{fp} normal test rows are flagged (FAR {far:.1f}%): they differ from the calibration rows "
                   "(wear, or regime changes the whole-window score counts in every window they lie in)")  # fmt: skip
    return f"F1 is low ({f1:.2f}): " + "; ".join(why) if why else None


def anomalous_training_rows(paths: list[str], train_rows: int | None) -> list[str]:
    """'site: N of K training rows' for each site file whose labelled anomalies fall in its training rows."""
    from geniot.data.io import read_labels

    out = []
    for path in paths:
        if not Path(path).is_file():
            continue  # a folder or a store: its labels are read by the site only
        labels = read_labels(Path(path))
        if labels is None or "anomaly" not in labels:
            continue
        flags = np.asarray(labels["anomaly"], dtype=float)[: train_rows or None] > 0
        if flags.any():
            out.append(f"{Path(path).name}: {int(flags.sum())} of {len(flags)} training rows")
    return out


def _round_line(event: dict) -> str:
    parts = [f"round {event['round']}/{event['rounds']}"]
    for key, label in (("train_loss", "train loss"), ("loss", "held-out loss"), ("f1", "F1"), ("far", "FAR %"), ("mar", "MAR %")):
        if key in event and event[key] == event[key]:  # NaN: not reported by this model
            parts.append(f"{label} {event[key]:.4g}")
    return "  ".join(parts)


def _print_summary(final: dict, out: str, anomalous_training: list[str] | None = None) -> None:
    if "threshold" in final:
        console.print(f"threshold {final['threshold']:.6g}: {final.get('threshold_rule', '')}")
    if "f1" in final:
        console.print(f"pooled over the sites' test rows: F1 {final['f1']:.3f}  FAR {final['far']:.2f}%  MAR {final['mar']:.2f}%")
        why = explain_f1(final, anomalous_training or [])
        if why:
            console.print(f"[yellow]{why}[/yellow]", soft_wrap=True)
    console.print(f"saved the global model to {out} (use it with `geniot detect` / `geniot sample`)")


@fl_app.command()
def simulate(
    sites: int = typer.Option(3, "--sites", help="simulated sites (one pump each) when no --site is given"),
    site: list[Path] = typer.Option(None, "--site", help="a site's data: file, folder of files, or DuckDB store (repeat)"),
    out: Path = _OUT,
    model: str = _MODEL,
    params: str | None = _PARAMS,
    window: int = _WINDOW,
    rounds: int = _ROUNDS,
    local_epochs: int = _EPOCHS,
    strategy: str = _STRATEGY,
    mu: float = _MU,
    train_rows: int | None = _TRAIN_ROWS,
    threshold: str = _THRESHOLD,
    risk: float = _RISK,
    dp_clip: float | None = _DP_CLIP,
    dp_noise: float = _DP_NOISE,
    seed: int = _SEED,
    normalize: str = _NORMALIZE,
    days: float = typer.Option(4.0, "--days", help="simulated days per site (first half trains, second half is scored)"),
    work: Path | None = typer.Option(None, "--work", help="folder for the simulated sites' files (default: a temporary one)"),
    verbose: bool = typer.Option(False, "--verbose", help="show Flower's and Ray's own logs"),
) -> None:
    """Federated training of several sites (3 simulated pumps by default) in a local simulation (Flower + Ray)."""
    with user_errors():
        from geniot.cli.progress import progress_bar
        from geniot.federated.sim_sites import write_simulated_sites
        from geniot.federated.simulation import simulate as run_simulation

        with tempfile.TemporaryDirectory(prefix="geniot-fl-") as tmp:
            if site:
                paths = [str(p) for p in site]
            else:
                if sites < 2:
                    raise DataError(f"--sites must be at least 2, got {sites}")
                folder = Path(work) if work else Path(tmp)
                paths = [str(p) for p in write_simulated_sites(folder, sites, days=days, seed=seed)]
                if train_rows is None:
                    train_rows = int(days * 24 * 60 / 2)  # simulator: one reading a minute; first half is normal
                console.print(f"simulated {sites} pumps, one site each: {folder}")
            plan = _plan(model, params, window, rounds, local_epochs, strategy, mu, train_rows, threshold, risk, dp_clip, dp_noise, seed, out, len(paths), normalize)
            anomalous = anomalous_training_rows(paths, train_rows)
            for line in anomalous:
                console.print(f"[yellow]warning:[/yellow] labelled anomalies in the rows trained on as normal: {line}")
            total = 1 if plan.is_exact else plan.rounds
            with progress_bar(f"federated {plan.model} over {len(paths)} sites") as update:
                update(0, total)

                def on_event(event: dict) -> None:
                    if event["phase"] == "setup":
                        for s in event["sites"]:
                            console.print(f"  site {s['site']}: {s['windows']} training windows, {s['test_rows']} labelled test rows")
                    elif event["phase"] == "round":
                        console.print(_round_line(event))
                        update(int(event["round"]), total)

                outcome = run_simulation(plan, paths, progress=on_event, verbose=verbose)
        _print_summary(outcome.final, outcome.out, anomalous)


@fl_app.command()
def serve(
    sites: int = typer.Option(2, "--sites", help="sites to wait for before training starts"),
    out: Path = _OUT,
    model: str = _MODEL,
    params: str | None = _PARAMS,
    window: int = _WINDOW,
    rounds: int = _ROUNDS,
    local_epochs: int = _EPOCHS,
    strategy: str = _STRATEGY,
    mu: float = _MU,
    train_rows: int | None = _TRAIN_ROWS,
    threshold: str = _THRESHOLD,
    risk: float = _RISK,
    dp_clip: float | None = _DP_CLIP,
    dp_noise: float = _DP_NOISE,
    seed: int = _SEED,
    normalize: str = _NORMALIZE,
    host: str = typer.Option("127.0.0.1", "--host", help="address the SuperLink listens on (insecure: loopback or a trusted network)"),
    port: int = typer.Option(9092, "--port", help="SuperLink port (0 = any free port)"),
    wait: float = typer.Option(600.0, "--wait", help="seconds to wait for the sites and for any one reply"),
    work: Path | None = typer.Option(None, "--work", help="folder for the Flower app and logs (default: a temporary one)"),
    verbose: bool = typer.Option(False, "--verbose", help="show the whole streamed Flower log"),
) -> None:
    """Start a Flower SuperLink, run the federated training when the sites have joined, save the model."""
    with user_errors():
        from geniot.federated.deployment import free_port, serve_federation

        plan = _plan(model, params, window, rounds, local_epochs, strategy, mu, train_rows, threshold, risk, dp_clip, dp_noise, seed, out, sites, normalize)
        plan = plan.replace(timeout_s=wait)
        port = port or free_port(host)

        def ready(address: str) -> None:
            console.print(f"SuperLink listening on {address}; waiting for {sites} sites. At each site run:")
            console.print(f"  geniot fl join --site DATA --superlink {address}")

        def line(text: str) -> None:
            if verbose or text.startswith("geniot:") or "ERROR" in text or "Traceback" in text:
                console.print(text.removeprefix("geniot: "), highlight=False, markup=False)

        with tempfile.TemporaryDirectory(prefix="geniot-fl-") as tmp:
            folder = Path(work) if work else Path(tmp)
            result = serve_federation(plan, folder, host=host, port=port, on_ready=ready, on_line=line, timeout_s=wait * (plan.rounds + 3))
        _print_summary(result["final"], result["out"])


@fl_app.command()
def join(
    site: Path = typer.Option(..., "--site", help="this site's data: file, folder of files, or DuckDB store"),
    superlink: str = typer.Option("127.0.0.1:9092", "--superlink", help="HOST:PORT of the SuperLink (`geniot fl serve`)"),
    port: int = typer.Option(0, "--port", help="local port of this SuperNode's app API (0 = any free port)"),
    work: Path | None = typer.Option(None, "--work", help="folder for this SuperNode's Flower home (default: a temporary one)"),
    gone_after: float = typer.Option(30.0, "--leave-after", help="leave when the coordinator has been unreachable this many seconds"),
) -> None:
    """Join a federation as a site (a Flower SuperNode) until its run is over; the data stays here,
    only weights and sums go out. Stops the SuperNode and its processes when it exits (also on
    Ctrl-C or SIGTERM)."""
    with user_errors():
        import signal

        from geniot.federated.deployment import free_port, join_federation
        from geniot.federated.sites import load_site

        data = load_site(site, window=2)  # read it once here: a bad file fails now, with its name
        console.print(f"site {site}: {len(data.series)} series, channels {', '.join(data.channels)}")
        console.print(f"joining the federation at {superlink} (Ctrl-C to leave)")

        def leave(signum, frame):  # SIGTERM: leave through the same clean-up as Ctrl-C
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, leave)
        with tempfile.TemporaryDirectory(prefix="geniot-node-") as tmp:
            home = Path(work) if work else Path(tmp)
            try:
                outcome = join_federation(str(site), superlink, home, port=port or free_port(), gone_after_s=gone_after,
                                          on_state=lambda text: console.print(text))  # fmt: skip
            except KeyboardInterrupt:
                console.print("left the federation (interrupted); the SuperNode is stopped")
                raise typer.Exit(code=130) from None
            if outcome.how == "node_exited":
                log = home / "supernode.log"
                tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
                console.print(f"[red]the SuperNode exited with code {outcome.code}[/red]\n{tail}", highlight=False, markup=False)
                raise typer.Exit(code=outcome.code or 1)
        if outcome.how == "done":
            final = (outcome.summary or {}).get("final", {})
            figures = "  ".join(f"{k} {final[k]:.4g}" for k in ("f1", "far", "mar", "threshold") if isinstance(final.get(k), (int, float)))
            console.print(f"the run is over ({(outcome.summary or {}).get('sites', '?')} sites){': ' + figures if figures else ''}; "
                          f"the coordinator saved the model to {(outcome.summary or {}).get('out')}")  # fmt: skip
            return
        if outcome.how == "coordinator_gone":
            console.print(f"[red]the coordinator at {superlink} has been unreachable for {gone_after:.0f} s before the run ended; leaving[/red]")
            raise typer.Exit(code=1)
