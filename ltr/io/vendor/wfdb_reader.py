"""WFDB records (PhysioNet), through the ``wfdb`` package, with annotation files."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ...annotations import Annotations
from .._common import reader
from .._groups import Channel, assemble
from . import quiet_third_party, require

_ANNOTATORS = ("atr", "ann", "qrs", "ecg", "event")


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
