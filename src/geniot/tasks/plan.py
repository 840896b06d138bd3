"""Maintenance plan from a fleet's RUL distributions, costs and crew capacity.

Each unit's time to failure T (in days) is taken as a log-normal fitted to its predicted median
and 10-90% interval (the RUL estimator's output). Servicing a unit on day d costs ``planned`` if
it has not failed by then and ``unplanned`` if it has (P(T < d)); the day chosen for a unit
minimises the expected cost per day of service life, E[cost] / E[min(T, d)] (the classic
age-replacement rule: early service wastes life, late service risks a failure). Units are then
placed in order of urgency; a day already holding ``crew_per_day`` jobs pushes the unit to the
nearest earlier free day (earlier is safer), else the nearest later one. The plan's expected
cost is compared with run-to-failure (every unit fails: ``unplanned`` each).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from geniot.core.exceptions import DataError

_Z90 = norm.ppf(0.9)


def _lognormal(median: float, lower: float, upper: float) -> tuple[float, float]:
    mu = np.log(max(median, 1e-3))
    spread = (np.log(max(upper, 1e-3)) - np.log(max(lower, 1e-3))) / (2 * _Z90)
    return mu, max(spread, 0.05)


def plan_maintenance(
    fleet: pd.DataFrame,
    *,
    planned: float,
    unplanned: float,
    crew_per_day: int,
    horizon_days: int = 60,
    cycles_per_day: float = 1.0,
) -> tuple[pd.DataFrame, dict]:
    """``fleet``: one row per unit with ``unit``, ``rul`` and optionally ``lower``/``upper``
    (in cycles). Returns the plan (unit, day, p_failure_before, expected_cost) and a summary."""
    for col in ("unit", "rul"):
        if col not in fleet:
            raise DataError(f"missing column {col!r}; the fleet table needs unit, rul[, lower, upper]")
    if crew_per_day < 1:
        raise DataError(f"crew capacity must be at least 1 job per day, got {crew_per_day}")
    if not 0 < planned < unplanned:
        raise DataError(f"costs must satisfy 0 < planned ({planned}) < unplanned ({unplanned})")
    if fleet["unit"].duplicated().any():
        raise DataError(f"unit {fleet['unit'][fleet['unit'].duplicated()].iloc[0]!r} appears twice", column="unit")
    days = np.arange(0, int(horizon_days) + 1)
    choices = []
    for row in fleet.itertuples(index=False):
        med = float(row.rul) / cycles_per_day
        lo = float(getattr(row, "lower", med * 0.7)) / cycles_per_day
        hi = float(getattr(row, "upper", med * 1.3)) / cycles_per_day
        if not np.isfinite([med, lo, hi]).all():
            raise DataError(f"unit {row.unit!r} has a missing or infinite RUL", column="rul")
        mu, sigma = _lognormal(med, min(lo, med), max(hi, med))
        p_fail = norm.cdf((np.log(np.maximum(days, 1e-6)) - mu) / sigma)
        p_fail[0] = 0.0
        # E[min(T, d)] = integral of the survival function from 0 to d
        survival = 1.0 - p_fail
        life = np.concatenate([[0.0], np.cumsum(0.5 * (survival[1:] + survival[:-1]))])
        cost = p_fail * unplanned + (1.0 - p_fail) * planned
        rate = np.where(life > 0, cost / np.maximum(life, 1e-9), np.inf)
        best = int(np.argmin(rate))
        choices.append((row.unit, best, p_fail, cost))
    load = np.zeros(len(days), dtype=int)
    rows = []
    for unit, best, p_fail, cost in sorted(choices, key=lambda c: c[1]):
        day = _free_day(load, best, crew_per_day)
        if day is None:
            rows.append({"unit": unit, "day": None, "p_failure_before": 1.0, "expected_cost": unplanned})
            continue
        load[day] += 1
        rows.append({"unit": unit, "day": int(day), "p_failure_before": float(p_fail[day]), "expected_cost": float(cost[day])})
    plan = pd.DataFrame(rows)
    summary = {
        "expected_cost_plan": float(plan["expected_cost"].sum()),
        "expected_cost_run_to_failure": float(unplanned * len(plan)),
        "unscheduled_units": int(plan["day"].isna().sum()),
        "max_jobs_per_day": int(load.max()),
    }
    return plan, summary


def _free_day(load: np.ndarray, best: int, capacity: int) -> int | None:
    for day in range(best, 0, -1):  # earlier is safer; day 0 means "now" and counts too
        if load[day] < capacity:
            return day
    if load[0] < capacity:
        return 0
    for day in range(best + 1, len(load)):
        if load[day] < capacity:
            return day
    return None
