"""BIOPAC AcqKnowledge ``.acq`` files through bioread (GPL-2, an optional extra)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._validate import ReadError, check_file
from ...annotations import Annotations
from .._common import reader
from .._groups import Channel, assemble
from . import require

#: A compressed AcqKnowledge file may expand this much (zlib on signals: a few times).
MAX_EXPANSION = 200


def _check_headers(p: Any, bioread: Any) -> None:
    """Refuse channel headers declaring more samples than the file can hold, before
    bioread allocates them (a corrupt point count asked for gigabytes)."""
    try:
        head = bioread.read_headers(str(p))
    except Exception as err:  # bioread raises many kinds on bad input
        raise ReadError(p, f"{p}: could not be read as AcqKnowledge: {err}", err) from err
    size = p.stat().st_size
    declared = 0
    for c in head.channels:
        count = int(getattr(c, "point_count", 0) or 0)
        if count < 0:
            raise ReadError(p, f"{p}: channel {c.name!r}: negative sample count {count}")
        declared += count * np.dtype(getattr(c, "dtype", "<i2")).itemsize
    allowed = size * (MAX_EXPANSION if getattr(head, "is_compressed", False) else 1)
    if declared > allowed + 4096:
        raise ReadError(p, f"{p}: the channel headers declare {declared} bytes of samples "
                        f"(point counts {[int(c.point_count) for c in head.channels]}) but "
                        f"the file has {size} bytes: a corrupt header")


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
    _check_headers(p, bioread)
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
