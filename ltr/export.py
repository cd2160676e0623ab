"""Detections back into the recording's world: EDF+/FIF copies with annotations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .io import write
from .recording import Recording


def _is_raw(obj: Any) -> bool:
    try:
        import mne
    except ImportError:  # pragma: no cover - mne is a core dependency
        return False
    return isinstance(obj, mne.io.BaseRaw)


def annotate(recording: Recording | Any, results: Any, *, with_rejected: bool = True) -> Any:
    """A copy of ``recording`` whose annotations also hold the detections.

    Twitches become ``twitch`` annotations with their duration; with ``with_rejected``,
    look-alikes become ``rejected: <reason>`` and contractions ``contraction``.

    Parameters
    ----------
    recording : Recording | mne.io.BaseRaw
        The recording the results were detected on.
    results : TwitchResults
    with_rejected : bool
        Also annotate rejected look-alikes and contractions (default True).

    Returns
    -------
    Recording | mne.io.BaseRaw
        Of the type given. For a Raw, the detections are added to ``raw.annotations`` on
        its own ``orig_time``, counting onsets from its first sample.
    """
    ann = results.to_annotations(with_rejected=with_rejected)
    if _is_raw(recording):
        raw = recording.copy()
        first_time = raw.first_samp / raw.info["sfreq"]
        ann.orig_time = None  # onsets count from the first sample of this very Raw
        raw.set_annotations(raw.annotations + ann.to_mne(raw.annotations.orig_time,
                                                         first_time=first_time))
        return raw
    if not isinstance(recording, Recording):
        raise TypeError("annotate needs an ltr.Recording or an mne.io.Raw, got "
                        f"{type(recording).__name__}")
    out = recording.copy()
    out.annotations = out.annotations + ann
    return out


def export_annotated(recording: Recording | Any, results: Any,
                     path: str | os.PathLike[str], *, with_rejected: bool = True,
                     overwrite: bool = False) -> Path:
    """Write the recording with the detections as annotations, for the viewer a clinician uses.

    Parameters
    ----------
    recording : Recording | mne.io.BaseRaw
        The recording the results were detected on.
    results : TwitchResults
    path : path-like
        ``.edf``/``.bdf`` give EDF+/BDF+ (EDFbrowser, MNE, Polyman show the annotations;
        channel labels carry MNE's type prefixes, see :func:`ltr.write_edf`), ``.fif`` an
        MNE raw file, ``.h5`` ltr's HDF5 (then also the full results via
        :func:`ltr.write_results`).
    with_rejected : bool
        Also annotate rejected look-alikes and contractions (default True).
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    Path
    """
    rec = Recording.from_mne(recording) if _is_raw(recording) else recording
    annotated = annotate(rec, results, with_rejected=with_rejected)
    p = write(annotated, path, overwrite=overwrite)
    if Path(p).suffix.lower() in (".h5", ".hdf5"):
        from .io.results_store import write_results

        write_results(results, p, overwrite=overwrite)
    return Path(p)
