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
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import check_sfreq
from ..channels import infer_kind
from ..io._common import check_rate
from ..units import normalize_unit, si_scale, split_label_unit


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
    (``EMG trapezius [uV]``, ``ACC X [g]``), and optionally a time column (named as
    :func:`ltr.io.text.read_text` recognises one, unit from its header, default s) that
    gives the rate when ``sfreq`` is not given. Cells, the time column and the rate are
    judged by the text reader's own rules (:mod:`ltr.io.text`), so a file that
    ``ltr info`` refuses is refused here with the same words: a :class:`ltr.ReadError`
    naming the file (and the line and column of a cell that is not a number, raised
    by :meth:`chunks` when that line arrives). The rate is fitted to the rows present
    when the file is opened (at least two). Binary formats (EDF, HDF5) write their
    headers and blocks in ways a reader cannot follow safely while they are open, and
    are replayed with :class:`FileSource` instead.

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
    time_column : str | int | None
        ``"auto"`` (default), a column name, or None for no time column, as for
        :func:`ltr.io.text.read_text`.
    exclude : sequence of str
        Columns not to read (a text column).
    ch_kinds : mapping | None
        Channel kinds overriding the ones inferred from names and units.
    """

    def __init__(self, path: str | os.PathLike[str], *, sfreq: float | None = None,
                 idle: float = 5.0, poll: float = 0.05, wait: float = 10.0,
                 time_column: str | int | None = "auto", exclude: Sequence[str] = (),
                 ch_kinds: Mapping[str, str] | None = None) -> None:
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
            self._start(sfreq, wait, time_column, list(exclude), ch_kinds)
        except BaseException:
            self._fh.close()
            raise

    def _start(self, sfreq: float | None, wait: float, time_column: str | int | None,
               exclude: list[str], ch_kinds: Mapping[str, str] | None) -> None:
        """Read the header (and, for the rate, the rows written so far)."""
        from ..channels import resolve_kinds
        from ..io.text import _TIME_SCALE, _find_time_column, _splitter, _unique

        p = self.path
        header = self._fh.readline().decode("utf-8-sig").rstrip("\r\n")
        self._line = 2  # the number of the next line of the file
        self.sep = "\t" if "\t" in header or p.suffix.lower() == ".tsv" else ","
        self._split = _splitter(self.sep)
        cols = [c.strip().strip('"') for c in header.split(self.sep)]
        self._n_fields = len(cols)
        labels = [split_label_unit(c) for c in cols]
        names = _unique([lab for lab, _ in labels])
        unknown = sorted(set(exclude) - set(names))
        if unknown:
            raise ValueError(f"{p}: exclude names unknown column(s) {unknown}; columns: "
                             f"{names}")
        self._used = [i for i, n in enumerate(names) if n not in exclude]
        self._names = [names[i] for i in self._used]
        units = [normalize_unit(labels[i][1]) for i in self._used]
        self._time = _find_time_column(p, self._names, time_column)
        self._cols = [j for j in range(len(self._used)) if j != self._time]
        self.ch_names = [self._names[j] for j in self._cols]
        orig = [units[j] for j in self._cols]
        self.ch_kinds = resolve_kinds(self.ch_names, [infer_kind(c, u) for c, u in zip(
            self.ch_names, orig, strict=True)], ch_kinds, where=str(p))
        scales = [si_scale(u) for u in orig]
        self.units = [s[1] for s in scales]
        self._scale = np.array([s[0] for s in scales])[:, None]
        self._rest = b""
        self._first: np.ndarray | None = None
        given = check_sfreq(sfreq, where=str(p)) if sfreq is not None else None
        if self._time is not None:
            tunit = units[self._time] or "s"
            if tunit not in _TIME_SCALE:
                raise ValueError(f"{p}: time column {self._names[self._time]!r} has unit "
                                 f"{tunit!r}; expected one of {sorted(_TIME_SCALE)}")
            self._tscale = _TIME_SCALE[tunit]
        if given is None and self._time is None:
            raise ValueError(f"{p}: cannot tell the sampling rate: no time column among "
                             f"{self._names}; pass sfreq= (Hz) or time_column=")
        if self._time is not None:
            first, lines = self._read_rows(wait=wait, need=2)
            given = self._rate(first, lines, given)
            self._first, self._first_lines = first, lines
        self.sfreq = check_rate(p, given)

    def _rate(self, rows: np.ndarray, lines: list[tuple[int, str]],
              sfreq: float | None) -> float:
        """The rate of the time column's first rows, by the text reader's rule."""
        from ..io.text import _rate_from_times

        t = rows[:, self._time] * self._tscale
        return _rate_from_times(self.path, t, lines, self._names[self._time], sfreq)

    def _parse(self, lines: list[tuple[int, str]]) -> np.ndarray:
        """Complete lines (number, text) as numbers, by the text reader's rule (a blank
        line is a missing sample; a cell that is not a number is an error naming its
        line and column)."""
        from ..io.text import _parse_rows

        return _parse_rows(self.path, lines, self._split, self._n_fields, self._names,
                           self._used)

    def _read_rows(self, wait: float, need: int = 1,
                   ) -> tuple[np.ndarray, list[tuple[int, str]]]:
        """Complete lines written so far (waiting up to ``wait`` s for ``need``), parsed,
        and the lines with their numbers."""
        deadline = time.monotonic() + wait
        rows = np.zeros((0, len(self._used)))
        lines: list[tuple[int, str]] = []
        while True:
            self._rest += self._fh.read()
            cut = self._rest.rfind(b"\n")
            if cut >= 0:
                text = self._rest[: cut + 1].decode("utf-8").splitlines()
                self._rest = self._rest[cut + 1:]
                new = list(enumerate(text, start=self._line))
                self._line += len(text)
                rows = np.concatenate([rows, self._parse(new)])
                lines += new
            if rows.shape[0] >= need or time.monotonic() > deadline:
                return rows, lines
            time.sleep(self.poll)

    def _samples(self, rows: np.ndarray, lines: list[tuple[int, str]]) -> np.ndarray:
        """Channels × samples in SI units; infinite values refused, naming the line."""
        from ..io._common import check_block

        x = rows[:, self._cols].T * self._scale
        bad = np.isinf(x).any(axis=0)
        if bad.any():
            line = lines[int(np.flatnonzero(bad)[0])][0]
            check_block(x, f"{self.path}: line {line}", self.ch_names,
                        np.arange(len(self.ch_names)), self._n)
        self._n += x.shape[1]
        return x

    def chunks(self) -> Iterator[np.ndarray]:
        self._n = 0
        if self._first is not None:
            first, self._first = self._first, None
            yield self._samples(first, self._first_lines)
        while True:
            rows, lines = self._read_rows(wait=self.idle)
            if rows.shape[0] == 0:
                return  # not grown for `idle` s: the writer has finished
            yield self._samples(rows, lines)

    def lsl_time(self, onset: float) -> float | None:
        return None

    def close(self) -> None:
        self._fh.close()
