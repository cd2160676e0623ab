"""Large bursts with a movement step, and sustained contractions with ramps (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

import ltr

FS = 2000.0


def _noise(seconds, rms, seed):
    return np.random.default_rng(seed).standard_normal(int(seconds * FS)) * rms


def _band(rng, n, band):
    sos = signal.butter(4, band, btype="bandpass", fs=FS, output="sos")
    return signal.sosfiltfilt(sos, rng.standard_normal(n + 400))[200:-200]


def _step_burst(rng, peak=1e-3, seconds=0.4, step=0.5e-3, lag=0.05, tau=1.0):
    """A 60-400 Hz burst (raised-cosine envelope, ``peak`` V at its largest) and, from
    ``lag`` s after its onset, a baseline step of ``step`` V decaying with ``tau`` s: a
    ballistic burst during which the limb moved."""
    n = int(seconds * FS)
    x = _band(rng, n, (60, 400)) * np.hanning(n) ** 0.5
    x *= peak / np.abs(x).max()
    t = np.arange(int(8 * tau * FS)) / FS
    decay = step * (np.exp(-t / tau) - np.exp(-8))
    return x, decay, int(lag * FS)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize("lag", [0.0, 0.05])
def test_onset_of_a_burst_with_a_movement_step_is_not_moved_by_the_filter(seed, sign, lag):
    rng = np.random.default_rng(seed)
    x = _noise(30.0, 5e-6, seed)
    onsets = [6.0, 14.0, 22.0]
    for t in onsets:
        burst, step, k = _step_burst(rng, step=sign * 0.5e-3, lag=lag)
        i = int(t * FS)
        x[i: i + burst.size] += burst
        x[i + k: i + k + step.size] += step[: x.size - i - k]
    res = ltr.detect(ltr.Recording(x[None], FS, ["EMG test"]))
    # every burst is one twitch, its onset within 10 ms (the task's tolerance; the
    # burst's envelope clears the noise within ~2 ms of its first sample)
    assert len(res) == 3, res.events["onset"]
    np.testing.assert_allclose(res.onset, onsets, atol=0.010)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_heartbeat_inside_a_large_burst_leaves_its_onset_to_the_filter_check(seed):
    # the same bursts on a trunk muscle with a heartbeat: an R peak 150-250 ms into each
    # burst must not exempt its onset from the check against the filter's pre-response
    # (only a beat at the onset itself does: the QRS is then the sharp change)
    from ltr.simulate._waveforms import ecg_beat

    rng = np.random.default_rng(seed)
    x = _noise(40.0, 5e-6, seed)
    beat, r_at = ecg_beat(rng, FS)
    beat = 150e-6 * beat / np.abs(beat).max()
    period = 0.8  # 75 bpm
    r_peaks = np.arange(0.5, 39.5, period)
    for r in r_peaks:
        i = int(r * FS) - r_at
        x[i: i + beat.size] += beat
    onsets = [r_peaks[k] - 0.2 for k in (8, 18, 28, 38)]  # beats 0.2 s into each burst
    for t in onsets:
        burst, step, k = _step_burst(rng, step=0.5e-3, lag=0.0)
        i = int(t * FS)
        x[i: i + burst.size] += burst
        x[i + k: i + k + step.size] += step[: x.size - i - k]
    res = ltr.detect(ltr.Recording(x[None], FS, ["EMG trapezius"]))
    assert res.processing["EMG trapezius"]["heartbeats"] > 30  # the heartbeat was found
    assert len(res) == len(onsets), res.events["onset"]
    np.testing.assert_allclose(res.onset, onsets, atol=0.010)


def _add_contraction(x, rng, t0, dur, ramp, rms):
    """A 30-250 Hz contraction of ``rms`` V on its plateau, raised-cosine ramps."""
    m = int(dur * FS)
    tt = np.arange(m) / FS
    env = np.clip(np.minimum(tt, dur - tt) / ramp, 0, 1)
    env = 0.5 - 0.5 * np.cos(np.pi * env)
    c = _band(rng, m, (30, 250))
    i = int(t0 * FS)
    x[i: i + m] += c * rms / np.sqrt(np.mean(c**2)) * env


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_sustained_contraction_with_ramps_gives_no_twitch(seed):
    rng = np.random.default_rng(seed)
    x = _noise(30.0, 5e-6, seed)
    for t0, dur, ramp, snr_db in ((5.0, 2.0, 0.4, 20.0), (15.0, 2.0, 0.3, 26.0),
                                  (24.0, 3.0, 0.5, 14.0)):
        _add_contraction(x, rng, t0, dur, ramp, 5e-6 * 10 ** (snr_db / 20))
    res = ltr.detect(ltr.Recording(x[None], FS, ["EMG test"]))
    assert len(res) == 0, res.events["onset"]


def _twitch(rng, seconds, rms):
    n = int(seconds * FS)
    b = _band(rng, n, (60, 400)) * np.hanning(n)
    return b * rms / np.sqrt(np.mean(b**2))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_twitch_riding_on_a_contraction_or_beside_it_is_counted(seed):
    # contractions of 2-3 s at 14-20 dB with ramps; on each plateau a 60-ms twitch
    # whose RMS is 6x the contraction's (16 dB over it), and 0.3 s before each a 60-ms
    # twitch at 18 dB over the floor: both are twitches, and each contraction is still
    # reported (riders cut out of it, RejectConfig.rider_ratio)
    rng = np.random.default_rng(seed)
    x = _noise(30.0, 5e-6, seed)
    onsets = []
    for t0, dur, ramp, snr_db in ((5.0, 2.0, 0.4, 20.0), (15.0, 3.0, 0.3, 14.0),
                                  (24.0, 2.5, 0.5, 17.0)):
        level = 5e-6 * 10 ** (snr_db / 20)
        _add_contraction(x, rng, t0, dur, ramp, level)
        for t, rms in ((t0 + dur / 2, 6 * level), (t0 - 0.3, 5e-6 * 10 ** (18 / 20))):
            tw = _twitch(rng, 0.06, rms)
            j = int(t * FS)
            x[j: j + tw.size] += tw
            onsets.append(t)
    res = ltr.detect(ltr.Recording(x[None], FS, ["EMG test"]))
    assert len(res) == len(onsets), (res.events["onset"], sorted(onsets))
    # 20 ms: the twitches' Hann envelope rises over its first 10-15 ms, and a rider's
    # onset is where its envelope leaves the contraction's level (not a float identity)
    np.testing.assert_allclose(res.onset, sorted(onsets), atol=0.02)
    assert len(res.contractions["onset"]) >= 3
    off = ltr.detect(ltr.Recording(x[None], FS, ["EMG test"]),
                     config=ltr.DetectorConfig.from_dict({"reject": {"rider_ratio": 0}}))
    assert len(off) < len(res)  # without the search the riders are part of contractions


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_large_ballistic_burst_is_a_twitch_not_a_contraction(seed):
    # 1 mV at its peak over a 2-uV floor: its weak first and last potentials keep the
    # envelope above threshold for about 0.75 s, while 90 % of its energy lies within
    # about 0.4 s (a bell-shaped envelope: firings bunch in the middle)
    rng = np.random.default_rng(seed)
    x = _noise(30.0, 2e-6, seed)
    onsets = [6.0, 14.0, 22.0]
    for t in onsets:
        n = int(0.9 * FS)
        b = _band(rng, n, (60, 400)) * np.hanning(n) ** 2
        b *= 1e-3 / np.abs(b).max()
        i = int(t * FS)
        x[i: i + n] += b
    res = ltr.detect(ltr.Recording(x[None], FS, ["EMG test"]))
    assert len(res) == 3, (res.events["onset"], res.contractions)
    # a bell has no sharp start: the onset lies after the first sample (10 ms: the
    # envelope windows) and before the envelope reaches a tenth of its peak
    # (sin^4(pi t / 0.9 s) = 0.1 at t = 0.171 s)
    lead = res.onset - np.array(onsets)
    assert np.all(lead > -0.010) and np.all(lead < 0.171), lead


def test_pop_rule_weighs_the_energy_the_step_explains():
    from ltr.detect import RejectConfig
    from ltr.detect import rules as R
    from ltr.detect._channel import step_energy

    # two candidates with a 0.5-mV step inside, each 1 mV at its peak: one 60 ms long
    # holding what the band-passed step alone holds, one 400 ms long holding 40 times it
    e_unit = step_energy(FS, (20.0, 450.0), 4)
    shift = 0.5e-3
    e_step = shift**2 * e_unit
    on, off = np.array([1000, 5000]), np.array([1120, 5800])
    rms = np.sqrt(np.array([1.0, 40.0]) * e_step / (off - on))
    feats = {"amplitude": np.array([1e-3, 1e-3]), "rms": rms}
    c = R.Candidates(on, off, FS, feats, np.ones(2), steps=np.array([1050, 5100]),
                     step_shift=np.array([shift, shift]), step_energy=e_unit)
    np.testing.assert_array_equal(R.pop(c, RejectConfig()), [True, False])
    # without the energy (no step_energy), only the step's height is weighed
    c.step_energy = None
    np.testing.assert_array_equal(R.pop(c, RejectConfig()), [True, True])
