"""Lab Streaming Layer through mne-lsl (extra ``ltr[live]``), kept on this machine.

LSL finds streams by multicast and broadcast. Before liblsl is loaded, ltr points
``LSLAPICFG`` at the configuration it ships (:data:`CONFIG`): resolution on this machine
only (``[multicast] ResolveScope = machine``, machine addresses and known peers
``127.0.0.1``) and no IPv6, so no packet leaves the loopback interface. A configuration
already named by ``LSLAPICFG`` is respected, and :func:`scope` says which one is in use.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .detector import Twitch

#: The liblsl configuration ltr ships: resolution and traffic on the loopback interface.
CONFIG = Path(__file__).with_name("lsl_api.cfg")
#: Name of the marker stream of twitches.
MARKER_STREAM = "ltr-twitches"


def use_loopback_config() -> Path:
    """Point ``LSLAPICFG`` at :data:`CONFIG` unless it names a file already; return the
    file in use. Call before ``mne_lsl`` is imported (liblsl reads it once)."""
    current = os.environ.get("LSLAPICFG")
    if current and Path(current).is_file():
        return Path(current)
    os.environ["LSLAPICFG"] = str(CONFIG)
    return CONFIG


def scope() -> str:
    """One line saying which liblsl configuration and resolve scope are in use."""
    path = Path(os.environ.get("LSLAPICFG") or CONFIG)
    cp = configparser.ConfigParser(inline_comment_prefixes=(";",))
    try:
        cp.read(path, encoding="utf-8")
        value = cp.get("multicast", "ResolveScope", fallback="site (liblsl's default)")
    except (OSError, configparser.Error):
        value = "unknown (unreadable)"
    which = "ltr's" if path.resolve() == CONFIG.resolve() else "LSLAPICFG's"
    return f"LSL resolve scope: {value} ({which} configuration {path})"


def _lsl() -> Any:
    """The mne_lsl.lsl module, liblsl configured for loopback first."""
    if "mne_lsl" not in sys.modules:
        use_loopback_config()
    try:
        from mne_lsl import lsl
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("Lab Streaming Layer input and output need mne-lsl: "
                          "pip install 'ltr[live]'") from err
    return lsl


class LslInlet:
    """Chunks from an LSL stream found by name on this machine.

    Parameters
    ----------
    name : str
        Name of the stream.
    timeout : float
        Seconds to look for it (ValueError naming it when not found) and to wait for
        data before it counts as ended.
    markers : str | None
        A marker stream whose samples are needle marks (``needle in``/``needle out``,
        the twitches' ``epoch``): its name, ``"auto"`` (default) for
        ``NAME-annotations`` when there is one (what ``mne_lsl.player.PlayerLSL``
        publishes for a file's annotations), or None. Strings are the description;
        a numeric stream has one channel per description (mne-lsl's one-hot
        encoding: the non-zero channel names the mark).
    """

    def __init__(self, name: str, *, timeout: float = 5.0,
                 markers: str | None = "auto") -> None:
        lsl = _lsl()
        from ..channels import infer_kind
        from ..units import si_scale

        infos = lsl.resolve_streams(timeout=timeout, name=name)
        if not infos:
            raise ValueError(f"no LSL stream named {name!r} found on this machine within "
                             f"{timeout:g} s ({scope()})")
        self.inlet = lsl.StreamInlet(infos[0], max_buffered=60)
        try:
            self.inlet.open_stream(timeout=timeout)
            info = self.inlet.get_sinfo(timeout=timeout)
        except Exception:
            self.inlet.close_stream()
            raise
        self.name = name
        self.timeout = timeout
        self.sfreq = float(info.sfreq)
        if self.sfreq <= 0:
            self.close()
            raise ValueError(f"LSL stream {name!r} has no regular rate (sfreq "
                             f"{info.sfreq}): ltr needs sampled signals")
        n = int(info.n_channels)
        self.ch_names = list(info.get_channel_names() or [f"ch{i + 1}" for i in range(n)])
        types = list(info.get_channel_types() or [""] * n)
        units = list(info.get_channel_units() or [""] * n)
        self.ch_kinds = [infer_kind(c, u or "", t.lower() if t else None)
                         for c, t, u in zip(self.ch_names, types, units, strict=True)]
        scales = [si_scale(u) for u in units]
        self.units = [s[1] or ("V" if k == "emg" else "m/s^2" if k == "acc" else "")
                      for s, k in zip(scales, self.ch_kinds, strict=True)]
        self._scale = np.array([s[0] for s in scales])[:, None]
        self.t0: float | None = None
        self.marker_stream: str | None = None
        self._marks: Any = None
        self._mark_names: list[str] = []
        self._early: list[tuple[float, str]] = []  # marks before the first sample
        if markers is not None:
            wanted = f"{name}-annotations" if markers == "auto" else markers
            found = lsl.resolve_streams(timeout=min(timeout, 1.0) if markers == "auto"
                                        else timeout, name=wanted)
            if not found and markers != "auto":
                self.close()
                raise ValueError(f"no LSL marker stream named {wanted!r} found on this "
                                 f"machine within {timeout:g} s ({scope()})")
            if found:
                self._marks = lsl.StreamInlet(found[0], max_buffered=60)
                self._marks.open_stream(timeout=timeout)
                minfo = self._marks.get_sinfo(timeout=timeout)
                self._mark_names = list(minfo.get_channel_names() or [])
                self.marker_stream = wanted

    def chunks(self) -> Any:
        """Yield arrays (channels × samples, SI units) until no data came for
        ``timeout`` s."""
        import time

        last = time.monotonic()
        while True:
            data, ts = self.inlet.pull_chunk(timeout=0.05)
            if len(ts):
                last = time.monotonic()
                if self.t0 is None:
                    self.t0 = float(ts[0])
                yield np.asarray(data, dtype=np.float64).T * self._scale
            elif time.monotonic() - last > self.timeout:
                return

    def marks(self) -> list[tuple[float, str]]:
        """Needle marks received since the last call: ``(onset, description)``, onset
        in s of stream time (from the first sample); empty without a marker stream."""
        if self._marks is None:
            return []
        data, ts = self._marks.pull_chunk(timeout=0.0)
        for row, t in zip(data, ts, strict=True):  # a loop over a few marks
            row = np.atleast_1d(row)
            if isinstance(row[0], str) or not self._mark_names:
                text = str(row[0])
            else:
                text = self._mark_names[int(np.flatnonzero(np.asarray(row, float))[0])] \
                    if np.any(np.asarray(row, float)) else ""
            if text:
                self._early.append((float(t), text))
        if self.t0 is None:
            return []
        out = [(t - self.t0, text) for t, text in self._early]
        self._early = []
        return out

    def lsl_time(self, onset: float) -> float:
        """The LSL clock time of a stream time (s from the first sample)."""
        return (self.t0 or 0.0) + onset

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.inlet.close_stream()
        if getattr(self, "_marks", None) is not None:
            with contextlib.suppress(Exception):
                self._marks.close_stream()


class MarkerOutlet:
    """The ``ltr-twitches`` marker stream: one JSON string per twitch, stamped with the
    twitch's onset on the LSL clock, for LabRecorder or a clinic's software.

    Keys: ``event`` (``"twitch"``), ``onset`` (s of stream time), ``channels``,
    ``amplitude`` in ``unit`` (the primary channel's), ``jolt_amplitude_m_s2`` (the
    accelerometer's jolt of a twitch it saw, :attr:`Twitch.jolt_amplitude`; null
    otherwise), ``confidence`` and ``decided_at`` (s)."""

    def __init__(self, name: str = MARKER_STREAM, source_id: str | None = None) -> None:
        lsl = _lsl()
        # one source per process: LabRecorder tells two live counts on a machine apart
        self.source_id = source_id or f"ltr-{os.getpid()}"
        info = lsl.StreamInfo(name, "Markers", 1, 0.0, "string", self.source_id)
        self.outlet = lsl.StreamOutlet(info)
        self.name = name
        self._clock = lsl.local_clock

    def push(self, twitch: Twitch, timestamp: float | None = None) -> None:
        """Send one twitch (``timestamp``: LSL time of its onset; now when None)."""
        jolt = float(twitch.jolt_amplitude)
        text = json.dumps({"event": "twitch", "onset": round(twitch.onset, 6),
                           "channels": twitch.channels, "amplitude": twitch.amplitude,
                           "unit": twitch.unit,
                           "jolt_amplitude_m_s2": jolt if np.isfinite(jolt) else None,
                           "confidence": round(twitch.confidence, 4),
                           "decided_at": round(twitch.decided_at, 6)})
        self.outlet.push_sample([text], timestamp if timestamp is not None
                                else self._clock())

    def close(self) -> None:
        self.outlet = None


def local_clock() -> float:
    """LSL's clock, s."""
    return float(_lsl().local_clock())
