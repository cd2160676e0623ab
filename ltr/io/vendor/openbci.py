"""OpenBCI GUI raw text files (``%OpenBCI Raw EXG Data`` header)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ...annotations import Annotations
from ...recording import Recording
from .._common import reader
from ..text import read_text


def is_openbci(head: str) -> bool:
    """Whether the start of a text file is an OpenBCI GUI raw export."""
    return head.lstrip().startswith("%OpenBCI")


@reader("OpenBCI text")
def read_openbci(
    path: str | os.PathLike[str], *, emg: list[str] | None = None,
    ch_kinds: Mapping[str, str] | None = None,
    bipolar: Mapping[str, tuple[str, str]] | None = None, **_: Any,
) -> Recording:
    """Read an OpenBCI GUI raw text file (Cyton/Ganglion, GUI v5/v6).

    EXG channels are in µV and become ``misc`` unless named in ``emg`` or ``ch_kinds``
    (the board records EEG as often as EMG); accelerometer columns are in g and are held
    at the EXG rate by the GUI (their own rate is lower); non-zero values of the marker
    channel become annotations; the formatted time-stamp text column is left out, the
    rest (sample index, digital and analog pins, time stamps) is kept as ``misc``.
    """
    kinds = dict(ch_kinds or {})
    for name in emg or []:
        kinds[name] = "emg"
    rec = read_text(path, exclude=["Timestamp (Formatted)"], time_column=None,
                    units=None, ch_kinds=None)
    units = []
    for name, unit in zip(rec.ch_names, rec.orig_units, strict=True):
        if name.startswith("EXG Channel"):
            units.append("uV")
        elif name.startswith("Accel Channel"):
            units.append("g")
        else:
            units.append(unit)
    data = rec.data.copy()
    from .._common import to_si

    data, si = to_si(data, units)
    marker = [i for i, n in enumerate(rec.ch_names) if n == "Marker Channel"]
    ann = Annotations()
    if marker:
        m = data[marker[0]]
        hits = np.flatnonzero((m != 0) & np.isfinite(m))
        ann = Annotations(hits / rec.sfreq, 0.0, [f"marker {v:g}" for v in m[hits]])
    meta = dict(rec.meta, format="OpenBCI GUI text")
    out = Recording(data, rec.sfreq, rec.ch_names, ch_kinds=kinds or None, units=si,
                    orig_units=units, annotations=ann, meta=meta)
    return out.set_bipolar(bipolar) if bipolar else out
