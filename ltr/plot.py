"""Figures. matplotlib is imported inside each function; each returns its Figure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .recording import Recording

if TYPE_CHECKING:
    from .results import TwitchResults
    from .simulate.truth import Truth

_CONFOUNDER_COLORS = {
    "needle_spike": "tab:red", "pop": "tab:purple", "motion": "tab:brown", "ecg": "tab:pink",
    "contraction": "tab:orange", "hand_pressure": "tab:olive", "single_mup": "tab:cyan",
    "clipping": "black",
}


def _pyplot() -> Any:
    try:
        import matplotlib

        if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "png", "cairo"):
            import os

            if not os.environ.get("DISPLAY"):
                matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'ltr[plot]'") from err
    return plt


def plot_session(
    recording: Recording,
    truth: Truth | None = None,
    *,
    tmin: float = 0.0,
    tmax: float | None = None,
    picks: Any = None,
    max_points: int = 20000,
) -> Any:
    """Plot a recording's channels with needling epochs, true twitches and confounders.

    Parameters
    ----------
    recording : Recording
    truth : Truth | None
        Ground truth of a simulated session: twitches are shaded green, confounders marked
        in their colour with their kind, epochs drawn as grey bands.
    tmin, tmax : float
        Time window in seconds (default: the whole recording).
    picks : str | list | None
        Channels to show (default: all EMG and acceleration channels).
    max_points : int
        Samples drawn per trace at most (min/max decimation keeps peaks visible).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    if tmax is None:
        tmax = recording.duration
    if picks is None:
        picks = [i for i, k in enumerate(recording.ch_kinds) if k in ("emg", "acc")] or None
    rec = recording.pick(picks) if picks is not None else recording
    start, stop = int(tmin * rec.sfreq), int(min(tmax, rec.duration) * rec.sfreq)
    data = rec.get_data(start, stop)
    t = (np.arange(start, stop)) / rec.sfreq
    fig, axes = plt.subplots(rec.n_channels, 1, sharex=True, squeeze=False,
                             figsize=(14, 1.8 + 1.6 * rec.n_channels))
    for i, ax in enumerate(axes[:, 0]):
        x = data[i]
        scale, unit = (1e6, "µV") if rec.units[i] == "V" else (1.0, rec.units[i] or "a.u.")
        tt, xx = _decimate_minmax(t, x * scale, max_points)
        ax.plot(tt, xx, lw=0.5, color="0.15")
        ax.set_ylabel(f"{rec.ch_names[i]}\n[{unit}]", fontsize=8)
        ax.margins(x=0)
        for onset, _dur, desc in recording.annotations:
            if tmin <= onset <= tmax:
                ax.axvline(onset, color="tab:blue", lw=0.8, ls="--")
                if i == 0:
                    ax.text(onset, 1.0, f" {desc}", transform=ax.get_xaxis_transform(),
                            fontsize=7, color="tab:blue", va="bottom")
        if truth is None:
            continue
        for s, e in zip(truth.epochs["start"], truth.epochs["stop"], strict=True):
            if e >= tmin and s <= tmax:
                ax.axvspan(max(s, tmin), min(e, tmax), color="0.9", zorder=-2)
        on, off = truth.twitches["onset"], truth.twitches["offset"]
        for s, e in zip(on, off, strict=True):
            if e >= tmin and s <= tmax:
                ax.axvspan(s, e, color="tab:green", alpha=0.35, zorder=-1, lw=0)
        cf = truth.confounders
        for kind, s, e in zip(cf["kind"], cf["onset"], cf["offset"], strict=True):
            if kind not in _CONFOUNDER_COLORS or e < tmin or s > tmax:
                continue
            ax.axvspan(s, max(e, s + 0.004), color=_CONFOUNDER_COLORS[kind], alpha=0.3, lw=0)
            if i == 0:
                ax.text(s, 0.02, kind, transform=ax.get_xaxis_transform(), fontsize=6,
                        rotation=90, color=_CONFOUNDER_COLORS[kind])
    axes[-1, 0].set_xlim(tmin, min(tmax, rec.duration))
    axes[-1, 0].set_xlabel("time [s]")
    title = str(recording.meta.get("source", "")) or "recording"
    if truth is not None:
        title = (f"simulated session (layout {truth.info.get('layout')}, seed "
                 f"{truth.info.get('seed')}, condition {truth.info.get('condition')}): "
                 f"green = true twitches, grey = needle in")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _decimate_minmax(t: np.ndarray, x: np.ndarray, max_points: int) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """Keep each bin's min and max so spikes stay visible when plotting long traces."""
    if x.size <= max_points:
        return t, x
    step = -(-x.size // (max_points // 2))
    m = -(-x.size // step) * step
    xb = np.pad(x, (0, m - x.size), mode="edge").reshape(-1, step)
    tb = np.pad(t, (0, m - t.size), mode="edge").reshape(-1, step)
    lo, hi = xb.argmin(1), xb.argmax(1)
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)
    rows = np.arange(xb.shape[0])
    tt = np.column_stack([tb[rows, first], tb[rows, second]]).ravel()
    xx = np.column_stack([xb[rows, first], xb[rows, second]]).ravel()
    return tt, xx


_REASON_COLORS = {"needle_spike": "tab:red", "pop": "tab:purple", "motion": "tab:brown",
                  "ecg": "tab:pink", "single_mup": "tab:cyan", "clipping": "black",
                  "movement": "tab:olive"}


def plot_detections(
    recording: Recording,
    results: TwitchResults,
    *,
    tmin: float = 0.0,
    tmax: float | None = None,
    conditioned: bool = True,
    max_points: int = 20000,
) -> Any:
    """Plot the analysed channels with what the detector decided.

    Twitches are shaded green (darker = more confident), rejected look-alikes red-ish and
    labelled with their reason, sustained contractions orange, needle-in epochs grey.

    Parameters
    ----------
    recording : Recording
        The recording that was analysed.
    results : TwitchResults
        What :func:`ltr.detect` returned for it.
    tmin, tmax : float
        Time window, s.
    conditioned : bool
        Show EMG band-passed with the detector's band (default) rather than raw, and
        accelerometers with gravity removed (0.5 Hz high-pass), so the twitches are visible.
    max_points : int
        Samples drawn per trace at most.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .preprocess import bandpass, highpass, remove_mains

    plt = _pyplot()
    if tmax is None:
        tmax = recording.duration
    names = list(results.meta.get("emg", [])) + list(results.meta.get("acc", []))
    rec = recording.pick(names)
    sensor_of = {ch: s for s, chs in results.meta.get("sensors", {}).items() for ch in chs}
    start, stop = int(tmin * rec.sfreq), int(min(tmax, rec.duration) * rec.sfreq)
    pad = int(min(start, 2 * rec.sfreq))
    data = rec.get_data(start - pad, stop)
    t = np.arange(start, stop) / rec.sfreq
    fig, axes = plt.subplots(rec.n_channels, 1, sharex=True, squeeze=False,
                             figsize=(14, 1.8 + 1.6 * rec.n_channels))
    for i, ax in enumerate(axes[:, 0]):
        name, x = rec.ch_names[i], data[i]
        if conditioned and rec.ch_kinds[i] == "emg":
            mains = results.processing.get(name, {})
            if mains.get("mains_hz"):
                x = remove_mains(x, rec.sfreq, mains["mains_hz"], mains["mains_harmonics"])
            x, _ = bandpass(x, rec.sfreq, tuple(results.config.emg.band))
        elif conditioned and rec.sfreq > 2:
            x = highpass(x, rec.sfreq, 0.5, 2)
        x = x[pad:]
        scale, unit = (1e6, "µV") if rec.units[i] == "V" else (1.0, rec.units[i] or "a.u.")
        tt, xx = _decimate_minmax(t, x * scale, max_points)
        ax.plot(tt, xx, lw=0.5, color="0.15")
        ax.set_ylabel(f"{name}\n[{unit}]", fontsize=8)
        for s0, e0 in zip(results.epochs.start, results.epochs.stop, strict=True):
            if e0 >= tmin and s0 <= tmax:
                ax.axvspan(max(s0, tmin), min(e0, tmax), color="0.92", zorder=-3)
        own = {name, sensor_of.get(name, name)}
        ev = results.events
        for k in range(len(results)):
            if ev["offset"][k] < tmin or ev["onset"][k] > tmax:
                continue
            seen = set(str(ev["channels"][k]).split(","))
            alpha = 0.2 + 0.4 * float(ev["confidence"][k]) if seen & own else 0.08
            ax.axvspan(ev["onset"][k], ev["offset"][k], color="tab:green", alpha=alpha, lw=0)
        rj = results.rejected
        for k in range(rj["onset"].size):
            if rj["channel"][k] not in own or rj["offset"][k] < tmin or rj["onset"][k] > tmax:
                continue
            color = _REASON_COLORS.get(str(rj["reason"][k]), "tab:red")
            ax.axvspan(rj["onset"][k], max(rj["offset"][k], rj["onset"][k] + 0.004),
                       color=color, alpha=0.3, lw=0)
            ax.text(rj["onset"][k], 0.98, str(rj["reason"][k]), fontsize=6, rotation=90,
                    va="top", color=color, transform=ax.get_xaxis_transform())
        ct = results.contractions
        for k in range(ct["onset"].size):
            if ct["channel"][k] in own and ct["offset"][k] >= tmin and ct["onset"][k] <= tmax:
                ax.axvspan(ct["onset"][k], ct["offset"][k], color="tab:orange", alpha=0.25,
                           lw=0)
        ax.margins(x=0)
    axes[-1, 0].set_xlim(tmin, min(tmax, rec.duration))
    axes[-1, 0].set_xlabel("time [s]")
    source = results.source or str(recording.meta.get("source", "recording"))
    fig.suptitle(f"{source}: {len(results)} twitches (green), rejected look-alikes "
                 "labelled, contractions orange, needle-in epochs grey", fontsize=10)
    fig.tight_layout()
    return fig
