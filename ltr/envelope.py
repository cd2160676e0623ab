"""Activity envelopes, vectorized along the last axis: moving RMS and Teager-Kaiser energy."""

from __future__ import annotations

import numpy as np


def window_samples(seconds: float, sfreq: float) -> int:
    """An odd number of samples (>= 1) closest to ``seconds`` at ``sfreq``."""
    n = max(1, round(seconds * sfreq))
    return n if n % 2 else n + 1


def moving_mean(x: np.ndarray, n: int) -> np.ndarray:
    """Centred moving mean over ``n`` (odd) samples along the last axis, edges shrink.

    Computed from a cumulative sum, so it costs O(n_samples) whatever the window; NaN
    samples are left out of the mean (a window of only NaN gives NaN).
    """
    dtype = np.result_type(x, np.float64)
    if n <= 1:
        return x.astype(dtype, copy=True)
    m = x.shape[-1]
    half = n // 2
    valid = np.isfinite(x)
    has_gaps = not valid.all()
    z = np.where(valid, x, 0.0) if has_gaps else x
    pad = [(0, 0)] * (x.ndim - 1) + [(1, 0)]
    cs = np.pad(np.cumsum(z, axis=-1, dtype=dtype), pad)
    # window [i - half, i + half] -> cs[min(i + half + 1, m)] - cs[max(i - half, 0)]
    total = _window_diff(cs, half, m)
    if has_gaps:
        cn = np.pad(np.cumsum(valid, axis=-1, dtype=np.float64), pad)
        count = _window_diff(cn, half, m)
    else:
        idx = np.arange(m)
        count = (np.minimum(idx + half + 1, m) - np.maximum(idx - half, 0)).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _window_diff(cs: np.ndarray, half: int, m: int) -> np.ndarray:
    """``cs[min(i + half + 1, m)] - cs[max(i - half, 0)]`` for i in range(m), by slicing."""
    if half >= m:  # the window covers everything: index arrays (short signals only)
        i = np.arange(m)
        return cs[..., np.minimum(i + half + 1, m)] - cs[..., np.maximum(i - half, 0)]
    hi = np.concatenate([cs[..., half + 1:], np.repeat(cs[..., -1:], half, axis=-1)], axis=-1)
    lo = np.concatenate([np.repeat(cs[..., :1], half, axis=-1), cs[..., : m - half]], axis=-1)
    return hi - lo


def moving_rms(x: np.ndarray, n: int) -> np.ndarray:
    """Centred moving RMS over ``n`` (odd) samples along the last axis (zero lag)."""
    return np.sqrt(np.maximum(moving_mean(np.square(x), n), 0.0))


def tkeo(x: np.ndarray) -> np.ndarray:
    """Teager-Kaiser energy operator ``x[n]^2 - x[n-1] x[n+1]`` along the last axis.

    The first and last samples repeat their neighbours. TKEO sharpens the onsets of
    spiky bursts (Solnik et al. 2010, Eur J Appl Physiol 110:489).
    """
    out = np.empty_like(x, dtype=np.float64)
    out[..., 1:-1] = x[..., 1:-1] ** 2 - x[..., :-2] * x[..., 2:]
    out[..., 0] = out[..., 1] if x.shape[-1] > 2 else 0.0
    out[..., -1] = out[..., -2] if x.shape[-1] > 2 else 0.0
    return out


def tkeo_envelope(x: np.ndarray, n: int) -> np.ndarray:
    """Square root of the moving mean of the (clipped at 0) TKEO: an RMS-like envelope."""
    return np.sqrt(np.maximum(moving_mean(np.maximum(tkeo(x), 0.0), n), 0.0))
