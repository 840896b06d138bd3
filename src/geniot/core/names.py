"""The one rule for names that can reach the file system or the store, and the one path helper.

Every asset, signal and model name that a user, a file, an HTTP request, an MQTT topic or a
question hands geniot goes through :func:`check_name`; every file path built from such a name
goes through :func:`path_under`, which refuses anything that resolves outside its root. Nothing
a user or a message names is joined into a path any other way.
"""

from __future__ import annotations

import re
from pathlib import Path

from geniot.core.exceptions import DataError

MAX_NAME_LENGTH = 128
# Letters, digits and `_ . - : space`; it starts with a letter, digit or `_` and does not end in
# a dot or a space (Windows drops those, so two names would share one folder).
_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-: ]{0,126}[A-Za-z0-9_\-:])?")
NAME_RULE = "1-128 letters, digits, '_', '.', '-', ':' or spaces, starting with a letter, digit or '_', not ending in '.' or a space"


class InvalidNameError(DataError):
    """A name that breaks the name rule; ``what`` says which kind of name it was."""


def is_valid_name(value: object) -> bool:
    return isinstance(value, str) and _NAME.fullmatch(value) is not None


def check_name(value: object, what: str = "name") -> str:
    """Return ``value`` if it is a valid name, else raise :class:`InvalidNameError` naming ``what``.

    Full match (a trailing newline is not allowed), never ``.`` or ``..``, no path separators or
    control characters, at most 128 characters.
    """
    if not isinstance(value, str):
        raise InvalidNameError(f"{what} must be text, got {type(value).__name__}")
    if _NAME.fullmatch(value) is None:
        shown = value if len(value) <= 64 else value[:61] + "..."
        raise InvalidNameError(f"{what} {shown!r} is not a valid name ({NAME_RULE})")
    return value


def safe_component(value: str) -> str:
    """A name turned into a string that is safe as one path component (for names that were
    validated elsewhere with a looser rule, e.g. a file's column header): unsafe characters become
    ``_``; the result always passes :func:`check_name`."""
    text = re.sub(r"[^A-Za-z0-9_.\-]+", "_", str(value)).strip("._ ")[:MAX_NAME_LENGTH] or "_"
    return text if _NAME.fullmatch(text) else "_" + text[: MAX_NAME_LENGTH - 1].rstrip(". ")


def path_under(root: Path | str, *names: str, what: str = "name") -> Path:
    """``root/name1/name2...`` after checking each name, refusing any result outside ``root``.

    File names with an extension are fine (``"P-1.csv"`` passes the name rule). The check on the
    resolved path also catches a symlink inside ``root`` that points elsewhere.
    """
    base = Path(root)
    path = base
    for name in names:
        path = path / check_name(name, what)
    root_resolved = base.resolve()
    resolved = path.resolve()
    if resolved != root_resolved and root_resolved not in resolved.parents:
        raise InvalidNameError(f"{what} {'/'.join(names)!r} resolves to {resolved}, outside {root_resolved}")
    return path
