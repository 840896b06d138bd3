"""DP-SGD for a torch generator's module: Poisson sampling, per-window clipping, Gaussian noise.

Opacus computes per-sample gradients (``GradSampleModule``) and clips, noises and averages them
(``DPOptimizer``); the RDP accountant of Opacus tracks the budget. The loop is geniot's own
rather than the shared ``nn.training.train_loop``, because that loop's random validation
hold-out, early stopping and best-weights restore look at training windows outside the
accountant. Here every window takes part only through clipped, noised gradients, batches are
Poisson samples (each window joins a step independently with probability ``q``, which the
accountant's amplification-by-subsampling assumes), and the last weights are released.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from geniot.core.exceptions import CapabilityError, GeniotError
from geniot.core.extras import require

Batch = dict[str, torch.Tensor]

#: the accountant named in every artifact and report
ACCOUNTANT = "RDP (Opacus RDPAccountant), Poisson-subsampled Gaussian, window-level"


@dataclass
class DPPlan:
    """What one DP-SGD run will do; every field ends up in the artifact."""

    n_windows: int
    sample_rate: float
    expected_batch_size: int
    planned_steps: int
    noise_multiplier: float
    max_grad_norm: float
    target_epsilon: float | None
    delta: float
    #: True when the planned steps are sized to spend the budget (calibrated noise, or cut steps)
    budget_limited: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def _epsilon(noise: float, q: float, steps: int, delta: float) -> float:
    """Opacus' RDP epsilon after ``steps`` steps (inf without noise, 0 before any step)."""
    if steps <= 0:
        return 0.0
    if noise <= 0:
        return math.inf
    from opacus.accountants import RDPAccountant

    acc = RDPAccountant()
    acc.history = [(float(noise), float(q), int(steps))]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Optimal order")
        return float(acc.get_epsilon(delta=delta))


def plan_dp_sgd(
    n_windows: int,
    *,
    epochs: int,
    batch_size: int,
    epsilon: float | None,
    delta: float,
    max_grad_norm: float,
    noise_multiplier: float | None = None,
) -> DPPlan:
    """The sample rate, number of steps and noise for ``epochs`` passes at ``epsilon``.

    Without a ``noise_multiplier`` the noise is calibrated (Opacus' search on its RDP accountant)
    so that the planned steps spend at most ``epsilon``. With one, the planned steps are cut to
    the most that stay within ``epsilon``. ``epsilon=None`` means no budget: clipping and
    sampling as usual, no noise unless given (a non-private reference run).
    """
    require("opacus", "privacy")
    from opacus.accountants.utils import get_noise_multiplier

    if n_windows < 2:
        raise GeniotError(f"DP training needs at least 2 windows, got {n_windows}")
    if epsilon is not None and not (epsilon > 0 and math.isfinite(epsilon)):
        raise GeniotError(f"epsilon must be a positive finite number (or None for no budget), got {epsilon}")
    if not 0 < delta < 1:
        raise GeniotError(f"delta must be in (0, 1), got {delta}")
    if epsilon is not None and delta >= 1.0 / n_windows:
        raise GeniotError(
            f"delta={delta} is not below 1/n_windows={1.0 / n_windows:.2e}: such a guarantee allows "
            "releasing a whole window; use a smaller delta"
        )
    if not max_grad_norm > 0:
        raise GeniotError(f"max_grad_norm must be positive, got {max_grad_norm}")
    batch = max(1, min(int(batch_size), n_windows))
    q = batch / n_windows
    steps = max(1, int(math.ceil(int(epochs) / q)))
    limited = epsilon is not None
    if noise_multiplier is None:
        if epsilon is None:
            noise = 0.0
        else:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Optimal order")
                noise = float(
                    get_noise_multiplier(
                        target_epsilon=epsilon, target_delta=delta, sample_rate=q, steps=steps,
                        accountant="rdp", epsilon_tolerance=0.01,
                    )
                )
    else:
        noise = float(noise_multiplier)
        if noise < 0:
            raise GeniotError(f"noise_multiplier must be >= 0, got {noise}")
        if epsilon is not None:
            full = steps
            steps = _steps_within(noise, q, steps, delta, epsilon)
            limited = steps < full
    return DPPlan(n_windows, q, batch, steps, noise, float(max_grad_norm), epsilon, float(delta), limited)


def _steps_within(noise: float, q: float, steps: int, delta: float, epsilon: float) -> int:
    """The most steps (<= ``steps``) whose epsilon stays within the budget (bisection)."""
    if _epsilon(noise, q, steps, delta) <= epsilon:
        return steps
    lo, hi = 0, steps  # eps(lo) <= budget < eps(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _epsilon(noise, q, mid, delta) <= epsilon:
            lo = mid
        else:
            hi = mid
    if lo == 0:
        raise GeniotError(
            f"noise_multiplier={noise} spends more than epsilon={epsilon} in a single step; "
            "raise the noise or the budget"
        )
    return lo


def check_supported(module: torch.nn.Module, model_name: str) -> None:
    """Raise :class:`CapabilityError` naming what Opacus cannot train privately in ``module``."""
    require("opacus", "privacy")
    from opacus.validators import ModuleValidator

    errors = ModuleValidator.validate(module, strict=False)
    if errors:
        raise CapabilityError(
            f"{model_name} cannot be trained with DP-SGD: " + "; ".join(str(e) for e in errors)
        )


def _empty_grad_samples(params: list[torch.nn.Parameter]) -> None:
    # An empty Poisson batch still takes a noisy step (the accountant counts it).
    for p in params:
        p.grad_sample = torch.zeros((0, *p.shape), dtype=p.dtype)


def dp_sgd_train(
    owner,
    data: Batch,
    plan: DPPlan,
    *,
    learning_rate: float,
    seed: int,
    max_minutes: float | None = None,
    progress: Callable[[dict], None] | None = None,
) -> tuple[list[dict], dict]:
    """Train ``owner.module_`` with DP-SGD on ``owner._loss``; returns (history, privacy record).

    ``owner`` is a torch generator whose single-loss step is ``owner._loss(batch)["loss"]``
    (a mean over the windows of the batch). Its module is wrapped for the run and unwrapped after.
    """
    require("opacus", "privacy")
    from opacus import GradSampleModule
    from opacus.accountants import RDPAccountant
    from opacus.optimizers import DPOptimizer

    module = owner.module_
    gsm = GradSampleModule(module, batch_first=True, loss_reduction="mean", strict=True)
    params = [p for p in gsm.parameters() if p.requires_grad]
    optimizer = DPOptimizer(
        torch.optim.Adam(params, lr=float(learning_rate)),
        noise_multiplier=plan.noise_multiplier,
        max_grad_norm=plan.max_grad_norm,
        expected_batch_size=plan.expected_batch_size,
        loss_reduction="mean",
        generator=torch.Generator().manual_seed(seed + 1),
    )
    accountant = RDPAccountant()
    sampler = torch.Generator().manual_seed(seed)
    n = plan.n_windows
    steps_per_epoch = max(1, int(round(1.0 / plan.sample_rate)))
    epochs = int(math.ceil(plan.planned_steps / steps_per_epoch))
    budget_s = None if max_minutes is None else float(max_minutes) * 60.0
    started = time.monotonic()
    history: list[dict] = []
    step, stop_reason = 0, "planned steps"
    owner.module_ = gsm
    gsm.train()
    quiet = warnings.catch_warnings()
    quiet.__enter__()
    # Opacus' hooks fire on modules whose inputs need no gradient (the first layer): harmless.
    warnings.filterwarnings("ignore", message="Full backward hook is firing")
    try:
        while step < plan.planned_steps:
            loss_sum, n_loss = 0.0, 0
            for _ in range(min(steps_per_epoch, plan.planned_steps - step)):
                take = torch.rand(n, generator=sampler) < plan.sample_rate
                optimizer.zero_grad(set_to_none=True)
                if take.any():
                    idx = torch.nonzero(take).squeeze(1)
                    loss = owner._loss({k: v[idx] for k, v in data.items()})["loss"]
                    loss.backward()
                    loss_sum, n_loss = loss_sum + float(loss.detach()), n_loss + 1
                else:
                    _empty_grad_samples(params)
                optimizer.step()
                if plan.noise_multiplier > 0:
                    accountant.step(noise_multiplier=plan.noise_multiplier, sample_rate=plan.sample_rate)
                step += 1
            spent = _spent(accountant, plan)
            record = {
                "epoch": len(history) + 1,
                "train_loss": loss_sum / max(1, n_loss),
                "steps": step,
                "epsilon": spent,
                "elapsed_s": round(time.monotonic() - started, 3),
            }
            history.append(record)
            if progress is not None:
                progress({**record, "epochs": epochs})
            if budget_s is not None and time.monotonic() - started > budget_s and step < plan.planned_steps:
                stop_reason = "time budget"
                break
        else:
            if plan.budget_limited:
                stop_reason = "privacy budget spent"
    finally:
        quiet.__exit__(None, None, None)
        owner.module_ = gsm._module
        gsm._close()
    owner.module_.eval()
    if history:
        history[-1]["stop_reason"] = stop_reason
    record = {
        "epsilon_target": plan.target_epsilon,
        "epsilon_spent": _spent(accountant, plan) if step else 0.0,
        "delta": plan.delta,
        "noise_multiplier": plan.noise_multiplier,
        "max_grad_norm": plan.max_grad_norm,
        "sample_rate": plan.sample_rate,
        "expected_batch_size": plan.expected_batch_size,
        "steps": step,
        "planned_steps": plan.planned_steps,
        "epochs": round(step * plan.sample_rate, 3),
        "n_windows": n,
        "stop_reason": stop_reason,
        "accountant": ACCOUNTANT,
    }
    return history, record


def _spent(accountant, plan: DPPlan) -> float | None:
    """Epsilon spent so far; None (JSON-friendly infinity) when no noise is added."""
    if plan.noise_multiplier <= 0:
        return None
    if not accountant.history:
        return 0.0
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Optimal order")
        return float(accountant.get_epsilon(delta=plan.delta))
