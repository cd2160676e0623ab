"""Optical flow for ultrasound tissue motion: accuracy and speed of the candidates.

Each candidate estimates the motion between two B-mode-like frames of
:func:`ltr.simulate.cine`'s texture, the second warped by a known displacement: a
uniform shift (probe motion) plus a Gaussian patch of ``amp`` px (a twitch). The error is
the endpoint error (px, full resolution) over the patch (where a twitch is measured) and
the error of the patch's mean displacement (what the ``us`` channel reports); speed is
ms per 640 × 480 frame pair on one core. ``python benchmarks/us_flow_compare.py``
writes ``benchmarks/results/us_flow.md``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2
import numpy as np
from scipy import ndimage

from ltr.simulate.cine import _texture
from ltr.ultrasound.flow import METHODS, flow

cv2.setNumThreads(1)


def pair(shape, shift, amp, seed):
    rng = np.random.default_rng(seed)
    h, w = shape
    m = 40
    tex = _texture((h + 2 * m, w + 2 * m), rng)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    g = np.exp(-0.5 * ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / (0.08 * w) ** 2)
    ang = rng.uniform(0, 2 * np.pi)
    ux = shift[0] + amp * np.cos(ang) * 0.6 * g
    uy = shift[1] + amp * np.sin(ang) * g

    def render(dx, dy):
        img = ndimage.map_coordinates(tex, [yy + m - dy, xx + m - dx], order=1)
        img = img + 0.08 * tex.mean() * np.abs(rng.standard_normal((h, w)))
        v = np.log1p(img / tex.mean() * 0.5) / np.log1p(3.0)
        return np.clip(v * 255, 0, 255).astype(np.float32)

    return render(0 * ux, 0 * uy), render(ux, uy), ux, uy, g > 0.5


def main() -> None:
    shape = (480, 640)
    rows = []
    cases = [((0.0, 0.0), 1.0), ((0.0, 0.0), 3.0), ((0.3, -0.2), 2.0), ((4.0, 2.0), 0.0)]
    for method in METHODS:
        for down in (1, 2, 4, 5):
            if method != "farneback" and down == 1:
                continue  # 1-2 s a frame pair at full size: out of the question
            epe, mean_err = [], []
            for seed in range(3):
                for shift, amp in cases:
                    a, b, ux, uy, patch = pair(shape, shift, amp, seed)
                    fx, fy = flow(a, b, method=method, downsample=down)
                    fx = ndimage.zoom(fx, down, order=1)[: shape[0], : shape[1]]
                    fy = ndimage.zoom(fy, down, order=1)[: shape[0], : shape[1]]
                    e = np.hypot(fx - ux, fy - uy)
                    epe.append(float(np.mean(e[patch])))
                    mean_err.append(float(np.hypot(fx[patch].mean() - ux[patch].mean(),
                                                   fy[patch].mean() - uy[patch].mean())))
            a, b, *_ = pair(shape, (0.5, 0.5), 2.0, 9)
            flow(a, b, method=method, downsample=down)
            reps = 3 if method == "tvl1" else 10
            t0 = time.perf_counter()
            for _ in range(reps):
                flow(a, b, method=method, downsample=down)
            ms = (time.perf_counter() - t0) / reps * 1e3
            rows.append((method, down, np.mean(epe), np.max(mean_err), ms))
            print(rows[-1], flush=True)
    lines = ["# Optical flow on simulated B-mode frames (640 x 480)", "",
             "Endpoint error over the twitch patch and the error of the patch's mean "
             "displacement (what the `us` channel reports), full-resolution px, over 3 "
             "textures x 4 motions (patch of 1-3 px, uniform shift up to 4.5 px); time per "
             "frame pair on one core (`python benchmarks/us_flow_compare.py`).", "",
             "| method | downsample | patch EPE (px) | worst mean error (px) | ms / frame | "
             "frames/s |", "| --- | --- | --- | --- | --- | --- |"]
    for m, d, e, me, ms in rows:
        lines.append(f"| {m} | {d} | {e:.3f} | {me:.3f} | {ms:.1f} | {1e3 / ms:.0f} |")
    out = Path(__file__).parent / "results" / "us_flow.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
