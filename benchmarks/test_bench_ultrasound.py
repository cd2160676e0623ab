"""Speed and memory of the ultrasound path: cine loop -> motion Recording -> ltr.detect.

A 640 x 480 clip at 30 fps must go at least 10 times faster than real time on one core
(OpenCV's own threads set to 1; ``main`` reports CPU time, which a busy machine does
not inflate). Frames come from a reader that makes each block on
demand (speckle shifted by a slow wander, fresh noise), so a 10-minute clip never sits
in memory; the peak of Python allocations while it is processed is reported.

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


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cv2.setNumThreads(1)
    rows = []
    for seconds, shape in ((20.0, (480, 640)), (20.0, (192, 256)), (600.0, (480, 640))):
        clip = synthetic_clip(seconds, shape=shape)
        make = time.process_time()
        for _, _ in clip.blocks(32):  # the cost of making the frames, taken off below
            pass
        make = time.process_time() - make
        tracemalloc.start()
        t0 = time.process_time()
        rec = motion_recording(clip)
        t1 = time.process_time()
        ltr.detect(rec)
        t2 = time.process_time()
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        motion = t1 - t0 - make
        rows.append((shape, seconds, motion, t2 - t1, seconds / (motion + t2 - t1), peak))
        print(rows[-1], flush=True)
    lines = ["# Ultrasound speed (one core, OpenCV threads = 1)", "",
             "Synthetic speckle clips at 30 fps (frames made block by block; the time to "
             "make them is measured apart and left out). CPU time of the process "
             "(`time.process_time`, one thread): the shared 2-core machine ran 5-10 "
             "other jobs, so wall-clock time was several times longer. `python "
             "benchmarks/test_bench_ultrasound.py`.", "",
             "| frame | clip (s) | motion (s) | detect (s) | x real time | peak Python "
             "memory (MB) |", "| --- | --- | --- | --- | --- | --- |"]
    for shape, sec, mo, de, x, pk in rows:
        lines.append(f"| {shape[1]} x {shape[0]} | {sec:g} | {mo:.1f} | {de:.2f} | {x:.1f} | "
                     f"{pk:.0f} |")
    out = Path(__file__).parent / "results" / "us_speed.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
