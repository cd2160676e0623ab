"""Parameters of the streaming detector that the offline one does not have."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class StreamConfig:
    """How :class:`ltr.live.StreamingDetector` decides when to run the detector.

    Every rule, threshold and filter that decides what a twitch is comes from
    :class:`ltr.DetectorConfig`, as in :func:`ltr.detect`. These parameters only say when
    and over how much signal that detector runs (:mod:`ltr.live.detector` explains the
    scheme).

    Attributes
    ----------
    hop : float
        Seconds between decision points (default 0.01). Rounded down to a divisor of
        the noise floor's block (``[floor] block``), so decision points fall on a fixed
        grid of samples whatever the chunks the signal arrives in.
    trigger : float
        The watch over every channel flags activity when its trailing RMS (over the
        detection envelope's window) exceeds ``trigger × on_ratio`` times its running
        floor (default 0.85: below the detector's own onset threshold, so what the
        detector would find is looked at; at 0.75 noise alone opened a stretch about
        every 20 s per channel, which on 64 channels costs more than the twitches).
    quiet : float
        Seconds of quiet on every EMG channel (every accelerometer without EMG) after
        activity before that stretch is decided (default 0.04: longer than ``[segment]
        merge_gap``, so the phases of one burst are decided together; the watch's
        trailing window adds the envelope's half window). With the hop it is the decision
        latency after a twitch ends: 0.06 gave a median of 155-165 ms, 0.04 130-140 ms,
        with the same agreement. A channel with a heartbeat waits ``beat_wait``.
    beat_wait : float
        Seconds of quiet a channel carrying a heartbeat waits instead of ``quiet``
        (default 0.15): the beat detector takes an R peak once the QRS-band energy
        (10-40 Hz, 40-ms window) has fallen after it and the rhythm confirms it; a beat
        decided before that is not subtracted and its residue counts as a twitch. On
        faint-ECG sessions (QRS 2-3x the baseline) ``[reject] ecg_window`` (0.06) left
        12 of 62 beats of one session as twitches, 0.15 none.
    context : float
        Seconds of signal before the activity that the detector is run over (default
        10: the running noise floor is a median over ``[floor] window`` = 20 s centred
        offline; 10 s of past keeps a contraction of up to 5 s from lifting it, where
        4 s did not). Longer costs time at every decision.
    max_span : float
        Activity lasting longer than this (s; default 1: a train of endplate spikes, a
        contraction, a tremor episode) is decided in parts: what lies before the last
        quiet point is decided every ``max_span`` s, a candidate still running waits.
    lookback : float
        Candidates starting up to this many seconds before the watch flagged activity
        are kept (default 0.1: the watch is trailing, the detector's envelope centred).
    fusion_context : float
        Seconds of twitches already decided that the fusion and confidence of new ones
        see (default 2; the confidence model counts neighbours within 1 s).
    max_channels : int
        At most this many EMG channels decide a stretch of activity (default 4): the
        ones the watch saw it strongest on. A twitch seen on many channels of a grid is
        one twitch after fusion whichever of them decide it; its ``channels`` then lists
        those. Fewer is faster (each costs a run of the front end, 3-15 ms).
    fuse_late : bool
        Report a twitch once every candidate that fusion could join to it is decided
        (default True): an EMG burst waits for the accelerometer jolt that follows it
        within ``[fusion] acc_delay`` (looked for on every accelerometer whenever EMG is
        decided, flagged by the watch or not) and for bursts on other channels within
        ``emg_window``, so that ``channels``, ``modality`` and ``confidence`` are those
        of the fused twitch, as in :func:`ltr.detect`. The jolt must end first: on the
        simulator's ``fused`` sessions a twitch is then reported a median 383 ms after
        its onset instead of 134 (``benchmarks/results/live.md``). False reports the
        burst at once with what is decided then (a jolt decided later is counted with
        it but not shown in its row).
    plan_at : tuple of float
        Stream times (s) at which the channel-wide estimates (mains, heartbeat, pop and
        spike scales) are made from the signal so far (default 2, 10, 30, 120; the last
        equals :data:`ltr.detect.plan.CALIBRATION`, after which the estimates are the
        offline ones). Nothing is decided before the first.
    """

    hop: float = 0.01
    trigger: float = 0.85
    quiet: float = 0.04
    beat_wait: float = 0.15
    context: float = 10.0
    max_span: float = 1.0
    lookback: float = 0.1
    fusion_context: float = 2.0
    max_channels: int = 4
    fuse_late: bool = True
    plan_at: tuple[float, ...] = (2.0, 10.0, 30.0, 120.0)

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "plan_at":
                vals = tuple(float(x) for x in v)
                if not vals or any(not math.isfinite(x) or x <= 0 for x in vals) or list(
                        vals) != sorted(vals):
                    raise ValueError(f"StreamConfig: plan_at must be increasing positive "
                                     f"seconds, got {v!r}")
                object.__setattr__(self, "plan_at", vals)
                continue
            if f.name == "fuse_late":
                if not isinstance(v, bool):
                    raise ValueError(f"StreamConfig: fuse_late must be true or false, got "
                                     f"{v!r}")
                continue
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ValueError(f"StreamConfig: {f.name} must be a number, got {v!r}")
            if f.name == "max_channels" and (not isinstance(v, int) or v < 1):
                raise ValueError(f"StreamConfig: max_channels must be an integer >= 1, "
                                 f"got {v!r}")
            if v <= 0 and f.name not in ("lookback", "fusion_context"):
                raise ValueError(f"StreamConfig: {f.name} must be > 0, got {v!r}")
            if v < 0:
                raise ValueError(f"StreamConfig: {f.name} must be >= 0, got {v!r}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> StreamConfig:
        """From a mapping (a ``[live]`` TOML table); unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"StreamConfig: unknown parameter(s) {unknown}; known: "
                             f"{sorted(known)}")
        return cls(**values)
