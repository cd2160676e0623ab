"""What the detector learns about a channel before it looks for twitches.

A few quantities describe a whole channel rather than a moment of it: whether mains hum
is present and at which harmonics, whether the channel carries a heartbeat and its
rhythm and shape, the scale of sample-to-sample differences (for electrode pops). They
are estimated once, from the first
:data:`CALIBRATION` seconds, and every stretch of the channel is then processed with
the same values. That is what lets a long recording be processed in pieces with the
same result as in one go (:mod:`ltr.detect.stream`). Saturation rails need the whole
channel: their summary (:func:`ltr.quality.top_two`) is accumulated piece by piece and candidates
touching a rail are marked at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..envelope import moving_mean, window_samples
from ..preprocess import (
    QrsRhythm,
    band_edges,
    decimate_mean,
    fill_gaps,
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


# -- plans ------------------------------------------------------------------------------
@dataclass
class EcgPlan:
    """A heartbeat found on an EMG channel."""

    rhythm: QrsRhythm
    template: np.ndarray | None = None
    """Median beat of the band-passed EMG (set while the first stretch is processed)."""
    residue: float | None = None
    """What template subtraction typically leaves of a beat's energy on this channel."""
    beat_level: float | None = None
    """Median mean square of the cleaned EMG within ``reject.ecg_window`` s of the
    calibration beats: what an ordinary beat leaves, noise included."""
    beat_spread: float | None = None
    """Robust standard deviation (1.4826 × MAD) of that mean square over the beats."""
    settled: bool = False


@dataclass
class EmgPlan:
    """Channel-wide estimates for one EMG channel (see the module docstring)."""

    mains_hz: float | None = None
    harmonics: list[int] = field(default_factory=list)
    ecg: EcgPlan | None = None
    step_scale: float = 0.0
    spread: float = 0.0
    """Robust standard deviation (MAD / 0.6745) of the raw samples about their moving
    mean over ``reject.spike_ring``, after hum removal: the scale a raw-sample spike is
    measured against (:func:`ltr.detect._channel.find_raw_spikes`). Unlike
    ``step_scale`` it does not collapse when samples come in repeated pairs (a held or
    upsampled stream)."""
    n_calibration: int = 0


@dataclass
class AccPlan:
    """Channel-wide estimates for one accelerometer sensor."""

    q: int = 1
    origin: np.ndarray = field(default_factory=lambda: np.zeros((1, 1)))
    glitch_scale: np.ndarray = field(default_factory=lambda: np.zeros((1, 1)))


def calibration_samples(sfreq: float) -> int:
    """Samples in the calibration stretch."""
    return round(CALIBRATION * sfreq)


def plan_emg(head: np.ndarray, sfreq: float, cfg: DetectorConfig) -> EmgPlan:
    """Estimate an EMG channel's plan from its first samples.

    Parameters
    ----------
    head : ndarray
        The channel's first :data:`CALIBRATION` s (more is ignored).
    """
    head = np.asarray(head, dtype=np.float64)[: calibration_samples(sfreq)]
    head, _ = fill_gaps(head, 0)  # gaps as the detector fills them (straight lines)
    e = cfg.emg
    edges = band_edges(e.band, sfreq)
    plan = EmgPlan(n_calibration=head.size)
    if e.mains:
        mains = find_mains(head, sfreq, prominence_db=e.mains_prominence_db,
                           max_freq=edges[1], max_seconds=MAINS_SECONDS)
        if mains.frequency is not None:
            plan.mains_hz = mains.frequency
            plan.harmonics = mains.harmonics
            if mains.harmonics:
                head = remove_mains(head, sfreq, mains.frequency, mains.harmonics)
    # every 4th difference (plenty for a scale), taken from strided slices: no full diff
    m = max(0, (head.size - 1 + 3) // 4)
    d = np.abs(np.nan_to_num(head[1::4][:m]) - np.nan_to_num(head[0::4][:m]))
    plan.step_scale = float(np.median(d) / 0.6745) if d.size else 0.0
    if cfg.reject.raw_spike_max * sfreq <= cfg.reject.raw_spike_width and head.size:
        z = np.nan_to_num(head)
        dev = np.abs(z - moving_mean(z, window_samples(cfg.reject.spike_ring, sfreq)))
        plan.spread = float(np.median(dev) / 0.6745)
        # spikes one sample wide at each needle pass would be found as a rhythm
        from ._channel import find_raw_spikes  # here: _channel imports this module

        samples, med = find_raw_spikes(head, sfreq, cfg.reject, plan.spread)
        if samples.size:
            head = head.copy()
            head[samples] = med
    if e.ecg:
        q = qrs_decimation(sfreq)
        rhythm = find_rhythm(decimate_mean(head, q), sfreq / q)
        if rhythm is not None:
            plan.ecg = EcgPlan(rhythm=rhythm)
    return plan


def acc_decimation(sfreq: float) -> int:
    """The accelerometer path runs at about 400 Hz or more: 5-50 Hz jolts need no more."""
    return max(1, int(sfreq // 400))


def plan_acc(head: np.ndarray, sfreq: float) -> AccPlan:
    """Estimate an accelerometer sensor's plan from its first samples (axes × samples)."""
    head = np.atleast_2d(np.asarray(head, dtype=np.float64))[:, : calibration_samples(sfreq)]
    head, _ = fill_gaps(head, 0)  # gaps as the detector fills them (straight lines)
    q = acc_decimation(sfreq)
    dec = decimate_mean(head, q)
    origin = np.nan_to_num(dec[:, :1])  # the filter sees the decimated axes
    return AccPlan(q=q, origin=origin, glitch_scale=glitch_scale(dec))


def alignment(sfreq: float, cfg: DetectorConfig, plans: list[EmgPlan | AccPlan]) -> int:
    """Pieces of a recording must start at multiples of this many samples.

    Noise-floor blocks, mains lock-in blocks and decimation groups then fall on the same
    samples in every piece as in the whole recording.
    """
    # the floor block (a multiple of the envelope grid step), the QRS decimation
    steps = [block_length(cfg.floor.block, sfreq), qrs_decimation(sfreq)]
    for p in plans:
        if isinstance(p, EmgPlan) and p.mains_hz is not None and p.harmonics:
            steps.append(mains_block_length(p.mains_hz, sfreq))
        if isinstance(p, AccPlan):
            steps.append(p.q * block_length(cfg.floor.block, sfreq / p.q))
    return math.lcm(*steps)
