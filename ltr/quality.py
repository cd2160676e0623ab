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
        rows = [("channel", "kind", "file unit", "range", "RMS", "flags")]
        for c in self.channels:
            scale, unit = (1e6, "µV") if c.unit == "V" else (1.0, c.unit)
            rng = f"{_num(c.minimum * scale)}..{_num(c.maximum * scale)} {unit}".strip()
            rms = f"{_num(c.rms * scale)} {unit}".strip()
            rows.append((c.name, c.kind, c.orig_unit or "-", rng, rms,
                         ", ".join(c.flags) or "ok"))
        # each column as wide as its widest cell (a long unit, name or range stays aligned)
        widths = [max(len(r[j]) for r in rows) for j in range(len(rows[0]) - 1)]
        lines += ["  " + "  ".join(f"{cell:<{w}}" for cell, w in zip(r, widths, strict=False))
                  + f"  {r[-1]}" for r in rows]
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
    A channel is *flat* when its minimum equals its maximum. The channels of an
    ultrasound motion recording (``meta["ultrasound"]``: speeds estimated from the
    frames, :func:`ltr.ultrasound.motion_recording`) have no amplifier to saturate, and
    the exact zeros of repeated frames are not a rail: they are never called clipped.
    """
    n_ch, n, sfreq = recording.n_channels, recording.n_samples, recording.sfreq
    extremes: list[np.ndarray | None] = [None] * n_ch  # top_two of each channel so far
    sumsq = np.zeros(n_ch)
    n_finite = np.zeros(n_ch)
    nan_count = np.zeros(n_ch, dtype=int)
    gaps: list[list[list[int]]] = [[] for _ in range(n_ch)]  # [start, length] per channel
    for start in range(0, n, block_size):
        block = recording.get_data(start, min(n, start + block_size))
        finite = np.isfinite(block)
        nan_count += (~finite).sum(axis=1)
        for c in range(n_ch):  # a loop over channels
            s = top_two(block[c])
            extremes[c] = s if extremes[c] is None else merge_top_two(extremes[c], s)
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
    stats = np.stack([e if e is not None else top_two(np.zeros(0)) for e in extremes]
                     ) if n_ch else np.zeros((0, 2, 4))
    mx, mn = stats[:, 0, 0], -stats[:, 1, 0]
    # samples on a saturated rail: the extreme's count where rails_of calls it saturated
    at_rail = np.array([sum(stats[c, row, 1] for row, rail in enumerate(rails_of(stats[c]))
                            if rail is not None) for c in range(n_ch)], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rms = np.sqrt(sumsq / n_finite)
        clipped = np.where(n_finite > 0, at_rail / np.maximum(n_finite, 1), 0.0)
    if "ultrasound" in recording.meta:  # estimated from frames: nothing to saturate
        clipped = np.zeros(n_ch)
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


# -- saturation rails -------------------------------------------------------------------------
# A rail is saturated when the extreme value is piled up: at least 3 samples sit on it and
# more than 4 times as many as on the next value below it. The two largest distinct values
# and their counts combine exactly over blocks, so a long file is summarised piece by piece
# (here for `ltr info`; ltr.detect.stream while it detects, marking the candidates that
# touch a rail at the end).
def _tail(x: np.ndarray, lower: bool, size: int = 4000) -> np.ndarray:
    """The finite values of ``x`` at or beyond a level that about ``size`` of them reach
    (the upper tail, or the lower one), found from a subsample: every extreme value and
    the values next to it are in it, at the cost of one comparison over ``x``."""
    if x.size <= 4 * size:
        return x[np.isfinite(x)]
    sub = x[:: max(1, x.size // (50 * size // 10))]
    sub = sub[np.isfinite(sub)]
    if sub.size == 0:
        return x[np.isfinite(x)]
    k = max(1, min(sub.size - 1, round(sub.size * size / x.size)))
    if lower:
        level = np.partition(sub, k)[k]
        return x[x <= level]
    level = np.partition(sub, sub.size - 1 - k)[sub.size - 1 - k]
    return x[x >= level]


def top_two(x: np.ndarray) -> np.ndarray:
    """Per sign, the two largest distinct finite values and their counts.

    Row 0: ``[max, n_max, next, n_next]``; row 1 the same for ``-x`` (the minimum).
    NaN and 0 where there is no such value.
    """
    out = np.array([[np.nan, 0.0, np.nan, 0.0]] * 2)
    for row, lower in ((0, False), (1, True)):
        tail = _tail(x, lower)
        if not tail.size:
            continue
        top = tail.min() if lower else tail.max()
        out[row, :2] = (-top if lower else top, np.count_nonzero(tail == top))
        rest = tail[tail > top] if lower else tail[tail < top]
        if rest.size == 0 and tail.size < np.count_nonzero(np.isfinite(x)):
            with np.errstate(invalid="ignore"):  # the tail held only the extreme
                rest = x[(x > top) if lower else (x < top)]
            rest = rest[np.isfinite(rest)]
        if rest.size:
            nxt = rest.min() if lower else rest.max()
            out[row, 2:] = (-nxt if lower else nxt, np.count_nonzero(rest == nxt))
    return out


def merge_top_two(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Combine two :func:`top_two` summaries (of consecutive blocks) into the whole's."""
    out = np.empty_like(a)
    for row in range(2):
        counts: dict[float, float] = {}
        for v, c in ((a[row, 0], a[row, 1]), (a[row, 2], a[row, 3]),
                     (b[row, 0], b[row, 1]), (b[row, 2], b[row, 3])):
            if np.isfinite(v) and c > 0:
                counts[float(v)] = counts.get(float(v), 0.0) + c
        best = sorted(counts, reverse=True)[:2]
        out[row] = np.nan, 0.0, np.nan, 0.0
        for k, v in enumerate(best):
            out[row, 2 * k: 2 * k + 2] = v, counts[v]
    return out


def rails_of(stats: np.ndarray) -> tuple[float | None, float | None]:
    """The saturated rails (top value, bottom value; None when that rail is not)."""
    out: list[float | None] = []
    for row, sign in enumerate((1.0, -1.0)):
        top, n_top, _, n_next = stats[row]
        out.append(sign * float(top) if np.isfinite(top) and n_top >= 3
                   and n_top > 4 * n_next else None)
    return out[0], out[1]


def rails(x: np.ndarray) -> tuple[float | None, float | None]:
    """The saturated rails of one channel held in memory."""
    return rails_of(top_two(x))


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
