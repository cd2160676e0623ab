"""The array-level core: running noise floor, hysteresis, merging and edge placement.

Everything here works on one activity trace at a time (``env`` of shape ``(n_samples,)``)
with arrays of candidate start/stop samples; no loop runs over samples.
"""

from __future__ import annotations

import itertools

import numpy as np

from .config import RejectConfig


class MovingSums:
    """Centred moving sums of one trace, any window, from a single cumulative sum.

    The window around sample ``i`` is ``[i - half, i + half]``, shrunk at the edges. NaN
    samples count as missing: sums leave them out and :meth:`mean` divides by the number
    of samples present (NaN when there are none).

    Parameters
    ----------
    v : ndarray, shape (n_samples,)
        The trace (typically the square of a signal).
    """

    def __init__(self, v: np.ndarray) -> None:
        self.n = v.size
        self.cs = np.empty(self.n + 1)
        self.cs[0] = 0.0
        np.cumsum(v, dtype=np.float64, out=self.cs[1:])  # float32 input: sums in float64
        self.cn: np.ndarray | None = None
        self.has_gaps = bool(np.isnan(self.cs[-1]))  # NaN anywhere reaches the total
        if self.has_gaps:
            valid = ~np.isnan(v)
            np.cumsum(np.where(valid, v, 0.0), dtype=np.float64, out=self.cs[1:])
            self.cn = np.empty(self.n + 1)
            self.cn[0] = 0.0
            np.cumsum(valid, out=self.cn[1:])

    def refresh(self, x: np.ndarray, starts: np.ndarray, stops: np.ndarray,
                reach: int) -> None:
        """Update the sums after ``x`` changed within ``reach`` of each ``[start, stop)``.

        Only those stretches are summed again; everything after a stretch moves by the
        change in its total (one pass over the tail for all stretches together).
        """
        if self.cn is not None:  # gaps: rebuild (rare)
            self.__init__(x * x)
            return
        lo, hi = merge_close(np.maximum(starts - reach, 0),
                             np.minimum(stops + reach, self.n), 1)
        shift = 0.0
        prev = 0
        for a, b in zip(lo, hi, strict=True):  # a loop over changed stretches (few)
            if shift:
                self.cs[prev + 1: a + 1] += shift
            local = np.cumsum(x[a:b] * x[a:b], dtype=np.float64)
            shift = self.cs[a] + local[-1] - self.cs[b]  # cs[b] is still the old value
            self.cs[a + 1: b + 1] = self.cs[a] + local
            prev = b
        if shift:
            self.cs[prev + 1:] += shift

    def _diff(self, c: np.ndarray, half: int) -> np.ndarray:
        n = self.n
        out = np.empty(n)
        if 2 * half + 1 >= n:  # the window covers (nearly) everything: index arrays
            i = np.arange(n)
            return c[np.minimum(i + half + 1, n)] - c[np.maximum(i - half, 0)]
        np.subtract(c[2 * half + 1:], c[: n - 2 * half], out=out[half: n - half])
        out[:half] = c[half + 1: 2 * half + 1] - c[0]
        out[n - half:] = c[n] - c[n - 2 * half: n - half]
        return out

    def sum(self, half: int) -> np.ndarray:
        """Window sums at every sample."""
        return self._diff(self.cs, half)

    def count(self, half: int) -> np.ndarray:
        """Samples present in each window."""
        if self.cn is not None:
            return self._diff(self.cn, half)
        i = np.arange(self.n)
        return (np.minimum(i + half + 1, self.n) - np.maximum(i - half, 0)).astype(float)

    def mean(self, half: int) -> np.ndarray:
        """Window means at every sample (edges shrink, gaps left out)."""
        total = self.sum(half)
        if self.cn is None and 2 * half + 1 < self.n:
            # the middle has full windows; only the edges need their own counts
            total[half: self.n - half] *= 1.0 / (2 * half + 1)
            k = np.arange(half)
            total[:half] /= k + half + 1
            total[self.n - half:] /= (k + half + 1)[::-1]
            return total
        count = self.count(half)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    def sum_grid(self, half: int, step: int) -> np.ndarray:
        """Window sums at samples ``0, step, 2 step, ...`` (strided slices, no index arrays)."""
        n, c = self.n, self.cs
        m = -(-n // step)
        out = np.empty(m)
        j_lo = -(-half // step)  # first grid point with a full window on the left
        j_hi = (n - half - 1) // step  # last with a full window on the right
        if j_hi >= j_lo:
            a = j_lo * step
            b = j_hi * step
            np.subtract(c[a + half + 1: b + half + 2: step], c[a - half: b - half + 1: step],
                        out=out[j_lo: j_hi + 1])
            edge = np.r_[np.arange(0, j_lo), np.arange(j_hi + 1, m)]
        else:
            edge = np.arange(m)
        if edge.size:
            i = edge * step
            out[edge] = c[np.minimum(i + half + 1, n)] - c[np.maximum(i - half, 0)]
        return out

    def mean_grid(self, half: int, step: int) -> np.ndarray:
        """Window means at samples ``0, step, 2 step, ...`` (edges shrink, gaps left out)."""
        if self.cn is not None:
            return self.mean_at(np.arange(0, self.n, step), half)
        total = self.sum_grid(half, step)
        m = total.size
        j_lo = min(m, -(-half // step))
        j_hi = max(j_lo - 1, min(m - 1, (self.n - half - 1) // step))
        total[j_lo: j_hi + 1] *= 1.0 / (2 * half + 1)
        edge = np.r_[np.arange(0, j_lo), np.arange(j_hi + 1, m)]
        if edge.size:
            i = edge * step
            total[edge] /= np.minimum(i + half + 1, self.n) - np.maximum(i - half, 0)
        return total

    def mean_at(self, idx: np.ndarray, half: int) -> np.ndarray:
        """Window means at the samples ``idx`` only."""
        hi = np.minimum(idx + half + 1, self.n)
        lo = np.maximum(idx - half, 0)
        total = self.cs[hi] - self.cs[lo]
        if self.cn is None:
            total /= hi - lo
            return total
        count = self.cn[hi] - self.cn[lo]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def block_length(block: float, sfreq: float) -> int:
    """Samples per noise-floor block."""
    return max(1, round(block * sfreq))


def block_floor(
    env: np.ndarray, b: int, window: float, block: float, *, spread: bool = False,
    squared: bool = False, points: int = 64,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Running noise floor of an envelope, one value per block of ``b`` samples.

    Each block's median is taken over up to ``points`` evenly spaced samples (the
    envelope is smooth over its window, so this costs a fraction of a full median and
    estimates the same level), NaN and exact zeros (gaps, padding) left out; a block
    with fewer than a quarter of its points present has none. The running median of
    the block medians over ``window`` s follows. With ``spread``, the same is done with
    each block's median absolute deviation × 1.4826 (a robust standard deviation), which
    measures how much the background envelope fluctuates.

    Blocks start at sample 0 of ``env``: callers that process a recording in pieces
    start each piece at a multiple of ``b`` so blocks fall on the same samples.

    Parameters
    ----------
    env : ndarray, shape (n_samples,)
        Non-negative envelope (or its square, with ``squared=True``), possibly already
        on a grid (then ``b`` counts grid points).
    b : int
        Block length, samples.
    window, block : float
        Running-median span and block length, s.
    spread : bool
        Also return the running robust standard deviation.
    squared : bool
        ``env`` holds squared values; the floor and spread are returned as amplitudes.

    Returns
    -------
    floor : ndarray, shape (n_blocks,)
        NaN where no block within the running window had data.
    spread : ndarray, shape (n_blocks,) | None
    """
    n = env.size
    nb = -(-n // b)
    step = max(1, -(-b // points))
    per = -(-b // step)
    # a strided view of the complete blocks; the last, partial one padded with NaN
    full = n // b
    vals = np.full((nb, per), np.nan)
    vals[:full] = env[: full * b].reshape(full, b)[:, ::step]
    if full < nb:
        tail = env[full * b:: step]
        vals[full, : tail.size] = tail
    if squared:
        vals = np.sqrt(np.maximum(vals, 0.0))  # NaN stays NaN
    with np.errstate(invalid="ignore"):
        present = vals > 0  # NaN (padding, gaps) compares False
    if not present.all():
        vals = np.where(present, vals, np.nan)
    k = max(1, round(window / block))
    k += 1 - k % 2
    median = (lambda v, axis: _row_medians(v)) if present.all() else np.nanmedian
    with np.errstate(all="ignore"):
        valid = present.sum(axis=1) >= max(1, per // 4)
        med = np.full(nb, np.nan)
        mad = np.full(nb, np.nan)
        if valid.any():
            med[valid] = median(vals[valid], axis=1)
            if spread:
                dev = np.abs(vals[valid] - med[valid, None])
                mad[valid] = 1.4826 * median(dev, axis=1)
    floor = _running_median(med, k)
    return floor, (_running_median(mad, k) if spread else None)


def _running_median(values: np.ndarray, k: int) -> np.ndarray:
    """Running median over ``k`` values, centred; the window shrinks at the ends and NaN
    values are left out (NaN where a window holds none)."""
    from scipy import ndimage

    nb = values.size
    half = k // 2
    finite = np.isfinite(values)
    if finite.all() and nb > 2 * half:
        run = ndimage.median_filter(values, size=k, mode="nearest")
        # the ends: shrinking windows, as if the values beyond were missing
        for i in list(range(half)) + list(range(nb - half, nb)):  # 2 * half values
            run[i] = _median_of(values[max(0, i - half): i + half + 1])
        return run
    ext = np.concatenate([np.full(half, np.nan), values, np.full(half, np.nan)])
    win = np.lib.stride_tricks.sliding_window_view(ext, k)
    count = np.isfinite(win).sum(axis=1)
    run = np.full(nb, np.nan)
    full = count == k
    if full.any():  # np.median is vectorized; np.nanmedian goes through masked arrays
        run[full] = np.median(win[full], axis=1)
    part = (count > 0) & ~full
    if part.any():
        with np.errstate(all="ignore"):
            run[part] = np.nanmedian(win[part], axis=1)
    return run


def _median_of(a: np.ndarray) -> float:
    """Median of a short 1-D array (np.median's overhead dominates at this size)."""
    a = np.sort(a)
    m = a.size
    return float(a[m // 2]) if m % 2 else 0.5 * float(a[m // 2 - 1] + a[m // 2])


def _row_medians(vals: np.ndarray) -> np.ndarray:
    """Median of each row of a finite 2-D array, by partitioning (no NaN checks)."""
    m = vals.shape[1]
    k = m // 2
    if m % 2:
        return np.partition(vals, k, axis=1)[:, k]
    part = np.partition(vals, (k - 1, k), axis=1)
    return 0.5 * (part[:, k - 1] + part[:, k])


def fill_blocks(values: np.ndarray) -> np.ndarray:
    """Block values with NaN blocks filled from their finite neighbours (all NaN stays)."""
    good = np.isfinite(values)
    if good.all() or not good.any():
        return values
    j = np.arange(values.size)
    return np.interp(j, j[good], values[good])


def interp_blocks(values: np.ndarray, b: int, n: int) -> np.ndarray:
    """Block values (at block centres ``(j + 0.5) b``) linearly interpolated to ``n`` samples.

    Constant before the first and after the last centre. Vectorized by reshaping the
    samples between centres into rows (two passes over the output; ``np.interp`` would
    search for every sample).
    """
    v = fill_blocks(values)
    nb = v.size
    out = np.empty(n)
    c0 = b / 2.0
    first = int(np.ceil(c0))
    if nb < 2 or first >= n:
        out[:] = v[0] if nb else np.nan
        return out
    segs = min(nb - 1, (n - first) // b)
    out[:first] = v[0]
    if segs > 0:
        frac = (first - c0 + np.arange(b)) / b
        body = out[first: first + segs * b].reshape(segs, b)
        np.multiply((v[1: segs + 1] - v[:segs])[:, None], frac[None, :], out=body)
        body += v[:segs, None]
    rest = first + segs * b
    if rest < n:
        i = np.arange(rest, n)
        centres = (np.arange(nb) + 0.5) * b
        out[rest:] = np.interp(i, centres, v)
    return out


def at_blocks(values: np.ndarray, b: int, idx: np.ndarray) -> np.ndarray:
    """Block values linearly interpolated at the samples ``idx`` (as :func:`interp_blocks`)."""
    v = fill_blocks(values)
    if v.size == 0:
        return np.full(idx.size, np.nan)
    centres = (np.arange(v.size) + 0.5) * b
    return np.interp(idx, centres, v)


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) indices of the runs of True in a boolean array."""
    if mask.size == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    change = np.flatnonzero(mask[1:] != mask[:-1]) + 1
    edges = np.concatenate([[0], change, [mask.size]])
    first_true = bool(mask[0])
    starts = edges[0 if first_true else 1:-1:2]
    stops = edges[1 if first_true else 2::2]
    return starts.astype(int), stops.astype(int)


def hysteresis_blocks(env2: np.ndarray, on2: np.ndarray, off2: np.ndarray,
                      b: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`hysteresis` of a squared envelope against per-block squared thresholds.

    The thresholds are interpolated between block centres (:func:`interp_blocks`). One
    full-length array is made: the envelope over the off threshold; samples where it
    might exceed the on threshold are checked exactly.
    """
    n = env2.size
    ratio = interp_blocks(off2, b, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(env2, ratio, out=ratio)
        starts, stops = runs(ratio > 1.0)
        if starts.size == 0:
            return starts, stops
        least = np.nanmin(on2 / off2) if np.isfinite(on2 / off2).any() else np.inf
        hits = np.flatnonzero(ratio > least * (1 - 1e-12))
        hits = hits[env2[hits] > at_blocks(on2, b, hits)]
    keep = np.searchsorted(hits, stops) > np.searchsorted(hits, starts)
    return starts[keep], stops[keep]


def merge_close(starts: np.ndarray, stops: np.ndarray, gap: int) -> tuple[np.ndarray,
                                                                        np.ndarray]:
    """Join regions (sorted by start) separated by fewer than ``gap`` samples.

    Overlapping and nested regions join too: a region ends at the latest stop so far.
    """
    if starts.size < 2:
        return starts, stops
    reach = np.maximum.accumulate(stops)
    new = np.r_[True, starts[1:] - reach[:-1] >= gap]
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, starts.size - 1]
    return starts[first], reach[last]


def place_edges(
    true: np.ndarray, n: int, starts: np.ndarray, stops: np.ndarray, reach: int
) -> tuple[np.ndarray, np.ndarray]:
    """Onset and offset of each region from a sharper activity mask.

    ``true`` holds the sorted samples (of ``n``) where the mask is True. The onset is the
    first of them in ``[start - reach, stop)``, the offset one past the last in
    ``[start, stop + reach)``; regions with none keep their edges.
    """
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


def trim_lead_ins(
    sharp: np.ndarray, energy: np.ndarray, onset: np.ndarray, offset: np.ndarray, *,
    gap: int, ratio: float, min_lead: int,
) -> np.ndarray:
    """Onsets moved past a weak lead-in that a pause separates from the main burst.

    ``sharp`` holds the sorted samples where the short envelope clears the edge
    threshold and ``energy`` the short envelope's squared value there. Inside each
    candidate ``[onset, offset)``, the run of sharp samples holding the largest energy is
    the main burst; a pause of more than ``gap`` samples before it, with everything
    before the pause below ``ratio`` (amplitude) of the main burst's peak and at least
    ``min_lead`` samples ahead of it, marks a lead-in (the residue of a needle pass's
    movement artifact, glued by the detection envelope to the twitch it elicited): the
    onset moves to the first sharp sample after the latest such pause. The others keep
    their onsets.
    """
    onset = onset.copy()
    if sharp.size < 2 or onset.size == 0:
        return onset
    lo = np.searchsorted(sharp, onset)
    hi = np.searchsorted(sharp, offset)
    for k in np.flatnonzero(hi - lo >= 2):  # a loop over candidates, array work inside
        s, v = sharp[lo[k]:hi[k]], energy[lo[k]:hi[k]]
        p = int(np.argmax(v))
        pauses = np.flatnonzero(np.diff(s[:p + 1]) > gap)
        if not pauses.size:
            continue
        weak = np.maximum.accumulate(v[:p])[pauses] < ratio**2 * v[p]
        ok = weak & (s[pauses + 1] - onset[k] >= min_lead)
        if ok.any():
            onset[k] = s[pauses[np.flatnonzero(ok)[-1]] + 1]
    return onset


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


def _first_at_least(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
                    level: np.ndarray) -> np.ndarray:
    """Index (within each segment of concatenated ``values``) of the first value >= level."""
    hit = values >= np.repeat(level, lengths)
    pos = np.arange(values.size) - np.repeat(starts, lengths)
    big = np.iinfo(np.int64).max
    return np.minimum.reduceat(np.where(hit, pos, big), starts)


def segment_features(
    x: np.ndarray, onset: np.ndarray, offset: np.ndarray, sfreq: float,
    floor_rms: np.ndarray, *, spectral: bool = True,
    high_band: float = RejectConfig.high_band,
) -> dict[str, np.ndarray]:
    """Per-candidate features of a conditioned signal over ``[onset, offset)``.

    Returns arrays: ``peak`` (sample of the largest |x|), ``amplitude`` (that |x|),
    ``rms``, ``area`` (∫|x| dt), ``snr_db`` (20 log10 of rms over the local floor),
    ``burst`` (shortest span, s, holding the central 90 % of the energy above the floor),
    ``crest`` (amplitude / rms) and, with ``spectral``, ``median_freq`` (Hz, Hann-windowed
    spectrum) and ``high_rms`` (RMS of the content above ``high_band`` Hz).

    Parameters
    ----------
    floor_rms : ndarray, shape (n_candidates,)
        The noise floor (RMS) at each onset.

    Vectorized over candidates: segments are concatenated and reduced with ``reduceat``;
    spectra are taken in batches of equal FFT length. Nothing loops over samples or
    candidates.
    """
    k = onset.size
    out = {name: np.zeros(k) for name in ("amplitude", "rms", "area", "snr_db", "burst",
                                          "crest", "median_freq", "high_rms")}
    out["peak"] = np.zeros(k, dtype=int)
    lengths = np.maximum(offset - onset, 0)
    ok = lengths > 0
    if not ok.any():
        return out
    on, ln = onset[ok], lengths[ok]
    starts = np.concatenate([[0], np.cumsum(ln)[:-1]])
    idx = np.repeat(on - starts, ln) + np.arange(ln.sum())
    seg = x[idx]
    seg = np.where(np.isfinite(seg), seg, 0.0)
    a = np.abs(seg)
    sq = seg * seg
    amp = np.maximum.reduceat(a, starts)
    p = _first_at_least(a, starts, ln, amp)
    rms = np.sqrt(np.add.reduceat(sq, starts) / ln)
    fl = np.asarray(floor_rms, dtype=float)[ok]
    fl = np.where(np.isfinite(fl), fl, np.nan)
    with np.errstate(all="ignore"):
        snr = np.where((fl > 0) & (rms > 0), 20 * np.log10(rms / fl), np.nan)
        crest = np.where(rms > 0, amp / rms, 0.0)
    # burst: span holding the central 90 % of the energy above the floor (the feature's
    # definition; RejectConfig.min_burst is the threshold on it)
    excess = np.maximum(sq - np.repeat(np.nan_to_num(fl) ** 2, ln), 0.0)
    cum = np.cumsum(excess)
    base = np.concatenate([[0.0], cum])[starts]
    total = cum[starts + ln - 1] - base
    lo = np.searchsorted(cum, base + 0.05 * total, side="left")
    hi = np.searchsorted(cum, base + 0.95 * total, side="left")
    burst = np.where(total > 0, (hi - lo + 1) / sfreq, 0.0)
    out["peak"][ok] = on + p
    out["amplitude"][ok] = amp
    out["rms"][ok] = rms
    out["area"][ok] = np.add.reduceat(a, starts) / sfreq
    out["snr_db"][ok] = snr
    out["crest"][ok] = crest
    out["burst"][ok] = burst
    if spectral:
        mf, hr = _spectral(seg, starts, ln, sfreq, high_band)
        out["median_freq"][ok] = mf
        out["high_rms"][ok] = hr
    return out


def _spectral(seg: np.ndarray, starts: np.ndarray, lengths: np.ndarray, sfreq: float,
              high_band: float) -> tuple[np.ndarray, np.ndarray]:
    """Median frequency and RMS above ``high_band`` of each concatenated segment.

    Segments are zero-padded to the next power of two (at least 64) and transformed in
    batches of equal length; segments shorter than 8 samples get 0.
    """
    m = lengths.size
    median_freq = np.zeros(m)
    high_rms = np.zeros(m)
    nfft = np.maximum(64, 2 ** np.ceil(np.log2(np.maximum(lengths, 1))).astype(int))
    usable = lengths >= 8
    for size in np.unique(nfft[usable]):  # a loop over FFT sizes (a handful)
        rows = np.flatnonzero(usable & (nfft == size))
        ln = lengths[rows]
        width = int(ln.max())
        col = np.arange(width)
        inside = col[None, :] < ln[:, None]
        block = np.zeros((rows.size, width))
        src = starts[rows][:, None] + col[None, :]
        block[inside] = seg[src[inside]]
        # Hann window of each segment's own length (numpy's symmetric definition)
        denom = np.maximum(ln - 1, 1)[:, None]
        hann = np.where(inside, 0.5 - 0.5 * np.cos(2 * np.pi * col[None, :] / denom), 0.0)
        f = np.fft.rfftfreq(size, 1 / sfreq)
        spec = np.abs(np.fft.rfft(block * hann, n=size, axis=1)) ** 2
        c = np.cumsum(spec, axis=1)
        half = 0.5 * c[:, -1:]
        j = np.argmax(c >= half, axis=1)
        median_freq[rows] = np.where(c[:, -1] > 0, f[j], 0.0)
        raw_spec = np.abs(np.fft.rfft(block, n=size, axis=1)) ** 2
        scale = 2.0 / (size * ln)
        high_rms[rows] = np.sqrt(scale * raw_spec[:, f >= high_band].sum(axis=1))
    return median_freq, high_rms
