"""NumPy ``.npz`` recordings: arrays ``data`` (n_channels, n_samples) and ``sfreq``."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import ReadError, check_file, check_sfreq
from ..channels import infer_kind, resolve_kinds
from ..recording import Recording
from ._common import reader, to_si, warn_nan_gaps


@reader("NPZ")
def read_npz(
    path: str | os.PathLike[str],
    *,
    sfreq: float | None = None,
    units: str | None = None,
    ch_kinds: Mapping[str, str] | None = None,
    bipolar: Mapping[str, tuple[str, str]] | None = None,
) -> Recording:
    """Read ``.npz`` with ``data``, ``sfreq`` (optional ``ch_names``, ``ch_kinds``, ``units``).

    Parameters
    ----------
    path : path-like
    sfreq : float | None
        Sampling rate in Hz when the file has no ``sfreq`` array.
    units : str | None
        Unit of all channels when the file has no ``units`` array (default: SI already).
    ch_kinds, bipolar
        As for :func:`ltr.read`.
    """
    p = check_file(path)
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise ReadError(p, f"{p}: not a readable .npz file ({err})", err) from err
    with zf:
        arrays = _npz_members(p, zf)
        if "data" not in arrays:
            raise ReadError(p, f"{p}: no 'data' array; arrays: {sorted(arrays)}")

        def load(key: str) -> np.ndarray:
            with zf.open(arrays[key][0]) as fh:
                return np.lib.format.read_array(fh, allow_pickle=False)

        data = np.array(load("data"), dtype=np.float64, ndmin=2)
        if data.ndim != 2:
            raise ReadError(p, f"{p}: 'data' must be (n_channels, n_samples), got {data.shape}")
        rate = _scalar(p, load("sfreq"), "sfreq") if "sfreq" in arrays else sfreq
        if rate is None:
            raise ReadError(p, f"{p}: no 'sfreq' array; pass sfreq= (Hz)")
        rate = check_sfreq(rate, where=str(p))
        names = [str(n) for n in np.atleast_1d(load("ch_names"))] if "ch_names" in arrays \
            else [f"ch{i + 1}" for i in range(data.shape[0])]
        if "units" in arrays:
            orig = [str(u) for u in np.atleast_1d(load("units"))]
        else:
            orig = [units or ""] * data.shape[0]
        kinds: Any = [str(k) for k in np.atleast_1d(load("ch_kinds"))] \
            if "ch_kinds" in arrays else None
    if len(names) != data.shape[0] or len(orig) != data.shape[0]:
        raise ReadError(p,
            f"{p}: {data.shape[0]} channels but {len(names)} names and {len(orig)} units"
        )
    data, si_units = to_si(data, orig)
    if kinds is None:
        kinds = [infer_kind(n, u) for n, u in zip(names, orig, strict=True)]
    kinds = resolve_kinds(names, kinds, ch_kinds, where=str(p))
    if not any(orig):
        si_units = [{"emg": "V", "acc": "m/s^2"}.get(k, "") for k in kinds]
        orig = si_units
    warn_nan_gaps(data, names, rate, p)
    rec = Recording(data, rate, names, kinds, units=si_units, orig_units=orig,
                    meta={"source": str(p), "format": "NPZ"})
    if bipolar:
        rec = rec.set_bipolar(bipolar)
    return rec


#: The most an ``.npz`` member may expand on decompression. Signals compress 1-4x (ADC
#: integers stored as floats perhaps 10x); deflate reaches ~1000x only on constant bytes,
#: so a recording expanding more than this is a zip bomb or a lying header.
MAX_NPZ_RATIO = 200
#: An array whose uncompressed size exceeds this is refused before allocating: ltr holds an
#: NPZ in memory, and 16 GiB is more than one needling session needs (64 channels x 1 h at
#: 10 kHz in float64 is 18 GB; such recordings belong in HDF5, which is read lazily).
MAX_NPZ_BYTES = 16 * 2**30


def _npz_members(p: Path, zf: zipfile.ZipFile) -> dict[str, tuple[zipfile.ZipInfo, tuple]]:
    """The ``.npy`` members by key with their shapes, checked before anything is allocated:
    the declared shape must fit in the member's declared size, which must fit the
    compressed bytes and :data:`MAX_NPZ_BYTES`."""
    out: dict[str, tuple[zipfile.ZipInfo, tuple]] = {}
    infos = zf.infolist()
    if len(infos) > 10_000:
        raise ReadError(p, f"{p}: {len(infos)} members in the .npz archive; a recording has "
                        "a handful (data, sfreq, ch_names, ch_kinds, units)")
    for info in infos:
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if key not in ("data", "sfreq", "ch_names", "ch_kinds", "units"):
            continue
        where = f"{p}: array {key!r}"
        if info.file_size > MAX_NPZ_BYTES:
            raise ReadError(p, f"{where} declares {info.file_size} bytes uncompressed, more "
                            f"than ltr holds in memory ({MAX_NPZ_BYTES} bytes); convert it "
                            "to HDF5, which is read lazily")
        if info.compress_type != zipfile.ZIP_STORED and \
                info.file_size > MAX_NPZ_RATIO * max(info.compress_size, 1) + 4096:
            raise ReadError(p, f"{where}: {info.compress_size} compressed bytes declare "
                            f"{info.file_size} uncompressed, more than {MAX_NPZ_RATIO}x: a "
                            "damaged archive or a zip bomb")
        with zf.open(info) as fh:
            try:
                version = np.lib.format.read_magic(fh)
                shape, _fortran, dtype = _array_header(fh, version)
            except (ValueError, OSError, EOFError, SyntaxError) as err:
                raise ReadError(p, f"{where}: not a NumPy array ({err})", err) from err
        if dtype.hasobject:
            raise ReadError(p, f"{where}: holds Python objects, which ltr does not unpickle")
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if nbytes > info.file_size:
            raise ReadError(p, f"{where}: its header declares shape {shape} of {dtype} "
                            f"({nbytes} bytes) but the member holds {info.file_size} bytes")
        out[key] = (info, shape)
    return out


def _array_header(fh: Any, version: tuple[int, int]) -> tuple[tuple, bool, np.dtype]:
    """Shape, Fortran order and dtype from a ``.npy`` header, without reading the data."""
    fmt = np.lib.format
    if version == (1, 0):
        return fmt.read_array_header_1_0(fh)
    if version == (2, 0):
        return fmt.read_array_header_2_0(fh)
    from numpy.lib import _format_impl  # version 3.0 (UTF-8 field names) has no public reader

    return _format_impl._read_array_header(fh, version)


def _scalar(p: Path, value: np.ndarray, key: str) -> Any:
    if value.size != 1:
        raise ReadError(p, f"{p}: array {key!r} must hold one number, got shape {value.shape}")
    return value.item()


def write_npz(recording: Recording, path: str | os.PathLike[str]) -> None:
    """Write ``data``, ``sfreq``, ``ch_names``, ``ch_kinds`` and ``units`` (SI) to ``.npz``."""
    np.savez_compressed(
        path, data=recording.data, sfreq=np.float64(recording.sfreq),
        ch_names=np.asarray(recording.ch_names), ch_kinds=np.asarray(recording.ch_kinds),
        units=np.asarray(recording.units),
    )
