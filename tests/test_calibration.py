"""ltr calibrate: a site whose twitches are weaker than the defaults expect gains
cross-validated F1; a site like the defaults' keeps them; the TOML is what --config reads."""

from __future__ import annotations

import numpy as np
import pytest

import ltr
from ltr.calibration import calibrate, find_reviewed, scaled_config
from ltr.cli import main
from ltr.detect import DetectorConfig
from ltr.simulate import session, write_session

#: The "noisier site": twitches at -2 to 4 dB over the baseline (the defaults were
#: developed on 0-24 dB), EMG only. The simulated truth plays the reviewer.
WEAK_SITE = {"snr_db": (-2.0, 4.0)}


def _site(seeds, duration, **kw):
    out = []
    for s in seeds:
        rec, truth = session(duration=duration, seed=s, layout="emg", **kw)
        out.append((rec, truth.onsets))
    return out


def test_weak_site_gains_held_out_f1():
    # 6 sessions of 45 s; over six disjoint seed sets (200-705, measured when this test
    # was written) the held-out F1 rose by 0.047 to 0.173, so 0.03 leaves a margin while
    # failing a calibration that does not help
    res = calibrate(_site(range(200, 206), 45.0, **WEAK_SITE))
    assert res.after["f1"] > res.before["f1"] + 0.03
    assert res.after["recall"] > res.before["recall"]
    assert res.scale < 1.0  # weaker twitches: lower thresholds
    assert len(res.folds) == 6 and set(res.folds["scale"]) <= set(res.grid["scale"])
    assert "held out, after" in res.format()


def test_default_like_site_keeps_the_defaults():
    res = calibrate(_site(range(200, 204), 40.0, condition="clean"))
    # ties go to the configuration given; a clean site must not be made worse
    assert res.after["f1"] >= res.before["f1"] - 1e-12  # the same counts, or better
    assert res.before["f1"] > 0.9  # the defaults do well here to begin with


def test_scaled_config_fields():
    base = DetectorConfig()
    cfg = scaled_config(base, 0.5, 0.3)
    # excess over 1 halved for the ratios, sigmas halved, the floor set
    assert cfg.emg.on_ratio == pytest.approx(1 + 0.5 * (base.emg.on_ratio - 1), abs=1e-9)
    assert cfg.acc.off_ratio == pytest.approx(1 + 0.5 * (base.acc.off_ratio - 1), abs=1e-9)
    assert cfg.floor.on_sigma == pytest.approx(0.5 * base.floor.on_sigma, abs=1e-9)
    assert cfg.confidence.min_confidence == 0.3
    assert cfg.reject == base.reject
    assert scaled_config(base, 1.0, base.confidence.min_confidence) == base
    with pytest.raises(ValueError, match="scale must be > 0"):
        scaled_config(base, 0.0, 0.0)


def test_config_floor_is_applied_by_detect():
    rec, _ = session(duration=40, seed=3, layout="emg")
    cfg = scaled_config(DetectorConfig(), 1.0, 0.7)
    a = ltr.detect(rec, config=cfg)
    b = ltr.detect(rec, min_confidence=0.7)
    assert np.array_equal(a.onset, b.onset)
    assert np.all(a.events["confidence"] >= 0.7)
    # the keyword wins over the configuration
    assert len(ltr.detect(rec, config=cfg, min_confidence=0.0)) >= len(a)
    with pytest.raises(ValueError, match="confidence.min_confidence"):
        DetectorConfig.from_dict({"confidence": {"min_confidence": 1.5}})


def test_cli_pairs_files_and_writes_toml(tmp_path, capsys):
    recs = []
    for s in range(3):
        p = tmp_path / f"site{s}.edf"
        write_session(p, duration=30, seed=210 + s, layout="emg", **WEAK_SITE)
        recs.append(p)
    assert find_reviewed(recs[0]) == tmp_path / "site0.events.tsv"
    # a reviewed file of ltr review beside a recording wins over the simulator's truth
    (tmp_path / "site1.reviewed.tsv").write_text(
        (tmp_path / "site1.events.tsv").read_text())
    assert find_reviewed(recs[1]).name == "site1.reviewed.tsv"
    out = tmp_path / "site.toml"
    args = ["calibrate", str(recs[0]), f"{recs[1]}={tmp_path / 'site1.events.tsv'}",
            str(recs[2]), "-o", str(out)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "held out, before" in text and str(out) in text
    cfg = DetectorConfig.from_toml(out)
    assert out.read_text().startswith("# fitted by ltr calibrate on site0.edf")
    assert main(["detect", str(recs[0]), "--config", str(out)]) == 0
    capsys.readouterr()
    assert cfg.confidence.min_confidence in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    # errors: one line, naming the file
    assert main(args) == 1
    assert capsys.readouterr().err.strip() == \
        f"ltr calibrate: error: {out}: exists; pass --overwrite to replace it"
    lone = tmp_path / "lone.edf"
    lone.write_bytes(recs[0].read_bytes())
    assert main(["calibrate", str(recs[0]), str(lone), "-o", str(tmp_path / "x.toml")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ltr calibrate: error: {lone}: no reviewed events file beside it")
    assert len(err.strip().splitlines()) == 1
    assert main(["calibrate", str(recs[0]), "-o", str(tmp_path / "x.toml")]) == 1
    assert "at least two reviewed recordings" in capsys.readouterr().err


def test_an_unreviewed_reviewed_file_is_warned_about(tmp_path):
    """Opening ``ltr review`` writes NAME.reviewed.tsv at once, every row pending (the
    detector's own calls), and it then wins over NAME.events.tsv: calibrating on it would
    score the detector against itself, so calibrate says so (fresh-eyes trial)."""
    recs = []
    for s in range(2):
        p = tmp_path / f"site{s}.edf"
        write_session(p, duration=20, seed=230 + s, layout="emg")
        recs.append(p)
    res = ltr.detect(ltr.read(recs[0]))
    rows = ["onset\tduration\ttrial_type\treview_status"] + \
        [f"{t:.4f}\t0.05\ttwitch\tn/a" for t in res.onset]
    (tmp_path / "site0.reviewed.tsv").write_text("\n".join(rows) + "\n")
    with pytest.warns(ltr.LtrDataWarning, match=r"site0.reviewed.tsv: holds no reviewer "
                                                r"decision yet"):
        calibrate(recs, scales=(1.0,), floors=(DetectorConfig().confidence.min_confidence,))
    rows[1] = rows[1].replace("n/a", "confirmed")  # one decision: a review under way
    (tmp_path / "site0.reviewed.tsv").write_text("\n".join(rows) + "\n")
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*no reviewer decision")
        calibrate(recs, scales=(1.0,), floors=(DetectorConfig().confidence.min_confidence,))


@pytest.mark.slow
def test_weak_site_bigger():
    """10 sessions of 2 minutes at the weak site (the figure of the closing note)."""
    res = calibrate(_site(range(900, 910), 120.0, **WEAK_SITE))
    print(res.format())
    assert res.after["f1"] > res.before["f1"] + 0.03
