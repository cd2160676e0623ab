"""Calibrated confidence (issue 12): the model, its fit, --min-confidence, a held-out check."""

from __future__ import annotations

import numpy as np
import pytest

import ltr
from ltr.cli import main
from ltr.detect import ConfidenceConfig, DetectorConfig
from ltr.detect._fusion import KINDS, confidence_features, fit_logistic, logistic, predict
from ltr.detect.config import CONFIDENCE_FEATURES
from ltr.detect.rules import REASONS
from ltr.evaluate import detection_outcomes, reliability
from ltr.simulate import session, wild_draw


def _rows(margin_db, **over):
    """Hand-made events: everything typical of a twitch but the SNR margin."""
    n = np.size(margin_db)
    f = {"emg_margin": margin_db, "acc_margin": margin_db, "duration": np.full(n, 0.06),
         "median_freq": np.full(n, 120.0), "burst": np.full(n, 0.03),
         "crest": np.full(n, 3.5), "near_beat": np.zeros(n), "channels": np.zeros(n),
         "sfreq": 2000.0, "neighbours": np.zeros(n)}
    f.update(over)
    return confidence_features(**f)


@pytest.mark.parametrize("kind", KINDS)
def test_model_is_monotone_in_snr_and_a_probability(kind):
    margin = np.linspace(-20, 80, 201)  # dB over the threshold, past both clip limits
    x = _rows(margin)
    p = predict(x, np.full(margin.size, kind, dtype=object), ConfidenceConfig())
    assert np.all((p >= 0) & (p <= 1))
    # non-decreasing; 1e-12 absorbs rounding of equal logits where the margin is clipped
    assert np.all(np.diff(p) >= -1e-12)
    # extreme and missing inputs stay finite probabilities
    wild = _rows(np.array([np.nan, np.inf, -np.inf, 1e300]),
                 duration=np.array([0.0, 1e9, np.nan, 1e-9]),
                 median_freq=np.array([np.nan, 1e9, -1e9, 0.0]),
                 burst=np.array([0.0, np.inf, np.nan, 1.0]),
                 crest=np.array([np.nan, 1e9, 0.0, 3.0]), neighbours=np.array([0, 1e6, 3, 1]))
    q = predict(wild, np.full(4, kind, dtype=object), ConfidenceConfig())
    assert np.all(np.isfinite(q) & (q >= 0) & (q <= 1))


def test_features_are_scaled_and_clipped_as_documented():
    x = _rows(np.array([0.0, 10.0, 100.0, np.nan]))
    col = {name: x[:, i] for i, name in enumerate(CONFIDENCE_FEATURES)}
    # exact arithmetic on small numbers: 1e-12 covers rounding only
    np.testing.assert_allclose(col["intercept"], 1.0)
    np.testing.assert_allclose(col["emg_margin"], [0.0, 1.0, 4.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(col["log_duration"], np.log2(0.06 / 0.05), atol=1e-12)
    np.testing.assert_allclose(col["median_freq"], 0.2, atol=1e-12)
    np.testing.assert_allclose(col["log_rate"], 0.0, atol=1e-12)
    y = _rows(np.zeros(3), neighbours=np.array([0.0, 1.0, 1000.0]))
    np.testing.assert_allclose(y[:, CONFIDENCE_FEATURES.index("neighbours")], [0, 1, 4],
                               atol=1e-12)


def test_logistic_does_not_overflow():
    x = np.array([[1.0], [1.0], [1.0]])
    p = logistic(x * np.array([[-1000.0], [0.0], [1000.0]]), np.array([1.0]))
    np.testing.assert_allclose(p, [0.0, 0.5, 1.0], atol=1e-300)


def test_fit_recovers_known_coefficients():
    rng = np.random.default_rng(7)
    n = 20000
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(-1, 1, n),
                         rng.integers(0, 2, n)])
    w = np.array([-0.5, 1.5, -2.0, 1.0])
    y = rng.random(n) < logistic(x, w)
    got = fit_logistic(x, y, ridge=0.0)
    # standard errors at n = 20000 are about 0.02-0.04; 0.15 is > 4 of them
    np.testing.assert_allclose(got, w, atol=0.15)
    # the ridge shrinks, and a column constrained >= 0 whose effect is negative drops out
    shrunk = fit_logistic(x, y, ridge=0.05)
    assert np.all(np.abs(shrunk[1:]) < np.abs(got[1:]))
    con = fit_logistic(x, y, ridge=0.0, nonneg=(2,))
    assert con[2] == 0.0
    np.testing.assert_allclose(con[1], w[1], atol=0.3)  # refitted without column 2


def test_fit_weights_count_like_repeated_events():
    rng = np.random.default_rng(11)
    x = np.column_stack([np.ones(400), rng.normal(size=400)])
    y = rng.random(400) < logistic(x, np.array([0.3, 1.0]))
    w = rng.integers(1, 4, 400)
    rep = np.repeat(np.arange(400), w)
    # the same likelihood and penalty: equal up to Newton's stopping tolerance
    np.testing.assert_allclose(fit_logistic(x, y, weight=w.astype(float)),
                               fit_logistic(x[rep], y[rep]), atol=1e-8)
    with pytest.raises(ValueError, match="weight: need 400 finite values"):
        fit_logistic(x, y, weight=-np.ones(400))


def test_fit_handles_separable_and_empty_columns():
    x = np.column_stack([np.ones(200), np.r_[np.zeros(100), np.ones(100)], np.zeros(200)])
    y = x[:, 1] > 0.5  # column 1 separates the classes perfectly
    w = fit_logistic(x, y, ridge=1e-3)
    assert np.all(np.isfinite(w)) and w[2] == pytest.approx(0.0, abs=1e-9)
    p = logistic(x, w)
    assert p[:100].max() < 0.1 and p[100:].min() > 0.9


def test_config_validates_and_round_trips(tmp_path):
    k = len(CONFIDENCE_FEATURES)
    with pytest.raises(ValueError, match=r"confidence.emg: need \d+ coefficients"):
        ConfidenceConfig(emg=(0.0,) * (k - 1))
    with pytest.raises(ValueError, match="emg_margin coefficient must be >= 0"):
        ConfidenceConfig(emg=(0.0, -1.0) + (0.0,) * (k - 2))
    with pytest.raises(ValueError, match="finite"):
        ConfidenceConfig(acc=(float("nan"),) * k)
    with pytest.raises(ValueError, match="confidence.method"):
        ConfidenceConfig(method="isotonic")
    cfg = DetectorConfig(confidence=ConfidenceConfig(emg=tuple(np.arange(k) * 0.5)))
    path = tmp_path / "cfg.toml"
    cfg.to_toml(path)
    assert "[confidence]" in path.read_text()
    assert DetectorConfig.from_toml(path) == cfg
    path.write_text("[confidence]\nemg = [1, 2]\n")
    with pytest.raises(ValueError, match=r"cfg.toml: \[confidence\]: confidence.emg"):
        DetectorConfig.from_toml(path)


def test_heuristic_method_keeps_the_old_scale():
    rec, _ = session(60, 2000, "emg+acc", seed=31, snr_db=(6, 20))
    res = ltr.detect(rec, config=DetectorConfig(confidence=ConfidenceConfig(
        method="heuristic")))
    c = res.events["confidence"]
    emg_only = res.events["modality"] == "emg"
    assert len(res) > 5
    # 0.3-0.9 per modality; 1e-12 for rounding at the clip edges
    assert np.all((c[emg_only] >= 0.3 - 1e-12) & (c[emg_only] <= 0.9 + 1e-12))
    x = res.meta["confidence_features"]
    assert x.shape == (len(res), len(CONFIDENCE_FEATURES))


def test_filter_moves_low_confidence_twitches_and_counts_add_up():
    rec, _ = session(120, 2000, "emg+acc", seed=41, snr_db=(-3, 20))
    res = ltr.detect(rec)
    p = float(np.median(res.events["confidence"]))
    out = res.filter(min_confidence=p)
    low = res.events["confidence"] < p
    assert 0 < low.sum() < len(res)
    assert len(out) == int((~low).sum())
    assert np.all(out.events["confidence"] >= p)
    moved = out.rejected["reason"] == "low_confidence"
    assert int(moved.sum()) == int(low.sum())
    assert out.rejected["onset"].size == res.rejected["onset"].size + int(low.sum())
    np.testing.assert_array_equal(np.sort(out.rejected["onset"][moved]),
                                  np.sort(res.events["onset"][low]))
    assert np.all(np.diff(out.rejected["onset"]) >= 0)
    assert out.meta["confidence_features"].shape[0] == len(out)
    s = out.overview()
    assert s["count"] == len(out) and s["rejected"]["low_confidence"] == low.sum()
    assert s["min_confidence"] == p
    assert f"confidence below {p:g}: {int(low.sum())} twitch" in out.format_summary()
    assert len(res) == low.size  # the original is unchanged
    # the same through detect(), and a stricter second filter wins
    again = ltr.detect(rec, min_confidence=p)
    np.testing.assert_array_equal(again.onset, out.onset)
    assert out.filter(min_confidence=0.0).meta["min_confidence"] == p
    assert len(out.filter(min_confidence=1.0)) == int((res.events["confidence"] >= 1).sum())
    assert "low_confidence" in REASONS
    for bad in (-0.1, 1.5, float("nan"), "0.5", True):
        with pytest.raises(ValueError, match="min_confidence must be"):
            res.filter(min_confidence=bad)
    with pytest.raises(ValueError, match="min_confidence must be None or"):
        ltr.detect(rec, min_confidence=2)


def test_cli_min_confidence(tmp_path, capsys):
    rec, _ = session(60, 2000, "emg", seed=43, snr_db=(-3, 20))
    path = ltr.write(rec, tmp_path / "s.edf")
    assert main(["detect", str(path), "--json"]) == 0
    import json

    full = json.loads(capsys.readouterr().out)
    conf = np.asarray(full["events"]["confidence"], float)
    # a threshold between the lowest and the highest confidence (three decimals, as the
    # CLI prints it): some twitches fall below it whatever the fitted model gives
    assert conf.size >= 2 and conf.min() < conf.max()
    p = float(np.round((conf.min() + conf.max()) / 2, 3))
    n_low = int((conf < p).sum())
    assert 0 < n_low < conf.size
    assert main(["detect", str(path), "--min-confidence", str(p)]) == 0
    out = capsys.readouterr().out
    kept = conf.size - n_low
    assert f"{kept} twitch{'' if kept == 1 else 'es'} in" in out
    assert f"confidence below {p:g}: {n_low} twitch" in out
    # a floor of 0, or one nothing falls below: no line about it
    lowest = float(np.floor(conf.min() * 1000) / 1000)
    for floor in ("0", f"{lowest:g}"):
        assert main(["detect", str(path), "--min-confidence", floor]) == 0
        out = capsys.readouterr().out
        assert f"{conf.size} twitch{'' if conf.size == 1 else 'es'} in" in out
        assert "confidence below" not in out and "set aside" not in out
    with pytest.raises(SystemExit):
        main(["detect", str(path), "--min-confidence", "1.5"])
    err = capsys.readouterr().err
    assert "--min-confidence" in err and "from 0 to 1" in err and "Traceback" not in err


def test_confidence_is_calibrated_on_held_out_wild_sessions():
    """ECE on a few held-out wild sessions (seeds >= 1000, the first 16 short ones of a
    fixed range, chosen by length only) stays below a loose bound: with a few hundred
    events the ECE of a calibrated model scatters by about 0.03 (0.06 measured here
    when written), while ltr 0.1's heuristic scale gives 0.27 on these sessions (0.25 on 200
    held-out wild sessions)."""
    conf, true = [], []
    seeds = [s for s in range(3000, 3100) if wild_draw(s)["duration"] < 150][:16]
    for s in seeds:
        rec, truth = session(condition="wild", seed=s)
        res = ltr.detect(rec)
        conf.append(res.events["confidence"])
        true.append(detection_outcomes(res.events["onset"], truth))
    c, t = np.concatenate(conf), np.concatenate(true)
    assert c.size >= 100
    assert reliability(c, t).ece < 0.10


def test_default_floor_sets_aside_the_unlikely_and_spares_uncalibrated_kinds():
    """ltr.detect reports twitches of calibrated confidence >= confidence.min_confidence
    (0.5 by default); min_confidence=0 keeps every twitch the rules passed; an
    ultrasound twitch (confidence not calibrated) is not set aside by the default."""
    rec, _ = session(condition="wild", seed=1)  # 100 s with two unlikely events
    every = ltr.detect(rec, min_confidence=0.0)
    floor = DetectorConfig().confidence.min_confidence
    assert floor == 0.5
    low = every.events["confidence"] < floor
    assert low.any() and (~low).any()  # the seed has both
    res = ltr.detect(rec)
    np.testing.assert_array_equal(res.onset, every.onset[~low])
    assert int((res.rejected["reason"] == "low_confidence").sum()) == int(low.sum())
    # a configuration with floor 0 keeps them all
    cfg0 = DetectorConfig.from_dict({"confidence": {"min_confidence": 0.0}})
    np.testing.assert_array_equal(ltr.detect(rec, config=cfg0).onset, every.onset)
    # calibrated_only spares rows of kind "us" (what the default floor does)
    import dataclasses

    ev = {k: v.copy() for k, v in every.events.items()}
    ev["modality"] = np.where(low, "us", ev["modality"]).astype(object)
    fake = dataclasses.replace(every, events=ev)
    assert len(fake.filter(min_confidence=floor, calibrated_only=True)) == len(every)
    assert len(fake.filter(min_confidence=floor)) == int((~low).sum())
