"""A weak lead-in (the hand's transient before the twitch a needle pass elicits) is cut
off a candidate's front: ``ltr.detect.core.trim_lead_ins`` against a plain loop, on
hand-made candidates, and end to end through ``ltr.detect``."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

import ltr
from ltr.detect.core import trim_lead_ins


def _loop(sharp, energy, onset, offset, gap, ratio, min_lead):
    """The definition, spelled out: the latest pause before the main burst's peak with
    everything before it weak and far enough from the onset."""
    out = []
    for a, b in zip(onset.tolist(), offset.tolist(), strict=True):
        idx = [i for i, s in enumerate(sharp.tolist()) if a <= s < b]
        new = a
        if len(idx) >= 2:
            s = [int(sharp[i]) for i in idx]
            v = [float(energy[i]) for i in idx]
            p = v.index(max(v))
            for c in range(p, 0, -1):  # cut between s[c-1] and s[c]
                if (s[c] - s[c - 1] > gap and max(v[:c]) < ratio**2 * v[p]
                        and s[c] - a >= min_lead):
                    new = s[c]
                    break
        out.append(new)
    return np.asarray(out, dtype=onset.dtype)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 10_000), n_cand=st.integers(0, 6), gap=st.integers(1, 8),
       ratio=st.sampled_from([0.1, 0.25, 0.5, 1.0]), min_lead=st.integers(0, 30),
       density=st.floats(0.05, 0.6))
def test_trim_lead_ins_equals_a_loop(seed, n_cand, gap, ratio, min_lead, density):
    rng = np.random.default_rng(seed)
    n = 400
    sharp = np.flatnonzero(rng.random(n) < density)
    energy = rng.lognormal(0.0, 2.0, sharp.size)  # ties improbable
    cuts = np.sort(rng.choice(np.arange(1, n), 2 * n_cand, replace=False))
    onset, offset = cuts[0::2], cuts[1::2]
    got = trim_lead_ins(sharp, energy, onset, offset, gap=gap, ratio=ratio,
                        min_lead=min_lead)
    np.testing.assert_array_equal(got, _loop(sharp, energy, onset, offset, gap, ratio,
                                             min_lead))


def _case(lead_energy, pause, lead_len=30):
    """A lead-in of ``lead_len`` sharp samples, a pause of ``pause`` samples, a burst of
    50 samples whose peak has energy 100."""
    lead = np.arange(100, 100 + lead_len)
    main = np.arange(lead[-1] + pause + 1, lead[-1] + pause + 51)
    sharp = np.concatenate([lead, main])
    energy = np.concatenate([np.full(lead.size, lead_energy), np.linspace(10, 100, 50)])
    return sharp, energy, np.array([100]), np.array([main[-1] + 1]), int(main[0])


def test_a_weak_lead_in_after_a_pause_is_cut():
    sharp, energy, on, off, main = _case(lead_energy=1.0, pause=15)
    assert trim_lead_ins(sharp, energy, on, off, gap=10, ratio=0.25,
                         min_lead=20)[0] == main


def test_what_is_not_a_lead_in_keeps_its_onset():
    # as strong as a quarter of the burst (energy 6.25 of 100): part of it
    sharp, energy, on, off, _ = _case(lead_energy=7.0, pause=15)
    assert trim_lead_ins(sharp, energy, on, off, gap=10, ratio=0.25, min_lead=20)[0] == 100
    # no pause longer than the gap
    sharp, energy, on, off, _ = _case(lead_energy=1.0, pause=8)
    assert trim_lead_ins(sharp, energy, on, off, gap=10, ratio=0.25, min_lead=20)[0] == 100
    # too close to the onset to matter
    sharp, energy, on, off, _ = _case(lead_energy=1.0, pause=15, lead_len=3)
    assert trim_lead_ins(sharp, energy, on, off, gap=10, ratio=0.25, min_lead=20)[0] == 100


def _hand_then_twitch(seed: int) -> tuple[ltr.Recording, np.ndarray]:
    """30 s of 3-µV noise; four times a 120-ms 20-40 Hz transient (the operator's hand,
    time-locked to the pass) with, 150 ms after its start, an 80-ms 60-300 Hz twitch."""
    fs = 2000.0
    rng = np.random.default_rng(seed)
    x = 3e-6 * rng.standard_normal(int(30 * fs))

    def burst(t0: float, dur: float, rms: float, band: tuple[float, float]) -> None:
        k = int(dur * fs)
        sos = signal.butter(4, band, btype="bandpass", fs=fs, output="sos")
        w = signal.sosfilt(sos, rng.standard_normal(k + 400))[400:] * np.hanning(k)
        x[int(t0 * fs):int(t0 * fs) + k] += rms * w / np.sqrt(np.mean(w**2))

    starts = np.array([5.0, 11.0, 17.0, 23.0])
    for t in starts:
        burst(t, 0.12, 12e-6, (20.0, 40.0))
        burst(t + 0.15, 0.08, 60e-6, (60.0, 300.0))
    return ltr.Recording(x[None], fs, ["EMG trapezius"]), starts + 0.15


def test_the_twitch_after_a_hand_transient_gets_its_own_onset():
    for seed in (3, 4, 5):
        rec, truth = _hand_then_twitch(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = ltr.detect(rec)
        on = np.asarray(res.events["onset"])
        assert on.size == truth.size, (seed, on)
        # the twitch's Hann window rises from zero: its first samples sit under the
        # floor, so the onset lands a few ms after the nominal start, never before it
        assert np.all((on >= truth - 0.005) & (on <= truth + 0.02)), (seed, on)
        off = ltr.DetectorConfig.from_dict({"emg": {"lead_gap": 0.0}})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            before = np.asarray(ltr.detect(rec, config=off).events["onset"])
        # without the cut, at least one onset sits on the transient, 100 ms early or more
        assert np.any(before <= truth - 0.1), (seed, before)


def test_lead_in_settings_are_checked():
    import pytest

    for bad in ({"lead_ratio": 0.0}, {"lead_ratio": 1.5}, {"lead_gap": -0.01},
                {"lead_min": -1.0}):
        with pytest.raises(ValueError, match="lead_"):
            ltr.DetectorConfig.from_dict({"emg": bad})
