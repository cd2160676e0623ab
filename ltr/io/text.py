"""Delimited text recordings: CSV, TSV and vendor TXT exports, and a CSV writer."""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import LtrDataWarning, check_file, check_sfreq
from ..channels import infer_kind, resolve_kinds
from ..recording import Recording
from ..units import normalize_unit, split_label_unit
from ._common import reader, to_si, warn_nan_gaps

_TIME_NAMES = re.compile(
    r"^(time|t|times|timestamp|time_s|seconds|sec|secs|elapsed|elapsed time|x_s|time\s*\(s\))$",
    re.IGNORECASE,
)
_TIME_SCALE = {"s": 1.0, "sec": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9, "min": 60.0}
_NA = {"", "nan", "NaN", "NAN", "NA", "N/A", "n/a", "null", "NULL", "-"}
_RATE_RE = re.compile(
    r"sampl\w*\s*(?:rate|frequency|freq)\s*(?:\(hz\))?\s*:?=?\s*:?=?\s*([0-9.eE+\-]+)",
    re.IGNORECASE,
)
_LABELS_RE = re.compile(r"^labels?\s*:?=\s*(.*)$", re.IGNORECASE)
_UNITS_RE = re.compile(r"^units?\s*:?=\s*(.*)$", re.IGNORECASE)
_CANDIDATE_DELIMITERS = (",", "\t", ";")


@reader("delimited text")
def read_text(
    path: str | os.PathLike[str],
    *,
    sfreq: float | None = None,
    time_column: str | int | None = "auto",
    time_unit: str | None = None,
    delimiter: str | None = None,
    skip_until: str | None = None,
    comment: str | Sequence[str] = ("#", "%"),
    ch_names: Sequence[str] | None = None,
    units: str | Sequence[str] | Mapping[str, str] | None = None,
    ch_kinds: Mapping[str, str] | Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    bipolar: Mapping[str, tuple[str, str]] | None = None,
) -> Recording:
    """Read a delimited text recording (CSV, TSV, TXT).

    Parameters
    ----------
    path : path-like
        The file. Comma, tab, semicolon or whitespace separated; detected unless
        ``delimiter`` is given.
    sfreq : float | None
        Sampling rate in Hz. Needed when there is no time column and the preamble states no
        rate (``# Sampling Rate (Hz):= 1000``, ``%Sample Rate = 250 Hz``).
    time_column : str | int | None
        ``"auto"`` (default) takes a column named ``time``, ``t``, ``timestamp``,
        ``seconds`` ... (units in brackets allowed, ``time [ms]``); a name or index picks
        one; ``None`` means no time column.
    time_unit : str | None
        Unit of the time column (``"s"``, ``"ms"``, ``"us"``, ``"ns"``) when its header does
        not say; default seconds.
    delimiter : str | None
        Field separator; ``None`` detects it; ``" "`` means any run of whitespace.
    skip_until : str | None
        Skip every line before the first line containing this text (a vendor preamble); that
        line is the header row. Without it, leading lines that do not fit the data table are
        skipped and kept in ``meta["preamble"]``.
    comment : str | sequence of str
        Line prefixes of comment lines (default ``#`` and ``%``). Comment lines may state the
        rate, labels and units (BioSPPy/OpenSignals and OpenBCI style).
    ch_names : sequence of str | None
        Names for the data columns (after removing the time column and ``exclude``),
        overriding the header.
    units : str | sequence | mapping | None
        Units of the data columns: one unit for all, one per column, or name -> unit.
        Overrides units in the header (``EMG trapezius [uV]``). Converted to SI.
    ch_kinds : mapping | sequence | None
        Channel kinds overriding the ones inferred from names and units.
    exclude : sequence of str
        Column names not to read (e.g. a text date column).
    bipolar : mapping | None
        Bipolar derivations, see :meth:`ltr.Recording.set_bipolar`.

    Returns
    -------
    Recording
        In SI units; ``meta`` holds ``source``, ``format``, ``preamble`` and, with a time
        column, ``first_time`` (the time of the first sample in the file, s).

    Raises
    ------
    ValueError
        Empty file, no data rows, rows with a different number of fields (often a wrong
        ``delimiter``), non-numeric cells (line, column and value are named), a time column
        that does not increase, a missing or non-positive sampling rate.

    Warns
    -----
    LtrDataWarning
        NaN or empty cells (gaps kept as NaN, positions listed); irregular time stamps.
    """
    p = check_file(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = p.read_text(encoding="latin-1")
    lines = text.splitlines()
    comments = (comment,) if isinstance(comment, str) else tuple(comment)
    if skip_until is None and is_vicon_devices(lines):
        rec = _read_vicon_devices(p, lines, sfreq=sfreq, ch_kinds=ch_kinds, exclude=exclude)
        return rec.set_bipolar(bipolar) if bipolar else rec

    start = 0
    if skip_until is not None:
        hits = [i for i, line in enumerate(lines) if skip_until in line]
        if not hits:
            raise ValueError(f"{p}: skip_until={skip_until!r} does not occur in the file")
        start = hits[0]
    meta_lines = [ln for ln in lines[:start]]
    body: list[tuple[int, str]] = []
    for i in range(start, len(lines)):
        s = lines[i].strip()
        if not s:
            continue
        if comments and s.startswith(comments) and not (i == start and skip_until):
            meta_lines.append(s)
            continue
        body.append((i + 1, lines[i]))
    if not body:
        raise ValueError(f"{p}: no data rows (only comments or blank lines)")
    stated = _parse_preamble(meta_lines)

    delim = _sniff_delimiter(p, [b for _, b in body[-50:]], delimiter)
    split = _splitter(delim)
    n_fields = Counter(len(split(b)) for _, b in body[-50:]).most_common(1)[0][0]

    # the table starts at the first row from which rows have n_fields numeric fields
    first_data = _first_data_row(body, split, n_fields, forced_header=skip_until is not None)
    header: list[str] | None = None
    if first_data > 0 and len(split(body[first_data - 1][1])) == n_fields:
        header = [h.strip().strip('"') for h in split(body[first_data - 1][1])]
        pre = body[: first_data - 1]
    else:
        pre = body[:first_data]
    meta_lines += [b for _, b in pre]
    rows = body[first_data:]
    if not rows:
        raise ValueError(f"{p}: no numeric data rows after the header")
    # a blank line inside the table is a missing sample (kept as NaN), not nothing
    blank = [(i + 1, "") for i in range(rows[0][0] - 1, rows[-1][0]) if not lines[i].strip()]
    if blank:
        rows = sorted(rows + blank)

    names = header or stated.get("labels") or [f"ch{i + 1}" for i in range(n_fields)]
    if len(names) != n_fields:
        names = [f"ch{i + 1}" for i in range(n_fields)]
    labels_units = [split_label_unit(n) for n in names]
    col_names = _unique([lu[0] for lu in labels_units])
    col_units = [lu[1] for lu in labels_units]
    missing = sorted(set(exclude) - set(col_names) - set(names))
    if missing:
        raise ValueError(f"{p}: exclude names unknown column(s) {missing}; columns: {col_names}")
    used = [i for i in range(n_fields) if col_names[i] not in exclude and names[i] not in exclude]
    col_names = [col_names[i] for i in used]
    col_units = [col_units[i] for i in used]
    table = _parse_rows(p, rows, split, n_fields, col_names, used)
    fmt = p.suffix[1:].upper() or "TEXT"
    if header is None and time_column == "auto" and not exclude and _is_pdkit(table):
        # cloudUPDRS / PDKit smartphone accelerometer: ns time stamp, x, y, z (m/s²)[, flag]
        col_names = ["time", "ACC X", "ACC Y", "ACC Z", "accuracy"][: table.shape[1]]
        col_units = ["ns", "m/s^2", "m/s^2", "m/s^2", ""][: table.shape[1]]
        fmt = "cloudUPDRS/PDKit CSV"

    # time column
    t_idx = _find_time_column(p, col_names, time_column)
    keep = [i for i in range(len(used)) if i != t_idx]
    meta: dict[str, Any] = {"source": str(p), "format": fmt}
    if meta_lines:
        meta["preamble"] = meta_lines[:200]
    if t_idx is not None:
        unit = normalize_unit(col_units[t_idx] or time_unit or "s")
        if unit not in _TIME_SCALE:
            raise ValueError(
                f"{p}: time column {col_names[t_idx]!r} has unit {unit!r}; "
                f"expected one of {sorted(_TIME_SCALE)}"
            )
        t = table[:, t_idx] * _TIME_SCALE[unit]
        given = check_sfreq(sfreq, where=str(p)) if sfreq is not None else None
        rate = _rate_from_times(p, t, rows, col_names[t_idx], given)
        meta["first_time"] = float(t[0])
    elif sfreq is not None:
        rate = check_sfreq(sfreq, where=str(p))
    elif "sfreq" in stated:
        rate = check_sfreq(stated["sfreq"], where=f"{p} (rate stated in the preamble)")
    else:
        raise ValueError(
            f"{p}: cannot tell the sampling rate: no time column among {col_names} and no "
            "rate in the preamble; pass sfreq= (Hz) or time_column="
        )

    data = np.ascontiguousarray(table[:, keep].T)
    names_out = [col_names[i] for i in keep]
    if ch_names is not None:
        if len(ch_names) != len(keep):
            raise ValueError(
                f"{p}: ch_names gives {len(ch_names)} names for {len(keep)} data columns "
                f"{names_out}"
            )
        names_out = [str(n) for n in ch_names]
    orig = _resolve_units(p, names_out, [col_units[i] for i in keep], units, stated)
    data, si_units = to_si(data, orig)
    kinds = resolve_kinds(names_out, [infer_kind(n, u) for n, u in zip(names_out, orig,
                                                                        strict=True)],
                          ch_kinds, where=str(p))
    warn_nan_gaps(data, names_out, rate, p)
    rec = Recording(data, rate, names_out, kinds, units=si_units, orig_units=orig, meta=meta)
    if bipolar:
        rec = rec.set_bipolar(bipolar)
    return rec


def is_vicon_devices(lines: Sequence[str]) -> bool:
    """Whether text lines are a Vicon Nexus export whose first section is ``Devices``."""
    first = next((ln for ln in lines[:5] if ln.strip()), "")
    return first.replace(",", "").strip() == "Devices"


def _read_vicon_devices(p: Path, lines: list[str], *, sfreq: float | None,
                        ch_kinds: Mapping[str, str] | Sequence[str] | None,
                        exclude: Sequence[str]) -> Recording:
    """The ``Devices`` section of a Vicon Nexus CSV export.

    Layout: ``Devices``; the analog rate (Hz); a row of device names (each over its first
    column); ``Frame,Sub Frame,<channel>...``; a row of units; data rows until a blank
    line or the next section (``Trajectories``, ``Model Outputs``).
    """
    if len(lines) < 6:
        raise ValueError(f"{p}: Vicon 'Devices' export too short ({len(lines)} lines)")
    try:
        stated = float(lines[1].split(",")[0])
    except ValueError:
        raise ValueError(f"{p}: line 2 of a Vicon 'Devices' export should be the rate (Hz), "
                         f"got {lines[1][:40]!r}") from None
    rate = check_sfreq(sfreq if sfreq is not None else stated, where=str(p))
    devices, labels, unit_row = (ln.split(",") for ln in lines[2:5])
    if [x.strip() for x in labels[:2]] != ["Frame", "Sub Frame"]:
        raise ValueError(f"{p}: line 4 of a Vicon 'Devices' export should start "
                         f"'Frame,Sub Frame', got {lines[3][:40]!r}")
    n = len(labels)
    end = next((i for i in range(5, len(lines)) if not lines[i].replace(",", "").strip()
                or not _is_number(lines[i].split(",")[0])), len(lines))
    rows = [(i + 1, lines[i]) for i in range(5, end)]
    if not rows:
        raise ValueError(f"{p}: Vicon 'Devices' export without data rows")
    device, names = "", []
    for j in range(2, n):
        device = devices[j].strip() if j < len(devices) and devices[j].strip() else device
        label = labels[j].strip()
        # numbered channels take their group's name as in the C3D: "... - Voltage" -> Voltage.1
        names.append(label if label and not label.isdigit()
                     else f"{device.rsplit(' - ', 1)[-1]}.{label}")
    names = _unique(names)
    units = [normalize_unit(unit_row[j]) if j < len(unit_row) else "" for j in range(2, n)]
    table = _parse_rows(p, rows, lambda line: line.split(","), n, ["Frame", "Sub Frame",
                                                                     *names], list(range(n)))
    frame, sub = table[:, 0], table[:, 1]
    per_frame = int(np.nanmax(sub)) + 1
    index = (frame - frame[0]) * per_frame + sub - sub[0]
    if not np.array_equal(index, np.arange(index.size)):
        k = int(np.flatnonzero(index != np.arange(index.size))[0])
        raise ValueError(f"{p}: line {rows[k][0]}: frame {frame[k]:g}, sub-frame {sub[k]:g} "
                         "breaks the sequence of analog samples (missing or repeated rows)")
    keep = [j for j, name in enumerate(names) if name not in exclude]
    names = [names[j] for j in keep]
    orig = [units[j] for j in keep]
    data, si_units = to_si(np.ascontiguousarray(table[:, 2:][:, keep].T), orig)
    # the label tells the kind, not the device: as in the C3D, the inputs of Vicon's generic
    # "Analog EMG" device (Voltage.1...) are misc
    kinds = resolve_kinds(names, [infer_kind(names[j], units[j]) for j in keep], ch_kinds,
                          where=str(p))
    warn_nan_gaps(data, names, rate, p)
    meta = {"source": str(p), "format": "Vicon Nexus Devices CSV",
            "first_time": float((frame[0] - 1) / (rate / per_frame) + sub[0] / rate),
            "frame_rate": rate / per_frame}
    return Recording(data, rate, names, kinds, units=si_units, orig_units=orig, meta=meta)


def _is_pdkit(table: np.ndarray) -> bool:
    """Headerless cloudUPDRS/PDKit accelerometer CSV: integer ns stamps, x, y, z[, flag]."""
    if table.shape[1] not in (4, 5) or table.shape[0] < 4:
        return False
    t = table[:, 0]
    if not np.all(np.isfinite(t)) or np.any(t != np.round(t)) or t[0] < 1e12:
        return False
    step = float(np.median(np.diff(t)))
    return 1e5 <= step <= 1e9  # 1 ms to 1 s in nanoseconds


def _unique(names: list[str]) -> list[str]:
    """Make repeated column names unique by numbering repeats: ``a``, ``a (2)``, ``a (3)``."""
    seen: Counter[str] = Counter()
    out = []
    for n in names:
        seen[n] += 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def _parse_preamble(lines: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for raw in lines:
        s = raw.lstrip("#%").strip()
        m = _RATE_RE.search(s)
        if m and "sfreq" not in out:
            with contextlib.suppress(ValueError):
                out["sfreq"] = float(m.group(1))
        m = _LABELS_RE.match(s)
        if m:
            out["labels"] = [v.strip() for v in re.split(r"\t|,|;", m.group(1)) if v.strip()]
        m = _UNITS_RE.match(s)
        if m:
            out["units"] = [v.strip() for v in re.split(r"\t|,|;", m.group(1)) if v.strip()]
    return out


def _splitter(delim: str | None) -> Any:
    if delim is None or delim == " ":
        return lambda line: line.split()
    return lambda line: line.split(delim)


def _sniff_delimiter(p: Path, sample: list[str], delimiter: str | None) -> str | None:
    # the last line may be cut short (a file copied while written): it does not vote
    voters = sample[:-1] if len(sample) > 2 else sample

    def consistent(d: str | None) -> int:
        split = _splitter(d)
        counts = {len(split(s)) for s in voters}
        return next(iter(counts)) if len(counts) == 1 else 0

    if delimiter is not None:
        n = consistent(delimiter)
        if n <= 1:
            better = [d for d in (*_CANDIDATE_DELIMITERS, " ") if consistent(d) > 1]
            if better and n == 1:
                raise ValueError(
                    f"{p}: delimiter={delimiter!r} gives one column per row, but the rows "
                    f"split into {consistent(better[0])} columns on {better[0]!r}; pass "
                    f"delimiter={better[0]!r}"
                )
        return delimiter
    best, best_n = None, 1
    for d in _CANDIDATE_DELIMITERS:
        n = consistent(d)
        if n > best_n:
            best, best_n = d, n
    if best is None and consistent(" ") > 1:
        return " "
    return best if best is not None else ","


def _is_number(cell: str) -> bool:
    s = cell.strip().strip('"')
    if s in _NA:
        return True
    try:
        float(s)
    except ValueError:
        return False
    return True


def _first_data_row(body: list[tuple[int, str]], split: Any, n_fields: int,
                    forced_header: bool) -> int:
    """Index of the first row of the numeric table.

    A row belongs to the table when it has ``n_fields`` fields of which most are numbers
    (a text column such as a formatted date is reported later, by name). The table starts
    at the first such row followed by three more, or earlier at rows just before it with
    ``n_fields`` fields one of which is a number: a header holds no numbers, so such a row
    is data with a bad cell, reported by line and column. A bad cell further down is an
    error, not a second header.
    """
    def is_data(line: str) -> bool:
        fields = split(line)
        return len(fields) == n_fields and 2 * sum(map(_is_number, fields)) > n_fields

    def has_number(line: str) -> bool:  # a number in a cell: a data row, not a header
        fields = split(line)
        return len(fields) == n_fields and any(
            _is_number(f) and f.strip().strip('"') not in _NA for f in fields)

    flags = [is_data(line) for _, line in body[: min(len(body), 2000)]]
    first = next((i for i in range(len(flags)) if all(flags[i : i + 4])), len(flags))
    if forced_header and first == 0:
        return 0 if all(_is_number(f) for f in split(body[0][1])) else 1
    # a first data row with a text cell ("0.000,abc") is data, reported cell by cell, not
    # the header; the header, if any, is the row before it
    while not forced_header and 0 < first < len(flags) and has_number(body[first - 1][1]):
        first -= 1
    return first


#: Longest numeric cell accepted, characters. A float needs at most ~25; a 10,000-digit
#: cell would make the fixed-width string array of the whole table 10,000 wide (gigabytes).
MAX_CELL = 256


def _check_cell_lengths(p: Path, rows: list[tuple[int, str]], cells: list[list[str]],
                        names: list[str], used: list[int]) -> None:
    """Refuse a numeric cell longer than :data:`MAX_CELL`, naming its line and column."""
    long_rows = [k for k, (_, line) in enumerate(rows) if len(line) > MAX_CELL]
    for k in long_rows:
        for j, c in enumerate(used):
            if c < len(cells[k]) and len(cells[k][c]) > MAX_CELL:
                name = names[j] if j < len(names) else f"#{c + 1}"
                raise ValueError(f"{p}: line {rows[k][0]}, column {name!r}: a cell of "
                                 f"{len(cells[k][c])} characters, not a number (at most "
                                 f"{MAX_CELL})")


def _parse_rows(p: Path, rows: list[tuple[int, str]], split: Any, n_fields: int,
                names: list[str], used: list[int]) -> np.ndarray:
    cells = [split(line) if line.strip() else [""] * n_fields for _, line in rows]
    _check_cell_lengths(p, rows, cells, names, used)
    lengths = np.fromiter((len(c) for c in cells), dtype=int, count=len(cells))
    bad = np.flatnonzero(lengths != n_fields)
    if bad.size:
        lineno = rows[bad[0]][0]
        raise ValueError(
            f"{p}: line {lineno} has {lengths[bad[0]]} fields, expected {n_fields} "
            f"({bad.size} such line(s)); check the delimiter or a truncated last line"
        )
    arr = np.char.strip(np.asarray(cells, dtype=str)[:, used])
    arr = np.char.strip(arr, '"')
    na = np.isin(arr, list(_NA))
    arr[na] = "nan"
    try:
        return arr.astype(np.float64)
    except ValueError:
        pass
    for r, row in enumerate(arr):  # locate the offending cell for the error message
        for c, cell in enumerate(row):
            try:
                float(cell)
            except ValueError:
                col = names[c]
                raise ValueError(
                    f"{p}: line {rows[r][0]}, column {col!r}: {str(cell)!r} is not a number "
                    "(pass exclude=[...] to leave a text column out)"
                ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _find_time_column(p: Path, names: list[str], time_column: str | int | None) -> int | None:
    if time_column is None:
        return None
    if time_column == "auto":
        hits = [i for i, n in enumerate(names) if _TIME_NAMES.match(n.strip())]
        return hits[0] if hits else None
    if isinstance(time_column, int):
        if not -len(names) <= time_column < len(names):
            raise ValueError(
                f"{p}: time_column={time_column} but the file has {len(names)} columns"
            )
        return time_column % len(names)
    if time_column not in names:
        raise ValueError(f"{p}: time_column={time_column!r} is not a column; columns: {names}")
    return names.index(time_column)


#: Time stamps may stray this many sample intervals (beyond their printed resolution) from
#: the uniform grid fitted to them before a file counts as irregular and is refused.
MAX_TIME_STRAY = 2.0
#: Interval jitter (fraction of the interval) above which the fitted rate is reported.
TIME_JITTER_WARN = 0.05


def fit_uniform_rate(t: np.ndarray) -> tuple[float, float, float, np.ndarray]:
    """Fit a uniform sampling grid to time stamps.

    The interval is the median of lagged differences ``(t[k + m] - t[k]) / m`` (``m`` up to
    1000 samples), which is robust to a few gaps and to stamps rounded to fewer digits than
    the interval needs (a time column written with 6 significant digits repeats stamps past
    100 s at 2 kHz).

    Parameters
    ----------
    t : ndarray
        Non-decreasing time stamps, s.

    Returns
    -------
    step : float
        Fitted sample interval, s.
    resolution : float
        Printed resolution of the stamps (s) when they repeat (the smallest step after a
        repeat), else 0.
    stray : float
        Largest distance (s) of a stamp from the fitted grid, gaps taken out.
    gaps : ndarray of int
        Indices ``i`` with a gap between stamps ``i`` and ``i + 1``.
    """
    n = t.size
    dt = np.diff(t)
    m = max(1, min(1000, (n - 1) // 4))
    step = float(np.median((t[m:] - t[:-m]) / m))
    after_repeat = dt[1:][(dt[:-1] == 0) & (dt[1:] > 0)]  # the step a rounded stamp makes
    resolution = float(after_repeat.min()) if after_repeat.size else 0.0
    gap = dt > 1.5 * step + resolution
    inc = np.where(gap, np.maximum(1, np.rint(dt / step)), 1.0)
    k = np.r_[0.0, np.cumsum(inc)]
    e = t - t[0] - k * step
    e -= np.median(e)
    return step, resolution, float(np.max(np.abs(e))), np.flatnonzero(gap)


def _rate_from_times(p: Path, t: np.ndarray, rows: list[tuple[int, str]], name: str,
                     sfreq: float | None = None) -> float:
    if t.size < 2:
        raise ValueError(f"{p}: a time column needs at least 2 rows, got {t.size}")
    if np.isnan(t).any():
        i = int(np.flatnonzero(np.isnan(t))[0])
        raise ValueError(f"{p}: time column {name!r} is empty at line {rows[i][0]}")
    ways_out = ("pass sfreq= (Hz) to treat the samples as uniform at a rate you know, or "
                "time_column=None to ignore the time column")
    dt = np.diff(t)
    back = np.flatnonzero(dt < 0)
    if back.size or not np.any(dt > 0):
        i = int(back[0]) + 1 if back.size else 1
        if sfreq is not None:
            return sfreq
        raise ValueError(
            f"{p}: time column {name!r} is not strictly increasing: line {rows[i][0]} has "
            f"t={t[i]:g} after t={t[i - 1]:g} ({max(back.size, 1)} such step(s)); {ways_out}"
        )
    step, resolution, stray, gaps = fit_uniform_rate(t)
    rate = float(f"{1.0 / step:.9g}")  # drop float noise of printed time stamps
    if sfreq is not None:
        if abs(sfreq - rate) > 0.01 * sfreq:
            raise ValueError(
                f"{p}: sfreq={sfreq:g} Hz disagrees with the time column {name!r}, which "
                f"implies {rate:g} Hz; pass time_column=None to ignore the time column"
            )
        return sfreq
    if stray > MAX_TIME_STRAY * step + resolution:
        raise ValueError(
            f"{p}: time column {name!r} is irregular: stamps stray up to {stray * 1e3:.3g} ms "
            f"({stray / step:.3g} intervals) from a uniform {rate:.6g}-Hz grid; {ways_out}"
        )
    jitter = np.abs(np.delete(dt, gaps) - step).max(initial=0.0) / step
    if jitter > TIME_JITTER_WARN or gaps.size:
        where = ", ".join(f"{t[g] - t[0]:.3f} s" for g in gaps[:5])
        rounded = (f" (stamps rounded to {resolution * 1e3:.3g} ms)" if resolution else "")
        warnings.warn(
            f"{p}: irregular time column {name!r}: sample intervals from {dt.min() * 1e3:.3g} "
            f"to {dt.max() * 1e3:.3g} ms{rounded}; stamps stray up to {stray * 1e3:.3g} ms "
            f"from a uniform grid; samples are treated as uniform at {rate:.6g} Hz fitted "
            "to the time column"
            + (f"; {gaps.size} gap(s) longer than 1.5 intervals, at {where}" if gaps.size else "")
            + "; pass sfreq= or time_column=None to override",
            LtrDataWarning,
            stacklevel=4,
        )
    return rate


def _resolve_units(
    p: Path,
    names: list[str],
    header_units: list[str],
    units: str | Sequence[str] | Mapping[str, str] | None,
    stated: Mapping[str, Any],
) -> list[str]:
    out = list(header_units)
    if "units" in stated and not any(out):
        su = stated["units"]
        out = su * len(names) if len(su) == 1 else (su if len(su) == len(names) else out)
    if units is None:
        return [normalize_unit(u) for u in out]
    if isinstance(units, str):
        return [normalize_unit(units)] * len(names)
    if isinstance(units, Mapping):
        unknown = sorted(set(units) - set(names))
        if unknown:
            raise ValueError(f"{p}: units names unknown channel(s) {unknown}; channels: {names}")
        return [normalize_unit(units.get(n, u)) for n, u in zip(names, out, strict=True)]
    if len(units) != len(names):
        raise ValueError(f"{p}: units gives {len(units)} units for {len(names)} channels {names}")
    return [normalize_unit(u) for u in units]


def write_csv(
    recording: Recording,
    path: str | os.PathLike[str],
    *,
    delimiter: str = ",",
    time_column: bool = True,
    overwrite: bool = False,
) -> Path:
    """Write a recording as delimited text with ``name [unit]`` headers.

    EMG is written in µV and acceleration in m/s², with 17 significant digits, so
    :func:`read_text` returns the same values within floating-point rounding.

    Parameters
    ----------
    recording : Recording
    path : path-like
    delimiter : str
        ``","`` (default) or ``"\\t"``.
    time_column : bool
        Write a first column ``time [s]`` (default True).
    overwrite : bool
        Replace an existing file (default False).
    """
    p = Path(path)
    if p.exists() and not overwrite:
        raise FileExistsError(f"{p}: exists; pass overwrite=True to replace it")
    data = recording.data.copy()
    headers = []
    for i, (name, unit) in enumerate(zip(recording.ch_names, recording.units, strict=True)):
        if unit == "V":
            data[i] *= 1e6
            unit = "uV"
        headers.append(f"{name} [{unit}]" if unit else name)
    if time_column:
        data = np.vstack([recording.times, data])
        headers.insert(0, "time [s]")
    tmp = p.with_name(p.name + ".part")
    np.savetxt(tmp, data.T, delimiter=delimiter, header=delimiter.join(headers), comments="",
               fmt="%.17g")
    os.replace(tmp, p)
    return p
