"""The CLI's words for the workflows' domain errors: the flag that fixes each problem.

Workflows say what is wrong in the plant's terms (:mod:`geniot.workflows.errors`); the CLI adds
how to fix it on the command line, the service answers with an HTTP status instead.
"""

from __future__ import annotations

FLAG_HINTS = {
    "no_calibration": "pass --train-rows K (the first K rows of the data are normal) or --normal FILE",
    "normal_data": "pass either --train-rows K (within the series) or --normal FILE, not both",
    "asset_choice": "pass --asset NAME",
    "training_data": "give the data file the model was trained on (its training record names it)",
    "not_enough_data": "use a shorter --window or more data",
    "calibration_on_training_rows": "calibrate on held-out normal data with --normal FILE",
}


def with_hint(problem: BaseException | Warning | str) -> str:
    """The message of an error or warning, plus the flag that fixes it when there is one."""
    text = str(problem)
    hint = FLAG_HINTS.get(getattr(problem, "problem", None) or getattr(type(problem), "problem", ""))
    return f"{text}; {hint}" if hint else text
