"""ltr's HDF5 layout: a chunked, compressed signal array plus channel and annotation tables.

Layout (version 1)::

    /                       attrs: ltr_format = "ltr-recording", ltr_format_version = 1,
                                   sfreq (Hz), meas_date (ISO 8601 or ""), meta (JSON)
    /data                   float64 or float32 (n_channels, n_samples), SI units,
                            chunked (n_channels, <= 16384 samples), gzip + shuffle
    /channels/names         UTF-8 strings (n_channels,)
    /channels/kinds         "emg" | "acc" | "trigger" | "misc"
    /channels/units         unit of /data rows ("V", "m/s^2" or "")
    /channels/orig_units    unit in the original source
    /annotations/onset      float64 seconds from the first sample
    /annotations/duration   float64 seconds
    /annotations/description UTF-8 strings

Files with a ``/data`` dataset and an ``sfreq`` attribute but no ltr attributes are read
too (channel names then from a ``ch_names`` attribute or dataset when present).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import ReadError, check_file, check_sfreq
from ..annotations import Annotations
from ..channels import infer_kind, resolve_kinds
from ..recording import Recording
from ._common import as_read_error, check_block, reader

FORMAT_NAME = "ltr-recording"
FORMAT_VERSION = 1


def _str_dtype() -> Any:
    import h5py

    return h5py.string_dtype(encoding="utf-8")


class Hdf5Source:
    """Block reader over the ``/data`` dataset of an HDF5 file (kept open while in use)."""

    def __init__(self, path: Path, dataset: str = "data",
                 names: list[str] | None = None) -> None:
        import h5py

        self.path = path
        self.names = list(names or [])
        self.dataset = dataset
        self.description = str(path)
        with h5py.File(path, "r") as f:
            self.n_samples = int(f[dataset].shape[1])
        self._file: Any = None

    def read(self, start: int, stop: int, channels: np.ndarray) -> np.ndarray:
        import h5py

        channels = np.asarray(channels, int)
        try:
            if self._file is None:
                self._file = h5py.File(self.path, "r")
            dset = self._file[self.dataset]
            if channels.size and np.all(np.diff(channels) == 1):
                block = dset[channels[0] : channels[-1] + 1, start:stop]
            else:
                block = dset[:, start:stop][channels]
            block = np.asarray(block, dtype=np.float64)
        except (Exception, MemoryError) as err:  # a damaged file fails only when read
            raise as_read_error(self.path, "HDF5", err) from err
        return check_block(block, self.path, self.names, channels, start)

    def __getstate__(self) -> dict[str, Any]:  # picklable for process pools
        state = self.__dict__.copy()
        state["_file"] = None
        return state

    def __del__(self) -> None:
        if getattr(self, "_file", None) is not None:
            with contextlib.suppress(Exception):  # interpreter shutdown
                self._file.close()


def write_hdf5(
    recording: Recording,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    dtype: str = "float64",
    compression: str | None = "gzip",
    block_size: int = 1 << 20,
) -> Path:
    """Write a recording in ltr's HDF5 layout (see :mod:`ltr.io.hdf5`).

    Parameters
    ----------
    recording : Recording
        What to write; a lazy recording is copied block by block, never loaded whole.
    path : path-like
        Output ``.h5``/``.hdf5`` file, written to a temporary name then renamed.
    overwrite : bool
        Replace an existing file (default False: ``FileExistsError``).
    dtype : {"float64", "float32"}
        Storage type; float64 (default) reads back identical, float32 halves the size.
    compression : {"gzip", "lzf", None}
        Dataset compression (with the shuffle filter).
    block_size : int
        Samples copied per step for lazy recordings.

    Returns
    -------
    Path
    """
    import h5py

    p = Path(path)
    if p.exists() and not overwrite:
        raise FileExistsError(f"{p}: exists; pass overwrite=True to replace it")
    if dtype not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    n_ch, n = recording.n_channels, recording.n_samples
    chunk = (max(1, n_ch), max(1, min(n, 16384)))
    tmp = p.with_name(p.name + ".part")
    p.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(tmp, "w") as f:
        f.attrs["ltr_format"] = FORMAT_NAME
        f.attrs["ltr_format_version"] = FORMAT_VERSION
        f.attrs["sfreq"] = recording.sfreq
        f.attrs["meas_date"] = recording.meas_date.isoformat() if recording.meas_date else ""
        f.attrs["meta"] = json.dumps(recording.meta, default=str)
        dset = f.create_dataset(
            "data", shape=(n_ch, n), dtype=dtype, chunks=chunk if n else None,
            compression=compression if n else None, shuffle=bool(compression) and n > 0,
        )
        for start in range(0, n, block_size):
            stop = min(n, start + block_size)
            dset[:, start:stop] = recording.get_data(start, stop)
        dset.attrs["unit_note"] = "SI units per /channels/units"
        g = f.create_group("channels")
        for key, values in (("names", recording.ch_names), ("kinds", recording.ch_kinds),
                            ("units", recording.units), ("orig_units", recording.orig_units)):
            g.create_dataset(key, data=np.asarray(values, dtype=object), dtype=_str_dtype())
        a = f.create_group("annotations")
        ann = recording.annotations
        a.create_dataset("onset", data=ann.onset)
        a.create_dataset("duration", data=ann.duration)
        a.create_dataset("description", data=np.asarray(ann.description, dtype=object),
                         dtype=_str_dtype())
    os.replace(tmp, p)
    return p


@reader("HDF5")
def read_hdf5(
    path: str | os.PathLike[str],
    *,
    preload: bool = False,
    ch_kinds: Mapping[str, str] | None = None,
    bipolar: Mapping[str, tuple[str, str]] | None = None,
    sfreq: float | None = None,
) -> Recording:
    """Read an HDF5 recording written by :func:`write_hdf5` (lazily by default).

    Parameters
    ----------
    path : path-like
    preload : bool
        Load all samples now (default False: read blocks on demand).
    ch_kinds : mapping | None
        Overrides of the stored kinds.
    bipolar : mapping | None
        Bipolar derivations, see :meth:`ltr.Recording.set_bipolar`.
    sfreq : float | None
        Sampling rate for foreign files without an ``sfreq`` attribute.
    """
    import h5py

    p = check_file(path)
    try:
        f = h5py.File(p, "r")
    except OSError as err:
        raise ValueError(f"{p}: not a readable HDF5 file ({err})") from err
    with f:
        if "data" not in f or not isinstance(f["data"], h5py.Dataset):
            raise ValueError(f"{p}: no '/data' dataset; datasets: {list(f.keys())}")
        shape = f["data"].shape
        if len(shape) != 2:
            raise ValueError(f"{p}: '/data' must be 2-D (n_channels, n_samples), got {shape}")
        version = f.attrs.get("ltr_format_version")
        if version is not None and int(version) > FORMAT_VERSION:
            raise ValueError(
                f"{p}: written by a newer ltr (layout version {int(version)}); this ltr "
                f"reads up to version {FORMAT_VERSION}"
            )
        rate = f.attrs.get("sfreq", sfreq)
        if rate is None:
            raise ValueError(f"{p}: no 'sfreq' attribute; pass sfreq= (Hz)")
        rate = check_sfreq(rate, where=str(p))
        n_ch = shape[0]
        _check_dataset(p, f["data"], preload)
        for key in ("channels/names", "channels/kinds", "channels/units",
                    "channels/orig_units"):
            if key in f and getattr(f[key], "shape", None) not in ((n_ch,), None):
                raise ReadError(p, f"{p}: '/{key}' has shape {f[key].shape}, expected "
                                f"({n_ch},): one entry per row of '/data'")
        names = _strings(f, "channels/names") or _strings_attr(f, "ch_names") or [
            f"ch{i + 1}" for i in range(n_ch)
        ]
        if len(names) != n_ch:
            raise ValueError(f"{p}: {len(names)} channel names for {n_ch} rows of '/data'")
        kinds = [k.strip().lower() for k in _strings(f, "channels/kinds")] or [
            infer_kind(n) for n in names]
        units = _strings(f, "channels/units") or None
        for name, unit in zip(names, units or [], strict=False):
            if unit not in SI_UNITS:
                raise ReadError(p, f"{p}: channel {name!r}: '/channels/units' is {unit!r}; "
                                f"ltr's layout stores SI units, one of {list(SI_UNITS)} "
                                "(the original unit belongs in '/channels/orig_units')")
        orig = _strings(f, "channels/orig_units") or units
        ann = Annotations()
        if "annotations" in f:
            g = f["annotations"]
            for key in ("onset", "duration", "description"):
                if not isinstance(g.get(key), h5py.Dataset) or g[key].ndim != 1 \
                        or g[key].shape[0] > MAX_ANNOTATIONS:
                    raise ReadError(p, f"{p}: '/annotations/{key}' must be a 1-D dataset of "
                                    f"at most {MAX_ANNOTATIONS} entries")
            ann = Annotations(g["onset"][()], g["duration"][()],
                              [_decode(s) for s in g["description"][()]])
        meas = f.attrs.get("meas_date", "")
        meas_date = _dt.datetime.fromisoformat(_decode(meas)) if _decode(meas) else None
        meta = json.loads(_decode(f.attrs.get("meta", "{}")))
        data = f["data"][()] if preload else None
    kinds = resolve_kinds(names, kinds, ch_kinds, where=str(p))
    common: dict[str, Any] = {"units": units, "orig_units": orig, "annotations": ann,
                              "meas_date": meas_date, "meta": meta}
    # the file read is the source; where it was converted from is kept beside it
    if meta.get("source") and meta["source"] != str(p):
        meta.setdefault("converted_from", meta["source"])
    meta["source"] = str(p)
    if meta.get("format") and meta["format"] != "HDF5":
        meta.setdefault("converted_from_format", meta["format"])
    meta["format"] = "HDF5"
    if data is not None:
        from ._common import warn_nan_gaps

        data = np.asarray(data, dtype=np.float64)
        warn_nan_gaps(data, names, rate, p)
        rec = Recording(data, rate, names, kinds, **common)
    else:
        rec = Recording.from_source(Hdf5Source(p, names=names), rate, names, kinds, **common)
    if bipolar:
        rec = rec.set_bipolar(bipolar)
    return rec


#: Units ``/channels/units`` may hold: the data are stored in SI.
SI_UNITS = ("V", "m/s^2", "")
#: Most channels accepted in ``/data``: high-density EMG grids have a few hundred.
MAX_CHANNELS = 4096
#: Most a dataset's stored bytes may expand: gzip tops out near 1000x (a constant
#: channel); a dataset declaring more than that over what is stored was never written
#: (reading it would "process" fill values for hours).
MAX_EXPANSION = 1100


def _check_dataset(p: Path, dset: Any, preload: bool) -> None:
    """Refuse a ``/data`` that declares more than the file holds, before reading it."""
    n_ch, n = dset.shape
    if n_ch > MAX_CHANNELS:
        raise ReadError(p, f"{p}: '/data' declares {n_ch} channels (rows); ltr reads at most "
                        f"{MAX_CHANNELS}; is the array transposed (n_samples, n_channels)?")
    if dset.dtype.kind not in "fiub":
        raise ReadError(p, f"{p}: '/data' has dtype {dset.dtype}; expected numbers")
    declared = int(n_ch) * int(n) * dset.dtype.itemsize
    stored = int(dset.id.get_storage_size())
    if declared > MAX_EXPANSION * stored + (1 << 16):
        raise ReadError(p, f"{p}: '/data' declares shape {dset.shape} ({declared} bytes) but "
                        f"the file stores {stored} bytes of it: the dataset was never "
                        "(fully) written, or its shape is corrupt")
    if preload and declared > MAX_PRELOAD_BYTES:
        raise ReadError(p, f"{p}: '/data' holds {declared} bytes; preload=True would need "
                        f"more than {MAX_PRELOAD_BYTES} bytes of memory (read it lazily)")


#: Most annotations read from ``/annotations``.
MAX_ANNOTATIONS = 1_000_000
#: Most memory ``preload=True`` may ask for.
MAX_PRELOAD_BYTES = 16 * 2**30


def _decode(v: Any) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def _strings(f: Any, key: str) -> list[str]:
    if key not in f:
        return []
    return [_decode(v) for v in f[key][()]]


def _strings_attr(f: Any, key: str) -> list[str]:
    if key in f.attrs:
        return [_decode(v) for v in np.atleast_1d(f.attrs[key])]
    return _strings(f, key)
