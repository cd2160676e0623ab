"""The streaming detector: :func:`ltr.detect` on a signal that is still arriving.

There is one detector. :class:`StreamingDetector` runs the offline per-channel front
ends (:func:`ltr.detect._channel.detect_emg_channel`, ``detect_acc_sensor``: the same
filters, envelopes, noise floor, rule table and features), the same hand-over between
pieces (:mod:`ltr.detect.stream`: pieces on the alignment grid, quiet cuts, candidates
kept by onset) and the same fusion and confidence (``_fuse_channels``) with the same
:class:`~ltr.DetectorConfig`. What it adds is a decision of *when* and *where* to run
them, so that a twitch is reported a fraction of a second after it ends, and so that
64 channels at 4 kHz cost little more than one causal band-pass of each:

1. **The watch** (cheap, every channel at once, causal). The incoming samples are cut
   into hops on a fixed grid (:attr:`StreamConfig.hop`, 10 ms), whatever the chunks
   they arrive in. Each channel is band-passed causally (the detector's band, filter
   state carried from hop to hop; mains harmonics notched once they are known), and
   its mean square per hop kept. Its trailing RMS over the envelope window is compared
   with ``trigger × on_ratio`` times a running floor (the median of block medians, as
   the offline floor, but of the past only).
2. **The decision.** A stretch of activity (any channel) ends when every channel has
   been quiet for :attr:`StreamConfig.quiet` s (and, beside an accelerometer, once a
   jolt following an EMG burst could have begun: ``[fusion] acc_delay``). The offline
   front end then runs on the channels that were active, over the stretch and
   :attr:`StreamConfig.context` s before it (pieces start on the alignment grid of
   :func:`ltr.detect.plan.alignment`); its candidates from the previous decision point
   to a quiet cut (:func:`ltr.detect.stream._quiet_cut`) are final, are fused with
   those decided in the last :attr:`StreamConfig.fusion_context` s, and the new twitches
   are returned once every candidate fusion could join to them is decided
   (:attr:`StreamConfig.fuse_late`: the accelerometer jolt after an EMG burst, looked
   for whenever EMG is decided; bursts on other channels), so that their channels,
   modality and confidence are those of :func:`ltr.detect`. Each twitch's ``epoch`` is
   the needle insertion holding its onset, from the insertions given (a file's
   annotations, :func:`ltr.segment.find_epochs`) or the ``needle in``/``needle out``
   marks received so far (:meth:`StreamingDetector.annotate`). The decision latency is
   the twitch's duration (its jolt's, when it has one), the quiet time and a hop.
3. **The plans** (mains, heartbeat, pop and spike scales, :mod:`ltr.detect.plan`) are
   made from the first :attr:`StreamConfig.plan_at` seconds (2 s, then again at 10, 30
   and 120 s, after which they are the offline plans); nothing is decided before the
   first.

How it differs from :func:`ltr.detect` on the whole recording, by construction: the
noise floor near a decision sees :attr:`StreamConfig.context` s of past instead of
10 s either side; a candidate followed within ``[reject] contraction_margin`` by a
sustained contraction, or the first pieces of a dense run, are decided before what
follows is known; saturation rails are those seen so far; the confidence model's
neighbour count and look-alike rate see the recent past only; twitches the watch does
not flag are not looked for. ``benchmarks/live.py`` measures the agreement.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import signal

from .._logging import logger
from .._validate import check_sfreq
from .._version import __version__
from ..annotations import Annotations
from ..channels import group_sensors
from ..detect import _apply_floor, _fuse_channels, _turned_away
from ..detect._channel import (
    ChannelResult,
    _train_groups,
    detect_acc_sensor,
    detect_emg_channel,
    grid_step,
    mark_clipping,
)
from ..detect.config import DetectorConfig
from ..detect.core import block_length
from ..detect.plan import AccPlan, alignment, plan_acc, plan_emg
from ..detect.rules import REASONS
from ..detect.stream import _concat, _keep, _quiet_cut, _Unit, unusable_result
from ..preprocess import band_edges, butter_sos
from ..quality import rails_of
from ..results import TwitchResults, below_floor, empty_table
from ..segment import Epochs, epochs_from_activity, epochs_from_annotations
from .config import StreamConfig

__all__ = ["StreamingDetector", "Twitch"]


@dataclass(frozen=True)
class Twitch:
    """One twitch, reported as soon as it is decided.

    Attributes
    ----------
    onset, offset, peak_time : float
        Recording time, s (from the first sample pushed), corrected for filter delay as
        in :func:`ltr.detect`.
    duration : float
        s.
    channel : str
        The channel or accelerometer sensor that saw it best.
    channels : str
        Every channel that saw it, comma-separated.
    modality : str
        ``"emg"``, ``"acc"`` or ``"emg+acc"``.
    amplitude : float
        Peak absolute value of the conditioned signal, in ``unit``.
    unit : str
        ``"V"``, ``"m/s^2"`` or the channel's unit.
    jolt_amplitude : float
        The accelerometer's jolt, m/s^2, for every twitch an accelerometer saw (``acc``
        and ``emg+acc``; :data:`ltr.results.EVENT_COLUMNS`), NaN otherwise.
    snr_db : float
        dB over the noise floor.
    confidence : float
        Calibrated confidence, 0-1.
    decided_at : float
        Stream time (s of signal pushed) when it was decided; ``decided_at - onset`` is
        the decision latency.
    row : dict
        Every column of :data:`ltr.results.EVENT_COLUMNS` for this twitch; ``epoch``
        is the needle insertion holding its onset as known when it was decided (-1
        outside one, or when no insertion is known).
    """

    onset: float
    offset: float
    duration: float
    peak_time: float
    channel: str
    channels: str
    modality: str
    amplitude: float
    unit: str
    jolt_amplitude: float
    snr_db: float
    confidence: float
    decided_at: float
    row: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class _Region:
    """A stretch of activity not decided yet."""

    start: int
    last: np.ndarray
    """Per unit, the end of its last active hop (-1: not active in this stretch)."""
    units: np.ndarray
    peak: np.ndarray
    """Per unit, the largest mean square over the floor the watch saw in this stretch."""
    emg_first: int | None = None


class StreamingDetector:
    """Count twitches in a signal that arrives in chunks (live acquisition).

    Parameters
    ----------
    sfreq : float
        Sampling rate, Hz.
    ch_names : sequence of str
        Channel names, in the order of the rows of every chunk.
    ch_kinds : sequence of str
        Kind of each channel (``"emg"``, ``"acc"``; others are ignored). X/Y/Z axes of
        one accelerometer are one sensor (:func:`ltr.channels.group_sensors`).
    config : DetectorConfig | None
        The detector's parameters, as for :func:`ltr.detect` (defaults when None).
    stream : StreamConfig | None
        When and over how much signal the detector runs (defaults when None).
    units : sequence of str | None
        Unit of each channel (default ``"V"`` for EMG, ``"m/s^2"`` for acceleration);
        chunks are in these units.
    callback : callable | None
        Called with each :class:`Twitch` as soon as it is decided (also returned by
        :meth:`push`).
    epochs : ltr.segment.Epochs | None
        The needle insertions, when they are known beforehand (a file replayed:
        :func:`ltr.segment.find_epochs` of the recording, as :func:`ltr.detect` uses).
        Each twitch's ``epoch`` is the insertion holding its onset (-1 outside).
    annotations : ltr.Annotations | None
        ``needle in``/``needle out`` marks so far (s of stream time); more arrive with
        :meth:`annotate` (an LSL marker stream). Epochs come from them by
        :func:`ltr.segment.epochs_from_annotations`, an insertion not closed yet lasting
        until the twitch is decided. Without ``epochs`` or annotations a twitch's
        ``epoch`` is -1 when it is reported, and :meth:`results` finds the insertions
        from needling activity afterwards, as :func:`ltr.detect` does.

    Notes
    -----
    The module docstring (:mod:`ltr.live.detector`) describes the scheme. Events do not
    depend on how the signal is chunked: every decision falls on a fixed grid of
    samples. Memory holds the first ``max(plan_at)`` s (for the plans) and about
    ``context + max_span`` s of every channel.

    Examples
    --------
    >>> import ltr
    >>> from ltr.simulate import session
    >>> rec, truth = session(duration=30, layout="emg", seed=3)
    >>> det = ltr.StreamingDetector(rec.sfreq, rec.ch_names, rec.ch_kinds)
    >>> found = []
    >>> for i in range(0, rec.n_samples, 512):
    ...     found += det.push(rec.data[:, i:i + 512])
    >>> found += det.flush()
    >>> len(found) == len(det.results().events["onset"])
    True
    """

    def __init__(self, sfreq: float, ch_names: Sequence[str], ch_kinds: Sequence[str],
                 config: DetectorConfig | None = None, *, stream: StreamConfig | None = None,
                 units: Sequence[str] | None = None,
                 callback: Callable[[Twitch], Any] | None = None,
                 epochs: Epochs | None = None,
                 annotations: Annotations | None = None) -> None:
        self.sfreq = check_sfreq(sfreq)
        if epochs is not None and not isinstance(epochs, Epochs):
            raise TypeError(f"epochs must be ltr.segment.Epochs or None, got "
                            f"{type(epochs).__name__}")
        if annotations is not None and not isinstance(annotations, Annotations):
            raise TypeError(f"annotations must be ltr.Annotations or None, got "
                            f"{type(annotations).__name__}")
        self.epochs = epochs if epochs is not None and epochs.source != "none" else None
        self.annotations = annotations.copy() if annotations is not None else Annotations()
        self.cfg = config if config is not None else DetectorConfig()
        if not isinstance(self.cfg, DetectorConfig):
            raise TypeError(f"config must be a DetectorConfig, got {type(self.cfg).__name__}")
        self.stream = stream if stream is not None else StreamConfig()
        if not isinstance(self.stream, StreamConfig):
            raise TypeError(f"stream must be a StreamConfig, got {type(self.stream).__name__}")
        self.ch_names = [str(c) for c in ch_names]
        self.ch_kinds = [str(k) for k in ch_kinds]
        if len(self.ch_names) != len(self.ch_kinds):
            raise ValueError(f"ch_names has {len(self.ch_names)} names but ch_kinds "
                             f"{len(self.ch_kinds)} kinds")
        if len(set(self.ch_names)) != len(self.ch_names):
            raise ValueError(f"ch_names must be unique, got {self.ch_names}")
        emg = [i for i, k in enumerate(self.ch_kinds) if k == "emg"]
        acc = [i for i, k in enumerate(self.ch_kinds) if k == "acc"]
        if not emg and not acc:
            raise ValueError(f"no EMG or accelerometer channel among "
                             f"{dict(zip(self.ch_names, self.ch_kinds, strict=True))}; "
                             f"ch_kinds must name at least one 'emg' or 'acc'")
        if units is None:
            units = ["m/s^2" if k == "acc" else "V" for k in self.ch_kinds]
        self.units = [str(u) for u in units]
        if len(self.units) != len(self.ch_names):
            raise ValueError(f"units has {len(self.units)} entries for "
                             f"{len(self.ch_names)} channels")
        self.callback = callback
        acc_names = [self.ch_names[i] for i in acc]
        sensors = {s: [acc[i] for i in idx]
                   for s, idx in group_sensors(acc_names, ["acc"] * len(acc)).items()}
        self._units: list[_Unit] = [_Unit(self.ch_names[i], "emg", [i]) for i in emg]
        self._units += [_Unit(s, "acc", rows) for s, rows in sensors.items()]
        self.sensors = {s: [self.ch_names[r] for r in rows] for s, rows in sensors.items()}
        nu = len(self._units)
        self._is_emg = np.array([u.modality == "emg" for u in self._units])
        self._has_acc = bool(sensors)
        cfg, st, fs = self.cfg, self.stream, self.sfreq

        # the grid: hops divide the floor block, decisions fall on hop ends
        self._block = block_length(cfg.floor.block, fs)
        self._hop = grid_step(fs, self._block, st.hop)
        self._hops_per_block = self._block // self._hop
        hop_s = self._hop / fs
        self._k = np.array([max(1, round((cfg.emg.window if u.modality == "emg"
                                          else cfg.acc.window) / hop_s))
                            for u in self._units])
        self._hist = np.zeros((nu, int(self._k.max())))
        on = np.array([cfg.emg.on_ratio if u.modality == "emg" else cfg.acc.on_ratio
                       for u in self._units])
        off = np.array([cfg.emg.off_ratio if u.modality == "emg" else cfg.acc.off_ratio
                        for u in self._units])
        self._thr = (st.trigger * on) ** 2
        self._thr_off = off ** 2  # hysteresis: the detector's own off ratio
        self._block_env: list[np.ndarray] = []
        n_blocks = max(1, round(cfg.floor.window / cfg.floor.block))
        self._block_meds: deque[np.ndarray] = deque(maxlen=n_blocks)
        self._floor2 = np.full(nu, np.nan)
        # the watch's causal filters: the detector's bands, state carried
        self._emg_rows = np.array(emg, dtype=int)
        self._acc_rows = np.array([r for u in self._units if u.modality == "acc"
                                   for r in u.rows], dtype=int)
        self._sos: dict[str, np.ndarray] = {}
        self._zi: dict[str, np.ndarray | None] = {}
        if emg:
            self._sos["emg"] = butter_sos(cfg.emg.filter_order, band_edges(cfg.emg.band, fs),
                                          "bandpass", fs)
        if acc:
            self._sos["acc"] = butter_sos(cfg.acc.filter_order, band_edges(cfg.acc.band, fs),
                                          "bandpass", fs)
        self._zi = dict.fromkeys(self._sos)
        self._notch: np.ndarray | None = None  # per EMG row group: one cascade for all
        self._notch_zi: np.ndarray | None = None
        self._dc: np.ndarray | None = None
        # where each channel's watch energy goes: unit x row weights
        self._unit_of_emg = [k for k, u in enumerate(self._units) if u.modality == "emg"]
        self._acc_slices: list[tuple[int, slice]] = []
        pos = 0
        for k, u in enumerate(self._units):
            if u.modality == "acc":
                self._acc_slices.append((k, slice(pos, pos + len(u.rows))))
                pos += len(u.rows)

        # plans and the samples they are made from
        self._plan_samples = [max(1, round(t * fs)) for t in st.plan_at]
        self._next_plan = 0
        # the first samples, for the plans: the chunks as they came (no copy: a copy
        # into one array would touch 245 MB of fresh memory for 64 channels at 4 kHz)
        self._head: list[np.ndarray] = []
        self._head_n = 0
        self._grid = self._block
        # buffers: samples not yet a whole hop, and the recent raw signal
        self._pending = np.zeros((len(self.ch_names), 0))
        self._store = np.zeros((len(self.ch_names), 0))  # raw samples from _buf0 on
        self._len = 0
        self._buf0 = 0
        self._n = 0  # samples processed by the watch (a multiple of the hop)
        # per unit: samples folded into the rail and gap summaries
        self._folded = np.zeros(nu, dtype=np.int64)
        self._final = np.zeros(nu, dtype=np.int64)  # per unit: decided up to here
        self._emitted: deque[int] = deque(maxlen=256)  # onsets (samples) reported
        self._region: _Region | None = None
        self._ctx = round(st.context * fs)
        self._quiet = max(self._hop, round(st.quiet * fs))
        # per unit: a channel with a heartbeat waits StreamConfig.beat_wait (the beat
        # detector must have seen the R peak in the activity, else that beat is not
        # subtracted and its residue counts as a twitch)
        self._quiet_u = np.full(nu, self._quiet)
        self._edge = self._quiet // 2
        # activity that does not stop is decided this far behind the stream: the rules
        # that look furthest ahead (endplate trains, a contraction's fragments, tremor)
        self._settle = np.array([
            round(max(cfg.reject.train_min_span / 2, cfg.reject.contraction_margin,
                      *getattr(cfg.reject, "background_span", (0.0,))[1:]) * fs)
            if u.modality == "emg" else
            round((cfg.acc.tremor_window / 2 if cfg.acc.tremor else cfg.acc.window) * fs)
            for u in self._units])
        self._lookback = round(st.lookback * fs)
        self._max_span = round(st.max_span * fs)
        self._acc_wait = round(cfg.fusion.acc_delay[1] * fs)
        self._guard = round((cfg.segment.merge_gap + 0.01) * fs)
        # what has been decided
        self._recent: dict[int, list[ChannelResult]] = {k: [] for k in range(nu)}
        #: candidates turned away in pieces no longer recent (the look-alike rate's past)
        self._turned_away: dict[str, int] = {u.name: 0 for u in self._units}
        self._events: list[dict[str, np.ndarray]] = []
        self._low: list[dict[str, np.ndarray]] = []  # decided, below the confidence floor
        self._per_channel: list[dict[str, np.ndarray]] = []
        self._vetoed: list[dict[str, np.ndarray]] = []
        # twitches fused but not reported: a partner on another channel is not decided
        self._held: dict[int, dict[str, Any]] = {}
        self._event_dtypes = {k: v.dtype for k, v in empty_table().items()}
        self._flushed = False
        self.decisions = 0
        """Times the offline front end ran (one per active channel and decision)."""

    # -- public ---------------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        """Samples pushed so far."""
        return self._n + self._pending.shape[1]

    @property
    def floors(self) -> dict[str, float]:
        """The watch's running noise floor (RMS of the band-passed signal) per channel or
        sensor, NaN until the first floor block is complete."""
        return {u.name: float(np.sqrt(f)) for u, f in zip(self._units, self._floor2,
                                                         strict=True)}

    @property
    def activity(self) -> dict[str, float]:
        """The watch's trailing RMS per channel or sensor (the envelope a live view
        draws), in the channel's unit."""
        env2 = np.array([self._hist[k, -int(self._k[k]):].mean()
                         for k in range(len(self._units))])
        return {u.name: float(np.sqrt(e)) for u, e in zip(self._units, env2, strict=True)}

    def signal_quality(self, seconds: float = 1.0) -> dict[str, dict[str, Any]]:
        """What a live view shows about each channel or sensor.

        Returns
        -------
        dict
            Per channel or sensor: ``mains_hz`` (hum the plan found, None without),
            ``clipping`` (a saturated rail seen so far, :func:`ltr.quality.rails_of`),
            ``missing`` (fraction of NaN samples over the last ``seconds`` s) and
            ``flat`` (no variation at all over them: a lead off or a dead channel).
        """
        end = self._buf0 + self._buf.shape[1]
        self._fold(end)
        recent = self._buf[:, max(0, self._buf.shape[1] - round(seconds * self.sfreq)):]
        out = {}
        for u in self._units:
            x = recent[u.rows]
            finite = np.isfinite(x)
            plan = u.plan
            mains = getattr(plan, "mains_hz", None) if getattr(plan, "harmonics", None) else None
            rails = [rails_of(s) for s in u.extremes]
            out[u.name] = {
                "mains_hz": mains,
                "clipping": any(a is not None or b is not None for a, b in rails),
                "missing": float(1 - finite.mean()) if x.size else 0.0,
                "flat": bool(x.size and finite.any()
                             and np.all(np.nanmax(x, axis=1) == np.nanmin(x, axis=1)))}
        return out

    def push(self, chunk: Any) -> list[Twitch]:
        """Add samples; return the twitches decided by them.

        Parameters
        ----------
        chunk : array_like, shape (n_channels, n_samples)
            The next samples (any number, including 0), in the channels' units; NaN for
            missing samples. A 1-D array is one sample of every channel when there are
            several channels, else samples of the one channel.

        Returns
        -------
        list of Twitch
            Twitches decided by this chunk, by onset (empty when none).
        """
        if self._flushed:
            raise RuntimeError("push() after flush(): the stream has ended; make a new "
                               "StreamingDetector")
        x = np.asarray(chunk, dtype=np.float64)
        nc = len(self.ch_names)
        if x.ndim == 1:
            x = x[:, None] if nc > 1 and x.size == nc else x[None, :]
        if x.ndim != 2 or x.shape[0] != nc:
            raise ValueError(f"chunk must have shape ({nc}, n_samples) for channels "
                             f"{self.ch_names}, got {np.shape(chunk)}")
        if x.shape[1] == 0:
            return []
        self._pending = np.concatenate([self._pending, x], axis=1)
        m = self._pending.shape[1] // self._hop
        if m == 0:
            return []
        block, self._pending = (self._pending[:, : m * self._hop],
                                self._pending[:, m * self._hop:])
        return self._process(block)

    def flush(self) -> list[Twitch]:
        """End the stream: decide what is still open; return those twitches."""
        if self._flushed:
            return []
        out: list[Twitch] = []
        if self._pending.shape[1]:
            tail = self._pending
            self._pending = np.zeros((len(self.ch_names), 0))
            self._append(tail)
        end = self._buf0 + self._buf.shape[1]
        if self._next_plan == 0 and end:
            self._make_plans(end)
        if self._region is not None and self._next_plan > 0:
            out = self._decide(end, final=True)
        out += self._release(end, final=True)
        self._fold(end)
        self._flushed = True
        return out

    def annotate(self, onset: float, description: str, duration: float = 0.0) -> None:
        """Add a mark (``needle in``, ``needle out``) at ``onset`` s of stream time; the
        twitches decided from then on get their ``epoch`` from the marks so far."""
        self.annotations = self.annotations + Annotations([onset], duration, [description])

    def current_epochs(self, end: float | None = None) -> Epochs:
        """The needle insertions known now: the ``epochs`` given, else those of the
        annotations (an insertion still open lasts until ``end``, s; default the
        stream time), else none (``source="none"``)."""
        if self.epochs is not None:
            return self.epochs
        if len(self.annotations):
            end = self.n_samples / self.sfreq if end is None else end
            start, stop = epochs_from_annotations(self.annotations, end=end)
            if start.size:
                return Epochs(start, stop, "annotations",
                              np.full(start.size, "needle in", dtype=object))
        return Epochs(source="none")

    def _epoch_of(self, onsets: np.ndarray, t: int) -> np.ndarray:
        """Insertion of each onset (s) as known at sample ``t`` (-1: outside, or none
        known)."""
        return self.current_epochs(end=t / self.sfreq).assign(onsets)

    def iter(self, chunks: Iterable[Any]) -> Iterator[Twitch]:
        """Push every chunk of ``chunks`` and yield the twitches as they are decided,
        then flush."""
        for chunk in chunks:
            yield from self.push(chunk)
        yield from self.flush()

    def results(self) -> TwitchResults:
        """Everything decided so far as a :class:`ltr.TwitchResults` (the twitches
        exactly as they were reported; epochs as known now, else from needling
        activity, as :func:`ltr.detect` finds them)."""
        from ..detect.rules import NEEDLING

        fs = self.sfreq
        results = []
        for u in self._units:
            if u.parts:
                r = _concat(u.parts)
            else:
                r = unusable_result(u.name, u.modality, "")
                r.unit = self.units[u.rows[0]]
            results.append(r)
        # the twitches reported, and the ones set aside below the confidence floor
        events = _stack(self._events + self._low, empty_table())
        per_channel = _stack(self._per_channel, None)
        vetoed = _stack(self._vetoed, None)
        if vetoed is None:
            vetoed = {"onset": np.zeros(0), "offset": np.zeros(0),
                      "channel": np.zeros(0, dtype=object), "amplitude": np.zeros(0)}
        rejected, contractions = _turned_away(results, vetoed, fs, self.cfg)
        duration = self.n_samples / fs
        epochs = self.current_epochs(end=duration)
        if epochs.source == "none":
            marks = np.isin(rejected["reason"].astype(str), list(NEEDLING))
            epochs = epochs_from_activity(np.concatenate([events["onset"],
                                                          rejected["onset"][marks]]),
                                          end=duration)
        order = np.argsort(events["onset"], kind="stable")
        events = {k: v[order] for k, v in events.items()}
        events["epoch"] = epochs.assign(events["onset"])
        if per_channel is None:
            per_channel = {k: v[:0] for k, v in events.items()}
            per_channel.pop("channel", None)
            per_channel = {**empty_table(), **per_channel}
        per_channel["epoch"] = epochs.assign(per_channel["onset"])
        res = TwitchResults(
            events=events, channel_events=per_channel, rejected=rejected,
            contractions=contractions, noise_floor={r.name: r.floor for r in results},
            processing={r.name: r.processing for r in results}, epochs=epochs,
            config=self.cfg, sfreq=fs, duration=duration, source="stream",
            meta={"ltr_version": __version__, "live": dataclasses.asdict(self.stream),
                  "decisions": self.decisions,
                  "emg": [u.name for u in self._units if u.modality == "emg"],
                  "acc": [c for s in self.sensors.values() for c in s],
                  "sensors": self.sensors, "units": {r.name: r.unit for r in results}})
        return _apply_floor(res, self.cfg)  # as ltr.detect sets them aside

    # -- the watch ------------------------------------------------------------------
    @property
    def _buf(self) -> np.ndarray:
        """The raw samples kept, from sample ``_buf0`` on (a view)."""
        return self._store[:, : self._len]

    def _append(self, block: np.ndarray) -> None:
        """Keep raw samples: the recent buffer (grown by doubling, written in place) and
        the plans' head."""
        m = block.shape[1]
        if self._len + m > self._store.shape[1]:
            grown = np.empty((self._store.shape[0], 2 * (self._len + m)))
            grown[:, : self._len] = self._store[:, : self._len]
            self._store = grown
        self._store[:, self._len: self._len + m] = block
        self._len += m
        cap = self._plan_samples[-1] if self._next_plan < len(self._plan_samples) else 0
        if self._head_n < cap:
            n = min(block.shape[1], cap - self._head_n)
            self._head.append(block[:, :n])
            self._head_n += n

    def _filtered_energy(self, block: np.ndarray) -> np.ndarray:
        """Mean square per hop of every unit's band-passed signal, shape (units, hops)."""
        m = block.shape[1] // self._hop
        if self._dc is None:
            first = np.array([row[np.isfinite(row)][0] if np.isfinite(row).any() else 0.0
                              for row in block])
            self._dc = first[:, None]
        z = np.nan_to_num(block - self._dc)
        out = np.zeros((len(self._units), m))
        if "emg" in self._sos:
            y = self._filter("emg", z[self._emg_rows])
            if self._notch is not None:
                y, self._notch_zi = signal.sosfilt(self._notch, y, axis=-1, zi=self._notch_zi)
            out[self._unit_of_emg] = (y * y).reshape(y.shape[0], m, self._hop).mean(-1)
        if "acc" in self._sos:
            y = self._filter("acc", z[self._acc_rows])
            e = (y * y).reshape(y.shape[0], m, self._hop).mean(-1)
            for k, sl in self._acc_slices:
                out[k] = e[sl].sum(axis=0)  # the magnitude's mean square
        return out

    def _filter(self, key: str, z: np.ndarray) -> np.ndarray:
        sos = self._sos[key]
        if self._zi[key] is None:
            self._zi[key] = np.zeros((sos.shape[0], z.shape[0], 2))
        y, self._zi[key] = signal.sosfilt(sos, z, axis=-1, zi=self._zi[key])
        return y

    def _process(self, block: np.ndarray) -> list[Twitch]:
        """Whole hops, cut where the next plans are made: the watch's filters (the hum
        notch) change with the plans, so the hops after them are filtered anew, as when
        the block had arrived in smaller chunks."""
        out: list[Twitch] = []
        while block.shape[1]:
            cut = block.shape[1]
            if self._next_plan < len(self._plan_samples):
                ahead = self._plan_samples[self._next_plan] - self._n
                cut = min(cut, max(1, -(-ahead // self._hop)) * self._hop)
            out += self._process_hops(block[:, :cut])
            block = block[:, cut:]
        return out

    def _process_hops(self, block: np.ndarray) -> list[Twitch]:
        """The watch, hop by hop, and the decisions it calls for."""
        self._append(block)
        energy = self._filtered_energy(block)
        out: list[Twitch] = []
        nu = len(self._units)
        cols = np.arange(nu)
        for j in range(energy.shape[1]):  # a loop over hops (100 a second), not samples
            h0 = self._n
            h1 = h0 + self._hop
            self._n = h1
            self._hist[:, :-1] = self._hist[:, 1:]  # the last hops, oldest first
            self._hist[:, -1] = energy[:, j]
            kmax = self._hist.shape[1]
            csum = np.cumsum(self._hist[:, ::-1], axis=1)
            env2 = csum[cols, self._k - 1] / self._k if kmax > 1 else self._hist[:, -1]
            self._block_env.append(env2)
            if len(self._block_env) == self._hops_per_block:
                self._block_meds.append(np.median(np.stack(self._block_env), axis=0))
                self._block_env = []
                self._floor2 = np.median(np.stack(self._block_meds), axis=0)
            thr = self._thr if self._region is None else self._thr_off
            with np.errstate(invalid="ignore"):
                active = env2 > thr * self._floor2
            if active.any():
                r = self._region
                if r is None:
                    start = max(0, h1 - int(self._k.max()) * self._hop)
                    r = self._region = _Region(start=start, last=np.full(nu, -1),
                                               units=np.zeros(nu, bool),
                                               peak=np.zeros(nu))
                r.units |= active
                r.last[active] = h1
                with np.errstate(invalid="ignore", divide="ignore"):
                    r.peak = np.fmax(r.peak, np.where(active, env2 / self._floor2, 0.0))
                if r.emg_first is None and (active & self._is_emg).any():
                    r.emg_first = h0
            if (self._next_plan < len(self._plan_samples)
                    and h1 >= self._plan_samples[self._next_plan]):
                self._make_plans(h1)
            r = self._region
            if r is not None and self._next_plan > 0:
                # EMG decides: an accelerometer jolt still ringing after the burst waits
                # on its own, and joins the twitch when it is decided
                emg = r.units & self._is_emg
                sel = emg if emg.any() else r.units
                quiet = bool(np.all(h1 - r.last[sel] >= self._quiet_u[sel]))
                waited = (not self._has_acc or r.emg_first is None
                          or h1 >= r.emg_first + self._acc_wait)
                if quiet and waited:
                    out += self._decide(h1)
                elif h1 - r.start >= self._max_span + int(self._settle[r.units].max()):
                    out += self._decide(h1, forced=True)
            if self._held:
                out += self._release(h1)
        self._trim()
        return out

    def _make_plans(self, upto: int) -> None:
        """The channel-wide estimates from the first samples (the offline plans once
        :data:`ltr.detect.plan.CALIBRATION` s are in)."""
        n = min(upto, self._head_n)
        for u in self._units:
            rows = np.concatenate([b[u.rows] for b in self._head], axis=1)[:, :n]
            if not np.isfinite(rows).any():
                u.plan = None
                continue
            u.plan = (plan_emg(rows[0], self.sfreq, self.cfg) if u.modality == "emg"
                      else plan_acc(rows, self.sfreq))
            if u.modality == "emg" and u.plan.ecg is not None:
                # settle the heartbeat template on the calibration beats, as the offline
                # detector does on its first piece
                detect_emg_channel(rows[0], self.sfreq, u.name, self.cfg, u.plan,
                                   motion=False)
        plans = [u.plan for u in self._units if u.plan is not None]
        beat = round(self.stream.beat_wait * self.sfreq)
        self._quiet_u = np.array([max(self._quiet, beat) if getattr(u.plan, "ecg", None)
                                  is not None else self._quiet for u in self._units])
        self._grid = alignment(self.sfreq, self.cfg, plans)
        if self._grid > self._ctx:
            # hum at an odd frequency makes the lock-in blocks' common multiple long
            # (200 s at 49.87 Hz): pieces then start on the floor's and decimation's
            # grid, and the lock-in blocks differ from offline by where they start
            self._grid = alignment(self.sfreq, self.cfg,
                                   [p for p in plans if isinstance(p, AccPlan)])
        self._set_notch()
        while (self._next_plan < len(self._plan_samples)
               and upto >= self._plan_samples[self._next_plan]):
            self._next_plan += 1
        self._next_plan = max(self._next_plan, 1)
        if self._next_plan >= len(self._plan_samples):
            self._head = []  # not needed any more
        logger.info("live: plans made from the first %.1f s", n / self.sfreq)

    def _set_notch(self) -> None:
        """Notch the mains harmonics the plans found out of the watch's EMG signal (only
        the watch: the detector subtracts hum its own way)."""
        freqs = sorted({round(u.plan.mains_hz * h, 6) for u in self._units
                        if u.modality == "emg" and u.plan is not None
                        and u.plan.mains_hz is not None for h in u.plan.harmonics})
        lo, hi = band_edges(self.cfg.emg.band, self.sfreq)
        freqs = [f for f in freqs if lo < f < hi]
        key = tuple(freqs)
        if key == getattr(self, "_notch_key", ()):
            return
        self._notch_key = key
        if not freqs:
            self._notch = self._notch_zi = None
        else:
            secs = [signal.tf2sos(*signal.iirnotch(f, 30.0, self.sfreq)) for f in freqs]
            self._notch = np.concatenate(secs)
            self._notch_zi = np.zeros((self._notch.shape[0], self._emg_rows.size, 2))
        # the floor learnt with the hum in it would be too high
        self._block_meds.clear()
        self._block_env = []
        self._floor2 = np.full(len(self._units), np.nan)

    # -- decisions ------------------------------------------------------------------
    def _decide(self, t: int, *, forced: bool = False, final: bool = False) -> list[Twitch]:
        """Run the offline front end over the open stretch of activity up to sample
        ``t``; on each channel, what lies before a quiet cut is final."""
        r = self._region
        assert r is not None
        run = r.units.copy()
        if self._has_acc and (run & ~self._is_emg).any():
            run |= self._is_emg  # movement spans on the EMG leads veto accelerometer events
        if self._has_acc and self.stream.fuse_late and (run & self._is_emg).any():
            # the jolt that fusion joins to an EMG burst is looked for even where the
            # watch did not flag it (the detector's centred floor can be lower)
            run |= ~self._is_emg
        emg = np.flatnonzero(run & self._is_emg)
        top = self.stream.max_channels
        if emg.size > top:  # a grid: the channels that saw it best decide it
            drop = emg[np.argsort(-r.peak[emg], kind="stable")[top:]]
            run[drop] = False
            self._final[drop] = np.maximum(self._final[drop],
                                           r.start - self._lookback)
        grid = self._grid
        w0 = max(0, ((r.start - self._ctx) // grid) * grid)
        if w0 < self._buf0:
            w0 = -(-self._buf0 // grid) * grid
        hi0 = t if final else t - self._edge
        self._fold(t, np.flatnonzero(run).tolist())
        new: dict[int, ChannelResult] = {}
        lows: dict[int, int] = {}
        pending = np.zeros_like(run)
        for k in np.flatnonzero(run):
            u = self._units[k]
            if u.plan is None:
                continue
            lo = int(max(self._final[k], r.start - self._lookback))
            data = self._buf[u.rows, w0 - self._buf0: t - self._buf0]
            plan = u.plan
            if isinstance(plan, AccPlan):
                # the causal filter starts from rest at the piece's start
                plan = dataclasses.replace(plan, origin=np.nan_to_num(
                    data[:, : plan.q].mean(axis=1, keepdims=True)))
                res = detect_acc_sensor(data, self.sfreq, u.name, self.cfg, plan, start=w0)
            else:
                res = detect_emg_channel(data[0], self.sfreq, u.name, self.cfg, plan,
                                         start=w0, motion=self._has_acc)
            self.decisions += 1
            hi = hi0 - int(self._settle[k]) if forced else hi0
            cut = hi
            if not final:
                c = min(_quiet_cut(res, lo, hi, self._guard, w0), self._hold(res, lo, hi, w0))
                if c < hi:  # a candidate runs on past the decision point: it waits
                    pending[k] = True
                    cut = c if c > lo or not forced else hi
            cut = max(cut, lo)
            part = _keep(res, lo, cut, w0)
            if res.modality == "emg":
                # movement on the leads vetoes accelerometer events: the spans seen over
                # the fusion's reach, even where this channel was decided before
                reach = max(w0, lo - round(self.stream.fusion_context * self.sfreq))
                part.motion = _keep(res, reach, cut, w0).motion
            part.unit = self.units[u.rows[0]]
            mark_clipping(part, [rails_of(s) for s in u.extremes])
            u.parts.append(part)
            new[k] = part
            lows[k] = lo
            self._final[k] = cut
        if pending.any():
            r.units = pending
            r.start = int(self._final[pending].min())
            r.last = np.where(pending, np.maximum(r.last, t), -1)
            if not (pending & self._is_emg).any():
                r.emg_first = None
        else:
            self._region = None
        return self._fuse(new, lows, t)

    def _hold(self, res: ChannelResult, lo: int, hi: int, offset: int) -> int:
        """Where the candidates that need more signal after them begin (``hi`` when
        none do).

        Two rules look further ahead than a twitch lasts: a train of endplate spikes is
        told from a twitch's potentials by its span (``[reject] train_min_span``, spikes
        within ``train_gap`` s of each other), and accelerometer tremor is found over
        ``[acc] tremor_window`` s centred. When spikes follow one another near the end
        of what was seen, or a candidate has tremor around it, what starts there waits
        until that much signal has come in after it. A run of the train test's spikes
        still open at the end (its last spike within ``train_gap`` s) that is not yet a
        train waits whole, from its first spike: it may still become one, and offline
        its spikes, and those of its spikes that fire close together, are blanked.
        """
        cfg = self.cfg
        on = res.onset + offset
        if res.modality == "emg":
            r = cfg.reject
            first = self._open_run(res, hi, offset)
            if on.size == 0:
                return hi if first is None else int(max(first - self._guard, lo))
            reach = round(max(r.train_gap, r.train_min_span / 2) * self.sfreq)
            spiky = (res.reason == "needle_spike") & (on >= hi - reach)
            if np.count_nonzero(spiky) >= 2:
                first = min(on[spiky].min(), first if first is not None else np.inf)
            if first is None:
                return hi
        else:
            if on.size == 0:
                return hi
            reach = round(cfg.acc.tremor_window / 2 * self.sfreq)
            shaky = (res.features["tremor_amp"] > 0) & (res.offset + offset >= hi - reach)
            if not shaky.any():
                return hi
            first = on[shaky].min()
        return int(max(first - self._guard, lo))

    def _open_run(self, res: ChannelResult, hi: int, offset: int) -> int | None:
        """First sample of the run of train-test spikes still open at ``hi`` that is not
        a train yet (:func:`ltr.detect._channel.in_trains`), or None."""
        r = self.cfg.reject
        t_on, t_off = res.train_spikes
        if t_on.size < 2:
            return None
        gap = r.train_gap * self.sfreq
        t_on, t_off = t_on + offset, t_off + offset
        label = _train_groups(t_on, t_off, gap)
        last = label == label[-1]
        if hi - t_off[-1] > gap or np.count_nonzero(last) < 2:
            return None  # closed, or a lone spike so far
        a, b = int(t_on[last][0]), int(t_off[-1])
        if b - a >= r.train_min_span * self.sfreq and np.count_nonzero(last) >= r.train_min_spikes:
            return None  # already a train: blanked as offline
        # a train's spikes stand alone between bursts, a twitch's potentials inside its
        # burst: only a run with at least two spikes outside every candidate (lone
        # spikes and potentials aside) may be a train beginning
        burst = ~np.isin(res.reason.astype(str), (REASONS["needle_spike"].name,
                                                  REASONS["single_mup"].name))
        starts = t_on[last] - offset
        inside = ((res.onset[burst][None, :] <= starts[:, None])
                  & (starts[:, None] < res.offset[burst][None, :])).any(axis=1)
        return a if np.count_nonzero(~inside) >= 2 else None

    def _fuse(self, new: dict[int, ChannelResult], lows: dict[int, int], t: int,
              ) -> list[Twitch]:
        """Fuse the newly decided candidates with the recent ones; report the twitches
        not reported yet."""
        fs = self.sfreq
        if not new:
            return []
        # held twitches are fused again with what is decided now (a jolt joins them)
        since = min([*lows.values(), *self._held]) - round(self.stream.fusion_context * fs)
        results = []
        for k in range(len(self._units)):
            recent = [p for p in self._recent[k] if p.onset.size and p.onset[-1] >= since]
            self._turned_away[self._units[k].name] += sum(
                int((~p.accepted).sum()) for p in self._recent[k]
                if p.onset.size and p.onset[-1] < since)
            if k in new:
                recent.append(new[k])
            self._recent[k] = recent
            if recent:
                results.append(_concat([dataclasses.replace(p, processing=dict(
                    p.processing)) for p in recent]))
        if not any(r.accepted.any() for r in results):
            return []
        events, per_channel, vetoed, _ = _fuse_channels(results, fs, self.cfg,
                                                        self._turned_away)
        lo_of = {self._units[k].name: lo for k, lo in lows.items()}

        def is_new(table: dict[str, np.ndarray]) -> np.ndarray:
            lo = np.array([lo_of.get(c, np.iinfo(np.int64).max) for c in table["channel"]])
            return np.round(table["onset"] * fs) >= lo

        per_channel = {k: v[is_new(per_channel)] for k, v in per_channel.items()}
        vetoed = {k: v[is_new(vetoed)] for k, v in vetoed.items()}
        # a twitch is new when the row that gives its onset is new (an accelerometer jolt
        # decided after its EMG burst joins the twitch already reported)
        onset_samples = np.round(events["onset"] * fs).astype(np.int64)
        seen = set(self._emitted)
        news = set(np.round(per_channel["onset"] * fs).astype(np.int64).tolist())
        keep = np.array([o not in seen and o in news for o in onset_samples.tolist()],
                        dtype=bool)
        # ... or when it was held back: a partner on another channel was not decided
        keep |= np.isin(onset_samples, list(self._held))
        keep &= ~np.isin(onset_samples, list(seen))
        self._per_channel.append(per_channel)
        self._vetoed.append(vetoed)
        rows = [{c: _scalar(events[c][i]) for c in events} for i in np.flatnonzero(keep)]
        # a held twitch is fused again at each decision until it is reported: the latest
        # fusion wins, and one that fusion no longer gives (joined to another) is dropped
        self._held = {int(o): row for o, row in zip(onset_samples[keep].tolist(), rows,
                                                     strict=True)}
        return self._release(t)

    def _partners_decided(self, onset: int, modality: str, t: int) -> bool:
        """Whether every candidate that fusion could join to a twitch at sample
        ``onset`` (of ``modality``) has been decided by sample ``t``.

        Fusion joins an accelerometer jolt whose onset lies ``[fusion] acc_delay``
        after an EMG onset, and EMG bursts within ``emg_window`` of each other. A
        channel that could hold such a partner is decided past it when its decided
        part (``_final``) reaches beyond the partner's latest onset; a channel with no
        open activity cannot hold one once the watch would have flagged it
        (:attr:`StreamConfig.lookback` after that onset).
        """
        cfg = self.cfg.fusion
        fs = self.sfreq
        has_emg = "emg" in modality
        r = self._region
        for k, u in enumerate(self._units):
            if u.plan is None:
                continue
            if has_emg:
                reach = cfg.acc_delay[1] if u.modality == "acc" else cfg.emg_window
            else:
                reach = -cfg.acc_delay[0] if u.modality == "emg" else cfg.emg_window
            latest = onset + round(reach * fs)
            if self._final[k] > latest or not self.stream.fuse_late:
                continue
            if (r is None or not r.units[k]) and t - self._lookback > latest:
                continue
            return False
        return True

    def _release(self, t: int, *, final: bool = False) -> list[Twitch]:
        """Report the held twitches whose fusion partners are all decided by sample
        ``t`` (all of them when ``final``), as :class:`Twitch` (``decided_at`` = ``t``)."""
        if not self._held:
            return []
        fs = self.sfreq
        ready = [o for o, row in self._held.items()
                 if final or self._partners_decided(o, row["modality"], t)]
        if not ready:
            return []
        rows = [self._held.pop(o) for o in sorted(ready)]
        # the confidence floor of ltr.detect (confidence.min_confidence): twitches below
        # it are not reported; results() lists them as rejected (low_confidence)
        below = below_floor([row["confidence"] for row in rows],
                            [row["modality"] for row in rows],
                            self.cfg.confidence.min_confidence, calibrated_only=True)
        low = [row for row, b in zip(rows, below, strict=True) if b]
        rows = [row for row, b in zip(rows, below, strict=True) if not b]
        for row in low:
            self._emitted.append(round(row["onset"] * fs))
        if low:
            self._low.append({c: np.asarray([row[c] for row in low],
                                            dtype=self._event_dtypes[c])
                              for c in self._event_dtypes})
        if not rows:
            return []
        epoch = self._epoch_of(np.array([row["onset"] for row in rows]), t)
        out = []
        for row, ep in zip(rows, epoch.tolist(), strict=True):  # a loop over new twitches
            row["epoch"] = int(ep)
            self._emitted.append(round(row["onset"] * fs))
            tw = Twitch(onset=row["onset"], offset=row["offset"], duration=row["duration"],
                        peak_time=row["peak_time"], channel=row["channel"],
                        channels=row["channels"], modality=row["modality"],
                        amplitude=row["amplitude"], unit=row["unit"],
                        jolt_amplitude=row["jolt_amplitude"], snr_db=row["snr_db"],
                        confidence=row["confidence"], decided_at=t / fs, row=row)
            out.append(tw)
            if self.callback is not None:
                self.callback(tw)
        self._events.append({c: np.asarray([row[c] for row in rows],
                                           dtype=self._event_dtypes[c])
                             for c in self._event_dtypes})
        return out

    def _fold(self, upto: int, units: Iterable[int] | None = None) -> None:
        """Fold raw samples up to ``upto`` into the rail and gap summaries (of every
        unit, or of ``units``)."""
        for k in range(len(self._units)) if units is None else units:
            a = int(max(self._folded[k], self._buf0))
            if upto > a:
                u = self._units[k]
                u.add_extremes(self._buf[u.rows, a - self._buf0: upto - self._buf0], a)
                self._folded[k] = upto

    def _trim(self) -> None:
        """Drop raw samples no decision can need any more."""
        start = self._region.start if self._region is not None else self._n
        keep_from = max(0, start - self._ctx - self._grid - self._lookback - self._hop)
        # dropped in steps of 2 contexts: each drop moves what is kept
        if keep_from - self._buf0 > max(2 * self._ctx, self._grid, 4 * self._hop):
            self._fold(keep_from)
            k = keep_from - self._buf0
            self._store[:, : self._len - k] = self._store[:, k: self._len]
            self._len -= k
            self._buf0 = keep_from


def _scalar(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def _stack(tables: list[dict[str, np.ndarray]], empty: dict[str, np.ndarray] | None,
           ) -> dict[str, np.ndarray] | None:
    """Concatenate tables with the same columns (``empty`` when there are none)."""
    tables = [t for t in tables if t and next(iter(t.values())).size]
    if not tables:
        return empty
    return {k: np.concatenate([t[k] for t in tables]) for k in tables[0]}

