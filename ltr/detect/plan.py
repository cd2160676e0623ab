"""What the detector learns about a channel before it looks for twitches.

A few quantities describe a whole channel rather than a moment of it: whether mains hum
is present and at which harmonics, whether the channel carries a heartbeat and its
rhythm and shape, the scale of sample-to-sample differences (for electrode pops), and
the rails where the amplifier saturates. They are estimated once, from the first
:data:`CALIBRATION` seconds (rails: from the whole channel, as a reduction that can be
accumulated block by block), and every stretch of the channel is then processed with
the same values. That is what lets a long recording be processed in pieces with the
same result as in one go (:mod:`ltr.detect.stream`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..preprocess import (
    QrsRhythm,
    band_edges,
    decimate_mean,
    find_mains,
    find_rhythm,
    glitch_scale,
    mains_block_length,
    qrs_decimation,
    remove_mains,
)
from .config import DetectorConfig
from .core import block_length

#: Seconds at the start of a channel from which its plan is estimated.
CALIBRATION = 120.0
#: Seconds of spectrum used to look for mains hum.
MAINS_SECONDS = 30.0


# -- rails (clipping) -----------------------------------------------------------------------
def rail_stats(x: np.ndarray) -> np.ndarray:
    """Per-sign summary of the extremes of ``x``: ``[[top, n_top, next, n_next], ...]``.

    Row 0 is for the maximum, row 1 for the minimum (sign flipped). ``next`` is the
    largest value below the extreme. Summaries of consecutive blocks combine with
    :func:`merge_rail_stats` into the summary of the whole.
    """
    out = np.full((2, 4), np.nan)
    finite = x[np.isfinite(x)] if not np.isfinite(x).all() else x
    if finite.size == 0:
        out[:, 1] = out[:, 3] = 0
        return out
    for row, sign in enumerate((1.0, -1.0)):
        top = float(np.max(sign * finite))
        n_top = int(np.count_nonzero(sign * finite == top))
        nxt = float(np.max(sign * finite, where=sign * finite < top, initial=-np.inf))
        n_next = int(np.count_nonzero(sign * finite == nxt)) if np.isfinite(nxt) else 0
        out[row] = (top, n_top, nxt if np.isfinite(nxt) else np.nan, n_next)
    return out


def merge_rail_stats(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Combine two :func:`rail_stats` summaries."""
    out = np.empty_like(a)
    for row in range(2):
        vals: dict[float, float] = {}
        for t, c, nx, cn in (a[row], b[row]):
            for v, k in ((t, c), (nx, cn)):
                if np.isfinite(v) and k > 0:
                    vals[float(v)] = vals.get(float(v), 0.0) + k
        top = sorted(vals, reverse=True)[:2]
        if not top:
            out[row] = (np.nan, 0, np.nan, 0)
            continue
        out[row, 0], out[row, 1] = top[0], vals[top[0]]
        out[row, 2], out[row, 3] = (top[1], vals[top[1]]) if len(top) > 1 else (np.nan, 0)
    return out


def rails_from_stats(stats: np.ndarray) -> tuple[float | None, float | None]:
    """The saturated rails: an extreme value piled up (≥ 3 samples, > 4 × the next value).

    Returns the top and bottom values to flag (None when that rail is not saturated).
    See :func:`ltr.quality.assess` for the same rule on a whole recording.
    """
    out: list[float | None] = []
    for row, sign in enumerate((1.0, -1.0)):
        top, n_top, _, n_next = stats[row]
        if np.isfinite(top) and n_top >= 3 and n_top > 4 * n_next:
            out.append(sign * float(top))
        else:
            out.append(None)
    return out[0], out[1]


# -- plans ------------------------------------------------------------------------------
@dataclass
class EcgPlan:
    """A heartbeat found on an EMG channel."""

    rhythm: QrsRhythm
    template: np.ndarray | None = None
    """Median beat of the band-passed EMG (set while the first stretch is processed)."""
    residue: float | None = None
    """What template subtraction typically leaves of a beat's energy on this channel."""
    settled: bool = False


@dataclass
class EmgPlan:
    """Channel-wide estimates for one EMG channel (see the module docstring)."""

    mains_hz: float | None = None
    harmonics: list[int] = field(default_factory=list)
    ecg: EcgPlan | None = None
    step_scale: float = 0.0
    rails: tuple[float | None, float | None] = (None, None)
    n_calibration: int = 0


@dataclass
class AccPlan:
    """Channel-wide estimates for one accelerometer sensor."""

    q: int = 1
    origin: np.ndarray = field(default_factory=lambda: np.zeros((1, 1)))
    glitch_scale: np.ndarray = field(default_factory=lambda: np.zeros((1, 1)))
    rails: list[tuple[float | None, float | None]] = field(default_factory=list)


def calibration_samples(sfreq: float) -> int:
    """Samples in the calibration stretch."""
    return round(CALIBRATION * sfreq)


def plan_emg(head: np.ndarray, sfreq: float, cfg: DetectorConfig,
             rails: np.ndarray | None = None) -> EmgPlan:
    """Estimate an EMG channel's plan from its first samples.

    Parameters
    ----------
    head : ndarray
        The channel's first :data:`CALIBRATION` s (more is ignored).
    rails : ndarray | None
        :func:`rail_stats` of the whole channel (of ``head`` when None).
    """
    head = np.asarray(head, dtype=np.float64)[: calibration_samples(sfreq)]
    e = cfg.emg
    edges = band_edges(e.band, sfreq)
    plan = EmgPlan(n_calibration=head.size)
    plan.rails = rails_from_stats(rails if rails is not None else rail_stats(head))
    if e.mains:
        mains = find_mains(head, sfreq, prominence_db=e.mains_prominence_db,
                           max_freq=edges[1], max_seconds=MAINS_SECONDS)
        if mains.frequency is not None:
            plan.mains_hz = mains.frequency
            plan.harmonics = mains.harmonics
            if mains.harmonics:
                head = remove_mains(head, sfreq, mains.frequency, mains.harmonics)
    d = np.abs(np.diff(np.nan_to_num(head)))[::4]  # every 4th difference: plenty for a scale
    plan.step_scale = float(np.median(d) / 0.6745) if d.size else 0.0
    if e.ecg:
        q = qrs_decimation(sfreq)
        rhythm = find_rhythm(decimate_mean(head, q), sfreq / q)
        if rhythm is not None:
            plan.ecg = EcgPlan(rhythm=rhythm)
    return plan


def acc_decimation(sfreq: float) -> int:
    """The accelerometer path runs at about 400 Hz or more: 5-50 Hz jolts need no more."""
    return max(1, int(sfreq // 400))


def plan_acc(head: np.ndarray, sfreq: float, rails: np.ndarray | None = None) -> AccPlan:
    """Estimate an accelerometer sensor's plan from its first samples (axes × samples).

    ``rails``: one :func:`rail_stats` per axis, stacked (of ``head`` when None).
    """
    head = np.atleast_2d(np.asarray(head, dtype=np.float64))[:, : calibration_samples(sfreq)]
    q = acc_decimation(sfreq)
    dec = decimate_mean(head, q)
    origin = np.nan_to_num(dec[:, :1])  # the filter sees the decimated axes
    stats = rails if rails is not None else np.stack([rail_stats(a) for a in head])
    return AccPlan(q=q, origin=origin, glitch_scale=glitch_scale(dec),
                   rails=[rails_from_stats(s) for s in stats])


def alignment(sfreq: float, cfg: DetectorConfig, plans: list[EmgPlan | AccPlan]) -> int:
    """Pieces of a recording must start at multiples of this many samples.

    Noise-floor blocks, mains lock-in blocks and decimation groups then fall on the same
    samples in every piece as in the whole recording.
    """
    steps = [block_length(cfg.floor.block, sfreq), qrs_decimation(sfreq)]
    for p in plans:
        if isinstance(p, EmgPlan) and p.mains_hz is not None and p.harmonics:
            steps.append(mains_block_length(p.mains_hz, sfreq))
        if isinstance(p, AccPlan):
            steps.append(p.q * block_length(cfg.floor.block, sfreq / p.q))
    return math.lcm(*steps)
