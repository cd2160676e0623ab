"""Fusion: accepted candidates of several channels become one table of twitches."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..results import EVENT_COLUMNS
from ._channel import ChannelResult
from .config import (
    CONFIDENCE_FEATURES,
    LOOK_ALIKE_SPAN,
    ConfidenceConfig,
    DetectorConfig,
    FusionConfig,
)
from .rules import near

#: Event kinds with their own coefficients in :class:`ConfidenceConfig`.
KINDS = ("emg", "acc", "emg_acc")


def confidence_features(
    *, emg_margin: np.ndarray, acc_margin: np.ndarray, duration: np.ndarray,
    median_freq: np.ndarray, burst: np.ndarray, crest: np.ndarray,
    near_beat: np.ndarray, channels: np.ndarray, sfreq: float,
    neighbours: np.ndarray | None = None, look_alikes: np.ndarray | None = None,
    acc_slow: np.ndarray | None = None,
) -> np.ndarray:
    """The design matrix of the confidence model, one row per event, one column per name
    of :data:`~ltr.detect.config.CONFIDENCE_FEATURES` (scaled and clipped as documented
    there).

    ``emg_margin`` and ``acc_margin`` are SNRs over the on threshold, dB (NaN where the
    modality did not see the event: 0 then); ``duration`` and ``burst`` are in s,
    ``median_freq`` in Hz (NaN without EMG), ``near_beat`` and ``channels`` are 0/1;
    ``neighbours`` counts the other events in the 1 s before (:func:`neighbour_count`)
    and ``look_alikes`` the candidates turned away per minute on the primary channel
    before the event (:func:`look_alike_rate`; 0 when None); ``acc_slow`` the
    accelerometer jolt's movement-band over twitch-band content (``low_ratio``; NaN or
    None without a jolt, and for a jolt cut out of a movement).
    """
    n = np.asarray(duration).size
    neighbours = np.zeros(n) if neighbours is None else np.asarray(neighbours, float)
    look_alikes = np.zeros(n) if look_alikes is None else np.asarray(look_alikes, float)
    acc_slow = np.full(n, np.nan) if acc_slow is None else np.asarray(acc_slow, float)

    def col(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
        v = np.broadcast_to(np.asarray(v, dtype=float), (n,))
        return np.clip(np.nan_to_num(v, nan=0.0, posinf=hi, neginf=lo), lo, hi)

    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.column_stack([
            np.ones(n),
            col(np.asarray(emg_margin, float) / 10.0, -1.0, 4.0),
            col(np.asarray(acc_margin, float) / 10.0, -1.0, 4.0),
            col(np.log2(np.asarray(duration, float) / 0.05), -3.0, 3.0),
            col((np.asarray(median_freq, float) - 100.0) / 100.0, -1.0, 3.0),
            col(np.log2(np.asarray(burst, float) / 0.02), -3.0, 3.0),
            col((np.asarray(crest, float) - 3.0) / 3.0, -1.0, 3.0),
            col(near_beat, 0.0, 1.0),
            col(channels, 0.0, 1.0),
            col(np.full(n, np.log2(sfreq / 2000.0)), -3.0, 3.0),
            col(np.log2(1.0 + neighbours), 0.0, 4.0),
            col(np.log2(1.0 + np.maximum(look_alikes, 0.0)), 0.0, 8.0),
            np.where(np.isnan(acc_slow), 0.0,  # no jolt (NaN): 0
                     col(np.log2(np.maximum(acc_slow, 0.0)), -4.0, 3.0)),
        ])
    return x


def neighbour_count(onset: np.ndarray, window: float = 1.0) -> np.ndarray:
    """How many other onsets lie in the ``window`` s before each onset (any order).

    The past only: a streaming detector knows it when it decides, so streamed and
    offline confidences agree."""
    onset = np.asarray(onset, float)
    srt = np.sort(onset)
    return (np.searchsorted(srt, onset, side="left")
            - np.searchsorted(srt, onset - window, side="left")).astype(float)


def look_alike_rate(rejected: np.ndarray, onset: np.ndarray, prior: int = 0) -> np.ndarray:
    """Candidates turned away per minute before each onset (s): those of ``rejected``
    (onsets, s) before it, and ``prior`` more before them all, over the time since the
    recording began, at least :data:`~ltr.detect.config.LOOK_ALIKE_SPAN` s."""
    srt = np.sort(np.asarray(rejected, float))
    onset = np.asarray(onset, float)
    before = np.searchsorted(srt, onset, side="left") + prior
    return before / (np.maximum(onset, LOOK_ALIKE_SPAN) / 60.0)


def logistic(x: np.ndarray, w: np.ndarray | tuple[float, ...]) -> np.ndarray:
    """``1 / (1 + exp(-(x @ w)))``, computed without overflow."""
    z = np.asarray(x, float) @ np.asarray(w, float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, *, ridge: float = 1e-3,
                 nonneg: tuple[int, ...] = (), weight: np.ndarray | None = None,
                 max_iter: int = 100, tol: float = 1e-10) -> np.ndarray:
    """Maximum-likelihood logistic regression by Newton's method (IRLS).

    Parameters
    ----------
    x : ndarray, shape (n, k)
        Design matrix (its first column the intercept).
    y : ndarray of bool, shape (n,)
        Outcomes.
    ridge : float
        L2 penalty on every coefficient but the first, per unit of weight (a prior that
        keeps the fit finite when a column separates the classes or is all zero).
    weight : ndarray, shape (n,) | None
        Weight of each event in the likelihood (1 each when None).
    nonneg : tuple of int
        Columns whose coefficient must be >= 0: a column fitted negative is dropped
        (coefficient 0) and the rest refitted.
    max_iter, tol : int, float
        Newton iterations at most, and the largest coefficient step that ends them.

    Returns
    -------
    ndarray, shape (k,)
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n, k = x.shape
    sw = np.ones(n) if weight is None else np.asarray(weight, float)
    if sw.shape != (n,) or not np.all(np.isfinite(sw) & (sw >= 0)):
        raise ValueError(f"weight: need {n} finite values >= 0, got shape {sw.shape}")
    active = np.ones(k, bool)
    while True:
        xa = x[:, active]
        w = np.zeros(xa.shape[1])
        pen = np.full(xa.shape[1], ridge * max(sw.sum(), 1.0))
        pen[0] = 0.0 if active[0] else pen[0]
        for _ in range(max_iter):
            p = logistic(xa, w)
            grad = xa.T @ (sw * (y - p)) - pen * w
            hess = ((xa * (sw * p * (1 - p))[:, None]).T @ xa + np.diag(pen)
                    + 1e-12 * np.eye(w.size))
            step = np.linalg.solve(hess, grad)
            w = w + step
            if np.max(np.abs(step)) < tol:
                break
        full = np.zeros(k)
        full[active] = w
        bad = [j for j in nonneg if active[j] and full[j] < 0]
        if not bad:
            return full
        active[bad] = False


def predict(x: np.ndarray, kind: np.ndarray, cfg: ConfidenceConfig) -> np.ndarray:
    """Confidence of each row of the design matrix ``x`` with the coefficients of its
    ``kind`` (``"emg"``, ``"acc"`` or ``"emg_acc"``)."""
    out = np.zeros(len(kind))
    kind = np.asarray(kind, dtype=object)
    for name in KINDS:  # a loop over three kinds of event
        sel = kind == name
        if sel.any():
            out[sel] = logistic(x[sel], getattr(cfg, name))
    return out


def _heuristic(margin_db: np.ndarray, fusion: FusionConfig) -> np.ndarray:
    c_lo, c_hi = fusion.confidence
    return c_lo + (c_hi - c_lo) * np.clip(np.nan_to_num(margin_db, nan=0.0)
                                          / fusion.confidence_span_db, 0, 1)


def channel_table(results: list[ChannelResult], sfreq: float,
                  on_ratios: dict[str, float],
                  cfg: DetectorConfig | None = None, *,
                  prior: Mapping[str, int] | None = None) -> dict[str, np.ndarray]:
    """Accepted candidates of every channel, one row each, with the event columns.

    A row's confidence is the calibrated model of its modality alone
    (:class:`~ltr.detect.config.ConfidenceConfig` ``emg`` or ``acc``). The features the
    fused confidence needs ride along as private columns (names starting ``_``), which
    :func:`fuse` reads and :func:`strip_private` drops. ``prior`` counts, per channel,
    the candidates turned away before the first of ``results`` (a stream's past, for the
    rate of look-alikes, :func:`look_alike_rate`)."""
    cfg = cfg if cfg is not None else DetectorConfig()
    cols: dict[str, list] = {k: [] for k in (*EVENT_COLUMNS, *_PRIVATE)}
    for r in results:
        acc = r.accepted
        f = r.features
        n = int(acc.sum())
        on, off = r.onset[acc] / sfreq, r.offset[acc] / sfreq
        snr = f["snr_db"][acc]
        thr_db = 20 * np.log10(on_ratios[r.modality])
        margin = np.nan_to_num(snr, nan=thr_db) - thr_db
        if r.modality == "emg" and r.heartbeats.size:
            w = int(cfg.reject.ecg_window * sfreq)
            beat = near(np.sort(r.heartbeats), r.onset[acc] - w, r.offset[acc] + w)
        else:
            beat = np.zeros(n, bool)
        cols["onset"].extend(on)
        cols["offset"].extend(off)
        cols["duration"].extend(off - on)
        cols["peak_time"].extend(f["peak"][acc] / sfreq)
        cols["amplitude"].extend(f["amplitude"][acc])
        cols["unit"].extend([r.unit] * n)
        # a sensor's rows are jolts (in m/s^2 when its unit is known); others have none
        jolt = r.modality == "acc" and r.unit == "m/s^2"
        cols["jolt_amplitude"].extend(f["amplitude"][acc] if jolt else np.full(n, np.nan))
        cols["rms"].extend(f["rms"][acc])
        cols["area"].extend(f["area"][acc])
        cols["snr_db"].extend(snr)
        cols["rise_time"].extend(f["rise_time"][acc])
        cols["median_freq"].extend(f["median_freq"][acc])
        cols["channel"].extend([r.name] * n)
        cols["channels"].extend([r.name] * n)
        cols["modality"].extend([r.modality] * n)
        cols["confidence"].extend(np.zeros(n))
        cols["epoch"].extend([-1] * n)
        cols["_margin"].extend(margin)
        cols["_burst"].extend(f["burst"][acc])
        cols["_crest"].extend(f["crest"][acc])
        cols["_near_beat"].extend(beat.astype(float))
        cols["_neighbours"].extend(neighbour_count(on))
        cols["_look_alikes"].extend(look_alike_rate(
            r.onset[~acc] / sfreq, on, (prior or {}).get(r.name, 0)))
        piece = f.get("jolt_piece", np.zeros(acc.size))[acc]
        cols["_jolt_piece"].extend(piece)
        # a jolt cut out of a movement: its movement-band content is the movement's
        # around it (as for the rule slow_content, not evidence against it)
        low = f.get("low_ratio") if r.modality == "acc" else None
        cols["_acc_slow"].extend(np.full(n, np.nan) if low is None
                                 else np.where(piece > 0, np.nan, low[acc]))
    out = {k: np.asarray(v, dtype=object if k in ("unit", "channel", "channels", "modality")
                         else (int if k == "epoch" else float)) for k, v in cols.items()}
    is_emg = out["modality"] == "emg"
    x = confidence_features(
        emg_margin=np.where(is_emg, out["_margin"], np.nan),
        acc_margin=np.where(is_emg, np.nan, out["_margin"]),
        duration=out["duration"], median_freq=out["median_freq"], burst=out["_burst"],
        crest=out["_crest"], near_beat=out["_near_beat"],
        channels=np.zeros(is_emg.size), sfreq=sfreq, neighbours=out["_neighbours"],
        look_alikes=out["_look_alikes"], acc_slow=out["_acc_slow"])
    if cfg.confidence.method == "heuristic":
        out["confidence"] = _heuristic(out["_margin"], cfg.fusion)
    else:
        out["confidence"] = predict(x, out["modality"], cfg.confidence)
    order = np.argsort(out["onset"], kind="stable")
    return {k: v[order] for k, v in out.items()}


#: Private per-row columns of :func:`channel_table` (features of the confidence model).
_PRIVATE = ("_margin", "_burst", "_crest", "_near_beat", "_neighbours", "_look_alikes",
            "_jolt_piece", "_acc_slow")


def strip_private(table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The table without the private columns of :func:`channel_table`."""
    return {k: v for k, v in table.items() if not k.startswith("_")}


def _cluster(onset: np.ndarray, window: float) -> np.ndarray:
    """Group labels for sorted onsets: a new group starts more than ``window`` after the
    first onset of the current group (a loop over events, in plain Python)."""
    labels = []
    g, first = -1, -np.inf
    for t in onset.tolist():
        if t - first > window:
            g += 1
            first = t
        labels.append(g)
    return np.asarray(labels, dtype=int)


def _groups(table: dict[str, np.ndarray], modality: str, window: float) -> list[np.ndarray]:
    sel = np.flatnonzero(table["modality"] == modality)
    if sel.size == 0:
        return []
    labels = _cluster(table["onset"][sel], window)
    cuts = np.flatnonzero(np.diff(labels)) + 1
    return np.split(sel, cuts)  # rows are sorted by onset, so groups are consecutive


def fuse(
    table: dict[str, np.ndarray], cfg: DetectorConfig,
    emg_motion: tuple[np.ndarray, np.ndarray] | None = None, *, sfreq: float = 2000.0,
    emg_present: bool = False,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Merge per-channel rows into twitches.

    EMG rows whose onsets fall within ``fusion.emg_window`` of the first are one EMG
    event (its primary channel is the one with the highest SNR); accelerometer rows are
    grouped the same way. An EMG event and an accelerometer event whose onsets differ by
    ``fusion.acc_delay`` (the jolt follows the burst) are one twitch, seen by both; its
    onset is the EMG onset, its primary channel the EMG one, and its ``jolt_amplitude``
    the peak of the accelerometer event's strongest row (highest SNR: the row that
    would have been the primary channel of the jolt alone). Each twitch's confidence is
    the calibrated model of its kind (:class:`~ltr.detect.config.ConfidenceConfig`: EMG
    only, accelerometer only, or both) on the features of its rows (``sfreq``, Hz, is
    the recording's rate); with ``confidence.method = "heuristic"`` it is
    ``1 - (1 - c_emg)(1 - c_acc)`` of the rows' heuristic confidences.

    An accelerometer event with no EMG partner that overlaps a movement artifact on the
    EMG leads (``emg_motion``: start and stop times, s) is vetoed; so is one made only of
    jolts cut out of a movement candidate (``_jolt_piece``,
    :attr:`~ltr.detect.config.AccConfig.jolt_band`) when the recording has EMG
    (``emg_present``) and no EMG burst goes with it: beside a hand movement the jolt
    alone is the weakest evidence, and the needled muscle's EMG shows a twitch's burst.

    Loops run over events in plain Python (no array operation per event), so 10 000
    events take tens of milliseconds.

    Returns
    -------
    events : dict of ndarray
        The fused twitch table.
    vetoed : ndarray of int
        Rows of ``table`` turned away as movements.
    """
    emg_groups = _groups(table, "emg", cfg.fusion.emg_window)
    acc_groups = _groups(table, "acc", cfg.fusion.emg_window)
    onset = table["onset"]
    emg_on = np.array([onset[m[0]] for m in emg_groups])
    acc_on = np.array([onset[m[0]] for m in acc_groups])
    lo, hi = cfg.fusion.acc_delay
    pair_of_emg = [-1] * len(emg_groups)
    used = [False] * len(acc_groups)
    if len(acc_groups) and len(emg_groups):
        first = np.searchsorted(acc_on, emg_on + lo, side="left").tolist()
        last = np.searchsorted(acc_on, emg_on + hi, side="right").tolist()
        acc_list = acc_on.tolist()
        centre = (lo + hi) / 2
        for i, t in enumerate(emg_on.tolist()):  # a loop over events
            best, best_d = -1, np.inf
            for j in range(first[i], last[i]):
                d = abs(acc_list[j] - t - centre)
                if not used[j] and d < best_d:
                    best, best_d = j, d
            if best >= 0:
                pair_of_emg[i] = best
                used[best] = True
    empty = np.zeros(0, int)
    rows = [(m, acc_groups[pair_of_emg[i]] if pair_of_emg[i] >= 0 else empty)
            for i, m in enumerate(emg_groups)]
    vetoed: list[int] = []
    m_on, m_off = emg_motion if emg_motion is not None else (np.zeros(0), np.zeros(0))
    order = np.argsort(m_on)
    m_on, m_off = m_on[order], np.maximum.accumulate(m_off[order]) if m_off.size else m_off
    offset = table["offset"]
    pieces = table.get("_jolt_piece")
    for j, m in enumerate(acc_groups):
        if used[j]:
            continue
        a, b = onset[m].min(), offset[m].max()
        # a movement span overlaps [a, b]: one that starts by b and ends after a
        k = np.searchsorted(m_on, b, side="right")
        if k and m_off[k - 1] >= a:
            vetoed.extend(m.tolist())
            continue
        if emg_present and pieces is not None and (pieces[m] > 0).all():
            vetoed.extend(m.tolist())
            continue
        rows.append((empty, m))
    cols = {k: table[k].tolist() for k in (*EVENT_COLUMNS, *_PRIVATE)
            if k in table}
    snr = np.nan_to_num(table["snr_db"], nan=-np.inf).tolist()
    out: dict[str, list] = {k: [] for k in EVENT_COLUMNS}
    feat: dict[str, list] = {k: [] for k in ("emg_margin", "acc_margin", "burst", "crest",
                                             "near_beat", "channels", "look_alikes",
                                             "acc_slow")}
    c_fused: list[float] = []
    for emg_m, acc_m in rows:  # a loop over events
        emg_i, acc_i = emg_m.tolist(), acc_m.tolist()
        main = emg_i if emg_i else acc_i
        best = max(main, key=lambda r: snr[r])
        for k in EVENT_COLUMNS:
            out[k].append(cols[k][best])
        on = min(cols["onset"][r] for r in main)
        off = max(cols["offset"][r] for r in main)
        out["onset"][-1], out["offset"][-1], out["duration"][-1] = on, off, off - on
        out["rise_time"][-1] = cols["peak_time"][best] - on
        names = list(dict.fromkeys(cols["channel"][r] for r in emg_i + acc_i))
        out["channels"][-1] = ",".join(names)
        out["modality"][-1] = "+".join(x for x, m in (("emg", emg_i), ("acc", acc_i)) if m)
        best_a = max(acc_i, key=lambda r: snr[r]) if acc_i else -1
        out["jolt_amplitude"][-1] = cols["jolt_amplitude"][best_a] if acc_i else np.nan
        c_e = max((cols["confidence"][r] for r in emg_i), default=0.0)
        c_a = max((cols["confidence"][r] for r in acc_i), default=0.0)
        c_fused.append(1 - (1 - c_e) * (1 - c_a))
        if "_margin" in cols:
            best_e = max(emg_i, key=lambda r: snr[r]) if emg_i else -1
            feat["emg_margin"].append(cols["_margin"][best_e] if emg_i else np.nan)
            feat["acc_margin"].append(cols["_margin"][best_a] if acc_i else np.nan)
            feat["burst"].append(cols["_burst"][best])
            feat["crest"].append(cols["_crest"][best])
            feat["look_alikes"].append(cols["_look_alikes"][best])
            feat["near_beat"].append(max((cols["_near_beat"][r] for r in emg_i),
                                         default=0.0))
            feat["channels"].append(float(len({cols["channel"][r] for r in emg_i}) > 1))
            feat["acc_slow"].append(cols["_acc_slow"][best_a] if acc_i else np.nan)
    fused = {k: np.asarray(v, dtype=table[k].dtype) for k, v in out.items()}
    n = fused["onset"].size
    if "_margin" in cols:
        x = confidence_features(duration=fused["duration"],
                                median_freq=fused["median_freq"], sfreq=sfreq,
                                neighbours=neighbour_count(fused["onset"]),
                                **{k: np.asarray(v, float) for k, v in feat.items()})
    else:
        x = np.zeros((n, len(CONFIDENCE_FEATURES)))
    if "_margin" in cols and cfg.confidence.method == "logistic":
        kind = np.asarray([m.replace("+", "_") for m in fused["modality"]], dtype=object)
        fused["confidence"] = predict(x, kind, cfg.confidence)
    else:
        fused["confidence"] = np.asarray(c_fused, float)
    fused["_x"] = x
    order = np.argsort(fused["onset"], kind="stable")
    return {k: v[order] for k, v in fused.items()}, np.asarray(vetoed, dtype=int)
