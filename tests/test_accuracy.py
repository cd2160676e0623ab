"""Accuracy floors on simulated sessions with known truth.

A small honest subset runs in CI; the full sweep of the issue's targets (many seeds per
condition) carries the ``slow`` marker. benchmarks/accuracy.py produces the report.
The seeds here are not the ones the detector was developed on (100-110).
"""

from __future__ import annotations

import numpy as np
import pytest

import ltr
from ltr.evaluate import EvaluationReport, evaluate
from ltr.simulate import SUITE, session


def _score(name, seeds, duration, snr_db, snr_range):
    reports = []
    for seed in seeds:
        rec, truth = session(duration, 2000, SUITE[name].layout, seed, condition=name,
                             snr_db=snr_db)
        res = ltr.detect(rec)
        reports.append(evaluate(res, truth, snr_range=snr_range if truth.has_emg else None))
    return EvaluationReport.combine(reports)


@pytest.mark.parametrize("name", ["clean", "needle_artifacts", "ecg", "fused", "acc_only"])
def test_ci_subset_above_6_db(name):
    c = _score(name, [3001, 3002], 90.0, (6.0, 24.0), (6.0, np.inf))
    assert c.tp + c.fn >= 10
    assert c.f1 >= 0.9, c.format()
    if name != "acc_only":
        assert np.median(np.abs(c.onset_error_ms)) <= 10.0


def test_ci_subset_no_twitch_no_count():
    rec, _ = session(120, 2000, "emg+acc", 3003, p_twitch=0.0, needle_spike_prob=0.4,
                     pop_rate=2.0, motion_prob=0.2, ecg_bpm=(50, 100), ecg_amplitude=200e-6,
                     mains_hz=60)
    assert len(ltr.detect(rec)) <= 1


# Measured on seeds 1000-1019 (benchmarks/results/accuracy.md): below target because
# twitches during a sustained contraction (and within 0.5 s of it) are not counted, and
# because in "everything" confounders pile up on the twitches.
_SHORT_6DB = {"voluntary_contraction": "F1 0.905: twitches inside contractions are lost",
              "everything": "F1 0.931: stacked confounders"}
_SHORT_0DB = {"voluntary_contraction": "F1 0.833: twitches inside contractions are lost"}


def _params(names, short):
    return [pytest.param(n, marks=pytest.mark.xfail(reason=short[n], strict=False))
            if n in short else n for n in names]


@pytest.mark.slow
@pytest.mark.parametrize("name", _params([n for n in SUITE if n != "low_snr"], _SHORT_6DB))
def test_targets_at_and_above_6_db(name):
    c = _score(name, range(4000, 4010), 120.0, (6.0, 24.0), (6.0, np.inf))
    assert c.f1 >= 0.95, c.format()


@pytest.mark.slow
@pytest.mark.parametrize("name", _params([n for n in SUITE if n not in ("low_snr", "acc_only")],
                                         _SHORT_0DB))
def test_targets_between_0_and_6_db(name):
    c = _score(name, range(4000, 4010), 120.0, (0.0, 6.0), (0.0, 6.0))
    assert c.f1 >= 0.85, c.format()
    assert np.median(np.abs(c.onset_error_ms)) <= 10.0


# -- issue 12: the wild condition, the new phenomena and the report machinery -------------

_BENCH = __import__("pathlib").Path(__file__).resolve().parents[1] / "benchmarks"


def _bench():
    import importlib.util

    spec = importlib.util.spec_from_file_location("ltr_bench_accuracy", _BENCH / "accuracy.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_report_refuses_development_seeds():
    with pytest.raises(SystemExit):
        _bench().main(["--quick", "--seed-start", "5"])


def test_overlap_of_twitches_with_trains():
    _, truth = session(120, 10000, "emg", 1000, endplate_train_rate=6.0, endplate_on_twitch=1.0)
    on = _bench()._overlap(truth, ("endplate_train",))
    trains = truth.confounders_of("endplate_train")
    assert on.any()
    for i in np.flatnonzero(on):  # each flagged twitch really overlaps a train
        a, b = truth.onsets[i], truth.twitches["offset"][i]
        assert np.any((a <= trains["offset"]) & (b >= trains["onset"]))


@pytest.mark.slow
def test_report_runs_end_to_end(tmp_path):
    out = tmp_path / "acc.md"
    _bench().main(["--quick", "--wild", "2", "--per-cell", "1", "--hybrid-seeds", "1",
                   "--jobs", "1", "--out", str(out)])
    text = out.read_text()
    for section in ("1. Wild sessions", "2. Named conditions", "3. Twitch-free",
                    "4. Twitches on an endplate", "5. Precision with a faint", "6. Hybrid",
                    "7. Calibration", "PROVISIONAL"):
        assert section in text
    assert (tmp_path / "reliability_provisional.png").stat().st_size > 1000


# Issue 12's targets on held-out seeds. Today's detector (main) is far below them on the
# new phenomena (benchmarks/results/accuracy_provisional.md); the detector work removes
# the xfail marks as it meets them.
_NEW = ("faint_ecg", "endplate", "acc_tremor", "movement_steps", "quiet_gaps")
_ISSUE12 = "issue 12: detector not yet robust to this phenomenon"


@pytest.mark.slow
@pytest.mark.xfail(reason=_ISSUE12, strict=False)
@pytest.mark.parametrize("name", _NEW)
def test_issue12_named_conditions_f1_at_least_090(name):
    cond = SUITE[name]
    reports = []
    for seed in range(4000, 4010):
        rec, truth = session(cond.duration or 120.0, cond.sfreq or 2000.0, cond.layout, seed,
                             condition=name)
        reports.append(evaluate(ltr.detect(rec), truth))
    c = EvaluationReport.combine(reports)
    assert c.f1 >= 0.90, c.format()


@pytest.mark.slow
@pytest.mark.xfail(reason=_ISSUE12, strict=False)
def test_issue12_wild_f1_at_least_095():
    reports = []
    for seed in range(4000, 4040):
        rec, truth = session(condition="wild", seed=seed)
        reports.append(evaluate(ltr.detect(rec), truth))
    c = EvaluationReport.combine(reports)
    assert c.f1 >= 0.95, c.format()
