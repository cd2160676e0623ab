"""BIOPAC AcqKnowledge ``.acq`` files through bioread (GPL-2, an optional extra)."""

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


@reader("AcqKnowledge")
def read_acq(
    path: str | os.PathLike[str], *, groups: bool = False,
    ch_kinds: Mapping[str, str] | None = None,
    bipolar: Mapping[str, tuple[str, str]] | None = None, **_: Any,
) -> Any:
    """Read a BIOPAC AcqKnowledge file (needs ``pip install "ltr[biopac]"``).

    Channels keep their own rates (AcqKnowledge allows mixed rates); event markers
    become annotations. bioread is GPL-2, which is why it is never a core dependency.
    """
    bioread = require("bioread", "biopac", "BIOPAC .acq files")
    p = check_file(path)
    try:
        acq = bioread.read_file(str(p))
    except Exception as err:  # bioread raises many kinds on bad input
        raise ValueError(f"{p}: could not be read as AcqKnowledge: {err}") from err
    channels = [Channel(name=c.name, data=np.asarray(c.data, float),
                        sfreq=float(c.samples_per_second), unit=str(c.units or ""))
                for c in acq.channels]
    markers = getattr(acq, "event_markers", []) or []
    fastest = max(c.sfreq for c in channels) if channels else 1.0
    ann = Annotations(
        [float(getattr(m, "sample_index", 0)) / fastest for m in markers], 0.0,
        [str(getattr(m, "text", "") or getattr(m, "type", "marker")) for m in markers])
    return assemble(p, channels, file_format="BIOPAC AcqKnowledge", groups=groups,
                    annotations=ann, ch_kinds=ch_kinds, bipolar=bipolar)
