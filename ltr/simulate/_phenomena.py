"""Phenomena added for issue 12: endplate activity, accelerometer tremor, bursts with a
movement step, faint heartbeats (in ``_session._ecg``) and long quiet gaps.

Each generator draws only from its own random stream, so switching one on leaves every
other component of a session exactly as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import signal

from . import _waveforms as wf

if TYPE_CHECKING:  # pragma: no cover
    from ._session import _Builder

#: Band the "after band-pass" amplitudes refer to (the detector's default surface band).
ANALYSIS_BAND = (20.0, 450.0)


#: Band of the accelerometer amplitudes (the detector's default accelerometer band).
ACC_BAND = (5.0, 50.0)


def bandpass(x: np.ndarray, sfreq: float,
             band: tuple[float, float] = ANALYSIS_BAND) -> np.ndarray:
    """Zero-phase 4th-order Butterworth band-pass to ``band`` (default
    :data:`ANALYSIS_BAND`; upper edge capped at 0.45 × sfreq), along the last axis."""
    hi = min(band[1], 0.45 * sfreq)
    sos = signal.butter(4, [band[0], hi], btype="bandpass", fs=sfreq, output="sos")
    return signal.sosfiltfilt(sos, x, axis=-1)


def _episodes(rng: np.random.Generator, rate_per_min: float, windows: np.ndarray,
              durations: tuple[float, float], on_twitch: float,
              twitch_onsets: np.ndarray) -> list[tuple[float, float]]:
    """Episodes (start, stop) inside ``windows`` (rows of start, stop), Poisson in count;
    a share ``on_twitch`` of them is placed so that a twitch onset falls inside. An
    episode that would overlap an earlier one, or last under 0.2 s, is dropped."""
    lengths = np.maximum(windows[:, 1] - windows[:, 0], 0.0)
    total = float(lengths.sum())
    if total <= 0 or rate_per_min <= 0:
        return []
    count = int(rng.poisson(rate_per_min * total / 60.0))
    out: list[tuple[float, float]] = []
    for _ in range(count):  # a loop over a handful of episodes
        dur = rng.uniform(*durations)
        anchor = rng.random() < on_twitch and twitch_onsets.size > 0
        pick = int(rng.integers(0, max(twitch_onsets.size, 1)))
        lead = rng.uniform(0.1, 0.9)
        u = rng.random()
        if anchor:
            t_tw = float(twitch_onsets[pick])
            w = int(np.clip(np.searchsorted(windows[:, 0], t_tw, side="right") - 1, 0,
                            windows.shape[0] - 1))
            start = t_tw - lead * dur
        else:
            w = int(np.searchsorted(np.cumsum(lengths), u * total, side="right"))
            w = min(w, windows.shape[0] - 1)
            start = windows[w, 0] + u * total - (np.cumsum(lengths)[w] - lengths[w])
        lo, hi = windows[w]
        start = float(np.clip(start, lo, max(lo, hi - dur)))
        stop = float(min(start + dur, hi))
        clear = all(stop <= a or start >= b for a, b in out)  # episodes never overlap
        if stop - start > 0.2 and clear:
            out.append((start, stop))
    return out


def endplate_noise(b: _Builder, rng: np.random.Generator, epochs: dict[str, np.ndarray]) -> None:
    """Monophasic negative potentials (1-2 ms, a few times the baseline, hundreds per
    second) throughout the needle-in epochs where the needle sits in an endplate zone."""
    cfg = b.cfg
    if cfg.endplate_noise_prob <= 0 or not b.emg_names:
        return
    out = b.emg("endplate_noise")
    for k in range(epochs["start"].size):  # a loop over epochs
        here = rng.random() < cfg.endplate_noise_prob
        rate = rng.uniform(*cfg.endplate_noise_rate)
        width = rng.uniform(0.001, 0.002)
        if not here:
            continue
        t0, t1 = float(epochs["start"][k]), float(epochs["stop"][k])
        count = int(rng.poisson(rate * (t1 - t0)))
        times = rng.uniform(t0, t1, count)
        amps = rng.uniform(*cfg.endplate_noise_amplitude, count) * cfg.noise_rms
        # a Gaussian lasting `width` between its 1 % points (±3 σ), negative
        sigma = width / 6.0
        tt = np.arange(-3 * sigma, 3 * sigma, 1 / b.sfreq)
        template = -np.exp(-0.5 * (tt / sigma) ** 2)
        i0, i1 = b.idx(t0), min(b.idx(t1), b.n)
        train = np.zeros(max(i1 - i0, 0))
        idx = np.round(times * b.sfreq).astype(int) - i0
        ok = (idx >= 0) & (idx < train.size)
        np.add.at(train, idx[ok], amps[ok])
        # direct convolution (a template of tens of samples): exactly non-positive
        shape = np.convolve(train, template)[tt.size // 2: tt.size // 2 + train.size]
        out[int(epochs["muscle"][k]), i0:i1] += shape
        b.mark("endplate_noise", t0, t1, b.emg_names[int(epochs["muscle"][k])],
               float(np.mean(cfg.endplate_noise_amplitude)) * cfg.noise_rms)


def endplate_trains(b: _Builder, rng: np.random.Generator, epochs: dict[str, np.ndarray],
                    twitch_onsets: np.ndarray) -> None:
    """Trains of endplate spikes: biphasic, negative first, 3-5 ms, 15-50× the baseline,
    firing irregularly at 5-40 Hz for 1-6 s, inside needle-in epochs."""
    cfg = b.cfg
    if cfg.endplate_train_rate <= 0 or not b.emg_names:
        return
    out = b.emg("endplate_train")
    windows = np.column_stack([epochs["start"], epochs["stop"]])
    for start, stop in _episodes(rng, cfg.endplate_train_rate, windows,
                                 cfg.endplate_train_duration, cfg.endplate_on_twitch,
                                 twitch_onsets):
        rate = rng.uniform(*cfg.endplate_train_firing)
        # irregular: gamma intervals (shape 4, CV 0.5) around the train's mean rate
        n_max = int((stop - start) * rate * 3) + 4
        times = start + np.cumsum(rng.gamma(4.0, 1.0 / (4.0 * rate), n_max))
        times = times[times < stop]
        width = rng.uniform(0.003, 0.005)
        amp = rng.uniform(*cfg.endplate_spike_amplitude) * cfg.noise_rms
        gains = amp * rng.uniform(0.85, 1.15, times.size)
        tt = np.arange(-width / 2, width / 2, 1 / b.sfreq)
        # Hermite-Rodriguez order 1, positive sign: the first phase is negative
        spike = wf.muap(tt, width / 6, 1)
        ep = int(np.clip(np.searchsorted(epochs["start"], start, side="right") - 1, 0, None))
        ch = int(epochs["muscle"][ep])
        for t, g in zip(times, gains, strict=True):  # a loop over spikes (tens per train)
            wf.add_at(out[ch], g * spike, b.idx(t) - tt.size // 2)
        b.mark("endplate_train", start, stop, b.emg_names[ch], amp)


def tremor(b: _Builder, rng: np.random.Generator, twitch_onsets: np.ndarray) -> None:
    """Tremor episodes on the accelerometer: a 4-7 Hz (configurable) oscillation of
    0.02-0.1 g with a slowly drifting frequency, tapered in and out over 0.3 s."""
    cfg = b.cfg
    if cfg.tremor_rate <= 0 or not b.has_acc:
        return
    out = b.acc("tremor")
    duration = b.n / b.sfreq
    windows = np.asarray([[0.5, duration - 0.5]])
    for start, stop in _episodes(rng, cfg.tremor_rate, windows, cfg.tremor_duration,
                                 cfg.tremor_on_twitch, twitch_onsets):
        m = round((stop - start) * b.sfreq)
        f0 = rng.uniform(*cfg.tremor_freq)
        drift = 1.0 + 0.03 * wf.smooth_random(rng, m, b.sfreq, 0.5)
        phase = 2 * np.pi * np.cumsum(f0 * drift) / b.sfreq + rng.uniform(0, 6.3)
        taper = np.clip(np.minimum(np.arange(m), m - 1 - np.arange(m)) / (0.3 * b.sfreq),
                        0.0, 1.0)
        amp = rng.uniform(*cfg.tremor_amplitude)
        wave = amp * np.sin(phase) * (0.5 - 0.5 * np.cos(np.pi * taper))
        d = rng.standard_normal(3)
        d /= np.linalg.norm(d)
        for axis in range(3):
            wf.add_at(out[axis], d[axis] * wave, b.idx(start))
        b.mark("tremor", start, stop, "ACC", amp)


def movement_bursts(b: _Builder, rng: np.random.Generator, epochs: dict[str, np.ndarray],
                    twitches: dict[str, list[Any]]) -> None:
    """Large genuine bursts (0.8-1.2 mV, 0.3-0.6 s) whose limb movement steps the baseline.

    They are twitches: their rows are appended to ``twitches`` (same columns) and must be
    counted. The step is logged as ``movement_step``. Bursts keep 0.25 s clear of every
    simulated twitch and stay inside their epoch.
    """
    cfg = b.cfg
    if cfg.movement_burst_rate <= 0 or not b.emg_names:
        return
    emg = b.emg("movement_burst")
    acc = b.acc("movement_burst") if b.has_acc else None
    windows = np.column_stack([epochs["start"], epochs["stop"]])
    busy = [(on, off) for on, off in zip(twitches["onset"], twitches["offset"], strict=True)]
    for start, _stop in _episodes(rng, cfg.movement_burst_rate, windows,
                                  (1.0, 1.0), 0.0, np.zeros(0)):
        dur = rng.uniform(*cfg.movement_burst_duration)
        peak = rng.uniform(*cfg.movement_burst_amplitude)
        step = rng.uniform(*cfg.movement_step_amplitude) * rng.choice([-1.0, 1.0])
        tau = rng.uniform(0.5, 3.0)
        step_lag = rng.uniform(0.0, 0.1)
        brng = np.random.default_rng(rng.integers(1 << 62))
        wave, i_on, i_off = wf.twitch_burst(brng, dur, b.sfreq, cfg)
        wave *= peak / np.abs(wave).max()
        s0 = b.idx(start) - i_on
        onset, offset = start, (s0 + i_off) / b.sfreq
        ep = int(np.clip(np.searchsorted(epochs["start"], onset, side="right") - 1, 0, None))
        if offset + 0.05 > epochs["stop"][ep] or any(
                onset < off + 0.25 and offset > on - 0.25 for on, off in busy):
            continue
        busy.append((onset, offset))
        ch = int(epochs["muscle"][ep])
        wf.add_at(emg[ch], wave, s0)
        decay = np.exp(-np.arange(0.0, 8 * tau, 1 / b.sfreq) / tau)
        wf.add_at(emg[ch], step * (decay - decay[-1]), b.idx(onset + step_lag))
        rms = float(np.sqrt(np.mean(wave[i_on:i_off + 1] ** 2)))
        # the truth is where the burst shows over the baseline (before 1 % of its energy)
        v_on, v_off = wf.visible_span(wave, i_on, i_off, cfg.noise_rms, b.sfreq)
        row = {"onset": (s0 + v_on) / b.sfreq, "offset": (s0 + v_off) / b.sfreq,
               "peak_time": (s0 + int(np.argmax(np.abs(wave)))) / b.sfreq,
               "amplitude": float(np.abs(wave).max()), "rms": rms,
               "snr_db": float(20 * np.log10(rms / cfg.noise_rms)),
               "channel": b.emg_names[ch], "crosstalk_db": np.nan, "epoch": ep,
               "acc_onset": np.nan, "acc_amplitude": np.nan}
        if acc is not None:
            jolt, _ = wf.acc_jolt(brng, b.sfreq, cfg)
            a_peak = brng.uniform(0.3, 1.0)
            d = brng.standard_normal(3)
            d /= np.linalg.norm(d)
            a_on = row["onset"] + brng.uniform(*cfg.emd)
            move = wf.windowed_sine(b.sfreq, dur + 0.4, brng.uniform(0.5, 2.0))
            for axis in range(3):
                wf.add_at(acc[axis], a_peak * d[axis] * jolt, b.idx(a_on))
                wf.add_at(acc[axis], 0.5 * a_peak * d[axis] * move, b.idx(onset - 0.1))
            row.update(acc_onset=a_on, acc_amplitude=a_peak)
        for k in twitches:
            twitches[k].append(row[k])
        b.mark("movement_step", onset + step_lag, onset + step_lag + 3 * tau,
               b.emg_names[ch], abs(step))
