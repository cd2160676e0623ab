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


# -- time columns written with few digits, irregular time, vendor layouts (issues 12, 13) ---
def _six_digit_csv(path, seconds=110.0, sfreq=2000.0):
    """A CSV whose time column has 6 significant digits: past 100 s at 2 kHz consecutive
    stamps repeat (100.000, 100.000, 100.001 ...)."""
    t = np.arange(int(seconds * sfreq)) / sfreq
    x = np.random.default_rng(0).normal(0, 10, t.size)
    path.write_text("time,EMG biceps [uV]\n"
                    + "\n".join(f"{a:.6g},{b:.3f}" for a, b in zip(t, x, strict=True)))
    return x


def test_time_column_with_six_significant_digits(tmp_path):
    path = tmp_path / "six.csv"
    x = _six_digit_csv(path)
    with pytest.warns(ltr.LtrDataWarning, match=r"six.csv: irregular time column 'time'.*"
                      r"stamps rounded to 1 ms.*uniform at 2000 Hz fitted to the time column"):
        rec = ltr.read(path)
    assert rec.sfreq == pytest.approx(2000.0, rel=1e-6)  # fit over 1000-sample lags
    assert rec.n_samples == x.size
    # the values were written with 3 decimals in µV: equal within half a digit
    np.testing.assert_allclose(rec.data[0], x * 1e-6, rtol=0, atol=0.5e-3 * 1e-6)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the user's rate overrides silently
        assert ltr.read(path, sfreq=2000).sfreq == 2000.0
        assert ltr.read(path, sfreq=2000, time_column=None).n_channels == 2


def test_truly_irregular_time_is_refused_with_ways_out(tmp_path):
    t = np.cumsum(np.random.default_rng(1).exponential(0.01, 400))  # event-like stamps
    path = tmp_path / "events.csv"
    path.write_text("time,EMG\n" + "\n".join(f"{v:.6f},1" for v in t))
    with pytest.raises(ValueError, match=r"events.csv: time column 'time' is irregular: stamps "
                       r"stray up to .* intervals\) from a uniform .*pass sfreq= .* or "
                       r"time_column=None"):
        ltr.read(path)
    assert ltr.read(path, sfreq=100.0, time_column=None).sfreq == 100.0


def test_time_going_back_offers_ways_out(tmp_path):
    path = tmp_path / "back.csv"
    path.write_text("time,EMG\n0,1\n0.001,2\n0.0005,3\n0.003,4\n")
    with pytest.raises(ValueError, match="not strictly increasing.*pass sfreq="):
        ltr.read(path)
    assert ltr.read(path, sfreq=1000).sfreq == 1000.0


def test_vicon_devices_csv_detected_from_its_header(tmp_path):
    path = tmp_path / "vicon.csv"
    rows = [f"{1 + i // 20},{i % 20},{i * 1e-3:.6g},{-i * 1e-5:.4E}" for i in range(60)]
    path.write_text("Devices,,,\n2000,,,\n,,Imported Analog EMG - Voltage,Delsys - Sensor 1\n"
                    "Frame,Sub Frame,1,EMG1\n,,V,mV\n" + "\n".join(rows) + "\n,,,\n"
                    "Trajectories,,,\n100,,,\n")
    rec = ltr.read(path)
    assert rec.sfreq == 2000.0
    assert rec.ch_names == ("Voltage.1", "EMG1")  # as Vicon names them in the C3D
    # the label says EMG1; the device's name "Analog EMG" is no evidence for Voltage.1
    assert rec.ch_kinds == ("misc", "emg")
    assert rec.meta["format"] == "Vicon Nexus Devices CSV"
    assert rec.n_samples == 60  # the Trajectories section is not data
    # mV -> V; the cells were written with 4 decimals of a mantissa: relative 1e-4
    np.testing.assert_allclose(rec.data[1], -np.arange(60) * 1e-8, rtol=1e-4, atol=1e-15)
    path.write_text(path.read_text().replace("\n1,5,", "\n1,7,"))
    with pytest.raises(ValueError, match="vicon.csv: line 11: frame 1, sub-frame 7 breaks"):
        ltr.read(path)


def test_vicon_devices_csv_real_file_equals_its_c3d(shared_data):
    pytest.importorskip("c3d")
    folder = shared_data / "c3d_pyomeca"
    csv = ltr.read(folder / "analogs_vicon_export.csv")
    c3d = ltr.read(folder / "markers_analogs.c3d")
    assert csv.sfreq == c3d.sfreq == 2000.0
    assert csv.n_samples == c3d.n_samples
    assert csv.ch_kinds[6:22] == ("emg",) * 16
    assert csv.ch_names[:6] == c3d.ch_names[:6] == tuple(f"Voltage.{i}" for i in range(1, 7))
    assert csv.ch_kinds[:6] == c3d.ch_kinds[:6] == ("misc",) * 6  # "Analog EMG::Voltage"
    emg1 = next(n for n in c3d.ch_names if n.endswith(".EMG1"))
    # the CSV holds 3 decimals of mantissa (-2.61E-05 V): half a unit of the last digit
    np.testing.assert_allclose(csv.get_data(picks="EMG1")[0], c3d.get_data(picks=emg1)[0],
                               rtol=0, atol=5.01e-8)


def test_pdkit_csv_detected_without_options(shared_data):
    path = shared_data / "pdkit_tremor_accel" / "subj2458_REST_TREMOR_AMPLITUDE_-_LEFT_HAND.csv"
    with pytest.warns(ltr.LtrDataWarning, match="irregular time column 'time'.*fitted"):
        rec = ltr.read(path)
    assert rec.meta["format"] == "cloudUPDRS/PDKit CSV"
    assert rec.ch_names == ("ACC X", "ACC Y", "ACC Z", "accuracy")
    assert rec.ch_kinds == ("acc", "acc", "acc", "misc")
    assert rec.sfreq == pytest.approx(100.0, rel=1e-3)  # a phone's nominal 100 Hz
