"""Annotations: timed, labelled intervals attached to a recording (needle in/out, markers)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np


class Annotations:
    """Timed labels on a recording, held as three parallel arrays.

    Parameters
    ----------
    onset : array_like of float
        Start of each annotation in seconds from the first sample of the recording.
    duration : array_like of float
        Duration in seconds (0 for an instant); broadcast if scalar.
    description : array_like of str
        Label of each annotation, e.g. ``"needle in"``.
    orig_time : datetime.datetime | None
        Wall-clock time of onset 0 (the recording's first sample) when known, e.g. the
        ``meas_date`` of the recording the annotations came from. :meth:`to_mne` uses it
        to line the onsets up with a Raw's annotations.

    Notes
    -----
    Onsets are relative to the recording start, as in MNE with ``orig_time`` equal to the
    measurement date. Annotations are kept sorted by onset (stable for ties).

    Examples
    --------
    >>> ann = Annotations([1.0, 4.5], [3.0, 0.0], ["needle in", "marker"])
    >>> len(ann), ann.counts()
    (2, {'marker': 1, 'needle in': 1})
    """

    __slots__ = ("description", "duration", "onset", "orig_time")

    def __init__(
        self,
        onset: Iterable[float] = (),
        duration: Iterable[float] | float = 0.0,
        description: Iterable[str] | str = (),
        *,
        orig_time: _dt.datetime | None = None,
    ) -> None:
        on = np.asarray(list(onset) if not isinstance(onset, np.ndarray) else onset, float)
        on = on.reshape(-1)
        dur = np.broadcast_to(np.asarray(duration, float), on.shape).copy()
        if isinstance(description, str):
            desc = np.full(on.shape, description, dtype=object)
        else:
            desc = np.asarray([str(d) for d in description], dtype=object).reshape(-1)
        if desc.shape != on.shape:
            raise ValueError(
                f"annotations need one description per onset: got {on.size} onsets and "
                f"{desc.size} descriptions"
            )
        if not np.all(np.isfinite(on)):
            raise ValueError(f"annotation onsets must be finite, got {on[~np.isfinite(on)]}")
        if np.any(~np.isfinite(dur) | (dur < 0)):
            bad = dur[~np.isfinite(dur) | (dur < 0)]
            raise ValueError(f"annotation durations must be finite and >= 0, got {bad}")
        order = np.argsort(on, kind="stable")
        self.onset: np.ndarray = on[order]
        self.duration: np.ndarray = dur[order]
        self.description: np.ndarray = desc[order]
        if orig_time is not None and not isinstance(orig_time, _dt.datetime):
            raise TypeError(f"orig_time must be a datetime or None, got {orig_time!r}")
        if orig_time is not None and orig_time.tzinfo is None:
            orig_time = orig_time.replace(tzinfo=_dt.timezone.utc)
        self.orig_time: _dt.datetime | None = orig_time

    # -- container protocol -------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.onset.size)

    def __iter__(self) -> Iterator[tuple[float, float, str]]:
        for o, d, s in zip(self.onset, self.duration, self.description, strict=True):
            yield float(o), float(d), str(s)

    def __getitem__(self, index: Any) -> Annotations:
        idx = np.atleast_1d(np.arange(len(self))[index])
        return Annotations(self.onset[idx], self.duration[idx], self.description[idx],
                           orig_time=self.orig_time)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Annotations):
            return NotImplemented
        return (
            len(self) == len(other)
            and np.array_equal(self.onset, other.onset)
            and np.array_equal(self.duration, other.duration)
            and list(self.description) == list(other.description)
        )

    def __add__(self, other: Annotations) -> Annotations:
        """Both sets in one; ``orig_time`` is the first one known (onsets are not moved)."""
        return Annotations(
            np.concatenate([self.onset, other.onset]),
            np.concatenate([self.duration, other.duration]),
            np.concatenate([self.description, other.description]),
            orig_time=self.orig_time if self.orig_time is not None else other.orig_time,
        )

    def __repr__(self) -> str:
        counts = ", ".join(f"{k!r}: {v}" for k, v in self.counts().items())
        return f"<Annotations | {len(self)} ({counts})>"

    # -- queries --------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Number of annotations per description, sorted by description."""
        values, counts = np.unique(self.description.astype(str), return_counts=True)
        return {str(v): int(c) for v, c in zip(values, counts, strict=True)}

    def select(self, description: str | Iterable[str]) -> Annotations:
        """Annotations whose description equals ``description`` (or is one of them)."""
        wanted = {description} if isinstance(description, str) else set(description)
        mask = np.array([d in wanted for d in self.description], dtype=bool)
        return self[mask]

    def crop(self, tmin: float, tmax: float) -> Annotations:
        """Keep annotations that overlap ``[tmin, tmax]``, clipped to it and shifted by -tmin.

        An instant (duration 0) is kept when ``tmin <= onset <= tmax``.
        """
        end = self.onset + self.duration
        keep = (end >= tmin) & (self.onset <= tmax)
        on = np.clip(self.onset[keep], tmin, tmax)
        off = np.clip(end[keep], tmin, tmax)
        orig = None if self.orig_time is None else \
            self.orig_time + _dt.timedelta(seconds=float(tmin))
        return Annotations(on - tmin, off - on, self.description[keep], orig_time=orig)

    def copy(self) -> Annotations:
        """A deep copy."""
        return Annotations(self.onset.copy(), self.duration.copy(), self.description.copy(),
                           orig_time=self.orig_time)

    def to_data_frame(self) -> Any:
        """The annotations as a :class:`pandas.DataFrame`.

        Returns
        -------
        pandas.DataFrame
            Columns ``onset`` (s from the first sample), ``duration`` (s) and
            ``description``.
        """
        import pandas as pd

        return pd.DataFrame({"onset": self.onset, "duration": self.duration,
                             "description": self.description.astype(str)})

    # -- MNE ----------------------------------------------------------------------------
    def to_mne(self, orig_time: Any = None, *, first_time: float = 0.0) -> Any:
        """The annotations as :class:`mne.Annotations`.

        Parameters
        ----------
        orig_time : datetime.datetime | None
            The ``orig_time`` of the MNE annotations, e.g. ``raw.annotations.orig_time``.
            None uses :attr:`orig_time` (the recording's start, when known: the
            ``meas_date`` of a Raw read from a file with ``first_samp`` 0). When both are
            known, onsets are shifted by their difference, so they keep their wall-clock
            time.
        first_time : float
            Seconds from ``orig_time`` to the first sample when :attr:`orig_time` is not
            known (``raw.first_samp / raw.info["sfreq"]``); ignored otherwise.

        Returns
        -------
        mne.Annotations
            Adding it to ``raw.annotations`` works when ``orig_time`` matches theirs.

        Examples
        --------
        >>> import datetime as dt
        >>> start = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.timezone.utc)
        >>> ann = Annotations([1.0], 0.5, "twitch", orig_time=start)
        >>> ann.to_mne(start - dt.timedelta(seconds=10)).onset
        array([11.])
        """
        import mne

        if orig_time is None:
            orig_time, shift = self.orig_time, 0.0
        elif self.orig_time is not None:
            orig = orig_time
            if isinstance(orig, tuple):  # MNE's (seconds, microseconds)
                orig = _dt.datetime.fromtimestamp(orig[0] + orig[1] * 1e-6, _dt.timezone.utc)
            if orig.tzinfo is None:
                orig = orig.replace(tzinfo=_dt.timezone.utc)
            shift = (self.orig_time - orig).total_seconds()
        else:
            shift = float(first_time)
        return mne.Annotations(self.onset + shift, self.duration,
                               self.description.astype(str), orig_time=orig_time)

    @classmethod
    def from_mne(cls, annotations: Any, first_time: float = 0.0) -> Annotations:
        """Build from :class:`mne.Annotations`; ``first_time`` is the Raw's first sample time.

        MNE onsets are relative to ``orig_time`` when it is set; subtract the time of the
        first sample so onsets become relative to the recording start.
        """
        onset = np.asarray(annotations.onset, float)
        orig = None
        if annotations.orig_time is not None:
            onset = onset - first_time
            orig = annotations.orig_time + _dt.timedelta(seconds=float(first_time))
        return cls(onset, np.asarray(annotations.duration, float), list(annotations.description),
                   orig_time=orig)
