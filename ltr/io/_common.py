"""Helpers shared by the readers: NaN-gap reporting and unit conversion."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from .._validate import LtrDataWarning


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
