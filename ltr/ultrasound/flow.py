"""Dense optical flow between frames, through well-kept implementations.

:func:`flow` wraps OpenCV's Farnebäck (``cv2.calcOpticalFlowFarneback``, from
``opencv-python-headless``) and scikit-image's iterative Lucas-Kanade
(``skimage.registration.optical_flow_ilk``) and TV-L1
(``skimage.registration.optical_flow_tvl1``) behind one signature. The default,
Farnebäck on frames averaged 4 × 4, was chosen on simulated B-mode frames with known
displacement (``benchmarks/us_flow_compare.py``, ``benchmarks/results/us_flow.md``):
it is as accurate as the others on the patch a twitch moves and fast enough for
640 × 480 at 30 fps more than ten times faster than real time on one core.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Flow methods :func:`flow` knows.
METHODS = ("farneback", "ilk", "tvl1")
#: ``cv2.calcOpticalFlowFarneback``'s parameters after the flow argument: pyramid scale,
#: levels, window size, iterations, polynomial neighbourhood, its Gaussian sigma.
FARNEBACK = (0.5, 2, 9, 2, 5, 1.1)


def _need(module: str, extra: str = "ultrasound") -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        pkg = {"cv2": "opencv-python-headless", "skimage": "scikit-image"}.get(
            module.split(".")[0], module)
        raise ImportError(f"ultrasound motion needs {pkg}: pip install 'ltr[{extra}]' "
                          f"(or pip install {pkg})") from err


def downsample(frames: np.ndarray, factor: int) -> np.ndarray:
    """Block means of ``factor`` × ``factor`` pixels over the last two axes (the edges
    that do not fill a block are dropped)."""
    if factor == 1:
        return np.asarray(frames, dtype=np.float32)
    if np.ndim(frames) == 2:
        try:
            import cv2
        except ImportError:
            pass
        else:  # a few times faster than the reshape below, same block means
            a = np.asarray(frames)
            if a.dtype != np.uint8:
                a = a.astype(np.float32)
            h, w = a.shape[0] // factor, a.shape[1] // factor
            return cv2.resize(a[: h * factor, : w * factor], (w, h),
                              interpolation=cv2.INTER_AREA).astype(np.float32)
    a = np.asarray(frames, dtype=np.float32)
    h = a.shape[-2] // factor * factor
    w = a.shape[-1] // factor * factor
    a = a[..., :h, :w]
    shp = (*a.shape[:-2], h // factor, factor, w // factor, factor)
    return a.reshape(shp).mean(axis=(-3, -1))


def flow_small(a: np.ndarray, b: np.ndarray, method: str = "farneback",
               ) -> tuple[np.ndarray, np.ndarray]:
    """Flow from frame ``a`` to frame ``b`` (same grid, grey levels 0-255): ``(fx, fy)``,
    px per frame on that grid; ``b(y + fy, x + fx) ≈ a(y, x)``."""
    if method == "farneback":
        cv2 = _need("cv2")
        f = cv2.calcOpticalFlowFarneback(
            np.clip(a, 0, 255).astype(np.uint8), np.clip(b, 0, 255).astype(np.uint8),
            None, *FARNEBACK, 0)
        return f[..., 0], f[..., 1]
    if method == "ilk":
        reg = _need("skimage.registration")
        vy, vx = reg.optical_flow_ilk(a / 255.0, b / 255.0, radius=5, num_warp=5)
        return vx.astype(np.float32), vy.astype(np.float32)
    if method == "tvl1":
        reg = _need("skimage.registration")
        vy, vx = reg.optical_flow_tvl1(a / 255.0, b / 255.0, num_warp=3, num_iter=10)
        return vx.astype(np.float32), vy.astype(np.float32)
    raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")


def flow(a: np.ndarray, b: np.ndarray, *, method: str = "farneback",
         downsample: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Dense optical flow from frame ``a`` to frame ``b``.

    Parameters
    ----------
    a, b : ndarray
        Grey frames (rows × columns), levels 0-255.
    method : {"farneback", "ilk", "tvl1"}
        See the module docstring.
    downsample : int
        Frames are averaged over blocks of this many pixels first (speckle is finer than
        a twitch's patch; the flow on the coarse grid is 16 × cheaper at 4).

    Returns
    -------
    fx, fy : ndarray
        Displacement per frame on the downsampled grid, in full-resolution pixels.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    fa = _ds(a, downsample)
    fb = _ds(b, downsample)
    fx, fy = flow_small(fa, fb, method)
    return fx * downsample, fy * downsample


def _ds(x: np.ndarray, k: int) -> np.ndarray:
    return downsample(x, k)
