"""Per-channel detection: EMG channels and accelerometer sensors to accepted candidates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..envelope import moving_mean, moving_rms, tkeo_envelope, window_samples
from ..preprocess import (
    band_edges,
    bandpass,
    condition_acc,
    find_mains,
    find_qrs,
    remove_mains,
    repair_glitches,
    subtract_ecg,
)
from .config import DetectorConfig
from .core import (
    hysteresis,
    merge_close,
    place_edges,
    running_floor,
    runs,
    segment_features,
    split_at_valleys,
)


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

    @property
    def accepted(self) -> np.ndarray:
        return self.reason == ""


def clipped_mask(x: np.ndarray) -> np.ndarray:
    """Samples sitting on a saturated rail: the extreme value piled up (see quality.assess)."""
    out = np.zeros(x.shape, bool)
    finite = x[np.isfinite(x)]
    if finite.size < 10:
        return out
    for sign in (1.0, -1.0):
        v = sign * finite
        top = v.max()
        c1 = np.count_nonzero(v == top)
        below = v[v < top]
        c2 = np.count_nonzero(below == below.max()) if below.size else 0
        if c1 >= 3 and c1 > 4 * c2:
            out |= sign * x == top
    return out


def find_steps(x: np.ndarray, sfreq: float, *, factor: float = 20.0) -> np.ndarray:
    """Electrode pops: one-sample jumps that leave the level shifted.

    A jump larger than ``factor`` robust standard deviations of the sample-to-sample
    difference counts when (a) the mean level 3-25 ms after it differs from the level
    3-25 ms before it by at least half the jump (a needle spike or a motor-unit potential
    returns to baseline within a few ms; a pop does not) and (b) that shift is at least
    10 times the RMS sample-to-sample difference around it (the signal around a pop is
    smooth, the inside of an EMG burst is not).

    Returns
    -------
    ndarray of int
        Sample indices of the steps.
    """
    z = np.where(np.isfinite(x), x, 0.0)
    d = np.diff(z)
    scale = np.median(np.abs(d)) / 0.6745
    if scale <= 0:
        return np.zeros(0, dtype=int)
    jumps = np.flatnonzero(np.abs(d) > factor * scale) + 1
    if jumps.size == 0:
        return jumps
    m1, m2 = max(1, int(0.003 * sfreq)), max(2, int(0.025 * sfreq))
    ok = (jumps - m2 >= 0) & (jumps + m2 < z.size)
    jumps = jumps[ok]
    cs = np.concatenate([[0.0], np.cumsum(z)])
    before = (cs[jumps - m1] - cs[jumps - m2]) / (m2 - m1)
    after = (cs[jumps + m2] - cs[jumps + m1]) / (m2 - m1)
    shift = np.abs(after - before)
    d2 = np.concatenate([[0.0], np.cumsum(d * d)])  # d[k] = z[k+1] - z[k]
    # cumulative-sum differences can dip below zero by rounding on long records
    rough = np.sqrt(np.maximum((d2[jumps + m2 - 1] - d2[jumps + m1 - 1])
                               + (d2[jumps - m1 - 1] - d2[jumps - m2 - 1]), 0.0)
                    / (2 * (m2 - m1)))
    keep = (shift >= 0.5 * np.abs(d[jumps - 1])) & (shift >= 10 * rough)
    return jumps[keep]


def find_spikes(x: np.ndarray, sfreq: float, floor: np.ndarray, *, isolation: float,
                min_ratio: float, pad: float) -> tuple[np.ndarray, np.ndarray]:
    """Needle-contact spikes: brief, large transients standing alone.

    A sample belongs to a spike when the RMS over ~2 ms around it is at least
    ``isolation`` times the RMS of the ring from there to ±20 ms, and at least
    ``min_ratio`` times the noise floor. Motor-unit potentials inside a twitch have
    neighbours in that ring; a needle touching tissue or a metal contact gives a lone
    transient of 1-3 ms.

    Parameters
    ----------
    pad : float
        Seconds added on both sides of each spike: the band-pass makes a sharp spike ring
        for a few periods of its upper edge.

    Returns
    -------
    starts, stops : ndarray of int
        Sample ranges to blank.
    """
    n_s = max(3, window_samples(0.002, sfreq))
    n_w = max(n_s + 4, window_samples(0.04, sfreq))
    x2 = np.where(np.isfinite(x), x * x, 0.0)
    short_ms = moving_mean(x2, n_s)
    ring_ms = np.maximum(moving_mean(x2, n_w) * n_w - short_ms * n_s, 0.0) / (n_w - n_s)
    with np.errstate(invalid="ignore", divide="ignore"):
        spike = (short_ms >= isolation**2 * ring_ms) & (short_ms >= (min_ratio * floor) ** 2)
    starts, stops = runs(spike)
    k = max(1, round(pad * sfreq))
    starts, stops = merge_close(np.maximum(starts - k, 0), np.minimum(stops + k, x.size), 1)
    return starts, stops


def _dense(onset: np.ndarray, offset: np.ndarray, sfreq: float, r: Any) -> np.ndarray:
    """Candidates belonging to dense, sustained activity (a voluntary contraction that the
    envelope crosses on and off): runs of candidates separated by less than
    ``r.dense_gap`` s that last longer than ``r.max_duration`` and are active at least
    ``r.dense_duty`` of the time. Twitches while fanning leave longer quiet gaps."""
    out = np.zeros(onset.size, bool)
    if onset.size < 2:
        return out
    new = np.r_[True, (onset[1:] - offset[:-1]) / sfreq >= r.dense_gap]
    group = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, onset.size - 1]
    span = (offset[last] - onset[first]) / sfreq
    active = np.add.reduceat(offset - onset, first) / sfreq
    sustained = (last > first) & (span > r.max_duration) & (active >= r.dense_duty * span)
    return sustained[group]


def _median(x: np.ndarray) -> float:
    """Median of the finite values, NaN when there are none (a flat or empty channel)."""
    finite = x[np.isfinite(x)]
    return float(np.median(finite)) if finite.size else float("nan")


def _inside(starts: np.ndarray, stops: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Whether each ``t`` lies in one of the ``[start, stop]`` spans (starts sorted)."""
    if starts.size == 0:
        return np.zeros(t.size, bool)
    i = np.searchsorted(starts, t, side="right") - 1
    return (i >= 0) & (t <= stops[np.clip(i, 0, None)])


def motion_spans(raw: np.ndarray, sfreq: float, cfg: DetectorConfig) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Stretches where an EMG lead shows a low-frequency movement artifact.

    The raw signal is band-passed 1-8 Hz (cable and needle movement, below heartbeats'
    QRS), its 100 ms RMS compared with its own running floor; spans above
    ``reject.motion_ratio`` × floor are returned (sample indices).
    """
    if sfreq < 40:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    lf, _ = bandpass(raw, sfreq, (1.0, 8.0), 2)
    env = moving_rms(lf, window_samples(0.1, sfreq))
    floor = running_floor(env, sfreq, cfg.floor.block, cfg.floor.window)
    with np.errstate(invalid="ignore"):
        return runs(env > cfg.reject.motion_ratio * floor)


def _near(points: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Whether any of the sorted ``points`` lies in each ``[lo, hi]``."""
    if points.size == 0:
        return np.zeros(lo.size, bool)
    return np.searchsorted(points, hi, side="right") > np.searchsorted(points, lo, side="left")


def _segment(env: np.ndarray, short: np.ndarray, sfreq: float, on_ratio: float,
             off_ratio: float, edge_ratio: float, window: float,
             cfg: DetectorConfig) -> tuple[np.ndarray, ...]:
    """Floors, hysteresis, merging and edge placement shared by EMG and ACC.

    Returns onsets, offsets (samples), the floor and the on/off thresholds."""
    floor, spread = running_floor(env, sfreq, cfg.floor.block, cfg.floor.window,
                                  spread=True)
    floor_s = running_floor(short, sfreq, cfg.floor.block, cfg.floor.window)
    # thresholds: a ratio over the floor, raised where the background envelope
    # fluctuates more (narrow bands, low sampling rates) so false alarms stay rare
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.nan_to_num(spread / floor)
    on = floor * np.maximum(on_ratio, 1.0 + cfg.floor.on_sigma * cv)
    off = floor * np.maximum(off_ratio, 1.0 + cfg.floor.off_sigma * cv)
    starts, stops = hysteresis(env, on, off)
    gap = round(cfg.segment.merge_gap * sfreq)
    starts, stops = merge_close(starts, stops, gap)
    with np.errstate(invalid="ignore"):
        sharp = short > edge_ratio * floor_s
    onset, offset = place_edges(sharp, starts, stops, reach=int(window * sfreq / 2) + 1)
    order = np.argsort(onset, kind="stable")
    onset, offset = merge_close(onset[order], offset[order], gap)
    keep = (offset - onset) >= max(1, int(cfg.segment.min_duration * sfreq))
    return onset[keep], offset[keep], floor, on, off


def detect_emg_channel(raw: np.ndarray, sfreq: float, name: str,
                       cfg: DetectorConfig) -> ChannelResult:
    """Condition one EMG channel, find candidates, describe and judge them."""
    e = cfg.emg
    edges = band_edges(e.band, sfreq)
    processing: dict[str, Any] = {"band_hz": list(edges)}
    if e.mains:
        # hum is found in the raw spectrum and subtracted before the band-pass, so the
        # filter never sees (and never rings on) the sinusoid starting at the file's edge
        mains = find_mains(raw, sfreq, prominence_db=e.mains_prominence_db,
                           max_freq=edges[1])
        if mains.frequency is not None:
            raw = remove_mains(raw, sfreq, mains.frequency, mains.harmonics)
        processing["mains_hz"] = mains.frequency
        processing["mains_harmonics"] = mains.harmonics
    x, edges = bandpass(raw, sfreq, e.band, e.filter_order)
    r_peaks = find_qrs(raw, sfreq) if e.ecg else np.zeros(0, dtype=int)
    x_with_ecg = x
    if r_peaks.size:
        x = subtract_ecg(x, sfreq, r_peaks)
    processing["heartbeats"] = int(r_peaks.size)
    r = cfg.reject
    spike_on = spike_off = np.zeros(0, dtype=int)
    if r.spike_isolation > 0:
        short0 = moving_rms(x, window_samples(e.onset_window, sfreq))
        floor0 = running_floor(short0, sfreq, cfg.floor.block, cfg.floor.window)
        spike_on, spike_off = find_spikes(x, sfreq, floor0, isolation=r.spike_isolation,
                                          min_ratio=r.spike_min_ratio, pad=0.002)
        if spike_on.size:
            x = _despike(raw, x, sfreq, spike_on, spike_off, edges, e.filter_order)
    processing["spikes_blanked"] = int(spike_on.size)
    n_win = window_samples(e.window, sfreq)
    env = tkeo_envelope(x, n_win) if e.envelope == "tkeo" else moving_rms(x, n_win)
    short = moving_rms(x, window_samples(e.onset_window, sfreq))
    onset, offset, floor, on_thr, off_thr = _segment(env, short, sfreq, e.on_ratio,
                                                     e.off_ratio, e.edge_ratio, e.window, cfg)
    feats = segment_features(x, onset, offset, sfreq, floor)
    feats["rise_time"] = (feats["peak"] - onset) / sfreq
    reason = np.full(onset.size, "", dtype=object)

    def mark(cond: np.ndarray, why: str) -> None:
        reason[(reason == "") & cond] = why

    clip = clipped_mask(raw)
    if clip.any():
        cs = np.concatenate([[0], np.cumsum(clip)])
        mark(cs[offset] - cs[onset] > 0, "clipping")
    steps = find_steps(raw, sfreq)
    margin = int(0.01 * sfreq)
    mark(_near(steps, onset - margin, offset + margin), "pop")
    duration = (offset - onset) / sfreq
    long_ = (duration > r.max_duration) | _dense(onset, offset, sfreq, r)
    mark(long_, "contraction")
    if long_.any():  # fragments of a contraction's ramps belong to it
        m = int(r.contraction_margin * sfreq)
        c_on, c_off = np.sort(onset[long_] - m), np.sort(offset[long_] + m)
        mark(_near(c_on, onset, offset) | _near(c_off, onset, offset)
             | _inside(c_on, c_off, onset), "contraction")
    short_burst = feats["burst"] < r.min_burst
    mark(short_burst & (feats["crest"] >= r.spike_crest), "needle_spike")
    mark(short_burst, "single_mup")
    # low-frequency residue (motion, ECG) unless real EMG-band activity rides on it
    emg_inside = feats["high_rms"] > r.high_band_ratio * floor[np.minimum(onset, floor.size - 1)]
    low = (feats["median_freq"] < r.min_median_freq) & ~emg_inside
    beat = int(0.06 * sfreq)
    near_beat = _near(r_peaks, onset - beat, offset + beat)
    if near_beat.any():
        # a candidate at a heartbeat whose energy left after template subtraction is what
        # subtraction typically leaves of a beat is residue, not a twitch
        cs_before = np.concatenate([[0.0], np.cumsum(np.nan_to_num(x_with_ecg) ** 2)])
        cs_after = np.concatenate([[0.0], np.cumsum(np.nan_to_num(x) ** 2)])
        before = cs_before[offset] - cs_before[onset]
        after = cs_after[offset] - cs_after[onset]
        lo_b = np.clip(r_peaks - beat, 0, x.size)
        hi_b = np.clip(r_peaks + beat, 0, x.size)
        typical = np.median((cs_after[hi_b] - cs_after[lo_b])
                            / np.maximum(cs_before[hi_b] - cs_before[lo_b], 1e-300))
        processing["ecg_residue"] = float(typical)
        limit = min(r.ecg_explained, r.ecg_residue_factor * typical)
        mark(near_beat & (after < limit * before), "ecg")
    mark(low & near_beat, "ecg")
    mark(low, "motion")
    if spike_on.size:  # blanked spikes are rejected candidates too, for the audit
        k = spike_on.size
        spike_feats = {key: np.full(k, np.nan) for key in feats}
        spike_feats["peak"] = ((spike_on + spike_off) // 2).astype(int)
        feats = {key: np.concatenate([feats[key], spike_feats[key]]).astype(feats[key].dtype)
                 for key in feats}
        onset = np.concatenate([onset, spike_on])
        offset = np.concatenate([offset, spike_off])
        reason = np.concatenate([reason, np.full(k, "needle_spike", dtype=object)])
    res = ChannelResult(name=name, modality="emg", unit="V", onset=onset, offset=offset,
                        features=feats, reason=reason, floor=_median(floor),
                        processing=processing)
    res.motion = motion_spans(raw, sfreq, cfg)
    res.traces = {"conditioned": x, "envelope": env, "floor": floor,
                  "on": on_thr, "off": off_thr}
    return res


def _despike(raw: np.ndarray, x: np.ndarray, sfreq: float, starts: np.ndarray,
             stops: np.ndarray, edges: tuple[float, float], order: int) -> np.ndarray:
    """Remove spikes as if they had never entered the band-pass.

    In the raw signal each spike range is replaced by a straight line between its edges;
    because the filter is linear, the conditioned signal is corrected by adding the
    filtered difference, computed on a short window around each spike only (so the
    filter's ringing around a sharp spike goes too, and nothing else is refiltered).
    """
    from scipy import signal

    sos = signal.butter(order, edges, btype="bandpass", fs=sfreq, output="sos")
    y = x.copy()
    reach = int(0.25 * sfreq)
    z = np.where(np.isfinite(raw), raw, 0.0)
    for s0, s1 in zip(starts, stops, strict=True):  # a loop over spikes (few)
        a, b = max(s0 - 1, 0), min(s1, z.size - 1)
        line = np.interp(np.arange(s0, s1), [a, b], [z[a], z[b]])
        lo, hi = max(s0 - reach, 0), min(s1 + reach, z.size)
        delta = np.zeros(hi - lo)
        delta[s0 - lo : s1 - lo] = line - z[s0:s1]
        if delta.size > 3 * (2 * sos.shape[0] + 1):
            y[lo:hi] += signal.sosfiltfilt(sos, delta)
    return y


def detect_acc_sensor(raw_xyz: np.ndarray, sfreq: float, name: str,
                      cfg: DetectorConfig) -> ChannelResult:
    """Condition one accelerometer sensor (1-3 axes), find and judge jolt candidates."""
    a = cfg.acc
    raw_xyz, glitches = repair_glitches(np.atleast_2d(raw_xyz))
    mag, _, edges = condition_acc(raw_xyz, sfreq, a.band, a.filter_order)
    env = moving_rms(mag, window_samples(a.window, sfreq))
    short = moving_rms(mag, window_samples(a.onset_window, sfreq))
    onset, offset, floor, on_thr, off_thr = _segment(env, short, sfreq, a.on_ratio,
                                                     a.off_ratio, a.edge_ratio, a.window, cfg)
    onset, offset = split_at_valleys(env, onset, offset, sfreq, min_gap=a.split_gap,
                                     depth=a.split_depth)
    feats = segment_features(mag, onset, offset, sfreq, floor, spectral=False)
    feats["median_freq"] = np.full(onset.size, np.nan)
    feats["rise_time"] = (feats["peak"] - onset) / sfreq
    r = cfg.reject
    reason = np.full(onset.size, "", dtype=object)

    def mark(cond: np.ndarray, why: str) -> None:
        reason[(reason == "") & cond] = why

    clip = np.zeros(mag.size, bool)
    for axis in np.atleast_2d(raw_xyz):
        clip |= clipped_mask(axis)
    if clip.any():
        cs = np.concatenate([[0], np.cumsum(clip)])
        mark(cs[offset] - cs[onset] > 0, "clipping")
    duration = (offset - onset) / sfreq
    mark(duration > r.acc_max_duration, "movement")
    rise_half = np.zeros(onset.size)
    for i in range(onset.size):  # a loop over candidates: time to half the envelope peak
        seg = np.nan_to_num(short[onset[i]:offset[i]])
        if seg.size:
            rise_half[i] = np.argmax(seg >= 0.5 * seg.max()) / sfreq
    feats["rise_half"] = rise_half
    mark(rise_half > r.acc_max_rise, "movement")
    if onset.size:
        # movement content (0.5-5 Hz) over the candidate itself, filtered causally like
        # the twitch band so neither leaks in time
        low_mag, _, _ = condition_acc(raw_xyz, sfreq, (0.5, min(5.0, 0.45 * sfreq)), 2)
        low_mag2 = low_mag**2
        lo_idx, hi_idx = onset, offset
        cs_low = np.concatenate([[0.0], np.cumsum(np.nan_to_num(low_mag2))])
        cs_band = np.concatenate([[0.0], np.cumsum(np.nan_to_num(mag**2))])
        ratio = np.sqrt(np.maximum(cs_low[hi_idx] - cs_low[lo_idx], 0.0)
                        / np.maximum(cs_band[hi_idx] - cs_band[lo_idx], 1e-300))
        feats["low_ratio"] = ratio
        mark(ratio > r.acc_low_ratio, "movement")
    else:
        feats["low_ratio"] = np.zeros(0)
    res = ChannelResult(name=name, modality="acc", unit="m/s^2", onset=onset, offset=offset,
                        features=feats, reason=reason, floor=_median(floor),
                        processing={"band_hz": list(edges), "glitches_repaired": glitches})
    res.traces = {"conditioned": mag, "envelope": env, "floor": floor,
                  "on": on_thr, "off": off_thr}
    return res
