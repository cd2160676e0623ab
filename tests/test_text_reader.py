"""Delimited text: headers with units, preambles, time columns, vendor comment headers."""

from __future__ import annotations

import numpy as np
import pytest

import ltr


def test_units_in_headers_are_converted(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("time [s],EMG trapezius [uV],ACC X (g),Marker\n0,10,1,0\n0.0005,20,0.5,1\n"
                    "0.001,-30,0,0\n")
    rec = ltr.read(path)
    assert rec.sfreq == pytest.approx(2000.0)
    assert rec.ch_names == ("EMG trapezius", "ACC X", "Marker")
    assert rec.ch_kinds == ("emg", "acc", "trigger")
    assert rec.orig_units == ("uV", "g", "")
    np.testing.assert_allclose(rec.data[0], [10e-6, 20e-6, -30e-6])
    np.testing.assert_allclose(rec.data[1], [9.80665, 4.903325, 0.0])
    assert rec.meta["first_time"] == 0.0


def test_time_in_ms_and_explicit_units(tmp_path):
    path = tmp_path / "ms.tsv"
    path.write_text("t (ms)\tmuscle\n" + "\n".join(f"{i}\t{i % 7}" for i in range(10)))
    rec = ltr.read(path, units={"muscle": "mV"}, ch_kinds={"muscle": "emg"})
    assert rec.sfreq == pytest.approx(1000.0)
    assert rec.ch_kinds == ("emg",) and rec.units == ("V",)
    np.testing.assert_allclose(rec.data[0][:3], [0, 1e-3, 2e-3])


def test_vendor_preamble_is_skipped_and_kept(tmp_path):
    path = tmp_path / "vendor.csv"
    path.write_text("Noraxon export\nSubject: S01\nRate 1500 Hz\n\ntime,EMG L [uV],EMG R [uV]\n"
                    + "\n".join(f"{i / 1500},{i},{-i}" for i in range(30)))
    rec = ltr.read(path)
    assert rec.ch_names == ("EMG L", "EMG R")
    assert rec.meta["preamble"][:2] == ["Noraxon export", "Subject: S01"]
    rec2 = ltr.read(path, skip_until="time,EMG")
    np.testing.assert_array_equal(rec.data, rec2.data)
    with pytest.raises(ValueError, match="skip_until='Header:' does not occur"):
        ltr.read(path, skip_until="Header:")


def test_comment_header_states_rate_labels_units(tmp_path):
    path = tmp_path / "opensignals.txt"
    path.write_text("# Simple Text Format\n# Sampling Rate (Hz):= 100.00\n# Units:= m/s^2\n"
                    "# Labels:= acc_x\tacc_y\tacc_z\n"
                    + "\n".join("0.1\t0.2\t9.8" for _ in range(20)))
    rec = ltr.read(path)
    assert rec.sfreq == 100.0
    assert rec.ch_names == ("acc_x", "acc_y", "acc_z")
    assert rec.sensors() == {"acc": [0, 1, 2]}
    assert rec.units == ("m/s^2",) * 3


def test_irregular_time_warns(tmp_path):
    t = np.cumsum(np.r_[0, np.full(50, 0.01)])
    t[30:] += 0.05  # a 50 ms hole
    path = tmp_path / "irr.csv"
    path.write_text("timestamp,acc_x\n" + "\n".join(f"{v:.4f},1" for v in t))
    with pytest.warns(ltr.LtrDataWarning, match=r"irregular time column 'timestamp'.*1 gap\(s\) "
                      r"longer than 1.5 intervals, at 0.290 s"):
        rec = ltr.read(path)
    assert rec.sfreq == pytest.approx(100.0)


def test_exclude_text_column_and_duplicate_names(tmp_path):
    path = tmp_path / "obci.txt"
    path.write_text("%Sample Rate = 250 Hz\nidx, EXG 0, Not Used, Not Used, Stamp\n"
                    + "\n".join(f"{i}, {i * 0.5}, 0, 0, 12:00:{i:02d}" for i in range(20)))
    with pytest.raises(ValueError, match="column 'Stamp': '12:00:00' is not a number"):
        ltr.read(path)
    rec = ltr.read(path, exclude=["Stamp"])
    assert rec.sfreq == 250.0
    assert rec.ch_names == ("idx", "EXG 0", "Not Used", "Not Used (2)")


def test_csv_round_trip_with_tab(tmp_path):
    from conftest import make_recording

    rec = make_recording()
    path = ltr.write_csv(rec, tmp_path / "r.tsv", delimiter="\t")
    back = ltr.read(path)
    np.testing.assert_allclose(back.data, rec.data, rtol=1e-14, atol=1e-20)
    assert back.ch_kinds == rec.ch_kinds
