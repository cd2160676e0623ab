"""XDF files (Lab Streaming Layer) through pyxdf: streams with their own clocks."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._validate import check_file
from ...annotations import Annotations
from .._common import reader
from .._groups import Channel, assemble
from . import require


@reader("XDF")
def read_xdf(
    path: str | os.PathLike[str], *, groups: bool = False,
    ch_kinds: Mapping[str, str] | None = None,
    bipolar: Mapping[str, tuple[str, str]] | None = None, **_: Any,
) -> Any:
    """Read an XDF file (needs ``pip install "ltr[xdf]"``).

    Numeric streams with a nominal rate become channels (named ``stream: channel``, units
    from the stream's channel descriptions); pyxdf synchronises the streams' clocks and
    every stream is placed on a common time axis starting at the earliest sample. String
    (marker) streams become annotations.
    """
    pyxdf = require("pyxdf", "xdf", "XDF files")
    p = check_file(path)
    try:
        streams, _header = pyxdf.load_xdf(str(p))
    except Exception as err:
        raise ValueError(f"{p}: could not be read as XDF: {err}") from err
    numeric = [s for s in streams if float(s["info"]["nominal_srate"][0]) > 0
               and len(s["time_stamps"])]
    if not numeric:
        raise ValueError(f"{p}: no numeric stream with a sampling rate")
    t0 = min(float(s["time_stamps"][0]) for s in numeric)
    channels = []
    for s in numeric:
        info = s["info"]
        name = info["name"][0]
        rate = float(info["nominal_srate"][0])
        x = np.asarray(s["time_series"], dtype=np.float64)
        x = x.reshape(len(x), -1)
        lead = round((float(s["time_stamps"][0]) - t0) * rate)
        labels, units = _channel_info(info, x.shape[1])
        for j in range(x.shape[1]):
            data = np.concatenate([np.full(lead, np.nan), x[:, j]])
            channels.append(Channel(name=f"{name}: {labels[j]}", data=data, sfreq=rate,
                                    unit=units[j]))
    onsets, texts = [], []
    for s in streams:
        if float(s["info"]["nominal_srate"][0]) == 0 and len(s["time_stamps"]):
            for ts, value in zip(s["time_stamps"], s["time_series"], strict=False):
                onsets.append(float(ts) - t0)
                texts.append(str(value[0] if isinstance(value, list | np.ndarray) else value))
    ann = Annotations(onsets, 0.0, texts)
    return assemble(p, channels, file_format="XDF", groups=groups, annotations=ann,
                    ch_kinds=ch_kinds, bipolar=bipolar)


def _channel_info(info: dict[str, Any], n: int) -> tuple[list[str], list[str]]:
    labels = [f"ch{j + 1}" for j in range(n)]
    units = [""] * n
    try:
        chans = info["desc"][0]["channels"][0]["channel"]
        for j, c in enumerate(chans[:n]):
            labels[j] = (c.get("label") or [labels[j]])[0]
            units[j] = (c.get("unit") or [""])[0]
    except (KeyError, IndexError, TypeError):
        pass
    return labels, units
