"""Predictive score: train on synthetic, test on real (TSTR), beside train on real (TRTR)."""

from __future__ import annotations

import numpy as np
import torch

from geniot.metrics._common import as_rng, check_pair, torch_seed
from geniot.metrics._torch import batch_index, build, to_tensor

__all__ = ["predictive_score"]


def _inputs_targets(x: np.ndarray, target: str) -> tuple[np.ndarray, np.ndarray]:
    if target == "all":
        return x[:, :-1, :], x[:, 1:, :]
    return x[:, :-1, :-1], x[:, 1:, -1:]


def _fit_and_score(
    train, test, *, target, hidden, iterations, batch_size, learning_rate, rng, device
) -> float:
    x_tr, y_tr = (to_tensor(a, device) for a in _inputs_targets(train, target))
    x_te, y_te = (to_tensor(a, device) for a in _inputs_targets(test, target))
    model = build(
        torch_seed(rng), x_tr.shape[2], hidden, y_tr.shape[2], every_step=True, device=device
    )
    opt = torch.optim.Adam(model.parameters(), lr=learning_rate)
    for _ in range(iterations):
        idx = torch.as_tensor(batch_index(rng, len(x_tr), batch_size), device=device)
        opt.zero_grad(set_to_none=True)
        loss = (model(x_tr[idx]) - y_tr[idx]).abs().mean()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        return float((model(x_te) - y_te).abs().mean().item())


def predictive_score(
    real,
    synth,
    *,
    iterations: int = 5000,
    batch_size: int = 128,
    hidden: int | None = None,
    learning_rate: float = 1e-3,
    test_share: float = 0.2,
    target: str = "all",
    random_state=None,
    device="cpu",
) -> dict:
    """Predictive score (train on synthetic, test on real). **Lower MAE is better**; a ratio
    ``tstr_mae / trtr_mae`` near 1 means the synthetic data teaches as much as the real data.

    A one-layer GRU (``hidden = max(4, n_channels // 2)`` unless given) with a linear head on
    every hidden state makes one-step-ahead predictions, trained with an L1 loss and Adam for
    ``iterations`` steps of ``batch_size`` windows:

    * ``target="all"`` (default): from steps ``0..t-2`` of all channels predict steps
      ``1..t-1`` of **all channels** (each step's prediction sees only the past).
    * ``target="last"``: the original TimeGAN task: from steps ``0..t-2`` of all channels but
      the last, predict the **last channel** at steps ``1..t-1`` (needs >= 2 channels).

    The real windows are split in the order given: the first ``1 - test_share`` (80%) train the
    TRTR model (the ceiling), the last ``test_share`` (20%) are the test set of **both** models;
    the TSTR model trains on all synthetic windows. MAE is over all predicted steps and channels
    of the real test windows, on the scale of the inputs (scale both first, e.g. with
    :func:`minmax_scale_pair`). When the real windows come with stride 1, split before shuffling
    if the test part must not overlap the training part.

    Returns ``{"tstr_mae", "trtr_mae", "ratio"}``.
    """
    r, s = check_pair(real, synth)
    if target not in ("all", "last"):
        raise ValueError(f"target must be 'all' or 'last', got {target!r}")
    if r.shape[1] < 2:
        raise ValueError("predictive_score needs windows of at least 2 steps")
    if target == "last" and r.shape[2] < 2:
        raise ValueError("target='last' needs at least 2 channels (the others are the inputs)")
    if not 0.0 < test_share < 1.0:
        raise ValueError(f"test_share must lie in (0, 1), got {test_share}")
    n_test = int(round(test_share * len(r)))
    n_test = min(max(n_test, 1), len(r) - 1) if len(r) >= 2 else 0
    if n_test < 1:
        raise ValueError("predictive_score needs at least 2 real windows")
    r_train, r_test = r[: len(r) - n_test], r[len(r) - n_test :]
    h = max(4, r.shape[2] // 2) if hidden is None else int(hidden)
    rng = as_rng(random_state)
    kw = dict(
        target=target,
        hidden=h,
        iterations=iterations,
        batch_size=batch_size,
        learning_rate=learning_rate,
        device=torch.device(device),
    )
    tstr = _fit_and_score(s, r_test, rng=rng, **kw)
    trtr = _fit_and_score(r_train, r_test, rng=rng, **kw)
    return {
        "tstr_mae": tstr,
        "trtr_mae": trtr,
        "ratio": float(tstr / trtr) if trtr > 0 else float("inf"),
    }
