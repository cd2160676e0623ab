"""What ``ltr live`` shows: a terminal view with rich, or a line per twitch."""

from __future__ import annotations

import inspect
import sys
import time
from collections import deque
from typing import Any, TextIO

import numpy as np

from ..segment import Epochs, epochs_from_activity
from .detector import StreamingDetector, Twitch

#: Twitches further apart than this (s) belong to different needle insertions, as for
#: epochs found from needling activity (:func:`ltr.segment.epochs_from_activity`).
INSERTION_GAP: float = inspect.signature(epochs_from_activity).parameters["gap"].default

_BARS = "▁▂▃▄▅▆▇█"


def _amplitude(tw: Twitch) -> str:
    """The twitch's amplitude, and its jolt's as well when EMG led and an accelerometer
    saw it too (``emg+acc``)."""
    if tw.unit != "V":
        return f"{tw.amplitude:.3g} {tw.unit}"
    jolt = f", {tw.jolt_amplitude:.3g} m/s^2" if np.isfinite(tw.jolt_amplitude) else ""
    return f"{tw.amplitude * 1e6:.1f} µV{jolt}"


def twitch_line(tw: Twitch, number: int) -> str:
    """One line per twitch (the plain mode): onset, number, channels, amplitude,
    confidence and how long after its onset it was decided."""
    return (f"{tw.onset:10.3f} s  twitch {number:4d}  {tw.channels}  {_amplitude(tw)}  "
            f"confidence {tw.confidence:.2f}  decided +{(tw.decided_at - tw.onset) * 1e3:.0f} ms")


class Tally:
    """Running count, count in the current insertion, rate, the last twitch."""

    def __init__(self) -> None:
        self.count = 0
        self.onsets: list[float] = []
        self.last: Twitch | None = None

    def add(self, found: list[Twitch]) -> None:
        for tw in found:
            self.count += 1
            self.onsets.append(tw.onset)
            self.last = tw

    def in_insertion(self, now: float, epochs: Epochs | None = None) -> int:
        """Twitches of the insertion under way.

        With known insertions (``epochs``, e.g. :meth:`StreamingDetector.current_epochs`
        from ``needle in``/``needle out`` marks): those in the insertion holding ``now``
        (0 with the needle out). Otherwise the run of onsets each within
        :data:`INSERTION_GAP` s of the next, ending less than that before ``now``."""
        if epochs is not None and epochs.source != "none":
            i = int(epochs.assign(np.array([now]))[0])
            return int(np.count_nonzero(epochs.assign(np.asarray(self.onsets)) == i)) \
                if i >= 0 and self.onsets else 0
        if not self.onsets or now - self.onsets[-1] > INSERTION_GAP:
            return 0
        t = np.asarray(self.onsets)
        breaks = np.flatnonzero(np.diff(t) > INSERTION_GAP)
        return int(t.size - (breaks[-1] + 1 if breaks.size else 0))

    def rate(self, now: float) -> float:
        """Twitches per minute since the start."""
        return self.count / (now / 60.0) if now > 0 else 0.0


class PlainView:
    """A line per twitch on a stream that is not a terminal (a log, a pipe)."""

    def __init__(self, out: TextIO | None = None, bell: bool = False) -> None:
        self.out = out or sys.stdout
        self.bell = bell
        self.tally = Tally()

    def update(self, det: StreamingDetector, found: list[Twitch]) -> None:
        for tw in found:
            self.tally.add([tw])
            print(twitch_line(tw, self.tally.count) + ("\a" if self.bell else ""),
                  file=self.out, flush=True)

    def __enter__(self) -> PlainView:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class RichView:
    """The terminal view: counts, rate, the last twitch, an envelope sparkline and the
    signal quality, redrawn a few times a second.

    Parameters
    ----------
    source : str
        What is being counted (shown in the title).
    console : rich.console.Console | None
        Where to draw (a recording console in tests).
    bell : bool
        Ring the terminal bell on each twitch.
    width : int
        Characters of the sparkline (0.1 s each).
    """

    def __init__(self, source: str, console: Any = None, bell: bool = False,
                 width: int = 60, note: str = "") -> None:
        try:
            from rich.console import Console
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("the live view needs rich: pip install 'ltr[live]'") from err
        self.console = console or Console()
        self.source = source
        self.bell = bell
        self.note = note
        self.tally = Tally()
        self.spark: deque[float] = deque(maxlen=width)
        self._bin = -1
        self._det: StreamingDetector | None = None
        self._live: Any = None
        self._drawn = 0.0

    def update(self, det: StreamingDetector, found: list[Twitch]) -> None:
        self._det = det
        self.tally.add(found)
        if found and self.bell:
            self.console.bell()
        now = det.n_samples / det.sfreq
        b = int(now * 10)
        act, floors = det.activity, det.floors
        ratio = max((a / f for a, f in ((act[k], floors[k]) for k in act)
                     if np.isfinite(f) and f > 0), default=0.0)
        if b != self._bin:
            self._bin = b
            self.spark.append(ratio)
        else:
            self.spark[-1] = max(self.spark[-1], ratio)
        if self._live is not None and (found or time.monotonic() - self._drawn > 0.25):
            self._drawn = time.monotonic()  # redrawn 4 times a second, and at each twitch
            self._live.update(self.render())

    def sparkline(self) -> str:
        """The envelope over its floor, 0.1 s a character, on a log scale from the floor
        (▁) to 10 × it (█)."""
        out = []
        for v in self.spark:
            level = 0.0 if v <= 1 else min(1.0, np.log10(v))
            out.append(_BARS[round(float(level) * (len(_BARS) - 1))])
        return "".join(out)

    def render(self) -> Any:
        from rich.panel import Panel
        from rich.table import Table

        det = self._det
        now = det.n_samples / det.sfreq if det is not None else 0.0
        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold")
        t.add_column()
        t.add_row("time", f"{now:8.1f} s")
        t.add_row("twitches", f"{self.tally.count}")
        epochs = det.current_epochs() if det is not None else None
        t.add_row("this insertion", f"{self.tally.in_insertion(now, epochs)}")
        t.add_row("rate", f"{self.tally.rate(now):.1f} / min")
        last = self.tally.last
        t.add_row("last twitch", "-" if last is None else
                  f"{last.onset:.2f} s  {_amplitude(last)}  confidence {last.confidence:.2f}"
                  f"  ({last.channels})")
        t.add_row("envelope", self.sparkline() or "-")
        if det is not None:
            for name, q in det.signal_quality().items():
                flags = []
                flags.append(f"mains {q['mains_hz']:.1f} Hz" if q["mains_hz"] else "no mains")
                if q["clipping"]:
                    flags.append("[red]clipping[/red]")
                if q["flat"] or q["missing"] > 0.5:
                    flags.append("[red]disconnected?[/red]")
                elif q["missing"] > 0:
                    flags.append(f"missing {q['missing']:.0%}")
                else:
                    flags.append("ok")
                t.add_row(f"  {name}", ", ".join(flags))
        title = f"ltr live — {self.source}"
        return Panel(t, title=title, subtitle=self.note or None, expand=False)

    def __enter__(self) -> RichView:
        from rich.live import Live

        self._live = Live(self.render(), console=self.console, refresh_per_second=4,
                          transient=False)
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self.render())
            self._live.__exit__(None, None, None)
            self._live = None
