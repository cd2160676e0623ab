"""Tissue motion of a cine loop as a Recording: the ``us`` channel and its context.

:func:`motion_recording` streams a :class:`~ltr.ultrasound.Clip` in blocks of frames
(memory bounded by the block, not the clip), estimates the dense optical flow between
consecutive frames (:func:`ltr.ultrasound.flow.flow`, Farnebäck on a coarse grid of about
:data:`GRID_WIDTH` columns; the flow fields of a block's frame pairs are kept as one
array, the block's only per-pair loop being the flow itself) and reduces them, all pairs
of the block at once, to a few numbers each:

- the whole field's coherent motion (the median flow vector: probe or patient movement,
  breathing), subtracted to leave the *local* motion;
- the local flow averaged over cells of :data:`CELL` × :data:`CELL` grid points (kept for
  the whole clip: about 1 kB a frame), from which the region of interest is chosen and
  the motion map of a report is drawn;
- the local motion along the needle's shaft (its track short of the tip, where twitches
  arise): the needle is found in each block as the
  straight line, 10-80° from the horizontal, through most of the brightest pixels of
  the block's mean frame (:func:`_find_needle`);
- how much each frame differs from the one before (mean absolute grey-level
  difference): a repeated (frozen) frame differs by nothing but noise, or not at all.

The Recording's channels, at the frame rate (sample ``i`` is the motion from frame
``i - 1`` to frame ``i``; the first sample repeats the second):

====================  ======  =====================================================
``US``                ``us``  tissue speed in the ROI relative to the whole field
``US global``         misc    speed of the whole field's coherent motion
``US needle``         misc    local speed along the needle track (0 without a needle)
``US change``         misc    mean absolute frame-to-frame difference (grey levels)
``US tip``            misc    the needle tip's position along its line (px; NaN: none)
``US displacement``   misc    ROI displacement along its main axis of motion
====================  ======  =====================================================

Speeds are in mm/s when the clip's pixel size is known, px/s otherwise; the displacement
in mm or px. The default ROI is the box of 3 × 3 cells with the strongest brief local
motion away from the needle track (:func:`auto_roi`); ``roi=(x0, y0, x1, y1)`` in pixels
gives one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..recording import Recording
from ._clip import Clip
from .flow import FARNEBACK, METHODS, downsample, flow_small

#: The optical-flow grid is about this many columns wide (frames are averaged down to it).
GRID_WIDTH = 128
#: Grid points on a side of a cell of the motion map.
CELL = 8
#: A needle's line must hold this many times its track's width in bright grid points.
NEEDLE_ELONGATION = 6.0
#: Frames per block read at a time (the needle is looked for in each block: it moves).
BLOCK_FRAMES = 32
#: The needle's shaft (whose motion along the line is measured) stops this many cells
#: short of its tip: a twitch at the tip moves the track there too.
TIP_GAP = 3
#: Grid points on each side of the needle's line that make its track.
NEEDLE_HALF_WIDTH = 2.0

#: Channel names of a motion recording (the first is the ``us`` channel).
CHANNELS = ("US", "US global", "US needle", "US change", "US tip", "US displacement")


@dataclass
class Motion:
    """What :func:`estimate_motion` measured, before a ROI is chosen.

    Attributes
    ----------
    cells : ndarray, shape (n_frames, 2, cell_rows, cell_cols)
        Local flow (x, y) averaged over each cell, px/frame (full resolution).
    global_ : ndarray, shape (n_frames, 2)
        Coherent flow of the whole field, px/frame.
    needle : ndarray, shape (n_frames,)
        Mean absolute local flow along the needle on its track, px/frame.
    change : ndarray, shape (n_frames,)
        Mean absolute grey-level difference from the frame before.
    needle_mask : ndarray of bool, shape (cell_rows, cell_cols)
        Cells the needle's track crossed in any block.
    roi_trace : ndarray, shape (n_frames, 2) | None
        Local flow averaged over a user's ROI (when one was given).
    factor : int
        Full-resolution pixels per grid point.
    tip : ndarray, shape (n_frames,)
        Position of the needle's tip along its line (full-resolution px from the block's
        line point; NaN without a needle): a manipulation moves it by tens of px.
    lines : list of tuple
        Needle line per block: (first frame, x, y, ux, uy, lo, hi) in full-resolution px
        (a point, the direction, the bright extent along it), or None when no line was
        found.
    """

    cells: np.ndarray
    global_: np.ndarray
    needle: np.ndarray
    change: np.ndarray
    needle_mask: np.ndarray
    roi_trace: np.ndarray | None
    factor: int
    lines: list[Any]
    tip: np.ndarray | None = None


def grid_factor(width: int) -> int:
    """Pixels averaged per grid point for a frame ``width`` px wide."""
    return max(1, round(width / GRID_WIDTH))


def _find_needle(mean_frame: np.ndarray) -> tuple[float, float, float, float, float, float] | None:
    """The needle on the grid: the straight line through most of the brightest 1 % of
    pixels (Hough transform, ``skimage.transform.hough_line``) that runs 10-80° from
    the horizontal (fascia and skin lie near horizontal; an in-plane needle enters at
    15-45°), holding at least :data:`NEEDLE_ELONGATION` × its width in bright pixels.
    Returns (x, y, ux, uy, lo, hi): a point, the unit direction and the extent of the
    bright pixels along it; None when there is no such line."""
    from skimage.transform import hough_line, hough_line_peaks

    v = mean_frame
    bright = v >= np.quantile(v, 0.99)
    angles = np.deg2rad(np.r_[-80:-10:1.0, 10:80:1.0])
    acc, theta, dist = hough_line(bright, theta=angles)
    _, th, di = hough_line_peaks(acc, theta, dist, num_peaks=1)
    if th.size == 0:
        return None
    ys, xs = np.nonzero(bright)
    nx, ny = np.cos(th[0]), np.sin(th[0])
    on = np.abs(xs * nx + ys * ny - di[0]) <= 1.0
    if on.sum() < max(8, NEEDLE_ELONGATION * 2 * NEEDLE_HALF_WIDTH):
        return None
    ux, uy = -ny, nx
    if uy < 0:  # pointing deeper, whatever the block: positions along it compare
        ux, uy = -ux, -uy
    # the foot of the perpendicular from the frame's corner: positions along the line
    # are measured from it, the same point for the same line in every block
    px, py = di[0] * nx, di[0] * ny
    t = (xs[on] - px) * ux + (ys[on] - py) * uy
    return float(px), float(py), float(ux), float(uy), float(t.min()), float(t.max())


def estimate_motion(clip: Clip, *, roi: tuple[int, int, int, int] | None = None,
                    method: str = "farneback", block: int = BLOCK_FRAMES,
                    needle: bool = True) -> Motion:
    """Flow of every frame pair of ``clip``, reduced to cells, field and needle.

    Parameters
    ----------
    clip : Clip
    roi : (x0, y0, x1, y1) | None
        A box in full-resolution pixels whose mean local flow is kept too.
    method : {"farneback", "ilk", "tvl1"}
        Optical flow (:func:`ltr.ultrasound.flow.flow`).
    block : int
        Frames read at a time.
    needle : bool
        Look for a needle (its track's motion; its cells left out of the automatic ROI).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    if clip.n_frames < 2:
        raise ValueError(f"{clip.source or 'clip'}: {clip.n_frames} frame(s); motion needs "
                         f"at least 2")
    k = grid_factor(clip.shape[1])
    gh, gw = clip.shape[0] // k, clip.shape[1] // k
    ch, cw = max(1, gh // CELL), max(1, gw // CELL)
    n = clip.n_frames
    cells = np.zeros((n, 2, ch, cw), np.float32)
    glob = np.zeros((n, 2), np.float32)
    ndl = np.zeros(n, np.float32)
    tip = np.full(n, np.nan, np.float32)
    change = np.zeros(n, np.float32)
    mask = np.zeros((ch, cw), bool)
    roi_trace = np.zeros((n, 2), np.float32) if roi is not None else None
    if roi is not None:
        x0, y0, x1, y1 = (int(v) for v in roi)
        if not (0 <= x0 < x1 <= clip.shape[1] and 0 <= y0 < y1 <= clip.shape[0]):
            raise ValueError(f"{clip.source or 'clip'}: roi={roi!r} is not a box (x0, y0, "
                             f"x1, y1) inside the {clip.shape[1]} x {clip.shape[0]} px frame")
        rs = slice(y0 // k, max(y0 // k + 1, y1 // k))
        cs = slice(x0 // k, max(x0 // k + 1, x1 // k))
    yy, xx = np.mgrid[0:gh, 0:gw].astype(np.float32)
    lines: list[Any] = []
    last_line: tuple[float, ...] | None = None
    prev: np.ndarray | None = None
    for start, frames in clip.blocks(block):
        small = np.stack([downsample(f, k)[:gh, :gw] for f in frames])
        track = None
        prof = None
        if needle:
            line = _find_needle(small.mean(axis=0))
            if line is not None and last_line is not None and _same_line(line, last_line):
                line = last_line  # the same needle: positions along it stay comparable
            last_line = line
            lines.append((start, *(np.asarray(line) * [k, k, 1, 1, k, k])) if line else None)
            if line is not None:
                px, py, ux, uy, t0, t1 = line
                dist = np.abs(-(xx - px) * uy + (yy - py) * ux)
                along = (xx - px) * ux + (yy - py) * uy
                # the shaft: from the entry to TIP_GAP cells short of the tip (the deeper
                # end), where a twitch at the tip moves the track little
                if py + t1 * uy >= py + t0 * uy:
                    ok = (along >= t0 - CELL) & (along <= t1 - TIP_GAP * CELL)
                else:
                    ok = (along <= t1 + CELL) & (along >= t0 + TIP_GAP * CELL)
                track = (dist <= NEEDLE_HALF_WIDTH) & ok
                if not track.any():
                    track = None
                # points along the line, from the entry side to past the deeper end, where
                # the tip is looked for in every frame
                deep = 1.0 if py + t1 * uy >= py + t0 * uy else -1.0
                a0, a1 = (t0, t1) if deep > 0 else (t1, t0)
                ts = np.arange(a0 - CELL, a1 + deep * 4 * CELL, deep)
                qx, qy = px + ts * ux, py + ts * uy
                inside = (qx >= 0) & (qx <= gw - 1) & (qy >= 0) & (qy <= gh - 1)
                if inside.sum() > 4:
                    prof = (ts[inside], qy[inside], qx[inside],
                            float(np.median(small)))
                if track is not None:
                    mask |= (track[: ch * CELL, : cw * CELL]
                             .reshape(ch, CELL, cw, CELL).any(axis=(1, 3)))
        seq = small if prev is None else np.concatenate([prev[None], small])
        first = start if prev is None else start - 1
        n_pairs = seq.shape[0] - 1
        if n_pairs < 1:
            prev = small[-1]
            continue
        # the flow of each frame pair (the cost), into one array; everything after is
        # reduced over the block's pairs at once
        flows = _pair_flows(seq, method)
        fx, fy = flows[..., 0], flows[..., 1]
        fx *= k
        fy *= k
        at = slice(first + 1, first + 1 + n_pairs)
        # the field's coherent motion: the median over every 3rd grid point
        gx = np.median(fx[:, ::3, ::3].reshape(n_pairs, -1), axis=1)
        gy = np.median(fy[:, ::3, ::3].reshape(n_pairs, -1), axis=1)
        lx = fx - gx[:, None, None]
        ly = fy - gy[:, None, None]
        glob[at, 0], glob[at, 1] = gx, gy
        change[at] = np.abs(np.diff(seq, axis=0)).mean(axis=(1, 2))
        cells[at, 0] = lx[:, : ch * CELL, : cw * CELL].reshape(
            n_pairs, ch, CELL, cw, CELL).mean(axis=(2, 4))
        cells[at, 1] = ly[:, : ch * CELL, : cw * CELL].reshape(
            n_pairs, ch, CELL, cw, CELL).mean(axis=(2, 4))
        if track is not None:
            ndl[at] = np.abs(lx[:, track] * ux + ly[:, track] * uy).mean(axis=1)
        if roi_trace is not None:
            roi_trace[at, 0] = lx[:, rs, cs].mean(axis=(1, 2))
            roi_trace[at, 1] = ly[:, rs, cs].mean(axis=(1, 2))
        if prof is not None:
            tip[at] = _tips(seq[1:], prof) * k
        prev = small[-1]
    # the first sample has no frame before it: it repeats the one after
    for arr in (cells, glob, ndl, change, tip):
        arr[0] = arr[1]
    if roi_trace is not None:
        roi_trace[0] = roi_trace[1]
    return Motion(cells=cells, global_=glob, needle=ndl, change=change, needle_mask=mask,
                  roi_trace=roi_trace, factor=k, lines=lines, tip=tip)


def _same_line(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether two needle lines (:func:`_find_needle`) are one: within 3° and 2 grid
    points of each other."""
    cos = abs(a[2] * b[2] + a[3] * b[3])
    dist = abs(-(a[0] - b[0]) * b[3] + (a[1] - b[1]) * b[2])
    return cos >= np.cos(np.deg2rad(3.0)) and dist <= 2.0


def _pair_flows(seq: np.ndarray, method: str) -> np.ndarray:
    """Flow ``(fx, fy)`` from each frame of ``seq`` (grid frames, grey levels) to the next,
    ``(len(seq) - 1, rows, columns, 2)`` px per frame on the grid. Farnebäck gets the
    frames as 8 bits, converted once for the block (not twice per pair)."""
    n = seq.shape[0] - 1
    out = np.empty((n, *seq.shape[1:], 2), np.float32)
    if method == "farneback":
        import cv2

        u8 = np.clip(seq, 0, 255).astype(np.uint8)
        for j in range(n):  # a loop over frame pairs: one flow each
            out[j] = cv2.calcOpticalFlowFarneback(u8[j], u8[j + 1], None, *FARNEBACK, 0)
        return out
    for j in range(n):  # a loop over frame pairs: one flow each
        out[j, ..., 0], out[j, ..., 1] = flow_small(seq[j], seq[j + 1], method)
    return out


def _tip(frame: np.ndarray, prof: tuple[np.ndarray, np.ndarray, np.ndarray, float],
         ) -> float:
    """Where along the needle's line (grid px from the foot of the perpendicular from
    the frame's corner) the bright line ends: the deep end of the longest run of the
    brightness profile along it (smoothed over 3 points) above halfway between the
    line's median level and the frame's, gaps of up to 4 points bridged. A fascia that
    the line's extension crosses beyond the tip makes a short run, and a twitch that
    moves it does not move the tip. (:func:`_tips` for one frame.)"""
    return float(_tips(frame[np.newaxis], prof)[0])


def _tips(frames: np.ndarray, prof: tuple[np.ndarray, np.ndarray, np.ndarray, float],
          ) -> np.ndarray:
    """:func:`_tip` of each of ``frames`` (``(n, rows, columns)``), at once: the profiles
    are rows of one array, closed and labelled along the rows only; NaN where a profile
    has no run."""
    from scipy.ndimage import binary_closing, label, map_coordinates, uniform_filter1d

    ts, qy, qx, bg = prof
    n, m = frames.shape[0], ts.size
    fi = np.repeat(np.arange(n, dtype=float), m)
    p = map_coordinates(frames, [fi, np.tile(qy, n), np.tile(qx, n)], order=1)
    p = uniform_filter1d(p.reshape(n, m), 3, axis=1)
    level = np.median(p[:, : max(3, m // 2)], axis=1)
    above = binary_closing(p > ((level + bg) / 2)[:, None],
                           structure=np.ones((1, 5), bool))
    lab, k = label(above, structure=[[0, 0, 0], [1, 1, 1], [0, 0, 0]])
    out = np.full(n, np.nan)
    if k == 0:
        return out
    size = np.bincount(lab.ravel())[1:]
    flat = np.flatnonzero(lab.ravel())
    lab_of = lab.ravel()[flat]
    row = np.empty(k, int)
    last = np.empty(k, int)
    row[lab_of - 1] = flat // m  # runs are labelled in raster order: the last write
    last[lab_of - 1] = flat % m  # of a label is its deepest point
    # per row, the longest run (the first of equal ones, as argmax)
    order = np.lexsort((np.arange(k), -size, row))
    first = order[np.r_[True, row[order][1:] != row[order][:-1]]]
    out[row[first]] = ts[last[first]]
    return out


def _running_median(x: np.ndarray, size: int) -> np.ndarray:
    from scipy.ndimage import median_filter

    return median_filter(x, size=max(1, size) | 1, mode="nearest", axes=(0,))


def burst_score(speed: np.ndarray, fps: float, brief: float = 0.3) -> np.ndarray:
    """How much brief local motion each trace (a column of ``speed``) holds: the sum, over
    its runs above 4 robust standard deviations over its running median (1 s) that last
    at most ``brief`` s, of each run's peak (in those deviations). A twitch lasts
    50-300 ms; a needle manipulation or the drag behind it lasts longer and scores
    nothing."""
    from scipy.ndimage import label, maximum

    base = _running_median(speed, round(fps))
    dev = speed - base
    mad = np.median(np.abs(dev - np.median(dev, axis=0)), axis=0) / 0.6745
    z = dev / np.maximum(mad, 1e-9)
    longest = max(1, round(brief * fps))
    out = np.zeros(speed.shape[1])
    for j in range(speed.shape[1]):  # a loop over a few hundred cells
        lab, k = label(z[:, j] > 4.0)
        if k == 0:
            continue
        idx = np.arange(1, k + 1)
        size = np.bincount(lab, minlength=k + 1)[1:]
        peak = np.asarray(maximum(z[:, j], lab, idx))
        out[j] = float(np.sum(peak[size <= longest]))
    return out


def auto_roi(m: Motion, fps: float, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The box of 3 × 3 cells (px: x0, y0, x1, y1) with the strongest brief local motion
    (:func:`burst_score` of its mean local speed), in frames where neither the whole
    field (probe motion leaves local flow errors everywhere) nor the needle's shaft was
    moving, and away from the shaft's cells (the tip, where twitches arise, is not part
    of it)."""
    _n, _, ch, cw = m.cells.shape
    gspeed = np.hypot(m.global_[:, 0], m.global_[:, 1])
    quiet = ((gspeed <= 3 * np.median(gspeed) + 1e-6)
             & (m.needle <= 3 * np.median(m.needle) + 1e-6))
    if quiet.sum() < 3:
        quiet[:] = True
    # 3 x 3 box sums of the cell vectors (edge boxes smaller)
    from scipy.ndimage import uniform_filter

    vec = uniform_filter(m.cells[quiet], size=(1, 1, 3, 3), mode="nearest")
    speed = np.hypot(vec[:, 0], vec[:, 1]).reshape(vec.shape[0], -1)
    score = burst_score(speed, fps).reshape(ch, cw)
    # boxes with a shaft cell in them (3 x 3 box sums of the shaft's cells)
    blocked = uniform_filter(m.needle_mask.astype(float), size=3, mode="constant") > 1e-9
    if (~blocked).any():
        score = np.where(blocked, -np.inf, score)
    r, c = np.unravel_index(int(np.argmax(score)), score.shape)
    px = m.factor * CELL
    r0, c0 = max(0, r - 1), max(0, c - 1)
    r1, c1 = min(ch, r + 2), min(cw, c + 2)
    return (int(c0 * px), int(r0 * px), int(min(shape[1], c1 * px)),
            int(min(shape[0], r1 * px)))


def roi_flow(m: Motion, roi: tuple[int, int, int, int]) -> np.ndarray:
    """Mean local flow (n_frames × 2, px/frame) over the cells of a box (px)."""
    px = m.factor * CELL
    x0, y0, x1, y1 = roi
    rs = slice(y0 // px, max(y0 // px + 1, -(-y1 // px)))
    cs = slice(x0 // px, max(x0 // px + 1, -(-x1 // px)))
    return m.cells[:, :, rs, cs].mean(axis=(2, 3))


def motion_recording(
    clip: Clip,
    *,
    roi: tuple[int, int, int, int] | None = None,
    method: str = "farneback",
    block: int = BLOCK_FRAMES,
    needle: bool = True,
    return_motion: bool = False,
) -> Recording | tuple[Recording, Motion]:
    """The tissue motion of a cine loop as a Recording (see the module docstring).

    Parameters
    ----------
    clip : Clip
        The cine loop (:func:`ltr.ultrasound.read_clip`, :func:`ltr.simulate.cine`).
    roi : (x0, y0, x1, y1) | None
        Region of interest in pixels; None finds it (:func:`auto_roi`).
    method : {"farneback", "ilk", "tvl1"}
        Optical flow.
    block : int
        Frames read and processed at a time.
    needle : bool
        Look for the needle and measure the motion along it.
    return_motion : bool
        Also return the :class:`Motion` (cell map for figures).

    Returns
    -------
    Recording
        Channels :data:`CHANNELS` at ``clip.fps``; ``meta["ultrasound"]`` holds the ROI
        (px), pixel size, method, grid factor and needle lines.
    """
    m = estimate_motion(clip, roi=roi, method=method, block=block, needle=needle)
    if roi is None:
        box = auto_roi(m, clip.fps, clip.shape)
        local = roi_flow(m, box)
    else:
        box = tuple(int(v) for v in roi)  # type: ignore[assignment]
        assert m.roi_trace is not None
        local = m.roi_trace
    scale = clip.fps * (clip.spacing_mm if clip.spacing_mm else 1.0)
    unit = "mm/s" if clip.spacing_mm else "px/s"
    speed = np.hypot(local[:, 0], local[:, 1]) * scale
    gspeed = np.hypot(m.global_[:, 0], m.global_[:, 1]) * scale
    # displacement along the ROI's main axis of motion, slow drift taken out
    _w, v = np.linalg.eigh(np.cov(local.T.astype(float)) + 1e-12 * np.eye(2))
    axis = v[:, 1]
    disp = np.cumsum(local @ axis) / clip.fps * scale
    disp = disp - _running_median(disp, round(2 * clip.fps))
    tip = m.tip if m.tip is not None else np.full(clip.n_frames, np.nan)
    data = np.vstack([speed, gspeed, m.needle * scale, m.change, tip,
                      disp]).astype(np.float64)
    rec = Recording(
        data, clip.fps, list(CHANNELS), ["us", "misc", "misc", "misc", "misc", "misc"],
        units=[unit, unit, unit, "", "px", unit.split("/")[0]],
        meas_date=clip.meas_date,
        meta={"source": clip.source,
              "format": str(clip.meta.get("format") or "ultrasound cine"),
              "ultrasound": {"roi_px": list(box), "spacing_mm": clip.spacing_mm,
                             "method": method, "grid_factor": m.factor, "cell": CELL,
                             "shape": list(clip.shape), "n_frames": clip.n_frames,
                             "needle_lines": [list(x) if x else None for x in m.lines],
                             "unit": unit}})
    from .figures import remember_clip

    remember_clip(rec, clip)  # an in-memory clip: a report of rec draws its frames
    return (rec, m) if return_motion else rec
