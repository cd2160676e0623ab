"""A versioned HDF5 store for detection results (``ltr.write_results`` / ``ltr.read_results``).

Layout (version 1), in a file of its own or as a group inside a recording's HDF5::

    <group>/                 attrs: ltr_results_version = 1, ltr_version, source, sfreq,
                                    duration, config (TOML text), meta (JSON),
                                    noise_floor (JSON), processing (JSON)
    <group>/events/<column>            one dataset per column of TwitchResults.events
    <group>/channel_events/<column>    the same for the per-channel table
    <group>/rejected/<column>
    <group>/contractions/<column>
    <group>/epochs/start, stop, label  attrs: source

Strings are UTF-8; floats float64. ``group`` defaults to ``/ltr_results``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import check_file

RESULTS_VERSION = 1
_TABLES = ("events", "channel_events", "rejected", "contractions")


def write_results(results: Any, path: str | os.PathLike[str], *, group: str = "ltr_results",
                  overwrite: bool = False) -> Path:
    """Write a :class:`~ltr.TwitchResults` to HDF5 (a new file, or a group in an existing one).

    Parameters
    ----------
    results : TwitchResults
    path : path-like
        ``.h5``/``.hdf5`` file. If it exists (e.g. the recording written by
        :func:`ltr.write_hdf5`), the results go into ``group`` inside it.
    group : str
        Group name.
    overwrite : bool
        Replace an existing group of that name (default False: ``FileExistsError``).
    """
    import h5py

    p = Path(path)
    mode = "a" if p.exists() else "w"
    with h5py.File(p, mode) as f:
        if group in f:
            if not overwrite:
                raise FileExistsError(f"{p}: already holds '/{group}'; pass overwrite=True")
            del f[group]
        g = f.create_group(group)
        g.attrs["ltr_results_version"] = RESULTS_VERSION
        g.attrs["ltr_version"] = str(results.meta.get("ltr_version", ""))
        g.attrs["source"] = results.source
        g.attrs["sfreq"] = results.sfreq
        g.attrs["duration"] = results.duration
        g.attrs["config"] = results.config.to_toml() if results.config is not None else ""
        g.attrs["meta"] = json.dumps(results.meta, default=str)
        g.attrs["noise_floor"] = json.dumps(results.noise_floor, default=str)
        g.attrs["processing"] = json.dumps(results.processing, default=str)
        for name in _TABLES:
            t = g.create_group(name)
            for col, arr in getattr(results, name).items():
                _write_column(t, col, arr)
        e = g.create_group("epochs")
        e.attrs["source"] = results.epochs.source
        _write_column(e, "start", results.epochs.start)
        _write_column(e, "stop", results.epochs.stop)
        _write_column(e, "label", results.epochs.label)
    return p


def _write_column(group: Any, name: str, arr: np.ndarray) -> None:
    import h5py

    arr = np.asarray(arr)
    if arr.dtype.kind in ("O", "U", "S"):
        group.create_dataset(name, data=np.asarray([str(v) for v in arr], dtype=object),
                             dtype=h5py.string_dtype("utf-8"))
    else:
        group.create_dataset(name, data=arr)


def read_results(path: str | os.PathLike[str], *, group: str = "ltr_results") -> Any:
    """Read results written by :func:`write_results`."""
    import h5py

    from ..detect.config import DetectorConfig
    from ..results import TwitchResults
    from ..segment import Epochs

    p = check_file(path)
    with h5py.File(p, "r") as f:
        if group not in f:
            raise ValueError(f"{p}: no '/{group}' group with detection results")
        g = f[group]
        version = int(g.attrs.get("ltr_results_version", 0))
        if version < 1 or version > RESULTS_VERSION:
            raise ValueError(f"{p}: results layout version {version}; this ltr reads 1 to "
                             f"{RESULTS_VERSION}")
        tables = {name: {col: _read_column(ds) for col, ds in g[name].items()}
                  for name in _TABLES}
        e = g["epochs"]
        epochs = Epochs(_read_column(e["start"]), _read_column(e["stop"]),
                        str(e.attrs["source"]), _read_column(e["label"]))
        config_text = str(g.attrs["config"])
        config = None
        if config_text:
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                cfg_path = Path(tmp) / "config.toml"
                cfg_path.write_text(config_text)
                config = DetectorConfig.from_toml(cfg_path)
        return TwitchResults(
            events=tables["events"], channel_events=tables["channel_events"],
            rejected=tables["rejected"], contractions=tables["contractions"],
            noise_floor=json.loads(g.attrs["noise_floor"]),
            processing=json.loads(g.attrs["processing"]), epochs=epochs, config=config,
            sfreq=float(g.attrs["sfreq"]), duration=float(g.attrs["duration"]),
            source=str(g.attrs["source"]), meta=json.loads(g.attrs["meta"]),
        )


def _read_column(ds: Any) -> np.ndarray:
    data = ds[()]
    if ds.dtype.kind == "O":
        return np.asarray([v.decode("utf-8") if isinstance(v, bytes) else str(v)
                           for v in data], dtype=object)
    return np.asarray(data)
