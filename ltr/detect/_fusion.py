"""Fusion: accepted candidates of several channels become one table of twitches."""

from __future__ import annotations

import numpy as np

from ..results import EVENT_COLUMNS
from ._channel import ChannelResult
from .config import DetectorConfig, FusionConfig


def channel_table(results: list[ChannelResult], sfreq: float,
                  on_ratios: dict[str, float],
                  fusion: FusionConfig | None = None) -> dict[str, np.ndarray]:
    """Accepted candidates of every channel, one row each, with the event columns.

    A row's confidence rises linearly with its SNR over the channel's on threshold
    (``fusion.confidence``, ``fusion.confidence_span_db``)."""
    fusion = fusion if fusion is not None else FusionConfig()
    c_lo, c_hi = fusion.confidence
    cols: dict[str, list] = {k: [] for k in EVENT_COLUMNS}
    for r in results:
        acc = r.accepted
        f = r.features
        n = int(acc.sum())
        on, off = r.onset[acc] / sfreq, r.offset[acc] / sfreq
        snr = f["snr_db"][acc]
        thr_db = 20 * np.log10(on_ratios[r.modality])
        conf = c_lo + (c_hi - c_lo) * np.clip(
            (np.nan_to_num(snr, nan=thr_db) - thr_db) / fusion.confidence_span_db, 0, 1)
        cols["onset"].extend(on)
        cols["offset"].extend(off)
        cols["duration"].extend(off - on)
        cols["peak_time"].extend(f["peak"][acc] / sfreq)
        cols["amplitude"].extend(f["amplitude"][acc])
        cols["unit"].extend([r.unit] * n)
        cols["rms"].extend(f["rms"][acc])
        cols["area"].extend(f["area"][acc])
        cols["snr_db"].extend(snr)
        cols["rise_time"].extend(f["rise_time"][acc])
        cols["median_freq"].extend(f["median_freq"][acc])
        cols["channel"].extend([r.name] * n)
        cols["channels"].extend([r.name] * n)
        cols["modality"].extend([r.modality] * n)
        cols["confidence"].extend(conf)
        cols["epoch"].extend([-1] * n)
    out = {k: np.asarray(v, dtype=object if k in ("unit", "channel", "channels", "modality")
                         else (int if k == "epoch" else float)) for k, v in cols.items()}
    order = np.argsort(out["onset"], kind="stable")
    return {k: v[order] for k, v in out.items()}


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
    emg_motion: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Merge per-channel rows into twitches.

    EMG rows whose onsets fall within ``fusion.emg_window`` of the first are one EMG
    event (its primary channel is the one with the highest SNR); accelerometer rows are
    grouped the same way. An EMG event and an accelerometer event whose onsets differ by
    ``fusion.acc_delay`` (the jolt follows the burst) are one twitch, seen by both; its
    onset is the EMG onset and its confidence ``1 - (1 - c_emg)(1 - c_acc)``.

    An accelerometer event with no EMG partner that overlaps a movement artifact on the
    EMG leads (``emg_motion``: start and stop times, s) is vetoed.

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
    for j, m in enumerate(acc_groups):
        if used[j]:
            continue
        a, b = onset[m].min(), offset[m].max()
        # a movement span overlaps [a, b]: one that starts by b and ends after a
        k = np.searchsorted(m_on, b, side="right")
        if k and m_off[k - 1] >= a:
            vetoed.extend(m.tolist())
            continue
        rows.append((empty, m))
    cols = {k: table[k].tolist() for k in EVENT_COLUMNS}
    snr = np.nan_to_num(table["snr_db"], nan=-np.inf).tolist()
    out: dict[str, list] = {k: [] for k in EVENT_COLUMNS}
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
        c_e = max((cols["confidence"][r] for r in emg_i), default=0.0)
        c_a = max((cols["confidence"][r] for r in acc_i), default=0.0)
        out["confidence"][-1] = 1 - (1 - c_e) * (1 - c_a)
    fused = {k: np.asarray(v, dtype=table[k].dtype) for k, v in out.items()}
    order = np.argsort(fused["onset"], kind="stable")
    return {k: v[order] for k, v in fused.items()}, np.asarray(vetoed, dtype=int)
