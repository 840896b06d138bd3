"""Discriminative score (TimeGAN protocol): can a small GRU tell real from synthetic windows?"""

from __future__ import annotations

import numpy as np
import torch

from geniot.metrics._common import as_rng, check_pair, torch_seed
from geniot.metrics._torch import batch_index, build, to_tensor

__all__ = ["discriminative_score"]


def _split(n: int, rng: np.random.Generator, train_share: float = 0.8):
    perm = rng.permutation(n)
    n_train = int(round(train_share * n))
    n_train = min(max(n_train, 1), n - 1)
    return perm[:n_train], perm[n_train:]


def _one_repeat(r, s, *, iterations, batch_size, hidden, learning_rate, rng, device):
    n = min(len(r), len(s))
    # equal class sizes: subsample the larger set to the smaller's size
    r = r[rng.choice(len(r), size=n, replace=False)] if len(r) > n else r
    s = s[rng.choice(len(s), size=n, replace=False)] if len(s) > n else s
    r_tr, r_te = _split(n, rng)
    s_tr, s_te = _split(n, rng)
    xr_tr, xs_tr = to_tensor(r[r_tr], device), to_tensor(s[s_tr], device)
    xr_te, xs_te = to_tensor(r[r_te], device), to_tensor(s[s_te], device)

    model = build(torch_seed(rng), r.shape[2], hidden, 1, every_step=False, device=device)
    opt = torch.optim.Adam(model.parameters(), lr=learning_rate)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    for _ in range(iterations):
        ir = torch.as_tensor(batch_index(rng, len(xr_tr), batch_size), device=device)
        i_s = torch.as_tensor(batch_index(rng, len(xs_tr), batch_size), device=device)
        x = torch.cat([xr_tr[ir], xs_tr[i_s]])
        y = torch.cat([torch.ones(len(ir), device=device), torch.zeros(len(i_s), device=device)])
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x).squeeze(-1), y)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        pr = (model(xr_te).squeeze(-1) > 0).float().mean().item()  # predicted real
        ps = (model(xs_te).squeeze(-1) <= 0).float().mean().item()  # predicted synthetic
    n_r, n_s = len(r_te), len(s_te)
    acc = (pr * n_r + ps * n_s) / (n_r + n_s)
    return abs(acc - 0.5), pr, ps


def discriminative_score(
    real,
    synth,
    *,
    iterations: int = 2000,
    batch_size: int = 128,
    hidden: int | None = None,
    repeats: int = 5,
    learning_rate: float = 1e-3,
    random_state=None,
    device="cpu",
) -> dict:
    """Discriminative score, TimeGAN protocol. **Lower is better** (0 = indistinguishable, 0.5 =
    perfectly separable).

    A one-layer GRU (``hidden = max(1, n_channels // 2)`` as in TimeGAN unless given) with a
    linear head on its last hidden state is trained to label windows real (1) or synthetic (0).
    The larger set is subsampled to the smaller's size, each set is split 80/20 at random, and the
    classifier is trained with Adam (``learning_rate``, default 1e-3 as in TimeGAN) for
    ``iterations`` steps, each on ``batch_size`` real plus ``batch_size`` synthetic training
    windows. The score of a repeat is
    ``|test accuracy - 0.5|`` on the held-out 20% of both sets; the result averages ``repeats``
    independent repeats (new subsample, split and initialisation each time).

    Inputs must already be on the same scale (see :func:`minmax_scale_pair`).

    Returns ``{"score", "score_sd", "real_accuracy", "fake_accuracy", "repeats"}``: the mean and
    sample standard deviation of the score over repeats, the mean share of real test windows
    classified real and of synthetic test windows classified synthetic (a score near 0 with both
    accuracies near 0.5 means "indistinguishable"; near 0 with one at 1 and the other at 0 means
    the classifier broke), and the number of repeats.
    """
    r, s = check_pair(real, synth)
    if min(len(r), len(s)) < 2:
        raise ValueError("discriminative_score needs at least 2 real and 2 synthetic windows")
    if iterations < 0 or batch_size < 1 or repeats < 1:
        raise ValueError("iterations must be >= 0, batch_size >= 1 and repeats >= 1")
    h = max(1, r.shape[2] // 2) if hidden is None else int(hidden)
    rng = as_rng(random_state)
    dev = torch.device(device)
    results = [
        _one_repeat(
            r,
            s,
            iterations=iterations,
            batch_size=batch_size,
            hidden=h,
            learning_rate=learning_rate,
            rng=rng,
            device=dev,
        )
        for _ in range(repeats)
    ]
    scores = np.array([x[0] for x in results])
    return {
        "score": float(scores.mean()),
        "score_sd": float(scores.std(ddof=1)) if repeats > 1 else 0.0,
        "real_accuracy": float(np.mean([x[1] for x in results])),
        "fake_accuracy": float(np.mean([x[2] for x in results])),
        "repeats": int(repeats),
    }
