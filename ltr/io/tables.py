"""Delimited tables (CSV, TSV) written through the :mod:`csv` module.

Every table ltr writes (events, summaries, the cohort, batch status) goes through
:func:`write_delimited`, so a field holding the delimiter, a quote or a line break (a
``channels`` value ``EMG trapezius,ACC``, a file name with a tab) is quoted and stays one
field for :func:`csv.reader`, :func:`pandas.read_csv` and spreadsheets.
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Missing values in written tables (BIDS convention); ``pandas.read_csv`` reads it as NaN.
MISSING = "n/a"

#: Significant digits of written floats: 1 µs resolution up to 10^4 s (2.8 h) of onsets.
FLOAT_DIGITS = 10


def format_value(v: Any) -> str:
    """One table cell as text: floats with :data:`FLOAT_DIGITS` digits, NaN/None as n/a."""
    if v is None:
        return MISSING
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, float | np.floating):
        return MISSING if not math.isfinite(float(v)) else f"{float(v):.{FLOAT_DIGITS}g}"
    if isinstance(v, int | np.integer):
        return str(int(v))
    s = str(v)
    return s if s else MISSING


def delimiter_for(path: str | os.PathLike[str]) -> str:
    """``","`` for ``.csv``, ``"\\t"`` for ``.tsv``; ValueError naming the file otherwise."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return ","
    if suffix == ".tsv":
        return "\t"
    raise ValueError(f"{p}: tables are written as .tsv or .csv, got {suffix or '(none)'!r}")


def write_delimited(path: str | os.PathLike[str], columns: Sequence[str],
                    rows: Iterable[Sequence[Any]], *, delimiter: str | None = None,
                    overwrite: bool = False) -> Path:
    """Write a header and rows with :func:`csv.writer` (minimal quoting, ``\\n`` endings).

    Parameters
    ----------
    path : path-like
        ``.csv`` or ``.tsv`` (the delimiter follows the suffix unless ``delimiter`` is given).
    columns : sequence of str
        Header.
    rows : iterable of sequences
        Cells, formatted by :func:`format_value`.
    delimiter : str | None
        Overrides the suffix.
    overwrite : bool
        Replace an existing file (default False: ``FileExistsError``).

    Returns
    -------
    Path
    """
    p = Path(path)
    sep = delimiter if delimiter is not None else delimiter_for(p)
    if p.exists() and not overwrite:
        raise FileExistsError(f"{p}: exists; pass overwrite=True to replace it")
    p.parent.mkdir(parents=True, exist_ok=True)
    # a temporary file of its own beside the target (two writers never share one),
    # flushed to disk, then renamed: a reader or a crash sees the old file or the new
    # one, never a partial one, and no temporary file is left behind
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".part", dir=p.parent)
    try:
        shared_mode(fd)
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, delimiter=sep, lineterminator="\n",
                                quoting=csv.QUOTE_MINIMAL)
            writer.writerow([str(c) for c in columns])
            writer.writerows([format_value(v) for v in row] for row in rows)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def shared_mode(fd: int) -> None:
    """Give a file made by :func:`tempfile.mkstemp` (mode 0600) the mode a plain
    ``open`` would (0666 less the umask), so that an output renamed from it is as
    readable to colleagues as any other file the user writes."""
    mask = os.umask(0)
    os.umask(mask)
    os.fchmod(fd, 0o666 & ~mask)


def write_frame(frame: Any, path: str | os.PathLike[str], *, delimiter: str | None = None,
                overwrite: bool = False) -> Path:
    """Write a :class:`pandas.DataFrame` (columns as header, index dropped)."""
    columns = [str(c) for c in frame.columns]
    rows = frame.itertuples(index=False, name=None)
    return write_delimited(path, columns, rows, delimiter=delimiter, overwrite=overwrite)
