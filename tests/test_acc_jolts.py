"""Accelerometer jolts that share a candidate with a slow movement (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest

import ltr
from ltr.detect import DetectorConfig, RejectConfig
from ltr.detect import rules as R
from ltr.detect._channel import _cut
from ltr.detect.config import AccConfig
from ltr.evaluate import match_onsets
from ltr.recording import Recording
from ltr.simulate._waveforms import windowed_sine

FS = 400.0


def _movement(n: int, start: float, dur: float, freq: float, amp: float,
              fs: float = FS) -> np.ndarray:
    """The simulator's hand or cable movement (a Gaussian-windowed sine) at ``start``."""
    out = np.zeros(n)
    w = amp * windowed_sine(fs, dur, freq, 0.7)
    i = round(start * fs)
    out[i:i + w.size] = w[: n - i]
    return out


def _jolt(n: int, onset: float, freq: float, amp: float, fs: float = FS,
          duration: float = 0.2) -> np.ndarray:
    t = np.arange(n) / fs - onset
    on = (t >= 0) & (t < duration)
    w = np.zeros(n)
    w[on] = np.sin(2 * np.pi * freq * t[on]) * np.exp(-t[on] / (duration / 3)) * (
        1 - np.exp(-t[on] / (0.15 / freq)))
    return amp * w / np.abs(w).max()


def _recording(wave: np.ndarray, seed: int = 0, fs: float = FS) -> Recording:
    rng = np.random.default_rng(seed)
    d = np.array([0.6, 0.0, 0.8])[:, None]
    x = d * wave[None, :] + 0.005 * rng.standard_normal((3, wave.size))
    x[2] += 9.80665
    return Recording(x, fs, ["ACC_X", "ACC_Y", "ACC_Z"], ["acc"] * 3, units=["m/s^2"] * 3)


#: Movements of the operator's hand at needle passes (2.5-6 Hz, 0.4-0.6 s, 0.2-0.5 m/s²),
#: each followed 0.12-0.2 s after it starts by a jolt (20-35 Hz, 0.06-0.15 m/s²). (A
#: movement of one 8-Hz cycle, 0.3 s, already passes as a jolt by itself, with or
#: without the search: at the twitch band it is one.)
PASSES = [(5.0, 0.5, 4.0, 0.4, 0.20, 25.0, 0.10), (12.0, 0.4, 6.0, 0.3, 0.15, 30.0, 0.08),
          (19.0, 0.6, 2.5, 0.5, 0.20, 22.0, 0.15), (26.0, 0.5, 5.0, 0.2, 0.12, 35.0, 0.06)]


def _passes(with_jolts: bool) -> tuple[np.ndarray, np.ndarray]:
    n = int(32 * FS)
    wave = np.zeros(n)
    onsets = []
    for t0, dur, f, amp, lag, jf, ja in PASSES:
        wave += _movement(n, t0, dur, f, amp)
        if with_jolts:
            wave += _jolt(n, t0 + lag, jf, ja)
            onsets.append(t0 + lag)
    return wave, np.asarray(onsets)


def test_a_jolt_inside_a_movement_is_found_and_the_movement_alone_is_not():
    wave, onsets = _passes(True)
    # what the rules pass (the default confidence floor sets aside about one jolt in
    # four cut out of a movement: it is judged on the wild sessions, accuracy.md)
    res = ltr.detect(_recording(wave), min_confidence=0.0)
    _, mr = match_onsets(np.sort(res.onset), onsets, 0.1)  # the acc tolerance
    assert mr.size == onsets.size and res.onset.size == onsets.size
    # what is left of each movement around its jolt stays a movement
    assert (np.asarray(res.rejected["reason"]) == "movement").sum() >= onsets.size
    alone = ltr.detect(_recording(_passes(False)[0]))
    assert alone.onset.size == 0


def test_without_the_search_the_movement_swallows_the_jolt():
    wave, onsets = _passes(True)
    cfg = DetectorConfig(acc=AccConfig(jolt_search=False))
    res = ltr.detect(_recording(wave), config=cfg)
    md, _ = match_onsets(np.sort(res.onset), onsets, 0.1)
    assert md.size <= 1  # judged whole, the candidates are movements


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hand_pressure_gives_no_jolt(seed):
    # slow pressure of the hand (0.5-4 Hz, 0.3-2 s, up to 1 m/s²): nothing above 20 Hz
    rng = np.random.default_rng(seed)
    n = int(40 * FS)
    wave = np.zeros(n)
    for t0 in np.arange(2.0, 36.0, 3.0):
        wave += _movement(n, t0 + rng.uniform(0, 0.5), rng.uniform(0.3, 2.0),
                          rng.uniform(0.5, 4.0), rng.uniform(0.1, 1.0))
    res = ltr.detect(_recording(wave, seed))
    assert res.onset.size == 0


def test_cut_splits_a_candidate_around_its_pieces():
    on = np.array([0, 100, 400])
    off = np.array([50, 300, 450])
    new_on, new_off, piece, part = _cut(on, off, np.array([1, 1]), np.array([150, 220]),
                                        np.array([180, 300]))
    np.testing.assert_array_equal(new_on, [0, 100, 150, 180, 220, 400])
    np.testing.assert_array_equal(new_off, [50, 150, 180, 220, 300, 450])
    np.testing.assert_array_equal(piece, [False, False, True, False, True, False])
    np.testing.assert_array_equal(part, [False, True, True, True, True, False])


def test_slow_content_does_not_judge_a_jolt_piece():
    # a piece's movement-band content is its host movement's: slow_content leaves it,
    # the duration and rise rules still judge it
    on = np.array([0, 1000, 2000])
    c = R.Candidates(on, on + np.array([100, 100, 600]), 1000.0,
                     {"rise_half": np.array([0.01, 0.01, 0.01]),
                      "low_ratio": np.array([3.0, 3.0, 3.0]),
                      "jolt_piece": np.array([0.0, 1.0, 1.0])}, floor=np.ones(3))
    r = RejectConfig()
    np.testing.assert_array_equal(R.slow_content(c, r), [True, False, False])
    np.testing.assert_array_equal(R.long_jolt(c, r), [False, False, True])


@pytest.mark.parametrize("dur", [0.15, 0.6, 2.0])
def test_simulated_movements_start_and_end_at_zero(dur):
    w = windowed_sine(2000.0, dur, 3.0, 1.3)
    # a cut-off Gaussian window would step by up to 1.1 % of the peak; one sample of a
    # 3-Hz sine at 2 kHz moves by under 1e-2 of its peak, so 1e-3 is far below a step
    assert abs(w[0]) < 1e-3 and abs(w[-1]) < 1e-3
    assert np.abs(w).max() == pytest.approx(1.0, abs=1e-12)  # unit peak, exact by scaling


def test_pieces_equal_whole_with_jolts_inside_movements():
    from ltr.simulate import session

    # an accelerometer alone, with the operator's motion at a third of the passes
    rec, _ = session(400.0, 500.0, "acc", 7, condition="acc_only", motion_prob=0.3)
    whole = ltr.detect(rec, block=None)
    off = ltr.detect(rec, block=None, config=DetectorConfig(acc=AccConfig(jolt_search=False)))
    assert len(whole) > len(off) + 3  # jolts were cut out of movements here
    pieces = ltr.detect(rec, block=122.0)  # the shortest piece (tests/test_stream.py)
    assert pieces.meta["pieces"] >= 3
    for name in ("events", "rejected"):  # samples, so exactly equal
        a, b = getattr(whole, name), getattr(pieces, name)
        np.testing.assert_array_equal(np.sort(a["onset"]), np.sort(b["onset"]))
        assert sorted(map(str, a["reason"] if name == "rejected" else a["onset"])) == \
            sorted(map(str, b["reason"] if name == "rejected" else b["onset"]))


def test_hold_length_of_a_staircase():
    from ltr.detect.plan import hold_length

    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 400))
    assert hold_length(x) == 1
    assert hold_length(np.repeat(x[:, :40], 10, axis=1)) == 10
    assert hold_length(np.zeros((3, 100))) == 1  # nothing changes: nothing to tell


def test_a_held_sensor_has_no_jolt_band():
    # OpenBCI's accelerometer: read at 25 Hz, written at 250 Hz (each value held for 10
    # samples); its staircase puts the hand's movement above 20 Hz, where no jolt of a
    # 25-Hz sensor can be
    fs = 250.0
    wave, _ = _passes(False)
    slow = np.repeat(wave[:: round(FS / 25.0)], 10)  # 25 Hz, held at 250 Hz
    rec = _recording(np.zeros(slow.size), fs=fs)
    rec.data[:] = np.repeat(rec.data[:, ::10], 10, axis=1)[:, : slow.size]
    rec.data[0] += 0.6 * slow
    rec.data[2] += 0.8 * slow
    with_search = ltr.detect(rec)
    without = ltr.detect(rec, config=DetectorConfig(acc=AccConfig(jolt_search=False)))
    assert with_search.onset.size == without.onset.size


def test_a_jolt_cut_from_a_movement_needs_the_emg_burst_beside_emg():
    # EMG + accelerometer at 2 kHz: the jolt inside the hand's movement is a twitch when
    # the needled muscle's EMG bursts with it, and is turned away when the EMG is quiet
    fs = 2000.0
    n = int(32 * fs)
    rng = np.random.default_rng(5)
    wave, onsets = _passes(True)
    t400 = np.arange(wave.size) / FS
    acc = np.interp(np.arange(n) / fs, t400, wave)
    d = np.array([0.6, 0.0, 0.8])[:, None]
    xyz = d * acc[None, :] + 0.005 * rng.standard_normal((3, n))
    xyz[2] += 9.80665
    quiet = 5e-6 * rng.standard_normal(n)
    bursts = quiet.copy()
    for t0 in onsets - 0.02:  # the burst leads the jolt by the electromechanical delay
        i, m = round(t0 * fs), round(0.08 * fs)
        bursts[i:i + m] += 60e-6 * rng.standard_normal(m) * np.hanning(m)
    names = ["EMG trapezius", "ACC X", "ACC Y", "ACC Z"]
    kinds = ["emg", "acc", "acc", "acc"]
    units = ["V", "m/s^2", "m/s^2", "m/s^2"]
    with_emg = ltr.detect(Recording(np.vstack([bursts, xyz]), fs, names, kinds, units=units))
    _, mr = match_onsets(np.sort(with_emg.onset), onsets - 0.02, 0.05)
    assert mr.size == onsets.size
    assert set(with_emg.events["modality"]) == {"emg+acc"}
    alone = ltr.detect(Recording(np.vstack([quiet, xyz]), fs, names, kinds, units=units))
    assert alone.onset.size == 0
    assert (np.asarray(alone.rejected["reason"]) == "motion").sum() >= onsets.size
