"""Fusion: accepted candidates of several channels become one table of twitches."""

from __future__ import annotations

import numpy as np

from ..results import EVENT_COLUMNS
from ._channel import ChannelResult
from .config import DetectorConfig


def channel_table(results: list[ChannelResult], sfreq: float,
                  on_ratios: dict[str, float]) -> dict[str, np.ndarray]:
    """Accepted candidates of every channel, one row each, with the event columns."""
    cols: dict[str, list] = {k: [] for k in EVENT_COLUMNS}
    for r in results:
        acc = r.accepted
        f = r.features
        n = int(acc.sum())
        on, off = r.onset[acc] / sfreq, r.offset[acc] / sfreq
        snr = f["snr_db"][acc]
        thr_db = 20 * np.log10(on_ratios[r.modality])
        conf = 0.3 + 0.6 * np.clip((np.nan_to_num(snr, nan=thr_db) - thr_db) / 15.0, 0, 1)
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
    first onset of the current group (a loop over events, which are few)."""
    labels = np.zeros(onset.size, dtype=int)
    g, first = -1, -np.inf
    for i, t in enumerate(onset):
        if t - first > window:
            g += 1
            first = t
        labels[i] = g
    return labels


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

    Returns
    -------
    events : dict of ndarray
        The fused twitch table.
    vetoed : ndarray of int
        Rows of ``table`` turned away as movements.
    """
    groups = []
    for modality in ("emg", "acc"):
        sel = np.flatnonzero(table["modality"] == modality)
        if sel.size == 0:
            groups.append([])
            continue
        labels = _cluster(table["onset"][sel], cfg.fusion.emg_window)
        members = [sel[labels == g] for g in range(labels.max() + 1)]
        groups.append(members)
    emg_groups, acc_groups = groups
    emg_on = np.array([table["onset"][m].min() for m in emg_groups])
    acc_on = np.array([table["onset"][m].min() for m in acc_groups])
    lo, hi = cfg.fusion.acc_delay
    pair_of_emg = np.full(len(emg_groups), -1)
    used = np.zeros(len(acc_groups), bool)
    for i, t in enumerate(emg_on):  # a loop over events
        cand = np.flatnonzero(~used & (acc_on - t >= lo) & (acc_on - t <= hi))
        if cand.size:
            j = cand[np.argmin(np.abs(acc_on[cand] - t - (lo + hi) / 2))]
            pair_of_emg[i] = j
            used[j] = True
    rows = []
    for i, m in enumerate(emg_groups):
        acc_m = acc_groups[pair_of_emg[i]] if pair_of_emg[i] >= 0 else np.zeros(0, int)
        rows.append((m, acc_m))
    vetoed: list[int] = []
    m_on, m_off = emg_motion if emg_motion is not None else (np.zeros(0), np.zeros(0))
    for j, m in enumerate(acc_groups):
        if used[j]:
            continue
        a, b = table["onset"][m].min(), table["offset"][m].max()
        if m_on.size and np.any((m_on <= b) & (m_off >= a)):
            vetoed.extend(m.tolist())
            continue
        rows.append((np.zeros(0, int), m))
    out: dict[str, list] = {k: [] for k in EVENT_COLUMNS}
    for emg_m, acc_m in rows:
        main = emg_m if emg_m.size else acc_m
        best = main[np.nanargmax(np.nan_to_num(table["snr_db"][main], nan=-np.inf))]
        both = np.concatenate([emg_m, acc_m])
        for k in EVENT_COLUMNS:
            out[k].append(table[k][best])
        out["onset"][-1] = table["onset"][main].min()
        out["offset"][-1] = table["offset"][main].max()
        out["duration"][-1] = out["offset"][-1] - out["onset"][-1]
        out["rise_time"][-1] = table["peak_time"][best] - out["onset"][-1]
        names = list(dict.fromkeys(table["channel"][both]))
        out["channels"][-1] = ",".join(names)
        out["modality"][-1] = "+".join(x for x in ("emg", "acc") if
                                       (x == "emg" and emg_m.size) or (x == "acc" and acc_m.size))
        c_e = table["confidence"][emg_m].max() if emg_m.size else 0.0
        c_a = table["confidence"][acc_m].max() if acc_m.size else 0.0
        out["confidence"][-1] = 1 - (1 - c_e) * (1 - c_a)
    fused = {k: np.asarray(v, dtype=table[k].dtype) for k, v in out.items()}
    order = np.argsort(fused["onset"], kind="stable")
    return {k: v[order] for k, v in fused.items()}, np.asarray(vetoed, dtype=int)
