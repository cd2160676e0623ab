"""Site calibration: fit the detector's few decisive thresholds to reviewed recordings.

A site's amplifiers, electrodes, muscles and reviewers differ from the simulated sessions
the defaults were developed on. :func:`calibrate` fits two knobs to a site's reviewed
recordings (recording + reviewed events file, the reviewer's twitches taken as the truth)
and measures, by leave-one-recording-out cross-validation, how much that helps on
recordings the fit did not see.

The two knobs, and why these:

- **threshold scale** ``s``: how far above the running noise floor a candidate must rise.
  It scales, together, the excess over 1 of the hysteresis ratios of EMG and
  accelerometer (``emg.on_ratio``/``off_ratio``, ``acc.on_ratio``/``off_ratio``:
  ``ratio = 1 + s (default - 1)``) and the spread guards of the floor
  (``floor.on_sigma``/``off_sigma``: ``sigma = s × default``). These decide recall: on
  weak twitches (the ``low_snr`` condition) the default ratio alone misses a third of
  them, and lowering the ratio without the guard changes nothing where the guard is the
  higher of the two (measured on simulated sessions, see the tests). Scaling all of them
  by one number keeps their proportions, which the rules after them were developed with.
- **confidence floor** ``confidence.min_confidence``: twitches below it are set aside.
  It decides precision where look-alikes slip through (faint heartbeats, lone motor
  units): the calibrated confidence ranks twitches by how likely they are true, so one
  number trades recall for precision.

Everything else (the rule table's thresholds) describes the physiology of look-alikes
and is left alone: a few reviewed recordings cannot pin dozens of thresholds.

Pairing: each reviewed recording is a recording file and its reviewed events file.
Given a recording alone, its events file is found beside it (:func:`find_reviewed`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._logging import use_log_level
from ._validate import LtrDataWarning
from .detect.config import DetectorConfig
from .evaluate import match_onsets

logger = logging.getLogger("ltr")

#: Threshold scales tried (1: the configuration given).
SCALES: tuple[float, ...] = (0.5, 0.625, 0.75, 0.875, 1.0, 1.15, 1.3, 1.5)
#: Confidence floors tried (0: every twitch kept).
FLOORS: tuple[float, ...] = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)

#: Names of a reviewed events file beside ``DIR/NAME.ext``, tried in order: the file of
#: ``ltr review``, then the events files of ``ltr simulate`` and of BIDS.
REVIEWED_NAMES: tuple[str, ...] = (
    "{stem}.reviewed.tsv", "{stem}_reviewed.tsv", "{stem}.reviewed_events.tsv",
    "{stem}_reviewed_events.tsv", "{stem}.events.tsv", "{stem}_events.tsv",
    "{bids}_events.tsv",
)


def _no_decision(path: Path) -> bool:
    """A reviewed file of ``ltr review`` (a ``review_status`` column) not reviewed yet."""
    from .agreement import _rows_of

    fields, rows = _rows_of(path)
    if "review_status" not in fields:
        return False
    return all((r.get("review_status") or "").lower() in ("", "n/a", "na") for r in rows)


def find_reviewed(recording: str | os.PathLike[str]) -> Path:
    """The reviewed events file of a recording: the first of :data:`REVIEWED_NAMES` that
    exists beside it (``{stem}``: the name without its suffix; ``{bids}``: the stem
    without its last ``_label``, so ``sub-01_task-x_emg.edf`` pairs with
    ``sub-01_task-x_events.tsv``).

    Raises
    ------
    FileNotFoundError
        Naming the recording and the names tried.
    """
    p = Path(recording)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    stem = p.name[: -len(p.suffix)] if p.suffix else p.name
    bids = stem.rsplit("_", 1)[0] if "_" in stem else stem
    tried = []
    for pattern in REVIEWED_NAMES:
        q = p.with_name(pattern.format(stem=stem, bids=bids))
        if q.exists() and q != p:
            return q
        tried.append(q.name)
    raise FileNotFoundError(f"{p}: no reviewed events file beside it (tried "
                            f"{', '.join(dict.fromkeys(tried))}); pair them as "
                            "RECORDING=EVENTS.tsv")


def scaled_config(config: DetectorConfig, scale: float, min_confidence: float
                  ) -> DetectorConfig:
    """``config`` with its thresholds scaled by ``scale`` and the confidence floor set
    (see the module notes for which fields)."""
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale!r}")

    def ratio(v: float) -> float:
        return round(1.0 + scale * (v - 1.0), 6)

    emg, acc, floor = config.emg, config.acc, config.floor
    return dataclasses.replace(
        config,
        emg=dataclasses.replace(emg, on_ratio=ratio(emg.on_ratio),
                                off_ratio=ratio(emg.off_ratio)),
        acc=dataclasses.replace(acc, on_ratio=ratio(acc.on_ratio),
                                off_ratio=ratio(acc.off_ratio)),
        floor=dataclasses.replace(floor, on_sigma=round(scale * floor.on_sigma, 6),
                                  off_sigma=round(scale * floor.off_sigma, 6)),
        confidence=dataclasses.replace(config.confidence,
                                       min_confidence=float(min_confidence)),
    )


@dataclass
class CalibrationResult:
    """What :func:`calibrate` found.

    Attributes
    ----------
    config : DetectorConfig
        The configuration fitted on every recording (write it with :meth:`to_toml`).
    scale, min_confidence : float
        The knobs chosen on every recording.
    folds : pandas.DataFrame
        Leave-one-recording-out: per held-out ``recording``, the ``scale`` and
        ``min_confidence`` chosen on the others, and ``tp``, ``fp``, ``fn``, ``f1`` of the
        configuration given (``*_before``) and of the fitted one (``*_after``) on it.
    before, after : dict
        Pooled over the held-out recordings: ``precision``, ``recall``, ``f1``, ``tp``,
        ``fp``, ``fn``.
    grid : pandas.DataFrame
        Pooled F1 over all recordings for every ``scale`` × ``min_confidence`` tried.
    recordings : list of (str, str)
        The (recording, reviewed events) pairs.
    tolerance : float | None
        Matching tolerance, s (None: 0.05 s, 0.1 s for recordings without EMG).
    """

    config: DetectorConfig
    scale: float
    min_confidence: float
    folds: Any
    before: dict[str, float]
    after: dict[str, float]
    grid: Any
    recordings: list[tuple[str, str]] = field(default_factory=list)
    tolerance: float | None = None

    def format(self) -> str:
        """A plain-text summary."""
        b, a = self.before, self.after
        lines = [
            f"{len(self.recordings)} reviewed recording(s); leave-one-recording-out, "
            "onsets matched within " + (f"{self.tolerance * 1e3:.0f} ms" if self.tolerance
                                        is not None else "50 ms (100 ms without EMG)"),
            f"held out, before: precision {b['precision']:.3f}  recall {b['recall']:.3f}  "
            f"F1 {b['f1']:.3f}",
            f"held out, after:  precision {a['precision']:.3f}  recall {a['recall']:.3f}  "
            f"F1 {a['f1']:.3f}  ({a['f1'] - b['f1']:+.3f})",
            f"fitted on all: threshold scale {self.scale:g} (emg.on_ratio "
            f"{self.config.emg.on_ratio:g}, acc.on_ratio {self.config.acc.on_ratio:g}, "
            f"floor.on_sigma {self.config.floor.on_sigma:g}), confidence.min_confidence "
            f"{self.min_confidence:g}",
        ]
        return "\n".join(lines)

    def to_toml(self, path: str | os.PathLike[str] | None = None, *,
                overwrite: bool = False) -> str:
        """The fitted configuration as TOML (what ``ltr detect --config`` and ``ltr batch
        --config`` read), headed by comments saying how it was fitted."""
        head = ["# fitted by ltr calibrate on " + ", ".join(Path(r).name for r, _ in
                                                            self.recordings),
                "# " + self.format().replace("\n", "\n# ")]
        text = "\n".join(head) + "\n" + self.config.to_toml()
        if path is not None:
            p = Path(path)
            if p.exists() and not overwrite:
                raise FileExistsError(f"{p}: exists; pass overwrite=True to replace it")
            tmp = p.with_name(p.name + ".partial")
            tmp.write_text(text)
            tmp.replace(p)
        return text


def _scores(tp: int, fp: int, fn: int) -> dict[str, float]:
    nan = float("nan")
    return {"tp": tp, "fp": fp, "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else nan,
            "recall": tp / (tp + fn) if tp + fn else nan,
            "f1": 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)}


def _choose(counts: np.ndarray, scales: Sequence[float], floors: Sequence[float]
            ) -> tuple[int, int]:
    """Grid cell of the best pooled F1 (counts: [scale, floor, (tp, fp, fn)]); ties go to
    the cell nearest the configuration given (scale 1, no floor)."""
    tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
    den = 2 * tp + fp + fn
    f1 = np.where(den > 0, 2 * tp / np.maximum(den, 1), 1.0)
    best = f1.max()
    near = np.abs(np.log(np.asarray(scales, float)))[:, None] + \
        np.asarray(floors, float)[None, :]
    cand = np.argwhere(f1 >= best - 1e-12)
    i, j = min(cand.tolist(), key=lambda c: near[c[0], c[1]])
    return int(i), int(j)


def calibrate(
    reviewed: Sequence[Any],
    *,
    config: DetectorConfig | None = None,
    scales: Sequence[float] = SCALES,
    floors: Sequence[float] = FLOORS,
    tolerance: float | None = None,
    read_options: dict[str, Any] | None = None,
    verbose: bool | str | int | None = None,
) -> CalibrationResult:
    """Fit the threshold scale and confidence floor to a site's reviewed recordings.

    Each recording is detected once per threshold scale; the confidence floors are
    applied to those results (:meth:`~ltr.TwitchResults.filter`), so the cost is
    ``len(scales)`` detections per recording. The knobs maximise F1 pooled over the
    recordings (ties: nearest to ``config``). Leave-one-recording-out: each recording is
    scored with the knobs chosen on the others, against ``config`` as given.

    Parameters
    ----------
    reviewed : sequence of path | (recording, events) pairs
        Recordings (their events file found by :func:`find_reviewed`), ``(recording,
        events)`` pairs of paths, or ``(Recording, onsets)`` pairs in memory. Events files
        are read by :func:`ltr.agreement.read_rater_events` (rows a reviewer rejected are
        no twitch).
    config : DetectorConfig | None
        The starting configuration (default the defaults); its thresholds are scaled.
    scales, floors : sequence of float
        The grid (:data:`SCALES`, :data:`FLOORS`).
    tolerance : float | None
        Onset matching tolerance, s: default 0.05, or 0.1 for a recording without EMG.
    read_options : dict | None
        Options for :func:`ltr.read`.
    verbose : bool | str | int | None
        Log level for this call.

    Returns
    -------
    CalibrationResult

    Raises
    ------
    ValueError
        Fewer than two recordings (cross-validation needs one to hold out and one to fit).
    """
    import pandas as pd

    from .agreement import read_rater_events
    from .detect import detect
    from .io import read
    from .recording import Recording

    cfg0 = config if config is not None else DetectorConfig()
    scales, floors = [float(s) for s in scales], [float(f) for f in floors]
    if not scales or not floors:
        raise ValueError("scales and floors need at least one value each")
    pairs: list[tuple[Any, Any, str, str]] = []
    for item in reviewed:
        if isinstance(item, tuple | list):
            if len(item) != 2:
                raise ValueError(f"a reviewed recording is (recording, events), got {item!r}")
            rec, ev = item
        else:
            rec, ev = item, find_reviewed(item)
        pairs.append((rec, ev, str(rec) if not isinstance(rec, Recording) else
                      str(rec.meta.get("source") or f"recording {len(pairs) + 1}"),
                      str(ev) if isinstance(ev, str | os.PathLike) else "onsets"))
    if len(pairs) < 2:
        raise ValueError(f"calibration needs at least two reviewed recordings (one held out, "
                         f"the others to fit), got {len(pairs)}")
    n = len(pairs)
    counts = np.zeros((n, len(scales), len(floors), 3), dtype=np.int64)
    with use_log_level(verbose):
        for k, (rec, ev, rname, ename) in enumerate(pairs):
            if not isinstance(rec, Recording):
                rec = read(rec, **(read_options or {}))
            truth = read_rater_events(ev).onsets if isinstance(ev, str | os.PathLike) \
                else np.sort(np.asarray(ev, float))
            if isinstance(ev, str | os.PathLike) and _no_decision(Path(ev)):
                warnings.warn(
                    f"{ev}: holds no reviewer decision yet (every review_status is n/a): "
                    "its twitches are the detector's own calls, so calibrating on it "
                    "measures the detector against itself; review it (ltr review) or "
                    "pair the recording with its events as RECORDING=EVENTS.tsv",
                    LtrDataWarning, stacklevel=2)
            tol = tolerance if tolerance is not None else \
                (0.05 if "emg" in rec.ch_kinds else 0.1)
            for i, s in enumerate(scales):
                res = detect(rec, config=scaled_config(cfg0, s, 0.0))
                conf = res.events["confidence"]
                for j, f in enumerate(floors):
                    det = res.onset[conf >= f] if f > 0 else res.onset
                    md, _ = match_onsets(det, truth, tol)
                    counts[k, i, j] = (md.size, det.size - md.size, truth.size - md.size)
            logger.info("calibrate: %s (%s) done", rname, ename)
    # the configuration given: scale 1 and its own floor, if on the grid, else scored alone
    base = (scales.index(1.0) if 1.0 in scales else None,
            floors.index(cfg0.confidence.min_confidence)
            if cfg0.confidence.min_confidence in floors else None)
    if base[0] is None or base[1] is None:
        raise ValueError("the grid must hold scale 1 and the configuration's own "
                         f"min_confidence ({cfg0.confidence.min_confidence:g}), to score "
                         "the configuration as given")
    fold_rows = []
    tot_b = np.zeros(3, np.int64)
    tot_a = np.zeros(3, np.int64)
    for k in range(n):
        rest = np.delete(counts, k, axis=0).sum(axis=0)
        i, j = _choose(rest, scales, floors)
        b = counts[k, base[0], base[1]]
        a = counts[k, i, j]
        tot_b += b
        tot_a += a
        sb, sa = _scores(*map(int, b)), _scores(*map(int, a))
        fold_rows.append({"recording": pairs[k][2], "scale": scales[i],
                          "min_confidence": floors[j],
                          **{f"{key}_before": sb[key] for key in ("tp", "fp", "fn", "f1")},
                          **{f"{key}_after": sa[key] for key in ("tp", "fp", "fn", "f1")}})
    i, j = _choose(counts.sum(axis=0), scales, floors)
    pooled = counts.sum(axis=0)
    grid = pd.DataFrame([{"scale": s, "min_confidence": f,
                          **_scores(*map(int, pooled[a, b]))}
                         for a, s in enumerate(scales) for b, f in enumerate(floors)])
    return CalibrationResult(
        config=scaled_config(cfg0, scales[i], floors[j]), scale=scales[i],
        min_confidence=floors[j], folds=pd.DataFrame(fold_rows),
        before=_scores(*map(int, tot_b)), after=_scores(*map(int, tot_a)), grid=grid,
        recordings=[(p[2], p[3]) for p in pairs],
        tolerance=tolerance)
