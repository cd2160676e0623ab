"""Hybrid sessions: simulated twitches inserted into the quiet stretches of a real recording.

The baseline, drift, mains, heartbeats and motor units of a hybrid session are real: only
the twitches are simulated, at known times and at SNRs relative to the noise measured
around each of them. Part of the truth thus sits on noise that no simulator made.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import check_positive
from .._version import __version__
from ..annotations import Annotations
from ..recording import Recording
from . import _waveforms as wf
from ._phenomena import ACC_BAND, ANALYSIS_BAND, bandpass
from .config import SimulationConfig
from .truth import TWITCH_COLUMNS, Truth

#: Length of the windows the quiet test is made on, s.
QUIET_WINDOW = 0.25


def quiet_stretches(x: np.ndarray, sfreq: float, *, factor: float = 2.0,
                    min_length: float = 2.0, margin: float = 0.25,
                    band: tuple[float, float] = ANALYSIS_BAND) -> np.ndarray:
    """Stretches of a channel (or of the axes of a sensor) with no activity above its
    resting level.

    The channel (rows of ``x``: axes, summed in power) is band-passed (``band``, default
    20-450 Hz, upper edge capped at 0.45 × sfreq) and cut into 0.25-s windows; a window
    is quiet when its RMS is at most ``factor`` times the 10th percentile of all
    windows' RMS. Runs of quiet windows, shortened by ``margin``
    at each end and at least ``min_length`` s long after that, are returned.

    Returns
    -------
    ndarray, shape (n, 2)
        Start and stop of each stretch, s.
    """
    w = max(1, round(QUIET_WINDOW * sfreq))
    y = np.atleast_2d(bandpass(np.asarray(x, float), sfreq, band))
    m = y.shape[-1] // w
    if m < 2:
        return np.zeros((0, 2))
    rms = np.sqrt(np.sum(np.mean(y[:, : m * w].reshape(y.shape[0], m, w) ** 2, axis=2), 0))
    quiet = rms <= factor * np.percentile(rms, 10)
    edges = np.diff(np.r_[0, quiet.astype(int), 0])
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = np.column_stack([starts * w / sfreq + margin, stops * w / sfreq - margin])
    return out[out[:, 1] - out[:, 0] >= min_length]


def hybrid(
    recording: Recording,
    channel: str | None = None,
    *,
    snr_db: tuple[float, float] = (0.0, 20.0),
    rate: float = 20.0,
    seed: int | None = 0,
    quiet_factor: float | None = 2.0,
    min_quiet: float = 2.0,
    **twitch: Any,
) -> tuple[Recording, Truth]:
    """Insert simulated twitches into the quiet stretches of a real recording.

    Parameters
    ----------
    recording : Recording
        A real recording with an EMG channel, or (without one) a tri-axial accelerometer.
    channel : str | None
        The EMG channel to use (default: the first EMG channel; without EMG, the first
        three accelerometer channels). The hybrid recording holds this channel (or these
        axes) only, so that activity on others cannot be scored.
    snr_db : (float, float)
        SNR of each twitch, drawn uniformly: 20·log10 of the RMS of the band-passed
        twitch over [onset, offset] over the RMS of the band-passed real signal in the
        1 s centred on the onset. Bands: 20-450 Hz for EMG, 5-50 Hz for acceleration
        (vector RMS over the axes), upper edges capped at 0.45 × sfreq.
    rate : float
        Twitches per minute of quiet recording (Poisson), kept 0.4 s apart (onset to the
        previous offset) and 0.3 s inside their stretch.
    seed : int | None
        Seed: the same recording, channel and seed give the same session.
    quiet_factor : float | None
        Quiet stretches (see :func:`quiet_stretches`): windows at most ``quiet_factor``
        times the 10th-percentile window RMS, runs at least ``min_quiet`` s long. None:
        the whole recording is one stretch (twitches on whatever it holds, e.g. tremor).
    min_quiet : float
        Shortest quiet stretch, s.
    **twitch
        Twitch-shape fields of :class:`SimulationConfig` (``duration_median``,
        ``n_units``, ``muap_duration``, ``acc_freq``, ``acc_duration`` ...).

    Returns
    -------
    recording : Recording
        The chosen channel(s) with the twitches added, same rate, unit and start time.
    truth : Truth
        The twitches (columns as for simulated sessions; ``snr_db`` as defined above;
        on an accelerometer the onset is the jolt's, as in accelerometer-only sessions),
        the quiet stretches as ``epochs`` (detections outside them fall on real activity
        of unknown nature and should not be scored), no confounders (whatever the real
        signal holds is unlabelled), and in ``info["hybrid"]`` the source, channel,
        stretches and local noise levels.

    Raises
    ------
    ValueError
        If the recording has neither an EMG channel nor three accelerometer channels,
        ``channel`` is not one of its channels, or no quiet stretch of ``min_quiet`` s
        exists.
    """
    check_positive("rate", rate, allow_zero=True)
    src = str(recording.meta.get("source", recording.meta.get("path", "recording")))
    kinds = dict(zip(recording.ch_names, recording.ch_kinds, strict=True))
    emg = [n for n, k in kinds.items() if k == "emg"]
    acc = [n for n, k in kinds.items() if k == "acc"][:3]
    if channel is not None and channel not in kinds:
        raise ValueError(f"{src}: no channel {channel!r}; channels "
                         f"{list(recording.ch_names)}")
    if channel is None and not emg and len(acc) < 3:
        raise ValueError(f"{src}: no EMG channel and no tri-axial accelerometer to insert "
                         f"twitches into; channels {list(recording.ch_names)}")
    is_acc = channel is None and not emg
    names = acc if is_acc else [channel or emg[0]]
    band = ACC_BAND if is_acc else ANALYSIS_BAND
    what = "accelerometer " + "/".join(names) if is_acc else f"channel {names[0]!r}"
    cfg = SimulationConfig.from_kwargs(snr_db=tuple(snr_db), **twitch)
    sfreq = recording.sfreq
    x = np.asarray(recording.get_data(picks=names), float)
    duration = x.shape[1] / sfreq
    if quiet_factor is None:
        stretches = np.asarray([[0.25, duration - 0.25]]) if duration > 0.5 + min_quiet \
            else np.zeros((0, 2))
    else:
        stretches = quiet_stretches(x, sfreq, factor=quiet_factor, min_length=min_quiet,
                                    band=band)
    if stretches.shape[0] == 0:
        raise ValueError(f"{src}: {what} has no quiet stretch of {min_quiet:g} s to insert "
                         "twitches into")
    rng = np.random.default_rng(seed)
    y = bandpass(x, sfreq, band)
    out = x.copy()
    rows: dict[str, list[Any]] = {k: [] for k in TWITCH_COLUMNS}
    local_levels = []
    pad = round(0.2 * sfreq)
    for k, (s, e) in enumerate(stretches):  # a loop over stretches and their twitches
        count = int(rng.poisson(rate * (e - s) / 60.0))
        times = np.sort(rng.uniform(s + 0.3, max(s + 0.3, e - 0.3 - 0.3), count))
        last_off = -np.inf
        for t in times:
            dur = float(np.clip(rng.lognormal(np.log(cfg.duration_median), cfg.duration_sigma),
                                *cfg.duration_range))
            snr = rng.uniform(*cfg.snr_db)
            brng = np.random.default_rng(rng.integers(1 << 62))
            if is_acc:
                jolt, _ = wf.acc_jolt(brng, sfreq, cfg)
                d = brng.standard_normal(3)
                d /= np.linalg.norm(d)
                wave, i_on, i_off = d[:, None] * jolt[None, :], 0, jolt.size - 1
            else:
                burst, i_on, i_off = wf.twitch_burst(brng, dur, sfreq, cfg)
                wave = burst[None, :]
            start = round(t * sfreq) - i_on
            off_t = (start + i_off) / sfreq
            if (t < last_off + 0.4 or off_t > e - 0.05 or start < 0
                    or start + wave.shape[1] > x.shape[1]):
                continue
            a, b = round((t - 0.5) * sfreq), round((t + 0.5) * sfreq)
            local = float(np.sqrt(np.sum(np.mean(y[:, max(a, 0):b] ** 2, axis=1))))
            padded = np.pad(wave, ((0, 0), (pad, pad)))
            bp = bandpass(padded, sfreq, band)[:, pad:pad + wave.shape[1]]
            bp_rms = np.sqrt(np.sum(np.mean(bp[:, i_on:i_off + 1] ** 2, axis=1)))
            wave = wave * (10 ** (snr / 20) * local / bp_rms)
            for r in range(wave.shape[0]):
                wf.add_at(out[r], wave[r], start)
            last_off = off_t
            local_levels.append(local)
            mag = np.sqrt(np.sum(wave ** 2, axis=0))
            peak_i = int(np.argmax(mag))
            row = {"onset": t, "offset": off_t, "peak_time": (start + peak_i) / sfreq,
                   "amplitude": np.nan if is_acc else float(mag.max()),
                   "rms": np.nan if is_acc else float(np.sqrt(np.mean(
                       wave[0, i_on:i_off + 1] ** 2))),
                   "snr_db": float(snr), "channel": "" if is_acc else names[0],
                   "acc_onset": t if is_acc else np.nan,
                   "acc_amplitude": float(mag.max()) if is_acc else np.nan,
                   "crosstalk_db": np.nan, "epoch": k, "local_snr_db": np.nan}
            for c in rows:
                rows[c].append(row[c])
    units = [recording.units[list(recording.ch_names).index(n)] for n in names]
    rec = Recording(out, sfreq, names, ["acc" if is_acc else "emg"] * len(names),
                    units=units if all(units) else None,
                    annotations=Annotations(
                        np.r_[stretches[:, 0], stretches[:, 1]], 0.0,
                        ["needle in"] * len(stretches) + ["needle out"] * len(stretches)),
                    meas_date=getattr(recording, "meas_date", None),
                    meta={"hybrid": True, "source": src, "seed": seed})
    noise = float(np.median(local_levels)) if local_levels else float(
        np.sqrt(np.sum(np.mean(y ** 2, axis=1))))
    info = {
        "generator": f"ltr {__version__}", "seed": seed, "layout": "hybrid",
        "sfreq": sfreq, "duration": duration, "channels": list(names),
        "ch_kinds": list(rec.ch_kinds),
        "condition": "hybrid", "noise_rms": noise, "config": cfg.to_dict(),
        "hybrid": {"source": src, "channel": names[0] if not is_acc else list(names),
                   "quiet": stretches.tolist(), "local_noise_rms": local_levels,
                   "quiet_factor": quiet_factor, "band_hz": list(band),
                   "snr_definition": "band-passed twitch RMS over [onset, offset] / "
                                     "band-passed real RMS over onset ± 0.5 s"},
    }
    empty = np.zeros(0)
    muscle = "ACC" if is_acc else names[0]
    truth = Truth(
        twitches={k: np.asarray(v, dtype=str if k == "channel" else (
            int if k == "epoch" else float)) for k, v in rows.items()},
        confounders={"kind": np.zeros(0, str), "onset": empty, "offset": empty,
                     "channel": np.zeros(0, str), "amplitude": empty},
        epochs={"start": stretches[:, 0].copy(), "stop": stretches[:, 1].copy(),
                "muscle": np.asarray([muscle] * len(stretches))},
        passes={"time": empty, "epoch": np.zeros(0, int), "on_target": np.zeros(0, bool)},
        info=info,
    )
    return rec, truth


def inside_epochs(onsets: Any, truth: Truth) -> np.ndarray:
    """Mask of onsets inside the truth's epochs (a hybrid's quiet stretches)."""
    t = np.asarray(onsets, float)
    s, e = truth.epochs["start"], truth.epochs["stop"]
    return ((t[:, None] >= s[None, :]) & (t[:, None] <= e[None, :])).any(axis=1)
