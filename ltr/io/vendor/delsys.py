"""Delsys Trigno / EMGworks CSV exports: one time column per channel, mixed rates."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._validate import check_file
from .._common import reader
from .._groups import Channel, assemble

_LABEL_RE = re.compile(r"Label:\s*(?P<label>.*?)\s+Sampling frequency:\s*(?P<rate>[0-9.eE+\-]+)"
                       r".*?Unit:\s*(?P<unit>\S*)", re.IGNORECASE)


def is_delsys(head: str) -> bool:
    """Whether the start of a text file looks like an EMGworks export."""
    return bool(_LABEL_RE.search(head.splitlines()[0] if head else ""))


@reader("Delsys CSV")
def read_delsys(
    path: str | os.PathLike[str], *, groups: bool = False,
    ch_kinds: Mapping[str, str] | None = None,
    bipolar: Mapping[str, tuple[str, str]] | None = None, **_: Any,
) -> Any:
    """Read a Delsys EMGworks CSV export.

    The preamble has one ``Label: ... Sampling frequency: ... Unit: ...`` line per channel;
    the table pairs a time column ``X[s]`` with each channel, and slower channels (ACC/IMU
    at ~148 Hz beside EMG at ~1259 or ~1926 Hz) end early, leaving empty cells. Rates come
    from the preamble, units are converted to SI (``g`` to m/s²); gyroscope channels are
    kept as ``misc``.

    Parameters
    ----------
    groups : bool
        One recording per rate (a list) instead of one at the EMG rate with slower
        channels resampled up. See :func:`ltr.io._groups.assemble`.
    """
    p = check_file(path)
    text = p.read_text(encoding="utf-8-sig", errors="replace")
    lines = text.splitlines()
    i = next((k for k, line in enumerate(lines) if line.lstrip('"').startswith("X[s]")), None)
    if i is None:
        raise ValueError(f"{p}: no 'X[s]' header row after the Delsys preamble")
    info = [(m["label"].strip(), float(m["rate"]), m["unit"])
            for m in map(_LABEL_RE.search, lines[:i]) if m]
    if not info:
        raise ValueError(f"{p}: no 'Label: ... Sampling frequency: ...' lines")
    header = next(csv.reader([lines[i]]))
    value_cols = [j for j, h in enumerate(header) if h.strip() != "X[s]"]
    rows = list(csv.reader(lines[i + 1:]))
    channels = []
    for k, j in enumerate(value_cols):
        name = header[j].strip()
        label, rate, unit = info[k] if k < len(info) else (name, np.nan, "")
        if label != name:
            raise ValueError(f"{p}: column {name!r} does not match preamble label {label!r}")
        cells = [r[j] if j < len(r) else "" for r in rows]
        last = max((n for n, c in enumerate(cells) if c.strip()), default=-1)
        try:
            data = np.asarray([float(c) if c.strip() else np.nan for c in cells[:last + 1]])
        except ValueError as err:
            raise ValueError(f"{p}: column {name!r}: {err}") from None
        channels.append(Channel(name=name, data=data, sfreq=rate, unit=unit.replace("Â", "")))
    kinds = {c.name: "misc" for c in channels if "GYRO" in c.name.upper()}
    kinds.update(ch_kinds or {})
    return assemble(p, channels, file_format="Delsys CSV", groups=groups, ch_kinds=kinds,
                    bipolar=bipolar)
