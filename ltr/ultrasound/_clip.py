"""A cine loop: grey frames at a frame rate, read whole or in blocks."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def to_grey(frames: np.ndarray) -> np.ndarray:
    """Frames as grey levels, ``(n, rows, columns)``: 8-bit grey frames as they are
    (no copy), colour frames (a last axis of 3 or 4) reduced by the luma weights of
    ITU-R BT.601 (colour overlays such as Doppler then count a little), other types as
    float32."""
    a = np.asarray(frames)
    if a.ndim == 2:
        a = a[np.newaxis]
    if a.ndim == 4:
        a = a[..., :3].astype(np.float32) @ np.asarray([0.299, 0.587, 0.114], np.float32)
    if a.ndim != 3:
        raise ValueError(f"frames must be (n, rows, columns) or (n, rows, columns, 3), got "
                         f"shape {np.asarray(frames).shape}")
    return a if a.dtype == np.uint8 else a.astype(np.float32, copy=False)


@dataclass
class Clip:
    """A cine loop.

    Parameters
    ----------
    frames : ndarray | None
        ``(n_frames, rows, columns)`` grey or ``(..., 3)`` colour frames in memory; or
        None with ``reader``.
    fps : float
        Frame rate, frames/s.
    spacing_mm : float | None
        Physical size of a pixel (mm; square pixels assumed, the mean of the two when not),
        None when unknown: motion is then in px/s.
    source : str
        Where the clip came from (file name), for messages.
    reader : callable | None
        ``reader(start, stop)`` returns frames ``start:stop`` (any of the shapes above):
        the clip is read block by block, never whole.
    n_frames, shape : int, (int, int)
        Needed with ``reader``.
    meas_date : datetime | None
        Wall-clock time of the first frame (for synchronising with EMG).
    times : ndarray | None
        Time of each frame (s from the first) when the frames are not evenly spaced
        (DICOM FrameTimeVector).
    meta : dict
        Reader's extras (transfer syntax, manufacturer, regions ...).
    """

    frames: np.ndarray | None
    fps: float
    spacing_mm: float | None = None
    source: str = ""
    reader: Callable[[int, int], np.ndarray] | None = None
    n_frames: int = 0
    shape: tuple[int, int] = (0, 0)
    meas_date: _dt.datetime | None = None
    times: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (isinstance(self.fps, int | float | np.floating) and np.isfinite(self.fps)
                and self.fps > 0):
            raise ValueError(f"{self.source or 'clip'}: fps must be a positive number, got "
                             f"{self.fps!r}")
        self.fps = float(self.fps)
        if self.frames is not None:
            f = np.asarray(self.frames)
            if f.ndim == 2:
                f = f[np.newaxis]
            if f.ndim not in (3, 4):
                raise ValueError(f"{self.source or 'clip'}: frames must be (n, rows, columns)"
                                 f"[, 3], got shape {f.shape}")
            self.frames = f
            self.n_frames = int(f.shape[0])
            self.shape = (int(f.shape[1]), int(f.shape[2]))
        elif self.reader is None:
            raise ValueError(f"{self.source or 'clip'}: give frames or a reader")
        if self.spacing_mm is not None and not self.spacing_mm > 0:
            raise ValueError(f"{self.source or 'clip'}: spacing_mm must be > 0 or None, got "
                             f"{self.spacing_mm!r}")

    @property
    def duration(self) -> float:
        """Seconds: frames / fps."""
        return self.n_frames / self.fps

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Grey frames ``start:stop`` (``(k, rows, columns)``, :func:`to_grey`)."""
        stop = self.n_frames if stop is None else min(stop, self.n_frames)
        start = max(0, start)
        if self.frames is not None:
            return to_grey(self.frames[start:stop])
        assert self.reader is not None
        return to_grey(self.reader(start, stop))

    def blocks(self, size: int = 64, overlap: int = 0) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, frames)`` pieces of ``size`` frames, each beginning ``overlap`` frames
        before the previous one ended (memory bounded by the block)."""
        if size <= overlap:
            raise ValueError(f"size ({size}) must exceed overlap ({overlap})")
        start = 0
        while start < self.n_frames:
            s0 = max(0, start - overlap)
            yield s0, self.read(s0, start + size)
            start += size

    def __repr__(self) -> str:
        sp = f"{self.spacing_mm:g} mm/px" if self.spacing_mm else "spacing unknown"
        return (f"<Clip {self.source or ''} {self.n_frames} frames {self.shape[0]}x"
                f"{self.shape[1]} at {self.fps:g} fps ({self.duration:.1f} s), {sp}>")
