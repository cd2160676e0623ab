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


def _text(label: Any) -> str:
    """A label as matplotlib shows it literally: ``$`` would start mathtext, which fails
    (or renders something else) on labels such as ``EMG $left`` or ``ACC_$x$``."""
    return str(label).replace("$", r"\$")


def _rows(table: Any) -> list[dict[str, Any]]:
    """A summary table as a list of row dicts, whether it is a list of dicts or a
    :class:`pandas.DataFrame` (the columns read are named where they are used)."""
    if hasattr(table, "to_dict") and hasattr(table, "columns"):
        return list(table.to_dict("records"))
    return [dict(r) for r in table]


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
        ax.set_ylabel(f"{_text(rec.ch_names[i])}\n[{unit}]", fontsize=8)
        ax.margins(x=0)
        for onset, _dur, desc in recording.annotations:
            if tmin <= onset <= tmax:
                ax.axvline(onset, color="tab:blue", lw=0.8, ls="--")
                if i == 0:
                    ax.text(onset, 1.0, f" {_text(desc)}", transform=ax.get_xaxis_transform(),
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
    fig.suptitle(_text(title), fontsize=10)
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
            x = _conditioned_piece(rec, results, i, a, b, conditioned=conditioned)
            scale = 1e6 if rec.units[i] == "V" else 1.0
            tt, xx = _decimate_minmax(np.arange(a, b) / rec.sfreq, x * scale, per_piece)
            tt_parts.append(tt)
            xx_parts.append(xx)
        unit = "µV" if rec.units[i] == "V" else (rec.units[i] or "a.u.")
        ax.plot(np.concatenate(tt_parts), np.concatenate(xx_parts), lw=0.5, color="0.15")
        ax.set_ylabel(f"{_text(name)}\n[{unit}]", fontsize=8)
        _shade_results(ax, results, {name, sensor_of.get(name, name)}, tmin, tmax)
        ax.margins(x=0)
    axes[-1, 0].set_xlim(tmin, min(tmax, rec.duration))
    axes[-1, 0].set_xlabel("time [s]")
    source = results.source or str(recording.meta.get("source", "recording"))
    fig.suptitle(f"{_text(source)}: {len(results)} twitches (green bands, triangles "
                 "above), rejected look-alikes labelled (crosses below), contractions "
                 "orange, needle-in epochs grey", fontsize=10)
    fig.tight_layout()
    return fig


def _conditioned_piece(rec: Recording, results: Any, i: int, a: int, b: int, *,
                       conditioned: bool = True) -> np.ndarray:
    """Samples ``a:b`` of channel ``i`` as shown: EMG without hum and band-passed with
    the detector's band, acceleration with gravity removed (0.5 Hz high-pass), an
    ultrasound tissue speed as it is. Only
    the piece and 2 s either side are read."""
    from .preprocess import bandpass, highpass, remove_mains

    pad = int(min(a, 2 * rec.sfreq))
    x = rec.get_data(a - pad, min(rec.n_samples, b + 2 * round(rec.sfreq)), picks=[i])[0]
    if conditioned and rec.ch_kinds[i] == "emg":
        mains = results.processing.get(rec.ch_names[i], {})
        if mains.get("mains_hz") and mains.get("mains_harmonics"):
            x = remove_mains(x, rec.sfreq, mains["mains_hz"], mains["mains_harmonics"])
        x, _ = bandpass(x, rec.sfreq, tuple(results.config.emg.band))
    elif conditioned and rec.sfreq > 2 and rec.ch_kinds[i] != "us":
        x = highpass(x, rec.sfreq, 0.5, 2)  # (a speed has no gravity to take out)
    return x[pad: pad + b - a]


def _spans(ax: Any, on: np.ndarray, off: np.ndarray, colors: Any, zorder: float = -2) -> None:
    """Vertical bands over the whole height, drawn as one artist (thousands stay fast)."""
    if len(on) == 0:
        return
    ax.broken_barh(list(zip(on, np.maximum(off - on, 0.0), strict=True)), (0, 1),
                   transform=ax.get_xaxis_transform(), facecolors=colors, lw=0,
                   zorder=zorder)


def _rug(ax: Any, times: np.ndarray, y: float, marker: str, color: Any,
         own: Any = None) -> None:
    """One marker per event at height ``y`` (axes fraction), so that events stay visible
    when a whole recording makes their bands narrower than a pixel. Events of other
    channels (``own`` false) are drawn hollow."""
    if len(times) == 0:
        return
    t = np.asarray(times, dtype=float)
    mine = np.ones(t.size, bool) if own is None else np.array([bool(o) for o in own])
    colors = [color] * t.size if isinstance(color, str) else list(color)
    for sel, face in ((mine, True), (~mine, False)):  # filled: this channel's own
        if not sel.any():
            continue
        c = [colors[k] for k in np.flatnonzero(sel)]
        ax.scatter(t[sel], np.full(sel.sum(), y), s=18, marker=marker, linewidths=1.0,
                   c=c if (face or marker == "x") else "none",
                   edgecolors=None if marker == "x" else c,
                   transform=ax.get_xaxis_transform(), clip_on=False, zorder=5,
                   gid="rug-twitch" if marker == "v" else "rug-rejected")


#: Rejected look-alikes are labelled with their reason when at most this many are in view.
MAX_LABELS = 150


#: Rejected look-alikes' labels are drawn at least this fraction of the time axis apart
#: (a rotated 7-pt label is about 0.7 % of a 14-inch axis wide); the crosses below mark
#: every one.
LABEL_GAP = 0.012


def _spaced(times: np.ndarray, gap: float) -> np.ndarray:
    """Indices of ``times`` (sorted or not) to label, each at least ``gap`` after the
    last one labelled, in time order."""
    order = np.argsort(times, kind="stable")
    keep: list[int] = []
    last = -np.inf
    for i in order:  # a loop over at most MAX_LABELS labels
        if times[i] - last >= gap:
            keep.append(int(i))
            last = times[i]
    return np.asarray(keep, dtype=int)


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
    _rug(ax, ev["onset"][sel], 0.97, "v", "tab:green",
         [set(str(ev["channels"][k]).split(",")) & own for k in sel])
    rj = results.rejected
    mine = np.array([str(c) in own for c in rj["channel"]], dtype=bool)
    sel = np.flatnonzero(mine & (rj["offset"] >= tmin) & (rj["onset"] <= tmax))
    colors = [to_rgba(_REASON_COLORS.get(str(rj["reason"][k]), "tab:red"), 0.3) for k in sel]
    _spans(ax, rj["onset"][sel], np.maximum(rj["offset"][sel], rj["onset"][sel] + 0.004),
           colors)
    _rug(ax, rj["onset"][sel], 0.03, "x",
         [_REASON_COLORS.get(str(rj["reason"][k]), "tab:red") for k in sel])
    if sel.size <= MAX_LABELS:
        for k in sel[_spaced(rj["onset"][sel], LABEL_GAP * (tmax - tmin))]:
            color = _REASON_COLORS.get(str(rj["reason"][k]), "tab:red")
            ax.text(rj["onset"][k], 0.98, _text(rj["reason"][k]), fontsize=7, rotation=90,
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
        ax.set_ylabel(f"{_text(name)}\n[{unit}]", fontsize=8)
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
    fig.suptitle(f"{_text(results.source or 'recording')}: {tmin:.1f}-{tmax:.1f} s",
                 fontsize=10)
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

    One panel per analysed EMG channel and accelerometer sensor that saw a twitch (at most
    :data:`AVERAGE_COLUMNS` a row), showing the conditioned
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
    # a panel per channel or sensor that saw a twitch (a 38-channel file with twitches
    # on three made a 171-inch-wide row of mostly empty panels); one panel when none did
    seen_by = {u for c in results.events["channels"] for u in str(c).split(",")}
    units = [u for u in units if u in seen_by] or units[:1]
    ncols = min(AVERAGE_COLUMNS, max(1, len(units)))
    nrows = -(-max(1, len(units)) // ncols)
    fig, grid = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(4.5 * ncols, 3.6 * nrows))
    axes = grid.reshape(1, -1)
    for ax in axes[0, len(units):]:
        ax.set_visible(False)
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
            if u not in total:  # no twitch on it: no panel
                continue
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
        ax.set_title(f"{_text(u)}: {count[u]} twitches{shown}", fontsize=9)
        ax.set_xlabel("time from onset [ms]")
        ax.set_ylabel(f"[{unit}]")
    fig.tight_layout()
    return fig


#: Panels per row of :func:`plot_average` (more rows below; a row fits a page's width).
AVERAGE_COLUMNS = 4


def _unit_of(recording: Recording, results: TwitchResults, unit: str) -> str:
    """The recording's unit of an EMG channel or of a sensor's first axis."""
    first = results.meta.get("sensors", {}).get(unit, [unit])[0]
    return recording.units[recording.ch_names.index(first)]


def plot_epochs(results: TwitchResults) -> Any:
    """Twitches per needle insertion and habituation, readable for any number of epochs.

    Left: twitches per needle-in epoch (bars, every twitch). Middle: amplitude of each
    twitch relative to the first one of its epoch, 20 log10, against the twitch's number
    within the epoch, for the twitches of the most common unit only, as in
    :func:`ltr.results.habituation_slope`: EMG-led twitches (emg and emg+acc, in µV) in
    a recording with EMG, numbered among themselves, so an accelerometer-only twitch
    between two of them is not counted (the panel's labels say so and how many were
    left out). Every epoch's twitches as dots, their median and interquartile range
    across epochs as a line and band (twitch numbers that at least 3 epochs reach).
    Right: each epoch's habituation slope, dB per twitch of that unit, one dot per epoch,
    with the median. No figure element grows with the number of epochs beyond one bar
    and one dot each.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    rows = _rows(results.summary(by="epoch"))
    fig, (ax_n, ax_h, ax_s) = plt.subplots(
        1, 3, figsize=(14, 3.8), gridspec_kw={"width_ratios": [5, 4, 2]})
    counts = np.array([r["count"] for r in rows], dtype=float)
    idx = np.arange(len(rows))
    if rows:
        ax_n.bar(idx, counts, color="tab:green", width=0.8)
        ax_n.set_xlim(-0.6, len(rows) - 0.4)
        if len(rows) <= 15:
            ax_n.set_xticks(idx, [str(r["epoch"]) for r in rows])
            for i, r in enumerate(rows):
                ax_n.text(i, r["count"], f"{r['rate_per_min']:.1f}/min", ha="center",
                          va="bottom", fontsize=7)
        else:
            ax_n.xaxis.set_major_locator(MaxNLocator(12, integer=True))
        ax_n.axhline(float(np.median(counts)), color="0.3", lw=0.8, ls="--",
                     label=f"median {np.median(counts):g}")
        ax_n.legend(fontsize=7, loc="upper right")
    ax_n.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax_n.set_xlabel(f"needle-in epoch ({results.epochs.source})")
    ax_n.set_ylabel("twitches")
    ax_n.set_title(f"{len(rows)} insertions, {len(results)} twitches", fontsize=9)
    ev = results.events
    units, n_unit = np.unique(ev["unit"].astype(str), return_counts=True)
    main_unit = units[np.argmax(n_unit)] if units.size else "V"
    numbers, dbs, slopes = [], [], []
    for r in rows:  # a loop over epochs
        slope = r["habituation_db_per_twitch"]
        if np.isfinite(slope):
            slopes.append(slope)
        sel = (ev["epoch"] == r["epoch"]) & (ev["unit"].astype(str) == main_unit)
        amp = ev["amplitude"][sel]
        if amp.size < 2 or not amp[0] > 0:
            continue
        numbers.append(np.arange(1, amp.size + 1))
        dbs.append(20 * np.log10(np.maximum(amp, 1e-300) / amp[0]))
    if dbs:
        num, db = np.concatenate(numbers), np.concatenate(dbs)
        ax_h.plot(num, db, "o", ms=2.5, color="tab:green", alpha=0.35, label="a twitch")
        grid = np.arange(1, num.max() + 1)
        reach = np.array([np.sum(num == n) for n in grid])
        grid = grid[reach >= 3]
        if grid.size:
            q = np.array([np.percentile(db[num == n], [25, 50, 75]) for n in grid])
            ax_h.fill_between(grid, q[:, 0], q[:, 2], color="0.2", alpha=0.15, lw=0,
                              label="interquartile range")
            ax_h.plot(grid, q[:, 1], "-", color="k", lw=1.5, label="median over epochs")
        ax_h.legend(fontsize=7, loc="lower left")
    ax_h.axhline(0, color="0.6", lw=0.8)
    ax_h.xaxis.set_major_locator(MaxNLocator(integer=True))
    kind = _COUNTED.get(str(main_unit), f"{main_unit} twitches")
    left_out = int(np.sum((ev["unit"].astype(str) != main_unit) & (ev["epoch"] >= 0)))
    ax_h.set_xlabel(f"number among the epoch's {kind}")
    ax_h.set_ylabel("amplitude re the first of them [dB]")
    ax_h.set_title(f"habituation of {kind}, {len(dbs)} epochs with 2 or more"
                   + (f"\n{left_out} other twitch{'es' if left_out != 1 else ''} in epochs "
                      "not counted" if left_out else ""), fontsize=9)
    if slopes:
        sl = np.asarray(slopes)
        jitter = (np.arange(sl.size) % 7 - 3) * 0.04  # deterministic spread, no overlap
        ax_s.plot(jitter, sl, "o", ms=3.5, color="tab:green", alpha=0.6)
        ax_s.plot([-0.3, 0.3], [np.median(sl)] * 2, "k-", lw=1.5)
        ax_s.text(0.32, float(np.median(sl)), f"median\n{np.median(sl):+.2f}", fontsize=7,
                  va="center")
    ax_s.axhline(0, color="0.6", lw=0.8)
    ax_s.set_xlim(-0.5, 0.9)
    ax_s.set_xticks([])
    ax_s.set_ylabel("slope per epoch [dB per twitch counted]")
    ax_s.set_title(f"{len(slopes)} slopes", fontsize=9)
    fig.suptitle(f"{_text(results.source or 'recording')}: {len(results)} twitches",
                 fontsize=10)
    fig.tight_layout()
    return fig


#: What the twitches of a unit are, in the labels of :func:`plot_epochs`.
_COUNTED = {"V": "EMG-led twitches", "m/s^2": "accelerometer-only twitches",
            "mm/s": "ultrasound twitches", "px/s": "ultrasound twitches"}

#: Needle insertions drawn per page of :func:`plot_insertions` in the report.
INSERTIONS_PER_PAGE = 20


def plot_insertions(
    recording: Recording,
    results: TwitchResults,
    epochs: Any = None,
    *,
    channel: str | None = None,
    ncols: int = 4,
    margin: float = 1.0,
    clock: Any = None,
    ylim: float | None = None,
    max_points: int = 1500,
) -> Any:
    """One small panel per needle insertion: its trace with the twitches marked.

    Each panel shows one channel, conditioned as in :func:`plot_detections`, from
    ``margin`` s before the needle went in to ``margin`` s after it came out, with the
    twitches as green bands and triangles and rejected look-alikes as crosses. All panels
    share one amplitude scale, the same on every page, so insertions can be compared.
    Only the insertions' spans are read, so a long recording is never held in memory.

    Parameters
    ----------
    recording : Recording
    results : TwitchResults
    epochs : sequence of int | None
        Indices of the epochs to draw (default: all; the report pages them
        :data:`INSERTIONS_PER_PAGE` at a time).
    channel : str | None
        Channel to show (default: the first analysed EMG channel, else the first
        accelerometer axis).
    ncols : int
        Panels per row.
    margin : float
        Seconds shown either side of each epoch.
    clock : callable | None
        ``clock(t)`` gives the wall-clock text of time ``t`` s for the panel titles.
    ylim : float | None
        Half-height of every panel in the channel's display unit (µV for EMG). Default:
        1.3 times the 95th percentile of the peak amplitudes of the twitches found on
        the channel (so that every page of a report has the same scale; the largest
        twitches may reach the edge), or of the samples drawn when it has none.
    max_points : int
        Samples drawn per panel at most (min/max decimation keeps peaks visible).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    ep = results.epochs
    sel = list(range(len(ep))) if epochs is None else [int(k) for k in epochs]
    if channel is None:
        names = list(results.meta.get("emg", [])) + list(results.meta.get("acc", []))
        channel = names[0] if names else recording.ch_names[0]
    if channel not in recording.ch_names:
        raise ValueError(f"{results.source or 'recording'}: channel {channel!r} is not in "
                         f"the recording (channels: {', '.join(recording.ch_names)})")
    i = recording.ch_names.index(channel)
    sensor_of = {ch: s for s, chs in results.meta.get("sensors", {}).items() for ch in chs}
    own = {channel, sensor_of.get(channel, channel)}
    nrows = max(1, -(-len(sel) // ncols))
    from matplotlib.ticker import MaxNLocator

    height = 0.9 + 1.9 * nrows
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, figsize=(14, height))
    # fixed margins: tight_layout on dozens of panels costs more than drawing them
    fig.subplots_adjust(left=0.06, right=0.99, top=1 - 0.55 / height,
                        bottom=0.35 / height, hspace=0.45, wspace=0.08)
    scale, unit = ((1e6, "µV") if recording.units[i] == "V"
                   else (1.0, recording.units[i] or "a.u."))
    ce = results.channel_events
    amp = ce["amplitude"][np.isin(ce["channel"].astype(str), list(own))] * scale
    amp = amp[np.isfinite(amp)]
    if ylim is None and amp.size:
        ylim = 1.3 * float(np.percentile(amp, 95))
    traces, lim = [], 0.0
    for k in sel:  # a loop over the epochs drawn: read and reduce each
        t0 = max(0.0, float(ep.start[k]) - margin)
        t1 = min(recording.duration, float(ep.stop[k]) + margin)
        a, b = round(t0 * recording.sfreq), round(t1 * recording.sfreq)
        if b <= a:
            traces.append((t0, t1, np.zeros(0), np.zeros(0)))
            continue
        x = _conditioned_piece(recording, results, i, a, b) * scale
        if np.isfinite(x).any():
            lim = max(lim, float(np.nanpercentile(np.abs(x), 99.9)))
        traces.append((t0, t1, *_decimate_minmax(np.arange(a, b) / recording.sfreq, x,
                                                 max_points)))
    half = ylim if ylim is not None and ylim > 0 else 1.3 * lim + 1e-30
    speed = recording.ch_kinds[i] == "us"  # never below 0: no lower half
    for j, (k, (t0, t1, tt, xx)) in enumerate(zip(sel, traces, strict=True)):  # epochs
        ax = axes[j // ncols, j % ncols]
        # limits first and fixed: autoscaling dozens of panels per artist is slow
        ax.set_xlim(t0, t1)
        ax.set_ylim(-0.05 * half if speed else -half, half)
        ax.set_autoscale_on(False)
        ax.plot(tt, xx, lw=0.4, color="0.15")
        _shade_results(ax, results, own, t0, t1)
        n = int(np.sum(results.events["epoch"] == k))
        when = f" {clock(float(ep.start[k]))}" if clock is not None else ""
        ax.set_title(f"#{k}{when}: {n} twitch{'es' if n != 1 else ''}", fontsize=8,
                     loc="left")
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.yaxis.set_major_locator(MaxNLocator(3, symmetric=True))
        ax.tick_params(labelsize=7, labelleft=j % ncols == 0)
    for ax in axes.ravel()[len(sel):]:
        ax.set_visible(False)
    for r in range(nrows):
        axes[r, 0].set_ylabel(f"[{unit}]", fontsize=7)
    fig.suptitle(f"{_text(channel)} per needle insertion (time in s; one scale for all "
                 "panels)", fontsize=10)
    return fig
