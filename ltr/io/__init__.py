"""Reading and writing recordings: :func:`read` dispatches on the file suffix."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._validate import ReadError, check_file
from ..recording import Recording
from ._mne import read_mne_file, write_edf
from .hdf5 import read_hdf5, write_hdf5
from .npz import read_npz, write_npz
from .text import read_text, write_csv
from .vendor.biopac import read_acq
from .vendor.c3d_reader import read_c3d
from .vendor.delsys import is_delsys, read_delsys
from .vendor.openbci import is_openbci, read_openbci
from .vendor.wfdb_reader import read_wfdb
from .vendor.xdf import read_xdf


def _read_cine(path: Any, **options: Any) -> Recording:
    # imported here: the ultrasound readers need the optional extra ltr[ultrasound]
    from ..ultrasound.io import read_cine

    return read_cine(path, **options)


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
    ".acq": ("BIOPAC AcqKnowledge (extra 'biopac')", read_acq),
    ".c3d": ("C3D analog channels (extra 'c3d')", read_c3d),
    ".xdf": ("XDF / Lab Streaming Layer (extra 'xdf')", read_xdf),
    ".hea": ("WFDB / PhysioNet (extra 'wfdb')", read_wfdb),
    # ultrasound cine loops, read as tissue motion (ltr.ultrasound)
    ".dcm": ("DICOM ultrasound cine (extra 'ultrasound')", _read_cine),
    **{s: (f"{s[1:].upper()} video cine (extra 'ultrasound')", _read_cine)
       for s in (".mp4", ".avi", ".mov", ".mkv")},
}

#: Named formats for ``ltr.read(path, format=...)`` when the suffix does not tell.
FORMATS: dict[str, Callable[..., Any]] = {
    "edf": read_mne_file, "bdf": read_mne_file, "brainvision": read_mne_file,
    "fif": read_mne_file, "gdf": read_mne_file, "csv": read_text, "text": read_text,
    "hdf5": read_hdf5, "npz": read_npz, "biopac": read_acq, "c3d": read_c3d,
    "xdf": read_xdf, "wfdb": read_wfdb, "delsys": read_delsys, "openbci": read_openbci,
    "dicom": _read_cine, "video": _read_cine, "frames": _read_cine,
}


def read(path: str | os.PathLike[str] | Any, **options: Any) -> Recording:
    """Read a recording, choosing the reader from the file suffix.

    Parameters
    ----------
    path : path-like | mne.io.BaseRaw | pandas.DataFrame | pandas.Series
        EDF/EDF+ (``.edf``), BDF/BDF+ (``.bdf``), GDF (``.gdf``), BrainVision (``.vhdr``),
        FIF (``.fif``), delimited text (``.csv``, ``.tsv``, ``.txt``), HDF5 in ltr's layout
        (``.h5``, ``.hdf5``) or NumPy (``.npz``). Ultrasound cine loops (DICOM ``.dcm``,
        video ``.mp4``/``.avi``/``.mov``/``.mkv``, a folder of frames with ``sfreq=``
        frames/s) are read as their tissue motion (:func:`ltr.ultrasound.io.read_cine`:
        options ``fps``/``sfreq``, ``spacing_mm``, ``roi``, ``method``). Objects already
        in memory are wrapped: an MNE Raw (:meth:`Recording.from_mne`, options
        ``ch_kinds``, ``bipolar``, ``preload``) or a DataFrame/Series with samples in rows
        and one named column per channel (options ``sfreq``, needed unless the index holds
        the sample times, ``ch_kinds``, ``units``, ``orig_units``, ``annotations``,
        ``meas_date``, ``meta``; see :class:`Recording`).
    **options
        Passed to the reader. Common to all: ``ch_kinds`` (mapping name -> kind overriding
        the inferred kinds) and ``bipolar`` (mapping new name -> (anode, cathode)). Text
        files take ``sfreq``, ``time_column``, ``delimiter``, ``skip_until``, ``units`` ...
        (:func:`ltr.io.read_text`); MNE-backed formats and HDF5 take ``preload``.
        ``format=`` names the format when the suffix does not tell (see :data:`FORMATS`).
        Mixed-rate formats (Delsys CSV, BIOPAC, XDF, WFDB) take ``groups=True`` to get one
        recording per rate instead of slower channels resampled up.

    Returns
    -------
    Recording
        Data in SI units (V, m/s²), original units in ``orig_units``. EDF/BDF/GDF/
        BrainVision/FIF and HDF5 recordings are lazy: samples are read when needed.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ReadError
        (a ``ValueError``) Unsupported suffix (the message lists the supported ones), empty,
        truncated, malformed or implausible file, or any failure of the package behind the
        format; the message names the file and the problem, ``err.__cause__`` keeps the
        original exception. Lazy recordings raise it too when a block cannot be read.

    Examples
    --------
    >>> rec = ltr.read("recordings/sample_emg_acc.edf")  # doctest: +SKIP
    >>> rec.ch_kinds  # doctest: +SKIP
    ('emg', 'acc', 'acc', 'acc')
    """
    if not isinstance(path, str | os.PathLike):
        return _read_object(path, options)
    p = Path(path)
    fmt = options.pop("format", None)
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {sorted(FORMATS)}, got {fmt!r}")
        if fmt != "frames":
            check_file(p)
        return FORMATS[fmt](p, **options)
    suffix = p.suffix.lower()
    if suffix == ".gz" and p.name.lower().endswith(".fif.gz"):
        suffix = ".fif"
    if suffix == ".dat" and p.with_suffix(".hea").exists():
        suffix = ".hea"
    if suffix in (".csv", ".txt", ".tsv") and p.is_file():
        with open(p, encoding="utf-8-sig", errors="replace") as fh:
            head = fh.read(4096)
        if is_delsys(head):
            return read_delsys(p, **options)
        if is_openbci(head):
            return read_openbci(p, **options)
    if suffix not in READERS and p.is_dir() and "sfreq" in options:
        from ..ultrasound.io import is_frame_folder

        if is_frame_folder(p):  # a folder of ultrasound frames at the given rate
            return _read_cine(p, **options)
    if suffix not in READERS and p.is_dir():
        raise IsADirectoryError(f"{p}: is a directory, not a recording (ltr batch reads a "
                                "folder of recordings)")
    if suffix not in READERS and not p.exists():
        raise FileNotFoundError(f"{p}: no such file or folder")
    if suffix not in READERS:
        supported = ", ".join(f"{s} ({name})" for s, (name, _) in READERS.items())
        raise ReadError(p, f"{p}: unsupported file type {suffix or '(no suffix)'!r}; "
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


def _read_object(obj: Any, options: dict[str, Any]) -> Recording:
    """A Recording from an object in memory: an MNE Raw, a pandas DataFrame/Series or an
    ultrasound Clip (:func:`ltr.simulate.cine`, :func:`ltr.ultrasound.read_clip`)."""
    if _is_clip(obj):
        allowed = {"roi", "method", "ch_kinds"}
        reader = "an ultrasound Clip"

        def make(clip: Any, **kw: Any) -> Recording:
            from ..ultrasound.motion import motion_recording

            kinds = kw.pop("ch_kinds", None)
            rec = motion_recording(clip, **kw)
            assert isinstance(rec, Recording)
            if kinds:
                rec.set_channel_kinds(dict(kinds))
            return rec

        unknown = sorted(set(options) - allowed)
        if unknown:
            raise TypeError(f"option(s) {unknown} not understood when reading {reader}; "
                            f"options are {sorted(allowed)}")
        return make(obj, **options)
    import mne

    if isinstance(obj, mne.io.BaseRaw):
        allowed = {"ch_kinds", "bipolar", "preload"}
        reader = "an mne.io.Raw"
        make = Recording.from_mne
    elif type(obj).__module__.startswith("pandas"):
        allowed = {"sfreq", "ch_kinds", "ch_names", "units", "orig_units", "annotations",
                   "meas_date", "meta"}
        reader = "a pandas table"

        def make(data: Any, **kw: Any) -> Recording:
            return Recording(data, kw.pop("sfreq", None), **kw)
    else:
        raise TypeError("read needs a file path, an mne.io.Raw, a pandas DataFrame/Series or "
                        f"an ultrasound Clip, got {type(obj).__name__}")
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(f"option(s) {unknown} not understood when reading {reader}; "
                        f"options are {sorted(allowed)}")
    return make(obj, **options)


def _is_clip(obj: Any) -> bool:
    """An :class:`ltr.ultrasound.Clip`, told without importing the ultrasound extra."""
    return type(obj).__name__ == "Clip" and type(obj).__module__.startswith("ltr.ultrasound")


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
