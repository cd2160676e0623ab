"""Readers fail with one exception type, ltr.ReadError, naming the file (issue 14)."""

from __future__ import annotations

import pickle

import pytest
from conftest import make_recording

import ltr
from ltr.cli import main


def _truncated_fif(tmp_path):
    path = tmp_path / "rec.fif"
    ltr.write(make_recording(), path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    return path


def _damaged(tmp_path, kind):
    if kind == "fif":
        return _truncated_fif(tmp_path)
    if kind == "npz":  # a zip signature and nothing behind it: zipfile.BadZipFile inside
        path = tmp_path / "rec.npz"
        path.write_bytes(b"PK\x03\x04" + bytes(100))
        return path
    if kind == "vhdr":  # configparser.DuplicateSectionError inside MNE
        path = tmp_path / "rec.vhdr"
        path.write_text("Brain Vision Data Exchange Header File Version 1.0\n"
                        "[Common Infos]\nDataFile=rec.eeg\n[Common Infos]\n")
        return path
    if kind == "h5":  # an HDF5 signature, then nothing: h5py's OSError inside
        path = tmp_path / "rec.h5"
        path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
        return path
    if kind == "edf":
        path = tmp_path / "rec.edf"
        path.write_bytes(b"0" + b" " * 300)
        return path
    path = tmp_path / "rec.csv"  # text: one header, no numbers
    path.write_text("a,b\nx,y\n")
    return path


@pytest.mark.parametrize("kind", ["fif", "npz", "vhdr", "h5", "edf", "csv"])
def test_damaged_files_raise_read_error_naming_the_file(tmp_path, kind):
    path = _damaged(tmp_path, kind)
    with pytest.raises(ltr.ReadError) as info:
        ltr.read(path).get_data()
    err = info.value
    assert isinstance(err, ValueError)  # callers catching ValueError keep working
    assert str(path) in str(err)
    assert err.path == path


def test_read_error_keeps_the_cause_and_pickles(tmp_path):
    path = _damaged(tmp_path, "vhdr")
    with pytest.raises(ltr.ReadError) as info:
        ltr.read(path)
    assert info.value.__cause__ is not None
    assert "DuplicateSectionError" in str(info.value)  # the third party's error is named
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is ltr.ReadError and str(again) == str(info.value)


def test_lazy_read_failure_is_a_read_error(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "rec.h5"
    ltr.write(make_recording(), path)
    rec = ltr.read(path)
    with h5py.File(path, "a") as f:  # the file changes under a lazy recording
        del f["data"]
    with pytest.raises(ltr.ReadError, match="rec.h5"):
        rec.get_data(0, 10)


def test_missing_file_and_unknown_option_keep_their_types(tmp_path):
    with pytest.raises(FileNotFoundError):
        ltr.read(tmp_path / "absent.edf")
    path = tmp_path / "rec.h5"
    ltr.write(make_recording(), path)
    with pytest.raises(TypeError, match="option not understood"):
        ltr.read(path, no_such_option=1)


@pytest.mark.parametrize("kind", ["fif", "npz", "vhdr", "h5"])
def test_cli_turns_a_read_error_into_one_line(tmp_path, capsys, kind):
    path = _damaged(tmp_path, kind)
    assert main(["info", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("ltr info: error: ") and str(path) in err[0]
    assert "Traceback" not in err[0] and "-v for the traceback" not in err[0]


def test_empty_file_is_a_read_error(tmp_path):
    path = tmp_path / "rec.npz"
    path.write_bytes(b"")
    with pytest.raises(ltr.ReadError, match="empty"):
        ltr.read(path)
