"""Annotations: timed, labelled intervals attached to a recording (needle in/out, markers)."""

from __future__ import annotations

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

    __slots__ = ("description", "duration", "onset")

    def __init__(
        self,
        onset: Iterable[float] = (),
        duration: Iterable[float] | float = 0.0,
        description: Iterable[str] | str = (),
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

    # -- container protocol -------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.onset.size)

    def __iter__(self) -> Iterator[tuple[float, float, str]]:
        for o, d, s in zip(self.onset, self.duration, self.description, strict=True):
            yield float(o), float(d), str(s)

    def __getitem__(self, index: Any) -> Annotations:
        idx = np.atleast_1d(np.arange(len(self))[index])
        return Annotations(self.onset[idx], self.duration[idx], self.description[idx])

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
        return Annotations(
            np.concatenate([self.onset, other.onset]),
            np.concatenate([self.duration, other.duration]),
            np.concatenate([self.description, other.description]),
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
        return Annotations(on - tmin, off - on, self.description[keep])

    def copy(self) -> Annotations:
        """A deep copy."""
        return Annotations(self.onset.copy(), self.duration.copy(), self.description.copy())

    # -- MNE ----------------------------------------------------------------------------
    def to_mne(self, orig_time: Any = None) -> Any:
        """Return an :class:`mne.Annotations` with the same onsets (relative to ``orig_time``)."""
        import mne

        return mne.Annotations(
            self.onset, self.duration, self.description.astype(str), orig_time=orig_time
        )

    @classmethod
    def from_mne(cls, annotations: Any, first_time: float = 0.0) -> Annotations:
        """Build from :class:`mne.Annotations`; ``first_time`` is the Raw's first sample time.

        MNE onsets are relative to ``orig_time`` when it is set; subtract the time of the
        first sample so onsets become relative to the recording start.
        """
        onset = np.asarray(annotations.onset, float)
        if annotations.orig_time is not None:
            onset = onset - first_time
        return cls(onset, np.asarray(annotations.duration, float), list(annotations.description))
