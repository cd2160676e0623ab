"""Small files that declare huge contents are refused before anything is allocated (issue 14).

On main these asked for 29.8 GiB (NPZ header), 3 GB (zip bomb, 10,000-digit CSV cell),
298 GiB or 20 minutes (unwritten HDF5 dataset), hung (10^6 HDF5 channels) or spun in
decimation loops (rates of 1 GHz). Peak memory and time are measured outside the test
suite (the tests never assert a time); here each must be refused, naming the field.
"""

from __future__ import annotations

import numpy as np
import pytest
from hostile_files import (
    brainvision,
    csv_long_cell,
    edf_sparse,
    h5_fast_rate,
    h5_many_channels,
    h5_unwritten,
    npz_bomb,
    npz_lying_header,
)

import ltr


def test_npz_header_declaring_30_gib_in_500_bytes(tmp_path):
    path = npz_lying_header(tmp_path / "lying.npz")
    assert path.stat().st_size < 1000
    with pytest.raises(ltr.ReadError, match=r"array 'data': its header declares shape "
                                            r"\(4, 1000000000\)"):
        ltr.read(path)


def test_npz_zip_bomb(tmp_path):
    path = npz_bomb(tmp_path / "bomb.npz", nbytes=64 * 2**20)
    assert path.stat().st_size < 2**20
    with pytest.raises(ltr.ReadError, match="array 'data': .* compressed bytes declare "
                                            ".* a damaged archive or a zip bomb"):
        ltr.read(path)


def test_npz_ordinary_compressed_recording_still_reads(tmp_path):
    path = tmp_path / "ok.npz"
    data = np.random.default_rng(0).normal(size=(2, 50_000))
    data[1] = 0.0  # a flat channel compresses ~1000x; the recording as a whole does not
    np.savez_compressed(path, data=data, sfreq=1000.0)
    np.testing.assert_array_equal(ltr.read(path).data, data)


def test_csv_with_a_10000_digit_cell(tmp_path):
    path = csv_long_cell(tmp_path / "long.csv")
    with pytest.raises(ltr.ReadError, match="line 4001, column 'EMG': a cell of 10000 "
                                            "characters"):
        ltr.read(path, sfreq=1000.0)


def test_hdf5_unwritten_chunked_dataset(tmp_path):
    path = h5_unwritten(tmp_path / "unwritten.h5")
    assert path.stat().st_size < 100_000
    for preload in (False, True):
        with pytest.raises(ltr.ReadError, match=r"'/data' declares shape \(4, 10000000000\).*"
                                                "stores 0 bytes"):
            ltr.read(path, preload=preload)


def test_hdf5_partly_written_dataset_reads(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "part.h5"
    with h5py.File(path, "w") as f:  # a real recording with a stretch of fill value
        f.attrs["sfreq"] = 1000.0
        d = f.create_dataset("data", shape=(2, 100_000), dtype="f8", chunks=(2, 16384),
                              compression="gzip")
        d[:, :60_000] = np.random.default_rng(0).normal(size=(2, 60_000))
    assert ltr.read(path).n_samples == 100_000


def test_hdf5_a_million_channels(tmp_path):
    path = h5_many_channels(tmp_path / "many.h5")
    with pytest.raises(ltr.ReadError, match="'/data' declares 1000000 channels"):
        ltr.read(path)


@pytest.mark.parametrize("sfreq", [1e9, 1e12])
def test_hdf5_gigahertz_rate(tmp_path, sfreq):
    path = h5_fast_rate(tmp_path / "fast.h5", sfreq=sfreq)
    with pytest.raises(ltr.ReadError, match="declared sampling rate .* Hz is above"):
        ltr.read(path)


def test_sparse_edf_declaring_1e7_samples_per_second(tmp_path):
    path = edf_sparse(tmp_path / "sparse.edf")
    with pytest.raises(ltr.ReadError, match="channel 'EMG a' a sampling rate of 1e\\+07 Hz"):
        ltr.read(path)


def test_biopac_channel_header_declaring_gigabytes(tmp_path, shared_data):
    """Found by the fuzz suite: a corrupt point count made bioread allocate 3.4 GiB."""
    import struct

    pytest.importorskip("bioread")
    raw = bytearray((shared_data / "biopac_acq" / "r42_test.acq").read_bytes())
    count = struct.pack("<i", 7901)  # every channel's point count (7901 samples)
    at = raw.index(count)
    raw[at:at + 4] = struct.pack("<i", 1_835_362_675)
    path = tmp_path / "r42.acq"
    path.write_bytes(bytes(raw))
    with pytest.raises(ltr.ReadError, match=r"r42.acq: the channel headers declare \d+ bytes "
                                            r"of samples .* but the file has 86\d+ bytes"):
        ltr.read(path)


@pytest.mark.parametrize(("field", "value", "match"), [
    ("NumberOfChannels=2", "NumberOfChannels=4294967295", "NumberOfChannels='4294967295'"),
    ("NumberOfChannels=2", "NumberOfChannels=3", "NumberOfChannels=3 but lists 2"),
    ("SamplingInterval=1000", "SamplingInterval=1e-9", "SamplingInterval='1e-9'"),
])
def test_brainvision_header_declaring_huge_sizes(tmp_path, field, value, match):
    """Found by the fuzz suite: 4294967295 channels made MNE allocate past 4 GB."""
    path = brainvision(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(field, value), encoding="utf-8")
    with pytest.raises(ltr.ReadError, match=f"rec.vhdr: BrainVision header .*{match}"):
        ltr.read(path)
