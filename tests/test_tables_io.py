"""Tables out (csv-module quoting, pandas round trips) and pandas / MNE objects in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest

import ltr
from ltr.results import EVENT_TABLE_COLUMNS

SAMPLE = Path(__file__).resolve().parents[1] / "recordings" / "sample_emg_acc.edf"


@pytest.fixture(scope="module")
def detected():
    rec = ltr.read(SAMPLE)
    return rec, ltr.detect(rec)


@pytest.fixture(scope="module")
def raw():
    """An mne.io.Raw read from EDF, with the file's meas_date."""
    raw = mne.io.read_raw_edf(SAMPLE, preload=True, verbose="error")
    assert raw.info["meas_date"] is not None and raw.annotations.orig_time is not None
    return raw


# -- tables out ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["events.csv", "events.tsv"])
@pytest.mark.parametrize("per_channel", [False, True])
def test_events_files_round_trip_through_pandas(detected, tmp_path, name, per_channel):
    _, res = detected
    fused = res.events["channels"]
    assert any("," in c for c in fused), "the sample needs a twitch seen on EMG and ACC"
    path = res.write_events(tmp_path / name, per_channel=per_channel)
    back = pd.read_csv(path, sep="," if name.endswith(".csv") else "\t")
    table = res.to_data_frame("channel_events" if per_channel else "events")
    assert len(back) == len(table)
    assert set(table.columns) <= set(back.columns)
    # the comma in "EMG trapezius,ACC" stays inside its field: nothing shifts
    assert back["channels"].tolist() == table["channels"].tolist()
    assert back["modality"].tolist() == table["modality"].tolist()
    assert back["epoch"].tolist() == table["epoch"].tolist()
    for col in ("onset", "duration", "amplitude_uV", "amplitude_m_s2", "snr_db"):
        # written with 10 significant digits: 1e-9 relative covers the rounding
        np.testing.assert_allclose(back[col], table[col], rtol=1e-9, equal_nan=True,
                                   err_msg=col)


def test_write_table_quotes_delimiters_quotes_and_line_breaks(tmp_path):
    df = pd.DataFrame({"path": ["a,b.edf", "tab\there.edf", 'say "hi".edf', "new\nline.edf"],
                       "value": [1.5, np.nan, 3.0, 4.0], "n": [1, 2, 3, 4]})
    for suffix, sep in ((".csv", ","), (".tsv", "\t")):
        path = ltr.write_table(df, tmp_path / f"t{suffix}")
        back = pd.read_csv(path, sep=sep)
        assert back["path"].tolist() == df["path"].tolist()
        assert back["n"].tolist() == [1, 2, 3, 4]
        assert np.isnan(back["value"][1]) and back["value"][0] == 1.5
    rows = ltr.write_table(df.to_dict("records"), tmp_path / "rows.tsv")  # dicts still work
    assert pd.read_csv(rows, sep="\t")["path"].tolist() == df["path"].tolist()
    with pytest.raises(ValueError, match=r"t\.xlsx.*\.tsv or \.csv"):
        ltr.write_table(df, tmp_path / "t.xlsx")


def test_bids_events_columns_carry_one_unit_each(detected, tmp_path):
    import json

    _, res = detected
    path = res.to_bids_events(tmp_path / "sub-01_events.tsv")
    back = pd.read_csv(path, sep="\t")
    assert list(back.columns[:3]) == ["onset", "duration", "trial_type"]
    side = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert side["amplitude_uV"]["Units"] == "µV" and side["amplitude_m_s2"]["Units"] == "m/s^2"
    assert "amplitude" not in back and "unit" not in back
    # every column of the file is described in the sidecar
    assert set(back.columns) - {"trial_type"} <= set(side)
    emg = res.events["unit"] == "V"
    # µV from V: one multiplication by 1e6, then 10 significant digits in the file
    np.testing.assert_allclose(back["amplitude_uV"][emg], res.events["amplitude"][emg] * 1e6,
                               rtol=1e-9)
    # the jolt: of every twitch the accelerometer saw (emg+acc too), n/a for EMG alone
    mod = res.events["modality"]
    assert back["amplitude_m_s2"][mod == "emg"].isna().all()
    assert back["amplitude_m_s2"][mod == "emg+acc"].notna().all()
    np.testing.assert_allclose(back["amplitude_m_s2"], res.events["jolt_amplitude"],
                               rtol=1e-9, equal_nan=True)  # 10 significant digits
    assert "jolt" in side["amplitude_m_s2"]["Description"]


def test_every_events_column_has_a_documented_unit(detected, tmp_path):
    """Whatever the units of the primary channels (EMG, acceleration, ADC counts,
    ultrasound mm/s and px/s), every column of the events table, and so of the TSV, has a
    description and a unit (``rise_time``, ``median_freq``, ``offset``, ``duration`` carry
    theirs in the sidecar, not in the name)."""
    import copy
    import json

    from ltr.results import (
        EVENT_TABLE_COLUMNS,
        EVENT_TABLE_COLUMNS_AU,
        EVENT_TABLE_COLUMNS_US,
    )

    documented = {**EVENT_TABLE_COLUMNS, **EVENT_TABLE_COLUMNS_AU, **EVENT_TABLE_COLUMNS_US}
    _, res = detected
    mixed = copy.copy(res)
    n = len(res)
    assert n >= 5
    units = np.array(["V", "m/s^2", "counts", "mm/s", "px/s"] * n, dtype=object)[:n]
    mixed.events = {**res.events, "unit": units}
    df = mixed.to_data_frame()
    assert {"amplitude_au", "amplitude_mm_s", "area_px"} <= set(df.columns)
    for col in df.columns:
        description, unit = documented[col]
        assert description and unit, col
    for col in ("rise_time", "duration", "offset", "peak_time"):
        assert documented[col][1] == "s"
    assert documented["median_freq"][1] == "Hz"
    path = mixed.to_bids_events(tmp_path / "mixed_events.tsv")
    side = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    header = path.read_text(encoding="utf-8").splitlines()[0].split("\t")
    for col in header:
        assert side[col]["Description"], col
        assert col == "trial_type" or side[col]["Units"], col
    assert side["rise_time"]["Units"] == "s" and side["median_freq"]["Units"] == "Hz"
    assert side["amplitude_mm_s"]["Units"] == "mm/s" and side["area_px"]["Units"] == "px"


def test_rejected_and_contraction_tables(detected):
    _, res = detected
    rej = res.to_data_frame("rejected")
    assert len(rej) == res.rejected["onset"].size
    acc = rej["channel"] == "ACC"
    assert rej["amplitude_uV"][acc].isna().all() and rej["amplitude_m_s2"][~acc].isna().all()
    np.testing.assert_allclose(rej["duration"], rej["offset"] - rej["onset"])
    assert set(res.to_data_frame("contractions").columns) >= {"onset", "offset", "rms_uV"}
    with pytest.raises(ValueError, match="table must be"):
        res.to_data_frame("epochs")
    assert list(res.to_data_frame().columns) == list(EVENT_TABLE_COLUMNS)


# -- pandas in ----------------------------------------------------------------------------
def _frame(rec: ltr.Recording, index=None) -> pd.DataFrame:
    return pd.DataFrame(rec.data.T, columns=list(rec.ch_names), index=index)


def test_data_frame_samples_in_rows_channels_in_columns(detected):
    rec, res = detected
    df = _frame(rec)  # 180000 x 4, the pandas / NeuroKit2 layout
    assert df.shape == (180_000, 4)
    from_df = ltr.Recording(df, rec.sfreq)
    assert from_df.ch_names == rec.ch_names and from_df.n_samples == 180_000
    assert from_df.ch_kinds == rec.ch_kinds
    np.testing.assert_array_equal(from_df.data, rec.data)  # a transpose copies exactly
    read = ltr.read(df, sfreq=rec.sfreq)
    assert read.n_channels == 4
    got = ltr.detect(df, rec.sfreq)
    assert len(got) == len(res)
    np.testing.assert_allclose(got.onset, res.onset, atol=0.5 / rec.sfreq)  # same samples
    back = rec.to_data_frame()
    assert back.shape == (180_000, 4) and back.index.name == "time_s"
    assert ltr.Recording(back).sfreq == rec.sfreq  # the float index in seconds


def test_sampling_rate_and_start_from_the_index():
    n, fs = 5000, 2048.0
    x = np.random.default_rng(0).normal(0, 1e-5, (n, 2))
    start = pd.Timestamp("2026-03-01 10:00:00")
    stamps = pd.date_range(start, periods=n, freq=pd.Timedelta(seconds=1 / fs))
    rec = ltr.Recording(pd.DataFrame(x, index=stamps, columns=["EMG a", "EMG b"]))
    assert rec.sfreq == fs  # ns time stamps rounded: the rate is recovered whole
    assert rec.meas_date == dt.datetime(2026, 3, 1, 10, tzinfo=dt.timezone.utc)
    td = ltr.Recording(pd.DataFrame(x, index=pd.to_timedelta(np.arange(n) / fs, unit="s")))
    assert td.sfreq == fs and td.ch_names == ("0", "1")
    seconds = ltr.read(pd.Series(x[:, 0], index=np.arange(n) / fs, name="EMG trapezius"))
    assert seconds.sfreq == fs and seconds.ch_names == ("EMG trapezius",)
    assert seconds.ch_kinds == ("emg",)


def test_data_frame_errors_say_what_to_do():
    x = np.zeros((100, 2))
    with pytest.raises(TypeError, match="pass sfreq="):
        ltr.Recording(pd.DataFrame(x))  # a RangeIndex counts rows, not seconds
    irregular = np.cumsum(np.r_[0, np.ones(98) * 0.001, 0.5])
    with pytest.raises(ValueError, match="not regularly sampled"):
        ltr.Recording(pd.DataFrame(x, index=irregular))
    with pytest.raises(ValueError, match="sampled at 1000 Hz"):
        ltr.Recording(pd.DataFrame(x, index=np.arange(100) / 1000.0), 500.0)
    with pytest.raises(TypeError, match=r"\['label'\] are not numeric"):
        ltr.Recording(pd.DataFrame({"EMG": np.zeros(3), "label": ["a", "b", "c"]}), 1000.0)
    with pytest.raises(TypeError, match="not understood when reading a pandas table"):
        ltr.read(pd.DataFrame(x), sfreq=1000.0, preload=True)


def test_a_tall_bare_array_is_refused_with_the_way_to_pass_it():
    x = np.zeros((180_000, 4))
    with pytest.raises(ValueError, match=r"180000 channels of 4 samples.*data\.T.*DataFrame"):
        ltr.Recording(x, 2000.0)
    with pytest.raises(ValueError, match=r"data\.T"):
        ltr.detect(x, 2000.0)
    assert ltr.Recording(x.T, 2000.0).n_channels == 4
    assert ltr.Recording(np.zeros((8, 3)), 2000.0).n_channels == 8  # small arrays pass


# -- MNE ----------------------------------------------------------------------------------
def test_read_an_mne_raw(raw, detected):
    rec, _ = detected
    got = ltr.read(raw)
    # a Raw keeps MNE's names: the EDF writer's type prefix (``MISC ACC X``) is taken off
    # by ltr's EDF reader only (ltr.io._mne.edf_label)
    assert [n.removeprefix("MISC ") for n in got.ch_names] == list(rec.ch_names)
    assert got.ch_kinds == rec.ch_kinds
    assert got.meas_date == raw.info["meas_date"]
    np.testing.assert_allclose(got.data, rec.data)
    with pytest.raises(TypeError, match="not understood when reading an mne.io.Raw"):
        ltr.read(raw, sfreq=2000.0)


def test_annotate_a_raw_keeps_its_orig_time(raw, detected):
    _, res = detected
    out = ltr.annotate(raw, res, with_rejected=False)
    assert isinstance(out, mne.io.BaseRaw)
    assert out.annotations.orig_time == raw.annotations.orig_time
    tw = out.annotations[out.annotations.description == "twitch"]
    assert len(tw) == len(res)
    # onsets are stored in ms-precision by MNE's float arithmetic: 1 µs is ample
    np.testing.assert_allclose(tw.onset, res.onset, atol=1e-6)
    assert len(out.annotations) == len(raw.annotations) + len(res)
    assert len(raw.annotations) < len(out.annotations)  # the input is not changed


def test_annotate_a_cropped_raw_counts_from_its_first_sample(raw):
    cropped = raw.copy().crop(tmin=20.0)
    assert cropped.first_samp > 0
    res = ltr.detect(cropped)
    out = ltr.annotate(cropped, res, with_rejected=False)
    tw = out.annotations[out.annotations.description == "twitch"]
    # MNE onsets count from orig_time; the first sample is first_time after it
    np.testing.assert_allclose(tw.onset - cropped.first_time, res.onset, atol=1e-6)
    added = cropped.annotations + res.to_annotations().to_mne(cropped.annotations.orig_time)
    np.testing.assert_allclose(np.sort(added.onset[added.description == "twitch"])
                               - cropped.first_time, res.onset, atol=1e-6)


def test_results_annotations_line_up_with_the_raw(raw):
    res = ltr.detect(raw)
    ann = res.to_annotations().to_mne()
    assert ann.orig_time == raw.annotations.orig_time
    both = raw.annotations + ann
    assert len(both) == len(raw.annotations) + len(res)
    raw2 = raw.copy().set_annotations(both)
    assert int(np.sum(raw2.annotations.description == "twitch")) == len(res)


def test_export_annotated_from_a_raw_types_channels_for_mne(raw, tmp_path):
    res = ltr.detect(raw)
    path = ltr.export_annotated(raw, res, tmp_path / "annotated.edf")
    back = mne.io.read_raw_edf(path, infer_types=True, verbose="error")
    types = dict(zip(back.ch_names, back.get_channel_types(), strict=True))
    assert types == {"trapezius": "emg", "ACC X": "misc", "ACC Y": "misc", "ACC Z": "misc"}
    assert back.info["meas_date"] == raw.info["meas_date"]
    assert int(np.sum(back.annotations.description == "twitch")) == len(res)
    # ltr reads its own export back under the original names
    rec = ltr.read(path)
    assert rec.ch_names == ("EMG trapezius", "ACC X", "ACC Y", "ACC Z")
    assert rec.ch_kinds == ("emg", "acc", "acc", "acc")


def test_cli_events_csv_reads_back_with_pandas(detected, tmp_path, capsys):
    from ltr.cli import main

    _, res = detected
    path = tmp_path / "events.csv"
    assert main(["detect", str(SAMPLE), "-o", str(path)]) == 0
    capsys.readouterr()
    back = pd.read_csv(path)
    assert back.shape == (len(res), len(EVENT_TABLE_COLUMNS))
    assert back["channels"].tolist() == res.events["channels"].tolist()
    assert (back["modality"] == res.events["modality"]).all()


def test_a_dataframe_with_channels_in_rows_is_refused_at_once():
    # fresh-eyes trial: 4 channels x 180 000 samples as rows ran for > 10 min at 1.3 GB
    import pandas as pd

    wide = pd.DataFrame(np.zeros((4, 180_000)), index=["EMG", "ACC X", "ACC Y", "ACC Z"])
    with pytest.raises(ValueError, match=r"180000 channels of 4 samples.*pass df\.T"):
        ltr.detect(wide, sfreq=2000)
    with pytest.raises(ValueError, match=r"pass df\.T"):
        ltr.read(wide, sfreq=2000)


def test_written_tables_get_the_umask_mode_not_mkstemp_0600(tmp_path):
    import os
    import stat

    from ltr.io.tables import write_delimited

    old = os.umask(0o022)
    try:
        p = write_delimited(tmp_path / "ev.tsv", ["a"], [[1]])
        assert stat.S_IMODE(p.stat().st_mode) == 0o644
        os.umask(0o077)
        q = write_delimited(tmp_path / "private.tsv", ["a"], [[1]])
        assert stat.S_IMODE(q.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_json_output_is_strict_json_without_nan():
    import json

    sim, _ = ltr.simulate.session(30, 2000, "emg", 2)
    # no annotations: epochs from needling activity, whose first latency is NaN
    rec = ltr.Recording(sim.data, sim.sfreq, sim.ch_names, sim.ch_kinds)
    res = ltr.detect(rec)
    assert not np.isfinite(res.overview()["per_epoch"][0]["first_latency_s"])

    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    doc = json.loads(res.to_json(), parse_constant=refuse)  # NaN/Infinity would raise
    assert "summary" in doc
