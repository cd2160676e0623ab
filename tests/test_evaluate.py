"""Event-level scoring on hand-made cases, and matching equal to a brute-force greedy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ltr.cli import main
from ltr.evaluate import (
    EvaluationReport,
    compare,
    evaluate,
    evaluate_files,
    match_onsets,
    read_events_tsv,
)
from ltr.simulate import Truth


def _greedy(det, ref, tol):
    # the same tolerance convention as match_onsets: 1e-12 s of slack for float noise
    pairs = sorted((abs(a - b), i, j) for i, a in enumerate(det) for j, b in enumerate(ref)
                   if abs(a - b) <= tol + 1e-12)
    used_d, used_r, out = set(), set(), []
    for _, i, j in pairs:
        if i not in used_d and j not in used_r:
            used_d.add(i)
            used_r.add(j)
            out.append((i, j))
    return sorted(out, key=lambda p: (ref[p[1]], p[1]))


times = st.lists(st.floats(0, 10, allow_nan=False).map(lambda x: round(x, 3)), max_size=25,
                 unique=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(times, times, st.floats(0.0, 1.0))
def test_matching_equals_greedy_closest_first(det, ref, tol):
    # "closest first" is ambiguous when two pairs are exactly as close (onsets on a ms
    # grid make such ties common): either choice is closest-first, and the choice can
    # change the count and distance of later matches (e.g. det [3.0, 3.528], ref
    # [3.634, 3.422], tol 0.5). The property holds for distances without exact ties.
    dists = [abs(a - b) for a in det for b in ref]
    assume(len(set(dists)) == len(dists))
    md, mr = match_onsets(det, ref, tol)
    got = list(zip(md.tolist(), mr.tolist(), strict=True))
    want = _greedy(det, ref, tol)
    assert len(got) == len(want)
    dist = sum(abs(det[i] - ref[j]) for i, j in got)
    assert dist == pytest.approx(sum(abs(det[i] - ref[j]) for i, j in want), abs=1e-9)
    assert len({i for i, _ in got}) == len(got) and len({j for _, j in got}) == len(got)


def test_worked_example():
    r = compare([1.01, 2.98, 5.0], [1.0, 3.0, 4.0], tolerance=0.05)
    assert (r["tp"], r["fp"], r["fn"]) == (2, 1, 1)
    np.testing.assert_allclose(r["onset_error_ms"], [10.0, -20.0])
    assert r["f1"] == pytest.approx(2 / 3)
    assert r["mean_abs_onset_error_ms"] == pytest.approx(15.0)


def test_closest_first_and_one_to_one():
    r = compare([1.00, 1.04], [1.03], tolerance=0.05)
    assert r["matched_detected"].tolist() == [1]  # 1.04 is closer than 1.00
    assert (r["tp"], r["fp"]) == (1, 1)
    # the closest pair wins even where a left-to-right scan would pair 1.00 with 1.04
    # (and 1.05 with 1.09): closest-first is the convention, not maximum cardinality
    r = compare([1.00, 1.05], [1.04, 1.09], tolerance=0.05)
    assert r["matched_detected"].tolist() == [1] and r["matched_reference"].tolist() == [0]
    np.testing.assert_allclose(r["onset_error_ms"], [10.0])


def test_tolerance_boundary_and_empty_sets():
    assert compare([1.05], [1.0], tolerance=0.05)["tp"] == 1
    assert compare([1.0501], [1.0], tolerance=0.05)["tp"] == 0
    empty = compare([], [], tolerance=0.05)
    assert empty["f1"] == 1.0 and np.isnan(empty["precision"]) and np.isnan(empty["recall"])
    none_found = compare([], [1.0, 2.0])
    assert none_found["recall"] == 0.0 and none_found["f1"] == 0.0
    assert np.isnan(none_found["precision"])
    with pytest.raises(ValueError, match="tolerance must be a finite number >= 0"):
        compare([1.0], [1.0], tolerance=-1)
    with pytest.raises(ValueError, match="detected must be finite onsets"):
        compare([np.nan], [1.0])


def _truth():
    return Truth(
        twitches={
            "onset": np.array([2.0, 2.5, 6.0, 12.0]),
            "offset": np.array([2.1, 2.6, 6.2, 12.05]),
            "peak_time": np.array([2.05, 2.55, 6.1, 12.02]),
            "amplitude": np.full(4, 1e-4), "rms": np.full(4, 3e-5),
            "snr_db": np.array([-2.0, 3.0, 15.0, 25.0]),
            "channel": np.array(["EMG"] * 4), "acc_onset": np.full(4, np.nan),
            "acc_amplitude": np.full(4, np.nan), "crosstalk_db": np.full(4, np.nan),
            "epoch": np.array([0, 0, 1, 2]),
        },
        confounders={
            "kind": np.array(["needle_spike", "ecg", "ecg", "mains"]),
            "onset": np.array([1.5, 7.0, 8.0, 0.0]),
            "offset": np.array([1.502, 7.11, 8.11, 60.0]),
            "channel": np.array(["EMG", "*", "*", "*"]),
            "amplitude": np.array([1e-3, 1e-4, 1e-4, 1e-5]),
        },
        epochs={"start": np.array([1.0, 5.0, 11.0, 20.0]),
                "stop": np.array([4.0, 9.0, 14.0, 25.0]),
                "muscle": np.array(["EMG"] * 4)},
        passes={"time": np.zeros(0), "epoch": np.zeros(0, int), "on_target": np.zeros(0, bool)},
        info={"duration": 60.0, "channels": ["EMG"]},
    )


def test_evaluate_breaks_errors_down():
    truth = _truth()
    # found 2.0 (+10 ms), 6.0 (-20 ms); split 6.0 with a second detection at 6.15;
    # counted the needle spike (1.5) and one ECG beat (7.05); a detection at 30 s is
    # outside every epoch; missed 2.5 (3 dB) and 12.0 (25 dB)
    det = [1.501, 2.01, 5.98, 6.15, 7.05, 30.0]
    rep = evaluate(det, truth)
    assert (rep.tp, rep.fp, rep.fn) == (2, 4, 2)
    assert rep.tolerance == 0.05
    np.testing.assert_allclose(rep.onset_error_ms, [10.0, -20.0], atol=1e-9)
    # epoch 0: 1.501 and 2.01 vs 2 true; epoch 1: three detections vs 1; epoch 2: 0 vs 1
    assert rep.count_error.tolist() == [0, 2, -1, 0]
    assert rep.detections_outside_epochs == 1
    assert rep.false_alarm_causes == {"needle_spike": 1, "ecg": 1, "twitch_split": 1,
                                      "none": 1}
    assert rep.confounders_counted == {"needle_spike": {"events": 1, "counted": 1},
                                       "ecg": {"events": 2, "counted": 1}}
    assert rep.false_alarms_per_min == pytest.approx(4.0)
    assert rep.recall_by_snr["-inf..0 dB"] == {"true": 1, "found": 1}
    assert rep.recall_by_snr["0..6 dB"] == {"true": 1, "found": 0}
    assert rep.recall_by_snr["20..inf dB"] == {"true": 1, "found": 0}
    text = rep.format()
    assert "TP / FP / FN         2 / 4 / 2" in text and "needle_spike       1 of 1" in text


def test_combine_sums_counts():
    truth = _truth()
    a = evaluate([2.0, 6.0], truth)
    b = evaluate([2.0, 2.5, 6.0, 12.0, 40.0], truth)
    c = EvaluationReport.combine([a, b])
    assert (c.tp, c.fp, c.fn) == (6, 1, 2)
    assert c.duration == 120.0 and c.n_runs == 2
    assert c.recall_by_snr["12..20 dB"] == {"true": 2, "found": 2}
    assert c.to_dict()["precision"] == pytest.approx(6 / 7)


def test_events_tsv_and_cli(tmp_path, capsys):
    truth = _truth()
    tpath = truth.to_json(tmp_path / "t.truth.json")
    det = tmp_path / "det.tsv"
    det.write_text("onset\tduration\ttrial_type\n2.01\t0.1\ttwitch\n3.3\t1\tcontraction\n"
                   "5.98\t0.1\ttwitch\n")
    np.testing.assert_allclose(read_events_tsv(det), [2.01, 5.98])
    rep = evaluate_files(det, tpath)
    assert (rep.tp, rep.fp, rep.fn) == (2, 0, 2)
    assert main(["evaluate", str(det), str(tpath)]) == 0
    out = capsys.readouterr().out
    assert "precision            1.000" in out and "recall               0.500" in out
    bad = tmp_path / "bad.tsv"
    bad.write_text("time\tx\n1\t2\n")
    assert main(["evaluate", str(bad), str(tpath)]) == 1
    assert "needs an 'onset' column" in capsys.readouterr().err


def test_truth_events_tsv_scores_perfectly_against_itself(tmp_path):
    from ltr.simulate import session

    _, truth = session(60, 1000, "emg", seed=1, condition="needle_artifacts")
    tsv = truth.to_events_tsv(tmp_path / "e.tsv")
    rep = evaluate(read_events_tsv(tsv), truth)
    assert rep.fp == 0 and rep.fn == 0 and rep.f1 == 1.0
    assert np.all(rep.count_error == 0)


def test_snr_range_makes_other_twitches_dont_care():
    truth = _truth()  # SNRs -2, 3, 15, 25 dB at 2.0, 2.5, 6.0, 12.0 s
    det = [2.0, 2.5, 6.0, 30.0]
    full = evaluate(det, truth)
    assert (full.tp, full.fp, full.fn) == (3, 1, 1)
    band = evaluate(det, truth, snr_range=(0.0, 20.0))
    # 2.0 s (-2 dB) and 12.0 s (25 dB) are don't-care: the hit on 2.0 is not a false alarm
    assert (band.tp, band.fp, band.fn) == (2, 1, 0)
    high = evaluate(det, truth, snr_range=(6.0, np.inf))
    assert (high.tp, high.fp, high.fn) == (1, 1, 1)


# -- calibration -----------------------------------------------------------------------------

def test_reliability_table_on_hand_made_events():
    from ltr.evaluate import expected_calibration_error, reliability

    conf = [0.05, 0.15, 0.15, 0.55, 0.95, 0.95, 0.95, 0.95, 1.0, 0.0]
    true = [0, 0, 1, 1, 1, 1, 1, 0, 1, 0]
    r = reliability(conf, true, n_bins=10)
    assert r.count.tolist() == [2, 2, 0, 0, 0, 1, 0, 0, 0, 5]  # 1.0 falls in the last bin
    assert r.n_events == 10
    # exact sums of a few decimals: 1e-12 covers float rounding of the means
    np.testing.assert_allclose(r.mean_confidence[[0, 1, 5, 9]], [0.025, 0.15, 0.55, 0.96],
                               atol=1e-12)
    np.testing.assert_allclose(r.fraction_true[[0, 1, 5, 9]], [0.0, 0.5, 1.0, 0.8], atol=1e-12)
    assert np.isnan(r.mean_confidence[2]) and np.isnan(r.fraction_true[2])
    want = (2 * 0.025 + 2 * 0.35 + 1 * 0.45 + 5 * 0.16) / 10
    assert r.ece == pytest.approx(want, abs=1e-12)  # float rounding only
    assert expected_calibration_error(conf, true, 10) == pytest.approx(want, abs=1e-12)
    assert r.max_gap == pytest.approx(0.45, abs=1e-12)
    assert "ECE" in r.format() and r.to_dict()["count"] == r.count.tolist()


def test_perfectly_calibrated_and_overconfident_events():
    from ltr.evaluate import reliability

    rng = np.random.default_rng(0)
    conf = rng.uniform(0, 1, 20000)
    true = rng.random(conf.size) < conf  # true with probability = confidence
    # sampling noise of 20 000 events over 10 bins: a bin's fraction has SD <= 0.011,
    # the weighted mean gap about 0.004; 0.02 is 5 SD of that
    assert reliability(conf, true).ece < 0.02
    over = reliability(np.full(100, 0.9), np.r_[np.ones(50), np.zeros(50)])
    assert over.ece == pytest.approx(0.4, abs=1e-12)
    assert np.isnan(reliability([], []).ece)


@pytest.mark.parametrize(("conf", "true", "match"), [
    ([0.5, 1.5], [1, 0], r"confidence must be finite values in \[0, 1\]"),
    ([0.5], [1, 0], "same length"),
])
def test_reliability_rejects_bad_input(conf, true, match):
    from ltr.evaluate import reliability

    with pytest.raises(ValueError, match=match):
        reliability(conf, true)
    with pytest.raises(ValueError, match="n_bins must be a positive integer"):
        reliability([0.5], [1], n_bins=0)


def test_detection_outcomes_match_one_to_one():
    from ltr.evaluate import detection_outcomes

    # two detections near the first twitch: only the closer one is true
    got = detection_outcomes([1.02, 0.99, 3.0, 7.0], [1.0, 3.04], tolerance=0.05)
    assert got.tolist() == [False, True, True, False]
    _rec, truth = __import__("ltr").simulate.session(30, 1000, "emg", 2)
    assert detection_outcomes(truth.onsets + 0.01, truth).all()
    assert not detection_outcomes(truth.onsets + 0.2, truth).any()


def test_evaluate_reads_the_csv_that_detect_writes(tmp_path):
    # fresh-eyes trial: `ltr detect F -o d.csv; ltr evaluate d.csv F.truth.json` failed,
    # the csv parsed as tab-separated
    from ltr.simulate import write_session

    rec_path = tmp_path / "s.h5"
    write_session(rec_path, duration=30, layout="emg", seed=2)
    assert main(["detect", str(rec_path), "-o", str(tmp_path / "d.csv")]) == 0
    assert main(["detect", str(rec_path), "-o", str(tmp_path / "d.tsv")]) == 0
    a = read_events_tsv(tmp_path / "d.csv")
    b = read_events_tsv(tmp_path / "d.tsv")
    assert a.size > 0
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)  # the same numbers, 10 digits
    assert main(["evaluate", str(tmp_path / "d.csv"), str(tmp_path / "s.truth.json")]) == 0
