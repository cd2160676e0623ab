"""Simulated needling sessions with known twitches: the ground truth of ltr.

No public needling recording has labelled twitches, so ltr's detector is developed and
judged on sessions simulated here, then checked on real recordings. Researchers can use
the simulator to test their own protocols.

Main entry points: :func:`session` (``condition="wild"`` for a randomized session,
:func:`wild_draw` for what it draws), :func:`suite` / :data:`SUITE`, :func:`hybrid` (real
baselines with simulated twitches), :func:`cine` (ultrasound cine loops), :func:`paired`
(EMG and a clip of the same twitches), :func:`write_session`, :class:`Truth`,
:class:`SimulationConfig`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ._session import session
from ._wild import wild_draw
from .cine import CINE_CONFOUNDERS, cine
from .config import LAYOUTS, SimulationConfig
from .hybrid import hybrid
from .paired import paired
from .suite import SUITE, Condition, suite
from .truth import CONFOUNDER_KINDS, MARKER_KINDS, TWITCH_COLUMNS, Truth

__all__ = [
    "CINE_CONFOUNDERS",
    "CONFOUNDER_KINDS",
    "LAYOUTS",
    "MARKER_KINDS",
    "SUITE",
    "TWITCH_COLUMNS",
    "Condition",
    "SimulationConfig",
    "Truth",
    "cine",
    "hybrid",
    "paired",
    "session",
    "suite",
    "truth_paths",
    "wild_draw",
    "write_session",
]


def truth_paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The truth files written beside a recording: ``NAME.truth.json``, ``NAME.events.tsv``."""
    p = Path(path)
    stem = p.name[: -len(p.suffix)] if p.suffix else p.name
    return p.with_name(stem + ".truth.json"), p.with_name(stem + ".events.tsv")


def write_session(
    path: str | os.PathLike[str],
    *,
    duration: float | None = 120.0,
    sfreq: float | None = 2000.0,
    layout: str | None = "emg+acc",
    seed: int = 0,
    condition: str | None = None,
    overwrite: bool = False,
    **conditions: Any,
) -> list[Path]:
    """Simulate a session and write it with its truth beside it.

    Writes the recording (format from the suffix: ``.edf``, ``.bdf``, ``.h5``, ``.csv``,
    ``.fif``), ``NAME.truth.json`` (:meth:`Truth.to_json`) and ``NAME.events.tsv``
    (:meth:`Truth.to_events_tsv`). Nothing is overwritten unless ``overwrite=True``.
    With ``condition="wild"``, pass ``duration``, ``sfreq`` or ``layout`` as None to
    keep the drawn ones.

    Returns
    -------
    list of Path
        The three files written.
    """
    from ..io import write

    p = Path(path)
    truth_json, events = truth_paths(p)
    if not overwrite:
        existing = [str(q) for q in (p, truth_json, events) if q.exists()]
        if existing:
            raise FileExistsError(f"{existing[0]}: exists; pass overwrite=True to replace it")
    rec, truth = session(duration=duration, sfreq=sfreq, layout=layout, seed=seed,
                         condition=condition, **conditions)  # type: ignore[misc]
    write(rec, p, overwrite=overwrite)
    truth.to_json(truth_json)
    truth.to_events_tsv(events)
    return [p, truth_json, events]
