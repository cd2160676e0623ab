"""Small files that declare huge contents (issue 14), shared by the tests and the fuzz suite.

Each builder writes a file of at most a few megabytes whose header asks a naive reader for
gigabytes of memory or hours of work.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np


def _npy_header(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    header = repr({"descr": dtype, "fortran_order": False, "shape": tuple(shape)})
    header = header.encode("latin-1")
    pad = 64 - (10 + len(header) + 1) % 64
    return b"\x93NUMPY\x01\x00" + (len(header) + pad + 1).to_bytes(2, "little") + header \
        + b" " * pad + b"\n"


def _npy_member(zf: zipfile.ZipFile, name: str, value: np.ndarray) -> None:
    with zf.open(name, "w") as fh:
        np.lib.format.write_array(fh, np.asarray(value), allow_pickle=False)


def npz_lying_header(path: Path, shape: tuple[int, ...] = (4, 10**9)) -> Path:
    """An NPZ of ~500 bytes whose ``data`` header declares ``shape`` (29.8 GiB by default)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data.npy", _npy_header(shape) + bytes(64))
        _npy_member(zf, "sfreq.npy", np.float64(1000.0))
    return path


def npz_bomb(path: Path, nbytes: int = 3 * 2**30) -> Path:
    """A deflated NPZ whose ``data`` is ``nbytes`` of zeros: ~1000x smaller on disk."""
    n = nbytes // (4 * 8)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("data.npy", "w", force_zip64=True) as fh:
            fh.write(_npy_header((4, n)))
            block = bytes(1 << 22)
            left = 4 * n * 8
            while left:
                fh.write(block[: min(left, len(block))])
                left -= min(left, len(block))
        _npy_member(zf, "sfreq.npy", np.float64(1000.0))
    return path


def csv_long_cell(path: Path, digits: int = 10_000, rows: int = 8_000) -> Path:
    """A ~200 KB CSV of two columns with one cell of ``digits`` digits."""
    rng = np.random.default_rng(0)
    lines = ["EMG,ACC"] + [f"{a:.6f},{b:.6f}" for a, b in rng.normal(size=(rows, 2))]
    lines[rows // 2] = "1" * digits + ",0.5"
    path.write_text("\n".join(lines) + "\n")
    return path


def h5_unwritten(path: Path, shape: tuple[int, int] = (4, 10**10)) -> Path:
    """An HDF5 file of a few KB with a chunked ``/data`` of ``shape`` never written."""
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["sfreq"] = 1000.0
        f.create_dataset("data", shape=shape, dtype="f8", chunks=(shape[0], 16384),
                         compression="gzip")
    return path


def h5_many_channels(path: Path, n: int = 10**6) -> Path:
    """An HDF5 file declaring ``n`` channels with ``n`` names."""
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["sfreq"] = 1000.0
        f.create_dataset("data", shape=(n, 100), dtype="f8", chunks=(1024, 100),
                         compression="gzip")
        f.create_dataset("channels/names", data=np.array([f"c{i % 10}" for i in range(n)],
                                                         dtype="S"))
    return path


def h5_fast_rate(path: Path, sfreq: float = 1e9) -> Path:
    """An HDF5 recording of 4 x 10,000 samples declaring ``sfreq`` Hz."""
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["sfreq"] = sfreq
        f.create_dataset("data", data=np.random.default_rng(0).normal(size=(4, 10_000)))
    return path


def edf_sparse(path: Path, samples: int = 10**7, duration: float = 1.0) -> Path:
    """An EDF of one record of ``samples`` samples (at most 8 digits: the field's width),
    its data a sparse hole (nothing on disk)."""
    def f(value: object, width: int) -> bytes:
        return str(value).ljust(width).encode("ascii")

    head = (f(0, 8) + f("X X X X", 80) + f("Startdate X X X X", 80) + f("01.01.20", 8)
            + f("00.00.00", 8) + f(512, 8) + f("", 44) + f(1, 8) + f(duration, 8) + f(1, 4))
    sig = (f("EMG a", 16) + f("", 80) + f("uV", 8) + f(-1000, 8) + f(1000, 8)
           + f(-32768, 8) + f(32767, 8) + f("", 80) + f(samples, 8) + f("", 32))
    with open(path, "wb") as fh:
        fh.write(head + sig)
        fh.truncate(512 + 2 * samples)
    return path


def brainvision(d: Path, data_file: str = "rec.eeg") -> Path:
    """A BrainVision recording (rec.vhdr, .vmrk, .eeg; 2 channels, 4 s at 1 kHz) in ``d``
    whose header names ``data_file`` as its data."""
    n, fs = 4000, 1000
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 50, n), 1000 + rng.normal(0, 10, n)]).astype("<i2")
    (d / "rec.eeg").write_bytes(x.T.tobytes())  # multiplexed: sample after sample
    (d / "rec.vhdr").write_text(
        "Brain Vision Data Exchange Header File Version 1.0\n\n[Common Infos]\n"
        f"Codepage=UTF-8\nDataFile={data_file}\nMarkerFile=rec.vmrk\nDataFormat=BINARY\n"
        f"DataOrientation=MULTIPLEXED\nNumberOfChannels=2\nSamplingInterval={1e6 / fs:g}\n\n"
        "[Binary Infos]\nBinaryFormat=INT_16\n\n[Channel Infos]\n"
        "Ch1=EMG a,,0.1,\u00b5V\nCh2=ACC x,,0.01,mV\n", encoding="utf-8")
    (d / "rec.vmrk").write_text(
        "Brain Vision Data Exchange Marker File, Version 1.0\n\n[Common Infos]\n"
        "Codepage=UTF-8\nDataFile=rec.eeg\n\n[Marker Infos]\nMk1=New Segment,,1,1,0\n"
        "Mk2=Stimulus,S  1,1000,1,0\n", encoding="utf-8")
    return d / "rec.vhdr"


#: name -> (builder, file name) of the small-but-huge cases.
HOSTILE = {
    "npz_lying_header": (npz_lying_header, "lying.npz"),
    "npz_bomb": (npz_bomb, "bomb.npz"),
    "csv_long_cell": (csv_long_cell, "long.csv"),
    "h5_unwritten": (h5_unwritten, "unwritten.h5"),
    "h5_many_channels": (h5_many_channels, "many.h5"),
    "h5_fast_rate": (h5_fast_rate, "fast.h5"),
    "edf_sparse": (edf_sparse, "sparse.edf"),
}
