"""One conformance contract applied to every reader, through write-then-read round trips."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from conftest import make_recording

import ltr


def _write_brainvision(rec: ltr.Recording, path: Path) -> Path:
    pybv = pytest.importorskip("pybv")
    pybv.write_brainvision(
        data=rec.data, sfreq=rec.sfreq, ch_names=list(rec.ch_names), fname_base=path.stem,
        folder_out=path.parent, unit="µV",
        fmt="binary_float32", events=None,
    )
    return path.with_suffix(".vhdr")


def _write_npz(rec: ltr.Recording, path: Path) -> Path:
    from ltr.io import write_npz

    write_npz(rec, path)
    return path


# suffix -> (writer, absolute tolerance per unit, annotations kept?)
FORMATS = {
    ".edf": (ltr.write, {"V": 1e-8, "m/s^2": 2e-4, "": 1e-4}, True),
    ".bdf": (ltr.write, {"V": 1e-10, "m/s^2": 1e-6, "": 1e-6}, True),
    ".h5": (ltr.write, {"V": 0, "m/s^2": 0, "": 0}, True),
    ".csv": (ltr.write, {"V": 1e-20, "m/s^2": 1e-12, "": 1e-12}, False),
    ".tsv": (ltr.write, {"V": 1e-20, "m/s^2": 1e-12, "": 1e-12}, False),
    ".fif": (ltr.write, {"V": 1e-18, "m/s^2": 1e-12, "": 1e-12}, True),
    ".vhdr": (_write_brainvision, {"V": 1e-10, "m/s^2": 1e-6, "": 1e-6}, False),
    ".npz": (_write_npz, {"V": 0, "m/s^2": 0, "": 0}, False),
}


@pytest.fixture(params=sorted(FORMATS))
def written(request, tmp_path):
    suffix = request.param
    rec = make_recording(seed=3)
    if suffix == ".vhdr":  # BrainVision stores voltages: two EMG channels
        emg = rec.data[0]
        rec = ltr.Recording(np.vstack([emg, emg[::-1]]), rec.sfreq, ["EMG a", "EMG b"],
                            annotations=None)
    writer, tol, has_ann = FORMATS[suffix]
    path = writer(rec, tmp_path / f"rec{suffix}")
    return suffix, rec, Path(path), tol, has_ann


def test_reader_contract(written):
    suffix, original, path, tol, has_ann = written
    rec = ltr.read(path)
    # shape, names, kinds, units
    assert isinstance(rec, ltr.Recording)
    assert rec.sfreq == pytest.approx(original.sfreq)
    assert rec.n_samples == original.n_samples
    assert rec.ch_names == original.ch_names
    assert rec.ch_kinds == original.ch_kinds
    assert rec.units == original.units
    assert str(path) in rec.meta["source"]
    # data identical within the format's resolution, float64 C-contiguous
    data = rec.data
    assert data.dtype == np.float64 and data.flags.c_contiguous
    for i, unit in enumerate(rec.units):
        np.testing.assert_allclose(data[i], original.data[i], rtol=1e-14, atol=tol[unit],
                                   err_msg=f"{suffix} channel {rec.ch_names[i]}")
    if has_ann:
        assert list(rec.annotations.description) == list(original.annotations.description)
        np.testing.assert_allclose(rec.annotations.onset, original.annotations.onset, atol=1e-6)
        np.testing.assert_allclose(rec.annotations.duration, original.annotations.duration,
                                   atol=1e-6)


def test_block_reads_equal_full_read(written):
    _, _, path, _, _ = written
    lazy = ltr.read(path)
    full = ltr.read(path).data
    np.testing.assert_array_equal(lazy.get_data(123, 2345), full[:, 123:2345])
    np.testing.assert_array_equal(lazy.get_data(0, 10, picks=[0]), full[:1, :10])
    # crop and pick on a lazy recording stay lazy and read the right samples
    part = lazy.crop(1.0, 2.0).pick(0)
    np.testing.assert_array_equal(part.get_data(), full[:1, 1000:2000])


@pytest.mark.parametrize("suffix", [".edf", ".h5", ".fif"])
def test_mne_and_hdf5_readers_are_lazy(tmp_path, suffix):
    path = ltr.write(make_recording(), tmp_path / f"r{suffix}")
    rec = ltr.read(path)
    assert not rec.preloaded
    rec.get_data(0, 100)
    assert not rec.preloaded
    rec.load_data()
    assert rec.preloaded


def test_hdf5_round_trip_is_identical(tmp_path):
    rec = make_recording()
    rec.meas_date = dt.datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=dt.timezone.utc)
    rec.meta["subject"] = "S01"
    path = ltr.write_hdf5(rec, tmp_path / "r.h5")
    back = ltr.read(path, preload=True)
    np.testing.assert_array_equal(back.data, rec.data)
    assert back.orig_units == rec.orig_units
    assert back.annotations == rec.annotations
    assert back.meas_date == rec.meas_date
    assert back.meta["subject"] == "S01"
    import h5py

    with h5py.File(path) as f:
        assert f["data"].chunks is not None and f["data"].compression == "gzip"
        assert f.attrs["ltr_format_version"] == 1


def test_writers_refuse_to_overwrite(tmp_path):
    rec = make_recording()
    for suffix in (".edf", ".h5", ".csv", ".fif"):
        path = ltr.write(rec, tmp_path / f"r{suffix}")
        with pytest.raises(FileExistsError, match="exists; pass overwrite=True"):
            ltr.write(rec, path)
        ltr.write(rec, path, overwrite=True)


def test_bipolar_on_lazy_equals_eager(tmp_path):
    rng = np.random.default_rng(2)
    mono = ltr.Recording(rng.normal(0, 1e-5, (3, 3000)), 1000, ["EXG1", "EXG2", "EXG3"],
                         ["misc"] * 3, units=["V"] * 3)
    path = ltr.write(mono, tmp_path / "m.bdf")
    mapping = {"EMG a": ("EXG1", "EXG2"), "EMG b": ("EXG3", "EXG2")}
    lazy = ltr.read(path, bipolar=mapping)
    eager = ltr.read(path, preload=True, bipolar=mapping)
    assert lazy.ch_names == ("EMG a", "EMG b") and lazy.ch_kinds == ("emg", "emg")
    np.testing.assert_allclose(lazy.get_data(500, 900), eager.data[:, 500:900])
    np.testing.assert_allclose(eager.data[0], mono.data[0] - mono.data[1], atol=1e-10)


def test_ch_kinds_override_through_read(tmp_path):
    rec = ltr.Recording(np.zeros((2, 1000)), 1000, ["EXG1", "EXG2"], units=["V", "V"])
    path = ltr.write(rec, tmp_path / "x.edf")
    assert ltr.read(path).ch_kinds == ("misc", "misc")
    assert ltr.read(path, ch_kinds={"EXG1": "emg"}).ch_kinds == ("emg", "misc")
    with pytest.raises(ValueError, match=r"x.edf: ch_kinds names channel\(s\) \['EXG9'\]"):
        ltr.read(path, ch_kinds={"EXG9": "emg"})


def test_brainvision_markers_become_annotations(tmp_path):
    pybv = pytest.importorskip("pybv")
    data = np.random.default_rng(0).normal(0, 1e-5, (1, 4000))
    pybv.write_brainvision(data=data, sfreq=1000, ch_names=["EMG a"], fname_base="bv",
                           folder_out=tmp_path, events=np.array([[1000, 1], [2500, 2]]),
                           unit="µV")
    rec = ltr.read(tmp_path / "bv.vhdr")
    np.testing.assert_allclose(rec.annotations.onset, [1.0, 2.5])
    assert list(rec.annotations.description) == ["Stimulus/S  1", "Stimulus/S  2"]
    np.testing.assert_allclose(rec.data[0], data[0], atol=1e-10)
