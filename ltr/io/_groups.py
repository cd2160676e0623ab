"""Recordings whose channels have different sampling rates (EMG beside a slow IMU).

Vendor readers hand their channels to :func:`assemble`, which either returns one
:class:`Recording` per rate group (``groups=True``) or one recording at the fastest rate in
which slower channels are resampled up (never the EMG down), recording that fact in
``meta["resampled"]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal

from ..annotations import Annotations
from ..channels import infer_kind, resolve_kinds
from ..recording import Recording
from ._common import to_si


@dataclass
class Channel:
    """One channel as a vendor file holds it."""

    name: str
    data: np.ndarray
    sfreq: float
    unit: str = ""
    start: float = 0.0


def _rate_key(rate: float) -> float:
    return float(f"{rate:.6g}")


def assemble(
    path: Path,
    channels: Sequence[Channel],
    *,
    file_format: str,
    groups: bool = False,
    annotations: Annotations | None = None,
    ch_kinds: Mapping[str, str] | None = None,
    bipolar: Mapping[str, tuple[str, str]] | None = None,
    meta: dict[str, Any] | None = None,
    meas_date: Any = None,
) -> Recording | list[Recording]:
    """Build recordings from channels that may have different rates.

    Parameters
    ----------
    path : Path
        Source file (for messages and meta).
    channels : sequence of Channel
        Data in the file's units; converted to SI here.
    file_format : str
        Name stored in ``meta["format"]``.
    groups : bool
        True: a list with one recording per sampling rate, fastest first. False (default):
        one recording at the fastest rate; slower channels are resampled up (polyphase,
        anti-imaged) and listed in ``meta["resampled"]`` with their original rate.
    annotations, ch_kinds, bipolar, meta, meas_date
        As for :class:`Recording` and :func:`ltr.read`.
    """
    if not channels:
        raise ValueError(f"{path}: no signal channels found")
    by_rate: dict[float, list[Channel]] = {}
    for ch in channels:
        by_rate.setdefault(_rate_key(ch.sfreq), []).append(ch)
    rates = sorted(by_rate, reverse=True)
    base_meta = {"source": str(path), "format": file_format, **(meta or {})}
    base_meta["rate_groups"] = {f"{r:g}": [c.name for c in by_rate[r]] for r in rates}
    names_all = [c.name for c in channels]
    kinds_all = resolve_kinds(names_all, [infer_kind(c.name, c.unit) for c in channels],
                              {k: v for k, v in (ch_kinds or {}).items() if k in names_all},
                              where=str(path))
    kind_of = dict(zip(names_all, kinds_all, strict=True))

    def build(chs: list[Channel], rate: float, n: int | None = None,
              resampled: dict[str, float] | None = None) -> Recording:
        rows = []
        for c in chs:
            x = np.asarray(c.data, dtype=np.float64)
            if n is not None and _rate_key(c.sfreq) != _rate_key(rate):
                x = _resample(x, c.sfreq, rate)
            if n is not None:
                x = x[:n] if x.size >= n else np.concatenate([x, np.full(n - x.size, np.nan)])
            rows.append(x)
        length = max(r.size for r in rows)
        data = np.vstack([np.concatenate([r, np.full(length - r.size, np.nan)]) for r in rows])
        orig = [c.unit for c in chs]
        data, si = to_si(data, orig)
        m = dict(base_meta)
        if resampled:
            m["resampled"] = resampled
        rec = Recording(data, rate, [c.name for c in chs], [kind_of[c.name] for c in chs],
                        units=si, orig_units=orig, annotations=annotations.copy()
                        if annotations is not None else None, meta=m, meas_date=meas_date)
        return rec

    exact = {r: by_rate[r][0].sfreq for r in rates}  # the key is rounded, the rate is not
    if groups:
        recs = [build(by_rate[r], exact[r]) for r in rates]
        if bipolar:
            raise ValueError(f"{path}: bipolar= works on one recording; read with groups=False")
        return recs
    fastest = rates[0]
    # the fastest group sets the length; slower channels are cut or padded to it
    n = max(c.data.size for c in by_rate[fastest])
    resampled = {c.name: c.sfreq for c in channels if _rate_key(c.sfreq) != fastest}
    rec = build(list(channels), exact[fastest], n=n, resampled=resampled)
    return rec.set_bipolar(bipolar) if bipolar else rec


def _resample(x: np.ndarray, rate_in: float, rate_out: float) -> np.ndarray:
    """Polyphase resampling by the closest small rational factor (NaN kept as gaps)."""
    frac = Fraction(rate_out / rate_in).limit_denominator(1000)
    mask = np.isfinite(x)
    y = signal.resample_poly(np.where(mask, x, 0.0), frac.numerator, frac.denominator,
                             padtype="line")
    if not mask.all():
        gaps = signal.resample_poly(mask.astype(float), frac.numerator, frac.denominator)
        y[gaps < 0.5] = np.nan
    return y
