"""The array-level core: running noise floor, hysteresis, merging and edge placement.

Everything here works on one activity trace at a time (``env`` of shape ``(n_samples,)``)
with arrays of candidate start/stop samples; no loop runs over samples.
"""

from __future__ import annotations

import itertools

import numpy as np


def running_floor(
    env: np.ndarray, sfreq: float, block: float, window: float, *, spread: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Robust running noise floor of an envelope (and optionally its spread).

    The median of each block of ``block`` seconds is taken (NaN and exact zeros, i.e.
    gaps and padding, are ignored), then the running median of those block medians over
    ``window`` seconds, linearly interpolated back to every sample. With ``spread``, the
    same is done with each block's median absolute deviation (× 1.4826, a robust standard
    deviation), which measures how much the envelope of the background fluctuates.

    Parameters
    ----------
    env : ndarray, shape (n_samples,)
        Non-negative envelope.
    sfreq : float
    block, window : float
        Seconds.
    spread : bool
        Also return the running robust standard deviation.

    Returns
    -------
    floor : ndarray, shape (n_samples,)
        NaN only if the whole trace is missing.
    spread : ndarray, shape (n_samples,)
        Only with ``spread=True``.
    """
    n = env.size
    b = max(1, round(block * sfreq))
    nb = -(-n // b)
    padded = np.full(nb * b, np.nan)
    padded[:n] = np.where(env > 0, env, np.nan)
    blocks = padded.reshape(nb, b)
    k = max(1, round(window / block))
    k += 1 - k % 2
    # np.nanmedian loops over rows; np.median is vectorized, so use it where no block
    # holds a NaN (the usual case: gaps and padding are rare)
    median = np.median if np.isfinite(blocks).all() else np.nanmedian
    with np.errstate(all="ignore"):
        valid = np.isfinite(blocks).sum(axis=1) >= max(1, b // 4)
        med = np.full(nb, np.nan)
        mad = np.full(nb, np.nan)
        if valid.any():
            med[valid] = median(blocks[valid], axis=1)
            if spread:
                dev = np.abs(blocks[valid] - med[valid, None])
                mad[valid] = 1.4826 * median(dev, axis=1)
    floor = _running_median_interp(med, k, b, n)
    if not spread:
        return floor
    return floor, _running_median_interp(mad, k, b, n)


def _running_median_interp(values: np.ndarray, k: int, b: int, n: int) -> np.ndarray:
    """Running median over ``k`` blocks (NaN ignored), interpolated to ``n`` samples."""
    nb = values.size
    half = k // 2
    ext = np.concatenate([np.full(half, np.nan), values, np.full(half, np.nan)])
    win = np.lib.stride_tricks.sliding_window_view(ext, k)
    enough = np.isfinite(win).sum(axis=1) > 0
    run = np.full(nb, np.nan)
    if enough.any():
        with np.errstate(all="ignore"):
            run[enough] = np.nanmedian(win[enough], axis=1)
    good = np.isfinite(run)
    if not good.any():
        return np.full(n, np.nan)
    centres = (np.arange(nb) + 0.5) * b
    return np.interp(np.arange(n), centres[good], run[good])


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) indices of the runs of True in a boolean array."""
    edges = np.diff(np.concatenate([[False], mask, [False]]).astype(np.int8))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def hysteresis(env: np.ndarray, on: np.ndarray, off: np.ndarray) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """Regions where ``env`` stays above ``off`` and somewhere exceeds ``on``.

    Returns start and stop (exclusive) sample indices.
    """
    with np.errstate(invalid="ignore"):
        above_off = env > off
        above_on = env > on
    starts, stops = runs(above_off)
    if starts.size == 0:
        return starts, stops
    keep = _any_in(above_on, starts, stops)
    return starts[keep], stops[keep]


def _any_in(mask: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Whether ``mask`` has a True in each ``[start, stop)`` (vectorized with a cumsum)."""
    cs = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    return cs[stops] - cs[starts] > 0


def merge_close(starts: np.ndarray, stops: np.ndarray, gap: int) -> tuple[np.ndarray,
                                                                        np.ndarray]:
    """Join regions separated by fewer than ``gap`` samples."""
    if starts.size < 2:
        return starts, stops
    new = np.r_[True, starts[1:] - stops[:-1] >= gap]
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, starts.size - 1]
    return starts[first], stops[last]


def place_edges(
    mask: np.ndarray, starts: np.ndarray, stops: np.ndarray, reach: int
) -> tuple[np.ndarray, np.ndarray]:
    """Onset and offset of each region from a sharper activity mask.

    The onset is the first True of ``mask`` in ``[start - reach, stop)``, the offset one
    past the last True in ``[start, stop + reach)``; regions where ``mask`` has no True
    keep their edges.
    """
    n = mask.size
    true = np.flatnonzero(mask)
    if true.size == 0 or starts.size == 0:
        return starts.copy(), stops.copy()
    lo = np.maximum(starts - reach, 0)
    hi = np.minimum(stops + reach, n)
    i = np.searchsorted(true, lo)
    first = true[np.minimum(i, true.size - 1)]
    ok_on = (i < true.size) & (first < stops)
    j = np.searchsorted(true, hi) - 1
    last = true[np.maximum(j, 0)]
    ok_off = (j >= 0) & (last >= starts)
    onset = np.where(ok_on, first, starts)
    offset = np.where(ok_off, last + 1, stops)
    bad = offset <= onset
    onset[bad], offset[bad] = starts[bad], stops[bad]
    return onset, offset


def split_at_valleys(
    env: np.ndarray, onset: np.ndarray, offset: np.ndarray, sfreq: float, *,
    min_gap: float, depth: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Split candidates where the envelope dips between two peaks.

    Inside a candidate longer than ``2 * min_gap`` s, peaks of the envelope at least
    ``min_gap`` s apart whose valley between them falls below ``depth`` times the smaller
    of the two peaks mark two events; the candidate is cut at the valley. Twitches that
    follow each other while the needle is fanned overlap on a slow accelerometer trace
    without its envelope returning to the floor.
    """
    from scipy.signal import find_peaks

    if onset.size == 0:
        return onset, offset
    dist = max(1, int(min_gap * sfreq))
    new_on, new_off = [], []
    for a, b in zip(onset, offset, strict=True):  # a loop over candidates
        if b - a <= 2 * dist:
            new_on.append(a)
            new_off.append(b)
            continue
        seg = np.nan_to_num(env[a:b])
        peaks, _ = find_peaks(seg, distance=dist)
        cuts = []
        for p0, p1 in itertools.pairwise(peaks):
            v = p0 + int(np.argmin(seg[p0:p1]))
            if seg[v] < depth * min(seg[p0], seg[p1]):
                cuts.append(a + v)
        bounds = [a, *cuts, b]
        new_on.extend(bounds[:-1])
        new_off.extend(bounds[1:])
    return np.asarray(new_on, dtype=int), np.asarray(new_off, dtype=int)


def segment_features(
    x: np.ndarray, onset: np.ndarray, offset: np.ndarray, sfreq: float,
    floor_rms: np.ndarray, *, spectral: bool = True, high_band: float = 60.0,
) -> dict[str, np.ndarray]:
    """Per-candidate features of a conditioned signal over ``[onset, offset)``.

    Returns arrays: ``peak`` (sample of the largest |x|), ``amplitude`` (that |x|),
    ``rms``, ``area`` (∫|x| dt), ``snr_db`` (20 log10 of rms over the local floor),
    ``burst`` (shortest span, s, holding the central 90 % of the energy above the floor),
    ``crest`` (amplitude / rms) and, with ``spectral``, ``median_freq`` (Hz) and
    ``high_rms`` (RMS of the content above ``high_band`` Hz).

    The loop runs over candidates (their number is small and bounded), never over samples.
    """
    k = onset.size
    out = {name: np.zeros(k) for name in ("amplitude", "rms", "area", "snr_db", "burst",
                                          "crest", "median_freq", "high_rms")}
    out["peak"] = np.zeros(k, dtype=int)
    for i in range(k):
        seg = x[onset[i]:offset[i]]
        seg = np.where(np.isfinite(seg), seg, 0.0)
        if seg.size == 0:
            continue
        a = np.abs(seg)
        p = int(np.argmax(a))
        out["peak"][i] = onset[i] + p
        out["amplitude"][i] = a[p]
        rms = float(np.sqrt(np.mean(seg * seg)))
        out["rms"][i] = rms
        out["area"][i] = a.sum() / sfreq
        fl = floor_rms[onset[i]] if np.isfinite(floor_rms[onset[i]]) else np.nan
        out["snr_db"][i] = 20 * np.log10(rms / fl) if fl > 0 and rms > 0 else np.nan
        out["crest"][i] = a[p] / rms if rms > 0 else 0.0
        excess = np.maximum(seg * seg - (fl * fl if np.isfinite(fl) else 0.0), 0.0)
        cs = np.cumsum(excess)
        if cs[-1] > 0:
            cs /= cs[-1]
            lo = np.searchsorted(cs, 0.05)
            hi = np.searchsorted(cs, 0.95)
            out["burst"][i] = (hi - lo + 1) / sfreq
        if spectral and seg.size >= 8:
            nfft = max(seg.size, 64)
            raw_spec = np.abs(np.fft.rfft(seg, n=nfft)) ** 2
            spec = np.abs(np.fft.rfft(seg * np.hanning(seg.size), n=nfft)) ** 2
            f = np.fft.rfftfreq(nfft, 1 / sfreq)
            c = np.cumsum(spec)
            out["median_freq"][i] = f[np.searchsorted(c, 0.5 * c[-1])] if c[-1] > 0 else 0.0
            # RMS of the part above ``high_band`` Hz (Parseval on the unwindowed segment)
            hi = f >= high_band
            scale = 2.0 / (nfft * seg.size)
            out["high_rms"][i] = np.sqrt(scale * raw_spec[hi].sum())
    return out
