"""Run the per-channel detectors over a recording, whole or in overlapping pieces.

A long recording need not fit in memory: it is read and processed in pieces of
``block`` seconds, each with ``context`` seconds on both sides, and the events are the
same as when the whole recording is processed at once. That holds because

- everything that describes a channel as a whole (mains hum, heartbeat rhythm and shape,
  pop scale) is estimated once, before the first piece (:mod:`ltr.detect.plan`); the
  saturation rails are summarised piece by piece and candidates touching them are
  marked at the end;
- pieces start on a common grid (:func:`ltr.detect.plan.alignment`), so noise-floor
  blocks, mains lock-in blocks and decimation groups fall on the same samples;
- the context (default 15 s) covers everything local: the running noise floor looks
  ±10 s, filters' transients die out within a second, envelopes span milliseconds;
- a piece hands over to the next at a quiet point: no candidate (and nothing that could
  chain candidates into a contraction) within ``reject.contraction_margin`` of the cut.
  When a contraction outlasts a piece, the cut waits and the next piece grows.

What differs between the two is floating-point rounding of running sums and IIR filter
states (relative 1e-12 or less), far below anything a threshold could notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._logging import logger, report_progress
from ..quality import merge_top_two, rails_of, top_two
from ..recording import Recording
from ._channel import ChannelResult, detect_acc_sensor, detect_emg_channel, mark_clipping
from ._us import companions, detect_us_channel
from .config import DetectorConfig
from .core import runs
from .plan import (
    AccPlan,
    EmgPlan,
    alignment,
    calibration_samples,
    plan_acc,
    plan_emg,
)

#: Default piece length (s) when a recording is streamed.
BLOCK = 300.0
#: Default context (s) read on both sides of a piece.
CONTEXT = 15.0


@dataclass
class _Unit:
    """One EMG channel or accelerometer sensor and its progress through the recording."""

    name: str
    modality: str
    rows: list[int]
    plan: EmgPlan | AccPlan | None = None
    done: int = 0  # samples handed over so far (the next piece starts here)
    parts: list[ChannelResult] = field(default_factory=list)
    extremes: list[np.ndarray] = field(default_factory=list)  # top_two per raw channel

    context: list[str] = field(default_factory=list)
    """A ``us`` channel's context channels (``rows[1:]``)."""
    unit: str = ""
    gap_runs: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)
    """Missing-sample runs per hand-over: (row, starts, stops)."""
    unusable: str = ""

    def add_extremes(self, data: np.ndarray, start: int = 0) -> None:
        """Fold the raw samples handed over (``data[:, 0]`` is sample ``start``) into the
        rail summaries and the gap table."""
        if self.modality == "us":
            data = data[:1]  # the speed; its context channels may be NaN (no needle)
        stats = [top_two(row) for row in data]
        self.extremes = stats if not self.extremes else [
            merge_top_two(a, b) for a, b in zip(self.extremes, stats, strict=True)]
        if np.isfinite(np.sum(data)):
            return
        for r, row in enumerate(data):  # a loop over the unit's rows (1-3)
            on, off = runs(~np.isfinite(row))
            if on.size == 0:
                continue
            on, off = on + start, off + start
            mine = [k for k, g in enumerate(self.gap_runs) if g[0] == r]
            if mine and self.gap_runs[mine[-1]][2][-1] == on[0]:
                # a gap running over a hand-over continues the one before it
                self.gap_runs[mine[-1]][2][-1] = off[0]
                on, off = on[1:], off[1:]
            self.gap_runs.append((r, on, off))

    def finish(self, sfreq: float, cfg: DetectorConfig) -> ChannelResult:
        if self.unusable:
            return unusable_result(self.name, self.modality, self.unusable)
        res = _concat(self.parts)
        mark_clipping(res, [rails_of(s) for s in self.extremes])
        row = np.concatenate([np.full(g[1].size, g[0]) for g in self.gap_runs]
                             + [np.zeros(0, int)]).astype(int)
        start = np.concatenate([g[1] for g in self.gap_runs] + [np.zeros(0, int)])
        stop = np.concatenate([g[2] for g in self.gap_runs] + [np.zeros(0, int)])
        order = np.lexsort((start, row))
        limit = max(1, round(cfg.gaps.max_fill * sfreq))
        res.gaps = {"row": row[order], "start": start[order].astype(int),
                    "stop": stop[order].astype(int),
                    "long": (stop[order] - start[order]) > limit}
        return res


def unusable_result(name: str, modality: str, why: str) -> ChannelResult:
    """An empty result for a channel that could not be analysed, saying why."""
    none = np.zeros(0)
    feats = {k: none for k in ("amplitude", "rms", "area", "snr_db", "burst", "crest",
                               "median_freq", "high_rms", "rise_time")}
    feats["peak"] = np.zeros(0, dtype=int)
    return ChannelResult(name=name, modality=modality, unit="", onset=np.zeros(0, int),
                         offset=np.zeros(0, int), features=feats,
                         reason=np.zeros(0, dtype=object), floor=float("nan"),
                         processing={"unusable": why}, unusable=why)


def _run_unit(u: _Unit, data: np.ndarray, sfreq: float, cfg: DetectorConfig, start: int,
              motion: bool) -> ChannelResult:
    if u.modality == "us":
        return detect_us_channel(data, sfreq, u.name, cfg, u.context, unit=u.unit)
    if u.modality == "emg":
        assert isinstance(u.plan, EmgPlan)
        return detect_emg_channel(data[0], sfreq, u.name, cfg, u.plan, start=start,
                                  motion=motion)
    assert isinstance(u.plan, AccPlan)
    return detect_acc_sensor(data, sfreq, u.name, cfg, u.plan, start=start)


def _quiet_cut(res: ChannelResult, lo: int, hi: int, guard: int, offset: int = 0) -> int:
    """The latest sample in ``(lo, hi]`` with no candidate within ``guard`` samples
    (candidates at ``res.onset + offset``, like ``lo`` and ``hi``).

    Returns ``lo`` when activity runs through the whole stretch.
    """
    if res.onset.size == 0:
        return hi
    order = np.argsort(res.onset, kind="stable")
    busy_on = res.onset[order] + offset - guard
    busy_off = np.maximum.accumulate(res.offset[order] + offset + guard)
    # merged busy stretches: a new one starts where a start lies beyond all stops so far
    new = np.r_[True, busy_on[1:] >= busy_off[:-1]]
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, busy_on.size - 1]
    g_on, g_off = busy_on[first], busy_off[last]
    inside = np.flatnonzero((g_on < hi) & (hi < g_off))
    p = int(g_on[inside[0]]) if inside.size else hi
    return p if p > lo else lo


def _keep(res: ChannelResult, lo: int, hi: int, offset: int) -> ChannelResult:
    """The part of a piece's result that belongs to ``[lo, hi)`` (absolute), made absolute."""
    on = res.onset + offset
    sel = (on >= lo) & (on < hi)
    feats = {k: v[sel] for k, v in res.features.items()}
    if "peak" in feats:
        feats["peak"] = feats["peak"] + offset
    m_on, m_off = res.motion
    m_on, m_off = np.clip(m_on + offset, lo, hi), np.clip(m_off + offset, lo, hi)
    keep_m = m_off > m_on
    b = res.floor_block
    centres = offset + (np.arange(res.floor_blocks.size) + 0.5) * b
    in_core = (centres >= lo) & (centres < hi)
    beats = res.heartbeats + offset
    out = ChannelResult(
        name=res.name, modality=res.modality, unit=res.unit, onset=on[sel],
        offset=res.offset[sel] + offset, features=feats, reason=res.reason[sel],
        floor=res.floor, processing=res.processing,
        motion=(m_on[keep_m], m_off[keep_m]), floor_blocks=res.floor_blocks[in_core],
        floor_block=b, heartbeats=beats[(beats >= lo) & (beats < hi)])
    return out


def _concat(parts: list[ChannelResult]) -> ChannelResult:
    """One result from consecutive pieces' results."""
    first = parts[0]
    if len(parts) == 1:
        res = first
    else:
        feats = {k: np.concatenate([p.features[k] for p in parts]) for k in first.features}
        res = ChannelResult(
            name=first.name, modality=first.modality, unit=first.unit,
            onset=np.concatenate([p.onset for p in parts]),
            offset=np.concatenate([p.offset for p in parts]),
            features=feats, reason=np.concatenate([p.reason for p in parts]),
            floor=first.floor, processing=dict(first.processing),
            motion=(np.concatenate([p.motion[0] for p in parts]),
                    np.concatenate([p.motion[1] for p in parts])),
            floor_blocks=np.concatenate([p.floor_blocks for p in parts]),
            floor_block=first.floor_block,
            heartbeats=np.concatenate([p.heartbeats for p in parts]))
    finite = res.floor_blocks[np.isfinite(res.floor_blocks)]
    res.floor = float(np.median(finite)) if finite.size else float("nan")
    if res.modality == "emg":
        res.processing["heartbeats"] = int(res.heartbeats.size)
        blanked = (res.reason == "needle_spike") & np.isnan(res.features["rms"])
        res.processing["spikes_blanked"] = int(blanked.sum())
    return res


def run_channels(
    rec: Recording, cfg: DetectorConfig, emg: Sequence[str],
    sensors: dict[str, list[str]], *, block: float | None = None,
    context: float = CONTEXT, n_jobs: int | None = None, us: Sequence[str] = (),
) -> tuple[list[ChannelResult], int]:
    """Per-channel candidates of every EMG channel and accelerometer sensor.

    Parameters
    ----------
    rec : Recording
    cfg : DetectorConfig
    emg : sequence of str
        EMG channels.
    sensors : dict
        Accelerometer sensor name → its axis channels.
    us : sequence of str
        Ultrasound ``us`` channels, each read with its context channels
        (:func:`ltr.detect._us.companions`).
    block : float | None
        Process in pieces of this many seconds (None: the whole recording at once).
    context : float
        Seconds read on both sides of a piece.
    n_jobs : int | None
        Channels processed in parallel (joblib semantics: None or 1 serial, -1 all cores);
        threads, since the numerical work runs outside the interpreter lock.

    Returns
    -------
    results : list of ChannelResult
        Sample indices relative to the recording's first sample.
    pieces : int
        Pieces read and processed (1 for the whole recording at once).
    """
    sfreq = rec.sfreq
    n = rec.n_samples
    names = list(rec.ch_names)
    units = [_Unit(ch, "emg", [names.index(ch)]) for ch in emg]
    units += [_Unit(s, "acc", [names.index(c) for c in axes]) for s, axes in sensors.items()]
    for ch in us:
        ctx = companions(ch, names)
        units.append(_Unit(ch, "us", [names.index(c) for c in (ch, *ctx)], context=ctx,
                           unit=rec.units[names.index(ch)] or "a.u."))
    rows = sorted({r for u in units for r in u.rows})
    motion = bool(sensors)
    whole = block is None or n <= round((block + 2 * context) * sfreq)
    if whole:
        # in memory: views of the recording's own array, no copy (nothing writes to it)
        data = rec.data if rec.preloaded else rec.get_data(picks=rows)
        if rec.preloaded:
            rows = list(range(rec.n_channels))
        head = data[:, : calibration_samples(sfreq)]
    else:
        if block < 2 * cfg.reject.contraction_margin + 1 or block * sfreq < calibration_samples(
                sfreq) + 2 * sfreq:
            raise ValueError(f"{rec.meta.get('source', 'recording')}: block={block:g} s is "
                             f"too short for a {rec.duration:g}-s recording: pieces must hold "
                             f"the first {calibration_samples(sfreq) / sfreq:g} s "
                             f"(calibration); use 122 s or more, or 0 for all at once")
        head = rec.get_data(0, min(n, calibration_samples(sfreq)), picks=rows)
    pos = {r: i for i, r in enumerate(rows)}

    def rows_of(block: np.ndarray, u: _Unit) -> np.ndarray:
        """The unit's rows of a block: a view when they are consecutive."""
        idx = [pos[r] for r in u.rows]
        if idx == list(range(idx[0], idx[0] + len(idx))):
            return block[idx[0]: idx[0] + len(idx)]
        return block[idx]

    for u in units:
        if not np.isfinite(rows_of(head, u)).any():
            u.unusable = (f"no finite sample in the first {head.shape[-1] / sfreq:g} s "
                          f"(the calibration stretch): all NaN")
            u.done = n
            continue
        if u.modality == "us":
            continue  # nothing channel-wide to estimate
        if u.modality == "emg":
            u.plan = plan_emg(rows_of(head, u)[0], sfreq, cfg)
        else:
            u.plan = plan_acc(rows_of(head, u), sfreq)
    usable = [u for u in units if not u.unusable]
    if whole:
        results = _parallel(
            [(u, rows_of(data, u), 0) for u in usable], sfreq, cfg, motion,
            n_jobs)
        for u, res in zip(usable, results, strict=True):
            u.parts = [_keep(res, 0, n, 0)]
            u.add_extremes(rows_of(data, u))
        return [u.finish(sfreq, cfg) for u in units], 1
    grid = alignment(sfreq, cfg, [u.plan for u in usable if u.plan is not None])
    step = max(grid, (round(block * sfreq) // grid) * grid)
    ctx = round(context * sfreq)
    guard = round((max(cfg.reject.contraction_margin, cfg.reject.dense_gap,
                       cfg.segment.merge_gap) + 0.05) * sfreq)  # + 50 ms: envelope spread
    nominal = 0
    pieces = 0
    while usable and min(u.done for u in usable) < n:
        nominal = min(n, nominal + step)
        starts = {u.name: max(0, ((u.done - ctx) // grid) * grid) for u in usable}
        stop = min(n, nominal + ctx)
        w0 = min(starts.values())
        data = rec.get_data(w0, stop, picks=rows)
        logger.info("piece %.0f-%.0f s", w0 / sfreq, stop / sfreq)
        jobs = [(u, rows_of(data, u)[:, starts[u.name] - w0:], starts[u.name])
                for u in usable if u.done < n]
        results = _parallel(jobs, sfreq, cfg, motion, n_jobs)
        pieces += 1
        for (u, _, s0), res in zip(jobs, results, strict=True):
            cut = n if nominal >= n else _quiet_cut(res, u.done, nominal, guard, s0)
            if cut > u.done:
                u.parts.append(_keep(res, u.done, cut, s0))
                u.add_extremes(rows_of(data, u)[:, u.done - w0: cut - w0], u.done)
                u.done = cut
        report_progress(min((u.done for u in usable), default=n), n)
    return [u.finish(sfreq, cfg) for u in units], pieces


def _run_unit_with_plan(u: _Unit, data: np.ndarray, sfreq: float, cfg: DetectorConfig,
                        start: int, motion: bool) -> tuple[ChannelResult, Any]:
    res = _run_unit(u, data, sfreq, cfg, start, motion)
    return res, u.plan  # the first piece settles the heartbeat template in the plan


def _parallel(jobs: list[tuple[_Unit, np.ndarray, int]], sfreq: float, cfg: DetectorConfig,
              motion: bool, n_jobs: int | None) -> list[ChannelResult]:
    if n_jobs in (None, 1) or len(jobs) < 2:
        return [_run_unit(u, d, sfreq, cfg, s, motion) for u, d, s in jobs]
    from joblib import Parallel, delayed

    # threads by default (no copies; numpy and scipy release the interpreter lock); a
    # process backend chosen with joblib.parallel_config works too: plans come back
    out = Parallel(n_jobs=n_jobs, prefer="threads")(
        delayed(_run_unit_with_plan)(u, d, sfreq, cfg, s, motion) for u, d, s in jobs)
    for (u, _, _), (_, plan) in zip(jobs, out, strict=True):
        u.plan = plan
    return [res for res, _ in out]
