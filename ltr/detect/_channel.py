"""Per-channel detection: EMG channels and accelerometer sensors to accepted candidates."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..envelope import tkeo, window_samples
from ..preprocess import (
    MAX_EDGE_FRACTION,
    band_edges,
    bandpass,
    beats,
    butter_sos,
    condition_acc,
    decimate_mean,
    ecg_template,
    fill_gaps,
    find_tremor,
    qrs_decimation,
    remove_mains,
    remove_tremor,
    repair_glitches,
    subtract_ecg,
)
from .config import AccConfig, DetectorConfig, RejectConfig
from .core import (
    MovingSums,
    at_blocks,
    block_floor,
    block_length,
    hysteresis_blocks,
    interp_blocks,
    merge_close,
    place_edges,
    runs,
    segment_features,
    split_at_valleys,
    trim_lead_ins,
)
from .plan import AccPlan, EmgPlan, calibration_samples, plan_acc, plan_emg
from .rules import ACC_RULES, CONTRACTION, EMG_RULES, MOVEMENT, Candidates, clipping, judge
from .rules import near as _near


@dataclass
class ChannelResult:
    """Candidates of one EMG channel or accelerometer sensor."""

    name: str
    modality: str
    unit: str
    onset: np.ndarray
    offset: np.ndarray
    features: dict[str, np.ndarray]
    reason: np.ndarray
    floor: float
    processing: dict[str, Any] = field(default_factory=dict)
    motion: tuple[np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0, dtype=int), np.zeros(0, dtype=int)))
    traces: dict[str, np.ndarray] = field(default_factory=dict)
    floor_blocks: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Running noise floor per block of ``floor_block`` samples from the stretch start."""
    floor_block: int = 1
    heartbeats: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    gaps: dict[str, np.ndarray] = field(default_factory=dict)
    """Runs of missing samples (set by :mod:`ltr.detect.stream`): ``row``, ``start``,
    ``stop`` (samples, stop exclusive) and ``long`` (left out of detection)."""
    unusable: str = ""
    """Why the channel could not be analysed at all ("" when it could)."""
    train_spikes: tuple[np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0, dtype=int), np.zeros(0, dtype=int)))
    """Sample ranges (starts, stops) of the spikes the endplate-train test found, whether
    or not they formed a train yet (:func:`in_trains`): what a streaming detector waits
    on (:meth:`ltr.live.StreamingDetector._hold`). Not carried when pieces are joined."""

    @property
    def accepted(self) -> np.ndarray:
        return self.reason == ""


def _extremes_in(x: np.ndarray, onset: np.ndarray, offset: np.ndarray,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Largest and smallest finite sample of ``x`` in each ``[onset, offset)``."""
    hi = np.full(onset.size, np.nan)
    lo = np.full(onset.size, np.nan)
    ln = np.maximum(offset - onset, 0)
    ok = ln > 0
    if ok.any():
        on, ln = onset[ok], ln[ok]
        starts = np.r_[0, np.cumsum(ln)[:-1]]
        vals = x[np.repeat(on - starts, ln) + np.arange(ln.sum())]
        hi[ok] = np.fmax.reduceat(vals, starts)
        lo[ok] = np.fmin.reduceat(vals, starts)
    return hi, lo


def mark_clipping(res: ChannelResult, rails: list[tuple[float | None, float | None]]) -> None:
    """Turn away candidates that touch a saturated rail (``rails``: one pair per raw
    channel, from the whole recording; :func:`ltr.detect.rules.clipping`). Clipping is
    first in the rule tables, so it replaces whatever else a candidate was turned away
    for; blanked spikes keep theirs."""
    c = Candidates(res.onset, res.offset, 1.0, res.features, np.zeros(res.onset.size),
                   rails=rails)
    res.reason[clipping(c, RejectConfig())] = "clipping"


def find_steps(x: np.ndarray, sfreq: float, r: RejectConfig, *,
               scale: float | None = None, where: np.ndarray | None = None,
               return_shift: bool = False) -> Any:
    """Electrode pops: one-sample jumps that leave the level shifted.

    A jump larger than ``r.pop_jump`` robust standard deviations of the sample-to-sample
    difference (``scale``; estimated from ``x`` when None) counts when (a) the mean
    level ``r.pop_settle`` s after it differs from the level over the same span before
    it by at least ``r.pop_hold`` of the jump (a needle spike or a motor-unit potential
    returns to baseline within a few ms; a pop does not) and (b) that shift is at least
    ``r.pop_step`` times the RMS sample-to-sample difference around it (the signal
    around a pop is smooth, the inside of an EMG burst is not).

    ``where`` (sorted sample indices) limits the search to jumps into those samples.

    Returns
    -------
    ndarray of int
        Sample indices of the steps.
    shift : ndarray
        With ``return_shift``: the level shift at each step (absolute, units of ``x``).
    """
    if where is not None:
        if scale is None:
            raise ValueError("find_steps(where=...) needs scale=")
        i = where[(where >= 1) & (where < x.size)]
        dj = np.nan_to_num(x[i]) - np.nan_to_num(x[i - 1])
        limit = r.pop_jump * scale
        steps, shift = _confirm_steps(x, sfreq, i[(dj > limit) | (dj < -limit)], r)
        return (steps, shift) if return_shift else steps
    z = x if np.isfinite(np.sum(x)) else np.where(np.isfinite(x), x, 0.0)
    d = np.diff(z)
    if scale is None:
        # median absolute value / 0.6745: the standard deviation of a normal variable
        scale = float(np.median(np.abs(d)) / 0.6745) if d.size else 0.0
    if scale <= 0:
        none = np.zeros(0, dtype=int)
        return (none, np.zeros(0)) if return_shift else none
    limit = r.pop_jump * scale
    steps, shift = _confirm_steps(x, sfreq, np.flatnonzero((d > limit) | (d < -limit)) + 1, r)
    return (steps, shift) if return_shift else steps


def _confirm_steps(x: np.ndarray, sfreq: float, jumps: np.ndarray,
                   r: RejectConfig) -> tuple[np.ndarray, np.ndarray]:
    """Keep the jumps after which the level stays shifted (see :func:`find_steps`), with
    the size of each shift."""
    if jumps.size == 0:
        return jumps.astype(int), np.zeros(0)
    m1 = max(1, int(r.pop_settle[0] * sfreq))
    m2 = max(m1 + 1, int(r.pop_settle[1] * sfreq))
    ok = (jumps - m2 - 2 >= 0) & (jumps + m2 < x.size)
    jumps = jumps[ok]
    if jumps.size == 0:
        return jumps.astype(int), np.zeros(0)
    # the samples from m2 before to m2 after each jump
    win = np.nan_to_num(x[jumps[:, None] + np.arange(-m2 - 2, m2)[None, :]])
    c = m2 + 2  # column of the jump's sample
    span = np.arange(m1, m2)
    before = win[:, c - span - 1].mean(axis=1)
    after = win[:, c + span].mean(axis=1)
    shift = np.abs(after - before)
    # RMS sample-to-sample difference over the same spans either side of the jump
    d = np.diff(win, axis=1)  # d[:, k] = win[:, k + 1] - win[:, k]
    d_after = d[:, c + span - 1]
    d_before = d[:, c - span - 2]
    rough = np.sqrt((np.sum(d_after**2, axis=1) + np.sum(d_before**2, axis=1))
                    / (2 * (m2 - m1)))
    keep = (shift >= r.pop_hold * np.abs(d[:, c - 1])) & (shift >= r.pop_step * rough)
    return jumps[keep].astype(int), shift[keep]


def step_energy(sfreq: float, edges: tuple[float, float], order: int) -> float:
    """Energy (sum of squares, per unit step²) of the zero-phase band-pass's answer to a
    unit level step: what a pop of shift ``d`` puts into the band is ``d² ×`` this."""
    from scipy import signal

    sos = butter_sos(order, edges, "bandpass", sfreq)
    # half a second either side: the answer of a 20-Hz edge has died out (numerical)
    half = max(8, int(0.5 * sfreq))
    y = signal.sosfiltfilt(sos, np.r_[np.zeros(half), np.ones(half)])
    return float(np.sum(y * y))


def _median(x: np.ndarray) -> float:
    """Median of the finite values, NaN when there are none (a flat or empty channel)."""
    finite = x[np.isfinite(x)]
    return float(np.median(finite)) if finite.size else float("nan")


def _index_runs(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs of consecutive integers in sorted ``idx``: starts and stops (exclusive)."""
    if idx.size == 0:
        return idx.astype(int), idx.astype(int)
    brk = np.flatnonzero(np.diff(idx) > 1)
    return (np.r_[idx[0], idx[brk + 1]].astype(int),
            np.r_[idx[brk] + 1, idx[-1] + 1].astype(int))


def _covering(starts: np.ndarray, stops: np.ndarray, reach: int, n: int) -> np.ndarray:
    """Sorted unique samples within ``reach`` of any ``[start, stop)``."""
    if starts.size == 0:
        return np.zeros(0, dtype=int)
    lo, hi = merge_close(np.maximum(starts - reach, 0), np.minimum(stops + reach, n), 1)
    lengths = hi - lo
    return np.repeat(lo - np.r_[0, np.cumsum(lengths)[:-1]], lengths) + np.arange(lengths.sum())


def find_spikes(sums: MovingSums, env2: np.ndarray, window: int, sfreq: float,
                floor_blocks: np.ndarray, b: int, *, isolation: float, min_ratio: float,
                pad: float, inner: float = 0.002, step: int = 1,
                ) -> tuple[np.ndarray, np.ndarray]:
    """Needle-contact spikes: brief, large transients standing alone.

    A sample belongs to a spike when the mean square over ``inner`` s (~2 ms) around it
    is at least ``isolation``² times the mean square of the ring from there to the outer
    ``window`` samples (±20 ms), and at least
    (``min_ratio`` × noise floor)². Motor-unit potentials inside a twitch have
    neighbours in that ring; a needle touching tissue or a metal contact gives a lone
    transient of 1-3 ms.

    Parameters
    ----------
    sums : MovingSums
        Of the squared conditioned signal.
    env2 : ndarray
        Its moving mean over ``window`` samples (the detection envelope, squared), which
        is the ring's outer window, at every ``step``-th sample.
    floor_blocks : ndarray
        Noise floor (RMS) per block of ``b`` samples.
    pad : float
        Seconds added on both sides of each spike: the band-pass makes a sharp spike ring
        for a few periods of its upper edge.

    Returns
    -------
    starts, stops : ndarray of int
        Sample ranges to blank.
    """
    n_s = max(3, window_samples(inner, sfreq))
    n_w = window
    if n_w < n_s + 4:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    # mean_s >= iso^2 (n_w mean_w - n_s mean_s) / (n_w - n_s), i.e.
    # sum_s (n_w - n_s + k) / (k n_w) >= mean_w with k = iso^2 n_s: one array, scaled
    k = isolation**2 * n_s
    short = sums.sum_grid(n_s // 2, step)
    short *= (n_w - n_s + k) / (k * n_w)
    with np.errstate(invalid="ignore"):
        cand = np.flatnonzero(short >= env2) * step
    if cand.size:
        ms = sums.mean_at(cand, n_s // 2)
        cand = cand[ms > 0]
        ms = ms[ms > 0]
        fl = at_blocks(floor_blocks, b, cand)
        with np.errstate(invalid="ignore"):
            cand = cand[ms >= (min_ratio * fl) ** 2]
    starts, stops = _index_runs(cand // step)
    starts, stops = starts * step, (stops - 1) * step + 1
    n = sums.n
    kpad = max(1, round(pad * sfreq)) + step - 1
    return merge_close(np.maximum(starts - kpad, 0), np.minimum(stops + kpad, n), 1)


def find_raw_spikes(x: np.ndarray, sfreq: float, r: RejectConfig, scale: float,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Needle-contact spikes one or two raw samples wide (low sampling rates).

    At rates where a contact spike (at most ``r.raw_spike_max`` s) spans no more than
    ``r.raw_spike_width`` samples, the band-pass turns it into its own impulse response,
    tens of ms long, which the ~2-ms test of :func:`find_spikes` cannot tell from a
    burst. On the raw samples it is plain: the residual from a running median over
    ``2 w + 1`` samples (``w = r.raw_spike_width``), which ignores up to ``w`` outliers,
    holds the spike whole. A sample is a spike's peak when its residual is the largest
    within ``w`` samples and at least (a) ``r.raw_spike_isolation`` × the standard
    deviation of the raw samples of the ``r.spike_ring`` around it (core excluded: a
    twitch's potentials have neighbours), (b) ``r.raw_spike_min_ratio`` × ``scale``
    (the channel's robust spread, :attr:`ltr.detect.plan.EmgPlan.spread`) and (c)
    ``r.raw_spike_sharpness`` of the sample's excursion from the ring's mean (a spike
    rises and falls within the median's span; an R wave lasting 15-25 samples does
    not).

    Returns
    -------
    samples : ndarray of int
        The spike's samples (those within ``w`` of a peak whose residual passes (b)),
        sorted.
    values : ndarray
        What replaces them: the straight line between the samples either side of each
        run.
    """
    from scipy import ndimage

    w = int(r.raw_spike_width)
    none = np.zeros(0, dtype=int)
    n = x.size
    if (r.raw_spike_isolation <= 0 or w < 1 or r.raw_spike_max * sfreq > w or scale <= 0
            or n < 4 * w + 3):
        return none, np.zeros(0)
    z = np.nan_to_num(x)
    med = ndimage.median_filter(z, size=2 * w + 1, mode="nearest")
    res = z - med
    a = np.abs(res)
    big = np.flatnonzero(a >= r.raw_spike_min_ratio * scale)
    if big.size == 0:
        return none, np.zeros(0)
    # the largest residual within w samples
    pk = big[a[big] >= ndimage.maximum_filter1d(a, 2 * w + 1, mode="nearest")[big]]
    # the ring: +-half of spike_ring (at least 2 w + 2 samples either side), the core
    # of +-w samples left out; its samples' spread about their mean, not their residual
    # (a recording whose samples come in repeated pairs, i.e. held or upsampled, has
    # almost no residual anywhere)
    h = max(round(r.spike_ring * sfreq / 2), 2 * w + 2)
    offs = np.r_[np.arange(-h, -w), np.arange(w + 1, h + 1)]
    ring = z[np.clip(pk[:, None] + offs[None, :], 0, n - 1)]
    ring_mean = ring.mean(axis=1)
    ring_sd = ring.std(axis=1)
    ap = a[pk]
    ok = ((ap >= r.raw_spike_isolation * ring_sd)
          & (ap >= r.raw_spike_sharpness * np.abs(z[pk] - ring_mean)))
    pk = pk[ok]
    if pk.size == 0:
        return none, np.zeros(0)
    near_pk = np.unique((pk[:, None] + np.arange(-w, w + 1)[None, :]).ravel())
    near_pk = near_pk[(near_pk >= 0) & (near_pk < n)]
    samples = near_pk[a[near_pk] >= r.raw_spike_min_ratio * scale].astype(int)
    # each run of spike samples becomes the straight line between its neighbours (the
    # running median is biased on a steep slope, e.g. a QRS under the spike)
    starts, stops = _index_runs(samples)
    left, right = np.maximum(starts - 1, 0), np.minimum(stops, n - 1)
    run = np.repeat(np.arange(starts.size), stops - starts)
    frac = (samples - left[run]) / np.maximum(right[run] - left[run], 1)
    return samples, z[left[run]] + frac * (z[right[run]] - z[left[run]])


def in_trains(starts: np.ndarray, stops: np.ndarray, sfreq: float, *, gap: float,
              min_span: float, min_spikes: int) -> tuple[np.ndarray, np.ndarray]:
    """The spikes (sorted sample ranges) that belong to a train: runs of spikes each
    within ``gap`` s of the previous one, spanning at least ``min_span`` s and holding at
    least ``min_spikes``. Endplate spikes fire for 1-6 s; the potentials of one twitch,
    however spiky, last no longer than the twitch (at most a few hundred ms)."""
    if starts.size == 0:
        return starts, stops
    label = _train_groups(starts, stops, gap * sfreq)
    first = np.flatnonzero(np.r_[True, label[1:] != label[:-1]])
    last = np.r_[first[1:] - 1, starts.size - 1]
    ok = ((stops[last] - starts[first]) >= min_span * sfreq) & (last - first + 1 >= min_spikes)
    keep = ok[label]
    return starts[keep], stops[keep]


def _train_groups(t_on: np.ndarray, t_off: np.ndarray, gap: float) -> np.ndarray:
    """Train label of each of its spikes (sorted ranges; a new train after ``gap``
    samples), as :func:`in_trains` groups them."""
    return np.cumsum(np.r_[True, (t_on[1:] - t_off[:-1]) > gap]) - 1


def _peaks(x: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Sample of the largest value of ``x`` in each ``[start, stop)`` (non-empty)."""
    width = int((stops - starts).max())
    idx = starts[:, None] + np.arange(width)[None, :]
    inside = idx < stops[:, None]
    vals = np.where(inside, x[np.minimum(idx, x.size - 1)], -np.inf)
    return starts + np.argmax(vals, axis=1)


def _match_spikes(seg: np.ndarray, template: np.ndarray, least: float, match: float,
                  rounds: int = 2) -> np.ndarray:
    """Positions (centre samples) in ``seg`` of the waveform ``template`` (odd length,
    its peak positive): local maxima of at least ``least`` whose window correlates with
    it at least ``match``. Each one found is subtracted (scaled to fit) and the search
    repeated on what is left, ``rounds`` times in all, so that two spikes a few ms apart,
    whose windows hold part of each other, are both found."""
    h = template.size // 2
    if seg.size < template.size + 2:
        return np.zeros(0, dtype=int)
    res = seg.copy()
    t_norm = float(np.linalg.norm(template))
    found: list[np.ndarray] = []
    taken = np.zeros(seg.size, bool)
    for _ in range(rounds):  # a loop over rounds (two)
        mid = res[h:-h] if h else res
        inner = mid[1:-1]
        up = np.flatnonzero((inner >= least) & (inner >= mid[:-2]) & (inner > mid[2:])) + 1 + h
        up = up[~taken[up]]
        if up.size == 0:
            break
        w = np.lib.stride_tricks.sliding_window_view(res, template.size)[up - h]
        dot = w @ template
        corr = dot / (np.linalg.norm(w, axis=1) * t_norm + 1e-300)
        hit = up[corr >= match]
        if hit.size == 0:
            break
        found.append(hit)
        taken[hit] = True
        gain = dot[corr >= match] / (t_norm * t_norm)
        idx = hit[:, None] + np.arange(-h, h + 1)[None, :]
        np.subtract.at(res, idx, gain[:, None] * template[None, :])
    return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=int)


def train_members(x: np.ndarray, t_on: np.ndarray, t_off: np.ndarray, sfreq: float,
                  r: RejectConfig) -> tuple[np.ndarray, np.ndarray]:
    """The spikes of a train that its isolation test missed: those that fire close
    together.

    Endplate spikes fire irregularly (5-40 Hz, intervals varying by half their mean), so
    some come within the ±6-ms ring of the train's isolation test of one another, and
    two or three of them then pass for a 20-70-ms burst (false twitches of 20-30 dB on
    twitch-free endplate trains). All spikes of a train come from one endplate and share
    one waveform. Here the train's waveform is the median of its isolated spikes
    (aligned on their extreme of the train's sign, ``train_spike_window`` s either
    side), and every other extreme of that sign within the train (or ``train_gap`` s
    of it) that reaches ``train_member_ratio`` × the train's median peak and matches
    the waveform with a correlation of at least ``train_match`` is one of its spikes
    too. A twitch's potentials come from several motor units of other shapes and
    widths (2-15 ms), so few of them match; one that does is blanked like a spike, and
    the twitch keeps its other potentials.

    Parameters
    ----------
    x : ndarray
        The conditioned (band-passed) signal.
    t_on, t_off : ndarray of int
        The train's isolated spikes (sorted sample ranges, :func:`in_trains`).

    Returns
    -------
    starts, stops : ndarray of int
        Sample ranges to blank (``spike_pad`` s either side of each matching waveform).
    """
    none = np.zeros(0, dtype=int)
    if r.train_match <= 0 or t_on.size == 0:
        return none, none
    n = x.size
    h = max(1, round(r.train_spike_window * sfreq))
    if n < 2 * h + 2:
        return none, none
    z = np.nan_to_num(x)
    gap = round(r.train_gap * sfreq)
    pad = max(1, round(r.spike_pad * sfreq))
    views = np.lib.stride_tricks.sliding_window_view(z, 2 * h + 1)  # views[i]: z[i: i+2h+1]
    label = _train_groups(t_on, t_off, gap)
    out_on, out_off = [], []
    for g in range(int(label[-1]) + 1):  # a loop over trains (a few per minute)
        a, b = t_on[label == g], t_off[label == g]
        sign = 1.0 if np.median(z[_peaks(np.abs(z), a, b)]) >= 0 else -1.0
        pk = _peaks(sign * z, a, b)
        pk = pk[(pk >= h) & (pk < n - h)]
        if pk.size == 0:
            continue
        template = np.median(views[pk - h], axis=0)
        level = float(np.median(sign * z[pk]))
        if level <= 0 or not np.any(template):
            continue
        lo, hi = max(int(a[0]) - gap - h, 0), min(int(b[-1]) + gap + h, n)
        hit = _match_spikes(sign * z[lo:hi], sign * template, r.train_member_ratio * level,
                            r.train_match) + lo
        out_on.append(np.maximum(hit - h - pad, 0))
        out_off.append(np.minimum(hit + h + 1 + pad, n))
    if not out_on:
        return none, none
    starts, stops = np.concatenate(out_on), np.concatenate(out_off)
    order = np.argsort(starts, kind="stable")
    return merge_close(starts[order], stops[order], 1)


def motion_spans(xd: np.ndarray, fs: float, q: int, cfg: DetectorConfig, n: int,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Stretches where an EMG lead shows a low-frequency movement artifact.

    The raw signal, decimated by ``q`` to ``fs`` (~500 Hz: group means, which null the
    content near multiples of ``fs`` that could fold into the band), is band-passed
    to ``reject.motion_band`` (1-8 Hz: cable and needle movement, below heartbeats'
    QRS), its RMS over ``reject.motion_window`` (100 ms) compared with its own running
    floor; spans above ``reject.motion_ratio`` × floor are returned
    (sample indices at the full rate).
    """
    if fs < 40 or xd.size < 16:  # too slow or short for the 1-8 Hz band and its floor
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    lf, _ = bandpass(xd, fs, cfg.reject.motion_band, 2)
    sums = MovingSums(lf * lf)
    env2 = sums.mean(window_samples(cfg.reject.motion_window, fs) // 2)
    b = block_length(cfg.floor.block, fs)
    floor, _ = block_floor(env2, b, cfg.floor.window, cfg.floor.block, squared=True)
    thr = interp_blocks((cfg.reject.motion_ratio * floor) ** 2, b, env2.size)
    with np.errstate(invalid="ignore"):
        on, off = runs(env2 > thr)
    return on * q, np.minimum(off * q, n)


def gap_margin(sfreq: float, low: float) -> int:
    """Samples on each side of a long gap left out with it: three periods of the band's
    lower edge ``low`` (Hz), where a zero-phase filter's transient would be (the same
    margin :func:`ltr.preprocess.bandpass` gives NaN gaps)."""
    return int(np.ceil(3.0 / low * sfreq))


def grid_step(sfreq: float, b: int, seconds: float) -> int:
    """Samples between the points where an envelope is evaluated: at most ``seconds``
    apart, a divisor of the floor block ``b`` (so blocks hold whole grid steps)."""
    top = max(1, int(sfreq * seconds))
    return max(d for d in range(1, top + 1) if b % d == 0)


def _segment(sums: MovingSums, env2: np.ndarray, sfreq: float, on_ratio: float,
             off_ratio: float, edge_ratio: float, window: float, onset_window: float,
             cfg: DetectorConfig, short_floor: np.ndarray | None = None, step: int = 1,
             lead: tuple[float, float, float] | None = None) -> dict[str, Any]:
    """Floors, hysteresis, merging and edge placement shared by EMG and ACC.

    ``env2`` is the squared detection envelope at every ``step``-th sample (the envelope
    spans tens of ms, so about 2 ms between points loses nothing), ``sums`` the moving
    sums of the squared signal: the short envelope that places onsets and offsets to the
    sample comes from them, evaluated near candidates only.
    Returns onsets, offsets (samples) and the per-block floors and thresholds."""
    b = block_length(cfg.floor.block, sfreq)
    n = sums.n
    floor, spread = block_floor(env2, b // step, cfg.floor.window, cfg.floor.block,
                                spread=True, squared=True)
    h_o = window_samples(onset_window, sfreq) // 2
    if short_floor is None:
        short_floor = _short_floor(sums, h_o, b, n, cfg)
    # thresholds: a ratio over the floor, raised where the background envelope
    # fluctuates more (narrow bands, low sampling rates) so false alarms stay rare
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.nan_to_num(spread / floor)
    on = floor * np.maximum(on_ratio, 1.0 + cfg.floor.on_sigma * cv)
    off = floor * np.maximum(off_ratio, 1.0 + cfg.floor.off_sigma * cv)
    starts, stops = hysteresis_blocks(env2, on**2, off**2, b // step)
    starts, stops = starts * step, np.minimum((stops - 1) * step + 1, n)
    gap = round(cfg.segment.merge_gap * sfreq)
    starts, stops = merge_close(starts, stops, gap)
    # onsets and offsets from the short envelope, evaluated only near candidates
    reach = int(window * sfreq / 2) + 1
    near = _covering(starts, stops, reach, n)
    with np.errstate(invalid="ignore"):
        e_near = sums.mean_at(near, h_o)
        is_sharp = e_near > (edge_ratio * at_blocks(short_floor, b, near)) ** 2
    sharp = near[is_sharp]
    onset, offset = place_edges(sharp, n, starts, stops, reach=reach)
    if lead is not None:
        onset = trim_lead_ins(sharp, e_near[is_sharp], onset, offset,
                              gap=max(1, round(lead[0] * sfreq)), ratio=lead[1],
                              min_lead=round(lead[2] * sfreq))
    order = np.argsort(onset, kind="stable")
    onset, offset = merge_close(onset[order], offset[order], gap)
    keep = (offset - onset) >= max(1, int(cfg.segment.min_duration * sfreq))
    return {"onset": onset[keep], "offset": offset[keep], "floor": floor, "on": on,
            "off": off, "b": b}


def causal_onsets(raw: np.ndarray, x: np.ndarray, sfreq: float, edges: tuple[float, float],
                  order: int, onset: np.ndarray, offset: np.ndarray, limit: np.ndarray,
                  half: int, max_lead: float, gap: int = 1, ratio: float = 4.0,
                  ) -> np.ndarray:
    """Onsets that a zero-phase filter's pre-response cannot move earlier.

    ``sosfiltfilt`` runs the band-pass backwards too, so a large sharp change (the
    baseline stepping by a fraction of a mV as the limb moves during a ballistic burst)
    is answered up to a few periods of the band's lower edge *before* it happens, far
    above a µV floor. The same band-pass run forward only cannot answer before its
    input changes: over each candidate (from ``reach`` = 0.25 s before its onset, where
    the forward filter's start-up transient has died out) the first sample where the
    centred mean square over ``2 half + 1`` samples of the forward-filtered raw signal
    exceeds ``limit`` (the squared edge threshold at each onset), in the run of such
    samples that holds its peak (runs joined across pauses up to ``gap`` samples, the
    merge gap of one polyphasic burst), is where activity really starts. When that is
    more than ``max_lead`` s after the zero-phase onset and the zero-phase signal ``x``
    holds more than ``ratio`` times the forward signal's energy between the two onsets
    (both filters have the same magnitude response, so only a filter's spreading in
    time makes them differ), the onset moves there. Otherwise it stays: ordinary
    bursts, where the two differ by the forward filter's group delay or by noise (a
    faint twitch); candidates the forward filter never sees clear the threshold; and
    those whose ``limit`` is infinite (no check asked for).

    The windows are filtered together, as rows of a few zero-padded matrices of
    similar lengths (:func:`_causal_starts`): a causal filter's output never depends on
    what follows, so the padding changes nothing, and one filter call serves many
    candidates.

    Returns
    -------
    ndarray of int
        The onsets, moved where the zero-phase one was led by the filter.
    """
    out = onset.copy()
    if max_lead <= 0 or onset.size == 0:
        return out
    sos = butter_sos(order, edges, "bandpass", sfreq)
    reach = int(0.25 * sfreq)  # 5 periods of a 20-Hz lower edge: the start-up dies out
    lead = max(1, round(max_lead * sfreq))
    n = raw.size
    a_all = onset.astype(np.int64)
    f_all = offset.astype(np.int64)
    todo = np.flatnonzero((f_all - a_all > lead) & np.isfinite(limit))
    if todo.size == 0:
        return out
    w0 = np.maximum(0, a_all[todo] - reach)
    w1 = np.minimum(n, f_all[todo] + half)
    length = w1 - w0
    # rows of similar length share a matrix: at most 2x padding (powers of two)
    bucket = np.ceil(np.log2(np.maximum(length, 1))).astype(int)
    for b in np.unique(bucket):
        rows = np.flatnonzero(bucket == b)
        i = todo[rows]
        starts, y = _causal_starts(raw, sos, w0[rows], length[rows], a_all[i] - w0[rows],
                                   f_all[i] - a_all[i], limit[i], half, gap)
        for r in np.flatnonzero(starts > lead):  # the few led by the filter
            k0, start, a = int(a_all[i[r]] - w0[rows[r]]), int(starts[r]), int(a_all[i[r]])
            pre = float(np.sum(np.nan_to_num(x[a: a + start]) ** 2))
            if pre > ratio * float(np.sum(y[r, k0: k0 + start] ** 2)):
                out[i[r]] = a + start
    return out


def _causal_starts(raw: np.ndarray, sos: np.ndarray, w0: np.ndarray, length: np.ndarray,
                   k0: np.ndarray, dur: np.ndarray, limit: np.ndarray, half: int, gap: int,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """For windows ``raw[w0 : w0 + length]`` (one a row, zero-padded at the end), the
    offset from ``k0`` of the first sample of the run of forward-filtered mean squares
    above ``limit`` that holds their peak over ``[k0, k0 + dur)`` (-1 when none is above),
    and the forward-filtered rows (:func:`causal_onsets`)."""
    from scipy import signal

    m, width = w0.size, int(length.max())
    col = np.arange(width)
    inside = col[None, :] < length[:, None]
    seg = np.zeros((m, width))
    idx = np.minimum(w0[:, None] + col[None, :], raw.size - 1)
    seg[inside] = np.nan_to_num(raw[idx[inside]])
    seg -= seg[:, :1]
    seg[~inside] = 0.0
    y = signal.sosfilt(sos, seg, axis=-1)
    c = np.zeros((m, width + 1))
    np.cumsum(y * y, axis=-1, out=c[:, 1:])
    d_max = int(dur.max())
    k = k0[:, None] + np.arange(d_max)[None, :]  # candidate samples, window coordinates
    valid = np.arange(d_max)[None, :] < dur[:, None]
    k = np.where(valid, k, k0[:, None])
    lo = np.maximum(k - half, 0)
    hi = np.minimum(k + half + 1, length[:, None])
    rr = np.arange(m)[:, None]
    ms = (c[rr, hi] - c[rr, lo]) / (hi - lo)
    ms[~valid] = -np.inf
    above = ms > limit[:, None]
    any_above = above.any(axis=1)
    peak = np.argmax(ms, axis=1)
    # the run holding the peak: pieces of ``above`` joined across pauses <= gap; a new
    # run starts at an above sample whose previous above sample is more than gap back
    j = np.arange(d_max)[None, :]
    last = np.where(above, j, -(gap + 2))
    prev = np.maximum.accumulate(np.concatenate(
        [np.full((m, 1), -(gap + 2)), last[:, :-1]], axis=1), axis=1)
    first = above & (j - prev > gap)
    run_start = np.maximum.accumulate(np.where(first, j, -1), axis=1)
    start = run_start[np.arange(m), peak]
    return np.where(any_above, start, -1), y


def _short_floor(sums: MovingSums, half: int, b: int, n: int,
                 cfg: DetectorConfig, points: int = 32) -> np.ndarray:
    """Running floor of the short envelope, from its values at a regular grid of about
    ``points`` per block (a stride that divides the block)."""
    stride = min(d for d in range(1, b + 1) if b % d == 0 and b // d <= points)
    floor, _ = block_floor(sums.mean_grid(half, stride), b // stride, cfg.floor.window,
                           cfg.floor.block, squared=True, points=points)
    return floor


@dataclass
class _Emg:
    """What the EMG steps hand each other (one channel or a stretch of it)."""

    raw: np.ndarray
    sfreq: float
    cfg: DetectorConfig
    plan: EmgPlan
    start: int
    raw0: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """The samples as given (NaN kept): their extremes decide clipping."""
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """The conditioned signal (band-passed, without hum, heartbeats, spikes)."""
    x_with_ecg: np.ndarray = field(default_factory=lambda: np.zeros(0))
    edges: tuple[float, float] = (0.0, 0.0)
    xd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    r_peaks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    sums: MovingSums | None = None
    short_floor: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ring2: np.ndarray | None = None
    spikes: tuple[np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0, dtype=int), np.zeros(0, dtype=int)))
    raw_spikes: tuple[np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0, dtype=int), np.zeros(0, dtype=int)))
    """Spikes replaced on the raw samples (:func:`_blank_raw_spikes`): starts, stops."""
    train_spikes: tuple[np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0, dtype=int), np.zeros(0, dtype=int)))
    """Spikes of the train test (:func:`_with_train_spikes`), in a train or not yet."""
    env_sums: MovingSums | None = None
    seg: dict[str, Any] = field(default_factory=dict)
    onset: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    offset: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    feats: dict[str, np.ndarray] = field(default_factory=dict)
    reason: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    processing: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.x.size

    @property
    def b(self) -> int:
        return block_length(self.cfg.floor.block, self.sfreq)


def _condition(s: _Emg) -> None:
    """Hum subtracted (found in the raw spectrum, before the band-pass, so the filter
    never rings on a sinusoid starting at the file's edge), then the zero-phase
    band-pass; long gaps go back to missing with the filter's reach around them."""
    e, plan, sfreq = s.cfg.emg, s.plan, s.sfreq
    edges = band_edges(e.band, sfreq)
    s.processing.update({"band_hz": list(edges), "mains_hz": plan.mains_hz,
                         "mains_harmonics": plan.harmonics})
    raw = s.raw
    if plan.mains_hz is not None and plan.harmonics:
        raw = remove_mains(raw, sfreq, plan.mains_hz, plan.harmonics, start=s.start)
    raw = _blank_raw_spikes(s, raw)
    s.raw = raw
    s.x, s.edges = bandpass(raw, sfreq, e.band, e.filter_order)


def _blank_raw_spikes(s: _Emg, raw: np.ndarray) -> np.ndarray:
    """Spikes one or two raw samples wide (low rates, :func:`find_raw_spikes`) replaced
    by the line between their neighbours before the band-pass can spread them; their ranges
    are kept for the audit (``s.raw_spikes``)."""
    samples, med = find_raw_spikes(raw, s.sfreq, s.cfg.reject, s.plan.spread)
    if samples.size:
        raw = raw.copy() if (raw is s.raw or raw is s.raw0) else raw
        raw[samples] = med
        s.raw_spikes = _index_runs(samples)
    return raw


def _heartbeats(s: _Emg, motion: bool) -> None:
    """R peaks of the channel's heartbeat (when the plan found one) and the beats
    subtracted by template; the decimated raw signal serves the motion spans too."""
    plan, sfreq = s.plan, s.sfreq
    q = qrs_decimation(sfreq)
    s.xd = decimate_mean(s.raw if (plan.ecg is not None or motion) else s.raw[:0], q)
    s.x_with_ecg = s.x
    if plan.ecg is not None:
        s.r_peaks = beats(s.xd, sfreq / q, q, plan.ecg.rhythm, s.n,
                          fill=s.cfg.emg.ecg_fill)
        if not plan.ecg.settled and s.start == 0:
            _settle_ecg(plan, s.x, sfreq, s.r_peaks, s.cfg)
        if s.r_peaks.size and plan.ecg.template is not None:
            s.x = subtract_ecg(s.x, sfreq, s.r_peaks, template=plan.ecg.template,
                               clip=s.cfg.emg.ecg_clip, **_ecg_span(s.cfg))
    s.processing["heartbeats"] = int(s.r_peaks.size)


def _grid(s: _Emg) -> tuple[int, int]:
    """The spike test looks at every ~1 ms (a needle contact lasts 1-3 ms), the 40-ms
    detection envelope at every ~2 ms (the same points, every other one): numerical
    resolutions, not thresholds."""
    step = grid_step(s.sfreq, s.b, 0.001)
    thin = max(d for d in range(1, max(1, int(0.002 * s.sfreq / step)) + 1)
               if (s.b // step) % d == 0)
    return step, thin


def _blank_spikes(s: _Emg) -> None:
    """Needle-contact spikes (:func:`find_spikes`) removed as if they had never entered
    the band-pass (:func:`_despike`)."""
    e, r, sfreq = s.cfg.emg, s.cfg.reject, s.sfreq
    step, _ = _grid(s)
    s.sums = MovingSums(s.x * s.x)
    s.short_floor = _short_floor(s.sums, window_samples(e.onset_window, sfreq) // 2, s.b,
                                 s.n, s.cfg)
    n_ring = window_samples(r.spike_ring, sfreq)
    s.ring2 = s.sums.mean_grid(n_ring // 2, step)
    if r.spike_isolation > 0:
        s.spikes = find_spikes(s.sums, s.ring2, n_ring, sfreq, s.short_floor, s.b,
                               isolation=r.spike_isolation, min_ratio=r.spike_min_ratio,
                               pad=r.spike_pad, inner=r.spike_window, step=step)
        s.spikes = _with_train_spikes(s, *s.spikes, step)
        spike_on, spike_off = s.spikes
        if spike_on.size:
            # in place: x_with_ecg is x only when no beat was subtracted, and then it is
            # never read
            s.x = _despike(s.raw, s.x, sfreq, spike_on, spike_off, s.edges,
                           e.filter_order)
            # the band-pass's response to a spike has died out within 0.25 s (5 periods
            # of its 20-Hz lower edge): a numerical reach, not a threshold
            s.sums.refresh(s.x, spike_on, spike_off, int(0.25 * sfreq))
            s.ring2 = None  # the short floor stays: its block medians ignore a spike
    if s.raw_spikes[0].size:  # already replaced on the raw samples: for the audit
        both_on = np.r_[s.spikes[0], s.raw_spikes[0]]
        both_off = np.r_[s.spikes[1], s.raw_spikes[1]]
        order = np.argsort(both_on, kind="stable")
        s.spikes = merge_close(both_on[order], both_off[order], 1)
    s.processing["spikes_blanked"] = int(s.spikes[0].size)


def _with_train_spikes(s: _Emg, spike_on: np.ndarray, spike_off: np.ndarray, step: int,
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Add the lone spikes of endplate-spike trains (a narrower isolation test,
    ``reject.train_*``; only spikes that form a train, :func:`in_trains`)."""
    r, sfreq = s.cfg.reject, s.sfreq
    if not (r.train_spike_window > 0 and r.train_spike_ring > r.train_spike_window):
        return spike_on, spike_off
    assert s.sums is not None
    n_tr = window_samples(r.train_spike_ring, sfreq)
    t_on, t_off = find_spikes(s.sums, s.sums.mean_grid(n_tr // 2, step), n_tr, sfreq,
                              s.short_floor, s.b, isolation=r.train_isolation,
                              min_ratio=r.spike_min_ratio, pad=r.spike_pad,
                              inner=r.train_spike_window, step=step)
    s.train_spikes = (t_on, t_off)
    t_on, t_off = in_trains(t_on, t_off, sfreq, gap=r.train_gap, min_span=r.train_min_span,
                            min_spikes=r.train_min_spikes)
    if t_on.size == 0:
        return spike_on, spike_off
    m_on, m_off = train_members(s.x, t_on, t_off, sfreq, r)
    s.processing["train_members"] = int(m_on.size)
    both_on, both_off = np.r_[spike_on, t_on, m_on], np.r_[spike_off, t_off, m_off]
    order = np.argsort(both_on, kind="stable")
    return merge_close(both_on[order], both_off[order], 1)


def _find_candidates(s: _Emg) -> None:
    """Detection envelope against the running floor, hysteresis, merging, edges."""
    e, sfreq = s.cfg.emg, s.sfreq
    assert s.sums is not None
    step, thin = _grid(s)
    h_w = window_samples(e.window, sfreq) // 2
    n_ring = window_samples(s.cfg.reject.spike_ring, sfreq)
    s.env_sums = (MovingSums(np.maximum(tkeo(s.x), 0.0)) if e.envelope == "tkeo"
                  else s.sums)
    if e.envelope != "tkeo" and s.ring2 is not None and n_ring // 2 == h_w:
        env2 = s.ring2[::thin]  # the detection envelope is the spike test's ring window
    else:
        env2 = s.env_sums.mean_grid(h_w, step * thin)
    lead = (e.lead_gap, e.lead_ratio, e.lead_min) if e.lead_gap > 0 else None
    s.seg = _segment(s.sums, env2, sfreq, e.on_ratio, e.off_ratio, e.edge_ratio, e.window,
                     e.onset_window, s.cfg, s.short_floor, step=step * thin, lead=lead)
    s.onset, s.offset = s.seg["onset"], s.seg["offset"]


def _place_onsets(s: _Emg) -> None:
    """Accepted candidates get onsets a zero-phase filter's pre-response cannot move
    (:func:`causal_onsets`). Done after judging: the rules see the candidates as the
    zero-phase band-pass drew them (a heartbeat's lead-in at low frequency, for one,
    is what tells its residue from a twitch)."""
    e, sfreq = s.cfg.emg, s.sfreq
    h_o = window_samples(e.onset_window, sfreq) // 2
    limit = (e.edge_ratio * at_blocks(s.short_floor, s.b, s.onset)) ** 2
    # at a heartbeat the QRS is itself a sharp change the forward filter answers late: an
    # onset within ecg_window of an R peak keeps its place (a beat later in a long burst
    # does not: the burst's own lead-in is what is checked)
    w = int(s.cfg.reject.ecg_window * sfreq)
    limit[_near(s.r_peaks, s.onset - w, s.onset + w)] = np.inf
    # only twitches need the check: what was turned away keeps the edges it was judged
    # by (most candidates of a recording with look-alikes: a filter pass each saved)
    limit[s.reason != ""] = np.inf
    # the zero-phase lead must stand out from the forward signal by the same ratio as
    # an edge from the floor (energies: squared)
    onset = causal_onsets(s.raw, s.x, sfreq, s.edges, e.filter_order, s.onset, s.offset,
                          limit, h_o, e.max_lead,
                          gap=max(1, int(s.cfg.segment.merge_gap * sfreq)),
                          ratio=e.edge_ratio**2)
    s.feats["rise_time"] = s.feats["rise_time"] - (onset - s.onset) / sfreq
    s.onset = onset


def _describe(s: _Emg) -> None:
    """Per-candidate features of the conditioned signal, and the raw extremes
    (whether a candidate touches a saturated rail is decided once the whole channel has
    been seen: :func:`mark_clipping`)."""
    floor_on = at_blocks(s.seg["floor"], s.b, s.onset)
    s.feats = segment_features(s.x, s.onset, s.offset, s.sfreq, floor_on,
                               high_band=s.cfg.reject.high_band)
    s.feats["rise_time"] = (s.feats["peak"] - s.onset) / s.sfreq
    s.feats["rider"] = np.zeros(s.onset.size)
    s.feats["raw_max_0"], s.feats["raw_min_0"] = _extremes_in(s.raw0, s.onset, s.offset)
    assert s.env_sums is not None
    step, thin = _grid(s)
    s.feats["on_threshold"] = at_blocks(s.seg["on"], s.b, s.onset)
    (s.feats["env_peak"], s.feats["background"],
     s.feats["background_spread"]) = envelope_context(
        s.env_sums, s.onset, s.offset, window_samples(s.cfg.emg.window, s.sfreq) // 2,
        s.sfreq, s.cfg.reject.background_span, step * thin)


def _judge(s: _Emg) -> None:
    """The candidates and their context (level steps, heartbeats, what template
    subtraction left) through :data:`ltr.detect.rules.EMG_RULES`."""
    r, sfreq, onset, offset = s.cfg.reject, s.sfreq, s.onset, s.offset
    margin = int(r.pop_margin * sfreq)
    steps, shifts = find_steps(s.raw, sfreq, r, scale=s.plan.step_scale,
                               where=_covering(onset, offset, margin + 1, s.n),
                               return_shift=True)
    cands = Candidates(onset, offset, sfreq, s.feats, at_blocks(s.seg["floor"], s.b, onset),
                       beats=s.r_peaks, steps=steps, step_shift=shifts,
                       step_energy=step_energy(sfreq, s.edges, s.cfg.emg.filter_order)
                       if steps.size else None)
    w = int(r.ecg_window * sfreq)
    ecg = s.plan.ecg
    if ecg is not None and ecg.residue is not None and _near(s.r_peaks, onset - w,
                                                             offset + w).any():
        # a candidate at a heartbeat whose energy left after template subtraction is what
        # subtraction typically leaves of a beat is residue, not a twitch
        cands.energy_before = _energy(s.x_with_ecg, onset, offset)
        cands.energy_after = _energy(s.x, onset, offset)
        cands.ecg_residue = ecg.residue
        s.processing["ecg_residue"] = ecg.residue
        if ecg.beat_level is not None and ecg.beat_spread:
            assert s.sums is not None
            cands.beat_z = _beat_z(s.sums, s.r_peaks, onset, offset, w, ecg.beat_level,
                                   ecg.beat_spread)
    s.reason = judge(EMG_RULES, cands, r)


#: The reasons of candidates judged to be a single transient (a needle-contact spike, one
#: motor-unit potential): :func:`_spikes_on_bursts` looks beneath them for a burst.
TRANSIENT_REASONS = ("needle_spike", "single_mup")


def transient_spans(peak: np.ndarray, onset: np.ndarray, offset: np.ndarray, sfreq: float,
                    r: RejectConfig) -> tuple[np.ndarray, np.ndarray]:
    """The span of the transient that dominates each candidate: ``r.min_burst`` s either
    side of its peak, within the candidate. A candidate the rules call a transient holds
    90 % of its energy within ``min_burst`` s, so that span holds it wherever the peak
    sits in it."""
    h = max(1, round(r.min_burst * sfreq))
    return np.maximum(peak - h, onset), np.minimum(peak + h + 1, offset)


def burst_beneath(raw: np.ndarray, x: np.ndarray, sfreq: float, edges: tuple[float, float],
                  order: int, span_on: np.ndarray, span_off: np.ndarray, onset: np.ndarray,
                  offset: np.ndarray, half: int) -> np.ndarray:
    """The peak detection envelope over each candidate ``[onset, offset)`` once the
    transient in ``[span_on, span_off)`` is removed as if it had never entered the
    band-pass (:func:`_despike`, on a copy of the stretch around it).

    ``half``: the envelope's half window (samples). Returns RMS amplitudes, one per
    candidate (0 where nothing is left)."""
    out = np.zeros(onset.size)
    reach = int(0.25 * sfreq)  # as in _despike: the band-pass's response has died out
    n = x.size
    for i in range(onset.size):  # a loop over the transients judged (few a minute)
        lo, hi = max(int(span_on[i]) - reach, 0), min(int(span_off[i]) + reach, n)
        y = _despike(raw[lo:hi], np.nan_to_num(x[lo:hi]), sfreq,
                     np.asarray([span_on[i] - lo]), np.asarray([span_off[i] - lo]),
                     edges, order)
        a, b = int(onset[i]) - lo, int(offset[i]) - lo
        if b - a < 1:
            continue
        sums = MovingSums(y * y)
        out[i] = float(np.sqrt(max(float(np.max(sums.mean(half)[a:b])), 0.0)))
    return out


def _spikes_on_bursts(s: _Emg) -> None:
    """A needle-contact spike or a big potential on top of a twitch is blanked and the
    twitch judged (:attr:`RejectConfig.spike_on_burst`).

    The rules turn away a candidate whose energy one transient holds
    (:data:`TRANSIENT_REASONS`), and a spike of 15-50 × the baseline too wide for the
    needle-spike test that blanks it before detection (a 3-5-ms endplate spike, a large
    potential) dominates the energy of a twitch it lands on: the twitch went with it. A
    twitch under
    the transient stands above the on threshold once the transient is removed as if it
    had never entered the band-pass (:func:`burst_beneath`); a lone transient leaves the
    noise. Where something stands, the transient is blanked like the spikes blanked
    before detection (and audited with them), the candidates are described again and
    those are judged again (a second transient in the rest is turned away by the same
    rules); every other candidate keeps its reason."""
    r, e, sfreq = s.cfg.reject, s.cfg.emg, s.sfreq
    if not r.spike_on_burst or not s.onset.size:
        return
    k = np.flatnonzero(np.isin(s.reason, TRANSIENT_REASONS))
    if not k.size:
        return
    span_on, span_off = transient_spans(s.feats["peak"][k], s.onset[k], s.offset[k], sfreq,
                                        r)
    h_w = window_samples(e.window, sfreq) // 2
    left = burst_beneath(s.raw, s.x, sfreq, s.edges, e.filter_order, span_on, span_off,
                         s.onset[k], s.offset[k], h_w)
    hit = left >= s.feats["on_threshold"][k]
    if not hit.any():
        return
    k, a, b = k[hit], span_on[hit], span_off[hit]
    twin = s.x_with_ecg is not s.x
    s.x = _despike(s.raw, s.x, sfreq, a, b, s.edges, e.filter_order)
    if twin:
        s.x_with_ecg = _despike(s.raw, s.x_with_ecg, sfreq, a, b, s.edges, e.filter_order)
    assert s.sums is not None
    s.sums.refresh(s.x, a, b, int(0.25 * sfreq))
    if e.envelope == "tkeo":
        s.env_sums = MovingSums(np.maximum(tkeo(s.x), 0.0))
    else:
        s.env_sums = s.sums
    both_on, both_off = np.r_[s.spikes[0], a], np.r_[s.spikes[1], b]
    order = np.argsort(both_on, kind="stable")
    s.spikes = merge_close(both_on[order], both_off[order], 1)
    s.processing["spikes_on_bursts"] = int(k.size)
    before = s.reason
    _describe(s)
    _judge(s)
    again = np.zeros(s.onset.size, bool)
    again[k] = True
    s.reason[~again] = before[~again]


def standout_runs(env: np.ndarray, inside: np.ndarray, size: int, ratio: float,
                  off: float) -> tuple[np.ndarray, np.ndarray]:
    """Runs of an envelope that stand out of its own running level.

    ``level`` is the running median of ``env`` over ``size`` (odd) points. A run of
    ``env > off × level`` within ``inside`` stands out when it reaches ``ratio`` × level
    and ``ratio`` × the median of ``env`` over ``size // 2`` points on either side of it
    (whichever is higher). Returns the runs' starts and stops (exclusive), indices of
    ``env``.
    """
    from scipy import ndimage

    level = ndimage.median_filter(env, size=size, mode="nearest")
    st, sp = runs((env > off * level) & inside)
    half = size // 2
    keep = np.zeros(st.size, bool)
    for i, (u, v) in enumerate(zip(st, sp, strict=True)):  # a loop over the runs (few)
        if (env[u:v] < ratio * level[u:v]).all():
            continue
        side = max(float(np.median(env[max(u - half, 0): u])) if u else 0.0,
                   float(np.median(env[v: v + half])) if v < env.size else 0.0)
        keep[i] = env[u:v].max() >= ratio * side
    return st[keep], sp[keep]


def _rider_pieces(s: _Emg, host: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of the detection envelope inside each contraction ``host`` that stand out of
    its own level (:func:`standout_runs`, :attr:`RejectConfig.rider_ratio`): onsets,
    offsets (samples) and the host each lies in."""
    r, sfreq = s.cfg.reject, s.sfreq
    assert s.env_sums is not None
    step, thin = _grid(s)
    g = step * thin  # the detection envelope's grid
    h_w = window_samples(s.cfg.emg.window, sfreq) // 2
    size = 2 * max(1, round(r.rider_window * sfreq / g / 2)) + 1
    shortest = 2 * r.min_burst * sfreq  # a twitch's 90-%-energy span is at least min_burst
    reach = (size // 2) * g  # the level at a contraction's edge counts what lies beyond
    out: list[tuple[int, int, int]] = []
    for k in host:  # a loop over the contractions (a few a minute)
        c0, c1 = int(s.onset[k]), int(s.offset[k])
        idx = np.arange(max(c0 - reach, 0), min(c1 + reach, s.n), g)
        env = np.sqrt(np.maximum(s.env_sums.mean_at(idx, h_w), 0.0))
        if not np.isfinite(env).all():
            continue  # beside a gap left out: judged as it was
        st, sp = standout_runs(env, (idx >= c0) & (idx < c1), size, r.rider_ratio,
                               r.rider_off)
        for u, v in zip(st, sp, strict=True):
            a, z = int(idx[u]), int(min(idx[v - 1] + g, c1))
            if z - a >= shortest:
                out.append((a, z, int(k)))
    if not out:
        z0 = np.zeros(0, dtype=int)
        return z0, z0, z0
    arr = np.asarray(out, dtype=int)
    return arr[:, 0], arr[:, 1], arr[:, 2]


def _find_riders(s: _Emg) -> None:
    """Twitches riding on a sustained contraction cut out of it
    (:attr:`RejectConfig.rider_ratio`) and judged; what is left of the contraction stays
    one, and every other candidate keeps its reason."""
    r = s.cfg.reject
    if r.rider_ratio <= 0 or not s.onset.size:
        return
    host = np.flatnonzero(s.reason == CONTRACTION)  # contractions and their fragments
    if not host.size:
        return
    p_on, p_off, p_host = _rider_pieces(s, host)
    if not p_on.size:
        return
    before, kept = s.reason, ~np.isin(np.arange(s.onset.size), p_host)
    # candidates are sorted by onset, so those not cut keep their order among the new
    s.onset, s.offset, rider, part = _cut(s.onset, s.offset, p_host, p_on, p_off)
    _describe(s)
    s.feats["rider"] = rider.astype(float)
    _judge(s)
    s.reason[~part] = before[kept]
    s.reason[part & ~rider] = CONTRACTION  # what is left of a contraction between riders


def _add_blanked_spikes(s: _Emg) -> None:
    """Blanked spikes are rejected candidates too, for the audit (features NaN)."""
    spike_on, spike_off = s.spikes
    if not spike_on.size:
        return
    k = spike_on.size
    spike_feats = {key: np.full(k, np.nan) for key in s.feats}
    spike_feats["peak"] = ((spike_on + spike_off) // 2).astype(int)
    s.feats = {key: np.concatenate([s.feats[key], spike_feats[key]]).astype(
        s.feats[key].dtype) for key in s.feats}
    s.onset = np.concatenate([s.onset, spike_on])
    s.offset = np.concatenate([s.offset, spike_off])
    s.reason = np.concatenate([s.reason, np.full(k, "needle_spike", dtype=object)])


def detect_emg_channel(raw: np.ndarray, sfreq: float, name: str, cfg: DetectorConfig,
                       plan: EmgPlan | None = None, *, start: int = 0, motion: bool = True,
                       keep_traces: bool | Collection[str] = False) -> ChannelResult:
    """Condition one EMG channel (or a stretch of it), find candidates, judge them.

    The steps, in order: fill gaps; subtract hum and band-pass (:func:`_condition`);
    find and subtract heartbeats (:func:`_heartbeats`); blank needle spikes
    (:func:`_blank_spikes`); find candidates (:func:`_find_candidates`); describe them
    (:func:`_describe`); judge them by the rule table (:func:`_judge`); blank a spike
    lying on a twitch and judge the twitch (:func:`_spikes_on_bursts`); cut twitches
    riding on a contraction out of it (:func:`_find_riders`); place their
    onsets past any filter pre-response (:func:`_place_onsets`); add the blanked
    spikes for the audit (:func:`_add_blanked_spikes`).

    Parameters
    ----------
    raw : ndarray, shape (n_samples,)
        The channel's samples (SI units or any fixed unit).
    plan : EmgPlan | None
        Channel-wide estimates (:func:`ltr.detect.plan.plan_emg` of ``raw`` when None).
    start : int
        Index of ``raw[0]`` in the recording (a multiple of
        :func:`ltr.detect.plan.alignment`). Sample indices returned are relative to
        ``raw``.
    motion : bool
        Also find low-frequency movement spans (needed only beside accelerometers).
    keep_traces : bool | collection of str
        Keep the conditioned signal, envelope, floor and thresholds at every sample (or
        only the ones named: ``"conditioned"``, ``"envelope"``, ``"floor"``, ``"on"``,
        ``"off"``).
    """
    # gaps are filled by straight lines (no step for the filters, whatever the DC level);
    # long ones go back to missing once filtered
    filled, gaps = fill_gaps(raw, max(1, round(cfg.gaps.max_fill * sfreq)))
    if plan is None:
        plan = plan_emg(filled, sfreq, cfg)
    s = _Emg(raw=filled, sfreq=sfreq, cfg=cfg, plan=plan, start=start, raw0=raw)
    _condition(s)
    if gaps.long.any():
        s.x[gaps.cover(s.n, gap_margin(sfreq, s.edges[0]))] = np.nan
    _heartbeats(s, motion)
    for step in (_blank_spikes, _find_candidates, _describe, _judge, _spikes_on_bursts,
                 _find_riders, _place_onsets, _add_blanked_spikes):
        step(s)
    floor, b, n = s.seg["floor"], s.b, s.n
    res = ChannelResult(name=name, modality="emg", unit="V", onset=s.onset,
                        offset=s.offset, features=s.feats, reason=s.reason,
                        floor=_median(floor), processing=s.processing, floor_blocks=floor,
                        floor_block=b, heartbeats=s.r_peaks, train_spikes=s.train_spikes)
    if motion:
        q = qrs_decimation(sfreq)
        res.motion = motion_spans(s.xd, sfreq / q, q, cfg, n)
    if keep_traces:
        env_sums, h_w = s.env_sums, window_samples(cfg.emg.window, sfreq) // 2
        assert env_sums is not None
        res.traces = _pick_traces(keep_traces, {
            "conditioned": lambda: s.x, "envelope": lambda: np.sqrt(env_sums.mean(h_w)),
            "floor": lambda: interp_blocks(floor, b, n),
            "on": lambda: interp_blocks(s.seg["on"], b, n),
            "off": lambda: interp_blocks(s.seg["off"], b, n)})
    return res


def _pick_traces(keep: bool | Collection[str],
                 makers: dict[str, Callable[[], np.ndarray]]) -> dict[str, np.ndarray]:
    """The traces asked for (all with ``keep=True``), each made only when asked for."""
    want = set(makers) if keep is True else set(keep)  # type: ignore[arg-type]
    unknown = sorted(want - set(makers))
    if unknown:
        raise ValueError(f"unknown trace(s) {unknown}; known: {sorted(makers)}")
    return {k: f() for k, f in makers.items() if k in want}


def _beat_z(sums: MovingSums, r_peaks: np.ndarray, onset: np.ndarray, offset: np.ndarray,
            w: int, level: float, spread: float) -> np.ndarray:
    """For each candidate lying within ``w`` samples of an R peak, how many robust
    standard deviations the mean square around that beat (``sums``: of the cleaned
    signal) exceeds an ordinary beat's; +inf for candidates not confined to a beat."""
    z = np.full(onset.size, np.inf)
    if r_peaks.size == 0 or onset.size == 0:
        return z
    mid = (onset + offset) // 2
    j = np.clip(np.searchsorted(r_peaks, mid), 1, r_peaks.size) - 1
    nxt = np.minimum(j + 1, r_peaks.size - 1)
    k = np.where(np.abs(r_peaks[nxt] - mid) < np.abs(r_peaks[j] - mid), nxt, j)
    beat = r_peaks[k]
    confined = (onset >= beat - w) & (offset <= beat + w)
    if confined.any():
        ms = sums.mean_at(beat[confined], w)
        z[confined] = (ms - level) / spread
    return z


def _row_nanquantile(v: np.ndarray, q: float) -> np.ndarray:
    """Quantile ``q`` of the finite values of each row, linearly interpolated (NaN for a
    row with none), without the all-NaN warning of :func:`numpy.nanquantile`."""
    count = np.isfinite(v).sum(axis=1)
    srt = np.sort(v, axis=1)  # NaN sorts last
    rows = np.arange(v.shape[0])
    pos = q * np.maximum(count - 1, 0)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, np.maximum(count - 1, 0))
    frac = pos - lo
    val = srt[rows, lo] * (1 - frac) + srt[rows, hi] * frac
    return np.where(count > 0, val, np.nan)


def envelope_context(sums: MovingSums, onset: np.ndarray, offset: np.ndarray, half: int,
                     sfreq: float, span: tuple[float, float], step: int,
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each candidate's peak envelope and the background envelope around it.

    The envelope is the RMS over ``2 half + 1`` samples (``sums``: moving sums of the
    squared conditioned signal). Its peak is taken every ``step`` samples over
    ``[onset, offset)``; the background is the larger of its medians over ``span``
    (seconds: start, end) before the onset and after the offset, sampled every ``half``
    samples (half a window apart, so the points are nearly independent); where a side
    lies outside the signal or in a gap it is left out (NaN when both are). The
    spread is how much the envelope on that side fluctuates, as a standard deviation
    from its lower half (median minus lower quartile, / 0.6745): other twitches
    nearby lift only the upper half. A per-candidate computation: nothing
    is added per sample.

    Returns
    -------
    env_peak, background, background_spread : ndarray
        Amplitudes (RMS, the unit of the signal), one per candidate.
    """
    k = onset.size
    if k == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    n = sums.n
    step = max(1, int(step))
    ln = np.maximum(-(-(offset - onset) // step), 1)
    starts = np.r_[0, np.cumsum(ln)[:-1]]
    idx = np.repeat(onset, ln) + (np.arange(ln.sum()) - np.repeat(starts, ln)) * step
    ms = sums.mean_at(np.clip(idx, 0, n - 1), half)
    peak = np.sqrt(np.maximum(np.fmax.reduceat(ms, starts), 0.0))
    a0 = max(1, round(span[0] * sfreq))
    a1 = max(a0, round(span[1] * sfreq))
    offs = np.arange(a0, a1 + 1, max(1, half))
    level, spread = [], []
    for pts in (onset[:, None] - offs[None, :], (offset - 1)[:, None] + offs[None, :]):
        ok = (pts >= 0) & (pts < n)
        v = np.full(pts.shape, np.nan)
        v[ok] = np.sqrt(np.maximum(sums.mean_at(pts[ok], half), 0.0))
        med = _row_nanquantile(v, 0.5)
        level.append(med)
        # from the lower quartile (0.6745 standard deviations below the median of a
        # normal variable): neighbouring twitches only add values above the median
        spread.append((med - _row_nanquantile(v, 0.25)) / 0.6745)
    # the side with the higher background; a side left out (NaN) gives way to the other
    # (a streaming detector deciding a candidate has no after side yet)
    with np.errstate(invalid="ignore"):
        after = (level[1] > level[0]) | np.isnan(level[0])
    bg = np.where(after, level[1], level[0])
    sd = np.where(after, spread[1], spread[0])
    return peak, bg, sd


def _energy(x: np.ndarray, onset: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Sum of squares of ``x`` over each ``[onset, offset)``."""
    out = np.zeros(onset.size)
    ln = np.maximum(offset - onset, 0)
    ok = ln > 0
    if ok.any():
        on, ln = onset[ok], ln[ok]
        starts = np.r_[0, np.cumsum(ln)[:-1]]
        idx = np.repeat(on - starts, ln) + np.arange(ln.sum())
        out[ok] = np.add.reduceat(np.nan_to_num(x[idx]) ** 2, starts)
    return out


def _ecg_span(cfg: DetectorConfig) -> dict[str, float]:
    """The beat template's extent and alignment search (:func:`ltr.preprocess.subtract_ecg`
    keywords)."""
    before, after = cfg.emg.ecg_span
    return {"before": before, "after": after, "max_shift": cfg.emg.ecg_max_shift}


def _settle_ecg(plan: EmgPlan, x: np.ndarray, sfreq: float, r_peaks: np.ndarray,
                cfg: DetectorConfig) -> None:
    """Fix the channel's beat template and typical residue from the calibration beats."""
    assert plan.ecg is not None
    plan.ecg.settled = True
    cal = calibration_samples(sfreq)
    edge = int(0.5 * sfreq)  # beats whose template window fits inside the stretch
    first = r_peaks[r_peaks < min(cal, x.size) - edge] if x.size > cal else r_peaks
    template = ecg_template(x, sfreq, first, **_ecg_span(cfg))
    plan.ecg.template = template
    if template is None:
        return
    beat = int(cfg.reject.ecg_window * sfreq)
    lo, hi = np.clip(first - beat, 0, x.size), np.clip(first + beat, 0, x.size)
    cleaned = subtract_ecg(x[: int(hi.max()) + 1] if hi.size else x[:0], sfreq, first,
                           template=template, clip=cfg.emg.ecg_clip,
                           **_ecg_span(cfg))
    before = _energy(x, lo, hi)
    after = _energy(cleaned, lo, hi)
    plan.ecg.residue = float(np.median(after / np.maximum(before, 1e-300)))
    # what an ordinary beat leaves (noise included), in absolute terms
    ms = after / np.maximum(hi - lo, 1)
    if ms.size >= 3:
        level = float(np.median(ms))
        plan.ecg.beat_level = level
        plan.ecg.beat_spread = float(1.4826 * np.median(np.abs(ms - level)))


def _despike(raw: np.ndarray, x: np.ndarray, sfreq: float, starts: np.ndarray,
             stops: np.ndarray, edges: tuple[float, float], order: int) -> np.ndarray:
    """Remove spikes as if they had never entered the band-pass.

    In the raw signal each spike range is replaced by a straight line between the levels
    on either side; because the filter is linear, the conditioned signal is corrected by
    adding the filtered difference, computed on a short window around each spike only
    (so the filter's ringing around a sharp spike goes too, and nothing else is
    refiltered). Each level is the mean over one period of the band's upper edge: a
    single raw sample carries the recording's whole-band noise, which a line would carry
    into the band (at 10 kHz several times the band's own noise).
    """
    from scipy import signal

    sos = butter_sos(order, edges, "bandpass", sfreq)
    y = x  # corrected in place: the caller hands over its own array
    reach = int(0.25 * sfreq)  # as in detect_emg_channel: the filter's response dies out
    n = raw.size
    k = max(1, round(sfreq / edges[1]))  # one period of the upper edge, samples
    for s0, s1 in zip(starts, stops, strict=True):  # a loop over spikes (few)
        a, b = max(s0 - 1, 0), min(s1, n - 1)
        za = float(np.mean(np.nan_to_num(raw[max(a - k + 1, 0): a + 1])))
        zb = float(np.mean(np.nan_to_num(raw[b: b + k])))
        line = np.interp(np.arange(s0, s1), [a, b], [za, zb])
        lo, hi = max(s0 - reach, 0), min(s1 + reach, n)
        delta = np.zeros(hi - lo)
        delta[s0 - lo : s1 - lo] = line - np.nan_to_num(raw[s0:s1])
        if delta.size > 3 * (2 * sos.shape[0] + 1):
            y[lo:hi] += signal.sosfiltfilt(sos, delta)
    return y


def _rise_half(short: np.ndarray, onset: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Samples from each onset to the first where ``short`` reaches half its peak over
    the candidate (0 for an empty candidate)."""
    out = np.zeros(onset.size)
    ln = offset - onset
    ok = ln > 0
    if ok.any():
        starts = np.r_[0, np.cumsum(ln[ok])[:-1]]
        idx = np.repeat(onset[ok] - starts, ln[ok]) + np.arange(ln[ok].sum())
        vals = np.nan_to_num(short[idx])
        top = np.maximum.reduceat(vals, starts)
        hit = vals >= np.repeat(0.5 * top, ln[ok])
        pos = np.arange(vals.size) - np.repeat(starts, ln[ok])
        out[ok] = np.minimum.reduceat(np.where(hit, pos, vals.size), starts)
    return out


def _low_ratio(low_mag: np.ndarray, mag: np.ndarray, onset: np.ndarray,
               offset: np.ndarray) -> np.ndarray:
    """RMS of the movement band (``low_mag``, :func:`_movement_band`) over the twitch
    band's RMS, over each candidate."""
    if onset.size == 0:
        return np.zeros(0)
    # 1e-300: an all-zero candidate has ratio 0, not NaN
    return np.sqrt(_energy(low_mag, onset, offset)
                   / np.maximum(_energy(mag, onset, offset), 1e-300))


def _movement_band(xyz: np.ndarray, fs: float, band: tuple[float, float],
                   plan: AccPlan) -> np.ndarray:
    """Magnitude of the movement band (``band``, upper edge capped at 0.45 × ``fs``),
    filtered causally like the twitch band, so neither leaks in time."""
    low_mag, _, _ = condition_acc(xyz, fs, (band[0], min(band[1], MAX_EDGE_FRACTION * fs)),
                                  2, origin=plan.origin)
    return low_mag


def _acc_features(raw0: np.ndarray, low_mag: np.ndarray | None, mag: np.ndarray,
                  sums: MovingSums, onset: np.ndarray, offset: np.ndarray, fs: float,
                  floor: np.ndarray, b: int, q: int, n_full: int, tremor_amp: np.ndarray,
                  a: AccConfig) -> dict[str, np.ndarray]:
    """The features the accelerometer rules look at, per candidate (decimated rate)."""
    feats = segment_features(mag, onset, offset, fs, at_blocks(floor, b, onset),
                             spectral=False)
    feats["median_freq"] = np.full(onset.size, np.nan)
    feats["rise_time"] = (feats["peak"] - onset) / fs
    full_on, full_off = onset * q, np.minimum(offset * q, n_full)
    for k, axis in enumerate(raw0):  # decided at the end (mark_clipping)
        feats[f"raw_max_{k}"], feats[f"raw_min_{k}"] = _extremes_in(axis, full_on, full_off)
    short = np.sqrt(sums.mean(window_samples(a.onset_window, fs) // 2))
    feats["rise_half"] = _rise_half(short, onset, offset) / fs
    feats["low_ratio"] = (np.zeros(onset.size) if low_mag is None
                          else _low_ratio(low_mag, mag, onset, offset))
    # the tremor fitted over the candidate and one fit window either side (what the
    # fit subtracted there, and so what its residue can be) and how much that
    # amplitude changes (a fade, where the fit leaves some of it)
    near = round(a.tremor_cycles / a.tremor_band[0] * fs)
    hi_amp, lo_amp = _extremes_in(tremor_amp, np.maximum(onset - near, 0),
                                  np.minimum(offset + near, mag.size))
    feats["tremor_amp"] = np.nan_to_num(hi_amp)
    feats["tremor_fade"] = np.nan_to_num((hi_amp - lo_amp) / np.maximum(hi_amp, 1e-300))
    return feats


def _jolts_inside(xyz: np.ndarray, fs: float, onset: np.ndarray, offset: np.ndarray,
                  on_level: np.ndarray, off_level: np.ndarray, edges: tuple[float, float],
                  a: AccConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Jolts inside movement candidates, found in the jolt band (``a.jolt_band``).

    Each candidate, with five periods of the band's lower edge before it (0.25 s at
    20 Hz, over which the causal filter's start from rest dies out; nothing is searched
    before the filter has settled), is filtered to the jolt band alone, causally like
    the twitch band; the thresholds of the twitch band
    (``on_level``, ``off_level``: at the candidate's onset) are scaled to the jolt band by
    the square root of the bandwidths (white sensor noise). A run of the jolt-band
    envelope above the off level that reaches the on level is a jolt piece; its onset is
    where the short envelope first reaches the off level.

    Returns
    -------
    onset, offset, rise_half, host : ndarray
        The pieces (samples), the time from each onset to half its peak of the short
        jolt-band envelope (s), and the index of the candidate each lies in.
    """
    n = xyz.shape[-1]
    j_edges = band_edges(a.jolt_band, fs)
    scale = np.sqrt((j_edges[1] - j_edges[0]) / max(edges[1] - edges[0], 1e-9))
    pad = round(5.0 / j_edges[0] * fs)
    h = window_samples(a.window, fs) // 2
    h_o = window_samples(a.onset_window, fs) // 2
    out: list[tuple[int, int, float, int]] = []
    for i, (s0, s1) in enumerate(zip(onset, offset, strict=True)):  # movement candidates
        lo, hi = max(s0 - pad, 0), min(s1 + h, n)
        seg = xyz[:, lo:hi]
        if hi - lo < 3 * (2 * a.filter_order + 1) or not np.isfinite(seg).all():
            continue  # too short to filter, or beside a gap left out
        jm, _, _ = condition_acc(seg, fs, j_edges, a.filter_order, origin=seg[:, :1])
        sums = MovingSums(jm * jm)
        env = np.sqrt(sums.mean(h))
        short = np.sqrt(sums.mean(h_o))
        on_j, off_j = on_level[i] * scale, off_level[i] * scale
        a0, a1 = max(s0 - lo, pad), s1 - lo  # where the filter has settled
        if a1 <= a0:
            continue
        st, sp = runs(env[a0:a1] > off_j)
        for u, v in zip(st + a0, sp + a0, strict=True):
            if env[u:v].max() < on_j:
                continue
            above = np.flatnonzero(short[u:v] >= off_j)
            if above.size == 0:
                continue
            j0 = u + int(above[0])
            if v - j0 < 2:
                continue
            top = short[j0:v].max()
            rise = int(np.flatnonzero(short[j0:v] >= 0.5 * top)[0])
            out.append((lo + j0, lo + v, rise / fs, i))
    if not out:
        z = np.zeros(0, dtype=int)
        return z, z, np.zeros(0), z
    arr = np.asarray(out, dtype=float)
    return arr[:, 0].astype(int), arr[:, 1].astype(int), arr[:, 2], arr[:, 3].astype(int)


def _cut(onset: np.ndarray, offset: np.ndarray, host: np.ndarray, j_on: np.ndarray,
         j_off: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut candidates ``host`` around the pieces ``[j_on, j_off)`` inside them.

    Returns the new onsets and offsets (sorted), which of them are the pieces, and which
    are parts of a cut candidate (the pieces and what is left around them)."""
    keep = np.ones(onset.size, bool)
    keep[host] = False
    ons, offs, jolt, part = [onset[keep]], [offset[keep]], [np.zeros(keep.sum(), bool)], \
        [np.zeros(keep.sum(), bool)]
    for k in np.unique(host):  # a loop over the cut candidates
        m = host == k
        cuts_on, cuts_off = j_on[m], j_off[m]
        edges = np.r_[onset[k], np.ravel(np.column_stack([cuts_on, cuts_off])), offset[k]]
        a, z = edges[0::2], edges[1::2]  # the gaps between pieces (left-overs)
        ok = z > a
        ons += [cuts_on, a[ok]]
        offs += [cuts_off, z[ok]]
        jolt += [np.ones(cuts_on.size, bool), np.zeros(ok.sum(), bool)]
        part += [np.ones(cuts_on.size + ok.sum(), bool)]
    on, off = np.concatenate(ons), np.concatenate(offs)
    order = np.argsort(on, kind="stable")
    return (on[order], off[order], np.concatenate(jolt)[order],
            np.concatenate(part)[order])


def detect_acc_sensor(raw_xyz: np.ndarray, sfreq: float, name: str, cfg: DetectorConfig,
                      plan: AccPlan | None = None, *, start: int = 0,
                      keep_traces: bool | Collection[str] = False) -> ChannelResult:
    """Condition one accelerometer sensor (1-3 axes), find and judge jolt candidates.

    The axes are first reduced to about 400 Hz by group means (a 5-50 Hz jolt loses
    nothing); candidates are reported at the full rate, to the middle of a group.
    ``plan`` and ``start`` as in :func:`detect_emg_channel`.
    """
    a = cfg.acc
    raw_xyz = np.atleast_2d(raw_xyz)
    if plan is None:
        plan = plan_acc(raw_xyz, sfreq)
    q = plan.q
    fs = sfreq / q
    n_full = raw_xyz.shape[-1]
    raw0 = raw_xyz
    raw_xyz, gaps = fill_gaps(raw_xyz, max(1, round(cfg.gaps.max_fill * sfreq)))
    xyz = decimate_mean(raw_xyz, q)
    xyz, glitches = repair_glitches(xyz, scale=plan.glitch_scale)
    tremor_s = 0.0
    tremor_amp = np.zeros(xyz.shape[-1])
    if a.tremor:
        tb = block_length(cfg.floor.block, fs)  # the floor's blocks: on the pieces' grid
        tremor = find_tremor(xyz, fs, tb, band=a.tremor_band, window=a.tremor_window,
                             purity=a.tremor_purity, top=a.band[1])
        if tremor.present.any():
            xyz, tremor_amp = remove_tremor(xyz, fs, tremor, cycles=a.tremor_cycles,
                                asymmetry=a.tremor_asymmetry,
                                min_cycles=a.tremor_min_cycles,
                                misfit=a.tremor_misfit)
            tremor_s = float(np.count_nonzero(tremor_amp) / fs)  # seconds removed
    mag, _, edges = condition_acc(xyz, fs, a.band, a.filter_order, origin=plan.origin)
    if gaps.long.any():  # long gaps (any axis) are left out, decimation groups whole
        out = gaps.cover(n_full, gap_margin(sfreq, edges[0]), rows=raw_xyz.shape[0]).any(0)
        m = mag.size
        mag[out[: m * q].reshape(m, q).any(axis=1)] = np.nan
    sums = MovingSums(mag * mag)
    env2 = sums.mean(window_samples(a.window, fs) // 2)
    seg = _segment(sums, env2, fs, a.on_ratio, a.off_ratio, a.edge_ratio, a.window,
                   a.onset_window, cfg)
    env = np.sqrt(env2)
    onset, offset = split_at_valleys(env, seg["onset"], seg["offset"], fs,
                                     min_gap=a.split_gap, depth=a.split_depth)
    b = seg["b"]
    floor = seg["floor"]
    r = cfg.reject
    low_mag = _movement_band(xyz, fs, r.acc_low_band, plan) if onset.size else None
    feats = _acc_features(raw0, low_mag, mag, sums, onset, offset, fs, floor, b, q, n_full,
                          tremor_amp, a)
    reason = judge(ACC_RULES, Candidates(onset, offset, fs, feats,
                                         at_blocks(floor, b, onset)), r)
    moved = reason == MOVEMENT
    # the jolt band must lie below the sensor's true Nyquist (a held sensor's
    # staircase is all there is above it)
    true_fs = min(fs, sfreq / plan.hold)
    if a.jolt_search and moved.any() and a.jolt_band[0] < MAX_EDGE_FRACTION * true_fs:
        # a jolt sharing a candidate with a slow movement: found in the jolt band, above
        # the movement's reach, the candidate is cut around it and the pieces judged
        j_on, j_off, j_rise, host = _jolts_inside(
            xyz, fs, onset[moved], offset[moved], at_blocks(seg["on"], b, onset[moved]),
            at_blocks(seg["off"], b, onset[moved]), edges, a)
        if j_on.size:
            onset, offset, is_jolt, piece_of = _cut(onset, offset, np.flatnonzero(moved)[host],
                                                    j_on, j_off)
            feats = _acc_features(raw0, low_mag, mag, sums, onset, offset, fs, floor, b,
                                  q, n_full, tremor_amp, a)
            feats["jolt_piece"] = is_jolt.astype(float)
            feats["rise_half"][is_jolt] = j_rise
            reason = judge(ACC_RULES, Candidates(onset, offset, fs, feats,
                                                 at_blocks(floor, b, onset)), r)
            reason[piece_of & ~is_jolt] = MOVEMENT  # what is left of the movement
    if "jolt_piece" not in feats:
        feats["jolt_piece"] = np.zeros(onset.size)
    # back to the full rate: a group's middle sample
    mid = q // 2
    feats["peak"] = np.minimum(feats["peak"] * q + mid, n_full - 1)
    res = ChannelResult(name=name, modality="acc", unit="m/s^2",
                        onset=np.minimum(onset * q + mid, n_full - 1),
                        offset=np.minimum(offset * q + mid, n_full),
                        features=feats, reason=reason, floor=_median(floor),
                        processing={"band_hz": list(edges), "glitches_repaired": glitches,
                                    "rate_hz": fs, "tremor_s": tremor_s},
                        floor_blocks=floor, floor_block=b * q)
    if keep_traces:
        def up(v: np.ndarray) -> np.ndarray:
            out = np.repeat(v, q)
            return np.concatenate([out, np.full(n_full - out.size, out[-1] if out.size
                                                else np.nan)])[:n_full]
        res.traces = _pick_traces(keep_traces, {
            "conditioned": lambda: up(mag), "envelope": lambda: up(env),
            "floor": lambda: up(interp_blocks(floor, b, mag.size)),
            "on": lambda: up(interp_blocks(seg["on"], b, mag.size)),
            "off": lambda: up(interp_blocks(seg["off"], b, mag.size))})
    return res
