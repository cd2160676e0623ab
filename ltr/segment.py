"""Needling epochs: from annotations, from a trigger channel, or from needling activity.

An *epoch* is one needle insertion: the time the needle is in. :class:`Epochs` holds them;
:func:`find_epochs` picks the best source a recording offers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .annotations import Annotations


@dataclass
class Epochs:
    """Needle-in epochs.

    Attributes
    ----------
    start, stop : ndarray
        Bounds in seconds, sorted and non-overlapping.
    source : str
        ``"annotations"``, ``"trigger"``, ``"activity"`` or ``"none"``.
    label : ndarray of str
        A label per epoch (the trigger code, or the opening annotation).
    """

    start: np.ndarray = field(default_factory=lambda: np.zeros(0))
    stop: np.ndarray = field(default_factory=lambda: np.zeros(0))
    source: str = "none"
    label: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))

    def __post_init__(self) -> None:
        self.start = np.asarray(self.start, float).reshape(-1)
        self.stop = np.asarray(self.stop, float).reshape(-1)
        if self.label.size != self.start.size:
            self.label = np.asarray([f"epoch {i}" for i in range(self.start.size)],
                                    dtype=object)
        if self.start.size != self.stop.size:
            raise ValueError(f"epochs need as many stops as starts, got {self.start.size} "
                             f"and {self.stop.size}")
        if np.any(self.stop <= self.start):
            raise ValueError("every epoch must stop after it starts")
        order = np.argsort(self.start)
        self.start, self.stop, self.label = self.start[order], self.stop[order], \
            self.label[order]
        if np.any(self.start[1:] < self.stop[:-1]):
            raise ValueError("epochs must not overlap")

    def __len__(self) -> int:
        return int(self.start.size)

    @property
    def duration(self) -> np.ndarray:
        """Length of each epoch, s."""
        return self.stop - self.start

    def assign(self, times: np.ndarray) -> np.ndarray:
        """Index of the epoch holding each time, -1 outside every epoch."""
        return assign_epochs(times, self.start, self.stop)

    def to_data_frame(self) -> Any:
        """The epochs as a :class:`pandas.DataFrame`.

        Returns
        -------
        pandas.DataFrame
            One row per epoch: ``epoch`` (index from 0), ``start_s`` and ``stop_s`` (s from
            the first sample), ``duration_s`` (s), ``label`` and ``source``.
        """
        import pandas as pd

        return pd.DataFrame({"epoch": np.arange(len(self)), "start_s": self.start,
                             "stop_s": self.stop, "duration_s": self.duration,
                             "label": self.label.astype(str),
                             "source": np.full(len(self), self.source, dtype=object)})

    def to_annotations(self, description: str = "needle") -> Annotations:
        """One annotation with a duration per epoch."""
        return Annotations(self.start, self.duration, description)


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


def epochs_from_trigger(
    trigger: np.ndarray,
    sfreq: float,
    *,
    start_code: float | None = None,
    stop_code: float | None = None,
    min_duration: float = 0.5,
) -> Epochs:
    """Needle-in epochs from a trigger or marker channel.

    Two conventions are understood:

    - *level*: the channel is high while the needle is in (a foot switch, a gate). Epochs
      are the stretches above half the channel's largest value (``start_code`` and
      ``stop_code`` left as None).
    - *codes*: the channel steps to ``start_code`` at insertion and to ``stop_code`` at
      removal (BioSemi status words, parallel-port markers). Each rising edge to
      ``start_code`` opens an epoch that the next rising edge to ``stop_code`` closes.

    Parameters
    ----------
    trigger : ndarray, shape (n_samples,)
    sfreq : float
    start_code, stop_code : float | None
        Marker values of insertion and removal (codes convention).
    min_duration : float
        Shorter epochs (s) are glitches and dropped.

    Returns
    -------
    Epochs
        With ``label`` the code (codes) or ``"level"``.
    """
    x = np.nan_to_num(np.asarray(trigger, float))
    if start_code is None:
        top = np.max(np.abs(x)) if x.size else 0.0
        if top <= 0:
            return Epochs(source="trigger")
        high = np.abs(x) > 0.5 * top
        edges = np.diff(np.concatenate([[0], high.view(np.int8), [0]]))
        s, e = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        keep = (e - s) / sfreq >= min_duration
        return Epochs(s[keep] / sfreq, e[keep] / sfreq, "trigger",
                      np.full(int(keep.sum()), "level", dtype=object))
    rising = np.flatnonzero((x[1:] != x[:-1]) & (x[1:] != 0)) + 1
    codes = x[rising]
    opens = rising[codes == start_code]
    closes = rising[codes == stop_code] if stop_code is not None else np.zeros(0, int)
    starts, stops = [], []
    for k, i in enumerate(opens):  # a loop over insertions
        nxt = opens[k + 1] if k + 1 < opens.size else x.size
        after = closes[(closes > i) & (closes <= nxt)]
        j = after[0] if after.size else nxt
        if (j - i) / sfreq >= min_duration:
            starts.append(i / sfreq)
            stops.append(j / sfreq)
    return Epochs(np.asarray(starts), np.asarray(stops), "trigger",
                  np.full(len(starts), str(start_code), dtype=object))


def epochs_from_activity(
    times: Sequence[float] | np.ndarray,
    *,
    gap: float = 8.0,
    pad: float = 1.0,
    min_events: int = 2,
    end: float | None = None,
) -> Epochs:
    """Needle-in epochs guessed from needling activity when nothing marks them.

    Needling leaves traces: twitches, needle-contact spikes, cable motion. Events closer
    than ``gap`` seconds form one cluster; clusters with at least ``min_events`` events
    become epochs padded by ``pad`` seconds (clipped to the recording).

    Parameters
    ----------
    times : array_like of float
        Event times, s (e.g. twitch onsets plus rejected needle spikes and motion).
    gap, pad : float
        Seconds.
    min_events : int
        Smallest cluster that counts as an insertion.
    end : float | None
        Recording length, s.

    Returns
    -------
    Epochs
    """
    t = np.sort(np.asarray(times, float))
    if t.size == 0:
        return Epochs(source="activity")
    new = np.r_[True, np.diff(t) > gap]
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, t.size - 1]
    keep = (last - first + 1) >= min_events
    starts = np.maximum(t[first[keep]] - pad, 0.0)
    stops = t[last[keep]] + pad
    if end is not None:
        stops = np.minimum(stops, end)
    # padding must not make neighbouring clusters overlap
    if starts.size > 1:
        mid = (stops[:-1] + starts[1:]) / 2
        clash = stops[:-1] > starts[1:]
        stops[:-1][clash] = mid[clash]
        starts[1:][clash] = mid[clash]
    return Epochs(starts, stops, "activity")


def assign_epochs(times: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Index of the epoch holding each time, -1 outside every epoch."""
    times = np.asarray(times, float)
    if starts.size == 0:
        return np.full(times.size, -1)
    i = np.searchsorted(starts, times, side="right") - 1
    inside = (i >= 0) & (times <= stops[np.clip(i, 0, None)])
    return np.where(inside, i, -1)


def find_epochs(
    recording: object,
    *,
    start: str = "needle in",
    stop: str = "needle out",
    trigger: str | None = None,
    start_code: float | None = None,
    stop_code: float | None = None,
) -> Epochs:
    """Needle-in epochs from what a recording offers.

    Annotations named ``start``/``stop`` come first; then a trigger channel (``trigger``
    names it, otherwise the first channel of kind ``trigger``). Returns empty
    ``Epochs(source="none")`` when neither marks anything; :func:`ltr.detect` then falls
    back to :func:`epochs_from_activity`.
    """
    from .recording import Recording

    if not isinstance(recording, Recording):
        raise TypeError(f"find_epochs needs an ltr.Recording, got {type(recording).__name__}")
    s, e = epochs_from_annotations(recording.annotations, start, stop, end=recording.duration)
    if s.size:
        return Epochs(s, e, "annotations", np.full(s.size, start, dtype=object))
    names = [n for n, k in zip(recording.ch_names, recording.ch_kinds, strict=True)
             if k == "trigger"] if trigger is None else [trigger]
    for name in names[:1]:
        ep = epochs_from_trigger(recording.get_data(picks=name)[0], recording.sfreq,
                                 start_code=start_code, stop_code=stop_code)
        if len(ep):
            return ep
    if len(recording.annotations):  # labels present, none matched: say so before guessing
        import warnings; from ._validate import LtrDataWarning; warnings.warn(f"{recording.meta.get('source', 'recording')}: no annotation is {start!r}/{stop!r} (labels: {sorted(set(recording.annotations.description.astype(str).tolist()))[:8]}); epochs fall back to needling activity; name the labels with start=, stop=", LtrDataWarning, stacklevel=2)  # noqa: E501, E702, I001
    return Epochs(source="none")
