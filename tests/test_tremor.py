"""Accelerometer tremor: found where a sustained narrowband line is, removed only there,
and twitches on top of it still found (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest

import ltr
from ltr.detect import DetectorConfig
from ltr.detect.config import AccConfig
from ltr.evaluate import evaluate, match_onsets
from ltr.preprocess import find_tremor, remove_tremor
from ltr.recording import Recording
from ltr.simulate import SUITE, session

FS = 100.0  # the slow clinic accelerometer of the acc_tremor condition


def _tapered_sine(n: int, start: float, stop: float, freq: float, amp: float,
                  fs: float = FS, taper: float = 0.3) -> np.ndarray:
    t = np.arange(n) / fs
    k = np.clip(np.minimum(t - start, stop - t) / taper, 0.0, 1.0)
    return amp * np.sin(2 * np.pi * freq * t + 0.4) * (0.5 - 0.5 * np.cos(np.pi * k))


def _jolt(n: int, onset: float, freq: float, amp: float, fs: float = FS,
          duration: float = 0.2) -> np.ndarray:
    t = np.arange(n) / fs - onset
    on = (t >= 0) & (t < duration)
    tau = duration / 3
    w = np.zeros(n)
    w[on] = np.sin(2 * np.pi * freq * t[on]) * np.exp(-t[on] / tau) * (
        1 - np.exp(-t[on] / (0.15 / freq)))
    return amp * w / np.abs(w).max()


def _axes(wave: np.ndarray, direction=(0.6, 0.0, 0.8), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d = np.asarray(direction)[:, None]
    x = d * wave[None, :] + 0.005 * rng.standard_normal((3, wave.size))
    x[2] += 9.80665  # gravity on one axis
    return x


def _recording(xyz: np.ndarray, fs: float = FS) -> Recording:
    return Recording(xyz, fs, ["ACC_X", "ACC_Y", "ACC_Z"], ["acc"] * 3,
                     units=["m/s^2"] * 3)


@pytest.mark.parametrize("freq", [4.0, 6.0, 10.0])
def test_tremor_is_found_and_removed_only_where_present(freq):
    n = int(30 * FS)
    x = _axes(_tapered_sine(n, 10.0, 16.0, freq, 0.6))
    tr = find_tremor(x, FS, 50)
    t_blocks = (np.arange(tr.frequency.size) + 0.5) * 0.5
    # every block whose 2-s window lies inside the episode holds tremor, at its frequency
    inside = (t_blocks > 11.0) & (t_blocks < 15.0)
    assert tr.present[inside].all()
    # frequency within 0.1 Hz: the peak is interpolated on a 0.125 Hz grid
    np.testing.assert_allclose(tr.frequency[inside], freq, atol=0.1)
    # no block whose window stays clear of the episode
    assert not tr.present[(t_blocks < 8.5) | (t_blocks > 17.5)].any()
    y, _ = remove_tremor(x, FS, tr)
    # untouched away from the episode (exactly: nothing is subtracted there)
    far = (np.arange(n) / FS < 8.0) | (np.arange(n) / FS > 18.0)
    np.testing.assert_array_equal(y[:, far], x[:, far])
    # what is left of a 0.6 m/s^2 tremor: under 0.1 of it, fade-in and -out included
    # (the steady part leaves noise only; the fades leave a few per cent)
    left = np.abs(y - x + (x - _axes(np.zeros(n))))[:, ~far]
    assert left.max() < 0.06


def test_noise_and_a_hand_swing_are_not_tremor():
    n = int(30 * FS)
    t = np.arange(n) / FS
    swing = 0.5 * np.exp(-0.5 * ((t - 12.0) / 0.25) ** 2) * np.sin(2 * np.pi * 3.5 * t)
    x = _axes(swing)
    tr = find_tremor(x, FS, 50)
    y, _ = remove_tremor(x, FS, tr)
    # whatever blocks the line test lets through, a single swing is left alone
    np.testing.assert_array_equal(y, x)


def test_twitch_on_tremor_is_found_and_tremor_alone_gives_nothing():
    n = int(60 * FS)
    tremor = _tapered_sine(n, 15.0, 23.0, 5.5, 0.5)
    onsets = np.array([17.3, 19.6, 21.4])
    jolts = sum(_jolt(n, t0, f, a) for t0, f, a in zip(onsets, (12.0, 18.0, 25.0),
                                                        (0.15, 0.08, 0.3), strict=True))
    both = ltr.detect(_recording(_axes(tremor + jolts)))
    md, _ = match_onsets(np.sort(both.onset), onsets, 0.1)
    assert md.size == onsets.size and both.onset.size == onsets.size
    alone = ltr.detect(_recording(_axes(tremor)))
    assert alone.onset.size == 0


def test_tremor_removal_can_be_turned_off():
    n = int(60 * FS)
    tremor = _tapered_sine(n, 15.0, 23.0, 5.5, 0.5)
    x = _axes(tremor + _jolt(n, 19.6, 15.0, 0.15))
    # without the jolt search too (which finds a jolt inside any movement candidate,
    # tremor included: tests/test_acc_jolts.py)
    cfg = DetectorConfig(acc=AccConfig(tremor=False, jolt_search=False))
    off = ltr.detect(_recording(x), config=cfg)
    on = ltr.detect(_recording(x))
    assert on.onset.size == 1
    assert off.onset.size == 0  # the tremor swallows the jolt, as before issue 12
    assert on.processing["ACC"]["tremor_s"] > 0
    assert off.processing["ACC"]["tremor_s"] == 0


def test_tremor_pieces_equal_whole():
    from test_stream import BLOCK, _same

    rec, _ = session(400.0, 100.0, "acc", 7, condition="acc_tremor")
    _same(ltr.detect(rec, block=None), ltr.detect(rec, block=BLOCK))


def test_tremor_residue_rule_judges_against_the_tremor_around():
    from ltr.detect import rules as R
    from ltr.detect.config import RejectConfig

    r = RejectConfig()
    on = np.array([0, 100, 200, 300])
    on = np.array([0, 100, 200, 300, 400])
    feats = {"amplitude": np.array([0.02, 0.2, 0.02, 0.02, 0.02]),
             "tremor_amp": np.array([0.5, 0.5, 0.1, 0.0, 0.5]),
             "tremor_fade": np.array([0.9, 0.9, 0.9, 0.0, 0.2]),
             "rise_half": np.full(5, 0.01), "low_ratio": np.full(5, 0.1)}
    c = R.Candidates(on, on + 20, FS, feats, np.ones(5))
    # 0.02 < 0.1 x 0.5 at a fade is left-over tremor; 0.2 stands out of it; 0.02 beside
    # a 0.1 tremor (0.01), with no tremor, or inside a steady episode is judged as any
    # jolt
    np.testing.assert_array_equal(R.tremor_residue(c, r),
                                  [True, False, False, False, False])
    assert list(R.judge(R.ACC_RULES, c, r)) == ["tremor", "", "", "", ""]
    del feats["tremor_amp"]  # tremor removal off: the rule has nothing to go by
    assert not R.tremor_residue(c, r).any()


#: Held-out seeds (development used seeds < 1000).
HELD_OUT = (1000, 1001, 1002, 1003)


def test_acc_tremor_accuracy_floor():
    cond = SUITE["acc_tremor"]
    tp = fp = fn = under_n = under_found = 0
    for seed in HELD_OUT:
        rec, truth = session(120.0, cond.sfreq, cond.layout, seed, condition="acc_tremor")
        res = ltr.detect(rec)
        ev = evaluate(res, truth)
        tp, fp, fn = tp + ev.tp, fp + ev.fp, fn + ev.fn
        cf = truth.confounders
        sel = cf["kind"] == "tremor"
        on = truth.onsets
        under = ((on[:, None] >= cf["onset"][sel]) & (on[:, None] <= cf["offset"][sel])).any(1)
        _, mr = match_onsets(np.sort(res.onset), on, 0.1)
        found = np.zeros(on.size, bool)
        found[mr] = True
        under_n += int(under.sum())
        under_found += int(found[under].sum())
    # pooled over the seeds (one 2-min session holds a handful of twitches on tremor);
    # floors under what these seeds give now (F1 about 0.85, recall on tremor 0.7) and
    # far above what the detector gave before tremor removal (F1 0.66, recall 0)
    assert 2 * tp / (2 * tp + fp + fn) >= 0.78
    assert under_n >= 10
    assert under_found / under_n >= 0.55


def test_real_hand_tremor_is_left_alone(shared_data):
    """PDKit smartphone recordings of rest and postural tremor (about 32 s, irregular
    ~100 Hz, no twitches): a hand's tremor wanders from cycle to cycle, the model does
    not describe it and it is left alone (``tremor_misfit``): no more than the one
    event the detector gave on them before tremor removal (one file)."""
    from ltr.recording import Recording

    files = sorted((shared_data / "pdkit_tremor_accel").glob("*.csv"))
    if not files:
        pytest.skip("no PDKit tremor recordings")
    total = 0
    for f in files:
        d = np.genfromtxt(f, delimiter=",", skip_header=1)
        t = (d[:, 0] - d[0, 0]) / 1e9  # ns time stamps, irregular
        tt = np.arange(0.0, t[-1], 1 / FS)
        xyz = np.array([np.interp(tt, t, d[:, k]) for k in (1, 2, 3)])
        res = ltr.detect(Recording(xyz, FS, ["ACC_X", "ACC_Y", "ACC_Z"], ["acc"] * 3,
                                   units=["m/s^2"] * 3))
        total += res.onset.size
    assert total <= 1
