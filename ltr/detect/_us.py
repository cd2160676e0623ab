"""The ultrasound front end: a ``us`` channel (tissue speed at the frame rate) and its
context channels to judged candidates, and their events.

The same steps as for an accelerometer sensor (:func:`ltr.detect._channel.detect_acc_sensor`):
a conditioned signal, its moving-RMS envelope against the running noise floor with
hysteresis (:func:`ltr.detect._channel._segment`), per-candidate features
(:func:`ltr.detect.core.segment_features`) and a rule table
(:data:`ltr.detect.rules.US_RULES`). The context the rules read comes from the channels
:func:`ltr.ultrasound.motion_recording` writes beside the ``us`` channel, found by name
(:func:`companions`): ``<name> global``, ``<name> needle``, ``<name> change``,
``<name> tip``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.ndimage import median_filter

from ..envelope import window_samples
from ..preprocess import fill_gaps
from ..results import EVENT_COLUMNS
from ._channel import ChannelResult, _extremes_in, _segment
from .config import DetectorConfig
from .core import MovingSums, at_blocks, segment_features
from .rules import US_RULES, Candidates, judge

#: Context channels of a ``us`` channel NAME, in the order :func:`detect_us_channel` reads.
CONTEXT = ("global", "needle", "change", "tip")


def companions(name: str, ch_names: Sequence[str]) -> list[str]:
    """The context channels of ``us`` channel ``name`` present in ``ch_names``
    (``"<name> global"`` ...); missing ones are left out (their rules then never fire)."""
    return [f"{name} {c}" for c in CONTEXT if f"{name} {c}" in ch_names]


def _context(rows: np.ndarray, names: Sequence[str], name: str, n: int,
             ) -> dict[str, np.ndarray]:
    have = {c: rows[1 + i] for i, c in enumerate(
        c for c in CONTEXT if f"{name} {c}" in names)}
    return {c: (have[c] if c == "tip" else np.nan_to_num(have[c])) if c in have
            else np.full(n, np.nan) for c in CONTEXT}


def detect_us_channel(rows: np.ndarray, sfreq: float, name: str, cfg: DetectorConfig,
                      names: Sequence[str] = (), *, unit: str = "mm/s") -> ChannelResult:
    """Find and judge twitch candidates on a ``us`` channel.

    Parameters
    ----------
    rows : ndarray, shape (1 + k, n_frames)
        The ``us`` channel, then its context channels (:func:`companions`).
    sfreq : float
        Frame rate, Hz.
    name : str
        The ``us`` channel's name.
    cfg : DetectorConfig
        ``cfg.us`` holds the front end's parameters and the rules' thresholds.
    names : sequence of str
        The names of ``rows[1:]`` (context channels).
    unit : str
        The speed's unit (mm/s or px/s).
    """
    u = cfg.us
    rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
    n = rows.shape[1]
    speed, _ = fill_gaps(rows[0], max(1, round(cfg.gaps.max_fill * sfreq)))
    speed = np.nan_to_num(speed)
    ctx = _context(rows, list(names), name, n)
    # slow changes of the speed (breathing, drift) taken out, its noise level kept: the
    # running median over `baseline` s is replaced by its own median
    base = median_filter(speed, size=max(1, round(u.baseline * sfreq)) | 1, mode="nearest")
    x = np.maximum(speed - base + float(np.median(base)), 0.0)
    sums = MovingSums(x * x)
    env2 = sums.mean(max(window_samples(u.window, sfreq) // 2, 1))
    seg = _segment(sums, env2, sfreq, u.on_ratio, u.off_ratio, u.edge_ratio, u.window,
                   u.window / 2, cfg)
    onset, offset = seg["onset"], seg["offset"]
    b = seg["b"]
    floor = seg["floor"]
    feats = segment_features(x, onset, offset, sfreq, at_blocks(floor, b, onset),
                             spectral=False)
    feats["median_freq"] = np.full(onset.size, np.nan)
    feats["rise_time"] = (feats["peak"] - onset) / sfreq
    m = max(1, round(u.margin * sfreq))
    lo, hi = np.maximum(onset - m, 0), np.minimum(offset + m, n)
    feats["speed_peak"] = np.nan_to_num(_extremes_in(speed, onset, offset)[0])
    for key in ("global", "needle"):
        trace = ctx[key]
        feats[f"{key}_peak"] = np.nan_to_num(_extremes_in(trace, lo, hi)[0])
        med = float(np.nanmedian(trace)) if np.isfinite(trace).any() else np.nan
        feats[f"{key}_median"] = np.full(onset.size, med)
    # how far the tip moved from before the candidate to after it: the medians of its
    # position over `tip_window` s on each side (a twitch at the tip jostles the
    # estimate and returns; an advance or withdrawal stays); 0 without a needle
    feats["tip_move"] = _tip_move(ctx["tip"], onset, offset, max(1, round(u.tip_window
                                                                          * sfreq)))
    # how far the tip travelled around a longer stretch: the range of its position from
    # `long_window` s before the candidate to as long after it, which spans a 0.3-1 s
    # manipulation the candidate lies in
    feats["tip_span"] = _tip_span(ctx["tip"], onset, offset,
                                  max(1, round(u.long_window * sfreq)))
    change = ctx["change"]
    if np.isfinite(change).any():
        ref = float(np.median(change))
        still = (change < u.freeze_ratio * ref).astype(float)
        feats["frozen"] = np.nan_to_num(_extremes_in(still, lo, hi)[0])
    else:
        feats["frozen"] = np.zeros(onset.size)
    with np.errstate(invalid="ignore"):
        reason = judge(US_RULES, Candidates(onset, offset, sfreq, feats,
                                            at_blocks(floor, b, onset)), u)  # type: ignore[arg-type]
    finite = floor[np.isfinite(floor)]
    return ChannelResult(name=name, modality="us", unit=unit, onset=onset, offset=offset,
                         features=feats, reason=reason,
                         floor=float(np.median(finite)) if finite.size else float("nan"),
                         processing={"rate_hz": sfreq, "baseline_s": u.baseline,
                                     "context": list(names)},
                         floor_blocks=floor, floor_block=b)


def _tip_move(tip: np.ndarray, onset: np.ndarray, offset: np.ndarray, w: int,
              ) -> np.ndarray:
    out = np.zeros(onset.size)
    if not np.isfinite(tip).any():
        return out
    n = tip.size
    for i, (a, b) in enumerate(zip(onset.tolist(), offset.tolist(), strict=True)):
        before = tip[max(0, a - w): max(1, a)]
        after = tip[min(b, n - 1): min(n, b + w)]
        if np.isfinite(before).any() and np.isfinite(after).any():  # a loop over events
            out[i] = abs(float(np.nanmedian(after)) - float(np.nanmedian(before)))
    return out


def _tip_span(tip: np.ndarray, onset: np.ndarray, offset: np.ndarray, w: int,
              ) -> np.ndarray:
    """Range (px) of the tip's finite positions over each candidate extended by ``w``
    frames on each side; 0 where there are none (no needle)."""
    out = np.zeros(onset.size)
    if not np.isfinite(tip).any():
        return out
    n = tip.size
    for i, (a, b) in enumerate(zip(onset.tolist(), offset.tolist(), strict=True)):
        seg = tip[max(0, a - w): min(n, b + w)]  # a loop over events
        if np.isfinite(seg).any():
            out[i] = float(np.nanmax(seg) - np.nanmin(seg))
    return out


def split_us(table: dict[str, np.ndarray], cfg: DetectorConfig,
             ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The per-channel table without its ``us`` rows, and those rows with their
    confidence (:func:`us_confidence`)."""
    is_us = table["modality"].astype(str) == "us"
    rows = {k: v[is_us] for k, v in table.items()}
    rows["confidence"] = us_confidence(rows["snr_db"], cfg)
    return {k: v[~is_us] for k, v in table.items()}, rows


def us_confidence(snr_db: np.ndarray, cfg: DetectorConfig) -> np.ndarray:
    """The heuristic scale of :class:`~ltr.detect.config.FusionConfig` on the SNR over
    the ``us`` on threshold (no calibrated model for ultrasound yet)."""
    from ._fusion import _heuristic

    thr_db = 20 * np.log10(cfg.us.on_ratio)
    return _heuristic(np.asarray(snr_db, float) - thr_db, cfg.fusion)


def us_events(rows: dict[str, np.ndarray], cfg: DetectorConfig) -> dict[str, np.ndarray]:
    """Twitches from the accepted ``us`` rows: rows of several ``us`` channels (ROIs)
    within ``fusion.emg_window`` s of the first are one twitch (primary channel: the
    highest SNR)."""
    from ._fusion import _cluster

    if rows["onset"].size == 0:
        return {k: rows[k][:0] for k in EVENT_COLUMNS}
    order = np.argsort(rows["onset"], kind="stable")
    rows = {k: v[order] for k, v in rows.items()}
    labels = _cluster(rows["onset"], cfg.fusion.emg_window)
    snr = np.nan_to_num(rows["snr_db"].astype(float), nan=-np.inf)
    pick = []
    names = []
    for g in np.unique(labels):  # a loop over events
        idx = np.flatnonzero(labels == g)
        pick.append(int(idx[np.argmax(snr[idx])]))
        names.append(",".join(dict.fromkeys(rows["channel"][idx].tolist())))
    out = {k: rows[k][pick] for k in EVENT_COLUMNS}
    out["channels"] = np.asarray(names, dtype=object)
    return out


def add_us(events: dict[str, np.ndarray], conf_x: np.ndarray,
           per_channel: dict[str, np.ndarray], us_rows: dict[str, np.ndarray],
           cfg: DetectorConfig) -> tuple[dict[str, np.ndarray], np.ndarray,
                                         dict[str, np.ndarray]]:
    """The fused events and the per-channel table with the ultrasound twitches added
    (sorted by onset; their rows of the confidence design matrix are zeros)."""
    us_ev = us_events(us_rows, cfg)
    events = {k: np.concatenate([events[k], us_ev[k].astype(events[k].dtype)])
              for k in events}
    conf_x = np.vstack([conf_x, np.zeros((us_ev["onset"].size, conf_x.shape[1]))])
    order = np.argsort(events["onset"], kind="stable")
    per_channel = {k: np.concatenate([per_channel[k], us_rows[k].astype(per_channel[k].dtype)])
                   for k in per_channel}
    o = np.argsort(per_channel["onset"], kind="stable")
    return ({k: v[order] for k, v in events.items()}, conf_x[order],
            {k: v[o] for k, v in per_channel.items()})
