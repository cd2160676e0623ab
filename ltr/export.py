"""Detections back into the recording's world: EDF+/FIF copies with annotations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .io import write
from .recording import Recording


def annotate(recording: Recording, results: Any, *, with_rejected: bool = True) -> Recording:
    """A copy of ``recording`` whose annotations also hold the detections.

    Twitches become ``twitch`` annotations with their duration; with ``with_rejected``,
    look-alikes become ``rejected: <reason>`` and contractions ``contraction``.
    """
    out = recording.copy()
    out.annotations = out.annotations + results.to_annotations(with_rejected=with_rejected)
    return out


def export_annotated(recording: Recording, results: Any, path: str | os.PathLike[str], *,
                     with_rejected: bool = True, overwrite: bool = False) -> Path:
    """Write the recording with the detections as annotations, for the viewer a clinician uses.

    ``.edf``/``.bdf`` give EDF+/BDF+ (EDFbrowser, MNE, Polyman show the annotations),
    ``.fif`` an MNE raw file, ``.h5`` ltr's HDF5 (then also the full results via
    :func:`ltr.write_results`).

    Returns
    -------
    Path
    """
    annotated = annotate(recording, results, with_rejected=with_rejected)
    p = write(annotated, path, overwrite=overwrite)
    if Path(p).suffix.lower() in (".h5", ".hdf5"):
        from .io.results_store import write_results

        write_results(results, p, overwrite=overwrite)
    return Path(p)
