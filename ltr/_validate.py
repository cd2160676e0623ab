"""Validation helpers: errors name the parameter, what is allowed and what was received."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class LtrDataWarning(UserWarning):
    """Data are usable but something in them deserves attention (NaN gaps, irregular time)."""


class ReadError(ValueError):
    """A file could not be read as a recording.

    Every reader (:func:`ltr.read` and the format readers behind it) raises this, and only
    this, for a file it cannot read: malformed, truncated, implausible or hostile content,
    and failures of the third-party package behind the format (MNE, h5py, wfdb, c3d,
    bioread ...). A missing file is still ``FileNotFoundError``, a missing optional package
    ``ImportError`` and an option the reader does not take ``TypeError``.

    Parameters
    ----------
    path : path-like
        The file; the message starts with it unless it already names it.
    message : str
        What is wrong, naming the channel and header field where one is known.

    Attributes
    ----------
    path : pathlib.Path
        The file that could not be read.
    cause : BaseException | None
        The underlying exception (also ``__cause__``), e.g. an ``h5py`` or ``zipfile``
        error, or None when ltr itself refused the content.
    """

    def __init__(self, path: str | os.PathLike[str], message: str,
                 cause: BaseException | None = None) -> None:
        self.path = Path(path)
        self.cause = cause
        text = message if str(path) in message else f"{path}: {message}"
        super().__init__(text)

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across process pools
        return (type(self), (self.path, str(self), self.cause))


def check_option(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise a ValueError naming all three."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")
    return value


def check_sfreq(sfreq: Any, *, where: str = "") -> float:
    """Return ``sfreq`` as a finite positive float or raise a ValueError."""
    prefix = f"{where}: " if where else ""
    try:
        value = float(sfreq)
    except (TypeError, ValueError):
        raise TypeError(f"{prefix}sfreq must be a number in Hz, got {sfreq!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{prefix}sfreq must be a finite positive number in Hz, got {sfreq!r}")
    return value


def check_positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (or >= 0) or raise a ValueError."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    ok = v >= 0 if allow_zero else v > 0
    if not math.isfinite(v) or not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return v


def check_file(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a Path to an existing, non-empty regular file.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    IsADirectoryError
        If the path is a directory.
    ReadError
        If the file is empty.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise IsADirectoryError(f"{p}: is a directory, expected a recording file")
    if p.stat().st_size == 0:
        raise ReadError(p, f"{p}: the file is empty (0 bytes)")
    return p
