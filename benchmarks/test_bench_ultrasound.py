"""Speed and memory of the ultrasound path: cine loop -> motion Recording -> ltr.detect.

A 640 x 480 clip at 30 fps must go at least 10 times faster than real time on one core
(OpenCV's own threads set to 1; ``main`` reports CPU time, which a busy machine
inflates less than wall-clock time, though runs of the same code still differed by up
to 25 %). Frames come from a reader that makes each block on demand (speckle shifted by
a slow wander, fresh noise), so a 10-minute clip never sits
in memory; the peak of Python allocations while it is processed is reported (in a
pass of its own: tracing allocations slows the code traced).

    python -m pytest benchmarks/test_bench_ultrasound.py --benchmark-enable -m "slow or not slow"
    python benchmarks/test_bench_ultrasound.py     # writes benchmarks/results/us_speed.md

Timings are reported, never asserted (CI runs the small case with --benchmark-disable).
"""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import ltr
from ltr.simulate.cine import _texture
from ltr.ultrasound import Clip, motion_recording

cv2 = pytest.importorskip("cv2")
SLOW = pytest.mark.slow


def synthetic_clip(seconds: float, fps: float = 30.0, shape=(480, 640)) -> Clip:
    """A clip whose frames are made block by block: one speckle texture, shifted by a
    slow wander of a few px, with one of 7 noise frames added in turn."""
    h, w = shape
    tex = _texture((h + 16, w + 16), np.random.default_rng(0))
    tex = (255 * tex / np.quantile(tex, 0.999)).clip(0, 255).astype(np.float32)
    n = round(seconds * fps)
    noise = np.random.default_rng(1).normal(0, 4, (7, h, w)).astype(np.float32)

    def reader(a: int, b: int) -> np.ndarray:
        out = np.empty((b - a, h, w), np.uint8)
        for j, i in enumerate(range(a, b)):  # a loop over the block's frames
            dx = round(4 + 3 * np.sin(i / fps / 3.0))
            dy = round(4 + 2 * np.cos(i / fps / 4.0))
            f = tex[dy: dy + h, dx: dx + w] + noise[i % 7]  # 7 noise frames in turn
            out[j] = f.clip(0, 255)
        return out

    return Clip(None, fps=fps, reader=reader, n_frames=n, shape=(h, w),
                spacing_mm=0.1, source="synthetic")


def run(clip: Clip) -> ltr.TwitchResults:
    return ltr.detect(motion_recording(clip))


@pytest.fixture(autouse=True)
def _one_thread():
    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    yield
    cv2.setNumThreads(before)


def test_bench_small(benchmark):
    res = benchmark(run, synthetic_clip(2.0, shape=(192, 256)))
    assert res.duration == pytest.approx(2.0)


@SLOW
def test_bench_640x480_30fps(benchmark):
    res = benchmark.pedantic(run, args=(synthetic_clip(20.0),), rounds=1, iterations=1)
    assert res.duration == pytest.approx(20.0)


def measure(clip: Clip) -> tuple[float, float]:
    """CPU seconds of :func:`motion_recording` (the time to make the frames, measured
    in a pass of its own, taken off) and of :func:`ltr.detect` on ``clip``."""
    make = time.process_time()
    for _, _ in clip.blocks(32):  # the cost of making the frames, taken off below
        pass
    make = time.process_time() - make
    t0 = time.process_time()
    rec = motion_recording(clip)
    t1 = time.process_time()
    ltr.detect(rec)
    t2 = time.process_time()
    return t1 - t0 - make, t2 - t1


def peak_memory(clip: Clip) -> float:
    """Peak of Python allocations (MB) while ``clip`` is processed: a pass of its own,
    since tracing every allocation slows the code it traces."""
    tracemalloc.start()
    run(clip)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return peak


def main(argv: list[str] | None = None) -> None:
    """``python benchmarks/test_bench_ultrasound.py [--out FILE]``: the table below,
    into ``benchmarks/results/us_speed.md`` (its ``## History`` section, kept by hand,
    is kept)."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).parent / "results" / "us_speed.md")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cv2.setNumThreads(1)
    run(synthetic_clip(1.0, shape=(96, 128)))  # imports and first calls, once a process
    rows = []
    for seconds, shape in ((20.0, (480, 640)), (20.0, (192, 256)), (600.0, (480, 640))):
        clip = synthetic_clip(seconds, shape=shape)
        motion, detect = measure(clip)
        peak = peak_memory(clip)
        rows.append((shape, seconds, motion, detect, seconds / (motion + detect), peak))
        print(rows[-1], flush=True)
    lines = ["# Ultrasound speed (one core, OpenCV threads = 1)", "",
             "Synthetic speckle clips at 30 fps (frames made block by block; the time to "
             "make them is measured apart and left out). CPU time of the process "
             "(`time.process_time`, one thread) after a warm-up clip (imports, first "
             "calls); peak Python memory in a second pass under `tracemalloc` (which "
             "slows what it traces, so it is not timed). The machine is a shared 2-core "
             "one: compare rows measured together. `python "
             "benchmarks/test_bench_ultrasound.py`.", "",
             "| frame | clip (s) | motion (s) | detect (s) | x real time | peak Python "
             "memory (MB) |", "| --- | --- | --- | --- | --- | --- |"]
    for shape, sec, mo, de, x, pk in rows:
        lines.append(f"| {shape[1]} x {shape[0]} | {sec:g} | {mo:.1f} | {de:.2f} | {x:.1f} | "
                     f"{pk:.0f} |")
    old = args.out.read_text() if args.out.exists() else ""
    kept = old[old.index("## History"):] if "## History" in old else ""
    args.out.write_text("\n".join(lines) + "\n" + ("\n" + kept if kept else ""))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
