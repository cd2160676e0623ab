"""Figures. matplotlib is imported inside each function; each returns its Figure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .recording import Recording

if TYPE_CHECKING:
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
    bins = max_points // 2
    n = (x.size // bins) * bins
    xb = x[:n].reshape(bins, -1)
    tb = t[:n].reshape(bins, -1)
    lo, hi = xb.argmin(1), xb.argmax(1)
    first = np.minimum(lo, hi)
    second = np.maximum(lo, hi)
    rows = np.arange(bins)
    tt = np.column_stack([tb[rows, first], tb[rows, second]]).ravel()
    xx = np.column_stack([xb[rows, first], xb[rows, second]]).ravel()
    return tt, xx
