"""A needling session recorded twice: EMG/accelerometer and an ultrasound cine loop.

The same twitches appear in both: in the EMG as bursts (:func:`ltr.simulate.session`)
and in the clip as local tissue motion (:func:`ltr.simulate.cine`), the motion starting
an electromechanical delay after the burst. The clip's clock is its own: it starts some
seconds into the recording, and its start time (``Clip.meas_date``) is off by a clock
error, as a scanner's clock and an amplifier's are never set alike. The truth says
where the clip really starts (``truth.info["clip_offset"]``), so that synchronisation
(:func:`ltr.sync.clip_offset`) and fusion (:func:`ltr.fuse_clip`) can be scored.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np

from ..recording import Recording
from ._session import session
from .cine import cine
from .truth import Truth

#: Electromechanical delay, EMG onset to the start of the tissue motion (s): the twitch's
#: force follows its burst by 5-40 ms (``../shared/LTR-FACTS.md``).
US_DELAY = (0.005, 0.04)


def paired(
    duration: float = 60.0,
    sfreq: float = 2000.0,
    layout: str = "emg",
    seed: int = 0,
    *,
    fps: float = 30.0,
    shape: tuple[int, int] = (192, 256),
    clip_start: tuple[float, float] = (1.0, 5.0),
    clock_error: tuple[float, float] = (-1.5, 1.5),
    us_delay: tuple[float, float] = US_DELAY,
    cine_options: dict[str, Any] | None = None,
    **session_options: Any,
) -> tuple[Recording, Any, Truth]:
    """Simulate a session recorded by EMG (and accelerometer) and by ultrasound at once.

    Parameters
    ----------
    duration : float
        Seconds of the EMG recording; the clip runs from ``clip_start`` to its end.
    sfreq : float
        EMG sampling rate, Hz.
    layout : str
        The EMG recording's layout (see :func:`ltr.simulate.session`).
    seed : int
        Everything drawn follows from it.
    fps : float
        The clip's frame rate.
    shape : (int, int)
        Frame rows and columns, px.
    clip_start : (float, float)
        Range of the clip's first frame, s into the recording.
    clock_error : (float, float)
        Range of the error of the clip's start time (s): ``clip.meas_date`` is
        ``recording.meas_date + clip offset + error``.
    us_delay : (float, float)
        Range of the delay of each twitch's tissue motion after its EMG onset, s.
    cine_options : dict | None
        Passed to :func:`ltr.simulate.cine` (``confounders``, ``twitch_amplitude`` ...).
    **session_options
        Passed to :func:`ltr.simulate.session` (``snr_db=(0, 10)``, ``condition`` ...).

    Returns
    -------
    recording : Recording
        The EMG/accelerometer recording.
    clip : ltr.ultrasound.Clip
        The cine loop, with its (slightly wrong) start time.
    truth : Truth
        The recording's truth (twitch onsets are EMG onsets, in recording time), with
        ``twitches["us_onset"]`` (recording time; NaN where the twitch lies outside
        the clip) and ``info["clip_offset"]``, ``info["clock_error"]``,
        ``info["clip_truth"]`` (the clip's own truth, in clip time, as
        :meth:`Truth.to_dict`: ``Truth.from_dict(truth.info["clip_truth"])`` rebuilds it).

    Examples
    --------
    >>> from ltr.simulate import paired
    >>> rec, clip, truth = paired(duration=20, seed=1, fps=20, shape=(96, 128))
    >>> 1.0 <= truth.info["clip_offset"] <= 5.0
    True
    """
    rng = np.random.default_rng([int(seed), 17])
    rec, truth = session(duration, sfreq, layout, seed, **session_options)
    offset = float(rng.uniform(*clip_start))
    error = float(rng.uniform(*clock_error))
    on = truth.twitches["onset"]
    delay = rng.uniform(*us_delay, on.size)
    us_on = on + delay - offset  # clip time
    clip_len = rec.duration - offset
    clip, clip_truth = cine(clip_len, fps, shape, seed=int(seed),
                            twitch_times=us_on[us_on >= 0], **(cine_options or {}))
    start = rec.meas_date or _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
    clip.meas_date = start + _dt.timedelta(seconds=offset + error)
    clip.source = f"simulated cine paired with an EMG session (seed {seed})"
    seen = np.isin(np.round(us_on, 9), np.round(clip_truth.twitches["onset"], 9))
    twitches = dict(truth.twitches)
    twitches["us_onset"] = np.where(seen, us_on + offset, np.nan)
    info = dict(truth.info, clip_offset=offset, clock_error=error, fps=float(fps),
                clip_truth=clip_truth.to_dict())  # JSON-able: the truth is saved whole
    return rec, clip, Truth(twitches=twitches, confounders=truth.confounders,
                            epochs=truth.epochs, passes=truth.passes, info=info)
