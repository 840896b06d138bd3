"""Domain errors of the use cases: what is wrong, in the words of the plant, never a front end's.

A workflow raises one of these; each front end says it in its own words: the CLI adds the flag
that fixes it (:mod:`geniot.cli.hints`), the service answers with the HTTP status of
:attr:`WorkflowError.status`. Each is a :class:`~geniot.core.exceptions.DataError`, so code that
handles bad input in general keeps handling them.
"""

from __future__ import annotations

from geniot.core.exceptions import DataError


class WorkflowError(DataError):
    """A use case cannot run on what it was given. ``problem`` names the kind of problem."""

    problem = "workflow"
    status = 422  # the request is well formed but cannot be carried out


class TrainingDataError(WorkflowError):
    """The data given is not the data the model was trained on (or the model records none)."""

    problem = "training_data"


class NoCalibrationError(WorkflowError):
    """A model has no calibrated detector and no normal data was named to calibrate one."""

    problem = "no_calibration"
    status = 409  # the model's state, not the request, is what is missing


class NormalDataError(WorkflowError):
    """The normal data named for calibration is unusable (out of range, two sources, ...)."""

    problem = "normal_data"


class AssetChoiceError(WorkflowError):
    """The data holds several assets and the use case needs one."""

    problem = "asset_choice"


class NotEnoughDataError(WorkflowError):
    """Too little data for the window (or the split) asked for."""

    problem = "not_enough_data"


class TrainingRowsWarning(UserWarning):
    """A detector is calibrated on rows its generator was trained on: the threshold comes out
    low and flags more."""

    problem = "calibration_on_training_rows"


class ChannelsLeftOutWarning(UserWarning):
    """The data has signals the model was not trained on: they are left out of the model's work
    (not scored, not filled) and said, instead of refusing the whole file."""

    problem = "channels_left_out"
