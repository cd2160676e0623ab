"""Signal-quality facts about a recording: clipping, flat channels, NaN gaps, mains hum.

:func:`assess` reads the recording block by block, so it works on long files without
loading them whole; ``ltr info`` prints its :class:`QualityReport`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .io._common import nan_runs
from .preprocess import find_mains
from .recording import Recording

#: A mains peak counts when the power at 50/60 Hz stands this many dB over its neighbours.
MAINS_THRESHOLD_DB = 10.0


@dataclass
class ChannelQuality:
    """Quality facts about one channel (values in the channel's SI unit)."""

    name: str
    kind: str
    unit: str
    orig_unit: str
    minimum: float
    maximum: float
    rms: float
    clipped_fraction: float
    flat: bool
    n_nan: int
    nan_gaps: list[tuple[float, float]] = field(default_factory=list)
    mains_hz: float | None = None
    mains_db: float | None = None

    @property
    def flags(self) -> list[str]:
        """Short labels of what is wrong with the channel."""
        out = []
        if self.flat:
            out.append("flat")
        if self.clipped_fraction >= 1e-3:
            out.append(f"clipped {100 * self.clipped_fraction:.2g}%")
        if self.n_nan:
            out.append(f"{len(self.nan_gaps)} NaN gap(s)")
        if self.kind in ("emg", "acc") and not self.unit:
            out.append("unit unknown (not converted to SI)")
        if self.mains_hz is not None:
            out.append(f"mains {self.mains_hz:g} Hz (+{self.mains_db:.0f} dB)")
        return out


@dataclass
class QualityReport:
    """What ``ltr info`` reports about a recording."""

    source: str
    file_format: str
    sfreq: float
    n_samples: int
    duration: float
    meas_date: str | None
    annotations: dict[str, int]
    channels: list[ChannelQuality]
    sensors: dict[str, list[str]]
    rate_groups: dict[str, list[str]] = field(default_factory=dict)
    resampled: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (flags included per channel)."""
        d = asdict(self)
        for ch, c in zip(d["channels"], self.channels, strict=True):
            ch["flags"] = c.flags
        return d

    def format(self) -> str:
        """A human-readable multi-line summary."""
        lines = [
            f"file        {self.source}",
            f"format      {self.file_format}",
            f"duration    {self.duration:.3f} s ({_hms(self.duration)}), {self.n_samples} samples",
            f"sampling    {self.sfreq:g} Hz",
            f"start       {self.meas_date or 'unknown'}",
            f"channels    {len(self.channels)}",
        ]
        width = max([len(c.name) for c in self.channels] + [7])
        lines.append(f"  {'channel':<{width}}  kind     file unit  {'range':<22}  "
                     f"{'RMS':<12}  flags")
        for c in self.channels:
            scale, unit = (1e6, "µV") if c.unit == "V" else (1.0, c.unit)
            rng = f"{_num(c.minimum * scale)}..{_num(c.maximum * scale)} {unit}".strip()
            rms = f"{_num(c.rms * scale)} {unit}".strip()
            lines.append(f"  {c.name:<{width}}  {c.kind:<7}  {c.orig_unit or '-':<9}  "
                         f"{rng:<22}  {rms:<12}  {', '.join(c.flags) or 'ok'}")
        if len(self.rate_groups) > 1:
            lines.append("rate groups " + "; ".join(
                f"{rate} Hz: {len(names)} channel(s)" for rate, names in self.rate_groups.items()))
            if self.resampled:
                lines.append(f"            {len(self.resampled)} slower channel(s) resampled up "
                             f"to {self.sfreq:g} Hz (read with groups=True to keep rates)")
        if self.sensors:
            lines.append("sensors     " + "; ".join(
                f"{k}: {', '.join(v)}" for k, v in self.sensors.items()))
        if self.annotations:
            total = sum(self.annotations.values())
            lines.append(f"annotations {total}: " + ", ".join(
                f"{k!r} x{v}" for k, v in self.annotations.items()))
        else:
            lines.append("annotations none")
        for c in self.channels:
            for onset, dur in c.nan_gaps[:10]:
                lines.append(f"  NaN gap in {c.name!r} at {onset:.3f} s for {dur:.3f} s")
        return "\n".join(lines)


def _num(v: float) -> str:
    return f"{v:.3g}" if np.isfinite(v) else "nan"


def _hms(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600:d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def mains_peak(
    x: np.ndarray, sfreq: float, candidates: tuple[float, ...] = (50.0, 60.0)
) -> tuple[float | None, float]:
    """Find mains hum: the candidate frequency whose spectral peak stands highest.

    A thin view of :func:`ltr.preprocess.find_mains` (the detector's own hum finder) with
    the stricter :data:`MAINS_THRESHOLD_DB` used for flags.

    Parameters
    ----------
    x : ndarray, shape (n_samples,)
        One channel (NaN-free).
    sfreq : float
        Sampling rate in Hz.
    candidates : tuple of float
        Mains frequencies to test.

    Returns
    -------
    freq : float | None
        The nominal mains frequency (50 or 60) when its peak stands
        :data:`MAINS_THRESHOLD_DB` over its neighbourhood, else None.
    prominence_db : float
        Prominence of the fundamental in dB (0 when there is none).
    """
    if sfreq < 2.2 * max(candidates) or x.size < int(sfreq):
        return None, 0.0
    info = find_mains(x, sfreq, candidates=candidates, prominence_db=MAINS_THRESHOLD_DB)
    if info.frequency is None or 1 not in info.prominence_db:
        return None, 0.0
    nominal = min(candidates, key=lambda c: abs(c - info.frequency))
    return nominal, info.prominence_db[1]


def assess(
    recording: Recording, *, block_size: int = 1 << 20, mains_seconds: float = 60.0
) -> QualityReport:
    """Compute the quality facts of every channel, reading the recording in blocks.

    Parameters
    ----------
    recording : Recording
    block_size : int
        Samples read per block (memory use is ``n_channels * block_size * 8`` bytes).
    mains_seconds : float
        Seconds of signal (taken as up to 4 evenly spaced stretches) used to look for mains
        hum on EMG and unlabelled channels.

    Returns
    -------
    QualityReport

    Notes
    -----
    *Clipping* is a pile-up at an extreme: the samples equal to the channel's maximum (or
    minimum) count as clipped when there are at least 3 of them and more than 4 times as
    many as at the next distinct value (a saturated amplifier holds its rail, while the tail
    of an unclipped signal thins out towards its extreme, also on coarse ADC steps).
    A channel is *flat* when its minimum equals its maximum.
    """
    n_ch, n, sfreq = recording.n_channels, recording.n_samples, recording.sfreq
    top = _TopTwo(n_ch)  # the two largest distinct values and their counts
    bottom = _TopTwo(n_ch)  # the same for -x
    sumsq = np.zeros(n_ch)
    n_finite = np.zeros(n_ch)
    nan_count = np.zeros(n_ch, dtype=int)
    gaps: list[list[list[int]]] = [[] for _ in range(n_ch)]  # [start, length] per channel
    for start in range(0, n, block_size):
        block = recording.get_data(start, min(n, start + block_size))
        finite = np.isfinite(block)
        nan_count += (~finite).sum(axis=1)
        top.update(np.where(finite, block, -np.inf))
        bottom.update(np.where(finite, -block, -np.inf))
        clean = np.where(finite, block, 0.0)
        sumsq += np.einsum("ij,ij->i", clean, clean)
        n_finite += finite.sum(axis=1)
        for c in np.flatnonzero((~finite).any(axis=1)):
            for s, length in zip(*nan_runs(block[c]), strict=True):
                g = gaps[c]
                if g and g[-1][0] + g[-1][1] == start + s:
                    g[-1][1] += int(length)
                else:
                    g.append([start + int(s), int(length)])
    mx, mn = top.values[:, 0], -bottom.values[:, 0]
    at_rail = top.clipped_counts() + bottom.clipped_counts()
    with np.errstate(invalid="ignore", divide="ignore"):
        rms = np.sqrt(sumsq / n_finite)
        clipped = np.where(n_finite > 0, at_rail / np.maximum(n_finite, 1), 0.0)
    channels = []
    mains = _mains_per_channel(recording, mains_seconds)
    for i, name in enumerate(recording.ch_names):
        flat = bool(n_finite[i] > 0 and mx[i] == mn[i])
        channels.append(ChannelQuality(
            name=name, kind=recording.ch_kinds[i], unit=recording.units[i],
            orig_unit=recording.orig_units[i],
            minimum=float(mn[i]) if n_finite[i] else float("nan"),
            maximum=float(mx[i]) if n_finite[i] else float("nan"),
            rms=float(rms[i]), clipped_fraction=0.0 if flat else float(clipped[i]), flat=flat,
            n_nan=int(nan_count[i]),
            nan_gaps=[(s / sfreq, length / sfreq) for s, length in gaps[i]],
            mains_hz=mains[i][0], mains_db=mains[i][1] if mains[i][0] is not None else None,
        ))
    names = recording.ch_names
    sensors = {k: [names[i] for i in v] for k, v in recording.sensors().items() if len(v) > 1}
    return QualityReport(
        source=str(recording.meta.get("source", "")),
        file_format=str(recording.meta.get("format", "")),
        sfreq=sfreq, n_samples=n, duration=recording.duration,
        meas_date=recording.meas_date.isoformat() if recording.meas_date else None,
        annotations=recording.annotations.counts(), channels=channels, sensors=sensors,
        rate_groups=dict(recording.meta.get("rate_groups", {})),
        resampled=dict(recording.meta.get("resampled", {})),
    )


class _TopTwo:
    """Running two largest distinct values per channel and how often each occurs."""

    def __init__(self, n_channels: int) -> None:
        self.values = np.full((n_channels, 2), -np.inf)
        self.counts = np.zeros((n_channels, 2))

    def update(self, block: np.ndarray) -> None:
        b1 = block.max(axis=1, initial=-np.inf)
        c1 = (block == b1[:, None]).sum(axis=1)
        below = np.where(block < b1[:, None], block, -np.inf)
        b2 = below.max(axis=1, initial=-np.inf)
        c2 = (block == b2[:, None]).sum(axis=1)
        for ch in range(block.shape[0]):  # merging 4 candidates: a loop over channels only
            merged: dict[float, float] = {}
            for v, c in ((self.values[ch, 0], self.counts[ch, 0]),
                         (self.values[ch, 1], self.counts[ch, 1]), (b1[ch], c1[ch]),
                         (b2[ch], c2[ch])):
                if np.isfinite(v) and c > 0:
                    merged[v] = merged.get(v, 0.0) + c
            best = sorted(merged.items(), reverse=True)[:2] + [(-np.inf, 0.0)] * 2
            self.values[ch] = [best[0][0], best[1][0]]
            self.counts[ch] = [best[0][1], best[1][1]]

    def clipped_counts(self) -> np.ndarray:
        c1, c2 = self.counts[:, 0], self.counts[:, 1]
        return np.where((c1 >= 3) & (c1 > 4 * c2), c1, 0.0)


def _mains_per_channel(recording: Recording, seconds: float) -> list[tuple[float | None, float]]:
    out: list[tuple[float | None, float]] = [(None, 0.0)] * recording.n_channels
    idx = [i for i, k in enumerate(recording.ch_kinds) if k in ("emg", "misc")]
    if not idx or recording.sfreq < 110:
        return out
    n, sfreq = recording.n_samples, recording.sfreq
    seg = int(min(n, seconds * sfreq / 4))
    starts = np.unique(np.linspace(0, max(0, n - seg), 4).astype(int))
    pieces = [recording.get_data(s, s + seg, picks=idx) for s in starts]
    for j, ch in enumerate(idx):
        x = np.concatenate([p[j] for p in pieces])
        x = x[np.isfinite(x)]
        if x.size and np.ptp(x) > 0:
            out[ch] = mains_peak(x, sfreq)
    return out
