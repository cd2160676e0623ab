"""The rejection rule table: each rule on hand-made candidates, precedence, the registry."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ltr.detect import DetectorConfig, RejectConfig
from ltr.detect import rules as R
from ltr.detect._channel import find_steps

FS = 1000.0  # 1 sample = 1 ms, so hand-made spans read as milliseconds


def cands(spans_ms, **feats) -> R.Candidates:
    """Candidates at ``[on, off)`` ms with features given per candidate (scalars repeat)."""
    on = np.array([a for a, _ in spans_ms], dtype=int)
    off = np.array([b for _, b in spans_ms], dtype=int)
    k = on.size
    base = {"burst": 0.05, "crest": 3.0, "median_freq": 120.0, "high_rms": 10.0,
            "rise_half": 0.01, "low_ratio": 0.1, "snr_db": 20.0, "rms": 1.0}
    base.update(feats)
    features = {key: np.broadcast_to(np.asarray(v, float), (k,)).copy()
                for key, v in base.items()}
    return R.Candidates(on, off, FS, features, floor=np.ones(k))


REJ = RejectConfig()


def test_every_rule_in_the_tables_has_a_registered_reason_and_a_description():
    for rule in R.EMG_RULES + R.ACC_RULES:
        assert rule.reason in R.REASONS
        assert len(rule.description) > 20, rule.name
    assert next(r.name for r in R.EMG_RULES) == "clipping"  # first: replaces the rest
    assert len({r.name for r in R.EMG_RULES}) == len(R.EMG_RULES)
    with pytest.raises(ValueError, match="unknown reason 'nope'"):
        R.Rule("x", "nope", R.pop)
    assert R.describe("pop").startswith("electrode pop")
    assert R.describe("whatever") == "whatever"


def test_reason_names_used_by_figures_come_from_the_registry():
    from ltr import plot

    assert set(plot._REASON_COLORS) == set(R.REASONS)


def test_pop_needs_a_step_within_the_margin():
    c = cands([(100, 150), (300, 350), (600, 650)])
    c.steps = np.array([95, 365, 640])  # 5 ms before; 15 ms after; inside
    np.testing.assert_array_equal(R.pop(c, REJ), [True, False, True])  # margin 10 ms
    wider = dataclasses.replace(REJ, pop_margin=0.02)
    np.testing.assert_array_equal(R.pop(c, wider), [True, True, True])


def test_sustained_by_length_and_by_a_dense_run():
    # one long burst; a dense run of 5 x 120 ms with 40-ms gaps (0.76 s, 79 % active);
    # and three bursts 300 ms apart (sparse, as when fanning)
    dense_run = [(2000 + 160 * i, 2120 + 160 * i) for i in range(5)]
    sparse = [(5000 + 300 * i, 5060 + 300 * i) for i in range(3)]
    # the long one holds its energy throughout (90 % in 0.63 s); the others are short
    c = cands([(0, 700), *dense_run, *sparse], burst=[0.63] + [0.1] * 8)
    got = R.sustained(c, REJ)
    np.testing.assert_array_equal(got, [True] + [True] * 5 + [False] * 3)
    # the same run counts as sparse when the duty needed is above its 79 %
    strict = dataclasses.replace(REJ, dense_duty=0.85)
    np.testing.assert_array_equal(R.sustained(c, strict)[1:6], [False] * 5)
    # a dense run shorter than max_duration is not a contraction
    short = cands(dense_run[:3])  # 0.44 s
    assert not R.sustained(short, REJ).any()


def test_a_long_candidate_whose_energy_is_compact_is_no_contraction():
    # 0.7 s above threshold (a 1-mV burst's weak first and last potentials over a uV
    # floor) but 90 % of the energy within 0.45 s: a ballistic burst, not a contraction
    c = cands([(0, 700), (2000, 2700), (4000, 4700)], burst=[0.45, 0.63, 0.45],
              snr_db=[40.0, 40.0, 15.0])
    np.testing.assert_array_equal(R.long_energy(c, REJ), [False, True, True])
    np.testing.assert_array_equal(R.sustained(c, REJ), [False, True, True])
    # at 15 dB the tails cannot stretch the span: the span alone decides (third one)


def test_contraction_fragments_lie_within_the_margin():
    c = cands([(1000, 1800), (600, 650), (2200, 2250), (2400, 2450), (300, 340)],
              burst=[0.72, 0.05, 0.05, 0.05, 0.04])  # the contraction holds energy throughout
    got = R.contraction_fragment(c, REJ)  # margin 0.5 s either side of [1000, 1800)
    np.testing.assert_array_equal(got, [True, True, True, False, False])


def test_a_burst_far_stronger_than_the_contraction_beside_it_is_no_fragment():
    # a 20-uV contraction [1000, 1800); beside it bursts of 30 uV (a ramp's level) and of
    # 300 uV (a ballistic burst with its movement, 15x the contraction), and one near two
    # contractions that is stronger than the weaker only
    spans = [(600, 650), (2000, 2300), (1000, 1800), (3000, 3800), (3900, 3950),
             (4000, 4800)]
    c = cands(spans, burst=[0.05, 0.25, 0.72, 0.72, 0.05, 0.72],
              rms=[30e-6, 300e-6, 20e-6, 10e-6, 100e-6, 40e-6])
    got = R.contraction_fragment(c, REJ)  # rider_ratio 3.5
    np.testing.assert_array_equal(got, [True, False, True, True, True, True])
    # the level test goes with the rider search: off with rider_ratio = 0
    off = dataclasses.replace(REJ, rider_ratio=0.0)
    np.testing.assert_array_equal(R.contraction_fragment(c, off), [True] * 6)
    # plain-loop reference of the nearness test over random spans and levels
    rng = np.random.default_rng(3)
    for _ in range(20):
        on = np.sort(rng.choice(np.arange(0, 20000, 10), 12, replace=False))
        off_ = on + rng.integers(5, 900, on.size)
        keep = np.r_[True, on[1:] >= off_[:-1]]  # candidates do not overlap
        on, off_ = on[keep], off_[keep]
        rms = rng.lognormal(0.0, 1.0, on.size)
        c = cands(list(zip(on, off_, strict=True)), burst=(off_ - on) / FS, rms=rms,
                  snr_db=10.0)
        long_ = R.sustained(c, REJ)
        m = int(REJ.contraction_margin * FS)
        want = np.zeros(on.size, bool)
        for k in range(on.size):
            levels = [rms[j] for j in np.flatnonzero(long_)
                      if on[j] - m <= off_[k] and off_[j] + m >= on[k]]
            want[k] = bool(levels) and rms[k] <= REJ.rider_ratio * max(levels)
        np.testing.assert_array_equal(R.contraction_fragment(c, REJ), want)


def test_a_twitch_cut_out_of_a_contraction_is_no_part_of_it():
    # the contraction [1000, 1800) was cut around a rider [1300, 1360) (rider > 0); a
    # fragment at 600 ms stays one, a rider at 700 ms (it stood out of the level
    # around it) does not, and neither rider is a contraction itself
    spans = [(600, 650), (700, 760), (1000, 1300), (1300, 1360), (1360, 1800)]
    rider = [0.0, 1.0, 0.0, 1.0, 0.0]
    c = cands(spans, burst=[0.05, 0.05, 0.3, 0.05, 0.44], rider=rider)
    dense = cands(spans, burst=[0.05, 0.05, 0.3, 0.05, 0.44])  # the same, no riders
    assert R.sustained(dense, REJ)[2:].all()  # a dense run of 1.2 s
    got = R.sustained(c, REJ)
    assert not got[[1, 3]].any() and got[[2, 4]].all()
    frag = R.contraction_fragment(c, REJ)
    np.testing.assert_array_equal(frag, [True, False, True, False, True])
    # the background rule leaves a rider to the rider test: one side is the contraction
    bg = cands([(0, 50), (100, 150)], rider=[0.0, 1.0], env_peak=2.0, background=1.5,
               background_spread=0.01, on_threshold=1.0)
    np.testing.assert_array_equal(R.background(bg, REJ), [True, False])


def test_short_bursts_are_spikes_or_single_potentials_by_crest():
    c = cands([(0, 20), (100, 120), (200, 260)], burst=[0.004, 0.006, 0.04],
              crest=[8.0, 3.0, 9.0])
    np.testing.assert_array_equal(R.needle_spike(c, REJ), [True, False, False])
    np.testing.assert_array_equal(R.single_mup(c, REJ), [True, True, False])


def test_low_frequency_unless_emg_band_content_rides_on_it():
    c = cands([(0, 80), (100, 180), (300, 380)], median_freq=[20.0, 20.0, 90.0],
              high_rms=[0.5, 3.0, 0.5])  # floor 1: high-band limit 1.5
    np.testing.assert_array_equal(R.low_frequency(c, REJ), [True, False, False])


def test_ecg_rules_need_a_beat_nearby():
    c = cands([(1000, 1080), (2000, 2080), (3000, 3080)], median_freq=20.0, high_rms=0.0)
    c.beats = np.array([1030, 3200])  # inside the first; 120 ms after the third
    np.testing.assert_array_equal(R.ecg_low_frequency(c, REJ), [True, False, False])
    assert not R.ecg_residue(c, REJ).any()  # no template settled: no residue test
    c.energy_before = np.array([1.0, 1.0, 1.0])
    c.energy_after = np.array([0.05, 0.05, 0.9])
    c.ecg_residue = 0.1  # limit min(0.5, 3 x 0.1) = 0.3
    np.testing.assert_array_equal(R.ecg_residue(c, REJ), [True, False, False])


def test_accelerometer_movement_rules():
    c = cands([(0, 500), (1000, 1100), (2000, 2100), (3000, 3100)],
              rise_half=[0.01, 0.09, 0.01, 0.01], low_ratio=[0.1, 0.1, 1.5, 0.2])
    np.testing.assert_array_equal(R.long_jolt(c, REJ), [True, False, False, False])
    np.testing.assert_array_equal(R.slow_rise(c, REJ), [False, True, False, False])
    np.testing.assert_array_equal(R.slow_content(c, REJ), [False, False, True, False])
    reason = R.judge(R.ACC_RULES, c, REJ)
    assert list(reason) == ["movement", "movement", "movement", ""]


def test_clipping_by_the_rails_of_each_raw_channel():
    c = cands([(0, 50), (100, 150), (200, 250)])
    c.features.update({"raw_max_0": np.array([1.0, 0.5, np.nan]),
                       "raw_min_0": np.array([-0.2, -1.0, np.nan])})
    c.rails = [(1.0, None)]
    np.testing.assert_array_equal(R.clipping(c, REJ), [True, False, False])
    c.rails = [(1.0, -1.0)]
    np.testing.assert_array_equal(R.clipping(c, REJ), [True, True, False])  # NaN: blanked


def test_the_table_order_is_the_precedence():
    # a short burst near a pop and a beat: pop comes first
    c = cands([(100, 110), (300, 310), (500, 580)], burst=0.004, crest=8.0,
              median_freq=[120.0, 120.0, 20.0], high_rms=0.0)
    c.steps = np.array([105])
    c.beats = np.array([540])
    assert list(R.judge(R.EMG_RULES, c, REJ)) == ["pop", "needle_spike", "needle_spike"]
    # reversed precedence: the low-frequency candidate at a beat is named by ECG first
    table = (R.Rule("ecg_low_frequency", "ecg", R.ecg_low_frequency), *R.EMG_RULES)
    assert list(R.judge(table, c, REJ))[2] == "ecg"
    assert list(R.judge((), c, REJ)) == ["", "", ""]


def test_pop_step_is_read():
    """A level step that settles (a pop) inside otherwise smooth signal; raising
    pop_step above its shift-to-roughness ratio makes it no pop."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1e-6, 4000)
    x[2000:] += 200e-6  # the level steps by 200 x the noise
    scale = float(np.median(np.abs(np.diff(x))) / 0.6745)
    assert list(find_steps(x, FS, REJ, scale=scale)) == [2000]
    # the shift over the RMS difference around it is about 200 / sqrt(2) ~ 140
    assert find_steps(x, FS, dataclasses.replace(REJ, pop_step=500.0), scale=scale).size == 0
    assert find_steps(x, FS, dataclasses.replace(REJ, pop_jump=500.0), scale=scale).size == 0
    cfg = DetectorConfig.from_dict({"reject": {"pop_step": 500.0}})
    assert cfg.reject.pop_step == 500.0


def test_every_reason_the_detector_gives_is_registered():
    from ltr import detect
    from ltr.simulate import session

    rec, _ = session(60.0, 2000.0, "emg2+acc", 13, condition="everything")
    res = detect(rec)
    given = set(res.rejected["reason"].astype(str))
    assert len(given) >= 3 and given <= set(R.REASONS)
