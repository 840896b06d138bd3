"""`geniot fit --model auto`: choose the generator whose samples pass best for real windows it
never saw.

Each candidate trains on 80% of the windows (blocks across the span, so a trend or a wearing
machine does not make the held-out part a different period) within an equal share of the
budget; it then samples as many windows as there are complete held-out ones (with their calendar
conditions when the model has them), and two checks judge the samples against the held-out real
windows, both in min-max scale of the training windows:

- fidelity: the discriminative score (TimeGAN protocol, lower is better), a small GRU's
  accuracy at telling the samples from held-out real windows;
- copying: the DCR test of :func:`~geniot.metrics.memorization.memorization`; a candidate whose
  samples sit nearer its training windows than held-out real windows do is set aside.

The lowest score among the candidates that do not copy wins; within one standard error of it the
simpler model wins (candidates are listed simplest first). The winner is then trained again on
every window with the rest of the budget by the ordinary `geniot fit` path.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from geniot.core.exceptions import DataError
from geniot.data.splits import interleaved_holdout
from geniot.metrics._common import apply_minmax, minmax_params
from geniot.metrics.discriminative import discriminative_score
from geniot.metrics.memorization import memorization
from geniot.workflows.datasets import WindowSet
from geniot.workflows.training import build_model

#: simplest first: a tie goes to the earlier one
AUTO_CANDIDATES = ("gaussian", "vae", "flow", "diffusion")
SELECTION_FILE = "model_selection.json"
HELD_OUT_SHARE = 0.2
MIN_HELD_OUT = 40  # complete held-out windows the checks need
MAX_SCORED = 2000  # held-out windows scored at most (the checks' cost grows with the count)
_ITERATIONS = 600  # classifier steps per repeat: enough to rank candidates at a fraction of the protocol's 2000
_REPEATS = 3


@dataclass(frozen=True)
class CandidateResult:
    """How one candidate did on the held-out windows."""

    name: str
    score: float | None  # discriminative score (lower is better); None when it could not run
    score_sd: float | None
    dcr_ratio: float | None  # synthetic / held-out median distance to the training windows
    copies: bool
    seconds: float
    epochs: int | None
    note: str = ""

    def line(self) -> str:
        if self.score is None:
            return f"{self.name}: not scored ({self.note})"
        text = f"{self.name}: discriminative {self.score:.3f} ± {self.score_sd:.3f}, DCR ratio {self.dcr_ratio:.2f}"
        text += f", {self.seconds:.0f} s" + ("" if self.epochs is None else f", {self.epochs} epochs")
        return text + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class ModelChoice:
    chosen: str
    reason: str
    results: tuple[CandidateResult, ...]
    held_out_windows: int

    def lines(self) -> list[str]:
        return [f"  {r.line()}" for r in self.results] + [self.verdict()]

    def verdict(self) -> str:
        return f"chose {self.chosen}: {self.reason}"

    def save(self, folder: Path) -> None:
        body = {"chosen": self.chosen, "reason": self.reason, "held_out_windows": self.held_out_windows,
                "criterion": "discriminative score on held-out windows; copiers set aside",
                "candidates": [asdict(r) for r in self.results]}  # fmt: skip
        (Path(folder) / SELECTION_FILE).write_text(json.dumps(body, indent=2))


def check_candidates(names: list[str]) -> list[str]:
    from geniot.models.registry import generator_names

    known = set(generator_names())
    unknown = [n for n in names if n not in known or n in ("auto", "dp")]
    if unknown:
        raise DataError(f"unknown candidate model(s) {unknown}; choose from {sorted(known - {'dp'})}")
    if not names:
        raise DataError("--candidates names no model")
    return list(dict.fromkeys(names))


def choose_generator(
    data: WindowSet,
    *,
    candidates: list[str] | None = None,
    budget_minutes: float | None = 10.0,
    seed: int = 0,
    progress_for: Callable[[str, float | None], AbstractContextManager] | None = None,
    on_result: Callable[[CandidateResult], None] | None = None,
) -> ModelChoice:
    """Train every candidate on the training part within its share of the budget and pick one
    (see the module docstring). ``progress_for(name, minutes)`` gives a context manager around
    one candidate's training that yields its progress callback; ``on_result`` hears each
    candidate's figures as soon as they are known."""
    names = check_candidates(list(candidates or AUTO_CANDIDATES))
    windows = data.windows
    train_idx, held_idx = interleaved_holdout(len(windows), HELD_OUT_SHARE, gap=windows.shape[1])
    held_ok = held_idx[~np.isnan(windows[held_idx]).any(axis=(1, 2))]
    if len(held_ok) < MIN_HELD_OUT:
        raise DataError(
            f"{len(held_ok)} complete held-out windows are too few to choose a model ({MIN_HELD_OUT} needed); "
            f"name one with --model (see `geniot models`)"
        )
    rng = np.random.default_rng(seed)
    if len(held_ok) > MAX_SCORED:
        held_ok = np.sort(rng.choice(held_ok, MAX_SCORED, replace=False))
    train = windows[train_idx]
    lo, span = minmax_params(np.nan_to_num(train, nan=np.nanmean(train)))
    real_held = apply_minmax(windows[held_ok], lo, span)
    real_train = apply_minmax(train[~np.isnan(train).any(axis=(1, 2))], lo, span)
    split = _Split(
        train, real_train, real_held, (lo, span), tuple(data.channels),
        None if data.conditions is None else data.conditions[train_idx],
        None if data.conditions is None else data.conditions[held_ok],
    )  # fmt: skip
    # the checks cost time too: give training 80% of each candidate's share
    minutes = None if not budget_minutes else 0.8 * float(budget_minutes) / len(names)
    results = []
    for name in names:
        training = nullcontext() if progress_for is None else progress_for(name, minutes)
        result = _try(name, split, minutes, seed, training)
        results.append(result)
        if on_result is not None:
            on_result(result)
    chosen, reason = _pick(results)
    return ModelChoice(chosen, reason, tuple(results), len(held_ok))


@dataclass(frozen=True)
class _Split:
    """What every candidate is trained and judged on: raw training windows, the complete
    training and held-out windows min-max scaled by the training part, and the conditions."""

    train: np.ndarray
    real_train: np.ndarray
    real_held: np.ndarray
    scale: tuple[np.ndarray, np.ndarray]
    channels: tuple[str, ...]
    cond_train: np.ndarray | None
    cond_held: np.ndarray | None


def _try(name: str, split: _Split, minutes: float | None, seed: int, training) -> CandidateResult:
    start = time.monotonic()
    model = build_model(name, max_minutes=minutes, seed=seed)
    if split.cond_train is not None and not model.tags.conditional:
        return CandidateResult(name, None, None, None, False, 0.0, None, "cannot take the calendar conditions")
    try:
        with training as progress:
            model.fit(split.train, conditions=split.cond_train, progress=progress, channels=list(split.channels))
        synth = model.sample(len(split.real_held), conditions=split.cond_held, random_state=seed)
    except (DataError, ValueError, RuntimeError) as exc:  # one failing candidate is said, not fatal
        return CandidateResult(name, None, None, None, False, time.monotonic() - start, None, f"failed: {exc}")
    synth = apply_minmax(np.asarray(synth, dtype=np.float64), *split.scale)
    if not np.isfinite(synth).all():
        return CandidateResult(name, None, None, None, False, time.monotonic() - start, None, "sampled non-finite values")
    fidelity = discriminative_score(split.real_held, synth, iterations=_ITERATIONS, repeats=_REPEATS, random_state=seed)
    copy = memorization(split.real_train, synth, split.real_held)
    history = getattr(model, "history_", None)  # torch models: one entry per epoch
    return CandidateResult(
        name, fidelity["score"], fidelity["score_sd"], copy["dcr_ratio"], bool(copy["memorized"]),
        time.monotonic() - start, None if history is None else len(history),
        "samples sit nearer its training windows than held-out real windows do: set aside" if copy["memorized"] else "",
    )  # fmt: skip


def _pick(results: list[CandidateResult]) -> tuple[str, str]:
    scored = [r for r in results if r.score is not None]
    if not scored:
        raise DataError("no candidate model could be trained and scored: " + "; ".join(r.line() for r in results))
    fair = [r for r in scored if not r.copies]
    pool = fair or scored
    best = min(pool, key=lambda r: r.score)
    se = (best.score_sd or 0.0) / np.sqrt(_REPEATS)
    simplest = next(r for r in pool if r.score <= best.score + se)  # pool keeps the simplest-first order
    why = f"lowest held-out discriminative score ({simplest.score:.3f})"
    if simplest is not best:
        why = f"within one standard error of the lowest ({best.name} {best.score:.3f}) and simpler ({simplest.score:.3f})"
    if not fair:
        why += "; every candidate's samples sit near its training windows, so none is free of that flag"
    elif len(fair) < len(scored):
        why += f"; set aside as copying: {', '.join(r.name for r in scored if r.copies)}"
    return simplest.name, why
