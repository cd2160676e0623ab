"""WFDB records (PhysioNet), through the ``wfdb`` package, with annotation files."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..._validate import ReadError
from ...annotations import Annotations
from .._common import reader
from .._groups import Channel, assemble
from . import quiet_third_party, require

_ANNOTATORS = ("atr", "ann", "qrs", "ecg", "event")

#: Highest sampling rate a WFDB header may declare, Hz (needle EMG goes to ~50 kHz).
MAX_WFDB_SFREQ = 1e6
#: Bytes per sample of the WFDB storage formats (signal line, second field).
_FORMAT_BYTES = {"8": 1, "16": 2, "24": 3, "32": 4, "61": 2, "80": 1, "160": 2,
                 "212": 1.5, "310": 4 / 3, "311": 4 / 3, "508": 0, "516": 0, "524": 0}
_GAIN_RE = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?(\([-+]?\d+\))?(/\S*)?$")
_FORMAT_RE = re.compile(r"^(\d+)(x\d+)?(:\d+)?(\+\d+)?$")
_INT_FIELDS = ("ADC resolution", "ADC zero", "initial value", "checksum", "block size")


def _check_header(hea: Path) -> None:
    """Refuse what wfdb would silently misread: a sampling frequency that is not a
    positive number (wfdb falls back to 250 Hz), signal lines whose numeric fields do not
    parse (wfdb makes them part of the channel name) and sample counts the signal files
    cannot hold (checked before anything is allocated)."""
    try:
        text = hea.read_text(encoding="latin-1")
    except OSError as err:
        raise ReadError(hea, f"{hea}: cannot read the WFDB header ({err})", err) from err
    lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise ReadError(hea, f"{hea}: empty WFDB header (no record line)")
    record = lines[0].split()
    if len(record) < 2 or not record[1].isdigit():
        raise ReadError(hea, f"{hea}: WFDB record line {lines[0]!r}: the number of signals "
                        "(second field) is missing or not a whole number")
    if "/" in record[0]:
        return  # a multi-segment record: its segments are checked by wfdb
    n_sig = int(record[1])
    if n_sig == 0:
        raise ReadError(hea, f"{hea}: the WFDB record declares 0 signals")
    if len(record) > 2:
        fs_text = record[2].split("/", 1)[0].split("(", 1)[0]
        try:
            fs = float(fs_text)
        except ValueError:
            fs = float("nan")
        if not (np.isfinite(fs) and 0 < fs <= MAX_WFDB_SFREQ):
            raise ReadError(hea, f"{hea}: WFDB record line: sampling frequency field "
                            f"{record[2]!r}; it must be a positive number of Hz up to "
                            f"{MAX_WFDB_SFREQ:g}")
    n_samp = None
    if len(record) > 3:
        if not record[3].isdigit():
            raise ReadError(hea, f"{hea}: WFDB record line: number of samples field "
                            f"{record[3]!r} is not a whole number")
        n_samp = int(record[3])
    signals = lines[1:1 + n_sig]
    if len(signals) < n_sig:
        raise ReadError(hea, f"{hea}: the WFDB record declares {n_sig} signals but the "
                        f"header has {len(signals)} signal lines")
    need: dict[str, float] = {}
    for k, line in enumerate(signals, start=1):
        f = line.split()
        where = f"{hea}: WFDB signal line {k}"
        if len(f) < 2 or not _FORMAT_RE.match(f[1]):
            raise ReadError(hea, f"{where}: format field {f[1] if len(f) > 1 else ''!r} is "
                            "not a WFDB storage format (e.g. 16, 212)")
        if len(f) > 2 and not _GAIN_RE.match(f[2]):
            raise ReadError(hea, f"{where}: gain field {f[2]!r} is not a number "
                            "(expected GAIN[(BASELINE)][/UNITS])")
        for name, value in zip(_INT_FIELDS, f[3:8], strict=False):
            if not value.lstrip("+-").isdigit():
                raise ReadError(hea, f"{where}: {name} field {value!r} is not a whole number")
        fmt = _FORMAT_RE.match(f[1]).group(1)  # type: ignore[union-attr]
        need[f[0]] = need.get(f[0], 0.0) + _FORMAT_BYTES.get(fmt, 2)
    if n_samp:
        for name, per_sample in need.items():
            dat = hea.parent / name
            if name == "~" or not dat.is_file() or per_sample == 0:
                continue
            size = dat.stat().st_size
            if n_samp * per_sample > size + 1024:  # + 1024: byte offsets and prolog
                raise ReadError(hea, f"{hea}: the WFDB header declares {n_samp} samples, "
                                f"which need {n_samp * per_sample:.0f} bytes of {name!r}; "
                                f"it has {size} (truncated file or corrupt sample count)")


@reader("WFDB")
def read_wfdb(
    path: str | os.PathLike[str], *, groups: bool = False,
    ch_kinds: Mapping[str, str] | None = None,
    bipolar: Mapping[str, tuple[str, str]] | None = None,
    annotator: str | None = None, **_: Any,
) -> Any:
    """Read a WFDB record (``.hea`` + signal files; needs ``pip install "ltr[wfdb]"``).

    ``path`` may name the ``.hea`` or ``.dat`` file. Physical units come from the header
    (``mV`` → V). Annotations are read from ``annotator`` (or the first of ``atr``,
    ``ann``, ``qrs``, ``ecg``, ``event`` present beside the header). A channel named
    ``EMG`` (or with EMG in its description) gets kind ``emg``; PhysioNet's EMG database
    labels its single channel that way.
    """
    wfdb = require("wfdb", "wfdb", "WFDB records")
    p = Path(path)
    base = p.with_suffix("")
    if not base.with_suffix(".hea").exists():
        raise FileNotFoundError(f"{base.with_suffix('.hea')}: no such file (WFDB header)")
    _check_header(base.with_suffix(".hea"))
    try:
        with quiet_third_party():
            record = wfdb.rdrecord(str(base))
    except Exception as err:
        raise ValueError(f"{p}: could not be read as WFDB: {err}") from err
    sig = np.asarray(record.p_signal, dtype=np.float64)
    names = list(record.sig_name)
    units = list(record.units or [""] * len(names))
    channels = [Channel(name=n, data=sig[:, j], sfreq=float(record.fs), unit=u)
                for j, (n, u) in enumerate(zip(names, units, strict=True))]
    ann = Annotations()
    for ext in [annotator] if annotator else _ANNOTATORS:
        if base.with_suffix(f".{ext}").exists():
            with quiet_third_party():
                a = wfdb.rdann(str(base), ext)
            ann = Annotations(np.asarray(a.sample) / float(record.fs), 0.0,
                              [str(s) for s in (a.aux_note if any(a.aux_note) else a.symbol)])
            break
    return assemble(p, channels, file_format="WFDB", groups=groups, annotations=ann,
                    ch_kinds=ch_kinds, bipolar=bipolar,
                    meta={"comments": list(record.comments or [])})
