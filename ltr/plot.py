"""Figures. matplotlib is imported inside each function; each returns its Figure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .detect.rules import REASONS
from .recording import Recording

if TYPE_CHECKING:
    from .results import TwitchResults
    from .simulate.truth import Truth

# simulated confounders are drawn in the colour of the reason they are turned away for
_CONFOUNDER_COLORS = {**{name: reason.color for name, reason in REASONS.items()
                         if name != "movement"}, "hand_pressure": REASONS["movement"].color}


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


#: Seconds of a channel read and conditioned at a time when plotting whole recordings.
_PLOT_PIECE = 300.0


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


_REASON_COLORS = {name: reason.color for name, reason in REASONS.items()}


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
    fig, axes = plt.subplots(rec.n_channels, 1, sharex=True, squeeze=False,
                             figsize=(14, 1.8 + 1.6 * rec.n_channels))
    # one channel and one piece at a time, each reduced to its share of max_points: a
    # long recording is never held in memory
    piece = max(1, round(_PLOT_PIECE * rec.sfreq))
    n_pieces = -(-(stop - start) // piece)
    per_piece = max(4, max_points // max(1, n_pieces))
    for i, ax in enumerate(axes[:, 0]):
        name = rec.ch_names[i]
        tt_parts, xx_parts = [], []
        for a in range(start, stop, piece):  # a loop over pieces of the recording
            b = min(stop, a + piece)
            pad = int(min(a, 2 * rec.sfreq))
            x = rec.get_data(a - pad, min(rec.n_samples, b + 2 * round(rec.sfreq)),
                             picks=[i])[0]
            if conditioned and rec.ch_kinds[i] == "emg":
                mains = results.processing.get(name, {})
                if mains.get("mains_hz") and mains.get("mains_harmonics"):
                    x = remove_mains(x, rec.sfreq, mains["mains_hz"],
                                     mains["mains_harmonics"])
                x, _ = bandpass(x, rec.sfreq, tuple(results.config.emg.band))
            elif conditioned and rec.sfreq > 2:
                x = highpass(x, rec.sfreq, 0.5, 2)
            x = x[pad: pad + b - a]
            scale = 1e6 if rec.units[i] == "V" else 1.0
            tt, xx = _decimate_minmax(np.arange(a, b) / rec.sfreq, x * scale, per_piece)
            tt_parts.append(tt)
            xx_parts.append(xx)
        unit = "µV" if rec.units[i] == "V" else (rec.units[i] or "a.u.")
        ax.plot(np.concatenate(tt_parts), np.concatenate(xx_parts), lw=0.5, color="0.15")
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


def _spans(ax: Any, on: np.ndarray, off: np.ndarray, colors: Any, zorder: float = -2) -> None:
    """Vertical bands over the whole height, drawn as one artist (thousands stay fast)."""
    if len(on) == 0:
        return
    ax.broken_barh(list(zip(on, np.maximum(off - on, 0.0), strict=True)), (0, 1),
                   transform=ax.get_xaxis_transform(), facecolors=colors, lw=0,
                   zorder=zorder)


#: Rejected look-alikes are labelled with their reason when at most this many are in view.
MAX_LABELS = 150


def _shade_results(ax: Any, results: Any, own: set[str], tmin: float, tmax: float) -> None:
    """Twitches green (by confidence), rejected look-alikes by reason, contractions orange."""
    from matplotlib.colors import to_rgba

    ep = results.epochs
    keep = (np.asarray(ep.stop) >= tmin) & (np.asarray(ep.start) <= tmax)
    _spans(ax, np.maximum(np.asarray(ep.start)[keep], tmin),
           np.minimum(np.asarray(ep.stop)[keep], tmax), to_rgba("0.93"), zorder=-3)
    ev = results.events
    sel = np.flatnonzero((ev["offset"] >= tmin) & (ev["onset"] <= tmax))
    colors = [to_rgba("tab:green", 0.2 + 0.4 * float(ev["confidence"][k])
                      if set(str(ev["channels"][k]).split(",")) & own else 0.08)
              for k in sel]
    _spans(ax, ev["onset"][sel], ev["offset"][sel], colors)
    rj = results.rejected
    mine = np.array([str(c) in own for c in rj["channel"]], dtype=bool)
    sel = np.flatnonzero(mine & (rj["offset"] >= tmin) & (rj["onset"] <= tmax))
    colors = [to_rgba(_REASON_COLORS.get(str(rj["reason"][k]), "tab:red"), 0.3) for k in sel]
    _spans(ax, rj["onset"][sel], np.maximum(rj["offset"][sel], rj["onset"][sel] + 0.004),
           colors)
    if sel.size <= MAX_LABELS:
        for k in sel:  # a loop over the labels drawn (few)
            color = _REASON_COLORS.get(str(rj["reason"][k]), "tab:red")
            ax.text(rj["onset"][k], 0.98, str(rj["reason"][k]), fontsize=6, rotation=90,
                    va="top", color=color, transform=ax.get_xaxis_transform())
    ct = results.contractions
    mine = np.array([str(c) in own for c in ct["channel"]], dtype=bool)
    sel = np.flatnonzero(mine & (ct["offset"] >= tmin) & (ct["onset"] <= tmax))
    _spans(ax, ct["onset"][sel], ct["offset"][sel], to_rgba("tab:orange", 0.25))


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
    max_drawn: int = 200,
) -> Any:
    """Every twitch's snippet aligned on its onset, with the average, per channel.

    One panel per analysed EMG channel and accelerometer sensor, showing the conditioned
    signal (EMG band-passed without hum and heartbeats; accelerometer magnitude) of the
    twitches seen on it, thin, and their mean, bold (for EMG the mean of the rectified
    signal: polyphasic bursts cancel out when averaged as they are). The mean is over all
    twitches; at most ``max_drawn`` snippets are drawn (evenly spread). The recording is
    conditioned piece by piece, so a long one is never held in memory.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .detect import traces as detector_traces

    plt = _pyplot()
    emg_names = list(results.meta.get("emg", []))
    units = emg_names + list(results.meta.get("sensors", {}))
    fig, axes = plt.subplots(1, max(1, len(units)), squeeze=False,
                             figsize=(4.5 * max(1, len(units)), 3.6))
    sf = recording.sfreq
    nb, na = round(before * sf), round(after * sf)
    lag = (np.arange(-nb, na) / sf) * 1e3
    onsets = results.events["onset"]
    seen = {u: np.array([u in str(c).split(",") for c in results.events["channels"]],
                        dtype=bool) for u in units}
    total = {u: np.zeros(nb + na) for u in units}
    count = dict.fromkeys(units, 0)
    drawn: dict[str, list[np.ndarray]] = {u: [] for u in units}
    stride = {u: max(1, -(-int(seen[u].sum()) // max_drawn)) for u in units}
    for a in np.arange(0.0, recording.duration, _PLOT_PIECE):  # a loop over pieces
        b = min(recording.duration, a + _PLOT_PIECE)
        in_piece = (onsets >= a) & (onsets < b)
        if not in_piece.any():
            continue
        t0 = max(0.0, a - before)
        tr = detector_traces(recording, results.config, tmin=t0,
                             tmax=min(recording.duration, b + after), context=15.0,
                             emg=results.meta.get("emg"), acc=results.meta.get("acc"),
                             keep=["conditioned"])
        for u, d in tr.items():
            scale = 1e6 if _unit_of(recording, results, u) == "V" else 1.0
            for k in np.flatnonzero(in_piece & seen[u]):  # a loop over twitches
                i = round((onsets[k] - t0) * sf)
                if i - nb < 0 or i + na > d["conditioned"].size:
                    continue
                sn = d["conditioned"][i - nb: i + na] * scale
                total[u] += np.abs(sn) if u in emg_names else sn
                if count[u] % stride[u] == 0:
                    drawn[u].append(sn)
                count[u] += 1
    for j, u in enumerate(units):
        ax = axes[0, j]
        emg = u in emg_names
        unit = _unit_of(recording, results, u)
        unit = "µV" if unit == "V" else (unit or "a.u.")
        for sn in drawn[u]:
            ax.plot(lag, sn, lw=0.4, color="tab:green", alpha=0.35)
        if count[u]:
            ax.plot(lag, total[u] / count[u], lw=1.6, color="k",
                    label="mean rectified" if emg else "mean")
            ax.legend(fontsize=7, loc="upper right")
        ax.axvline(0, color="0.5", lw=0.8, ls="--")
        shown = "" if len(drawn[u]) == count[u] else f" ({len(drawn[u])} drawn)"
        ax.set_title(f"{u}: {count[u]} twitches{shown}", fontsize=9)
        ax.set_xlabel("time from onset [ms]")
        ax.set_ylabel(f"[{unit}]")
    fig.tight_layout()
    return fig


def _unit_of(recording: Recording, results: TwitchResults, unit: str) -> str:
    """The recording's unit of an EMG channel or of a sensor's first axis."""
    first = results.meta.get("sensors", {}).get(unit, [unit])[0]
    return recording.units[recording.ch_names.index(first)]


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
    rows = results.summary(by="epoch").to_dict("records")
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
