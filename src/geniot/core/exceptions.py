"""Exceptions shared by every layer.

Errors about user data say *where* the problem is (file, row, column) so that a plant
engineer can open the file and fix it without reading a traceback.
"""

from __future__ import annotations


class GeniotError(Exception):
    """Base class of every error geniot raises on purpose."""


class DataError(GeniotError, ValueError):
    """Bad input data. Carries the location so the message can name it.

    ``row`` is the 1-based data row as a spreadsheet would show it below the header
    (``None`` when the problem is not tied to one row).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        row: int | None = None,
    ) -> None:
        self.reason = message
        self.file = None if file is None else str(file)
        self.column = column
        self.row = row
        where = []
        if self.file is not None:
            where.append(f"file {self.file!r}")
        if column is not None:
            where.append(f"column {column!r}")
        if row is not None:
            where.append(f"row {row}")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)


class NotFittedError(GeniotError, AttributeError):
    """A method that needs learned state was called before ``fit``."""


class CapabilityError(GeniotError, NotImplementedError):
    """The model lacks a capability (tag) that the caller needs."""


class MissingExtraError(GeniotError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class ArtifactError(GeniotError, ValueError):
    """A saved model folder is missing, incomplete or not a geniot artifact."""
