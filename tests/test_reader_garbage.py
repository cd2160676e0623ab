"""Readers refuse or correct what they used to turn into silent garbage (issue 14).

Each case was read without a word on main: inf/NaN/constant EDF data, EDF units off by
1e6, re-cut EDF records, WFDB header fields taken for the channel name, a WFDB rate
replaced by 250 Hz, lazily read inf, non-SI HDF5 units, capitalised HDF5 kinds and a
truncated tab-separated file read as one sample.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_recording

import ltr

_EDF_FIELDS = [("label", 16), ("transducer", 80), ("dimension", 8), ("physical minimum", 8),
               ("physical maximum", 8), ("digital minimum", 8), ("digital maximum", 8),
               ("prefilter", 80), ("samples per record", 8), ("reserved", 32)]


def _edf(tmp_path, name="rec.edf"):
    path = tmp_path / name
    ltr.write(make_recording(), path)
    return path


def _edf_field(raw: bytes, field: str, signal: int) -> tuple[int, int]:
    """Byte offset and width of one signal's header field."""
    ns = int(raw[252:256])
    offset = 256
    for name, width in _EDF_FIELDS:
        if name == field:
            return offset + signal * width, width
        offset += width * ns
    raise KeyError(field)


def _set_edf_field(path, field, value, signal=0):
    raw = bytearray(path.read_bytes())
    o, w = _edf_field(bytes(raw), field, signal)
    raw[o:o + w] = value.ljust(w).encode("latin-1")
    path.write_bytes(bytes(raw))


def _get_edf_field(path, field, signal=0):
    raw = path.read_bytes()
    o, w = _edf_field(raw, field, signal)
    return raw[o:o + w].decode("latin-1").strip()


@pytest.mark.parametrize(("field", "value"), [
    ("physical maximum", "inf"), ("physical minimum", "nan"), ("physical maximum", "1e308"),
    ("physical maximum", "-1e300"), ("digital maximum", "99999"),
    ("physical minimum", "abc"),
])
def test_edf_nonfinite_or_huge_ranges_are_refused(tmp_path, field, value):
    path = _edf(tmp_path)
    _set_edf_field(path, field, value)
    with pytest.raises(ltr.ReadError, match=f"rec.edf: channel 'EMG trapezius'.*{field}"):
        ltr.read(path).get_data()


def test_edf_degenerate_ranges_are_refused(tmp_path):
    path = _edf(tmp_path)
    _set_edf_field(path, "physical maximum", _get_edf_field(path, "physical minimum"))
    with pytest.raises(ltr.ReadError, match="'EMG trapezius': physical minimum equals"):
        ltr.read(path)
    path = _edf(tmp_path, "dig.edf")
    _set_edf_field(path, "digital maximum", _get_edf_field(path, "digital minimum"))
    with pytest.raises(ltr.ReadError, match="'EMG trapezius': digital range"):
        ltr.read(path)


@pytest.mark.parametrize(("unit", "factor"), [("UV", 1.0), ("nV", 1e-3), ("kV", 1e9),
                                              ("mV", 1e3)])
def test_edf_unit_prefixes_mne_does_not_scale(tmp_path, unit, factor):
    path = _edf(tmp_path)
    assert _get_edf_field(path, "dimension") == "uV"
    reference = ltr.read(path).get_data(picks=0)
    _set_edf_field(path, "dimension", unit)
    got = ltr.read(path).get_data(picks=0)
    # the same digital samples, only the unit's factor differs: equal to rounding
    np.testing.assert_allclose(got, reference * factor, rtol=1e-12)


def test_edf_samples_per_record_disagreeing_with_the_file_size(tmp_path):
    path = _edf(tmp_path)
    spr = int(_get_edf_field(path, "samples per record"))
    _set_edf_field(path, "samples per record", str(spr // 4))
    with pytest.raises(ltr.ReadError, match="header and file size disagree.*samples in each "
                                            "data record"):
        ltr.read(path)


def _wfdb(tmp_path, record_line="rec 1 1000 2000", signal_line=None):
    x = (np.sin(np.arange(2000) / 10) * 1000).astype("<i2")
    (tmp_path / "rec.dat").write_bytes(x.tobytes())
    signal_line = signal_line or "rec.dat 16 1000(0)/mV 16 0 0 0 0 EMG"
    (tmp_path / "rec.hea").write_text(f"{record_line}\n{signal_line}\n")
    return tmp_path / "rec.hea"


def test_wfdb_reference_reads(tmp_path):
    pytest.importorskip("wfdb")
    rec = ltr.read(_wfdb(tmp_path))
    assert rec.ch_names == ("EMG",) and rec.sfreq == 1000.0 and rec.n_samples == 2000


@pytest.mark.parametrize("line", ["rec.dat 16 x(0)/mV 16 0 0 0 0 EMG",
                                  "rec.dat 16 1000(0)/mV 16 zero 0 0 0 EMG"])
def test_wfdb_malformed_signal_line_is_refused(tmp_path, line):
    pytest.importorskip("wfdb")
    with pytest.raises(ltr.ReadError, match="rec.hea: WFDB signal line 1: .* field"):
        ltr.read(_wfdb(tmp_path, signal_line=line))


@pytest.mark.parametrize("fs", ["abc", "-1000", "0", "1e9"])
def test_wfdb_bad_sampling_frequency_is_refused(tmp_path, fs):
    pytest.importorskip("wfdb")
    with pytest.raises(ltr.ReadError, match="rec.hea: WFDB record line: sampling frequency"):
        ltr.read(_wfdb(tmp_path, record_line=f"rec 1 {fs} 2000"))


def _h5(tmp_path, data=None, **channels):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "rec.h5"
    with h5py.File(path, "w") as f:
        f.attrs["sfreq"] = 1000.0
        f.create_dataset("data", data=np.zeros((2, 100)) if data is None else data)
        g = f.create_group("channels")
        g.create_dataset("names", data=["EMG a", "ACC x"])
        for key, values in channels.items():
            g.create_dataset(key, data=values)
    return path


def test_lazy_hdf5_with_inf_is_refused_like_in_memory(tmp_path):
    data = np.zeros((2, 100))
    data[1, 42] = np.inf
    path = _h5(tmp_path, data)
    with pytest.raises(ValueError, match="infinite"):
        ltr.read(path, preload=True)
    rec = ltr.read(path)  # lazy: the header is fine, the samples are read later
    with pytest.raises(ltr.ReadError, match="rec.h5: channel 'ACC x' holds infinite.*sample 42"):
        rec.get_data()


def test_hdf5_units_not_si_are_refused(tmp_path):
    path = _h5(tmp_path, units=["uV", "g"])
    with pytest.raises(ltr.ReadError, match="channel 'EMG a': '/channels/units' is 'uV'"):
        ltr.read(path)


def test_hdf5_kinds_in_capitals_are_normalised(tmp_path):
    path = _h5(tmp_path, kinds=["EMG", "Acc"], units=["V", "m/s^2"])
    assert ltr.read(path).ch_kinds == ("emg", "acc")


def test_tab_separated_text_cut_mid_line_is_refused(tmp_path):
    rng = np.random.default_rng(1)
    rows = ["time\tEMG\tACC"] + [f"{i / 1000:.3f}\t{a:.6f}\t{b:.6f}"
                                 for i, (a, b) in enumerate(rng.normal(size=(500, 2)))]
    text = "\n".join(rows)
    path = tmp_path / "rec.tsv"
    path.write_text(text[: text.rindex("\t")])  # the last line loses its last field
    with pytest.raises(ltr.ReadError, match=r"rec.tsv: line 501 has 2 fields, expected 3"):
        ltr.read(path)


def test_npz_declared_rate_above_a_megahertz_is_refused(tmp_path):
    path = tmp_path / "rec.npz"
    np.savez(path, data=np.zeros((1, 100)), sfreq=1e9)
    with pytest.raises(ltr.ReadError, match="sampling rate 1e\\+09 Hz is above"):
        ltr.read(path)
