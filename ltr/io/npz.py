"""NumPy ``.npz`` recordings: arrays ``data`` (n_channels, n_samples) and ``sfreq``."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validate import check_file, check_sfreq
from ..channels import infer_kind, resolve_kinds
from ..recording import Recording
from ._common import to_si, warn_nan_gaps


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
        npz = np.load(p, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        raise ValueError(f"{p}: not a readable .npz file ({err})") from err
    with npz:
        if "data" not in npz.files:
            raise ValueError(f"{p}: no 'data' array; arrays: {npz.files}")
        data = np.array(npz["data"], dtype=np.float64, ndmin=2)
        if data.ndim != 2:
            raise ValueError(f"{p}: 'data' must be (n_channels, n_samples), got {data.shape}")
        rate = npz["sfreq"].item() if "sfreq" in npz.files else sfreq
        if rate is None:
            raise ValueError(f"{p}: no 'sfreq' array; pass sfreq= (Hz)")
        rate = check_sfreq(rate, where=str(p))
        names = [str(n) for n in npz["ch_names"]] if "ch_names" in npz.files else [
            f"ch{i + 1}" for i in range(data.shape[0])
        ]
        if "units" in npz.files:
            orig = [str(u) for u in np.atleast_1d(npz["units"])]
        else:
            orig = [units or ""] * data.shape[0]
        kinds: Any = [str(k) for k in npz["ch_kinds"]] if "ch_kinds" in npz.files else None
    if len(names) != data.shape[0] or len(orig) != data.shape[0]:
        raise ValueError(
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


def write_npz(recording: Recording, path: str | os.PathLike[str]) -> None:
    """Write ``data``, ``sfreq``, ``ch_names``, ``ch_kinds`` and ``units`` (SI) to ``.npz``."""
    np.savez_compressed(
        path, data=recording.data, sfreq=np.float64(recording.sfreq),
        ch_names=np.asarray(recording.ch_names), ch_kinds=np.asarray(recording.ch_kinds),
        units=np.asarray(recording.units),
    )
