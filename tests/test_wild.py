"""The wild condition: draws stay inside their documented ranges and rebuild the session."""

from __future__ import annotations

import numpy as np
import pytest

from ltr.simulate import LAYOUTS, session
from ltr.simulate._wild import (
    WILD_ALWAYS,
    WILD_CONFOUNDERS,
    WILD_SESSION,
    wild_draw,
    wild_ranges,
    wild_table,
)

SEEDS = range(400)


@pytest.fixture(scope="module")
def draws():
    return [wild_draw(s) for s in SEEDS]


def test_every_drawn_parameter_stays_inside_its_documented_range(draws):
    bounds = wild_ranges()
    for d in draws:
        for name, value in d["conditions"].items():
            assert name in bounds, name
            lo, hi = bounds[name]
            for v in np.atleast_1d(np.asarray(value, float)):
                assert lo <= v <= hi, (name, v)
            if isinstance(value, tuple):
                assert value[0] <= value[1]


def test_session_choices_cover_their_ranges(draws):
    sf = np.asarray([d["sfreq"] for d in draws])
    dur = np.asarray([d["duration"] for d in draws])
    layouts = {d["layout"] for d in draws}
    assert layouts == set(LAYOUTS)
    emg = np.asarray([d["layout"] != "acc" for d in draws])
    needle = np.asarray([d["electrode"] == "needle" for d in draws])
    # EMG from 250 Hz to 10 kHz (rates are rounded to 1 Hz); accelerometer-only 100 Hz-1 kHz
    assert sf[emg].min() >= 250 - 0.5 and sf[emg].max() <= 10000 + 0.5
    assert sf[~emg].min() >= 100 - 0.5 and sf[~emg].max() <= 1000 + 0.5
    assert sf[needle].min() >= 2000 - 0.5  # long needle sessions are capped at 2 kHz
    assert sf[emg].min() < 400 and sf[needle].max() > 8000  # the extremes are reached
    assert dur.min() >= 60 and dur.max() <= 3600
    long = dur >= 1200
    # 8 % long sessions: 32 of 400 expected, binomial SD 5.4; ±4 SD
    assert 10 <= long.sum() <= 54
    assert np.all(sf[long] <= WILD_SESSION["long_sfreq_cap"][0])
    # about 30 % needle sessions (120 of 400, SD 9.2; ±4 SD)
    assert 83 <= needle.sum() <= 157


def test_phenomena_only_where_they_can_be(draws):
    for d in draws:
        p, layout = d["present"], d["layout"]
        if layout == "acc":
            assert not any(p[k] for k in ("mains", "ecg", "endplate", "movement_burst"))
        if not layout.endswith("acc"):
            assert not p["tremor"] and not p["hand_pressure"]
        if d["electrode"] == "surface":
            assert not p["endplate"]
        if d["electrode"] == "needle":
            assert not p["movement_burst"]
        if d["duration_band"] != "long":
            assert not p["quiet_gap"]
    # every confounder kind appears somewhere, and is absent somewhere
    for name in WILD_CONFOUNDERS:
        seen = [d["present"][name] for d in draws]
        assert any(seen) and not all(seen), name
    faint = [d for d in draws if "ecg_qrs_snr" in d["conditions"]]
    assert faint and all(d["present"]["ecg"] for d in faint)


def test_every_range_names_a_source():
    for r in (*WILD_ALWAYS, *(r for _, rs in WILD_CONFOUNDERS.values() for r in rs)):
        assert r.source and r.lo <= r.hi, r.field
    table = wild_table()
    assert "endplate_spike_amplitude" in table and "LTR-FACTS" in table


def test_wild_session_is_a_function_of_the_seed_and_its_draw_rebuilds_it():
    seed = next(s for s in SEEDS if wild_draw(s)["duration"] <= 120
                and wild_draw(s)["sfreq"] <= 3000)
    rec, truth = session(condition="wild", seed=seed)
    again, truth2 = session(condition="wild", seed=seed)
    np.testing.assert_array_equal(rec.data, again.data)
    assert truth.to_dict() == truth2.to_dict()
    w = truth.info["wild"]
    # the length is rounded to whole samples: within one sample period
    assert rec.sfreq == w["sfreq"]
    assert rec.duration == pytest.approx(w["duration"], abs=1 / rec.sfreq)
    assert truth.info["condition"] == "wild"
    # the stored draw alone rebuilds the session (as one would from a failure report)
    rebuilt, _ = session(w["duration"], w["sfreq"], w["layout"], seed, **w["conditions"])
    np.testing.assert_array_equal(rebuilt.data, rec.data)
    other, _ = session(condition="wild", seed=seed + 1)
    assert other.data.shape != rec.data.shape or not np.array_equal(other.data, rec.data)


def test_wild_keywords_override_the_draw():
    rec, truth = session(30.0, 1000.0, "emg", 3, condition="wild", snr_db=(10.0, 12.0))
    assert rec.duration == 30.0 and rec.sfreq == 1000.0
    assert truth.info["config"]["snr_db"] == [10.0, 12.0]
