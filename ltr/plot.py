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
        _shade_results(ax, results, {name, sensor_of.get(name, name)}, tmin, tmax)
        ax.margins(x=0)
    axes[-1, 0].set_xlim(tmin, min(tmax, rec.duration))
    axes[-1, 0].set_xlabel("time [s]")
    source = results.source or str(recording.meta.get("source", "recording"))
    fig.suptitle(f"{source}: {len(results)} twitches (green), rejected look-alikes "
                 "labelled, contractions orange, needle-in epochs grey", fontsize=10)
    fig.tight_layout()
    return fig


def _shade_results(ax: Any, results: Any, own: set[str], tmin: float, tmax: float) -> None:
    """Twitches green (by confidence), rejected look-alikes by reason, contractions orange."""
    for s0, e0 in zip(results.epochs.start, results.epochs.stop, strict=True):
        if e0 >= tmin and s0 <= tmax:
            ax.axvspan(max(s0, tmin), min(e0, tmax), color="0.93", zorder=-3)
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
        ax.axvspan(rj["onset"][k], max(rj["offset"][k], rj["onset"][k] + 0.004), color=color,
                   alpha=0.3, lw=0)
        ax.text(rj["onset"][k], 0.98, str(rj["reason"][k]), fontsize=6, rotation=90,
                va="top", color=color, transform=ax.get_xaxis_transform())
    ct = results.contractions
    for k in range(ct["onset"].size):
        if ct["channel"][k] in own and ct["offset"][k] >= tmin and ct["onset"][k] <= tmax:
            ax.axvspan(ct["onset"][k], ct["offset"][k], color="tab:orange", alpha=0.25, lw=0)


def plot_overview(
    recording: Recording,
    results: TwitchResults,
    *,
    tmin: float = 0.0,
    tmax: float | None = None,
    max_points: int = 20000,
) -> Any:
    """Raw and conditioned traces, envelope, noise floor and thresholds, with the decisions.

    For every analysed EMG channel and accelerometer sensor: the conditioned signal over
    the raw one (grey, centred), then the detection envelope with its running noise
    floor and the on/off thresholds (log scale). Twitches are shaded green (darker =
    more confident), rejected look-alikes labelled with their reason, contractions
    orange, needle-in epochs grey.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .detect import traces as detector_traces

    plt = _pyplot()
    if tmax is None:
        tmax = recording.duration
    tr = detector_traces(recording, results.config, tmin=tmin, tmax=tmax,
                         emg=results.meta.get("emg"), acc=results.meta.get("acc"))
    sensors = results.meta.get("sensors", {})
    fig, axes = plt.subplots(2 * len(tr), 1, sharex=True, squeeze=False,
                             figsize=(14, 1.5 + 2.6 * len(tr)),
                             gridspec_kw={"height_ratios": [3, 2] * len(tr)})
    for j, (name, d) in enumerate(tr.items()):
        ax, ax_env = axes[2 * j, 0], axes[2 * j + 1, 0]
        emg = name in results.meta.get("emg", [])
        members = sensors.get(name, [name])
        unit = recording.units[recording.ch_names.index(members[0])]
        scale, unit = (1e6, "µV") if unit == "V" else (1.0, unit or "a.u.")
        raw = recording.get_data(round(tmin * recording.sfreq),
                                 round(tmin * recording.sfreq) + d["time"].size,
                                 picks=members)
        raw = raw - np.nanmedian(raw, axis=1, keepdims=True)
        raw_view = raw[0] if emg else np.linalg.norm(raw, axis=0)
        t = d["time"][: raw_view.size]
        tt, rr = _decimate_minmax(t, raw_view * scale, max_points)
        ax.plot(tt, rr, lw=0.4, color="0.7", label="raw (centred)")
        tt, xx = _decimate_minmax(d["time"], d["conditioned"] * scale, max_points)
        ax.plot(tt, xx, lw=0.5, color="0.1", label="conditioned")
        lim = np.nanpercentile(np.abs(d["conditioned"] * scale), 99.9) * 1.6 + 1e-30
        ax.set_ylim(-lim if emg else -0.05 * lim, lim)
        ax.set_ylabel(f"{name}\n[{unit}]", fontsize=8)
        ax.legend(loc="upper right", fontsize=6, framealpha=0.6)
        _shade_results(ax, results, {name, *members}, tmin, tmax)
        tt, ee = _decimate_minmax(d["time"], d["envelope"] * scale, max_points)
        ax_env.semilogy(tt, np.maximum(ee, 1e-30), lw=0.5, color="tab:blue", label="envelope")
        for key, style, label in (("floor", "-", "noise floor"), ("on", "--", "on threshold"),
                                  ("off", ":", "off threshold")):
            ax_env.semilogy(d["time"], d[key] * scale, style, lw=0.9, color="tab:red",
                            label=label)
        ax_env.set_ylabel("envelope", fontsize=8)
        ax_env.legend(loc="upper right", fontsize=6, ncol=4, framealpha=0.6)
        _shade_results(ax_env, results, {name, *members}, tmin, tmax)
    axes[-1, 0].set_xlim(tmin, min(tmax, recording.duration))
    axes[-1, 0].set_xlabel("time [s]")
    fig.suptitle(f"{results.source or 'recording'}: {tmin:.1f}-{tmax:.1f} s", fontsize=10)
    fig.tight_layout()
    return fig


def plot_gallery(
    recording: Recording,
    results: TwitchResults,
    *,
    before: float = 0.05,
    after: float = 0.3,
) -> Any:
    """Every twitch's snippet aligned on its onset, with the average, per channel.

    One panel per analysed EMG channel and accelerometer sensor, showing the conditioned
    signal (EMG band-passed without hum and heartbeats; accelerometer magnitude) of the
    twitches seen on it, thin, and their mean, bold (for EMG the mean of the rectified
    signal: polyphasic bursts cancel out when averaged as they are).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .detect import traces as detector_traces

    plt = _pyplot()
    tr = detector_traces(recording, results.config, context=0.0,
                         emg=results.meta.get("emg"), acc=results.meta.get("acc"))
    fig, axes = plt.subplots(1, max(1, len(tr)), squeeze=False,
                             figsize=(4.5 * max(1, len(tr)), 3.6))
    b, a = round(before * recording.sfreq), round(after * recording.sfreq)
    lag = (np.arange(-b, a) / recording.sfreq) * 1e3
    for j, (name, d) in enumerate(tr.items()):
        ax = axes[0, j]
        emg = name in results.meta.get("emg", [])
        first = results.meta.get("sensors", {}).get(name, [name])[0]
        unit = recording.units[recording.ch_names.index(first)]
        scale, unit = (1e6, "µV") if unit == "V" else (1.0, unit or "a.u.")
        seen = np.array([name in str(c).split(",") for c in results.events["channels"]],
                        dtype=bool)
        snippets = []
        for onset in results.events["onset"][seen]:
            i = round(onset * recording.sfreq)
            if i - b >= 0 and i + a <= d["conditioned"].size:
                snippets.append(d["conditioned"][i - b: i + a] * scale)
        for sn in snippets:
            ax.plot(lag, sn, lw=0.4, color="tab:green", alpha=0.35)
        if snippets:
            # polyphasic EMG bursts cancel out when averaged: average the rectified signal
            mean = np.mean(np.abs(snippets), axis=0) if emg else np.mean(snippets, axis=0)
            ax.plot(lag, mean, lw=1.6, color="k", label="mean rectified" if emg else "mean")
            ax.legend(fontsize=7, loc="upper right")
        ax.axvline(0, color="0.5", lw=0.8, ls="--")
        ax.set_title(f"{name}: {len(snippets)} twitches", fontsize=9)
        ax.set_xlabel("time from onset [ms]")
        ax.set_ylabel(f"[{unit}]")
    fig.tight_layout()
    return fig


def plot_epochs(results: TwitchResults) -> Any:
    """Twitches per needle-in epoch (bars) and their amplitude across successive twitches.

    The right panel shows, per epoch, 20 log10 of each twitch's amplitude relative to the
    first one of the epoch (twitches of the most common unit, as in
    :func:`ltr.results.habituation_slope`), with the fitted slope in the legend.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    rows = results.summary(by="epoch")
    fig, (ax_n, ax_h) = plt.subplots(1, 2, figsize=(12, 3.8))
    if rows:
        idx = np.arange(len(rows))
        ax_n.bar(idx, [r["count"] for r in rows], color="tab:green")
        ax_n.set_xticks(idx, [str(r["epoch"]) for r in rows])
        for i, r in enumerate(rows):
            ax_n.text(i, r["count"], f"{r['rate_per_min']:.1f}/min", ha="center",
                      va="bottom", fontsize=7)
    ax_n.set_xlabel(f"needle-in epoch ({results.epochs.source})")
    ax_n.set_ylabel("twitches")
    ev = results.events
    units, counts = np.unique(ev["unit"].astype(str), return_counts=True)
    main_unit = units[np.argmax(counts)] if units.size else "V"
    for k, r in enumerate(rows):
        sel = (ev["epoch"] == k) & (ev["unit"].astype(str) == main_unit)
        amp = ev["amplitude"][sel]
        if amp.size < 2:
            continue
        db = 20 * np.log10(amp / amp[0])
        slope = r["habituation_db_per_twitch"]
        label = f"epoch {k}" + (f": {slope:+.2f} dB/twitch" if np.isfinite(slope) else "")
        ax_h.plot(np.arange(1, amp.size + 1), db, "o-", ms=3, lw=1, label=label)
    ax_h.axhline(0, color="0.6", lw=0.8)
    ax_h.set_xlabel("twitch number within the epoch")
    ax_h.set_ylabel("amplitude re first twitch [dB]")
    if ax_h.lines[1:]:
        ax_h.legend(fontsize=7)
    fig.suptitle(f"{results.source or 'recording'}: {len(results)} twitches", fontsize=10)
    fig.tight_layout()
    return fig
