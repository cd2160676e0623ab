"""Waveform models: motor-unit potentials, twitch bursts, accelerometer jolts, ECG, artifacts.

All functions are pure given a :class:`numpy.random.Generator` and return float64 arrays.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from .config import SimulationConfig


def muap(t: np.ndarray, width: float, order: int) -> np.ndarray:
    """A motor-unit action potential as a Hermite-Rodriguez function of order 1 or 2.

    Parameters
    ----------
    t : ndarray
        Time relative to the potential's centre, s.
    width : float
        Scale λ in s; the potential lasts about 6 λ.
    order : {1, 2}
        1: biphasic, 2: triphasic.

    Returns
    -------
    ndarray
        Unit-peak waveform.

    References
    ----------
    Lo Conte, Merletti & Sandri (1994), Hermite expansions of compact support waveforms:
    applications to myoelectric signals. IEEE Trans Biomed Eng 41:1147.
    """
    u = t / width
    g = np.exp(-(u**2))
    w = u * g if order == 1 else (1 - 2 * u**2) * g
    peak = np.max(np.abs(w)) if w.size else 1.0
    return w / peak if peak > 0 else w


def twitch_burst(
    rng: np.random.Generator, duration: float, sfreq: float, cfg: SimulationConfig
) -> tuple[np.ndarray, int, int]:
    """A polyphasic EMG burst: several motor units firing over ``duration`` seconds.

    Returns
    -------
    wave : ndarray
        The noise-free burst (arbitrary scale).
    onset, offset : int
        Samples at which the burst's cumulative energy reaches 1 % and 99 %. The truth
        onset and offset of the twitch are these, widened to where the scaled burst is
        visible over the baseline (:func:`visible_span`).
    """
    n_units = int(rng.integers(cfg.n_units[0], cfg.n_units[1] + 1))
    widths = rng.uniform(*cfg.muap_duration, n_units) / 6.0
    orders = rng.integers(1, 3, n_units)
    signs = rng.choice([-1.0, 1.0], n_units)
    gains = rng.lognormal(0.0, 0.5, n_units)
    rate = rng.uniform(*cfg.firing_rate)
    n_fire = max(n_units, int(rng.poisson(rate * duration)))
    # firings bunch early: a twitch rises fast and fades
    times = duration * rng.beta(1.6, 2.4, n_fire)
    unit = rng.integers(0, n_units, n_fire)
    unit[:n_units] = np.arange(n_units)  # every unit fires at least once
    jitter = rng.lognormal(0.0, 0.2, n_fire)
    pad = 3.5 * widths.max()
    t = np.arange(-pad, duration + pad, 1.0 / sfreq)
    wave = np.zeros_like(t)
    for k in range(n_units):  # a loop over a handful of motor units
        sel = unit == k
        rel = t[np.newaxis, :] - times[sel, np.newaxis]
        wave += signs[k] * gains[k] * (jitter[sel, np.newaxis] * muap(rel, widths[k],
                                                                      int(orders[k]))).sum(0)
    energy = np.cumsum(wave**2)
    energy /= energy[-1]
    onset = int(np.searchsorted(energy, 0.01))
    offset = int(np.searchsorted(energy, 0.99))
    return wave, onset, max(offset, onset + 1)


#: Window (s) over which a noise-free burst's RMS is compared with the baseline noise's to
#: say where the burst is visible (:func:`visible_span`).
VISIBLE_WINDOW = 0.005


def visible_span(wave: np.ndarray, i_on: int, i_off: int, noise_rms: float,
                 sfreq: float) -> tuple[int, int]:
    """Where a burst is visible: its 1-99 % energy span widened to the first and last
    sample at which its own RMS over :data:`VISIBLE_WINDOW` (centred) reaches the baseline
    noise RMS.

    A strong burst starts well before 1 % of its energy: the first motor-unit potential
    of a 1-mV burst stands far above a 3-µV baseline, and a rater (or any detector) marks
    the onset there. A weak burst is visible only inside its 1-99 % span, which is kept.

    Parameters
    ----------
    wave : ndarray
        The noise-free burst, scaled to its final level.
    i_on, i_off : int
        Its 1 % and 99 % energy samples (:func:`twitch_burst`).
    noise_rms : float
        RMS of the baseline it is added to.
    sfreq : float
        Sampling rate, Hz.

    Returns
    -------
    onset, offset : int
        Samples of ``wave``; ``onset <= i_on`` and ``offset >= i_off``.
    """
    w = max(1, round(VISIBLE_WINDOW * sfreq))
    power = np.convolve(wave * wave, np.ones(w) / w, mode="same")
    above = np.flatnonzero(power >= noise_rms**2)
    if not above.size:
        return i_on, i_off
    return min(i_on, int(above[0])), max(i_off, int(above[-1]))


def acc_jolt(
    rng: np.random.Generator, sfreq: float, cfg: SimulationConfig
) -> tuple[np.ndarray, float]:
    """A damped oscillation (unit peak) lasting ``cfg.acc_duration``; returns (wave, freq)."""
    freq = rng.uniform(*cfg.acc_freq)
    dur = rng.uniform(*cfg.acc_duration)
    tau = dur / 3.0  # envelope at 5 % after `dur`
    t = np.arange(0.0, dur, 1.0 / sfreq)
    rise = 1.0 - np.exp(-t / (0.15 / freq))
    wave = np.sin(2 * np.pi * freq * t) * np.exp(-t / tau) * rise
    peak = np.max(np.abs(wave))
    return wave / peak, freq


def ecg_beat(rng: np.random.Generator, sfreq: float) -> tuple[np.ndarray, int]:
    """One ECG beat as seen on trunk EMG (Q, R, S, T as Gaussians); returns (wave, R index)."""
    t = np.arange(-0.1, 0.45, 1.0 / sfreq)
    r_width = rng.uniform(0.005, 0.009)
    wave = (
        np.exp(-0.5 * (t / r_width) ** 2)
        - 0.15 * np.exp(-0.5 * ((t + 0.022) / 0.007) ** 2)
        - 0.30 * np.exp(-0.5 * ((t - 0.024) / 0.008) ** 2)
        + 0.20 * np.exp(-0.5 * ((t - 0.26) / 0.045) ** 2)
    )
    wave *= rng.choice([-1.0, 1.0])
    return wave, round(0.1 * sfreq)


def windowed_sine(
    sfreq: float, duration: float, freq: float, phase: float = 0.0
) -> np.ndarray:
    """A Gaussian-windowed sinusoid of unit peak: a smooth low-frequency transient.

    The window (standard deviation ``duration`` / 6) is lowered by its value at the ends
    (1.1 % of its top) so the transient starts and ends at zero: cut off there, a
    movement of 1 m/s² would begin and end with a step of up to 0.011 m/s², whose
    broadband ringing no hand or cable movement makes."""
    t = np.arange(0.0, duration, 1.0 / sfreq)
    if t.size == 0:
        return t
    centre = duration / 2
    edge = np.exp(-0.5 * 3.0**2)  # the window at +-3 standard deviations
    window = np.clip((np.exp(-0.5 * ((t - centre) / (duration / 6)) ** 2) - edge)
                     / (1.0 - edge), 0.0, None)
    wave = window * np.sin(2 * np.pi * freq * (t - centre) + phase)
    peak = np.max(np.abs(wave))
    return wave / peak if peak > 0 else wave


def band_noise(
    rng: np.random.Generator, n: int, sfreq: float, band: tuple[float, float]
) -> np.ndarray:
    """Unit-RMS Gaussian noise band-passed to ``band`` (Hz, upper edge kept below Nyquist)."""
    hi = min(band[1], 0.45 * sfreq)
    sos = signal.butter(4, [band[0], hi], btype="bandpass", fs=sfreq, output="sos")
    x = signal.sosfilt(sos, rng.standard_normal(n + int(sfreq * 0.2)))[int(sfreq * 0.2):]
    rms = np.sqrt(np.mean(x**2)) if n else 1.0
    return x / rms if rms > 0 else x


def pink_noise(rng: np.random.Generator, shape: tuple[int, int], sfreq: float) -> np.ndarray:
    """Unit-RMS 1/f noise along the last axis, flat below 1 Hz (FFT shaping, vectorized)."""
    n = shape[-1]
    spec = rng.standard_normal((*shape[:-1], n // 2 + 1)) + 1j * rng.standard_normal(
        (*shape[:-1], n // 2 + 1)
    )
    f = np.fft.rfftfreq(n, 1.0 / sfreq)
    spec *= 1.0 / np.sqrt(np.maximum(f, 1.0))
    spec[..., 0] = 0.0
    x = np.fft.irfft(spec, n=n, axis=-1)
    rms = np.sqrt(np.mean(x**2, axis=-1, keepdims=True))
    return x / np.where(rms > 0, rms, 1.0)


def smooth_random(rng: np.random.Generator, n: int, sfreq: float, fmax: float,
                  n_terms: int = 5) -> np.ndarray:
    """A slowly varying unit-peak signal: a few sinusoids below ``fmax`` Hz, amplitude ~ 1/f.

    Evaluated on a grid 20 times faster than ``fmax`` and interpolated, so it costs little
    on long, fast-sampled recordings.
    """
    freqs = rng.uniform(fmax / 40, fmax, n_terms)
    phases = rng.uniform(0, 2 * np.pi, n_terms)
    coarse_rate = min(sfreq, 20.0 * fmax)
    m = int(np.ceil(n / sfreq * coarse_rate)) + 2
    tc = np.arange(m) / coarse_rate
    xc = (np.sin(2 * np.pi * np.outer(freqs, tc) + phases[:, None]) / freqs[:, None]).sum(0)
    x = np.interp(np.arange(n) / sfreq, tc, xc) if coarse_rate < sfreq else xc[:n]
    peak = np.max(np.abs(x)) if n else 1.0
    return x / peak if peak > 0 else x


def add_at(target: np.ndarray, wave: np.ndarray, start: int) -> None:
    """Add ``wave`` into ``target`` starting at sample ``start``, clipped at both ends."""
    lo = max(start, 0)
    hi = min(start + wave.size, target.size)
    if hi > lo:
        target[lo:hi] += wave[lo - start : hi - start]
