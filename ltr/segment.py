"""Needling epochs: from paired annotations (``needle in`` / ``needle out``)."""

from __future__ import annotations

import numpy as np

from .annotations import Annotations


def epochs_from_annotations(
    annotations: Annotations,
    start: str = "needle in",
    stop: str = "needle out",
    *,
    end: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Needle-in epochs from annotations.

    Each ``start`` annotation opens an epoch that the next ``stop`` annotation closes. An
    opening annotation with a duration and no matching ``stop`` lasts its duration; one
    without either lasts until the next ``start`` or ``end``.

    Parameters
    ----------
    annotations : Annotations
    start, stop : str
        Descriptions that open and close an epoch (case-insensitive).
    end : float | None
        End of the recording, s, closing an epoch left open.

    Returns
    -------
    starts, stops : ndarray
        Epoch bounds in seconds, sorted, non-overlapping.

    Examples
    --------
    >>> ann = Annotations([1, 5, 10, 14], 0, ["needle in", "needle out", "needle in",
    ...                                        "needle out"])
    >>> epochs_from_annotations(ann)
    (array([ 1., 10.]), array([ 5., 14.]))
    """
    desc = np.char.lower(annotations.description.astype(str))
    on = np.flatnonzero(desc == start.lower())
    off_times = annotations.onset[desc == stop.lower()]
    starts, stops = [], []
    for k, i in enumerate(on):  # a loop over a handful of needle insertions
        t0 = annotations.onset[i]
        nxt = annotations.onset[on[k + 1]] if k + 1 < on.size else np.inf
        closing = off_times[(off_times >= t0) & (off_times <= nxt)]
        if closing.size:
            t1 = closing[0]
        elif annotations.duration[i] > 0:
            t1 = t0 + annotations.duration[i]
        else:
            t1 = min(nxt, end if end is not None else np.inf)
        if np.isfinite(t1) and t1 > t0:
            starts.append(t0)
            stops.append(t1)
    return np.asarray(starts, float), np.asarray(stops, float)


def assign_epochs(times: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Index of the epoch holding each time, -1 outside every epoch."""
    times = np.asarray(times, float)
    if starts.size == 0:
        return np.full(times.size, -1)
    i = np.searchsorted(starts, times, side="right") - 1
    inside = (i >= 0) & (times <= stops[np.clip(i, 0, None)])
    return np.where(inside, i, -1)
