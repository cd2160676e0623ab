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
from ._phenomena import bandpass
from .config import SimulationConfig
from .truth import TWITCH_COLUMNS, Truth

#: Length of the windows the quiet test is made on, s.
QUIET_WINDOW = 0.25


def quiet_stretches(x: np.ndarray, sfreq: float, *, factor: float = 2.0,
                    min_length: float = 2.0, margin: float = 0.25) -> np.ndarray:
    """Stretches of a channel with no activity above its resting level.

    The channel is band-passed (20-450 Hz, upper edge capped at 0.45 × sfreq) and cut
    into 0.25-s windows; a window is quiet when its RMS is at most ``factor`` times the
    10th percentile of all windows' RMS. Runs of quiet windows, shortened by ``margin``
    at each end and at least ``min_length`` s long after that, are returned.

    Returns
    -------
    ndarray, shape (n, 2)
        Start and stop of each stretch, s.
    """
    w = max(1, round(QUIET_WINDOW * sfreq))
    y = bandpass(np.asarray(x, float), sfreq)
    m = y.size // w
    if m < 2:
        return np.zeros((0, 2))
    rms = np.sqrt(np.mean(y[: m * w].reshape(m, w) ** 2, axis=1))
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
    quiet_factor: float = 2.0,
    min_quiet: float = 2.0,
    **twitch: Any,
) -> tuple[Recording, Truth]:
    """Insert simulated twitches into the quiet stretches of a real recording.

    Parameters
    ----------
    recording : Recording
        A real recording with at least one EMG channel.
    channel : str | None
        The EMG channel to use (default: the first EMG channel). The hybrid recording
        holds this channel only, so that activity on others cannot be scored.
    snr_db : (float, float)
        SNR of each twitch, drawn uniformly: 20·log10 of the RMS of the band-passed
        (20-450 Hz, capped at 0.45 × sfreq) twitch over [onset, offset] over the RMS of
        the band-passed real signal in the 1 s centred on the onset.
    rate : float
        Twitches per minute of quiet recording (Poisson), kept 0.4 s apart (onset to the
        previous offset) and 0.3 s inside their stretch.
    seed : int | None
        Seed: the same recording, channel and seed give the same session.
    quiet_factor, min_quiet : float
        Quiet stretches (see :func:`quiet_stretches`): windows at most ``quiet_factor``
        times the 10th-percentile window RMS, runs at least ``min_quiet`` s long.
    **twitch
        Twitch-shape fields of :class:`SimulationConfig` (``duration_median``,
        ``n_units``, ``muap_duration`` ...).

    Returns
    -------
    recording : Recording
        The chosen channel with the twitches added, same rate, unit and start time.
    truth : Truth
        The twitches (columns as for simulated sessions; ``snr_db`` as defined above),
        the quiet stretches as ``epochs`` (detections outside them fall on real activity
        of unknown nature and should not be scored), no confounders (whatever the real
        signal holds is unlabelled), and in ``info["hybrid"]`` the source, channel,
        stretches and local noise levels.

    Raises
    ------
    ValueError
        If the recording has no EMG channel, ``channel`` is not one, or no quiet
        stretch of ``min_quiet`` s exists.
    """
    check_positive("rate", rate, allow_zero=True)
    src = str(recording.meta.get("source", recording.meta.get("path", "recording")))
    emg = [n for n, k in zip(recording.ch_names, recording.ch_kinds, strict=True)
           if k == "emg"]
    if channel is None:
        if not emg:
            raise ValueError(f"{src}: no EMG channel to insert twitches into; channels "
                             f"{list(recording.ch_names)}")
        channel = emg[0]
    elif channel not in recording.ch_names:
        raise ValueError(f"{src}: no channel {channel!r}; channels "
                         f"{list(recording.ch_names)}")
    cfg = SimulationConfig.from_kwargs(snr_db=tuple(snr_db), **twitch)
    sfreq = recording.sfreq
    x = recording.get_data(picks=[channel])[0].astype(float)
    stretches = quiet_stretches(x, sfreq, factor=quiet_factor, min_length=min_quiet)
    if stretches.shape[0] == 0:
        raise ValueError(f"{src}: channel {channel!r} has no quiet stretch of "
                         f"{min_quiet:g} s to insert twitches into")
    rng = np.random.default_rng(seed)
    y = bandpass(x, sfreq)
    out = x.copy()
    rows: dict[str, list[Any]] = {k: [] for k in TWITCH_COLUMNS}
    local_levels = []
    for k, (s, e) in enumerate(stretches):  # a loop over stretches and their twitches
        count = int(rng.poisson(rate * (e - s) / 60.0))
        times = np.sort(rng.uniform(s + 0.3, max(s + 0.3, e - 0.3 - 0.3), count))
        last_off = -np.inf
        for t in times:
            dur = float(np.clip(rng.lognormal(np.log(cfg.duration_median), cfg.duration_sigma),
                                *cfg.duration_range))
            snr = rng.uniform(*cfg.snr_db)
            brng = np.random.default_rng(rng.integers(1 << 62))
            wave, i_on, i_off = wf.twitch_burst(brng, dur, sfreq, cfg)
            start = round(t * sfreq) - i_on
            off_t = (start + i_off) / sfreq
            if t < last_off + 0.4 or off_t > e - 0.05 or start < 0 or start + wave.size > x.size:
                continue
            a, b = round((t - 0.5) * sfreq), round((t + 0.5) * sfreq)
            local = float(np.sqrt(np.mean(y[max(a, 0):b] ** 2)))
            pad = round(0.2 * sfreq)
            bp = bandpass(np.r_[np.zeros(pad), wave, np.zeros(pad)], sfreq)[pad:pad + wave.size]
            scale = 10 ** (snr / 20) * local / np.sqrt(np.mean(bp[i_on:i_off + 1] ** 2))
            wave = wave * scale
            wf.add_at(out, wave, start)
            last_off = off_t
            local_levels.append(local)
            peak_i = int(np.argmax(np.abs(wave)))
            row = {"onset": t, "offset": off_t, "peak_time": (start + peak_i) / sfreq,
                   "amplitude": float(np.abs(wave).max()),
                   "rms": float(np.sqrt(np.mean(wave[i_on:i_off + 1] ** 2))),
                   "snr_db": float(snr), "channel": channel, "acc_onset": np.nan,
                   "acc_amplitude": np.nan, "crosstalk_db": np.nan, "epoch": k}
            for c in rows:
                rows[c].append(row[c])
    idx = list(recording.ch_names).index(channel)
    unit = recording.units[idx] if getattr(recording, "units", None) else None
    rec = Recording(out[np.newaxis], sfreq, [channel], ["emg"],
                    units=[unit] if unit else None,
                    annotations=Annotations(
                        np.r_[stretches[:, 0], stretches[:, 1]], 0.0,
                        ["needle in"] * len(stretches) + ["needle out"] * len(stretches)),
                    meas_date=getattr(recording, "meas_date", None),
                    meta={"hybrid": True, "source": src, "seed": seed})
    duration = x.size / sfreq
    noise = float(np.median(local_levels)) if local_levels else float(
        np.sqrt(np.mean(y ** 2)))
    info = {
        "generator": f"ltr {__version__}", "seed": seed, "layout": "hybrid",
        "sfreq": sfreq, "duration": duration, "channels": [channel], "condition": "hybrid",
        "noise_rms": noise, "config": cfg.to_dict(),
        "hybrid": {"source": src, "channel": channel, "quiet": stretches.tolist(),
                   "local_noise_rms": local_levels, "quiet_factor": quiet_factor,
                   "snr_definition": "band-passed twitch RMS over [onset, offset] / "
                                     "band-passed real RMS over onset ± 0.5 s"},
    }
    empty = np.zeros(0)
    truth = Truth(
        twitches={k: np.asarray(v, dtype=str if k == "channel" else (
            int if k == "epoch" else float)) for k, v in rows.items()},
        confounders={"kind": np.zeros(0, str), "onset": empty, "offset": empty,
                     "channel": np.zeros(0, str), "amplitude": empty},
        epochs={"start": stretches[:, 0].copy(), "stop": stretches[:, 1].copy(),
                "muscle": np.asarray([channel] * len(stretches))},
        passes={"time": empty, "epoch": np.zeros(0, int), "on_target": np.zeros(0, bool)},
        info=info,
    )
    return rec, truth


def inside_epochs(onsets: Any, truth: Truth) -> np.ndarray:
    """Mask of onsets inside the truth's epochs (a hybrid's quiet stretches)."""
    t = np.asarray(onsets, float)
    s, e = truth.epochs["start"], truth.epochs["stop"]
    return ((t[:, None] >= s[None, :]) & (t[:, None] <= e[None, :])).any(axis=1)
