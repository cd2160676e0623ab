"""The detector: hand-built signals, look-alikes, invariances, inputs, results and config."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import signal

import ltr
from ltr.detect import DetectorConfig, EmgConfig
from ltr.evaluate import match_onsets
from ltr.simulate import session

FS = 2000.0


def _noise(seconds=20.0, rms=3e-6, seed=0, fs=FS):
    return np.random.default_rng(seed).normal(0, rms, int(seconds * fs))


def _burst(rng, seconds, fs=FS, rms=30e-6):
    """A band-limited (60-400 Hz) noise burst with a raised-cosine envelope."""
    n = int(seconds * fs)
    sos = signal.butter(4, [60, 400], btype="bandpass", fs=fs, output="sos")
    x = signal.sosfiltfilt(sos, rng.standard_normal(n + 400))[200:-200]
    x *= np.hanning(n) ** 0.5
    return x / np.sqrt(np.mean(x**2)) * rms


def _emg_recording(x, fs=FS, names=("EMG test",)):
    return ltr.Recording(np.atleast_2d(x), fs, list(names))


def test_hand_built_bursts_are_found_where_they_are():
    rng = np.random.default_rng(1)
    x = _noise(seed=1)
    onsets = [3.0, 7.5, 7.85, 12.2]  # two of them 350 ms apart, as when fanning
    for t in onsets:
        b = _burst(rng, 0.08)
        i = int(t * FS)
        x[i : i + b.size] += b
    res = ltr.detect(_emg_recording(x))
    assert len(res) == 4
    np.testing.assert_allclose(res.onset, onsets, atol=0.012)
    assert np.all(res.events["duration"] > 0.04) and np.all(res.events["duration"] < 0.12)
    assert np.all(res.events["snr_db"] > 15)
    assert set(res.events["modality"]) == {"emg"}
    assert np.all((res.events["confidence"] > 0) & (res.events["confidence"] <= 1))
    assert np.all(res.events["median_freq"] > 60)


def test_noise_alone_gives_an_empty_result_never_none(tmp_path):
    res = ltr.detect(_emg_recording(_noise(60.0, seed=2)))
    assert len(res) == 0
    for k, v in res.events.items():
        assert isinstance(v, np.ndarray) and v.size == 0, k
    s = res.overview()
    assert s["count"] == 0 and s["median_snr_db"] is None
    assert res.summary()["count"].tolist() == [0] and len(res.to_data_frame()) == 0
    path = res.to_bids_events(tmp_path / "events.tsv")
    assert path.read_text().splitlines()[0].startswith("onset\tduration\ttrial_type")
    assert len(path.read_text().splitlines()) == 1
    assert res.noise_floor["EMG test"] == pytest.approx(3e-6 * 0.66, rel=0.25)


def test_flat_and_nan_input_do_not_break(recwarn):
    flat = ltr.detect(_emg_recording(np.zeros(int(10 * FS))))
    assert len(flat) == 0
    rng = np.random.default_rng(3)
    x = _noise(seed=3)
    b = _burst(rng, 0.08)
    x[int(5 * FS) : int(5 * FS) + b.size] += b
    x[int(10 * FS) : int(12 * FS)] = np.nan  # a dropout
    res = ltr.detect(_emg_recording(x))
    assert len(res) == 1 and abs(res.onset[0] - 5.0) < 0.012
    # the dropout is reported (once, naming the channel), nothing else warns
    said = [str(w.message) for w in recwarn]
    assert len(said) == 1 and "'EMG test' has 1 gap(s)" in said[0], said


def test_look_alikes_are_rejected_with_reasons():
    rng = np.random.default_rng(4)
    x = _noise(30.0, seed=4)
    i = int(4 * FS)
    x[i : i + 4] += np.array([0.4e-3, -0.8e-3, 0.6e-3, -0.2e-3])  # a 2 ms needle spike
    j = int(9 * FS)
    x[j:] += 1e-3 * np.exp(-np.arange(x.size - j) / (0.2 * FS))  # an electrode pop
    k = int(15 * FS)
    x[k : k + int(2.5 * FS)] += _burst(rng, 2.5, rms=40e-6)  # sustained contraction
    t = np.arange(x.size) / FS  # a slow cable-motion transient at 22 s
    x += 300e-6 * np.exp(-0.5 * ((t - 22) / 0.05) ** 2) * np.sin(2 * np.pi * 6 * (t - 22))
    m = int(26 * FS)
    b = _burst(rng, 0.08)
    x[m : m + b.size] += b  # one real twitch
    res = ltr.detect(_emg_recording(x))
    assert len(res) == 1 and abs(res.onset[0] - 26.0) < 0.012
    reasons = dict(zip(np.round(res.rejected["onset"]).astype(int),
                       res.rejected["reason"], strict=True))
    assert reasons.get(4) == "needle_spike"
    assert reasons.get(9) == "pop"
    assert res.contractions["onset"].size == 1
    assert abs(res.contractions["onset"][0] - 15.0) < 0.1
    assert res.contractions["offset"][0] - res.contractions["onset"][0] > 2.0


def test_heartbeats_are_not_counted():
    rec, truth = session(120, 2000, "emg", seed=21, p_twitch=0.0, ecg_bpm=(60, 90),
                         ecg_amplitude=400e-6)
    res = ltr.detect(rec)
    assert len(res) == 0
    assert res.processing["EMG trapezius"]["heartbeats"] == pytest.approx(
        truth.confounders_of("ecg")["onset"].size, abs=3)


def test_mains_is_removed_only_where_present_and_does_not_move_onsets():
    rec, _truth = session(60, 2000, "emg", seed=22, snr_db=(10, 24))
    clean = ltr.detect(rec)
    assert clean.processing["EMG trapezius"]["mains_hz"] is None
    t = rec.times
    hum = 20e-6 * np.sin(2 * np.pi * 50 * t) + 6e-6 * np.sin(2 * np.pi * 150 * t + 1.0)
    noisy = ltr.detect(ltr.Recording(rec.data + hum, rec.sfreq, rec.ch_names))
    assert noisy.processing["EMG trapezius"]["mains_hz"] == pytest.approx(50.0, abs=0.05)
    assert 1 in noisy.processing["EMG trapezius"]["mains_harmonics"]
    md, mr = match_onsets(noisy.onset, clean.onset, 0.02)
    assert md.size == len(clean) == len(noisy)
    assert np.max(np.abs(noisy.onset[md] - clean.onset[mr])) < 0.003


@pytest.mark.parametrize("scale", [1e-3, 1e3])
def test_scaling_leaves_events_unchanged(scale):
    rec, _ = session(60, 2000, "emg+acc", seed=23)
    base = ltr.detect(rec)
    scaled = ltr.detect(ltr.Recording(rec.data * scale, rec.sfreq, rec.ch_names,
                                      annotations=rec.annotations))
    np.testing.assert_allclose(scaled.onset, base.onset, atol=1e-9)
    np.testing.assert_allclose(scaled.events["amplitude"], base.events["amplitude"] * scale,
                               rtol=1e-6)


def test_zero_padding_shifts_events_only():
    rec, _ = session(60, 2000, "emg", seed=24)
    base = ltr.detect(rec)
    pad = np.zeros((1, int(3 * FS)))
    padded = ltr.detect(ltr.Recording(np.hstack([pad, rec.data, pad]), FS, rec.ch_names))
    np.testing.assert_allclose(padded.onset - 3.0, base.onset, atol=1e-9)


@pytest.mark.parametrize(("up", "down", "tol"), [(1, 2, 0.002), (2, 1, 0.002), (5, 1, 0.002),
                                                 (1, 4, 0.025)])
def test_resampling_leaves_events_unchanged(up, down, tol):
    # 1-10 kHz: within a sample or two of 1 kHz. At 500 Hz the band stops at 225 Hz
    # and the fast potentials above it are gone, so onsets may move by some ms.
    rec, _ = session(60, 2000, "emg", seed=25, snr_db=(10, 24))
    base = ltr.detect(rec)
    x = signal.resample_poly(rec.data, up, down, axis=1)
    res = ltr.detect(ltr.Recording(x, FS * up / down, rec.ch_names))
    md, mr = match_onsets(res.onset, base.onset, 0.05)
    assert len(res) == len(base) == md.size
    assert np.median(np.abs(res.onset[md] - base.onset[mr])) <= tol


def test_channel_order_and_per_channel_calls():
    rec, _ = session(90, 2000, "emg2+acc", seed=26)
    res = ltr.detect(rec)
    flipped = ltr.detect(rec.pick(["EMG rhomboid", "ACC Z", "ACC X", "EMG trapezius",
                                   "ACC Y"]))
    np.testing.assert_allclose(flipped.onset, res.onset)
    assert [set(c.split(",")) for c in flipped.events["channels"]] == \
        [set(c.split(",")) for c in res.events["channels"]]
    for name in ("EMG trapezius", "EMG rhomboid"):
        alone = ltr.detect(rec.pick(name))
        mine = res.channel_events["channel"] == name
        np.testing.assert_allclose(res.channel_events["onset"][mine], alone.onset)


def test_fusion_lists_channels_and_scores_fused_confidence():
    from ltr.detect import ConfidenceConfig
    from ltr.detect._fusion import predict
    from ltr.detect.config import CONFIDENCE_FEATURES

    rec, truth = session(120, 2000, "emg+acc", seed=27, snr_db=(8, 20))
    res = ltr.detect(rec)
    both = res.events["modality"] == "emg+acc"
    assert both.sum() >= 0.7 * len(res)
    assert all(c == "EMG trapezius,ACC" for c in res.events["channels"][both])
    # the fused confidence is the emg+acc model on both modalities' margins
    x = res.meta["confidence_features"]
    emg_m, acc_m = (CONFIDENCE_FEATURES.index(k) for k in ("emg_margin", "acc_margin"))
    assert np.all(x[both, acc_m] != 0) and np.all(x[~both & (res.events["modality"] == "emg"),
                                                     acc_m] == 0)
    assert np.any(x[both, emg_m] != 0)
    kind = np.asarray([m.replace("+", "_") for m in res.events["modality"]], dtype=object)
    # same arithmetic on the same numbers: 1e-12 covers rounding only
    np.testing.assert_allclose(predict(x, kind, ConfidenceConfig()),
                               res.events["confidence"], atol=1e-12)
    assert res.compare(truth)["f1"] > 0.9


def test_epochs_come_from_annotations():
    rec, truth = session(120, 2000, "emg", seed=28, snr_db=(10, 24))
    res = ltr.detect(rec)
    np.testing.assert_allclose(res.epochs.start, truth.epochs["start"])
    assert res.epochs.source == "annotations"
    per_epoch = res.summary(by="epoch")["count"].tolist()
    assert per_epoch == np.bincount(res.events["epoch"][res.events["epoch"] >= 0],
                                    minlength=len(per_epoch)).tolist()
    assert sum(per_epoch) + res.overview()["outside_epochs"] == len(res)


def test_array_and_mne_input():
    rec, _ = session(60, 2000, "emg", seed=29)
    from_rec = ltr.detect(rec)
    from_array = ltr.detect(rec.data, sfreq=2000.0)
    np.testing.assert_allclose(from_array.onset, from_rec.onset)
    from_raw = ltr.detect(rec.to_mne())
    np.testing.assert_allclose(from_raw.onset, from_rec.onset)
    with pytest.raises(TypeError, match="needs sfreq="):
        ltr.detect(rec.data)
    with pytest.raises(ValueError, match="no EMG or accelerometer channel"):
        ltr.detect(ltr.Recording(np.zeros((1, 5000)), 1000, ["Temperature"]))
    with pytest.raises(ValueError, match=r"channel\(s\) \['EMG x'\] not in the recording"):
        ltr.detect(rec, emg=["EMG x"])
    with pytest.raises(TypeError, match="config must be a DetectorConfig"):
        ltr.detect(rec, config={"emg": {}})


def test_path_input_is_read_with_ltr_read(tmp_path):
    rec, _ = session(30, 2000, "emg+acc", seed=29)
    path = ltr.write(rec, tmp_path / "s.edf")
    from_file = ltr.read(path)
    expected = ltr.detect(from_file)
    for given in (path, str(path)):
        res = ltr.detect(given)
        assert res.source == str(path)
        # the same file read twice: the same events
        np.testing.assert_array_equal(res.onset, expected.onset)
    # a text file without a time column takes sfreq= as the reader does
    csv = tmp_path / "s.csv"
    csv.write_text("EMG a\n" + "\n".join(f"{v:.9g}" for v in rec.get_data(picks="emg")[0])
                   + "\n")
    assert ltr.detect(csv, sfreq=2000.0).sfreq == 2000.0
    with pytest.raises(FileNotFoundError, match="nope.edf: no such file"):
        ltr.detect(tmp_path / "nope.edf")
    with pytest.raises(TypeError, match="s.edf: option not understood"):
        ltr.detect(path, sfreq=2000.0)


def test_band_edges_follow_the_sampling_rate():
    rec, _ = session(30, 500, "emg", seed=30)
    res = ltr.detect(rec)
    assert res.processing["EMG trapezius"]["band_hz"] == [20.0, 225.0]
    with pytest.raises(ValueError, match="cannot be used at 40 Hz"):
        ltr.detect(ltr.Recording(np.zeros((1, 400)), 40, ["EMG a"]))


def test_an_object_detect_cannot_read_is_named_in_the_error():
    rec, _ = session(duration=10.0, layout="emg", seed=1)
    res = ltr.detect(rec)
    with pytest.raises(TypeError, match="not TwitchResults"):
        ltr.detect(res)  # the results of a run, passed back by mistake
    with pytest.raises(TypeError, match="needs sfreq="):
        ltr.detect(np.zeros(100))


def test_config_toml_round_trip_and_errors(tmp_path):
    cfg = DetectorConfig(emg=EmgConfig(on_ratio=2.2, band=(30.0, 400.0), envelope="tkeo"))
    path = tmp_path / "cfg.toml"
    cfg.to_toml(path)
    assert DetectorConfig.from_toml(path) == cfg
    (tmp_path / "bad.toml").write_text("[emg]\non_ratio = 1.1\noff_ratio = 1.5\n")
    with pytest.raises(ValueError, match=r"bad.toml: \[emg\]: emg: need 1 < off_ratio"):
        DetectorConfig.from_toml(tmp_path / "bad.toml")
    (tmp_path / "typo.toml").write_text("[emg]\non_ratoi = 2\n")
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['on_ratoi'\] in \[emg\]"):
        DetectorConfig.from_toml(tmp_path / "typo.toml")
    with pytest.raises(ValueError, match="emg.envelope must be one of"):
        EmgConfig(envelope="hilbert")


def test_tkeo_envelope_also_works():
    rec, truth = session(60, 2000, "emg", seed=31, snr_db=(10, 24))
    res = ltr.detect(rec, config=DetectorConfig(emg=EmgConfig(envelope="tkeo")))
    assert res.compare(truth)["f1"] > 0.8


def test_exports(tmp_path):
    rec, _ = session(60, 2000, "emg+acc", seed=32, snr_db=(10, 24))
    res = ltr.detect(rec)
    tsv = res.to_bids_events(tmp_path / "sub-01_events.tsv")
    lines = tsv.read_text().splitlines()
    assert lines[0].split("\t")[:10] == ["onset", "duration", "trial_type", "peak_time",
                                         "channels", "amplitude_uV", "amplitude_m_s2",
                                         "snr_db", "confidence", "epoch"]
    assert len(lines) == len(res) + 1
    side = json.loads((tmp_path / "sub-01_events.json").read_text())
    assert side["onset"]["Units"] == "s" and "Description" in side["snr_db"]
    with pytest.raises(FileExistsError):
        res.to_bids_events(tsv)
    doc = json.loads(res.to_json())
    assert doc["summary"]["count"] == len(res)
    assert len(doc["events"]["onset"]) == len(res)
    csv = res.write_events(tmp_path / "e.csv", per_channel=True)
    assert len(csv.read_text().splitlines()) == res.channel_events["onset"].size + 1


def test_to_data_frame():
    pd = pytest.importorskip("pandas")
    rec, _ = session(30, 2000, "emg", seed=33, snr_db=(10, 24))
    df = ltr.detect(rec).to_data_frame()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns)[:3] == ["onset", "duration", "offset"]


@pytest.mark.parametrize("sfreq", [100.0, 148.0])
def test_slow_accelerometers_work_with_defaults(sfreq):
    rec, truth = session(120, sfreq, "acc", seed=34, condition="acc_only")
    res = ltr.detect(rec)
    assert res.compare(truth, tolerance=0.1)["f1"] >= 0.9


def test_single_sample_accelerometer_glitches_are_not_jolts():
    fs = 100.0
    rng = np.random.default_rng(35)
    n = int(60 * fs)
    xyz = rng.normal(0, 0.01, (3, n)) + np.array([[0.0], [0.0], [9.81]])
    for t in (10.0, 25.0, 40.0):  # one bad sample each, as smartphone sensors produce
        xyz[1, int(t * fs)] += 0.4
    tt = np.arange(0, 0.25, 1 / fs)  # and one real 15 Hz jolt at 50 s
    jolt = 0.3 * np.sin(2 * np.pi * 15 * tt) * np.exp(-tt / 0.06)
    xyz[0, int(50 * fs) : int(50 * fs) + tt.size] += jolt
    rec = ltr.Recording(xyz, fs, ["ACC X", "ACC Y", "ACC Z"])
    res = ltr.detect(rec)
    assert len(res) == 1 and abs(res.onset[0] - 50.0) < 0.05
    assert res.processing["ACC"]["glitches_repaired"] == 3


def test_glitch_repair_leaves_oscillations_alone():
    from ltr.preprocess import repair_glitches

    t = np.arange(0, 2, 1 / 100.0)
    x = np.sin(2 * np.pi * 33 * t)  # near fs/3, peaks look spiky
    y, count = repair_glitches(x)
    assert count == 0 and np.array_equal(x, y)


@pytest.mark.parametrize(("m", "n"), [(50, 7), (50, 49), (50, 51), (50, 99), (50, 101),
                                      (50, 301), (3, 7)])
def test_moving_mean_matches_a_loop(m, n):
    from ltr.envelope import moving_mean

    rng = np.random.default_rng(m + n)
    x = rng.normal(size=m)
    x[1] = np.nan
    half = n // 2
    want = [np.nanmean(x[max(0, i - half): i + half + 1]) if np.isfinite(
        x[max(0, i - half): i + half + 1]).any() else np.nan for i in range(m)]
    np.testing.assert_allclose(moving_mean(x, n), want, equal_nan=True)
