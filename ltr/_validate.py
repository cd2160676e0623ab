"""Validation helpers: errors name the parameter, what is allowed and what was received."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class LtrDataWarning(UserWarning):
    """Data are usable but something in them deserves attention (NaN gaps, irregular time)."""


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
    ValueError
        If the file is empty.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise IsADirectoryError(f"{p}: is a directory, expected a recording file")
    if p.stat().st_size == 0:
        raise ValueError(f"{p}: the file is empty (0 bytes)")
    return p
