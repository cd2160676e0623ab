"""Event-level scoring of detected twitches against ground truth.

Every accuracy figure of ltr is computed here: one-to-one onset matching within a
tolerance (closest pairs first), precision, recall, F1, signed onset errors, false alarms
per minute, count error per needling epoch, and which confounders were wrongly counted.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._validate import check_positive

#: SNR bands (dB) used to break recall down.
SNR_BANDS: tuple[tuple[float, float], ...] = (
    (-np.inf, 0.0), (0.0, 6.0), (6.0, 12.0), (12.0, 20.0), (20.0, np.inf),
)
_TWITCH_TYPES = {"twitch", "ltr", "local twitch response"}


def _as_onsets(x: Any, name: str) -> np.ndarray:
    if hasattr(x, "onset") and not isinstance(x, np.ndarray):
        x = x.onset
    elif isinstance(x, dict):
        x = x["onset"]
    arr = np.asarray(x, dtype=float).reshape(-1)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite onsets in seconds, got NaN or inf")
    return arr


def _nearest(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Index into ``dst`` (sorted) of the element nearest to each ``src``; ties go earlier."""
    pos = np.searchsorted(dst, src)
    left = np.clip(pos - 1, 0, dst.size - 1)
    right = np.clip(pos, 0, dst.size - 1)
    take_right = np.abs(dst[right] - src) < np.abs(src - dst[left])
    return np.where(take_right, right, left)


def match_onsets(
    detected: Any, reference: Any, tolerance: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Match detected to reference onsets one-to-one, closest pairs first.

    Each round pairs every detected and reference event that are each other's nearest
    unmatched neighbour within ``tolerance``; rounds repeat on what is left until no pair
    is added. This gives the same matching as greedily taking the globally closest
    remaining pair, in a few vectorized rounds.

    Parameters
    ----------
    detected, reference : array_like of float
        Onsets in seconds (any order).
    tolerance : float
        Largest allowed ``|detected - reference|`` in seconds (with 1e-12 s of slack, so
        that 1.05 - 1.00 counts as within 0.05 despite floating-point rounding).

    Returns
    -------
    det_idx, ref_idx : ndarray of int
        Indices of matched pairs into the inputs, ordered by reference onset.
    """
    det = _as_onsets(detected, "detected")
    ref = _as_onsets(reference, "reference")
    tol = check_positive("tolerance", tolerance, allow_zero=True)
    d_order, r_order = np.argsort(det, kind="stable"), np.argsort(ref, kind="stable")
    d_sorted, r_sorted = det[d_order], ref[r_order]
    d_free = np.ones(det.size, bool)
    r_free = np.ones(ref.size, bool)
    pairs_d: list[np.ndarray] = []
    pairs_r: list[np.ndarray] = []
    while d_free.any() and r_free.any():
        di = np.flatnonzero(d_free)
        ri = np.flatnonzero(r_free)
        nd = ri[_nearest(d_sorted[di], r_sorted[ri])]  # nearest free reference of each det
        nr = di[_nearest(r_sorted[ri], d_sorted[di])]  # nearest free detection of each ref
        mutual = nr[np.searchsorted(ri, nd)] == di
        close = np.abs(d_sorted[di] - r_sorted[nd]) <= tol + 1e-12
        ok = mutual & close
        if not ok.any():
            break
        pairs_d.append(di[ok])
        pairs_r.append(nd[ok])
        d_free[di[ok]] = False
        r_free[nd[ok]] = False
    if not pairs_d:
        empty = np.zeros(0, dtype=int)
        return empty, empty
    md = np.concatenate(pairs_d)
    mr = np.concatenate(pairs_r)
    order = np.argsort(mr)
    return d_order[md[order]], r_order[mr[order]]


def compare(detected: Any, reference: Any, tolerance: float = 0.05) -> dict[str, Any]:
    """Precision, recall, F1 and onset errors of detected against reference onsets.

    Parameters
    ----------
    detected : array_like of float | object with ``onset``
        Detected twitch onsets, s (a results object with an ``onset`` array works too).
    reference : array_like of float
        True onsets, s.
    tolerance : float
        Matching tolerance, s (default 0.05, the usual convention for EMG; use 0.1 for
        accelerometer events).

    Returns
    -------
    dict
        ``tp``, ``fp``, ``fn`` (int); ``precision`` = tp / (tp + fp), ``recall`` =
        tp / (tp + fn), ``f1`` (float; NaN when the denominator is 0, i.e. precision
        with no detection or recall with no reference; F1 is 1.0 when both sets are
        empty and 0.0 when tp is 0 otherwise); ``onset_error_ms`` (signed detected -
        reference per match, ordered by reference onset); ``mean_abs_onset_error_ms``
        and ``median_onset_error_ms`` (NaN without matches); ``matched_detected`` and
        ``matched_reference`` (index arrays).

    Examples
    --------
    Two of three true twitches are found, 10 ms late and 20 ms early; the detection at
    5.0 s matches nothing:

    >>> r = compare([1.01, 2.98, 5.0], [1.0, 3.0, 4.0], tolerance=0.05)
    >>> r["tp"], r["fp"], r["fn"]
    (2, 1, 1)
    >>> round(r["precision"], 3), round(r["recall"], 3), round(r["f1"], 3)
    (0.667, 0.667, 0.667)
    >>> r["onset_error_ms"].round(1).tolist()
    [10.0, -20.0]
    """
    det = _as_onsets(detected, "detected")
    ref = _as_onsets(reference, "reference")
    md, mr = match_onsets(det, ref, tolerance)
    tp = int(md.size)
    fp = int(det.size - tp)
    fn = int(ref.size - tp)
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)
    err = (det[md] - ref[mr]) * 1e3
    return {
        "tp": tp, "fp": fp, "fn": fn,
        "precision": precision, "recall": recall, "f1": f1,
        "onset_error_ms": err,
        "mean_abs_onset_error_ms": float(np.mean(np.abs(err))) if err.size else float("nan"),
        "median_onset_error_ms": float(np.median(err)) if err.size else float("nan"),
        "matched_detected": md, "matched_reference": mr,
    }


@dataclass
class EvaluationReport:
    """Scores of one detection run against one truth (or several, combined).

    Attributes
    ----------
    tp, fp, fn : int
    precision, recall, f1 : float
    onset_error_ms : ndarray
        Signed onset errors of the matches, ms.
    duration : float
        Seconds of recording scored.
    tolerance : float
        Matching tolerance, s.
    count_error : ndarray
        Per epoch: detected minus true twitch count (detections matched or not).
    detections_outside_epochs : int
        Detections while the needle was out (twitches cannot happen then).
    false_alarm_causes : dict
        False detections by cause: a confounder kind, ``twitch_split`` (a second detection
        inside one true twitch) or ``none`` (nothing known nearby).
    confounders_counted : dict
        Per confounder kind: ``{"events": n, "counted": k}``, how many of its events drew
        a false detection.
    recall_by_snr : dict
        ``"lo..hi dB"`` -> ``{"true": n, "found": k}``.
    n_runs : int
        Number of recordings combined.
    """

    tp: int
    fp: int
    fn: int
    onset_error_ms: np.ndarray
    duration: float
    tolerance: float
    count_error: np.ndarray = field(default_factory=lambda: np.zeros(0))
    detections_outside_epochs: int = 0
    false_alarm_causes: dict[str, int] = field(default_factory=dict)
    confounders_counted: dict[str, dict[str, int]] = field(default_factory=dict)
    recall_by_snr: dict[str, dict[str, int]] = field(default_factory=dict)
    n_runs: int = 1

    @property
    def precision(self) -> float:
        """tp / (tp + fp); NaN without detections."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        """tp / (tp + fn); NaN without true twitches."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def f1(self) -> float:
        """2 tp / (2 tp + fp + fn); 1.0 when there is nothing to find and nothing found."""
        d = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / d if d else 1.0

    @property
    def false_alarms_per_min(self) -> float:
        """False detections per minute of recording."""
        return self.fp / (self.duration / 60.0) if self.duration > 0 else float("nan")

    @property
    def mean_abs_count_error(self) -> float:
        """Mean absolute per-epoch count error (twitches)."""
        return float(np.mean(np.abs(self.count_error))) if self.count_error.size else 0.0

    @classmethod
    def combine(cls, reports: Sequence[EvaluationReport]) -> EvaluationReport:
        """Pool several reports (e.g. many seeds of one condition): counts are summed."""
        if not reports:
            raise ValueError("combine needs at least one report")

        def add(dicts: Iterable[dict[str, Any]]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for d in dicts:
                for k, v in d.items():
                    if isinstance(v, dict):
                        out[k] = add([out.get(k, {}), v])
                    else:
                        out[k] = out.get(k, 0) + v
            return out

        return cls(
            tp=sum(r.tp for r in reports), fp=sum(r.fp for r in reports),
            fn=sum(r.fn for r in reports),
            onset_error_ms=np.concatenate([r.onset_error_ms for r in reports]),
            duration=sum(r.duration for r in reports), tolerance=reports[0].tolerance,
            count_error=np.concatenate([r.count_error for r in reports]),
            detections_outside_epochs=sum(r.detections_outside_epochs for r in reports),
            false_alarm_causes=add(r.false_alarm_causes for r in reports),
            confounders_counted=add(r.confounders_counted for r in reports),
            recall_by_snr=add(r.recall_by_snr for r in reports),
            n_runs=sum(r.n_runs for r in reports),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary."""
        err = self.onset_error_ms
        return {
            "tp": self.tp, "fp": self.fp, "fn": self.fn,
            "precision": self.precision, "recall": self.recall, "f1": self.f1,
            "false_alarms_per_min": self.false_alarms_per_min,
            "onset_error_ms": {
                "median": float(np.median(err)) if err.size else None,
                "mean_abs": float(np.mean(np.abs(err))) if err.size else None,
                "p95_abs": float(np.percentile(np.abs(err), 95)) if err.size else None,
            },
            "count_error_per_epoch": self.count_error.tolist(),
            "mean_abs_count_error": self.mean_abs_count_error,
            "detections_outside_epochs": self.detections_outside_epochs,
            "false_alarm_causes": self.false_alarm_causes,
            "confounders_counted": self.confounders_counted,
            "recall_by_snr": self.recall_by_snr,
            "duration_s": self.duration, "tolerance_s": self.tolerance, "n_runs": self.n_runs,
        }

    def format(self) -> str:
        """A plain-text table."""
        err = self.onset_error_ms
        lines = [
            f"tolerance            {self.tolerance * 1e3:.0f} ms",
            f"true twitches        {self.tp + self.fn}",
            f"detections           {self.tp + self.fp}",
            f"TP / FP / FN         {self.tp} / {self.fp} / {self.fn}",
            f"precision            {self.precision:.3f}",
            f"recall               {self.recall:.3f}",
            f"F1                   {self.f1:.3f}",
            f"false alarms / min   {self.false_alarms_per_min:.2f}",
        ]
        if err.size:
            lines.append(f"onset error          median {np.median(err):+.1f} ms, mean |e| "
                         f"{np.mean(np.abs(err)):.1f} ms, 95th pct |e| "
                         f"{np.percentile(np.abs(err), 95):.1f} ms")
        if self.count_error.size:
            lines.append(f"count error / epoch  {' '.join(f'{c:+d}' for c in self.count_error)}"
                         f"  (mean |e| {self.mean_abs_count_error:.2f})")
        lines.append(f"outside epochs       {self.detections_outside_epochs} detection(s)")
        if self.false_alarm_causes:
            lines.append("false alarms by cause")
            for k, v in sorted(self.false_alarm_causes.items(), key=lambda kv: -kv[1]):
                lines.append(f"  {k:<18} {v}")
        if self.confounders_counted:
            lines.append("confounders wrongly counted")
            for k, v in sorted(self.confounders_counted.items()):
                lines.append(f"  {k:<18} {v['counted']} of {v['events']}")
        if self.recall_by_snr:
            lines.append("recall by SNR")
            for k, v in self.recall_by_snr.items():
                rec = v["found"] / v["true"] if v["true"] else float("nan")
                lines.append(f"  {k:<18} {v['found']:>4} of {v['true']:<4} ({rec:.2f})")
        return "\n".join(lines)


def evaluate(
    detected: Any,
    truth: Any,
    *,
    tolerance: float | None = None,
    snr_range: tuple[float, float] | None = None,
) -> EvaluationReport:
    """Score detected twitch onsets against a simulated session's :class:`~ltr.simulate.Truth`.

    Parameters
    ----------
    detected : array_like of float | object with ``onset``
        Detected twitch onsets, s.
    truth : Truth
        Ground truth of the session.
    tolerance : float | None
        Matching tolerance, s. Default 0.05 for layouts with EMG (onsets are EMG onsets),
        0.1 for accelerometer-only layouts (onsets are jolt onsets).
    snr_range : (float, float) | None
        Score only twitches whose SNR (dB) lies in ``[low, high)``. Twitches outside the
        range are "don't care": a detection matched to one is neither a hit nor a false
        alarm, and missing one is no miss. Matching is still done against all twitches,
        so restricting the range never turns a correct detection into a false alarm.

    Returns
    -------
    EvaluationReport
    """
    det = np.sort(_as_onsets(detected, "detected"))
    if tolerance is None:
        tolerance = 0.05 if truth.has_emg else 0.1
    tol = check_positive("tolerance", tolerance, allow_zero=True)
    ref = truth.onsets
    md, mr = match_onsets(det, ref, tol)
    duration = float(truth.info.get("duration", 0.0))
    scored = np.ones(ref.size, bool)
    if snr_range is not None:
        snr_all = truth.twitches["snr_db"]
        scored = (snr_all >= snr_range[0]) & (snr_all < snr_range[1])
    dont_care = np.zeros(det.size, bool)
    dont_care[md[~scored[mr]]] = True
    keep = scored[mr]
    md, mr = md[keep], mr[keep]

    # per-epoch counts (zero-twitch epochs included) and detections with the needle out
    starts, stops = truth.epochs["start"], truth.epochs["stop"]
    ep_of_det = _interval_index(det, starts, stops)
    n_ep = starts.size
    det_counts = np.bincount(ep_of_det[ep_of_det >= 0], minlength=n_ep)[:n_ep]
    count_error = det_counts - truth.counts_per_epoch()
    outside = int(np.sum(ep_of_det < 0))

    # what the false detections were
    fp_mask = ~dont_care
    fp_mask[md] = False
    fp_times = det[fp_mask]
    causes = _attribute(fp_times, truth, tol, duration)
    counted = _confounders_counted(fp_times, truth, tol, duration)

    snr = truth.twitches.get("snr_db")
    by_snr: dict[str, dict[str, int]] = {}
    if snr is not None and np.isfinite(snr).any():
        found = np.zeros(ref.size, bool)
        found[mr] = True
        for lo, hi in SNR_BANDS:
            sel = (snr >= lo) & (snr < hi) & scored
            key = f"{_fmt_db(lo)}..{_fmt_db(hi)} dB"
            by_snr[key] = {"true": int(sel.sum()), "found": int(found[sel].sum())}

    return EvaluationReport(
        tp=int(md.size), fp=int(fp_mask.sum()), fn=int(scored.sum() - md.size),
        onset_error_ms=(det[md] - ref[mr]) * 1e3, duration=duration, tolerance=tol,
        count_error=count_error, detections_outside_epochs=outside,
        false_alarm_causes=causes, confounders_counted=counted, recall_by_snr=by_snr,
    )


def _fmt_db(v: float) -> str:
    return "-inf" if v == -np.inf else ("inf" if v == np.inf else f"{v:g}")


def _interval_index(t: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Index of the (sorted, disjoint) interval holding each time, -1 outside all."""
    if starts.size == 0:
        return np.full(t.size, -1)
    i = np.searchsorted(starts, t, side="right") - 1
    inside = (i >= 0) & (t <= stops[np.clip(i, 0, None)])
    return np.where(inside, i, -1)


def _local_confounders(truth: Any, duration: float) -> dict[str, np.ndarray]:
    """Confounders with a finite extent (whole-recording hum or wander is no 'cause')."""
    cf = truth.confounders
    span = cf["offset"] - cf["onset"]
    keep = span < 0.5 * max(duration, 1e-9)
    return {k: v[keep] for k, v in cf.items()}


def _attribute(fp_times: np.ndarray, truth: Any, tol: float, duration: float) -> dict[str, int]:
    if fp_times.size == 0:
        return {}
    causes = np.full(fp_times.size, "none", dtype=object)
    tw_on, tw_off = truth.twitches["onset"], truth.twitches["offset"]
    # a detection inside a true twitch (beyond the tolerance of its onset) splits it
    in_twitch = np.zeros(fp_times.size, bool)
    if tw_on.size:
        i = np.searchsorted(tw_on, fp_times, side="right") - 1
        ok = i >= 0
        in_twitch[ok] = fp_times[ok] <= tw_off[i[ok]] + tol
    causes[in_twitch] = "twitch_split"
    cf = _local_confounders(truth, duration)
    if cf["onset"].size:
        lo, hi = cf["onset"] - tol, cf["offset"] + tol
        hit = (fp_times[:, None] >= lo[None, :]) & (fp_times[:, None] <= hi[None, :])
        dist = np.where(hit, np.abs(fp_times[:, None] - cf["onset"][None, :]), np.inf)
        best = dist.argmin(axis=1)
        has = np.isfinite(dist[np.arange(fp_times.size), best]) & ~in_twitch
        causes[has] = cf["kind"][best[has]]
    kinds, counts = np.unique(causes.astype(str), return_counts=True)
    return {str(k): int(c) for k, c in zip(kinds, counts, strict=True)}


def _confounders_counted(fp_times: np.ndarray, truth: Any, tol: float,
                         duration: float) -> dict[str, dict[str, int]]:
    cf = _local_confounders(truth, duration)
    out: dict[str, dict[str, int]] = {}
    for kind in np.unique(cf["kind"]):
        sel = cf["kind"] == kind
        lo, hi = cf["onset"][sel] - tol, cf["offset"][sel] + tol
        if fp_times.size:
            hit = ((fp_times[:, None] >= lo[None, :]) & (fp_times[:, None] <= hi[None, :])).any(0)
        else:
            hit = np.zeros(lo.size, bool)
        out[str(kind)] = {"events": int(sel.sum()), "counted": int(hit.sum())}
    return out


def read_events_tsv(path: str | os.PathLike[str]) -> np.ndarray:
    """Onsets (s) of the twitches in a BIDS-style events.tsv, or the ``.csv`` that
    ``ltr detect -o events.csv`` writes (comma-separated by its suffix).

    Rows are kept when there is no ``trial_type`` column, or when it says ``twitch``
    (also ``ltr``). An ``onset`` column is required.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    delimiter = "," if p.suffix.lower() == ".csv" else "\t"
    with open(p, newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        if reader.fieldnames is None or "onset" not in reader.fieldnames:
            raise ValueError(f"{p}: an events table needs an 'onset' column, found "
                             f"{reader.fieldnames}")
        onsets = []
        for lineno, row in enumerate(reader, start=2):
            kind = (row.get("trial_type") or "twitch").strip().lower()
            if "trial_type" in row and kind not in _TWITCH_TYPES:
                continue
            try:
                onsets.append(float(row["onset"]))
            except (TypeError, ValueError):
                raise ValueError(f"{p}: line {lineno}: onset {row['onset']!r} is not a "
                                 "number") from None
    return np.asarray(onsets, dtype=float)


def evaluate_files(detected_tsv: str | os.PathLike[str], truth_json: str | os.PathLike[str],
                   *, tolerance: float | None = None) -> EvaluationReport:
    """Score an events.tsv of detections against a ``.truth.json`` (``ltr evaluate``)."""
    from .simulate.truth import Truth

    return evaluate(read_events_tsv(detected_tsv), Truth.from_json(truth_json),
                    tolerance=tolerance)


# -- calibration of event confidence -------------------------------------------------------

def detection_outcomes(detected: Any, truth: Any, *,
                       tolerance: float | None = None) -> np.ndarray:
    """Whether each detection is a true twitch: matched one-to-one to a true onset.

    Parameters
    ----------
    detected : array_like of float | object with ``onset``
        Detected onsets, s, in the order of their confidences.
    truth : Truth | array_like of float
        Ground truth (or plain reference onsets, s).
    tolerance : float | None
        Matching tolerance, s; default as in :func:`evaluate` (50 ms with EMG, 100 ms for
        accelerometer-only truth, 50 ms for plain onsets).

    Returns
    -------
    ndarray of bool
        One entry per detection, in the input order.
    """
    det = _as_onsets(detected, "detected")
    if hasattr(truth, "onsets"):
        ref = truth.onsets
        tol = tolerance if tolerance is not None else (0.05 if truth.has_emg else 0.1)
    else:
        ref = _as_onsets(truth, "reference")
        tol = 0.05 if tolerance is None else tolerance
    md, _ = match_onsets(det, ref, tol)
    out = np.zeros(det.size, bool)
    out[md] = True
    return out


@dataclass(frozen=True)
class Reliability:
    """Reliability table of event confidence: among events of confidence c, how many are true.

    Bins split [0, 1] into ``n_bins`` equal intervals ``[lower, upper)`` (the last one
    closed). Empty bins have count 0 and NaN means.

    Attributes
    ----------
    lower, upper : ndarray
        Bin edges (confidence, 0-1).
    mean_confidence : ndarray
        Mean confidence of the events in each bin.
    fraction_true : ndarray
        Share of the events in each bin that are true twitches.
    count : ndarray of int
        Events per bin.
    """

    lower: np.ndarray
    upper: np.ndarray
    mean_confidence: np.ndarray
    fraction_true: np.ndarray
    count: np.ndarray

    @property
    def n_events(self) -> int:
        """Events in all bins."""
        return int(self.count.sum())

    @property
    def ece(self) -> float:
        """Expected calibration error: sum over bins of (count / N) × |mean confidence -
        fraction true| (Naeini et al. 2015; Guo et al. 2017). NaN without events."""
        n = self.count.sum()
        if n == 0:
            return float("nan")
        full = self.count > 0
        gap = np.abs(self.mean_confidence[full] - self.fraction_true[full])
        return float(np.sum(self.count[full] * gap) / n)

    @property
    def max_gap(self) -> float:
        """Largest |mean confidence - fraction true| over non-empty bins (NaN if none)."""
        full = self.count > 0
        if not full.any():
            return float("nan")
        return float(np.max(np.abs(self.mean_confidence[full] - self.fraction_true[full])))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable columns (NaN as None) and the ECE."""
        def col(a: np.ndarray) -> list[Any]:
            return [None if not np.isfinite(v) else float(v) for v in a]

        return {"lower": col(self.lower), "upper": col(self.upper),
                "mean_confidence": col(self.mean_confidence),
                "fraction_true": col(self.fraction_true), "count": self.count.tolist(),
                "ece": self.ece}

    def format(self) -> str:
        """A Markdown table and the ECE."""
        lines = ["| confidence | events | mean confidence | fraction true |",
                 "|---|---|---|---|"]
        for lo, hi, m, f, c in zip(self.lower, self.upper, self.mean_confidence,
                                   self.fraction_true, self.count, strict=True):
            ms = "-" if c == 0 else f"{m:.3f}"
            fs = "-" if c == 0 else f"{f:.3f}"
            lines.append(f"| {lo:.1f}-{hi:.1f} | {int(c)} | {ms} | {fs} |")
        lines.append("")
        lines.append(f"Expected calibration error (ECE) over {self.n_events} events: "
                     f"{self.ece:.3f}" if self.n_events else "No events.")
        return "\n".join(lines)


def reliability(confidence: Any, correct: Any, n_bins: int = 10) -> Reliability:
    """Reliability table of event confidences against whether each event is true.

    Parameters
    ----------
    confidence : array_like of float
        Confidence of each event, 0-1.
    correct : array_like of bool
        Whether each event is a true twitch (:func:`detection_outcomes`).
    n_bins : int
        Number of equal-width confidence bins (default 10).

    Returns
    -------
    Reliability

    Examples
    --------
    Four events at confidence 0.9 of which three are true, two at 0.2 of which none is:

    >>> r = reliability([0.9, 0.9, 0.9, 0.9, 0.2, 0.2], [1, 1, 1, 0, 0, 0], n_bins=5)
    >>> r.count.tolist()
    [0, 2, 0, 0, 4]
    >>> round(r.ece, 4)  # (4 × |0.9 - 0.75| + 2 × |0.2 - 0|) / 6
    0.1667
    """
    conf = np.asarray(confidence, dtype=float).reshape(-1)
    ok = np.asarray(correct).reshape(-1)
    if conf.size != ok.size:
        raise ValueError(f"confidence and correct must have the same length, got "
                         f"{conf.size} and {ok.size}")
    if not np.all(np.isfinite(conf)) or np.any((conf < 0) | (conf > 1)):
        raise ValueError("confidence must be finite values in [0, 1]")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    ok = ok.astype(bool)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(idx, weights=conf, minlength=n_bins) / count
        frac = np.bincount(idx, weights=ok.astype(float), minlength=n_bins) / count
    return Reliability(edges[:-1], edges[1:], np.where(count > 0, mean, np.nan),
                       np.where(count > 0, frac, np.nan), count)


def expected_calibration_error(confidence: Any, correct: Any, n_bins: int = 10) -> float:
    """Expected calibration error of event confidences (see :attr:`Reliability.ece`)."""
    return reliability(confidence, correct, n_bins).ece
