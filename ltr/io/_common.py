"""Helpers shared by the readers: one error type, NaN-gap reporting, unit conversion."""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from .._validate import LtrDataWarning, ReadError

_F = TypeVar("_F", bound=Callable[..., Any])

#: Exceptions a reader lets through unchanged: they are about the path, the environment or
#: the options, not the file's content.
_PASS_THROUGH = (ReadError, ImportError, FileNotFoundError, IsADirectoryError,
                 PermissionError, KeyboardInterrupt, NameError)  # NameError: a bug in ltr


def as_read_error(path: object, what: str, err: BaseException) -> ReadError:
    """``err``, raised while reading ``path`` as ``what``, as a :class:`ReadError`."""
    if isinstance(err, ReadError):
        return err
    text = str(err).strip()
    if not what:
        what = os.path.splitext(str(path))[1][1:].upper() or "a recording"
    if isinstance(err, MemoryError):
        text = "reading it needs more memory than is available"
    elif not isinstance(err, ValueError) or not text:
        # a third party's own exception (h5py, zipfile, wfdb, AssertionError ...): name it
        text = f"could not be read as {what} ({type(err).__name__}: {text or 'no message'})"
    elif str(path) not in text:
        text = f"could not be read as {what}: {text}"
    return ReadError(os.fspath(path) if isinstance(path, str | os.PathLike) else str(path),
                     text, err)


def reader(what: str) -> Callable[[_F], _F]:
    """Decorate a reader so that any failure on the file's content is a :class:`ReadError`.

    ``FileNotFoundError``, ``ImportError`` (optional package missing) and ``TypeError`` for
    an option the reader does not take pass unchanged; anything else (MNE, h5py, zipfile,
    configparser, wfdb ... raise some twenty kinds on damaged files) becomes a ReadError
    naming the file, with the original kept as its cause.
    """
    def decorate(fn: _F) -> _F:
        @functools.wraps(fn)
        def wrapper(path: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return _check_result(path, fn(path, *args, **kwargs))
            except FileNotFoundError as err:
                # the file itself exists: what is missing is a file its header names
                if isinstance(path, str | os.PathLike) and os.path.isfile(path):
                    raise as_read_error(path, what, err) from err
                raise
            except _PASS_THROUGH:
                raise
            except TypeError as err:
                if "unexpected keyword" in str(err):
                    raise
                raise as_read_error(path, what, err) from err
            except (Exception, MemoryError, RecursionError) as err:
                raise as_read_error(path, what, err) from err

        return wrapper  # type: ignore[return-value]

    return decorate


#: Highest sampling rate a file may declare, Hz. Needle EMG is recorded at up to 50 kHz; a
#: higher rate comes from a corrupt header, and the detector's decimation then spins for
#: hours on a few microseconds of "signal".
MAX_SFREQ = 1e6


def check_rate(path: object, sfreq: float) -> float:
    """``sfreq`` (Hz) when a file may have it: at most :data:`MAX_SFREQ`, else a
    :class:`ReadError` naming ``path``."""
    if sfreq > MAX_SFREQ:
        raise ReadError(str(path), f"{path}: declared sampling rate {sfreq:g} Hz is "
                        f"above {MAX_SFREQ:g} Hz; the rate field is likely corrupt")
    return sfreq


def _check_result(path: object, out: Any) -> Any:
    """What every reader returns: at least one channel, a plausible sampling rate."""
    for rec in out if isinstance(out, list) else [out]:
        if rec.n_channels == 0:
            raise ReadError(str(path), f"{path}: no channels in the file")
        check_rate(path, rec.sfreq)
    return out


def check_block(block: np.ndarray, path: object, names: Sequence[str],
                channels: np.ndarray, start: int) -> np.ndarray:
    """Refuse ±inf in a block read lazily, as an in-memory :class:`ltr.Recording` does."""
    bad = np.isinf(block)
    if bad.any():
        row, col = (int(v[0]) for v in np.nonzero(bad))
        ch = int(channels[row])
        name = names[ch] if ch < len(names) else f"#{ch}"
        raise ReadError(str(path), f"{path}: channel {name!r} holds infinite values "
                        f"({int(bad.sum())} samples in this block), first at sample "
                        f"{start + col}; the file's scaling or samples are corrupt")
    return block


def nan_runs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start indices and lengths of the runs of NaN in a 1-D array (vectorized)."""
    mask = np.isnan(x)
    if not mask.any():
        empty = np.zeros(0, dtype=int)
        return empty, empty
    edges = np.diff(np.concatenate([[0], mask.view(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return starts, stops - starts


def describe_nan_gaps(
    data: np.ndarray, ch_names: Sequence[str], sfreq: float, max_listed: int = 5
) -> list[str]:
    """One line per channel with NaN gaps: count, total samples and the first positions."""
    lines = []
    for name, row in zip(ch_names, data, strict=True):
        starts, lengths = nan_runs(row)
        if starts.size == 0:
            continue
        where = ", ".join(
            f"{s / sfreq:.3f} s (+{n} samples)"
            for s, n in zip(starts[:max_listed], lengths[:max_listed], strict=True)
        )
        more = f", ... {starts.size - max_listed} more" if starts.size > max_listed else ""
        lines.append(
            f"channel {name!r}: {starts.size} NaN gap(s), {int(lengths.sum())} samples, "
            f"at {where}{more}"
        )
    return lines


def warn_nan_gaps(data: np.ndarray, ch_names: Sequence[str], sfreq: float, path: object) -> None:
    """Emit one :class:`LtrDataWarning` listing the NaN gaps of each channel, if any."""
    lines = describe_nan_gaps(data, ch_names, sfreq)
    if lines:
        warnings.warn(
            f"{path}: missing samples kept as NaN: " + "; ".join(lines),
            LtrDataWarning,
            stacklevel=3,
        )


def to_si(data: np.ndarray, orig_units: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Scale each row of ``data`` from its unit to SI in place; return the data and SI units."""
    from ..units import si_scale

    units = []
    for i, u in enumerate(orig_units):
        factor, si = si_scale(u)
        if factor != 1.0:
            data[i] *= factor
        units.append(si)
    return data, units
