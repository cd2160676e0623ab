"""Reading and writing recordings: :func:`read` dispatches on the file suffix."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._validate import check_file
from ..recording import Recording
from ._mne import read_mne_file, write_edf
from .hdf5 import read_hdf5, write_hdf5
from .npz import read_npz, write_npz
from .text import read_text, write_csv

__all__ = [
    "READERS",
    "read",
    "read_hdf5",
    "read_npz",
    "read_text",
    "write",
    "write_csv",
    "write_edf",
    "write_hdf5",
    "write_npz",
]

#: Suffix -> (format name, reader). Options not understood by a reader raise TypeError.
READERS: dict[str, tuple[str, Callable[..., Recording]]] = {
    ".edf": ("EDF/EDF+", read_mne_file),
    ".bdf": ("BDF/BDF+", read_mne_file),
    ".gdf": ("GDF", read_mne_file),
    ".vhdr": ("BrainVision", read_mne_file),
    ".fif": ("FIF", read_mne_file),
    ".csv": ("CSV", read_text),
    ".tsv": ("TSV", read_text),
    ".txt": ("delimited text", read_text),
    ".h5": ("HDF5 (ltr layout)", read_hdf5),
    ".hdf5": ("HDF5 (ltr layout)", read_hdf5),
    ".npz": ("NumPy NPZ", read_npz),
}


def read(path: str | os.PathLike[str], **options: Any) -> Recording:
    """Read a recording, choosing the reader from the file suffix.

    Parameters
    ----------
    path : path-like
        EDF/EDF+ (``.edf``), BDF/BDF+ (``.bdf``), GDF (``.gdf``), BrainVision (``.vhdr``),
        FIF (``.fif``), delimited text (``.csv``, ``.tsv``, ``.txt``), HDF5 in ltr's layout
        (``.h5``, ``.hdf5``) or NumPy (``.npz``).
    **options
        Passed to the reader. Common to all: ``ch_kinds`` (mapping name -> kind overriding
        the inferred kinds) and ``bipolar`` (mapping new name -> (anode, cathode)). Text
        files take ``sfreq``, ``time_column``, ``delimiter``, ``skip_until``, ``units`` ...
        (:func:`ltr.io.read_text`); MNE-backed formats and HDF5 take ``preload``.

    Returns
    -------
    Recording
        Data in SI units (V, m/s²), original units in ``orig_units``. EDF/BDF/GDF/
        BrainVision/FIF and HDF5 recordings are lazy: samples are read when needed.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        Unsupported suffix (the message lists the supported ones), empty, truncated or
        malformed file; the message names the file and the problem.

    Examples
    --------
    >>> rec = ltr.read("recordings/sample_emg_acc.edf")  # doctest: +SKIP
    >>> rec.ch_kinds  # doctest: +SKIP
    ('emg', 'acc', 'acc', 'acc')
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".gz" and p.name.lower().endswith(".fif.gz"):
        suffix = ".fif"
    if suffix not in READERS:
        supported = ", ".join(f"{s} ({name})" for s, (name, _) in READERS.items())
        raise ValueError(f"{p}: unsupported file type {suffix or '(no suffix)'!r}; "
                         f"ltr reads {supported}")
    check_file(p)
    _, reader = READERS[suffix]
    try:
        return reader(p, **options)
    except TypeError as err:
        if "unexpected keyword" in str(err):
            raise TypeError(f"{p}: option not understood by the {READERS[suffix][0]} reader: "
                            f"{err}") from err
        raise


def write(recording: Recording, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write a recording, choosing the format from the suffix (.edf, .bdf, .h5, .csv, .tsv)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".edf", ".bdf"):
        return write_edf(recording, p, overwrite=overwrite)
    if suffix in (".h5", ".hdf5"):
        return write_hdf5(recording, p, overwrite=overwrite)
    if suffix in (".csv", ".tsv"):
        return write_csv(recording, p, delimiter="," if suffix == ".csv" else "\t",
                         overwrite=overwrite)
    if suffix == ".fif":
        if p.exists() and not overwrite:
            raise FileExistsError(f"{p}: exists; pass overwrite=True to replace it")
        recording.to_mne().save(p, overwrite=overwrite, fmt="double", verbose="error")
        return p
    raise ValueError(f"{p}: cannot write {suffix!r}; ltr writes .edf, .bdf, .h5, .hdf5, .csv, "
                     ".tsv, .fif")
