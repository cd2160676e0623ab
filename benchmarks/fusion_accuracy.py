"""Twitches of an EMG recording and of an ultrasound clip of the same needling, fused.

Paired simulations (:func:`ltr.simulate.paired`): one EMG channel at 2 kHz whose twitches
are drawn down to -3 dB SNR (faint twitches in deep muscles are what ultrasound adds:
Rha et al. 2011), and a B-mode clip (192 x 256 px, all default confounders) of the same
twitches, its tissue motion starting 5-40 ms after each burst. The clip's start time is
off by up to 1.5 s (two clocks); :func:`ltr.sync.clip_offset` takes it from the start
times and :func:`ltr.fuse_clip` refines it from the twitches.

Scored against the EMG onsets with a tolerance of 50 ms plus one frame (the ultrasound
benchmark's), over the span the clip covers. Held-out seeds 1000 and up (the fusion
window was set on seeds 0-19).

    python benchmarks/fusion_accuracy.py [--seeds 1000-1011] [--jobs 2] [--out FILE]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

import ltr
from ltr.evaluate import EvaluationReport, evaluate
from ltr.simulate import paired
from ltr.sync import clip_offset, fuse_clip
from ltr.ultrasound import motion_recording

FPS = (15.0, 20.0, 30.0, 45.0, 60.0)


def _inside(onsets: np.ndarray, start: float, stop: float) -> np.ndarray:
    return onsets[(onsets >= start) & (onsets < stop)]


def one(seed: int, duration: float) -> dict:
    warnings.simplefilter("ignore")
    fps = FPS[seed % len(FPS)]
    rec, clip, truth = paired(duration, 2000.0, "emg", seed, fps=fps, snr_db=(-3.0, 20.0))
    t0 = time.process_time()
    res = ltr.detect(rec, min_confidence=0.0)
    us = ltr.detect(motion_recording(clip))
    sync = clip_offset(rec, clip)
    fused = fuse_clip(res, us, sync)
    secs = time.process_time() - t0
    # what a sync event would give: the true offset, not refined
    exact = fuse_clip(res, us, truth.info["clip_offset"], refine=None)
    off = truth.info["clip_offset"]
    start, stop = off, off + us.duration
    # truth restricted to what the clip covers: twitches outside it are don't-care
    tr = truth.twitches
    keep = (tr["onset"] >= start) & (tr["onset"] < stop)
    sub = ltr.simulate.Truth({k: v[keep] for k, v in tr.items()}, truth.confounders,
                             truth.epochs, truth.passes, truth.info)
    tol = 0.05 + 1.0 / fps
    emg = res.filter(min_confidence=res.config.confidence.min_confidence,
                     calibrated_only=True)
    reps = {
        "EMG alone": evaluate(_inside(emg.onset, start, stop), sub, tolerance=tol),
        "ultrasound alone": evaluate(_inside(us.onset + off, start, stop), sub,
                                     tolerance=tol),
        "fused": evaluate(_inside(fused.onset, start, stop), sub, tolerance=tol),
        "fused at the true offset": evaluate(_inside(exact.onset, start, stop), sub,
                                             tolerance=tol),
    }
    mod = fused.events["modality"].astype(str)
    return dict(seed=seed, fps=fps, reps=reps, n=int(keep.sum()),
                refined="refined" in fused.meta["clip"]["source"],
                start_error=sync.offset - off, fused_error=fused.meta["clip"]["offset"] - off,
                matches=fused.meta["clip"]["matches"], shift=fused.meta["clip"]["shift"],
                both=int(np.sum(mod == "emg+us")), us_only=int(np.sum(mod == "us")),
                secs=secs)


def _row(name: str, reps: list[EvaluationReport]) -> str:
    if not reps:
        return f"| {name} | 0 | | | | | | |"
    r = EvaluationReport.combine(reps)
    return (f"| {name} | {r.tp + r.fn} | {r.tp} | {r.fp} | {r.fn} | {r.precision:.3f} | "
            f"{r.recall:.3f} | {r.f1:.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="1000-1011")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    lo, hi = (int(x) for x in a.seeds.split("-"))
    t0 = time.perf_counter()
    out = Parallel(n_jobs=a.jobs)(delayed(one)(s, a.duration) for s in range(lo, hi + 1))
    wall = time.perf_counter() - t0
    lines = [
        "# EMG and ultrasound fused (paired simulations, held-out seeds)", "",
        f"`python benchmarks/fusion_accuracy.py --seeds {a.seeds}`: {len(out)} sessions of "
        f"{a.duration:.0f} s (one EMG channel at 2 kHz, twitch SNR -3 to 20 dB; a 192 x 256 "
        f"clip at {', '.join(f'{f:.0f}' for f in FPS)} fps in turn, every default cine "
        f"confounder). Scored over the span each clip covers, onsets within 50 ms + one "
        f"frame. Wall time {wall:.0f} s with {a.jobs} job(s).", "",
        "| twitches from | true | TP | FP | FN | precision | recall | F1 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in ("EMG alone", "ultrasound alone", "fused", "fused at the true offset"):
        lines.append(_row(name, [o["reps"][name] for o in out]))
    ok = [o for o in out if o["refined"]]
    lines.append(_row(f"fused, the {len(ok)} sessions whose offset the twitches fixed",
                      [o["reps"]["fused"] for o in ok]))
    lines.append(_row(f"EMG alone, the same {len(ok)} sessions",
                      [o["reps"]["EMG alone"] for o in ok]))
    lines.append(_row(f"fused, the other {len(out) - len(ok)} (start times only)",
                      [o["reps"]["fused"] for o in out if not o["refined"]]))
    lines.append(_row(f"EMG alone, the same {len(out) - len(ok)} sessions",
                      [o["reps"]["EMG alone"] for o in out if not o["refined"]]))
    lines += ["", "By frame rate (F1: EMG alone / ultrasound alone / fused):", "",
              "| fps | sessions | true | EMG | ultrasound | fused |",
              "| --- | --- | --- | --- | --- | --- |"]
    for f in FPS:
        sel = [o for o in out if o["fps"] == f]
        if not sel:
            continue
        f1s = [EvaluationReport.combine([o["reps"][name] for o in sel]).f1
               for name in ("EMG alone", "ultrasound alone", "fused")]
        lines.append(f"| {f:.0f} | {len(sel)} | {sum(o['n'] for o in sel)} | "
                     + " | ".join(f"{v:.3f}" for v in f1s) + " |")
    se = np.abs([o["start_error"] for o in out])
    fe = np.abs([o["fused_error"] for o in out])
    lines += ["", "Synchronisation (|offset - true offset|, s):", "",
              f"- from the start times alone: median {np.median(se):.3f}, max {se.max():.3f}",
              f"- refined by the twitches: median {np.median(fe):.3f}, max {fe.max():.3f} "
              f"(pairs lined up: median {np.median([o['matches'] or 0 for o in out]):.0f}, "
              f"min {min(o['matches'] or 0 for o in out)})",
              f"- fused rows: emg+us {sum(o['both'] for o in out)}, us only "
              f"{sum(o['us_only'] for o in out)}; CPU per 60-s session (both detections, "
              f"motion and fusion) median {np.median([o['secs'] for o in out]):.1f} s", "",
              "| seed | fps | true | offset error start / refined (s) | pairs "
              "| F1 EMG / US / fused |",
              "| --- | --- | --- | --- | --- | --- |"]
    for o in out:
        r = o["reps"]
        lines.append(f"| {o['seed']} | {o['fps']:.0f} | {o['n']} | {o['start_error']:+.3f} / "
                     f"{o['fused_error']:+.3f} | {o['matches']} | {r['EMG alone'].f1:.2f} / "
                     f"{r['ultrasound alone'].f1:.2f} / {r['fused'].f1:.2f} |")
    text = "\n".join(lines) + "\n"
    if a.out:
        Path(a.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
