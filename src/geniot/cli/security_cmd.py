"""`geniot security fit|detect`: a security detector fitted on normal message logs; its events."""

from __future__ import annotations

from pathlib import Path

import typer

from geniot.cli.progress import console, progress_bar, user_errors

security_app = typer.Typer(help="Tell forged, replayed, spoofed or flooded data from process faults.", no_args_is_help=True)


@security_app.command("fit")
def fit(
    normal: list[Path] = typer.Argument(..., help="normal data: message logs (geniot simulate --normal-out) or long readings files"),
    out: Path = typer.Option(..., "--out", help="folder to save the security detector in"),
    window: int = typer.Option(8, "--window", help="steps per window of the generative model"),
    generator: str = typer.Option("gaussian", "--generator", help="generative model of each asset's sensors"),
    sequential: bool = typer.Option(True, "--sequential/--no-sequential", help="per-sensor sequential tests (CUSUM on level, "
                                    "roughness and variance collapse, one event per asset named by isolation): find stealthy "
                                    "false data injection; --no-sequential keeps the consistency model alone (BENCHMARKS.md section 21)"),
) -> None:
    """Learn each asset's sensors, its recorded past and the traffic of normal operation."""
    from geniot.security import SecurityDetector, read_message_log

    with user_errors():
        messages = []
        for path in normal:
            msgs, notes = read_message_log(path)
            for note in notes:
                console.print(f"{path}: {note}", highlight=False)
            messages.extend(msgs)
        with progress_bar("fit") as update:
            update(0, 1)
            det = SecurityDetector(window=window, generator=generator, sequential=sequential).fit(messages)
            update(1, 1)
        det.save(out)
        streams = 0 if det.traffic_ is None else len(det.traffic_)
        console.print(f"wrote {out} (security detector: {len(det.assets_)} assets, {streams} known streams, "
                      f"{len(messages)} normal messages)")  # fmt: skip


@security_app.command("detect")
def detect(
    model: Path = typer.Argument(..., help="folder written by `geniot security fit`"),
    data: Path = typer.Argument(..., help="message log or long readings file to check"),
    out: Path = typer.Option(..., "--out", help="events CSV: asset, start, end, kind, attack, reason, detected_at, signal, source"),
) -> None:
    """One row per event: kind process | integrity | traffic, the attack type and the reason."""
    from geniot.security import SecurityDetector, events_frame, read_message_log

    with user_errors():
        det = SecurityDetector.load(model)
        messages, notes = read_message_log(data)
        for note in notes:
            console.print(f"{data}: {note}", highlight=False)
        stream = det.stream()
        events = []
        with progress_bar("detect") as update:
            for i, m in enumerate(messages):
                events.extend(stream.update(m))
                if i % 2000 == 0:
                    update(i, len(messages))
            events.extend(stream.flush())
            update(len(messages), len(messages))
        frame = events_frame(events)
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False)
        counts = frame.groupby("kind").size().to_dict() if len(frame) else {}
        said = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"
        console.print(f"wrote {out} ({len(frame)} events: {said}; {stream.counts['messages']} messages, "
                      f"{stream.counts['kept_out']} kept out of the process view, {stream.counts['unknown_asset']} of unknown assets, "
                      f"{stream.counts['late_or_repeated']} late or repeated, "
                      f"{stream.counts['brief_excursions']} brief single-sensor excursions not raised)")  # fmt: skip
