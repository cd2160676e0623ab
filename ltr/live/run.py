"""The live loop: a source into the streaming detector, twitches out to every sink."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..detect.config import DetectorConfig
from ..results import TwitchResults
from .config import StreamConfig
from .detector import StreamingDetector, Twitch
from .sinks import EventsWriter


@dataclass
class LiveRun:
    """What :func:`run` did."""

    results: TwitchResults
    interrupted: bool
    """True when Ctrl-C ended it (everything was still decided and written)."""
    seconds: float
    """Stream time processed, s."""
    pipe_closed: bool = False
    """True when a callback (``on_twitch``, ``on_chunk``: a view printing to a pipe) raised
    :class:`BrokenPipeError`: the run stopped there, everything decided was still flushed
    to the sinks, and the rest of the source was not read."""


def run(source: Any, *, config: DetectorConfig | None = None,
        stream: StreamConfig | None = None, duration: float | None = None,
        out: str | os.PathLike[str] | None = None, overwrite: bool = False,
        markers: bool = False, on_twitch: Callable[[Twitch], Any] | None = None,
        on_chunk: Callable[[StreamingDetector, list[Twitch]], Any] | None = None,
        ) -> LiveRun:
    """Count twitches from a live source until it ends, ``duration`` s have been
    processed, Ctrl-C, or a callback's :class:`BrokenPipeError` (its reader went away,
    e.g. ``ltr live ... | head``); everything decided is flushed to every sink in all
    four cases, and the callbacks are not called again after a broken pipe.

    Parameters
    ----------
    source : FileSource | TailSource | LslInlet
        See :mod:`ltr.live.sources`.
    config, stream : DetectorConfig | None, StreamConfig | None
        As for :class:`StreamingDetector`.
    duration : float | None
        Seconds of signal to process (all when None).
    out : path-like | None
        Events table (``.tsv``/``.csv``), a row written and flushed per twitch.
    markers : bool
        Also send each twitch to the ``ltr-twitches`` LSL marker stream.
    on_twitch : callable | None
        Called with each :class:`Twitch`.
    on_chunk : callable | None
        Called after each chunk with the detector and the twitches it decided (a view).

    Returns
    -------
    LiveRun
    """
    if duration is not None and not duration > 0:
        raise ValueError(f"duration must be > 0 s, got {duration!r}")
    det = StreamingDetector(source.sfreq, source.ch_names, source.ch_kinds, config,
                            stream=stream, units=source.units,
                            epochs=getattr(source, "epochs", None))
    marks = getattr(source, "marks", None)
    limit = round(duration * source.sfreq) if duration is not None else None
    writer = outlet = None
    interrupted = pipe_closed = False
    try:
        writer = EventsWriter(out, overwrite=overwrite) if out is not None else None
        if markers:
            from .lsl import MarkerOutlet

            outlet = MarkerOutlet()

        def handle(found: list[Twitch]) -> None:
            nonlocal pipe_closed
            for tw in found:  # the sinks first: a file holds a twitch before it is shown
                if writer is not None:
                    writer.write(tw)
                if outlet is not None:
                    outlet.push(tw, source.lsl_time(tw.onset))
            try:
                if on_twitch is not None and not pipe_closed:
                    for tw in found:
                        on_twitch(tw)
                if on_chunk is not None and not pipe_closed:
                    on_chunk(det, found)
            except BrokenPipeError:  # the reader of the view went away
                pipe_closed = True

        try:
            for chunk in source.chunks():
                if limit is not None:
                    chunk = chunk[:, : max(0, limit - det.n_samples)]
                if marks is not None:
                    for onset, text in marks():  # needle in / out from a marker stream
                        det.annotate(onset, text)
                handle(det.push(chunk))
                if pipe_closed or (limit is not None and det.n_samples >= limit):
                    break
        except KeyboardInterrupt:
            interrupted = True
        handle(det.flush())
    finally:
        if writer is not None:
            writer.close()
        if outlet is not None:
            outlet.close()
        with contextlib.suppress(Exception):
            source.close()
    return LiveRun(results=det.results(), interrupted=interrupted,
                   seconds=det.n_samples / det.sfreq, pipe_closed=pipe_closed)
