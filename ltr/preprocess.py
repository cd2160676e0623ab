"""Signal conditioning for twitch detection, vectorized along the last axis.

- :func:`bandpass`: zero-phase Butterworth band-pass (SOS), upper edge kept below Nyquist.
- :func:`find_mains` / :func:`remove_mains`: 50/60 Hz hum and its harmonics, detected from
  the spectrum and subtracted by robust lock-in demodulation, only where present.
- :func:`find_qrs` / :func:`subtract_ecg`: heartbeats on trunk-muscle EMG, detected by
  their periodicity and removed by per-beat template subtraction.
- :func:`condition_acc`: accelerometer axes band-passed to the twitch band and combined
  orientation-free.
- :func:`find_tremor` / :func:`remove_tremor`: accelerometer tremor, found where a
  sustained narrowband line stands in the 3-12 Hz spectrum and subtracted only there by
  a local least-squares sinusoid fit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import signal

from ._validate import check_sfreq
from .envelope import moving_mean, window_samples

#: Highest filter edge allowed, as a fraction of the sampling rate (Nyquist is 0.5).
MAX_EDGE_FRACTION = 0.45


def band_edges(band: tuple[float, float], sfreq: float) -> tuple[float, float]:
    """The band actually used at ``sfreq``: the upper edge is capped at 0.45 × sfreq.

    Raises
    ------
    ValueError
        If the capped upper edge is not above the lower edge.
    """
    lo, hi = float(band[0]), float(band[1])
    hi_used = min(hi, MAX_EDGE_FRACTION * sfreq)
    if not 0 < lo < hi_used:
        raise ValueError(
            f"band {band} Hz cannot be used at {sfreq:g} Hz: the upper edge is capped at "
            f"{hi_used:g} Hz (0.45 x sfreq) and must exceed the lower edge"
        )
    return lo, hi_used


@functools.lru_cache(maxsize=64)
def _butter(order: int, edges: float | tuple[float, ...], btype: str, fs: float) -> np.ndarray:
    return signal.butter(order, edges, btype=btype, fs=fs, output="sos")


def butter_sos(order: int, edges: float | tuple[float, float] | list[float], btype: str,
               fs: float) -> np.ndarray:
    """Butterworth design as second-order sections, cached (designing costs about a
    millisecond, more than filtering a short stretch)."""
    key = tuple(float(e) for e in edges) if np.ndim(edges) else float(edges)
    return _butter(int(order), key, btype, float(fs)).copy()  # scipy wants it writable


def _fill_gaps(x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    if np.isfinite(np.sum(x)):  # one pass; NaN anywhere reaches the sum
        return x, None
    mask = ~np.isfinite(x)
    if not mask.any():
        return x, None
    return np.where(mask, 0.0, x), mask


def _restore_gaps(y: np.ndarray, mask: np.ndarray | None, sfreq: float, margin: float) -> None:
    """Put NaN back over gaps, widened by ``margin`` seconds where filters rang."""
    if mask is None:
        return
    widened = moving_mean(mask.astype(float), window_samples(2 * margin, sfreq)) > 0
    y[widened] = np.nan


def bandpass(
    x: np.ndarray, sfreq: float, band: tuple[float, float], order: int = 4
) -> tuple[np.ndarray, tuple[float, float]]:
    """Zero-phase Butterworth band-pass along the last axis.

    Parameters
    ----------
    x : ndarray
        Signal(s); NaN gaps are filtered as zeros and returned as NaN, widened by three
        periods of the lower edge, where the filter's transients would be.
    sfreq : float
        Sampling rate, Hz.
    band : (float, float)
        Requested edges, Hz; see :func:`band_edges` for the edges used.
    order : int
        Butterworth order of each pass (the forward-backward response has twice the order
        and the squared magnitude: -6 dB at the edges).

    Returns
    -------
    y : ndarray
        Filtered signal: float32 for float32 input (the filter runs in single precision,
        which second-order sections tolerate: its error stays ~1e-7 of the signal's
        range, far below EMG noise), float64 otherwise.
    edges : (float, float)
        The edges actually used, Hz.
    """
    sfreq = check_sfreq(sfreq)
    edges = band_edges(band, sfreq)
    sos = butter_sos(order, edges, "bandpass", sfreq)
    x = np.asarray(x)
    if x.dtype == np.float32:  # filtered in float32: stable as second-order sections
        sos = sos.astype(np.float32)
    else:
        x = x.astype(np.float64, copy=False)
    x0, mask = _fill_gaps(x)
    y = signal.sosfiltfilt(sos, x0, axis=-1, padlen=_padlen(x0, sfreq, edges[0]))
    _restore_gaps(y, mask, sfreq, 3.0 / edges[0])
    return y, edges


def _padlen(x: np.ndarray, sfreq: float, low: float) -> int:
    """Edge padding of three periods of the lower edge, so edge transients stay small."""
    return int(min(x.shape[-1] - 1, max(27, 3.0 * sfreq / low)))


def highpass(x: np.ndarray, sfreq: float, cutoff: float, order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth high-pass along the last axis (NaN gaps as in :func:`bandpass`)."""
    sos = butter_sos(order, cutoff, "highpass", sfreq)
    x0, mask = _fill_gaps(np.asarray(x, dtype=np.float64))
    y = signal.sosfiltfilt(sos, x0, axis=-1, padlen=_padlen(x0, sfreq, cutoff))
    _restore_gaps(y, mask, sfreq, 3.0 / cutoff)
    return y


@dataclass
class Gaps:
    """Runs of missing (NaN) samples found by :func:`fill_gaps`, per row.

    ``start``/``stop`` are sample indices (stop exclusive) of every run, ``long`` tells
    the runs left missing (longer than the fill limit); ``row`` is the row of a 2-D input.
    """

    row: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    long: np.ndarray

    @property
    def filled(self) -> int:
        """Samples filled by interpolation."""
        return int(np.sum((self.stop - self.start)[~self.long]))

    def cover(self, n: int, margin: int, rows: int | None = None) -> np.ndarray:
        """Boolean mask (rows × ``n``, or ``n`` for 1-D) of the long gaps, widened by
        ``margin`` samples on both sides (where filters transients would be)."""
        shape = (rows, n) if rows is not None else (n,)
        out = np.zeros(shape, bool)
        for r, a, b in zip(self.row[self.long], self.start[self.long],  # a loop over gaps
                           self.stop[self.long], strict=True):
            sl = slice(max(0, int(a) - margin), min(n, int(b) + margin))
            if rows is not None:
                out[int(r), sl] = True
            else:
                out[sl] = True
        return out


def fill_gaps(x: np.ndarray, max_fill: int) -> tuple[np.ndarray, Gaps]:
    """Fill NaN gaps along the last axis by straight lines between their neighbours.

    Every gap is filled, so that no filter downstream sees a step into zero (a DC level
    would make one, and the filter would ring for hundreds of milliseconds on both sides
    of a single missing sample); gaps longer than ``max_fill`` samples are reported as
    ``long`` so the caller can put them back as missing once filtered. A gap at the start
    or end holds its one neighbour; a row without any finite sample becomes zeros.

    Parameters
    ----------
    x : ndarray, shape (n_samples,) or (n_rows, n_samples)
    max_fill : int
        Longest gap (samples) that counts as filled rather than missing.

    Returns
    -------
    filled : ndarray
        ``x`` itself when it has no NaN, else a filled float64 copy.
    gaps : Gaps
    """
    none = np.zeros(0, dtype=int)
    x = np.asarray(x)
    if np.isfinite(np.sum(x)):  # one pass; NaN anywhere reaches the sum
        return x, Gaps(none, none, none, np.zeros(0, bool))
    y = np.array(x, dtype=np.float64, copy=True)
    two_d = y.ndim == 2
    rows = y if two_d else y[np.newaxis]
    out_r, out_a, out_b = [], [], []
    for r, row in enumerate(rows):  # a loop over the rows (1-3)
        bad = ~np.isfinite(row)
        if not bad.any():
            continue
        edge = np.diff(np.r_[0, bad.astype(np.int8), 0])
        a, b = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
        good = np.flatnonzero(~bad)
        if good.size == 0:
            row[:] = 0.0
        else:
            idx = np.flatnonzero(bad)
            row[idx] = np.interp(idx, good, row[good])
        out_r.append(np.full(a.size, r))
        out_a.append(a)
        out_b.append(b)
    start, stop = np.concatenate(out_a), np.concatenate(out_b)
    gaps = Gaps(np.concatenate(out_r), start, stop, (stop - start) > max_fill)
    return y if two_d else rows[0], gaps


# -- mains --------------------------------------------------------------------------------
@dataclass
class MainsInfo:
    """What :func:`find_mains` found on one channel."""

    frequency: float | None = None
    harmonics: list[int] = field(default_factory=list)
    prominence_db: dict[int, float] = field(default_factory=dict)


def _spectrum(x: np.ndarray, sfreq: float, seconds: float = 4.0,
              max_seconds: float = 120.0) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectrum (Hann, 50 % overlap, unscaled: only ratios are used)."""
    x = x[: int(max_seconds * sfreq)]
    x = x[np.isfinite(x)]
    nper = max(8, int(min(x.size, seconds * sfreq)))
    seg = np.lib.stride_tricks.sliding_window_view(x, nper)[:: max(1, nper // 2)]
    seg = seg - seg.mean(axis=1, keepdims=True)
    spec = np.abs(np.fft.rfft(seg * np.hanning(nper), axis=1)) ** 2
    return np.fft.rfftfreq(nper, 1 / sfreq), spec.mean(axis=0)


def find_mains(
    x: np.ndarray,
    sfreq: float,
    *,
    candidates: tuple[float, ...] = (50.0, 60.0),
    prominence_db: float = 6.0,
    max_freq: float | None = None,
    max_seconds: float = 120.0,
) -> MainsInfo:
    """Detect mains hum and which of its harmonics stand out of the spectrum.

    The fundamental is the candidate whose peak (within ±0.5 Hz) stands most above the
    median of its 2-10 Hz neighbourhood; it is refined by parabolic interpolation of the
    peak. Harmonic ``h`` counts when its own peak stands ``prominence_db`` above its
    neighbourhood.

    Parameters
    ----------
    x : ndarray, shape (n_samples,)
        One channel.
    sfreq : float
    candidates : tuple of float
        Nominal mains frequencies.
    prominence_db : float
        Peak-over-neighbourhood ratio needed, dB.
    max_freq : float | None
        Highest harmonic frequency to consider (default 0.45 × sfreq).
    max_seconds : float
        Only the first ``max_seconds`` of ``x`` are used.

    Returns
    -------
    MainsInfo
    """
    info = MainsInfo()
    if max_freq is None:
        max_freq = MAX_EDGE_FRACTION * sfreq
    if x.size < sfreq or max_freq < min(candidates):
        return info
    f, p = _spectrum(x, sfreq, max_seconds=max_seconds)
    df = f[1] - f[0]

    def prominence(fc: float) -> tuple[float, float]:
        near = np.abs(f - fc) <= max(0.5, df)
        ring = (np.abs(f - fc) > 2.0) & (np.abs(f - fc) <= 10.0)
        if not near.any() or not ring.any():
            return -np.inf, fc
        i = np.flatnonzero(near)[np.argmax(p[near])]
        base = np.median(p[ring])
        if base <= 0 or p[i] <= 0:
            return -np.inf, fc
        if 0 < i < p.size - 1:  # parabolic refinement of the peak frequency
            a, b, c = np.log(p[i - 1:i + 2])
            denom = a - 2 * b + c
            shift = 0.5 * (a - c) / denom if denom < 0 else 0.0
            fc = f[i] + np.clip(shift, -0.5, 0.5) * df
        return 10 * np.log10(p[i] / base), fc

    best = max(((prominence(fc), fc) for fc in candidates if fc < max_freq),
               key=lambda t: t[0][0], default=None)
    if best is None or best[0][0] < prominence_db:
        return info
    (_db, f0), _ = best
    info.frequency = float(f0)
    for h in range(1, int(max_freq // f0) + 1):
        db_h, _ = prominence(h * f0)
        if db_h >= prominence_db:
            info.harmonics.append(h)
            info.prominence_db[h] = float(db_h)
    return info


def remove_mains(
    x: np.ndarray, sfreq: float, frequency: float, harmonics: list[int], *,
    block: float = 0.2, n_blocks: int = 9, start: int = 0,
) -> np.ndarray:
    """Subtract mains harmonics estimated by robust lock-in demodulation.

    For each harmonic ``h`` the signal is demodulated at ``h × frequency`` and averaged
    over blocks of ``block`` seconds (a whole number of mains periods, which cancels the
    double-frequency term); the running *median* of the block averages over ``n_blocks``
    blocks gives the hum's slowly varying complex amplitude, so a burst that leaks into
    one or two blocks does not bend the estimate. The estimated sinusoids are subtracted:
    no filter, no ringing, no smearing of burst onsets.

    Parameters
    ----------
    x : ndarray, shape (n_samples,)
    sfreq : float
    frequency : float
        Mains fundamental, Hz (refined, e.g. 50.02).
    harmonics : list of int
        Harmonic numbers to remove.
    block : float
        Block length, s (rounded to whole periods of the fundamental).
    n_blocks : int
        Blocks in the running median (odd): about 1.8 s by default, short enough to
        follow hum that drifts over seconds.
    start : int
        Sample index of ``x[0]`` in the whole recording: the carrier's phase and the
        blocks refer to the recording's first sample, so pieces of a recording processed
        one after the other (starting at multiples of :func:`mains_block_length`) are
        treated exactly like the whole.

    Returns
    -------
    ndarray
        The signal without the hum.
    """
    from .detect.core import interp_blocks

    y = np.array(x, dtype=np.float64, copy=True)
    if not harmonics:
        return y
    n = y.size
    blen = mains_block_length(frequency, sfreq, block)
    nb = n // blen
    if nb < 3:
        return y
    y0 = np.where(np.isfinite(y), y, 0.0)
    k = n_blocks + 1 - n_blocks % 2
    half = k // 2
    nfull = -(-n // blen)
    # carrier exp(-2 pi i f t) on the recording's clock, as (block phase) x (phase within
    # a block): one complex product per sample instead of one complex exponential
    first = (start + np.arange(nfull) * blen) / sfreq
    within = np.arange(blen) / sfreq
    # each block's own mean is taken out of the demodulation: a block holds whole mains
    # periods only to the nearest sample (and the refined frequency is not a whole number
    # of periods per block), so the carrier's block mean is small but not zero, and a DC
    # level (an electrode offset of volts beside µV of EMG) would leak into the hum
    # estimate in proportion to its size
    level = y0[: nb * blen].reshape(nb, blen).mean(axis=1)
    for h in harmonics:
        w = -2j * np.pi * frequency * h
        carrier = (np.exp(w * first)[:, None] * np.exp(w * within)[None, :]).ravel()[:n]
        blocks = carrier[: nb * blen].reshape(nb, blen)
        z = (y0[: nb * blen].reshape(nb, blen) * blocks).mean(axis=1)
        z -= level * blocks.mean(axis=1)
        ext_r = np.concatenate([np.full(half, np.nan), z.real, np.full(half, np.nan)])
        ext_i = np.concatenate([np.full(half, np.nan), z.imag, np.full(half, np.nan)])
        med_r = np.nanmedian(np.lib.stride_tricks.sliding_window_view(ext_r, k), axis=1)
        med_i = np.nanmedian(np.lib.stride_tricks.sliding_window_view(ext_i, k), axis=1)
        amp_r = interp_blocks(med_r, blen, n)
        amp_i = interp_blocks(med_i, blen, n)
        # 2 Re(amp * conj(carrier))
        y -= 2.0 * (amp_r * carrier.real + amp_i * carrier.imag)
    return y


def mains_block_length(frequency: float, sfreq: float, block: float = 0.2) -> int:
    """Samples per lock-in block of :func:`remove_mains` (whole mains periods)."""
    periods = max(1, round(block * frequency))
    return max(2, round(periods / frequency * sfreq))


# -- ECG ----------------------------------------------------------------------------------
def decimate_mean(x: np.ndarray, q: int) -> np.ndarray:
    """Means of consecutive groups of ``q`` samples along the last axis (a partial group at
    the end is dropped); NaN propagates. Sliced sums: one pass per phase, no reshaping copy."""
    if q <= 1:
        return np.array(x, dtype=np.float64, copy=True)
    m = x.shape[-1] // q
    out = np.array(x[..., 0: m * q: q], dtype=np.float64, copy=True)
    for k in range(1, q):  # a loop over the q phases
        out += x[..., k: m * q: q]
    out *= 1.0 / q
    return out


def qrs_decimation(sfreq: float) -> int:
    """Decimation factor to about 500 Hz used by the heartbeat detector."""
    return max(1, int(sfreq // 500))


@dataclass
class QrsRhythm:
    """A heartbeat rhythm found on a stretch of EMG (see :func:`find_rhythm`)."""

    rr: float
    """Beat-to-beat interval, s."""
    level: float
    """Median of the QRS-band energy: values above 10 times it are compressed."""
    peak_level: float
    """Median energy of the rhythm's beats; a beat must reach 30 % of it."""


def _qrs_energy(xd: np.ndarray, fs: float) -> np.ndarray:
    sos = butter_sos(3, (10.0, min(40.0, 0.45 * fs)), "bandpass", fs)
    y = signal.sosfiltfilt(sos, np.where(np.isfinite(xd), xd, 0.0))
    return moving_mean(y * y, window_samples(0.04, fs))


def find_rhythm(xd: np.ndarray, fs: float, *, min_beats: int = 8) -> QrsRhythm | None:
    """Decide whether an EMG stretch (decimated to ~500 Hz) carries a periodic heartbeat.

    The signal is band-passed 10-40 Hz (where QRS energy lies), squared, smoothed over
    40 ms and compressed at 10 times its median (so that large artifacts do not drown the
    rhythm); ECG is declared present only when this energy is periodic: an
    autocorrelation peak at an RR of 0.4-1.5 s standing 0.3 above the trough before it.
    The autocorrelation is taken at 50 Hz (the energy is smooth), the RR refined by a
    parabola through the peak.

    Returns
    -------
    QrsRhythm | None
        None when there is no periodic heartbeat.
    """
    if xd.size < 10 * fs or fs < 100:
        return None
    e = _qrs_energy(xd, fs)
    level = float(np.median(e))
    ec = np.minimum(e, 10.0 * level)
    r = max(1, int(fs // 50))
    slow = decimate_mean(ec, r)
    fs_s = fs / r
    seg = slow - slow.mean()
    nfft = int(2 ** np.ceil(np.log2(2 * seg.size)))
    ac = np.fft.irfft(np.abs(np.fft.rfft(seg, nfft)) ** 2)[: seg.size]
    if ac[0] <= 0:
        return None
    ac /= ac[0]
    lo, hi = int(0.4 * fs_s), min(int(1.5 * fs_s), ac.size - 2)
    if hi <= lo:
        return None
    lag = lo + int(np.argmax(ac[lo:hi]))
    # a rhythm shows a peak over the trough before it (slow swells decay monotonically)
    if ac[lag] - ac[lag // 3: lag].min() < 0.3:
        return None
    a, b, c = ac[lag - 1: lag + 2]
    denom = a - 2 * b + c
    shift = 0.5 * (a - c) / denom if denom < 0 else 0.0
    rr = (lag + float(np.clip(shift, -0.5, 0.5))) / fs_s
    peaks, _ = signal.find_peaks(e, distance=max(1, int(0.6 * rr * fs)))
    if peaks.size < min_beats:
        return None
    return QrsRhythm(rr=rr, level=level, peak_level=float(np.median(e[peaks])))


def _hidden_beats(e: np.ndarray, fs: float, peaks: np.ndarray, rhythm: QrsRhythm,
                  tolerance: float) -> np.ndarray:
    """``peaks`` with the beats the rhythm expects in their gaps: where two beats lie
    ``m + 1`` RR apart (±25 %), the ``m`` beats between them are the local maxima of
    the QRS-band energy ``e`` reaching 30 % of the typical beat nearest to the evenly
    spaced positions, within ``tolerance`` × RR of them (none when no maximum is that
    near)."""
    if tolerance <= 0 or peaks.size < 2:
        return peaks
    rr = rhythm.rr * fs
    # every local maximum of the energy a beat could be (40 ms apart: the smoothing)
    maxima, _ = signal.find_peaks(e, distance=max(1, int(0.04 * fs)))
    maxima = maxima[e[maxima] > 0.3 * rhythm.peak_level]
    if maxima.size < 2:
        return peaks

    def nearest(want: np.ndarray) -> np.ndarray:
        i = np.clip(np.searchsorted(maxima, want), 1, maxima.size - 1)
        return np.where(np.abs(maxima[i - 1] - want) <= np.abs(maxima[i] - want),
                        maxima[i - 1], maxima[i])

    d = np.diff(peaks).astype(float)
    m = np.rint(d / rr).astype(int) - 1
    ok = (m >= 1) & (np.abs(d / np.maximum(m + 1, 1) - rr) < 0.25 * rr)
    if ok.any():
        m, start, step = m[ok], peaks[:-1][ok], d[ok] / (m[ok] + 1)
        j = np.arange(m.sum()) - np.repeat(np.cumsum(m) - m, m) + 1  # 1..m in each gap
        want = np.repeat(start, m) + j * np.repeat(step, m)
        near = nearest(want)
        peaks = np.unique(np.r_[peaks, near[np.abs(near - want) <= tolerance * rr]])
    if peaks.size >= 3:
        # a larger neighbour taken for the beat it hid, off the rhythm: the maximum
        # nearest the middle of the beats either side, when it is less than half as far
        # from it, is the beat
        want = 0.5 * (peaks[:-2] + peaks[2:])
        near = nearest(want)
        off = np.abs(peaks[1:-1] - want)
        better = (np.abs(near - want) < 0.5 * off) & (np.abs(near - want) <= tolerance * rr)
        peaks = peaks.copy()
        peaks[1:-1][better] = near[better]
        peaks = np.unique(peaks)
    return peaks


def beats(xd: np.ndarray, fs: float, q: int, rhythm: QrsRhythm, n: int, *,
          min_beats: int = 8, fill: float = 0.0) -> np.ndarray:
    """R peaks (samples at the full rate) of a known rhythm on a decimated EMG stretch.

    The largest value of each RR-long stretch of the QRS-band energy is a beat when it
    reaches 30 % of the rhythm's typical beat and another beat lies one RR (±25 %)
    before or after it, so isolated twitches are not taken for beats. A beat next to
    something larger (a needle spike, a motor-unit potential, a twitch: within 0.6 RR)
    is hidden by it; with ``fill`` > 0 the rhythm finds it again: in a gap of a whole
    number of RR, the local maximum of the energy nearest each expected beat, within
    ``fill`` × RR of it, is a beat too (:func:`_hidden_beats`).

    Parameters
    ----------
    xd : ndarray
        The EMG decimated by ``q`` (:func:`decimate_mean`).
    fs : float
        Its rate.
    n : int
        Samples at the full rate (peaks are clipped to it).
    fill : float
        Find beats hidden in the gaps of the rhythm within this fraction of RR of where
        the rhythm expects them (0: not).
    """
    empty = np.zeros(0, dtype=int)
    if xd.size < 3:
        return empty
    e = _qrs_energy(xd, fs)
    rr = rhythm.rr
    peaks, _ = signal.find_peaks(e, distance=max(1, int(0.6 * rr * fs)))
    peaks = peaks[e[peaks] > 0.3 * rhythm.peak_level]
    if peaks.size == 0:  # (the gaps below need at least one peak)
        return empty
    t = peaks / fs
    gap_prev = np.r_[np.inf, np.diff(t)]
    gap_next = np.r_[np.diff(t), np.inf]
    periodic = (np.abs(gap_prev - rr) < 0.25 * rr) | (np.abs(gap_next - rr) < 0.25 * rr)
    peaks = peaks[periodic]
    if peaks.size < min(min_beats, 3):
        return empty
    peaks = _hidden_beats(e, fs, peaks, rhythm, fill)
    # back to the full rate: the middle of the decimated sample
    return np.clip(peaks * q + q // 2, 0, n - 1).astype(int)


def find_qrs(x: np.ndarray, sfreq: float, *, min_beats: int = 8,
             rhythm_seconds: float = 300.0) -> np.ndarray:
    """Find heartbeats (R peaks) on an EMG channel, or nothing when there is no ECG.

    The rhythm is looked for in the first ``rhythm_seconds`` (:func:`find_rhythm`), the
    beats over the whole channel (:func:`beats`).

    Parameters
    ----------
    x : ndarray, shape (n_samples,)
        Raw (unfiltered) EMG, any unit.
    sfreq : float
    min_beats : int
        Fewer periodic beats than this means no ECG.

    Returns
    -------
    ndarray of int
        R-peak sample indices (empty when no ECG is found).
    """
    q = qrs_decimation(sfreq)
    fs = sfreq / q
    xd = decimate_mean(x, q)
    rhythm = find_rhythm(xd[: int(rhythm_seconds * fs)], fs, min_beats=min_beats)
    if rhythm is None:
        return np.zeros(0, dtype=int)
    r = beats(xd, fs, q, rhythm, x.size, min_beats=min_beats)
    return r if r.size >= min_beats else np.zeros(0, dtype=int)


def _sliding_scores(wide: np.ndarray, template: np.ndarray, n_lags: int) -> np.ndarray:
    """``out[i, j] = wide[i, j: j + template.size] @ template`` for ``j < n_lags``, by FFT
    (one transform per beat whatever the number of lags: a search of tens of ms at
    10 kHz stays cheap)."""
    if wide.shape[0] == 0:
        return np.zeros((0, n_lags))
    nfft = 1 << int(np.ceil(np.log2(wide.shape[1])))  # no wrap-around: nfft >= row length
    spec = np.fft.rfft(wide, nfft, axis=1) * np.conj(np.fft.rfft(template, nfft))
    return np.fft.irfft(spec, nfft, axis=1)[:, :n_lags]


def _rows_at(wide: np.ndarray, start: np.ndarray, length: int) -> np.ndarray:
    """``wide[i, start[i]: start[i] + length]`` for every row ``i``."""
    return wide[np.arange(wide.shape[0])[:, None], start[:, None] + np.arange(length)]


def _beat_windows(y: np.ndarray, sfreq: float, r_peaks: np.ndarray, before: float,
                  after: float, max_shift: float) -> tuple[np.ndarray, np.ndarray, tuple]:
    b, a, s = int(before * sfreq), int(after * sfreq), int(max_shift * sfreq)
    ok = (r_peaks - b - s >= 0) & (r_peaks + a + s < y.size)
    r = r_peaks[ok]
    idx = r[:, None] + np.arange(-b - s, a + s + 1)[None, :]
    wide = np.nan_to_num(y[idx]) if r.size else np.zeros((0, b + a + 2 * s + 1))
    return r, wide, (b, a, s)


def ecg_template(
    x: np.ndarray, sfreq: float, r_peaks: np.ndarray, *, before: float = 0.12,
    after: float = 0.16, max_shift: float = 0.008,
) -> np.ndarray | None:
    """The median heartbeat of (band-passed) EMG, each beat aligned to it first.

    The sample-wise median of all beats (robust to twitches that coincide with a few
    beats); each beat is aligned to it by cross-correlation within ±``max_shift`` s and
    the median retaken, tapered (Tukey) so that subtracting it leaves no step.

    Returns
    -------
    ndarray | None
        The template (``before`` + ``after`` s long), None with fewer than 3 beats.
    """
    r, wide, (b, a, s) = _beat_windows(np.asarray(x, float), sfreq, r_peaks, before,
                                       after, max_shift)
    if r.size < 3:
        return None
    length = b + a + 1
    core = wide[:, s: s + length]
    template = np.median(core, axis=0)
    best = np.argmax(_sliding_scores(wide, template, 2 * s + 1), axis=1)
    aligned = _rows_at(wide, best, length)
    template = np.median(aligned, axis=0) * signal.windows.tukey(length, 0.3)
    return template if template @ template > 0 else None


def subtract_ecg(
    x: np.ndarray, sfreq: float, r_peaks: np.ndarray, *, template: np.ndarray | None = None,
    before: float = 0.12, after: float = 0.16, max_shift: float = 0.008, clip: float = 0.0,
) -> np.ndarray:
    """Remove heartbeats from (band-passed) EMG by subtracting a per-beat scaled template.

    Each beat is aligned to the template to a fraction of a sample (cross-correlation
    within ±``max_shift`` s and a parabola through its peak: half a sample of
    misalignment of a 500 µV QRS leaves a residue several times the EMG noise), the
    template scaled by least squares and subtracted. Vectorized over beats.

    Parameters
    ----------
    x : ndarray, shape (n_samples,)
        Conditioned EMG.
    sfreq : float
    r_peaks : ndarray of int
        Beat positions from :func:`find_qrs`.
    template : ndarray | None
        The beat to subtract (:func:`ecg_template` of these beats when None).
    before, after : float
        Template extent around the R peak, s.
    max_shift : float
        Largest realignment of a beat, s.
    clip : float
        When > 0, samples beyond ``clip`` × the template's peak are limited to it while
        each beat's alignment and gain are fitted (the subtraction itself is not
        clipped): a needle spike or a large motor-unit potential beside a beat does
        not steer them.

    Returns
    -------
    ndarray
        EMG without the heartbeats.
    """
    y = np.array(x, dtype=np.float64, copy=True)
    if template is None:
        template = ecg_template(y, sfreq, r_peaks, before=before, after=after,
                                max_shift=max_shift)
    if template is None or r_peaks.size == 0:
        return y
    # zeros either side, so that beats within a window of the ends are subtracted too
    # (their gain fitted on the samples inside)
    b, a, s = int(before * sfreq), int(after * sfreq), int(max_shift * sfreq)
    n = y.size
    r_peaks = np.asarray(r_peaks)
    edge = (r_peaks - b - s < 0) | (r_peaks + a + s >= n)
    pad = b + a + 2 * s + 1 if edge.any() else 0
    padded = np.concatenate([np.zeros(pad), y, np.zeros(pad)]) if pad else y
    r, wide, _ = _beat_windows(padded, sfreq, r_peaks + pad, before, after, max_shift)
    if r.size == 0 or s < 1:
        return y
    length = b + a + 1
    lags = np.arange(-s, s + 1)
    if clip > 0:
        # what stands far above the beat (a needle spike, a large motor unit) must not
        # steer its alignment or gain: limited to ``clip`` x the template's peak
        top = clip * float(np.max(np.abs(template)))
        wide = np.clip(wide, -top, top)
    score = _sliding_scores(wide, template, 2 * s + 1)
    k = np.clip(np.argmax(score, axis=1), 1, 2 * s - 1)
    rows = np.arange(r.size)
    y0, y1, y2 = score[rows, k - 1], score[rows, k], score[rows, k + 1]
    denom = y0 - 2 * y1 + y2
    frac = np.where(denom < 0, 0.5 * (y0 - y2) / np.where(denom < 0, denom, -1.0), 0.0)
    frac = np.clip(frac, -0.5, 0.5)[:, None]
    # template shifted by frac (linear interpolation, ends held), one row per beat
    prev = np.concatenate([template[:1], template[:-1]])
    nxt = np.concatenate([template[1:], template[-1:]])
    shifted = np.where(frac > 0, (1 - frac) * template + frac * prev,
                       (1 + frac) * template - frac * nxt)
    seg = _rows_at(wide, k, length)
    starts = r + lags[k] - b - pad
    idx = starts[:, None] + np.arange(length)[None, :]
    inside = (idx >= 0) & (idx < n)
    shifted = shifted * inside
    energy = np.einsum("ij,ij->i", shifted, shifted)
    gain = np.where(energy > 0, np.einsum("ij,ij->i", seg, shifted)
                    / np.where(energy > 0, energy, 1.0), 0.0)
    idx = np.clip(idx, 0, n - 1)  # outside samples subtract zeros (shifted is 0 there)
    # beats are at least 0.4 s apart and the template 0.28 s long: no index repeats
    # within one beat, except at the ends; overlapping beats (arrhythmia) and the ends
    # are handled by np.subtract.at
    if np.all(np.diff(starts) >= length) and inside.all():
        y[idx] -= gain[:, None] * shifted
    else:
        np.subtract.at(y, idx, gain[:, None] * shifted)
    return y


# -- accelerometer ----------------------------------------------------------------------
def glitch_departures(x: np.ndarray) -> np.ndarray:
    """Departure of each sample from the median of its four nearest neighbours."""
    z = np.nan_to_num(np.asarray(x, dtype=np.float64))
    r = np.zeros_like(z)
    if z.shape[-1] < 9:
        return r
    # median of the four neighbours = (sum - max - min) / 2, without sorting
    a, b, d, e = z[..., :-4], z[..., 1:-3], z[..., 3:-1], z[..., 4:]
    hi = np.maximum(np.maximum(a, b), np.maximum(d, e))
    lo = np.minimum(np.minimum(a, b), np.minimum(d, e))
    r[..., 2:-2] = z[..., 2:-2] - (a + b + d + e - hi - lo) / 2.0
    return r


def glitch_scale(x: np.ndarray) -> np.ndarray:
    """Robust standard deviation of :func:`glitch_departures` along the last axis."""
    return np.median(np.abs(glitch_departures(x)), axis=-1, keepdims=True) / 0.6745


def repair_glitches(x: np.ndarray, *, factor: float = 8.0,
                    scale: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Replace isolated one-sample glitches (sensor or transmission errors) along the last axis.

    A sample is a glitch when its departure from the median of its four nearest
    neighbours exceeds ``factor`` robust standard deviations of such departures, and the
    three samples on each side depart by less than a quarter of it: a real jolt swings
    over several samples and cycles, a glitch is one sample. Glitches are replaced by
    that median, so a filter never rings on them.

    Parameters
    ----------
    scale : ndarray | None
        The departures' robust standard deviation per row (:func:`glitch_scale`);
        estimated from ``x`` when None. A recording processed in pieces passes the
        scale of its first minutes so every piece uses the same.

    Returns
    -------
    repaired : ndarray
    count : int
        Samples replaced.
    """
    y = np.array(x, dtype=np.float64, copy=True)
    if y.shape[-1] < 9:
        return y, 0
    z = np.nan_to_num(y)
    r = glitch_departures(z)
    neigh = z[..., 2:-2] - r[..., 2:-2]
    a = np.abs(r)
    if scale is None:
        scale = np.median(a, axis=-1, keepdims=True) / 0.6745
    big = a > factor * np.maximum(scale, 1e-300)
    ring = np.zeros_like(a)
    for k in (1, 2, 3):  # the largest departure among the three neighbours on each side
        ring[..., k:] = np.maximum(ring[..., k:], a[..., :-k])
        ring[..., :-k] = np.maximum(ring[..., :-k], a[..., k:])
    glitch = big & (ring < 0.25 * a)
    full_neigh = np.zeros_like(z)
    full_neigh[..., 2:-2] = neigh
    y[glitch] = full_neigh[glitch]
    return y, int(glitch.sum())


def condition_acc(
    xyz: np.ndarray, sfreq: float, band: tuple[float, float] = (5.0, 50.0), order: int = 4,
    *, origin: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Band-pass accelerometer axes to the twitch band and combine them orientation-free.

    Gravity, posture drift and breathing sit below the band and are removed; the axes of
    one sensor are combined as the magnitude of the band-passed vector, which does not
    depend on how the sensor is oriented on the skin.

    The filter is *causal* (one forward pass): a zero-phase high-pass at 5 Hz would
    spread a jolt's low-frequency content up to ~150 ms before its onset (pre-ringing),
    while a causal filter cannot answer before the jolt starts. Its small delay in the
    pass band (a few ms at 8-30 Hz) is the price.

    Parameters
    ----------
    xyz : ndarray, shape (n_axes, n_samples)
        One sensor's axes, m/s².
    sfreq : float
    band : (float, float)
        Twitch band, Hz (upper edge capped at 0.45 × sfreq).
    origin : ndarray | None
        Per-axis value subtracted before filtering so the filter starts from rest (the
        first sample by default; a recording processed in pieces passes its own first
        sample so every piece sees the same input).

    Returns
    -------
    magnitude : ndarray, shape (n_samples,)
        Norm of the band-passed vector, m/s².
    filtered : ndarray, shape (n_axes, n_samples)
        The band-passed axes.
    edges : (float, float)
        Band used.
    """
    sfreq = check_sfreq(sfreq)
    edges = band_edges(band, sfreq)
    sos = butter_sos(order, edges, "bandpass", sfreq)
    x0, mask = _fill_gaps(np.atleast_2d(np.asarray(xyz, dtype=np.float64)))
    start = x0[:, :1] if origin is None else np.asarray(origin, dtype=np.float64).reshape(-1, 1)
    x0 = x0 - np.nan_to_num(start)  # start from rest: no step into the filter at t = 0
    filtered = signal.sosfilt(sos, x0, axis=-1)
    _restore_gaps(filtered, mask, sfreq, 3.0 / edges[0])
    return np.sqrt(np.sum(filtered**2, axis=0)), filtered, edges


# -- accelerometer tremor ------------------------------------------------------------------
@dataclass(frozen=True)
class Tremor:
    """Narrowband tremor found on one accelerometer sensor, block by block.

    Attributes
    ----------
    block : int
        Samples per block (blocks start at sample 0).
    frequency : ndarray, shape (n_blocks,)
        Tremor frequency in each block, Hz; NaN where there is no tremor.
    purity : ndarray, shape (n_blocks,)
        Fraction of the power between half the peak frequency and the top of the twitch
        band that lies within the peak's main lobe (1 for a pure sinusoid).
    """

    block: int
    frequency: np.ndarray
    purity: np.ndarray
    lowest: float = 3.0
    """Lowest frequency searched, Hz (the widest fit window follows from it)."""

    @property
    def present(self) -> np.ndarray:
        """Blocks holding tremor."""
        return np.isfinite(self.frequency)


def find_tremor(
    xyz: np.ndarray, sfreq: float, block: int, *, band: tuple[float, float] = (3.0, 12.0),
    window: float = 2.0, purity: float = 0.35, top: float = 50.0,
    bridge: int | None = None,
) -> Tremor:
    """Find sustained narrowband oscillation (tremor) on an accelerometer, block by block.

    Tremor (4-12 Hz, sustained for seconds) is a line in the spectrum of a window of a
    few seconds: its power sits within the main lobe of the window (±2/``window`` Hz for
    a Hann taper), while a twitch's jolt, a damped transient of 50-300 ms, spreads its
    power over several hertz, and noise over the whole band. So for each block the power
    spectrum of the ``window`` s centred on it (axes summed, each detrended) is searched
    for its largest peak in ``band``; the block holds tremor when that main lobe holds at
    least ``purity`` of the power between half the peak frequency and ``top`` Hz and
    the peak is not at an edge of ``band`` (a falling low-frequency background "peaks"
    at the lower edge). Runs of up to ``bridge`` blocks
    without tremor between blocks with it are bridged (a strong jolt inside the window
    dilutes the line in every window that holds it; the tremor goes on under it), their
    frequency interpolated.

    Parameters
    ----------
    xyz : ndarray, shape (n_axes, n_samples)
        One sensor's axes (m/s²), NaN where missing (a window with missing samples is
        judged on those present).
    sfreq : float
    block : int
        Samples per block; blocks start at sample 0 (pieces of a recording start at
        multiples of it).
    band : (float, float)
        Where the tremor's peak is searched, Hz.
    window : float
        Spectral window, s.
    purity : float
        Least share of the power in the peak's main lobe.
    top : float
        Upper end of the comparison band, Hz (capped at 0.45 × sfreq).
    bridge : int | None
        Longest run of blocks bridged between tremor blocks. None: the blocks one
        spectral window spans (a jolt dilutes the line in every window that holds it).

    Returns
    -------
    Tremor
    """
    x = np.atleast_2d(np.asarray(xyz, dtype=np.float64))
    n_full = x.shape[-1]
    nb = n_full // block + (n_full % block > 0)
    freq = np.full(nb, np.nan)
    pur = np.zeros(nb)
    # the spectra need no more than about 2 x top Hz: group means down to that, in
    # groups that divide the block (the blocks stay on their grid)
    q = max(1, int(sfreq // (2 * top)))
    while block % q:
        q -= 1
    x = decimate_mean(x, q)
    sfreq = sfreq / q
    n = x.shape[-1]
    block_full, block = block, block // q
    w = max(4, round(window * sfreq))
    if n < w or nb == 0:
        return Tremor(block_full, freq, pur, float(band[0]))
    nfft = 1 << int(np.ceil(np.log2(4 * w)))
    f = np.fft.rfftfreq(nfft, 1.0 / sfreq)
    df = f[1]
    centres = np.minimum((np.arange(nb) + 0.5) * block, n - 1).astype(int)
    starts = np.clip(centres - w // 2, 0, n - w)
    idx = starts[:, None] + np.arange(w)[None, :]
    taper = np.hanning(w)
    t = np.linspace(-1.0, 1.0, w)
    power = np.zeros((nb, f.size))
    for axis in x:  # a loop over the sensor's axes (1-3)
        seg = axis[idx]
        ok = np.isfinite(seg)
        seg = np.where(ok, seg, 0.0)
        cnt = np.maximum(ok.sum(1, keepdims=True), 1)
        mean = seg.sum(1, keepdims=True) / cnt
        slope = (np.where(ok, t, 0.0) * (seg - mean)).sum(1, keepdims=True) / np.maximum(
            (np.where(ok, t, 0.0) ** 2).sum(1, keepdims=True), 1e-300)
        seg = np.where(ok, seg - mean - slope * t, 0.0) * taper
        power += np.abs(np.fft.rfft(seg, nfft, axis=1)) ** 2
    lo_i, hi_i = np.searchsorted(f, band[0]), np.searchsorted(f, band[1], side="right")
    top_i = np.searchsorted(f, min(top, MAX_EDGE_FRACTION * sfreq), side="right")
    if hi_i - lo_i < 3:
        return Tremor(block_full, freq, pur, float(band[0]))
    k = lo_i + np.argmax(power[:, lo_i:hi_i], axis=1)
    # parabolic interpolation of the log power around the peak bin
    rows = np.arange(nb)
    lp = np.log(np.maximum(power[rows[:, None], k[:, None] + np.array([-1, 0, 1])], 1e-300))
    den = lp[:, 0] - 2 * lp[:, 1] + lp[:, 2]
    shift = np.where(den < 0, 0.5 * (lp[:, 0] - lp[:, 2]) / np.where(den < 0, den, -1.0),
                     0.0)
    fpk = (k + np.clip(shift, -0.5, 0.5)) * df
    lobe = 2.0 / window
    cs = np.concatenate([np.zeros((nb, 1)), np.cumsum(power, axis=1)], axis=1)

    def between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ia = np.clip(np.searchsorted(f, a), 0, f.size)
        ib = np.clip(np.searchsorted(f, b, side="right"), 0, f.size)
        return cs[rows, ib] - cs[rows, ia]

    inner = between(fpk - lobe, fpk + lobe)
    total = between(0.5 * fpk, np.full(nb, f[min(top_i, f.size - 1)]))
    pur = inner / np.maximum(total, 1e-300)
    # an all-zero window (flat or missing) has no tremor
    pur[total <= 0] = 0.0
    keep = (pur >= purity) & (k > lo_i) & (k < hi_i - 1)
    if bridge is None:
        bridge = max(1, round(w / block))
    if bridge > 0 and keep.any():
        on = np.flatnonzero(keep)
        gap = np.diff(on)
        for a, g in zip(on[:-1], gap, strict=True):  # a loop over tremor blocks' gaps
            if 1 < g <= bridge + 1:
                keep[a + 1 : a + g] = True
                fpk[a + 1 : a + g] = np.interp(np.arange(a + 1, a + g), [a, a + g],
                                                [fpk[a], fpk[a + g]])
    freq[keep] = fpk[keep]
    return Tremor(block_full, freq, pur, float(band[0]))


def remove_tremor(xyz: np.ndarray, sfreq: float, tremor: Tremor, *,
                  cycles: float = 2.0, asymmetry: float = 4.0,
                  min_cycles: float = 5.0, misfit: float = 0.2,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Subtract tremor from accelerometer axes where :func:`find_tremor` found it.

    Around every sample of a tremor block (and one block either side, where the
    episode fades in or out) each axis is fitted, by least squares over ``cycles``
    periods of the episode's median frequency centred on the sample, with a line
    (gravity, posture, breathing) plus a sinusoid whose amplitude may change
    quadratically across the window and whose phase follows the block frequencies
    (interpolated between block centres). The fitted sinusoid at the centre is
    subtracted: no filter, no ringing, nothing touched where there is no tremor. Just
    before a jolt the centred window would see it coming and bend the fit (its content
    near the tremor frequency leaking ahead of the onset); there the fit over the
    window ending at the sample is used, just after it the one starting there
    (``asymmetry``).

    Parameters
    ----------
    xyz : ndarray, shape (n_axes, n_samples)
        m/s², NaN where missing (left out of the fits, kept NaN).
    sfreq : float
    tremor : Tremor
        From :func:`find_tremor` on the same samples.
    cycles : float
        Least-squares window, in periods of the tremor: two are enough to pin a
        sinusoid with a changing amplitude and short enough to follow an episode that
        fades in over a few tenths of a second.
    asymmetry : float
        Beside a jolt: where the centred fit's residual over the half window ahead of a
        sample exceeds ``asymmetry`` times that behind it, the fit over the window
        ending at the sample is used (and the other way round).
    min_cycles : float
        A stretch whose fitted amplitude stays above half its largest for fewer
        periods than this is a single swing (hand pressure), not tremor: left alone.
    misfit : float
        A stretch whose median residual (RMS over the axes) exceeds this fraction of its
        median fitted amplitude is not described by the model and is left alone:
        removing it would leave pieces of it behind as jolt-like residue.

    Returns
    -------
    cleaned : ndarray
        A copy of ``xyz`` without the tremor.
    amplitude : ndarray, shape (n_samples,)
        Amplitude of the tremor removed (norm over the axes, m/s²), 0 where none was.
    """
    from .detect.core import runs

    x = np.array(np.atleast_2d(xyz), dtype=np.float64, copy=True)
    n = x.shape[-1]
    b = tremor.block
    amplitude = np.zeros(n)
    if not tremor.present.any() or n == 0:
        return x, amplitude
    nb = tremor.frequency.size
    near = tremor.present.copy()
    near[1:] |= tremor.present[:-1]
    near[:-1] |= tremor.present[1:]
    centres = (np.arange(nb) + 0.5) * b
    fb = tremor.frequency
    on, off = runs(np.repeat(near, b)[:n])
    # fits at about 100 Hz (ten per period of a 10 Hz tremor or more, interpolated in
    # between) on a grid of the block's divisors: the same samples in every piece
    step = max(1, int(sfreq // 100))
    while b % step:
        step -= 1
    for r0, r1 in zip(on, off, strict=True):  # a loop over tremor episodes (few)
        blocks = np.arange(r0 // b, -(-r1 // b))
        have = blocks[np.isfinite(fb[blocks])]
        # margins from the widest window any tremor can have; each sample's own window
        # follows the local frequency, so a piece holding only part of a long stretch
        # fits every sample as the whole does
        wide = max(2, round(cycles / tremor.lowest * sfreq / 2))
        a0, a1 = max(r0 - wide, 0), min(r1 + wide, n)  # residuals half a window beyond
        lo, hi = max(a0 - 2 * wide - step, 0), min(a1 + 2 * wide + step, n)
        # the phase from this stretch's block frequencies alone (interpolated between
        # their centres, held beyond), counted from the stretch: a piece of the
        # recording holding the stretch gives it the same phase as the whole
        freq = np.interp(np.arange(lo, hi), centres[have], fb[have])
        phase = 2.0 * np.pi * np.cumsum(freq) / sfreq
        halves = np.maximum(2, np.round(cycles / freq * sfreq / 2)).astype(int)
        seg = x[:, lo:hi]
        waves, level, amp = _tremor_fit(seg, phase, a0 - lo, a1 - lo, halves, step, lo,
                                        (0,))
        f0 = float(np.median(fb[have]))
        # judged away from the data's ends, where the fit extrapolates
        inner = amp[(np.arange(a0, a1) >= 2 * wide) & (np.arange(a0, a1) < n - 2 * wide)]
        inner = inner if inner.size else amp
        if np.sum(inner >= 0.5 * np.max(inner)) / sfreq * f0 < min_cycles:
            continue  # a single swing (hand pressure), not a sustained oscillation
        # the centred fit's residual; where the half window ahead of a sample holds far
        # more of it than the half behind (a jolt arriving) the fit over the window
        # ending at the sample is used, and the other way round (a jolt's tail)
        e2 = np.nansum((x[:, a0:a1] - waves[0] - level) ** 2, axis=0)
        # a tremor that the model does not describe (a real hand's oscillation wanders
        # from cycle to cycle) would leave pieces of itself behind: left alone instead
        mid = (np.arange(a0, a1) >= 2 * wide) & (np.arange(a0, a1) < n - 2 * wide)
        mid = mid if mid.any() else np.ones(a1 - a0, bool)
        if np.sqrt(np.median(e2[mid])) > misfit * np.median(amp[mid]):
            continue
        cs = np.concatenate([[0.0], np.cumsum(e2)])
        k = np.arange(r0 - a0, r1 - a0)
        h = halves[r0 - lo : r1 - lo]
        behind = cs[k] - cs[np.maximum(k - h, 0)]
        ahead = cs[np.minimum(k + h + 1, a1 - a0)] - cs[k + 1]
        # a one-sided window must fit inside the data (shrunk at an end it extrapolates)
        pos = np.arange(r0, r1)
        fwd = (ahead > asymmetry * behind) & (pos - 2 * h >= 0)
        back = (behind > asymmetry * ahead) & (pos + 2 * h < n)
        pick = np.where(fwd, 1, np.where(back, 2, 0))
        # near the data's ends the centred window is cut short and extrapolates: there
        # the one-sided window that lies inside the data is used
        pick[(pos + h >= n) & (pos - 2 * h >= 0)] = 1
        pick[(pos - h < 0) & (pos + 2 * h < n)] = 2
        wave = waves[0][:, r0 - a0 : r1 - a0].copy()
        p_on, p_off = runs(pick > 0)
        for s0, s1 in zip(p_on, p_off, strict=True):  # a loop over jolts (few)
            side, _, _ = _tremor_fit(seg, phase, r0 + s0 - lo, r0 + s1 - lo, halves, 1,
                                     lo, (1, 2))
            sel = pick[s0:s1]
            wave[:, s0:s1] = np.where(sel == 1, side[0], side[1])
        x[:, r0:r1] -= wave
        amplitude[r0:r1] = amp[r0 - a0 : r1 - a0]
    return x, amplitude


def _tremor_fit(x: np.ndarray, phase: np.ndarray, a: int, b: int, halves: np.ndarray,
                step: int = 1, origin: int = 0, windows: tuple[int, ...] = (0, 1, 2),
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fits of :func:`remove_tremor` at samples ``a:b`` of ``x``.

    Model: a line plus a sinusoid of the given phase whose in-phase and quadrature
    amplitudes are quadratic in time (an episode fading in or out over a few cycles, a
    slow drift of frequency), fitted over windows of ``2 halves[i] + 1`` samples:
    centred on sample ``i``, ending at it and starting at it. The fits are solved at the
    samples whose index plus ``origin`` is a multiple of ``step`` and interpolated in
    between. Window sums of ``(j - i)^p h_j`` come from cumulative sums of ``j^m h_j``
    (binomial expansion) in coordinates local to chunks of the stretch, so the powers
    stay small.

    Returns
    -------
    waves : ndarray, shape (len(windows), n_axes, b - a)
        The fitted sinusoid at each sample, per window asked for (0 centred, 1 ending,
        2 starting at the sample).
    level : ndarray, shape (n_axes, b - a)
        The centred fit's line at the sample.
    amplitude : ndarray, shape (b - a,)
        The centred fit's sinusoid amplitude (norm over the axes).
    """
    from math import comb

    waves = np.zeros((len(windows), x.shape[0], b - a))
    level = np.zeros((x.shape[0], b - a))
    amp = np.zeros(b - a)
    wide = int(np.max(halves[a:b]))
    chunk = 16 * wide
    for c0 in range(a, b, chunk):  # chunks keep the local powers small
        c1 = min(c0 + chunk, b)
        lo, hi = max(c0 - 2 * wide - step, 0), min(c1 + 2 * wide + step, x.shape[-1])
        (waves[:, :, c0 - a : c1 - a], level[:, c0 - a : c1 - a],
         amp[c0 - a : c1 - a]) = _tremor_chunk(x[:, lo:hi], phase[lo:hi], c0 - lo,
                                                c1 - lo, halves[lo:hi], wide, comb, step,
                                                origin + lo, windows)
    return waves, level, np.sqrt(amp)


#: Basis of the tremor fit: (carrier: 0 one, 1 cos, 2 sin; power of time).
_TREMOR_BASIS = ((0, 0), (0, 1), (1, 0), (2, 0), (1, 1), (2, 1), (1, 2), (2, 2))


def _tremor_chunk(x: np.ndarray, phase: np.ndarray, a: int, b: int, halves: np.ndarray,
                  half: int, comb: Callable[[int, int], int], step: int, origin: int,
                  which: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = x.shape[-1]
    n_ax = x.shape[0]
    ok = np.isfinite(x).all(axis=0)
    wt = ok.astype(np.float64)
    c, s = np.cos(phase), np.sin(phase)
    j = (np.arange(n, dtype=np.float64) - 0.5 * (a + b)) / half  # from the middle
    # fits at every ``step``-th sample (and the last): the coefficients change over a
    # window, far slower than the carrier; they are interpolated in between
    first = a - (a + origin) % step  # on the grid, at or before a
    i = np.arange(first, b + step, step)
    i = i[(i >= 0) & (i < n)]
    ji = j[i]
    m_i = i.size
    x0 = np.where(ok, x, 0.0)
    # rows: the six carrier products (Gram matrix), then x times each carrier per axis
    prods = [(0, 0), (0, 1), (0, 2), (1, 1), (2, 2), (1, 2)]
    carrier = [wt, wt * c, wt * s]
    rows = [carrier[h1] * (c if h2 == 1 else s if h2 == 2 else 1.0) for h1, h2 in prods]
    rows += [x0[ax] * carrier[h] for ax in range(n_ax) for h in range(3)]
    v = np.asarray(rows)
    top = 4  # highest power of time in the Gram matrix (d^2 times d^2)
    cum = np.zeros((top + 1, v.shape[0], n + 1))
    jm = np.ones(n)
    for m in range(top + 1):  # window sums of j^m v from cumulative sums
        np.cumsum(jm * v, axis=1, out=cum[m, :, 1:])
        jm = jm * j
    negpow = np.ones((top + 1, m_i))
    for q in range(1, top + 1):
        negpow[q] = negpow[q - 1] * -ji
    basis = _TREMOR_BASIS
    k = len(basis)
    g_p = np.array([[p1 + p2 for _, p2 in basis] for _, p1 in basis])
    g_v = np.array([[prods.index(tuple(sorted((h1, h2)))) for h2, _ in basis]
                    for h1, _ in basis])
    r_p = np.array([p for _, p in basis])
    r_v = np.array([[6 + 3 * ax + h for ax in range(n_ax)] for h, _ in basis])
    coefs = np.zeros((len(which), m_i, k, n_ax))
    hw = halves[i]
    windows = ((i - hw, i + hw + 1), (i - 2 * hw, i + 1), (i, i + 2 * hw + 1))
    for w, (lo, hi) in enumerate(windows[q] for q in which):
        lo, hi = np.maximum(lo, 0), np.minimum(hi, n)
        d = cum[:, :, hi] - cum[:, :, lo]  # (power m, row, sample)
        # sums of (j - j_i)^p v by the binomial expansion, for every p
        cen = np.zeros_like(d)
        for p in range(top + 1):
            for m in range(p + 1):
                cen[p] += comb(p, m) * negpow[p - m] * d[m]
        gram = np.moveaxis(cen[g_p, g_v], -1, 0)  # (sample, k, k)
        # a tiny ridge keeps windows that are nearly all missing solvable
        gram = gram + 1e-9 * np.maximum(gram[:, 0, 0], 1.0)[:, None, None] * np.eye(k)
        rhs = np.moveaxis(cen[r_p[:, None], r_v], -1, 0)  # (sample, k, axis)
        coefs[w] = np.linalg.solve(gram, rhs)
    t = np.arange(a, b)

    def at(v: np.ndarray) -> np.ndarray:  # grid values to every sample
        return np.interp(t, i, v)

    waves = np.zeros((len(which), x.shape[0], b - a))
    level = np.zeros((x.shape[0], b - a))
    amp2 = np.zeros(b - a)
    for ax in range(n_ax):  # a loop over the axes (1-3)
        for w in range(len(which)):
            waves[w, ax] = (at(coefs[w, :, 2, ax]) * c[a:b] + at(coefs[w, :, 3, ax]) * s[a:b])
        level[ax] = at(coefs[0, :, 0, ax])
        amp2 += at(coefs[0, :, 2, ax] ** 2 + coefs[0, :, 3, ax] ** 2)
    return waves, level, amp2
