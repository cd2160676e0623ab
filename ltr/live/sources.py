"""Where a live signal comes from: a file replayed in real time, a file still being
written, or a Lab Streaming Layer stream (:class:`ltr.live.lsl.LslInlet`).

Every source has ``sfreq``, ``ch_names``, ``ch_kinds``, ``units``, ``chunks()`` (arrays of
channels × samples in SI units, in order) and ``close()``; one that knows the needle
insertions has ``epochs`` (:class:`ltr.segment.Epochs`), one that receives marks as
they happen has ``marks()`` (new ``(onset, description)`` pairs, s of stream time).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..channels import infer_kind
from ..units import si_scale, split_label_unit

#: Words that make a delimited column the sample time (s) rather than a channel.
TIME_COLUMNS = ("time", "t", "timestamp", "time_s", "seconds")


class FileSource:
    """A recording replayed at ``speed`` × real time, in chunks of ``chunk`` s.

    Parameters
    ----------
    path : path-like | Recording
        Any file :func:`ltr.read` reads (or a Recording).
    speed : float
        1 plays in real time, 10 ten times faster, 0 as fast as possible.
    chunk : float
        Seconds per chunk (default 0.05, what an amplifier's driver typically delivers).
    **options
        Passed to :func:`ltr.read`.
    """

    def __init__(self, path: Any, *, speed: float = 1.0, chunk: float = 0.05,
                 **options: Any) -> None:
        from ..io import read
        from ..recording import Recording
        from ..segment import find_epochs

        if not (isinstance(speed, int | float) and np.isfinite(speed) and speed >= 0):
            raise ValueError(f"speed must be a number >= 0 (0: as fast as possible), got "
                             f"{speed!r}")
        if not (isinstance(chunk, int | float) and chunk > 0):
            raise ValueError(f"chunk must be > 0 s, got {chunk!r}")
        self.rec = path if isinstance(path, Recording) else read(path, **options)
        #: The needle insertions, as :func:`ltr.detect` finds them in the recording
        #: (``needle in``/``needle out`` annotations, else a trigger channel).
        self.epochs = find_epochs(self.rec)
        self.name = str(self.rec.meta.get("source", path))
        self.sfreq = float(self.rec.sfreq)
        self.ch_names = list(self.rec.ch_names)
        self.ch_kinds = list(self.rec.ch_kinds)
        self.units = [u or "" for u in self.rec.units]
        self.speed = float(speed)
        self.step = max(1, round(chunk * self.sfreq))
        self.t0: float | None = None

    def chunks(self) -> Iterator[np.ndarray]:
        n = self.rec.n_samples
        self.t0 = time.monotonic()
        for i in range(0, n, self.step):
            j = min(n, i + self.step)
            if self.speed > 0:  # the chunk is ready when its last sample has been played
                wait = self.t0 + j / self.sfreq / self.speed - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            yield self.rec.get_data(i, j)

    def lsl_time(self, onset: float) -> float | None:
        return None

    def close(self) -> None:
        pass


class TailSource:
    """A delimited text file (CSV/TSV) that is still being written, read as it grows.

    A file that grows line by line has a well-defined tail: every complete line is a
    sample. The first line is the header: channel names, units in brackets
    (``EMG trapezius [uV]``, ``ACC X [g]``), and optionally a time column
    (:data:`TIME_COLUMNS`, seconds) that gives the rate when ``sfreq`` is not given.
    Binary formats (EDF, HDF5) write their headers and blocks in ways a reader cannot
    follow safely while they are open, and are replayed with :class:`FileSource` instead.

    Parameters
    ----------
    path : path-like
        ``.csv``, ``.tsv`` or ``.txt`` (tab if the header holds one, else comma).
    sfreq : float | None
        Hz; needed without a time column.
    idle : float
        The file counts as finished when it has not grown for this many seconds.
    poll : float
        Seconds between looks at the file.
    wait : float
        Seconds to wait for the header to appear (the file may not exist yet).
    """

    def __init__(self, path: str | os.PathLike[str], *, sfreq: float | None = None,
                 idle: float = 5.0, poll: float = 0.05, wait: float = 10.0) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        if self.path.suffix.lower() not in (".csv", ".tsv", ".txt"):
            raise ValueError(f"{self.path}: a growing file is followed as CSV/TSV text, "
                             f"got {self.path.suffix or '(no suffix)'!r}")
        self.idle, self.poll = float(idle), float(poll)
        deadline = time.monotonic() + wait
        while not self.path.is_file() or b"\n" not in self.path.read_bytes()[:65536]:
            if time.monotonic() > deadline:
                raise ValueError(f"{self.path}: no header line after {wait:g} s")
            time.sleep(poll)
        self._fh = open(self.path, "rb")  # noqa: SIM115 - kept open while it grows
        try:
            self._start(sfreq, wait)
        except BaseException:
            self._fh.close()
            raise

    def _start(self, sfreq: float | None, wait: float) -> None:
        """Read the header (and, for the rate, the first two rows)."""
        header = self._fh.readline().decode("utf-8").rstrip("\r\n")
        self.sep = "\t" if "\t" in header or self.path.suffix.lower() == ".tsv" else ","
        cols = [c.strip().strip('"') for c in header.split(self.sep)]
        labels = [split_label_unit(c) for c in cols]
        tcol = [i for i, (lab, _) in enumerate(labels) if lab.lower() in TIME_COLUMNS]
        self._time = tcol[0] if tcol else None
        self._cols = [i for i in range(len(cols)) if i != self._time]
        self.ch_names = [labels[i][0] for i in self._cols]
        orig = [labels[i][1] for i in self._cols]
        self.ch_kinds = [infer_kind(c, u) for c, u in zip(self.ch_names, orig, strict=True)]
        scales = [si_scale(u) for u in orig]
        self.units = [s[1] for s in scales]
        self._scale = np.array([s[0] for s in scales])[:, None]
        self._rest = b""
        self._first: np.ndarray | None = None
        if sfreq is None:
            if self._time is None:
                raise ValueError(f"{self.path}: no time column ({', '.join(TIME_COLUMNS)}) "
                                 f"to take the rate from; pass sfreq= (Hz)")
            first = self._read_rows(wait=wait, need=2)
            t = first[:, self._time]
            if t.size < 2 or not np.isfinite(t[:2]).all() or t[1] <= t[0]:
                raise ValueError(f"{self.path}: the time column does not increase; pass "
                                 f"sfreq= (Hz)")
            sfreq = 1.0 / float(t[1] - t[0])
            self._first = first
        self.sfreq = float(sfreq)

    def _parse(self, data: bytes) -> np.ndarray:
        lines = [ln for ln in data.decode("utf-8").splitlines() if ln.strip()]
        width = len(self._cols) + (self._time is not None)
        out = np.full((len(lines), width), np.nan)
        for r, ln in enumerate(lines):  # a loop over lines of text (the parse itself)
            cells = ln.split(self.sep)
            for c, cell in enumerate(cells[:width]):
                try:
                    out[r, c] = float(cell) if cell.strip() else np.nan
                except ValueError:
                    out[r, c] = np.nan
        return out

    def _read_rows(self, wait: float, need: int = 1) -> np.ndarray:
        """Complete lines written so far (waiting up to ``wait`` s for ``need``)."""
        deadline = time.monotonic() + wait
        rows = np.zeros((0, len(self._cols) + (self._time is not None)))
        while True:
            self._rest += self._fh.read()
            cut = self._rest.rfind(b"\n")
            if cut >= 0:
                rows = np.concatenate([rows, self._parse(self._rest[: cut + 1])])
                self._rest = self._rest[cut + 1:]
            if rows.shape[0] >= need or time.monotonic() > deadline:
                return rows
            time.sleep(self.poll)

    def chunks(self) -> Iterator[np.ndarray]:
        if self._first is not None:
            yield self._first[:, self._cols].T * self._scale
            self._first = None
        while True:
            rows = self._read_rows(wait=self.idle)
            if rows.shape[0] == 0:
                return  # not grown for `idle` s: the writer has finished
            yield rows[:, self._cols].T * self._scale

    def lsl_time(self, onset: float) -> float | None:
        return None

    def close(self) -> None:
        self._fh.close()
