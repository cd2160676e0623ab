"""Assemble a simulated needling session: schedule, twitches, baseline and confounders."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.signal import lfilter

from .._validate import check_option, check_positive, check_sfreq
from .._version import __version__
from ..annotations import Annotations
from ..io._common import nan_runs
from ..recording import Recording
from . import _phenomena as ph
from . import _waveforms as wf
from .config import LAYOUTS, SimulationConfig
from .truth import Truth

# one independent random stream per component, so switching one confounder on or off
# leaves every other component (twitches included) exactly as it was
_STREAMS = ("schedule", "twitches", "baseline", "acc_baseline", "mains", "wander",
            "needle_spike", "pop", "motion", "ecg", "contraction", "hand_pressure",
            "single_mup", "endplate_noise", "endplate_train", "tremor", "movement_burst",
            "quiet_gap")

#: Fixed start date of simulated recordings, so written files are reproducible.
SIM_MEAS_DATE = _dt.datetime(2026, 1, 1, 9, 0, 0, tzinfo=_dt.timezone.utc)


@dataclass
class _Builder:
    """Mutable state while a session is assembled."""

    sfreq: float
    n: int
    emg_names: list[str]
    has_acc: bool
    cfg: SimulationConfig
    components: dict[str, np.ndarray] = field(default_factory=dict)
    confounders: list[tuple[str, float, float, str, float]] = field(default_factory=list)

    def layer(self, name: str, rows: int) -> np.ndarray:
        if name not in self.components:
            self.components[name] = np.zeros((rows, self.n))
        return self.components[name]

    def emg(self, name: str) -> np.ndarray:
        return self.layer(name, len(self.emg_names))

    def acc(self, name: str) -> np.ndarray:
        return self.layer("acc_" + name, 3)

    def mark(self, kind: str, onset: float, offset: float, channel: str, amp: float) -> None:
        self.confounders.append((kind, onset, offset, channel, amp))

    def idx(self, t: float) -> int:
        return round(t * self.sfreq)


def _schedule(rng: np.random.Generator, duration: float, cfg: SimulationConfig,
              n_muscles: int, quiet_rng: np.random.Generator | None = None,
              quiet: list[tuple[float, float]] | None = None,
              ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Needle-in epochs and needle passes with their on-target Markov state.

    With ``cfg.quiet_gap_prob > 0`` a pause may be lengthened into a long quiet gap
    (drawn from ``quiet_rng``, logged into ``quiet``), which moves the later epochs.
    """
    starts, stops, muscles = [], [], []
    p_time, p_epoch, p_target = [], [], []
    t = rng.uniform(2.0, 5.0)
    while t < duration - 3.0:
        stop = min(t + rng.uniform(*cfg.epoch_duration), duration - 1.0)
        k = len(starts)
        starts.append(t)
        stops.append(stop)
        muscles.append(int(rng.integers(0, n_muscles)))
        tp = t + rng.uniform(0.5, 1.5)
        on = False
        while tp < stop - 0.4:  # a loop over needle passes (a few per second)
            on = rng.random() < (cfg.p_stay_target if on else cfg.p_enter_target)
            p_time.append(tp)
            p_epoch.append(k)
            p_target.append(on)
            tp += rng.uniform(*cfg.pass_interval)
        t = stop + rng.uniform(*cfg.gap_duration)
        if (cfg.quiet_gap_prob > 0 and quiet_rng is not None and quiet is not None
                and quiet_rng.random() < cfg.quiet_gap_prob):
            extra = quiet_rng.uniform(*cfg.quiet_gap_duration)
            quiet.append((stop, min(t + extra, duration)))
            t += extra
    epochs = {"start": np.asarray(starts, float), "stop": np.asarray(stops, float),
              "muscle": np.asarray(muscles, int)}
    passes = {"time": np.asarray(p_time, float), "epoch": np.asarray(p_epoch, int),
              "on_target": np.asarray(p_target, bool)}
    return epochs, passes


def _twitches(b: _Builder, rng: np.random.Generator, epochs: dict[str, np.ndarray],
              passes: dict[str, np.ndarray]) -> dict[str, list[Any]]:
    cfg, sfreq = b.cfg, b.sfreq
    out: dict[str, list[Any]] = {k: [] for k in (
        "onset", "offset", "peak_time", "amplitude", "rms", "snr_db", "channel", "acc_onset",
        "acc_amplitude", "crosstalk_db", "epoch")}
    n_emg = len(b.emg_names)
    emg = b.emg("twitch") if n_emg else None
    acc = b.acc("twitch") if b.has_acc else None
    # per epoch: a site (habituation ratio, jolt direction) and a first-twitch SNR
    n_ep = epochs["start"].size
    hab = rng.uniform(*cfg.habituation, n_ep)
    first_snr = rng.uniform(*cfg.snr_db, n_ep)
    direction = rng.standard_normal((n_ep, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    last_end = -np.inf
    last_onset = -np.inf
    count = np.zeros(n_ep, int)
    for tp, ep, on in zip(passes["time"], passes["epoch"], passes["on_target"], strict=True):
        elicited = rng.random() < cfg.p_twitch
        latency = rng.uniform(*cfg.latency)
        dur = float(np.clip(rng.lognormal(np.log(cfg.duration_median), cfg.duration_sigma),
                            *cfg.duration_range))
        burst_seed = rng.integers(1 << 62)
        if not (on and elicited):
            continue
        onset = tp + latency
        if onset < max(last_onset + cfg.refractory, last_end + 0.05):
            continue
        if onset + dur + 0.05 > epochs["stop"][ep]:
            continue
        brng = np.random.default_rng(burst_seed)
        wave, i_on, i_off = wf.twitch_burst(brng, dur, sfreq, cfg)
        snr = (first_snr[ep] + 20 * np.log10(hab[ep]) * count[ep]
               + cfg.snr_jitter_db * brng.standard_normal())
        count[ep] += 1
        rms_unit = np.sqrt(np.mean(wave[i_on:i_off + 1] ** 2))
        target_rms = cfg.noise_rms * 10 ** (snr / 20)
        wave *= target_rms / rms_unit
        start = b.idx(onset) - i_on
        offset = (start + i_off) / sfreq
        muscle = int(epochs["muscle"][ep])
        peak_i = int(np.argmax(np.abs(wave)))
        row = {"onset": onset, "offset": offset, "epoch": int(ep)}
        if n_emg:
            # the truth is where the burst shows over the baseline: a strong one starts
            # before 1 % of its energy (the placement keeps the 1 % point at `onset`)
            v_on, v_off = wf.visible_span(wave, i_on, i_off, cfg.noise_rms, sfreq)
            row.update(onset=(start + v_on) / sfreq, offset=(start + v_off) / sfreq)
            wf.add_at(emg[muscle], wave, start)  # type: ignore[index]
            row.update(peak_time=(start + peak_i) / sfreq, amplitude=float(np.abs(wave).max()),
                       rms=target_rms, snr_db=snr, channel=b.emg_names[muscle])
            ct = np.nan
            if n_emg > 1:
                ct = brng.uniform(*cfg.crosstalk_db)
                a = np.exp(-2 * np.pi * 120.0 / sfreq)  # volume conduction low-passes
                seen = lfilter([1 - a], [1, -a], wave)
                # scaled so the level seen over the twitch window is the drawn level
                seen *= target_rms * 10 ** (ct / 20) / np.sqrt(np.mean(seen[i_on:i_off + 1] ** 2))
                wf.add_at(emg[1 - muscle], seen, start)  # type: ignore[index]
            row["crosstalk_db"] = ct
        else:
            row.update(peak_time=np.nan, amplitude=np.nan, rms=np.nan, snr_db=np.nan,
                       channel="", crosstalk_db=np.nan)
        if acc is not None:
            jolt, _ = wf.acc_jolt(brng, sfreq, cfg)
            lo, hi = cfg.acc_amplitude
            strength = np.clip((snr - cfg.snr_db[0]) / max(cfg.snr_db[1] - cfg.snr_db[0], 1e-9),
                               0.0, 1.0)
            level = 0.7 * strength + 0.3 * brng.random()
            peak = lo * (hi / lo) ** level if lo > 0 else hi * level
            if muscle != 0:
                peak *= 0.3  # the sensor sits over the first muscle
            d = direction[ep] + 0.15 * brng.standard_normal(3)
            d /= np.linalg.norm(d)
            # the electromechanical delay runs from the EMG onset the truth reports
            acc_onset = row["onset"] + brng.uniform(*cfg.emd)
            j0 = b.idx(acc_onset)
            for axis in range(3):
                wf.add_at(acc[axis], peak * d[axis] * jolt, j0)
            row.update(acc_onset=acc_onset, acc_amplitude=peak)
            if not n_emg:  # the jolt is all there is: it defines the event
                # and its SNR, by the rule of the EMG burst's: the jolt's RMS over its
                # span (vector magnitude) over the sensor noise's (sqrt(3) axes)
                jolt_rms = peak * float(np.sqrt(np.mean(jolt ** 2)))
                row.update(onset=acc_onset, offset=acc_onset + jolt.size / sfreq,
                           peak_time=acc_onset + np.argmax(np.abs(jolt)) / sfreq,
                           snr_db=20 * np.log10(jolt_rms / (cfg.acc_noise_rms * np.sqrt(3))))
                offset = row["offset"]
        else:
            row.update(acc_onset=np.nan, acc_amplitude=np.nan)
        for k in out:
            out[k].append(row[k])
        # the next twitch must start after this one has ended in every modality
        last_onset = onset
        offset = max(offset, row["offset"])
        last_end = offset if acc is None else max(offset, row["acc_onset"] + jolt.size / sfreq)
    return out


def _baseline(b: _Builder, rng: np.random.Generator) -> None:
    n_emg = len(b.emg_names)
    if not n_emg:
        return
    cfg = b.cfg
    white = rng.standard_normal((n_emg, b.n))
    pink = wf.pink_noise(rng, (n_emg, b.n), b.sfreq)
    b.components["baseline"] = cfg.noise_rms * (np.sqrt(1 - cfg.pink_fraction) * white
                                                + np.sqrt(cfg.pink_fraction) * pink)


def _acc_baseline(b: _Builder, rng: np.random.Generator) -> None:
    if not b.has_acc:
        return
    cfg = b.cfg
    g = rng.standard_normal(3)
    g *= 9.80665 / np.linalg.norm(g)
    posture = np.stack([wf.smooth_random(rng, b.n, b.sfreq, 0.02) for _ in range(3)]) * 0.15
    breath_f = rng.uniform(0.2, 0.33)
    breath_dir = rng.standard_normal(3)
    breath_dir /= np.linalg.norm(breath_dir)
    t = np.arange(b.n) / b.sfreq
    breath = cfg.breathing_amplitude * np.sin(2 * np.pi * breath_f * t + rng.uniform(0, 6.3))
    out = rng.standard_normal((3, b.n))
    out *= cfg.acc_noise_rms
    out += posture
    out += g[:, None]
    out += breath_dir[:, None] * breath
    b.components["acc_baseline"] = out


def _mains(b: _Builder, rng: np.random.Generator) -> None:
    cfg = b.cfg
    if cfg.mains_hz is None or not b.emg_names:
        return
    t = np.arange(b.n) / b.sfreq
    out = b.emg("mains")
    for ch in range(len(b.emg_names)):
        drift = 1.0 + 0.3 * wf.smooth_random(rng, b.n, b.sfreq, 0.05)
        gain = cfg.mains_amplitude * rng.uniform(0.7, 1.3)
        for harmonic, rel in ((1, 1.0), (3, 0.3), (5, 0.1)):
            f = harmonic * cfg.mains_hz
            if f < 0.45 * b.sfreq:
                out[ch] += gain * rel * drift * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
    b.mark("mains", 0.0, b.n / b.sfreq, "*", cfg.mains_amplitude)


def _wander(b: _Builder, rng: np.random.Generator) -> None:
    cfg = b.cfg
    if cfg.wander_amplitude <= 0 or not b.emg_names:
        return
    out = b.emg("wander")
    for ch in range(len(b.emg_names)):
        out[ch] = cfg.wander_amplitude * wf.smooth_random(rng, b.n, b.sfreq, 2.0)
    b.mark("wander", 0.0, b.n / b.sfreq, "*", cfg.wander_amplitude)


def _needle_spikes(b: _Builder, rng: np.random.Generator, passes: dict[str, np.ndarray],
                   epochs: dict[str, np.ndarray]) -> None:
    cfg = b.cfg
    if cfg.needle_spike_prob <= 0 or not b.emg_names:
        return
    out = b.emg("needle_spike")
    for tp, ep in zip(passes["time"], passes["epoch"], strict=True):
        if rng.random() >= cfg.needle_spike_prob:
            continue
        dur = rng.uniform(0.001, 0.003)
        amp = rng.uniform(*cfg.needle_spike_amplitude) * rng.choice([-1.0, 1.0])
        t = np.arange(-dur / 2, dur / 2, 1 / b.sfreq)
        wave = amp * wf.muap(t, dur / 6, 1) if t.size > 2 else np.full(1, amp)
        t0 = tp + rng.uniform(0.0, 0.01)
        muscle = int(epochs["muscle"][ep])
        wf.add_at(out[muscle], wave, b.idx(t0 - dur / 2))
        if len(b.emg_names) > 1:
            wf.add_at(out[1 - muscle], 0.1 * wave, b.idx(t0 - dur / 2))
        b.mark("needle_spike", t0 - dur / 2, t0 + dur / 2, b.emg_names[muscle], abs(amp))


def _poisson_times(rng: np.random.Generator, rate_per_min: float, duration: float,
                   margin: float = 0.5) -> np.ndarray:
    count = rng.poisson(rate_per_min * duration / 60.0)
    return np.sort(rng.uniform(margin, max(margin, duration - margin - 1.0), count))


def _pops(b: _Builder, rng: np.random.Generator) -> None:
    cfg = b.cfg
    if cfg.pop_rate <= 0 or not b.emg_names:
        return
    out = b.emg("pop")
    for t0 in _poisson_times(rng, cfg.pop_rate, b.n / b.sfreq):
        tau = rng.uniform(0.05, 0.5)
        amp = rng.uniform(*cfg.pop_amplitude) * rng.choice([-1.0, 1.0])
        ch = int(rng.integers(0, len(b.emg_names)))
        # decays over 12 tau and ends exactly at zero: no second, artificial step
        decay = np.exp(-np.arange(0.0, 12 * tau, 1 / b.sfreq) / tau)
        wave = amp * (decay - decay[-1])
        wf.add_at(out[ch], wave, b.idx(t0))
        b.mark("pop", t0, t0 + 3 * tau, b.emg_names[ch], abs(amp))


def _motion(b: _Builder, rng: np.random.Generator, passes: dict[str, np.ndarray]) -> None:
    cfg = b.cfg
    if cfg.motion_prob <= 0:
        return
    for tp in passes["time"]:
        if rng.random() >= cfg.motion_prob:
            continue
        dur = rng.uniform(0.15, 0.6)
        freq = rng.uniform(1.5, 8.0)
        wave = wf.windowed_sine(b.sfreq, dur, freq, rng.uniform(0, 6.3))
        t0 = tp - dur / 2 + rng.uniform(-0.05, 0.05)
        amp = rng.uniform(*cfg.motion_amplitude)
        if b.emg_names:
            out = b.emg("motion")
            for ch in range(len(b.emg_names)):
                wf.add_at(out[ch], amp * rng.uniform(0.3, 1.0) * wave, b.idx(t0))
        if b.has_acc:
            d = rng.standard_normal(3)
            d /= np.linalg.norm(d)
            a_amp = rng.uniform(0.05, 0.5)
            out = b.acc("motion")
            for axis in range(3):
                wf.add_at(out[axis], a_amp * d[axis] * wave, b.idx(t0))
        b.mark("motion", t0, t0 + dur, "*", amp if b.emg_names else a_amp)


def _ecg(b: _Builder, rng: np.random.Generator) -> None:
    cfg = b.cfg
    if cfg.ecg_bpm is None or not b.emg_names:
        return
    from scipy.signal import fftconvolve

    duration = b.n / b.sfreq
    bpm = rng.uniform(*cfg.ecg_bpm)
    rr = 60.0 / bpm
    n_beats = int(duration / rr) + 2
    intervals = rr * (1 + 0.04 * rng.standard_normal(n_beats))
    beats = rng.uniform(0, rr) + np.concatenate([[0.0], np.cumsum(intervals[:-1])])
    beats = beats[beats < duration - 0.5]
    wave, r_idx = wf.ecg_beat(rng, b.sfreq)
    out = b.emg("ecg")
    for ch in range(len(b.emg_names)):
        train = np.zeros(b.n)
        idx = np.round(beats * b.sfreq).astype(int) - r_idx
        ok = (idx >= 0) & (idx < b.n)
        np.add.at(train, idx[ok], rng.uniform(0.9, 1.1, ok.sum()))
        gain = cfg.ecg_amplitude * (1.0 if ch == 0 else rng.uniform(0.4, 0.9))
        out[ch] = gain * fftconvolve(train, wave)[: b.n]
    amplitude = cfg.ecg_amplitude
    if cfg.ecg_qrs_snr is not None:
        # rescale so the band-passed QRS peak is the drawn multiple of the band-passed
        # baseline RMS (measured on up to 30 s of the first channel's baseline)
        ratio = rng.uniform(*cfg.ecg_qrs_snr)
        base = b.components["baseline"][0, : min(b.n, round(30 * b.sfreq))]
        base_rms = float(np.sqrt(np.mean(ph.bandpass(base, b.sfreq) ** 2)))
        pad = np.zeros(round(0.5 * b.sfreq))
        qrs_peak = float(np.abs(ph.bandpass(np.concatenate([pad, wave, pad]), b.sfreq)).max())
        scale = ratio * base_rms / (qrs_peak * cfg.ecg_amplitude)
        out *= scale
        amplitude = cfg.ecg_amplitude * scale
    for r in beats:
        b.mark("ecg", r - 0.05, r + 0.06, "*", amplitude)


def _contractions(b: _Builder, rng: np.random.Generator) -> None:
    cfg = b.cfg
    if cfg.contraction_rate <= 0:
        return
    for t0 in _poisson_times(rng, cfg.contraction_rate, b.n / b.sfreq):
        dur = rng.uniform(1.0, 5.0)
        m = int(dur * b.sfreq)
        ramp = min(rng.uniform(0.2, 0.5), dur / 3)
        tt = np.arange(m) / b.sfreq
        env = np.clip(np.minimum(tt, dur - tt) / ramp, 0, 1)
        env = 0.5 - 0.5 * np.cos(np.pi * env)
        snr = rng.uniform(*cfg.contraction_snr_db)
        amp = cfg.noise_rms * 10 ** (snr / 20)
        if b.emg_names:
            out = b.emg("contraction")
            for ch in range(len(b.emg_names)):
                x = wf.band_noise(rng, m, b.sfreq, (30.0, 250.0)) * env
                wf.add_at(out[ch], amp * (1.0 if ch == 0 else 0.5) * x, b.idx(t0))
        if b.has_acc:
            d = rng.standard_normal(3)
            d /= np.linalg.norm(d)
            move = wf.windowed_sine(b.sfreq, dur, rng.uniform(0.3, 2.0), rng.uniform(0, 6.3))
            tremor = np.sin(2 * np.pi * rng.uniform(8, 12) * tt) * env
            a = rng.uniform(0.05, 0.3) * move[:m] + 0.02 * tremor
            out = b.acc("contraction")
            for axis in range(3):
                wf.add_at(out[axis], d[axis] * a, b.idx(t0))
        b.mark("contraction", t0, t0 + dur, "*", amp)


def _hand_pressure(b: _Builder, rng: np.random.Generator) -> None:
    cfg = b.cfg
    if cfg.hand_pressure_rate <= 0 or not b.has_acc:
        return
    out = b.acc("hand_pressure")
    for t0 in _poisson_times(rng, cfg.hand_pressure_rate, b.n / b.sfreq):
        dur = rng.uniform(0.3, 2.0)
        wave = wf.windowed_sine(b.sfreq, dur, rng.uniform(0.5, 4.0), rng.uniform(0, 6.3))
        amp = rng.uniform(*cfg.hand_pressure_amplitude)
        d = rng.standard_normal(3)
        d /= np.linalg.norm(d)
        for axis in range(3):
            wf.add_at(out[axis], amp * d[axis] * wave, b.idx(t0))
        b.mark("hand_pressure", t0, t0 + dur, "ACC", amp)


def _single_mups(b: _Builder, rng: np.random.Generator) -> None:
    cfg = b.cfg
    if cfg.single_mup_rate <= 0 or not b.emg_names:
        return
    out = b.emg("single_mup")
    for t0 in _poisson_times(rng, cfg.single_mup_rate, b.n / b.sfreq):
        dur = rng.uniform(0.005, 0.015)
        t = np.arange(-dur / 2, dur / 2, 1 / b.sfreq)
        amp = cfg.noise_rms * 10 ** (rng.uniform(6, 20) / 20) * rng.choice([-1.0, 1.0])
        ch = int(rng.integers(0, len(b.emg_names)))
        wf.add_at(out[ch], amp * wf.muap(t, dur / 6, int(rng.integers(1, 3))), b.idx(t0))
        b.mark("single_mup", t0, t0 + dur, b.emg_names[ch], abs(amp))


def session(
    duration: float | None = None,
    sfreq: float | None = None,
    layout: str | None = None,
    seed: int | None = 0,
    *,
    condition: str | None = None,
    return_components: bool = False,
    **conditions: Any,
) -> tuple[Recording, Truth] | tuple[Recording, Truth, dict[str, np.ndarray]]:
    """Simulate a needling session with known twitches and confounders.

    Parameters
    ----------
    duration : float | None
        Length in seconds (> 5). None: 120 s (drawn with ``condition="wild"``).
    sfreq : float | None
        Sampling rate in Hz, None: 2 kHz (drawn with ``condition="wild"``). EMG layouts
        need >= 250 Hz, the lowest rate of the clinic EMG in ``../shared/data`` (the EMG
        band then ends at 0.45 × sfreq).
    layout : {"emg", "acc", "emg+acc", "emg2", "emg2+acc"} | None
        None: ``"emg+acc"`` (drawn with ``condition="wild"``). Channels: one EMG, a
        tri-axial accelerometer, both, two neighbouring muscles (cross-talk), or two
        muscles and an accelerometer over the first.
    seed : int | None
        Seed of the :class:`numpy.random.Generator`; the same seed gives the same session.
    condition : str | None
        A named condition of :data:`ltr.simulate.SUITE` whose parameters are applied first
        (keyword ``conditions`` still override them), or ``"wild"``: every parameter,
        the length, rate and layout included unless given, drawn from the documented
        ranges of :mod:`ltr.simulate._wild` as a function of ``seed``; the draw is kept in
        ``truth.info["wild"]``.
    return_components : bool
        Also return each additive component (``baseline``, ``twitch``, ``mains``, ...,
        ``acc_*``) as an array of the channels it touches, for tests and teaching.
    **conditions
        Any field of :class:`~ltr.simulate.SimulationConfig` (``snr_db=(0, 10)``,
        ``mains_hz=50``, ``ecg_bpm=(50, 100)`` ...). Unknown names raise TypeError.

    Returns
    -------
    recording : Recording
        EMG in V, acceleration in m/s², annotations ``needle in`` / ``needle out``.
    truth : Truth
        Twitches, confounder intervals, epochs and needle passes.
    components : dict, optional
        Only with ``return_components=True``.

    Notes
    -----
    *Structure.* Needle-in epochs alternate with pauses. While the needle is in, the
    clinician makes passes every ``pass_interval`` s; a Markov chain decides which passes
    are on the trigger point, so twitches come in runs, at ``latency`` after the pass,
    never closer than ``refractory`` s and never overlapping the previous twitch.

    *Twitch in EMG.* A polyphasic burst: 2-8 motor units with Hermite-Rodriguez potentials
    (2-15 ms) firing over a log-normal duration (median 80 ms, 20-300 ms), scaled to the
    drawn SNR over the baseline; successive twitches of an epoch shrink by a per-site
    habituation ratio. On a neighbouring muscle it appears low-passed at -25 to -12 dB.

    *Twitch on the accelerometer.* A damped 8-30 Hz oscillation lasting 50-300 ms,
    10-40 ms after the EMG onset, on a per-site direction, 0.02-1 m/s² (larger for stronger
    twitches), over gravity, slow posture drift, breathing and sensor noise.

    *Confounders* are generated from their own random streams and logged in
    ``truth.confounders`` with their intervals.

    Examples
    --------
    >>> rec, truth = session(duration=60, layout="emg", seed=1, mains_hz=50)
    >>> rec.ch_names, len(truth) > 0
    (('EMG trapezius',), True)
    """
    wild = None
    if condition == "wild":
        from ._wild import wild_draw

        wild = wild_draw(seed)
        duration = wild["duration"] if duration is None else duration
        sfreq = wild["sfreq"] if sfreq is None else sfreq
        layout = wild["layout"] if layout is None else layout
        conditions = {**wild["conditions"], **conditions}
    duration = 120.0 if duration is None else duration
    sfreq = 2000.0 if sfreq is None else sfreq
    layout = "emg+acc" if layout is None else layout
    duration = check_positive("duration", duration)
    if duration < 5:
        raise ValueError(f"duration must be at least 5 s, got {duration!r}")
    sfreq = check_sfreq(sfreq)
    check_option("layout", layout, LAYOUTS)
    names = LAYOUTS[layout]
    emg_names = [c for c in names if c.startswith("EMG")]
    has_acc = any(c.startswith("ACC") for c in names)
    if emg_names and sfreq < 250:
        raise ValueError(f"EMG layouts need sfreq >= 250 Hz, got {sfreq!r}")
    if condition is not None and wild is None:
        from .suite import SUITE

        check_option("condition", condition, [*SUITE, "wild"])
        preset = dict(SUITE[condition].conditions)
        preset.update(conditions)
        conditions = preset
    cfg = SimulationConfig.from_kwargs(**conditions)
    seq = np.random.SeedSequence(seed)
    rngs = dict(zip(_STREAMS, (np.random.default_rng(s) for s in seq.spawn(len(_STREAMS))),
                    strict=True))
    n = round(duration * sfreq)
    b = _Builder(sfreq=sfreq, n=n, emg_names=emg_names, has_acc=has_acc, cfg=cfg)

    quiet: list[tuple[float, float]] = []
    epochs, passes = _schedule(rngs["schedule"], duration, cfg, max(1, len(emg_names)),
                               rngs["quiet_gap"], quiet)
    for q0, q1 in quiet:
        b.mark("quiet_gap", q0, q1, "*", 0.0)
    twitches = _twitches(b, rngs["twitches"], epochs, passes)
    simulated_onsets = np.asarray(twitches["onset"], float)
    _baseline(b, rngs["baseline"])
    _acc_baseline(b, rngs["acc_baseline"])
    _mains(b, rngs["mains"])
    _wander(b, rngs["wander"])
    _needle_spikes(b, rngs["needle_spike"], passes, epochs)
    _pops(b, rngs["pop"])
    _motion(b, rngs["motion"], passes)
    _ecg(b, rngs["ecg"])
    _contractions(b, rngs["contraction"])
    _hand_pressure(b, rngs["hand_pressure"])
    _single_mups(b, rngs["single_mup"])
    ph.endplate_noise(b, rngs["endplate_noise"], epochs)
    ph.endplate_trains(b, rngs["endplate_train"], epochs, simulated_onsets)
    ph.tremor(b, rngs["tremor"], simulated_onsets)
    ph.movement_bursts(b, rngs["movement_burst"], epochs, twitches)
    order = np.argsort(np.asarray(twitches["onset"], float), kind="stable")
    twitches = {k: [v[i] for i in order] for k, v in twitches.items()}

    rows = []
    if emg_names:
        emg = np.zeros((len(emg_names), n))
        for name, comp in b.components.items():
            if not name.startswith("acc"):
                emg += comp
        if cfg.clip_range is not None:
            _clip(b, emg, cfg.clip_range)
        rows.append(emg)
        twitches["local_snr_db"] = list(local_snr(emg, b.components.get("twitch"),
                                                  twitches, emg_names, sfreq))
    else:
        twitches["local_snr_db"] = [np.nan] * len(twitches["onset"])
    if has_acc:
        acc = np.zeros((3, n))
        for name, comp in b.components.items():
            if name.startswith("acc"):
                acc += comp
        rows.append(acc)
    data = np.vstack(rows)

    epoch_names = np.asarray([emg_names[m] if emg_names else "ACC" for m in epochs["muscle"]])
    ann = Annotations(
        np.concatenate([epochs["start"], epochs["stop"]]), 0.0,
        ["needle in"] * epochs["start"].size + ["needle out"] * epochs["stop"].size,
    )
    info = {
        "generator": f"ltr {__version__}", "seed": seed, "layout": layout, "sfreq": sfreq,
        "duration": duration, "channels": list(names), "condition": condition,
        "noise_rms": cfg.noise_rms, "config": cfg.to_dict(),
    }
    if wild is not None:
        info["wild"] = wild
    rec = Recording(data, sfreq, list(names), annotations=ann, meas_date=SIM_MEAS_DATE,
                    meta={"simulated": True, "seed": seed, "layout": layout,
                          "condition": condition})
    conf = sorted(b.confounders, key=lambda r: (r[1], r[0]))
    truth = Truth(
        twitches={k: np.asarray(v, dtype=str if k == "channel" else (int if k == "epoch"
                                                                       else float))
                  for k, v in twitches.items()},
        confounders={
            "kind": np.asarray([c[0] for c in conf], dtype=str),
            "onset": np.asarray([c[1] for c in conf], float),
            "offset": np.asarray([c[2] for c in conf], float),
            "channel": np.asarray([c[3] for c in conf], dtype=str),
            "amplitude": np.asarray([c[4] for c in conf], float),
        },
        epochs={"start": epochs["start"], "stop": epochs["stop"], "muscle": epoch_names},
        passes=passes, info=info,
    )
    if return_components:
        return rec, truth, b.components
    return rec, truth


#: The band in which :func:`local_snr` compares a twitch with everything else: the
#: detector's default EMG band (``EmgConfig.band``).
LOCAL_SNR_BAND = (20.0, 450.0)


def local_snr(emg: np.ndarray, twitch: np.ndarray | None, twitches: dict[str, list],
              names: list[str], sfreq: float) -> np.ndarray:
    """Each twitch's RMS over the RMS of everything else on its channel (baseline noise
    and every confounder), both band-passed to :data:`LOCAL_SNR_BAND`, over the twitch's
    span, dB: how far the twitch stands out of what a reader of the trace sees around
    it (``snr_db`` compares it with the white baseline noise alone). NaN without EMG."""
    from ..preprocess import bandpass

    on = np.asarray(twitches["onset"], float)
    out = np.full(on.size, np.nan)
    if twitch is None or on.size == 0:
        return out
    off = np.asarray(twitches["offset"], float)
    band = (LOCAL_SNR_BAND[0], min(LOCAL_SNR_BAND[1], 0.45 * sfreq))
    pad = int(0.5 * sfreq)
    n = emg.shape[1]
    for i in range(on.size):  # a loop over twitches: a short stretch filtered each
        ch = names.index(twitches["channel"][i]) if twitches["channel"][i] in names else 0
        a, z = max(0, int(on[i] * sfreq) - pad), min(n, int(off[i] * sfreq) + 1 + pad)
        tw = twitch[ch, a:z]
        rest = emg[ch, a:z] - tw
        if tw.size < 4 * pad // 5:
            continue
        both = bandpass(np.vstack([tw, rest]), sfreq, band)[0]
        lo, hi = int(on[i] * sfreq) - a, int(off[i] * sfreq) + 1 - a
        p_tw = np.mean(both[0, lo:hi] ** 2)
        p_rest = np.mean(both[1, lo:hi] ** 2)
        if p_tw > 0 and p_rest > 0:
            out[i] = 10 * np.log10(p_tw / p_rest)
    return out


def _clip(b: _Builder, emg: np.ndarray, limit: float) -> None:
    """Clip EMG at the amplifier range and log each clipped stretch (gaps < 10 ms merged)."""
    for ch, name in enumerate(b.emg_names):
        over = np.abs(emg[ch]) >= limit
        if not over.any():
            continue
        x = np.where(over, np.nan, 0.0)
        starts, lengths = nan_runs(x)
        stops = starts + lengths
        gap = int(0.01 * b.sfreq)
        keep = np.r_[True, starts[1:] - stops[:-1] > gap]
        run_starts = starts[keep]
        run_stops = np.r_[stops[np.flatnonzero(keep)[1:] - 1], stops[-1]]
        for s, e in zip(run_starts, run_stops, strict=True):
            b.mark("clipping", s / b.sfreq, e / b.sfreq, name, limit)
    np.clip(emg, -limit, limit, out=emg)
