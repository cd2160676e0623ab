"""Bad input: every failure names the file and the problem."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_recording

import ltr


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.edf: no such file"):
        ltr.read(tmp_path / "nope.edf")


@pytest.mark.parametrize("suffix", [".edf", ".bdf", ".csv", ".h5", ".npz", ".vhdr", ".fif"])
def test_empty_file(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=f"empty{suffix}: the file is empty"):
        ltr.read(path)


def test_directory_is_not_a_file(tmp_path):
    d = tmp_path / "dir.edf"
    d.mkdir()
    with pytest.raises(IsADirectoryError, match="is a directory"):
        ltr.read(d)


def test_unsupported_suffix_lists_supported(tmp_path):
    path = tmp_path / "x.wav"
    path.write_bytes(b"RIFF")
    with pytest.raises(ValueError, match=r"unsupported file type '.wav'.*\.edf \(EDF/EDF\+\)"):
        ltr.read(path)


@pytest.mark.parametrize("suffix", [".edf", ".bdf"])
def test_truncated_edf_bdf(tmp_path, suffix):
    path = ltr.write(make_recording(), tmp_path / f"t{suffix}")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 5000])
    with pytest.raises(ValueError, match=f"t{suffix}: truncated .DF file: the header declares 4 "
                                         r"data records .* but the file has"):
        ltr.read(path)
    path.write_bytes(raw[:100])
    with pytest.raises(ValueError, match="not an EDF/BDF file: only 100 bytes"):
        ltr.read(path)


def test_garbage_edf(tmp_path):
    path = tmp_path / "g.edf"
    path.write_bytes(b"x" * 600)
    with pytest.raises(ValueError, match="g.edf: malformed EDF/BDF header"):
        ltr.read(path)


def test_wrong_delimiter_is_explained(tmp_path):
    path = tmp_path / "tab.csv"
    path.write_text("time\tEMG [uV]\n0\t1\n0.001\t2\n0.002\t3\n")
    with pytest.raises(ValueError, match=r"delimiter=',' gives one column.*pass delimiter='\\t'"):
        ltr.read(path, delimiter=",")
    assert ltr.read(path).ch_names == ("EMG",)  # detected without the option


def test_non_numeric_cell_is_located(tmp_path):
    path = tmp_path / "bad.csv"
    rows = [f"{i / 1000},{i}" for i in range(20)]
    rows[8] = "0.008,abc"
    path.write_text("time,EMG [uV]\n" + "\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=r"bad.csv: line 10, column 'EMG': 'abc' is not a number"):
        ltr.read(path)


@pytest.mark.parametrize(("header", "first", "where"), [
    ("time,EMG [uV]\n", "0.000,abc", r"line 2, column 'EMG': 'abc'"),
    ("", "0.000,abc", r"line 1, column 'ch2': 'abc'"),  # no header row at all
    ("time,EMG a,EMG b\n", "0.000,abc,x", r"line 2, column 'EMG a': 'abc'"),
    ("EMG a,EMG b\n", "1.5,abc", r"line 2, column 'EMG b': 'abc'"),
])
def test_text_cell_in_the_first_data_row_is_located_not_read_as_header(tmp_path, header,
                                                                         first, where):
    path = tmp_path / "first.csv"
    n = first.count(",") + 1
    rows = [",".join([f"{i / 1000}"] + [str(i)] * (n - 1)) for i in range(1, 20)]
    path.write_text(header + first + "\n" + "\n".join(rows) + "\n")
    # the row is data with a bad cell: file, line, column and value are named, with or
    # without sfreq= (with it, the row used to become the channel names)
    for options in ({}, {"sfreq": 1000.0}):
        with pytest.raises(ltr.ReadError, match=rf"first.csv: {where} is not a number"):
            ltr.read(path, **options)


def test_ragged_rows(tmp_path):
    path = tmp_path / "ragged.csv"
    rows = "\n".join(f"{i / 100},{i},{i}" for i in range(20))
    path.write_text("time,a,b\n" + rows + "\n0.2,5\n")
    with pytest.raises(ValueError, match="ragged.csv: line 22 has 2 fields, expected 3"):
        ltr.read(path)


def test_time_not_monotonic(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("time,EMG\n0,1\n0.001,2\n0.0005,3\n0.003,4\n")
    with pytest.raises(ValueError, match=r"t.csv: time column 'time' is not strictly increasing: "
                                         r"line 4 has t=0.0005 after t=0.001"):
        ltr.read(path)


@pytest.mark.parametrize("sfreq", [0, -100.0])
def test_bad_sampling_rate(tmp_path, sfreq):
    path = tmp_path / "nosr.csv"
    path.write_text("EMG\n1\n2\n3\n")
    with pytest.raises(ValueError, match=f"nosr.csv: sfreq must be a finite positive.*{sfreq}"):
        ltr.read(path, sfreq=sfreq)
    with pytest.raises(ValueError, match="nosr.csv: cannot tell the sampling rate"):
        ltr.read(path)
    npz = tmp_path / "bad.npz"
    np.savez(npz, data=np.zeros((1, 10)), sfreq=sfreq)
    with pytest.raises(ValueError, match="bad.npz: sfreq must be a finite positive"):
        ltr.read(npz)


def test_nan_gaps_warn_with_positions(tmp_path):
    path = tmp_path / "gaps.csv"
    values = ["1"] * 100
    values[10:15] = [""] * 5
    values[50] = "NaN"
    path.write_text("EMG [uV]\n" + "\n".join(values) + "\n")
    with pytest.warns(ltr.LtrDataWarning, match=r"gaps.csv: missing samples kept as NaN: channel "
                      r"'EMG': 2 NaN gap\(s\), 6 samples, at 0.100 s \(\+5 samples\), "
                      r"0.500 s \(\+1 samples\)"):
        rec = ltr.read(path, sfreq=100)
    assert np.isnan(rec.data).sum() == 6  # kept, not dropped or filled


def test_sfreq_disagreeing_with_time_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("time,EMG\n" + "\n".join(f"{i / 1000},{i}" for i in range(50)))
    with pytest.raises(ValueError, match="sfreq=500 Hz disagrees with the time column"):
        ltr.read(path, sfreq=500)


def test_unknown_reader_option(tmp_path):
    path = ltr.write(make_recording(), tmp_path / "r.h5")
    with pytest.raises(TypeError, match="option not understood by the HDF5"):
        ltr.read(path, skip_until="x")


def test_hdf5_without_data(tmp_path):
    import h5py

    path = tmp_path / "foreign.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("signals", data=np.zeros(4))
    with pytest.raises(ValueError, match=r"foreign.h5: no '/data' dataset; datasets: \['sign"):
        ltr.read(path)
    path.write_bytes(b"not hdf5 at all")
    with pytest.raises(ValueError, match="not a readable HDF5 file"):
        ltr.read(path)


def test_edf_writer_refuses_nan_and_long_labels(tmp_path):
    rec = make_recording()
    rec.data[0, 5] = np.nan
    with pytest.raises(ValueError, match="channel 'EMG trapezius' contains 1 NaN samples"):
        ltr.write(rec, tmp_path / "n.edf")
    long = ltr.Recording(np.zeros((1, 100)), 100, ["EMG of the right upper trapezius"])
    with pytest.raises(ValueError, match="at most 16 characters"):
        ltr.write(long, tmp_path / "l.edf")


def test_edf_writer_refuses_a_length_no_record_can_hold(tmp_path):
    # 64651 samples at 1037 Hz: no record length near 1 s tiles it, and one record of
    # 62.3442623... s does not fit the header's 8 characters (was edfio's own error)
    rec = ltr.Recording(np.zeros((1, 64651)), 1037.0, ["EMG"], ch_kinds=["emg"])
    with pytest.raises(ValueError, match=r"8 characters.*whole number of seconds"):
        ltr.write_edf(rec, tmp_path / "x.edf")
    ok = ltr.Recording(np.zeros((1, 1037 * 3)), 1037.0, ["EMG"], ch_kinds=["emg"])
    assert ltr.read(ltr.write_edf(ok, tmp_path / "y.edf")).n_samples == 1037 * 3


def test_a_folder_without_a_recording_suffix_is_named_a_directory(tmp_path, capsys):
    # fresh-eyes trial: `ltr detect somedir` said "unsupported file type '(no suffix)'"
    from ltr.cli import main

    (tmp_path / "somedir").mkdir()
    with pytest.raises(IsADirectoryError, match="is a directory, not a recording"):
        ltr.read(tmp_path / "somedir")
    assert main(["detect", str(tmp_path / "somedir")]) != 0
    err = capsys.readouterr().err
    assert "is a directory" in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_a_missing_path_without_a_known_suffix_is_missing(tmp_path, capsys):
    # fresh-eyes trial: `ltr info nodir/` (a typo) said "unsupported file type
    # '(no suffix)'" and listed every format, as if the path existed
    from ltr.cli import main

    for name in ("nodir", "x.xyz"):
        with pytest.raises(FileNotFoundError, match=f"{name}: no such file or folder"):
            ltr.read(tmp_path / name)
    assert main(["info", str(tmp_path / "nodir")]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"ltr info: error: {tmp_path / 'nodir'}: no such file or folder"


def test_report_refuses_an_output_that_is_neither_html_nor_pdf(tmp_path, capsys):
    from ltr.cli import main

    rec = tmp_path / "s.h5"
    ltr.write(make_recording(), rec)
    assert main(["report", str(rec), "-o", str(tmp_path / "r.docx")]) == 2
    assert ".html or .pdf" in capsys.readouterr().err
    assert not (tmp_path / "r.docx").exists()
