"""BIOPAC AcqKnowledge ``.acq`` files through bioread (GPL-2, an optional extra)."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._validate import ReadError, check_file
from ...annotations import Annotations
from .._common import reader
from .._groups import Channel, assemble
from . import require

_LOCK = threading.Lock()


def _bound_header_counts() -> None:
    """Make bioread refuse a header count the file cannot hold (once per process).

    bioread reads ``n`` consecutive headers (channels, markers) in a Python loop; a corrupt
    count (4294967294 markers of zero length) loops for hours at one offset. The guard
    refuses counts whose headers would not fit between their offset and the end of the
    file; a valid file is read exactly as before.
    """
    from bioread import header_reader

    with _LOCK:
        cls = header_reader.HeaderReader
        if getattr(cls.multi_headers, "_ltr_bounded", False):
            return
        original = cls.multi_headers

        def multi_headers(self: Any, num: int, start_offset: int, h_class: Any) -> Any:
            fh = self.acq_file
            try:
                size = os.fstat(fh.fileno()).st_size
            except (AttributeError, OSError, ValueError):
                size = None
            if size is not None:
                one = h_class.for_revision(self.file_revision, self.byte_order_char,
                                           encoding=self.encoding).struct_length
                if num < 0 or num * max(int(one), 1) > max(size - start_offset, 0):
                    raise ValueError(f"{num} {h_class.__name__} records of {one} bytes "
                                     f"declared at offset {start_offset}; the file has "
                                     f"{size} bytes")
            return original(self, num, start_offset, h_class)

        multi_headers._ltr_bounded = True  # type: ignore[attr-defined]
        cls.multi_headers = multi_headers


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
    _bound_header_counts()
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
