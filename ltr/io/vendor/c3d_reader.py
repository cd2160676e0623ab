"""Analog channels (EMG, accelerometers) of C3D motion-capture files, through ``c3d``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._validate import check_file
from ...channels import infer_kind
from ...recording import Recording
from .._common import reader, to_si
from . import require


@reader("C3D")
def read_c3d(
    path: str | os.PathLike[str], *, ch_kinds: Mapping[str, str] | None = None,
    bipolar: Mapping[str, tuple[str, str]] | None = None, **_: Any,
) -> Recording:
    """Read the analog channels of a C3D file (needs ``pip install "ltr[c3d]"``).

    The analog rate (``ANALOG:RATE``), labels, descriptions and units (``ANALOG:UNITS``)
    come from the parameter section; marker trajectories are not read. Channels labelled
    or described as EMG get kind ``emg``; other kinds come from labels and units as for
    every reader (:func:`ltr.channels.infer_kind`). Of a Vicon description
    (``Device::Channel [id,n]``) only the channel part counts: the inputs of Vicon's
    generic ``Analog EMG`` device (``Voltage.1``...) are ``misc``, as ltr analyses no
    channel it is not sure of (an amplifier's output is not the electrode's volts); pass
    ``ch_kinds=`` to say they are EMG.
    """
    c3d = require("c3d", "c3d", "C3D files")
    p = check_file(path)
    try:
        with open(p, "rb") as fh:
            reader = c3d.Reader(fh)
            rate = float(reader.analog_rate)
            labels = [s.strip() for s in reader.analog_labels]
            units_p = reader.get("ANALOG:UNITS")
            units = [s.strip() for s in units_p.string_array] if units_p is not None else []
            desc_p = reader.get("ANALOG:DESCRIPTIONS")
            descs = [s.strip() for s in desc_p.string_array] if desc_p is not None else []
            frames = [analog for _, _, analog in reader.read_frames()]
    except Exception as err:  # the c3d package raises several kinds on bad files
        raise ValueError(f"{p}: could not be read as C3D: {err}") from err
    if not frames or not labels:
        raise ValueError(f"{p}: no analog channels in this C3D file")
    data = np.concatenate(frames, axis=1).astype(np.float64)
    units = (units + [""] * len(labels))[: len(labels)]
    names = _unique(labels)
    data, si = to_si(data, units)
    kinds = {}
    for n, d in zip(names, descs + [""] * len(names), strict=False):
        # "Device::Channel [id,n]": the channel part may say EMG; the device's name does not
        # count (Vicon's generic "Analog EMG" device holds whatever feeds the analog board)
        if infer_kind(d.rsplit("::", 1)[-1]) == "emg":
            kinds[n] = "emg"
    kinds.update(ch_kinds or {})
    rec = Recording(data, rate, names, kinds or None, units=si, orig_units=units,
                    meta={"source": str(p), "format": "C3D", "descriptions": descs})
    return rec.set_bipolar(bipolar) if bipolar else rec


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out
