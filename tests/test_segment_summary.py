"""Needling epochs (annotations, trigger, activity) and summaries on hand-made cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ltr
from ltr.detect import DetectorConfig
from ltr.results import (
    EVENT_COLUMNS,
    EVENT_TABLE_COLUMNS,
    SUMMARY_COLUMNS,
    TwitchResults,
    cohort_table,
    empty_table,
    write_table,
)
from ltr.segment import (
    Epochs,
    epochs_from_activity,
    epochs_from_annotations,
    epochs_from_trigger,
    find_epochs,
)
from ltr.simulate import session


def test_epochs_from_annotations_pairs_durations_and_open_ends():
    ann = ltr.Annotations([1, 4, 10, 20, 30], [0, 0, 5, 0, 0],
                          ["Needle In", "needle out", "needle in", "needle in", "marker"])
    s, e = epochs_from_annotations(ann, end=40.0)
    # paired; closed by its duration; left open until the end of the recording
    np.testing.assert_allclose(s, [1, 10, 20])
    np.testing.assert_allclose(e, [4, 15, 40])
    s, e = epochs_from_annotations(ltr.Annotations([2, 3], 0, ["IN", "OUT"]), "in", "out")
    np.testing.assert_allclose([s[0], e[0]], [2, 3])


def test_epochs_from_trigger_level_and_codes():
    fs = 100.0
    level = np.zeros(3000)
    level[200:900] = 5.0
    level[1500:1510] = 5.0  # a 0.1 s glitch
    level[2000:2800] = 5.0
    ep = epochs_from_trigger(level, fs)
    np.testing.assert_allclose(ep.start, [2.0, 20.0])
    np.testing.assert_allclose(ep.stop, [9.0, 28.0])
    codes = np.zeros(3000)
    codes[300:310] = 11  # pulse: needle in
    codes[1000:1010] = 12  # needle out
    codes[1200:1210] = 11
    codes[2500:2510] = 12
    ep = epochs_from_trigger(codes, fs, start_code=11, stop_code=12)
    np.testing.assert_allclose(ep.start, [3.0, 12.0])
    np.testing.assert_allclose(ep.stop, [10.0, 25.0])
    assert list(ep.label) == ["11", "11"] and ep.source == "trigger"


def test_epochs_from_activity_clusters():
    t = [5, 6, 7.5, 30, 31, 60]  # two clusters and a lone event
    ep = epochs_from_activity(t, gap=8.0, pad=1.0, min_events=2, end=100)
    np.testing.assert_allclose(ep.start, [4.0, 29.0])
    np.testing.assert_allclose(ep.stop, [8.5, 32.0])
    close = epochs_from_activity([5, 6, 7.2, 8.2], gap=1.05, pad=1.0)  # pads would overlap
    assert np.all(close.start[1:] >= close.stop[:-1])


def test_epochs_validation():
    with pytest.raises(ValueError, match="must not overlap"):
        Epochs([0, 5], [6, 8])
    with pytest.raises(ValueError, match="stop after it starts"):
        Epochs([3], [2])
    ep = Epochs([1, 10], [5, 12])
    assert ep.assign(np.array([0.5, 1, 4.9, 7, 11])).tolist() == [-1, 0, 0, -1, 1]
    assert ep.to_annotations().counts() == {"needle": 2}


def test_find_epochs_prefers_annotations_then_trigger():
    n, fs = 5000, 1000.0
    trig = np.zeros(n)
    trig[1000:3000] = 1
    data = np.vstack([np.random.default_rng(0).normal(0, 1e-6, n), trig])
    rec = ltr.Recording(data, fs, ["EMG a", "Trigger"])
    ep = find_epochs(rec)
    assert ep.source == "trigger" and ep.start.tolist() == [1.0] and ep.stop.tolist() == [3.0]
    rec.annotations = ltr.Annotations([0.5, 4.0], 0, ["needle in", "needle out"])
    ep = find_epochs(rec)
    assert ep.source == "annotations" and ep.stop.tolist() == [4.0]
    assert find_epochs(rec.pick("EMG a").crop(4.5)).source == "none"


def test_detect_falls_back_to_activity_epochs():
    rec, truth = session(180, 2000, "emg", seed=40, snr_db=(10, 24), needle_spike_prob=0.3)
    rec.annotations = ltr.Annotations()
    res = ltr.detect(rec)
    assert res.epochs.source == "activity"
    # every true epoch with twitches lies inside a found one, and most twitches are inside
    for s, e, n in zip(truth.epochs["start"], truth.epochs["stop"], truth.counts_per_epoch(),
                       strict=True):
        if n:
            mid = truth.onsets[(truth.onsets >= s) & (truth.onsets <= e)].mean()
            assert res.epochs.assign(np.array([mid]))[0] >= 0
    assert np.mean(res.events["epoch"] >= 0) > 0.9


def _results(onsets, amplitudes, epochs, *, channels=None, units=None, rejected=(),
             contractions=(), duration=100.0, jolts=None):
    k = len(onsets)
    ev = empty_table()
    unit = np.asarray(units or ["V"] * k, dtype=object)
    ev.update({
        # an accelerometer-only twitch's jolt is its amplitude; ``jolts`` gives others
        "jolt_amplitude": (np.asarray(jolts, float) if jolts is not None else
                           np.where(unit == "m/s^2", np.asarray(amplitudes, float), np.nan)),
        "onset": np.asarray(onsets, float), "offset": np.asarray(onsets, float) + 0.08,
        "duration": np.full(k, 0.08), "peak_time": np.asarray(onsets, float) + 0.03,
        "amplitude": np.asarray(amplitudes, float),
        "unit": unit,
        "rms": np.asarray(amplitudes, float) / 3, "area": np.full(k, 1e-6),
        "snr_db": np.full(k, 12.0), "rise_time": np.full(k, 0.03),
        "median_freq": np.full(k, 150.0),
        "channel": np.asarray(channels or ["EMG a"] * k, dtype=object),
        "channels": np.asarray(channels or ["EMG a"] * k, dtype=object),
        "modality": np.full(k, "emg", dtype=object), "confidence": np.full(k, 0.8),
    })
    ev["epoch"] = epochs.assign(ev["onset"])
    assert set(ev) == set(EVENT_COLUMNS)
    rej = {"onset": np.asarray([r[0] for r in rejected], float),
           "offset": np.asarray([r[0] + 0.01 for r in rejected], float),
           "channel": np.asarray([r[1] for r in rejected], dtype=object),
           "reason": np.asarray([r[2] for r in rejected], dtype=object),
           "amplitude": np.ones(len(rejected))}
    con = {"onset": np.asarray([c[0] for c in contractions], float),
           "offset": np.asarray([c[1] for c in contractions], float),
           "channel": np.asarray(["EMG a"] * len(contractions), dtype=object),
           "rms": np.ones(len(contractions))}
    return TwitchResults(events=ev, channel_events=ev, rejected=rej, contractions=con,
                         noise_floor={}, processing={}, epochs=epochs,
                         config=DetectorConfig(), sfreq=1000.0, duration=duration,
                         source="hand-made", meta={"emg": ["EMG a", "EMG b"], "sensors": {}})


def test_summary_by_epoch_on_a_hand_made_case():
    ep = Epochs([10.0, 40.0, 70.0], [30.0, 60.0, 90.0])
    onsets = [12.0, 13.0, 15.0, 19.0, 45.0]  # 4 in epoch 0, 1 in epoch 1, none in epoch 2
    amps = [8e-5, 4e-5, 2e-5, 1e-5, 5e-5]  # halving: -6.02 dB per twitch
    res = _results(onsets, amps, ep, rejected=[(11.0, "EMG a", "needle_spike"),
                                               (75.0, "EMG a", "motion")],
                   contractions=[(80.0, 85.0)])
    table = res.summary(by="epoch")
    assert isinstance(table, pd.DataFrame)
    assert list(table["count"]) == [4, 1, 0]
    r0, r1, r2 = table.to_dict("records")
    assert r0["first_latency_s"] == pytest.approx(2.0)
    assert r0["rate_per_min"] == pytest.approx(12.0)
    assert r0["iti_median_s"] == pytest.approx(2.0)  # intervals 1, 2, 4
    assert r0["iti_cv"] == pytest.approx(np.std([1, 2, 4]) / np.mean([1, 2, 4]))
    assert r0["habituation_db_per_twitch"] == pytest.approx(20 * np.log10(0.5))
    assert r0["emg_amplitude_median_uV"] == pytest.approx(30.0)
    assert r0["emg_amplitude_max_uV"] == pytest.approx(80.0)
    assert r0["rejected"] == 1 and r0["contractions"] == 0
    assert np.isnan(r1["habituation_db_per_twitch"])  # fewer than 3 twitches
    assert r2["count"] == 0 and np.isnan(r2["first_latency_s"])
    assert r2["rejected"] == 1 and r2["contractions"] == 1
    whole = res.summary().iloc[0]  # by recording, the default
    assert whole["count"] == 5 and whole["rate_per_min"] == pytest.approx(3.0)
    overview = res.overview()
    assert [p["count"] for p in overview["per_epoch"]] == [4, 1, 0]
    assert overview["per_epoch"][0]["start_s"] == 10.0  # the same names as the tables
    assert overview["outside_epochs"] == 0
    with pytest.raises(ValueError, match="by must be 'recording'"):
        res.summary(by="muscle")


def test_summary_by_channel_and_mixed_units():
    ep = Epochs([0.0], [100.0])
    res = _results([1, 2, 3, 4], [1e-5, 2e-5, 0.3, 0.4], ep,
                   channels=["EMG a", "EMG a,EMG b", "ACC", "ACC"],
                   units=["V", "V", "m/s^2", "m/s^2"])
    rows = res.summary(by="channel").set_index("channel")
    assert rows.loc["EMG a", "count"] == 2 and rows.loc["EMG b", "count"] == 1
    whole = res.summary(by="recording").iloc[0]
    # one unit per column: EMG in µV, acceleration in m/s², never mixed by row
    assert whole["emg_amplitude_median_uV"] == pytest.approx(15.0)
    assert whole["emg_amplitude_max_uV"] == pytest.approx(20.0)
    assert whole["acc_amplitude_median_m_s2"] == pytest.approx(0.35)
    assert whole["acc_amplitude_max_m_s2"] == pytest.approx(0.4)
    assert not [c for c in whole.index if "amplitude" in c and not c.endswith(("_uV", "_m_s2"))]
    df = res.to_data_frame()
    np.testing.assert_allclose(df["amplitude_uV"], [10.0, 20.0, np.nan, np.nan],
                               rtol=1e-12)  # V -> µV is one multiplication
    np.testing.assert_allclose(df["amplitude_m_s2"], [np.nan, np.nan, 0.3, 0.4])
    assert "amplitude" not in df and "unit" not in df
    assert res.events["unit"].tolist() == ["V", "V", "m/s^2", "m/s^2"]  # arrays stay SI


def test_every_table_column_is_documented_with_its_unit():
    ep = Epochs([0.0], [100.0])
    res = _results([1, 2], [1e-5, 0.3], ep, channels=["EMG a", "ACC"], units=["V", "m/s^2"])
    for by, keys in (("recording", ["recording"]), ("epoch", ["epoch", "label", "source"]),
                     ("channel", ["channel"])):
        assert list(res.summary(by=by).columns) == keys + list(SUMMARY_COLUMNS)
    assert list(res.to_data_frame().columns) == list(EVENT_TABLE_COLUMNS)
    assert all(unit for _, unit in EVENT_TABLE_COLUMNS.values())
    # intervals are start_s/stop_s everywhere
    assert {"start_s", "stop_s"} <= set(res.epochs.to_data_frame().columns)
    # counts in ADC units get their own columns
    au = _results([1], [120.0], ep, channels=["EMG a"], units=["a.u."]).to_data_frame()
    assert au["amplitude_au"].tolist() == [120.0] and np.isnan(au["amplitude_uV"][0])


def test_cohort_table_rows_per_file_and_epoch(tmp_path):
    a = _results([12.0, 45.0], [1e-5, 1e-5], Epochs([10.0, 40.0], [30.0, 60.0]))
    b = _results([5.0], [1e-5], Epochs())
    rows = cohort_table([a, b], names=["s01_trapezius", "s02_trapezius"])
    assert isinstance(rows, pd.DataFrame)
    assert list(rows[["recording", "epoch", "count"]].itertuples(index=False, name=None)) == [
        ("s01_trapezius", 0, 1), ("s01_trapezius", 1, 1), ("s02_trapezius", -1, 1)]
    assert list(rows.columns) == ["recording", "epoch", "label", "source",
                                  *SUMMARY_COLUMNS]
    path = write_table(rows, tmp_path / "cohort.tsv")
    lines = path.read_text().splitlines()
    assert lines[0].split("\t")[:3] == ["recording", "epoch", "label"]
    assert len(lines) == 4 and "n/a" in lines[3]
    back = pd.read_csv(path, sep="\t")
    assert back.shape == rows.shape and list(back.columns) == list(rows.columns)
    # floats written with 10 significant digits
    np.testing.assert_allclose(back["rate_per_min"], rows["rate_per_min"], rtol=1e-9)
    with pytest.raises(FileExistsError):
        write_table(rows, path)
    assert cohort_table([]).columns.tolist() == list(rows.columns)
    with pytest.raises(ValueError, match="names for"):
        cohort_table([a], names=["x", "y"])
