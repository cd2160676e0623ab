"""Vendor formats: Delsys, OpenBCI, BIOPAC, C3D, WFDB, XDF, and mixed sampling rates."""

from __future__ import annotations

import builtins

import numpy as np
import pytest
from scipy import signal

import ltr
from ltr.simulate import session

pytestmark = pytest.mark.shared_data


def test_delsys_mixed_rates(shared_data):
    path = shared_data / "delsys_trigno_csv" / "truncated_trigno_sample.csv"
    rec = ltr.read(path)
    assert rec.sfreq == pytest.approx(1259.259, rel=1e-5)
    assert rec.ch_kinds.count("emg") == 2 and rec.ch_kinds.count("acc") == 6
    assert set(rec.meta["rate_groups"]) == {"1259.26", "148.148"}
    assert len(rec.meta["resampled"]) == 12
    assert rec.sensors()["Mini sensor 10: ACC 10"] == [1, 2, 3]
    # g converted to m/s^2: the sensor at rest feels about one g
    norm = np.linalg.norm(rec.get_data(picks=[1, 2, 3])[:, 100:1000], axis=0)
    assert 8.0 < np.nanmedian(norm) < 12.0
    assert not np.isnan(rec.get_data(picks=0)).any()
    fast, slow = ltr.read(path, groups=True)
    assert (fast.n_channels, slow.n_channels) == (2, 12)
    assert slow.sfreq == pytest.approx(148.148, rel=1e-5)
    assert len(ltr.detect(rec).events["onset"]) >= 0  # the detector runs on it directly


def test_openbci_is_recognised(shared_data):
    rec = ltr.read(shared_data / "openbci_txt" / "OpenBCI_GUI-v6-blinks-jawClench-alpha.txt")
    assert rec.sfreq == 250.0 and rec.meta["format"] == "OpenBCI GUI text"
    exg = rec.ch_names.index("EXG Channel 0")
    assert rec.units[exg] == "V" and rec.orig_units[exg] == "uV"
    acc = rec.pick("acc")
    assert acc.units == ("m/s^2",) * 3
    res = ltr.detect(rec, emg=["EXG Channel 0"])
    assert "EXG Channel 0" in res.processing


def test_biopac(shared_data):
    pytest.importorskip("bioread")
    rec = ltr.read(shared_data / "biopac_acq" / "r42_test.acq")
    assert rec.sfreq == 1000.0 and rec.n_channels == 4
    assert "emg" in rec.ch_kinds
    assert len(rec.annotations) == 2
    groups = ltr.read(shared_data / "biopac_acq" / "physio-5.0.1.acq", groups=True)
    assert [g.sfreq for g in groups] == [2000.0, 1000.0, 3.90625]
    assert all(len(g.annotations) == 10 for g in groups)


def test_c3d_analogs(shared_data):
    pytest.importorskip("c3d")
    rec = ltr.read(shared_data / "c3d_pyomeca" / "markers_analogs.c3d")
    assert rec.sfreq == 2000.0 and rec.n_channels == 38
    assert rec.duration == pytest.approx(5.8)
    assert set(rec.units) == {"V"}


def _write_c3d(path, labels, descriptions, units):
    c3d = pytest.importorskip("c3d")
    w = c3d.Writer(point_rate=100.0, analog_rate=1000.0)
    rng = np.random.default_rng(0)
    w.add_frames([(np.zeros((1, 5), np.float32),
                   (rng.standard_normal((len(labels), 10)) * 1e-4).astype(np.float32))
                  for _ in range(50)])
    w.set_point_labels(["M1"])
    w.set_analog_labels(labels)
    for key, values in (("DESCRIPTIONS", descriptions), ("UNITS", units)):
        text, size = c3d.Writer.pack_labels(values)
        w.analog_group.add_str(key, key.lower(), text, size, len(values))
    with open(path, "wb") as fh:
        w.write(fh)
    return path


def test_c3d_kinds_come_from_labels_units_and_the_channel_part_of_descriptions(tmp_path):
    labels = [f"Voltage.{i}" for i in range(1, 4)] + ["Delt_ant.EMG1", "Sensor 2", "Accel X"]
    descs = [f"Analog EMG::Voltage [10,{i}]" for i in range(1, 4)] + [
        "Delsys Trigno EMG 2.0::Sensor 1 [11,1]", "Delsys::EMG 2 [12,1]", "Analog::X [13,1]"]
    path = _write_c3d(tmp_path / "t.c3d", labels, descs, ["V"] * 5 + ["g"])
    rec = ltr.read(path)
    assert rec.ch_names == tuple(labels) and rec.sfreq == 1000.0
    # Voltage.N of Vicon's generic "Analog EMG" device: misc (its name is no evidence);
    # a label or the channel part of the description saying EMG: emg
    assert rec.ch_kinds == ("misc", "misc", "misc", "emg", "emg", "acc")
    assert ltr.read(path, ch_kinds={"Voltage.1": "emg"}).ch_kinds[0] == "emg"


def test_wfdb_matches_the_raw_samples(shared_data):
    pytest.importorskip("wfdb")
    folder = shared_data / "physionet_emgdb"
    rec = ltr.read(folder / "emg_healthy.hea")
    assert rec.sfreq == 4000.0 and rec.ch_kinds == ("emg",) and rec.units == ("V",)
    hea = (folder / "emg_healthy.hea").read_text().split("\n")
    gain = float(hea[1].split()[2].split("/")[0].split("(")[0])
    raw = np.fromfile(folder / "emg_healthy.dat", "<i2") / gain * 1e-3
    np.testing.assert_allclose(rec.data[0], raw, atol=1e-12)
    assert ltr.read(folder / "emg_healthy.dat").n_samples == rec.n_samples


def test_missing_extra_names_it(shared_data, monkeypatch):
    real_import = builtins.__import__

    def fake(name, *args, **kwargs):
        if name == "bioread":
            raise ImportError("no bioread here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    monkeypatch.delitem(__import__("sys").modules, "bioread", raising=False)
    with pytest.raises(ImportError, match=r'pip install "ltr\[biopac\]"'):
        ltr.read(shared_data / "biopac_acq" / "r42_test.acq")


@pytest.mark.parametrize("groups", [False, True])
def test_fusion_across_two_rates(tmp_path, groups):
    """A session written like a Delsys export (EMG 2 kHz, ACC 148 Hz) is detected and
    fused as well as at one rate."""
    rec, truth = session(120, 2000, "emg+acc", seed=41, snr_db=(8, 22))
    emg = rec.data[0]
    acc = signal.resample_poly(rec.data[1:], 2, 27, axis=1)  # 148.148 Hz
    fs_acc = 2000 * 2 / 27
    path = tmp_path / "delsys_like.csv"
    lines = [f"Label: Sensor 1: EMG 1 Sampling frequency: 2.000000e+003 Number of points: "
             f"{emg.size} start: 0.000000e+000 Unit: V Domain Unit: s"]
    for ax in "XYZ":
        lines.append(f"Label: Sensor 1: ACC.{ax} 1 Sampling frequency: {fs_acc:.6e} Number of "
                     f"points: {acc.shape[1]} start: 0.000000e+000 Unit: g Domain Unit: s")
    lines.append("")
    names = ["Sensor 1: EMG 1"] + [f"Sensor 1: ACC.{ax} 1" for ax in "XYZ"]
    lines.append(",".join(f'X[s],"{n}"' for n in names))
    for i in range(emg.size):
        cells = [f"{i / 2000:.7g}", f"{emg[i]:.9g}"]
        for j in range(3):
            cells += ([f"{i / fs_acc:.7g}", f"{acc[j, i] / 9.80665:.9g}"]
                      if i < acc.shape[1] else ["", ""])
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    read = ltr.read(path, groups=groups)
    rec2 = read[0] if groups else read
    if groups:  # detect on each group and on a combined recording
        assert read[1].sfreq == pytest.approx(fs_acc)
        rec2 = ltr.read(path)
    res = ltr.detect(rec2)
    scores = res.compare(truth)
    assert scores["f1"] >= 0.9
    assert np.mean(res.events["modality"] == "emg+acc") > 0.6


def _write_xdf(path, numeric, markers):
    """A minimal XDF 1.0 writer (file header, stream headers, one samples chunk each)."""
    import struct

    def chunk(tag, content):
        body = struct.pack("<H", tag) + content
        return struct.pack("<BI", 4, len(body)) + body

    def header(name, n, rate, fmt, labels=(), unit=""):
        chans = "".join(f"<channel><label>{lab}</label><unit>{unit}</unit></channel>"
                        for lab in labels)
        return (f"<?xml version='1.0'?><info><name>{name}</name><type>EXG</type>"
                f"<channel_count>{n}</channel_count><nominal_srate>{rate}</nominal_srate>"
                f"<channel_format>{fmt}</channel_format><created_at>0</created_at>"
                f"<desc><channels>{chans}</channels></desc></info>").encode()

    out = bytearray(b"XDF:")
    out += chunk(1, b"<?xml version='1.0'?><info><version>1.0</version></info>")
    for sid, (name, rate, t0, data, labels, unit) in enumerate(numeric, start=1):
        out += chunk(2, struct.pack("<I", sid) + header(name, data.shape[1], rate, "float32",
                                                        labels, unit))
        samples = b"".join(struct.pack("<Bd", 8, t0 + i / rate) + row.astype("<f4").tobytes()
                           for i, row in enumerate(data))
        out += chunk(3, struct.pack("<I", sid) + struct.pack("<BI", 4, len(data)) + samples)
    sid = len(numeric) + 1
    out += chunk(2, struct.pack("<I", sid) + header("Markers", 1, 0, "string"))
    samples = b"".join(struct.pack("<Bd", 8, t) + struct.pack("<BI", 4, len(s)) + s.encode()
                       for t, s in markers)
    out += chunk(3, struct.pack("<I", sid) + struct.pack("<BI", 4, len(markers)) + samples)
    path.write_bytes(bytes(out))


def test_xdf_streams_with_their_own_rates_and_markers(tmp_path):
    pytest.importorskip("pyxdf")
    rng = np.random.default_rng(0)
    emg = rng.normal(0, 10, (4000, 2))  # 2 s at 2 kHz, in microvolts
    acc = rng.normal(0, 0.01, (150, 3)) + np.array([0, 0, 1.0])  # 1.5 s at 100 Hz, in g
    path = tmp_path / "session.xdf"
    _write_xdf(path, [("EMG amp", 2000.0, 100.0, emg, ["EMG L", "EMG R"], "microvolts"),
                      ("IMU", 100.0, 100.5, acc, ["ACC X", "ACC Y", "ACC Z"], "g")],
               [(100.2, "needle in"), (101.5, "needle out")])
    rec = ltr.read(path)
    assert rec.sfreq == 2000.0
    assert rec.ch_names[:2] == ("EMG amp: EMG L", "EMG amp: EMG R")
    assert rec.ch_kinds == ("emg", "emg", "acc", "acc", "acc")
    np.testing.assert_allclose(rec.data[0], emg[:, 0].astype("f4") * 1e-6, rtol=1e-6)
    # the IMU started 0.5 s later: NaN before it, then about one g on Z
    imu_z = rec.data[4]
    assert np.isnan(imu_z[:900]).all() and np.nanmean(imu_z[1100:3500]) == pytest.approx(
        9.80665, rel=0.01)
    np.testing.assert_allclose(rec.annotations.onset, [0.2, 1.5], atol=1e-6)
    groups = ltr.read(path, groups=True)
    assert [g.sfreq for g in groups] == [2000.0, 100.0]


def test_wfdb_annotation_files_become_annotations(tmp_path):
    wfdb = pytest.importorskip("wfdb")
    from ltr.io.vendor import quiet_third_party

    x = np.random.default_rng(1).normal(0, 0.05, (3000, 1))  # mV
    with quiet_third_party():  # wfdb's writer warns about its own use of pandas
        wfdb.wrsamp("rec", fs=1000, units=["mV"], sig_name=["EMG"], p_signal=x, fmt=["16"],
                    write_dir=str(tmp_path))
        wfdb.wrann("rec", "atr", np.array([500, 2200]), symbol=["+", "+"],
                   aux_note=["needle in", "needle out"], write_dir=str(tmp_path))
    rec = ltr.read(tmp_path / "rec.hea")
    assert rec.ch_kinds == ("emg",) and rec.units == ("V",)
    np.testing.assert_allclose(rec.data[0], x[:, 0] * 1e-3, atol=1e-6)
    np.testing.assert_allclose(rec.annotations.onset, [0.5, 2.2])
    assert list(rec.annotations.description) == ["needle in", "needle out"]
    assert ltr.detect(rec).epochs.source == "annotations"
