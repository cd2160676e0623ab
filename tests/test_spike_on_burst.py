"""A spike landing on a twitch: the spike is blanked and the twitch still counts
(RejectConfig.spike_on_burst, ltr.detect._channel._spikes_on_bursts)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import signal

import ltr
from ltr.detect import DetectorConfig
from ltr.detect._channel import burst_beneath, transient_spans

FS = 2000.0
NOISE = 2e-6


def _burst(rng: np.random.Generator, n: int, rms: float) -> np.ndarray:
    """Band-limited noise (60-200 Hz) under a Hann window: a polyphasic burst."""
    sos = signal.butter(4, (60.0, 200.0), "bandpass", fs=FS, output="sos")
    b = signal.sosfilt(sos, rng.standard_normal(n + 400))[400:] * np.hanning(n)
    return b * rms / np.sqrt(np.mean(b * b))


def _spike(height: float) -> np.ndarray:
    """A 5-ms biphasic transient (an endplate spike, a large potential): too wide for the
    needle-spike test that blanks 1-3-ms contacts before detection."""
    t = np.arange(10) / FS - 0.0025
    return -height * (t / 0.0008) * np.exp(-0.5 * (t / 0.0008) ** 2) / 0.61


def _recording(seed: int, *, spike_on: bool = True, spike_alone: bool = True,
               ) -> tuple[ltr.Recording, list[float], list[float]]:
    """30 s of noise; twitches (100 ms, 12 dB) every 3 s, each third one carrying a spike
    of 100 x the noise; lone spikes between them. Returns the recording, the onsets of
    the twitches with a spike and the times of the lone spikes."""
    rng = np.random.default_rng(seed)
    n = int(30 * FS)
    x = NOISE * rng.standard_normal(n)
    with_spike, lone = [], []
    for k, t in enumerate(np.arange(2.0, 28.0, 3.0)):
        i = int(t * FS)
        x[i: i + 200] += _burst(rng, 200, 4 * NOISE)
        if spike_on and k % 3 == 0:
            j = i + 80 + int(rng.integers(0, 40))
            x[j: j + 10] += _spike(100 * NOISE)
            with_spike.append(t)
        if spike_alone and k % 3 == 1:
            j = int((t + 1.5) * FS)
            x[j: j + 10] += _spike(100 * NOISE)
            lone.append(j / FS)
    rec = ltr.Recording(x[None, :], FS, ["EMG"], ["emg"])
    return rec, with_spike, lone


def _config(on: bool) -> DetectorConfig:
    cfg = DetectorConfig()
    return dataclasses.replace(cfg, reject=dataclasses.replace(cfg.reject, spike_on_burst=on))


def _found(res, times, tol=0.05):
    on = np.asarray(res.events["onset"], float)
    return np.array([bool(np.any(np.abs(on - t) < tol)) for t in times])


@pytest.mark.parametrize("seed", range(3))
def test_a_twitch_carrying_a_spike_counts_and_a_lone_spike_does_not(seed):
    rec, with_spike, lone = _recording(seed)
    res = ltr.detect(rec, config=_config(True), epochs=None)
    assert _found(res, with_spike).all()
    # a lone spike leaves only noise once removed: still turned away, not a twitch
    assert not _found(res, lone, tol=0.02).any()
    rej_on = np.asarray(res.rejected["onset"], float)
    rej_reason = np.asarray(res.rejected["reason"])
    for t in lone:
        transient = np.isin(rej_reason, ("needle_spike", "single_mup"))
        assert np.any((np.abs(rej_on - t) < 0.01) & transient)


def test_without_the_step_the_spike_takes_the_twitch_with_it():
    # the defect it mends: the spike holds 90 % of the candidate's energy
    lost = 0
    for seed in range(3):
        rec, with_spike, _ = _recording(seed, spike_alone=False)
        res = ltr.detect(rec, config=_config(False))
        lost += int((~_found(res, with_spike)).sum())
    assert lost >= 3


def test_burst_beneath_separates_a_burst_from_noise():
    rng = np.random.default_rng(5)
    n = int(2 * FS)
    raw = NOISE * rng.standard_normal(n)
    i = int(1.0 * FS)
    raw[i: i + 10] += _spike(100 * NOISE)  # a lone spike
    raw2 = raw.copy()
    raw2[i - 60: i + 140] += _burst(rng, 200, 4 * NOISE)  # the same spike on a burst
    sos = signal.butter(4, (20.0, 450.0), "bandpass", fs=FS, output="sos")
    half = int(0.04 * FS) // 2
    r = DetectorConfig().reject
    out = []
    for z in (raw, raw2):
        x = signal.sosfiltfilt(sos, z)
        peak = np.array([i + 5])
        on, off = np.array([i - 60]), np.array([i + 140])
        a, b = transient_spans(peak, on, off, FS, r)
        assert a[0] >= on[0] and b[0] <= off[0] and a[0] < peak[0] < b[0]
        out.append(burst_beneath(z, x, FS, (20.0, 450.0), 4, a, b, on, off, half)[0])
    # noise alone: about its RMS; the burst's 4 x the noise stands clear of 1.8 x
    assert out[0] < 1.8 * NOISE < out[1]
