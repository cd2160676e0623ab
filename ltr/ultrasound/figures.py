"""Figures of an ultrasound recording's twitches: motion-map thumbnails, velocity trace.

:func:`twitch_thumbnails` re-reads the cine loop only around each twitch (a window of a
few frames from just before its onset to just after its offset, streamed in time order
through :meth:`Clip.read`; the clip is never read whole) and measures the local motion
there with the same optical flow and grid as :func:`ltr.ultrasound.motion_recording`.
:func:`plot_thumbnail` draws one twitch: the frame at its peak with the motion map (the
largest local speed of each grid point over the twitch, the whole field's coherent
motion taken out) overlaid, and the region of interest. :func:`plot_velocity` draws the
``us`` channel over the recording with the twitches numbered as in the report's table,
and below it the context the rules read (whole field, needle shaft).

matplotlib is imported inside the plotting functions.
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..recording import Recording
from ._clip import Clip
from .flow import METHODS, downsample, flow_small

#: Thumbnails drawn by default (the first twitches in time); the report says how many
#: were left out.
MAX_THUMBNAILS = 24
#: Frames read around a twitch at most (its onset-to-offset span, 1 frame either side,
#: centred on its peak when longer): s.
MAX_WINDOW_S = 1.0
#: Thumbnail frames are averaged down to at most this many columns.
THUMB_WIDTH = 320

# In-memory clips (ltr.read(clip), motion_recording(clip)) remembered for their motion
# recording, so that a report of it finds the frames; clips read from a file are
# re-opened from the file instead (an open video reader is not kept alive).
_CLIPS: weakref.WeakKeyDictionary[Recording, Clip] = weakref.WeakKeyDictionary()


def remember_clip(recording: Recording, clip: Clip) -> None:
    """Remember the in-memory ``clip`` that ``recording`` was made from (for
    :func:`clip_for`); clips read block by block from a file are not kept."""
    if clip.frames is not None:
        _CLIPS[recording] = clip


@dataclass
class Thumbnail:
    """One twitch's frame and motion map.

    Attributes
    ----------
    index : int
        Row of the twitch in ``results.events`` (0-based; the report numbers from 1).
    onset, peak_time : float
        s.
    frame : int
        The frame shown (the one at the twitch's peak).
    image : ndarray, shape (rows, columns)
        That frame, grey levels, averaged down by ``image_factor``.
    image_factor : int
        Full-resolution pixels per ``image`` pixel.
    motion : ndarray, shape (grid_rows, grid_columns)
        Largest local speed of each grid point over the twitch's frame pairs, in
        ``unit`` (mm/s or px/s).
    grid_factor : int
        Full-resolution pixels per grid point of ``motion``.
    frames_read : (int, int)
        The frames read for it, ``start:stop``.
    """

    index: int
    onset: float
    peak_time: float
    frame: int
    image: np.ndarray
    image_factor: int
    motion: np.ndarray
    grid_factor: int
    frames_read: tuple[int, int]


@dataclass
class Thumbnails:
    """:func:`twitch_thumbnails`' answer.

    Attributes
    ----------
    items : list of Thumbnail
        The twitches drawn, in time order.
    n_twitches : int
        Twitches on the ``us`` channel(s); ``n_twitches - len(items)`` were left out.
    unit : str
        Unit of the motion maps (mm/s or px/s).
    roi : (x0, y0, x1, y1) | None
        Region of interest of the ``us`` channel, full-resolution px.
    shape : (int, int)
        Frame rows and columns, px.
    note : str
        Why there are no thumbnails (the clip could not be found or read), else "".
    """

    items: list[Thumbnail]
    n_twitches: int
    unit: str
    roi: tuple[int, int, int, int] | None
    shape: tuple[int, int]
    note: str = ""

    @property
    def n_left_out(self) -> int:
        """Twitches without a thumbnail."""
        return self.n_twitches - len(self.items)

    @property
    def vmax(self) -> float:
        """One colour scale for every map (so twitches compare): the largest of the
        maps' 99.5th percentiles, in ``unit``."""
        tops = [float(np.percentile(t.motion, 99.5)) for t in self.items if t.motion.size]
        return max([*tops, 1e-9])


def is_ultrasound(recording: Recording, results: Any = None) -> bool:
    """Whether ``recording`` is a cine loop's motion recording (it has a ``us`` channel
    and :func:`~ltr.ultrasound.motion_recording`'s ``meta["ultrasound"]``)."""
    return "us" in recording.ch_kinds and isinstance(recording.meta.get("ultrasound"), dict)


def _us_events(recording: Recording, results: Any) -> np.ndarray:
    """Rows of ``results.events`` seen on a ``us`` channel, in time order."""
    us = {n for n, k in zip(recording.ch_names, recording.ch_kinds, strict=True) if k == "us"}
    ev = results.events
    rows = [k for k in range(len(ev["onset"]))
            if set(str(ev["channels"][k]).split(",")) & us]
    return np.asarray(sorted(rows, key=lambda k: float(ev["onset"][k])), dtype=int)


def clip_for(recording: Recording, clip: Clip | None = None) -> tuple[Clip | None, str]:
    """The cine loop behind a motion recording, and why not when it cannot be had.

    ``clip`` when given (checked against the recording: same number of frames and frame
    rate); else the in-memory clip the recording was made from; else the clip re-opened
    from ``recording.meta["source"]`` (DICOM, video, folder of frames) at the
    recording's frame rate. Returns ``(None, reason)`` when none of these works.
    """
    us = recording.meta.get("ultrasound") or {}
    if clip is not None:
        if clip.n_frames != recording.n_samples or abs(clip.fps - recording.sfreq) > 1e-6:
            raise ValueError(f"clip={clip!r} is not the clip of this recording "
                             f"({recording.n_samples} samples at {recording.sfreq:g} Hz)")
        return clip, ""
    if recording in _CLIPS:
        return _CLIPS[recording], ""
    src = str(recording.meta.get("source") or "")
    if not src or not os.path.exists(src):
        return None, ("the cine loop is not at hand (made in memory, or its file "
                      f"{src or '(unnamed)'} is gone): pass clip= to the report")
    from .io import read_clip

    try:
        found = read_clip(Path(src), fps=recording.sfreq, spacing_mm=us.get("spacing_mm"))
    except (ValueError, OSError, ImportError) as err:
        return None, f"the cine loop {src} could not be read again: {err}"
    if found.n_frames != recording.n_samples:
        return None, (f"{src} now holds {found.n_frames} frames, the recording "
                      f"{recording.n_samples}: not the same clip")
    return found, ""


def _window(onset: float, offset: float, peak: float, fps: float, n: int,
            ) -> tuple[int, int, int]:
    """Frames ``a:b`` read for a twitch and the peak frame (clipped to the clip)."""
    a = int(np.floor(onset * fps)) - 1
    b = int(np.ceil(offset * fps)) + 2
    pk = round(peak * fps)
    most = max(3, round(MAX_WINDOW_S * fps))
    if b - a > most:  # a long candidate: the frames around its peak
        a, b = pk - most // 2, pk - most // 2 + most
    a, b = max(0, a), min(n, b)
    if b - a < 2:  # at least one frame pair
        a, b = max(0, min(a, n - 2)), min(n, max(b, a + 2))
    return a, b, int(np.clip(pk, a, b - 1))


def twitch_thumbnails(recording: Recording, results: Any, clip: Clip | None = None, *,
                      max_thumbnails: int = MAX_THUMBNAILS) -> Thumbnails:
    """Frames and motion maps of the first ``max_thumbnails`` ultrasound twitches.

    Parameters
    ----------
    recording : Recording
        A cine loop's motion recording (:func:`~ltr.ultrasound.motion_recording`).
    results : TwitchResults
        :func:`ltr.detect`'s answer for it.
    clip : Clip | None
        The cine loop; by default found by :func:`clip_for`.
    max_thumbnails : int
        Twitches drawn at most (the first ones in time; 0: none, nothing is read).

    Returns
    -------
    Thumbnails
        Only the frames around each drawn twitch are read (:data:`MAX_WINDOW_S` at
        most, in time order: a DICOM or video reader streams forward); the flow is the
        recording's own (method, grid factor), the whole field's median motion taken out.
    """
    if not isinstance(max_thumbnails, int | np.integer) or max_thumbnails < 0:
        raise ValueError(f"max_thumbnails must be an integer >= 0, got {max_thumbnails!r}")
    us = recording.meta.get("ultrasound") or {}
    unit = str(us.get("unit") or "px/s")
    roi = tuple(int(v) for v in us["roi_px"]) if us.get("roi_px") else None
    shape = tuple(int(v) for v in us.get("shape", (0, 0)))
    rows = _us_events(recording, results)
    out = Thumbnails([], int(rows.size), unit, roi, shape)  # type: ignore[arg-type]
    if rows.size == 0 or max_thumbnails == 0:
        return out
    found, why = clip_for(recording, clip)
    if found is None:
        out.note = why
        return out
    method = str(us.get("method") or "farneback")
    if method not in METHODS:
        method = "farneback"
    from .motion import grid_factor

    k = int(us.get("grid_factor") or grid_factor(found.shape[1]))
    gh, gw = found.shape[0] // k, found.shape[1] // k
    fi = max(1, -(-found.shape[1] // THUMB_WIDTH))
    scale = found.fps * (found.spacing_mm if found.spacing_mm else 1.0)
    ev = results.events
    for r in rows[:max_thumbnails]:  # a loop over the twitches drawn (capped)
        a, b, pk = _window(float(ev["onset"][r]), float(ev["offset"][r]),
                           float(ev["peak_time"][r]), found.fps, found.n_frames)
        frames = found.read(a, b)
        small = [downsample(f, k)[:gh, :gw] for f in frames]
        motion = np.zeros((gh, gw), np.float32)
        for j in range(len(small) - 1):  # a loop over the window's frame pairs
            fx, fy = flow_small(small[j], small[j + 1], method)
            lx = fx - np.median(fx[::3, ::3])
            ly = fy - np.median(fy[::3, ::3])
            np.maximum(motion, np.hypot(lx, ly) * (k * scale), out=motion)
        out.items.append(Thumbnail(
            index=int(r), onset=float(ev["onset"][r]), peak_time=float(ev["peak_time"][r]),
            frame=pk, image=downsample(frames[pk - a], fi), image_factor=fi, motion=motion,
            grid_factor=k, frames_read=(a, b)))
    return out


def fused_thumbnails(clip_recording: Recording, results: Any, clip: Clip | None = None, *,
                     max_thumbnails: int = MAX_THUMBNAILS) -> Thumbnails:
    """Frames and motion maps of the twitches a fused clip saw (:func:`ltr.fuse_clip`).

    The rows of ``results`` that the clip saw (``us`` and the ``+us`` kinds) are put
    back on the clip's clock (``meta["clip"]["offset"]``) and drawn as
    :func:`twitch_thumbnails` draws a clip's own: the frame shown is the one at the clip
    twitch's peak (``us_peak_time``), the frames read span the row from its onset (a
    fused row's is the recording's, a little before the tissue moves) to as far past
    that peak as the peak is past the onset, or the row's end when later.

    Parameters
    ----------
    clip_recording : Recording
        The clip's motion recording (:func:`~ltr.ultrasound.motion_recording`, or
        ``ltr.read`` of the clip file) that was fused in.
    results : TwitchResults
        The fused results.
    clip : Clip | None
        The cine loop; by default found by :func:`clip_for`.
    max_thumbnails : int
        Twitches drawn at most (the first ones in time; 0: none).

    Returns
    -------
    Thumbnails
        Indexed by the rows of ``results.events`` (numbered as in the report's table),
        onset and peak time on the recording's clock; frames are the clip's.
    """
    from ..results import us_amplitude

    if "clip" not in results.meta:
        raise ValueError("results must be of a recording fused with a clip (ltr.fuse_clip); "
                         "these hold no meta['clip']")
    if not is_ultrasound(clip_recording):
        raise ValueError(f"clip_recording must be a cine loop's motion recording, got "
                         f"{clip_recording!r}")
    offset = float(results.meta["clip"]["offset"])
    ev = results.events
    seen = us_amplitude(ev)[1] != ""
    on = np.asarray(ev["onset"], float)
    peak = np.asarray(ev.get("us_peak_time", ev["peak_time"]), float)
    peak = np.where(np.isfinite(peak), peak, np.asarray(ev["peak_time"], float))
    stop = np.maximum(np.asarray(ev["offset"], float), peak + np.maximum(peak - on, 0.0))
    view = dict(ev, onset=on - offset, offset=stop - offset, peak_time=peak - offset,
                channels=np.where(seen, np.asarray(ev["channels"], dtype=object), ""))
    out = twitch_thumbnails(clip_recording, _Events(view), clip,
                            max_thumbnails=max_thumbnails)
    for th in out.items:  # back on the recording's clock, as the report's table
        th.onset, th.peak_time = float(ev["onset"][th.index]), th.peak_time + offset
    return out


@dataclass
class _Events:
    """What :func:`twitch_thumbnails` reads of a results object: its events."""

    events: dict[str, np.ndarray]


def plot_thumbnail(thumb: Thumbnail, thumbs: Thumbnails, *, ax: Any = None,
                   colorbar: bool = True) -> Any:
    """One twitch: its peak frame, the motion map over it, the region of interest.

    Parameters
    ----------
    thumb : Thumbnail
    thumbs : Thumbnails
        For the colour scale (:attr:`Thumbnails.vmax`, shared by every thumbnail), the
        unit and the ROI.
    ax : matplotlib Axes | None
        Draw there; by default a new figure of its own.
    colorbar : bool
        Add a colour bar of the local speed.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..plot import _pyplot

    plt = _pyplot()
    own = ax is None
    if ax is None:
        fig, ax = plt.subplots(figsize=(3.4, 3.0))
    else:
        fig = ax.figure
    h, w = thumb.image.shape
    fi, k = thumb.image_factor, thumb.grid_factor
    ax.imshow(thumb.image, cmap="gray", vmin=0, vmax=255, extent=(0, w * fi, h * fi, 0),
              interpolation="antialiased")
    vmax = thumbs.vmax
    gh, gw = thumb.motion.shape
    # the map where it moves by more than a fifth of the scale (or, for a faint twitch,
    # by more than half its own largest speed); quiet tissue stays grey
    top = float(np.max(thumb.motion)) if thumb.motion.size else 0.0
    shown = np.ma.masked_less(thumb.motion, min(0.2 * vmax, 0.5 * top) + 1e-12)
    im = ax.imshow(shown, cmap="plasma", vmin=0, vmax=vmax, alpha=0.6,
                   extent=(0, gw * k, gh * k, 0), interpolation="bilinear")
    if thumbs.roi is not None:
        from matplotlib.patches import Rectangle

        x0, y0, x1, y1 = thumbs.roi
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="cyan", lw=1.0,
                               ls="--"))
    ax.set_xlim(0, w * fi)
    ax.set_ylim(h * fi, 0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"#{thumb.index + 1}  {thumb.onset:.2f} s  frame {thumb.frame}  "
                 f"max {top:.2g} {thumbs.unit}", fontsize=7, loc="left")
    if colorbar:
        cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
        cb.ax.tick_params(labelsize=6)
        cb.set_label(f"local speed [{thumbs.unit}]", fontsize=7)
    if own:
        fig.tight_layout()
    return fig


def plot_thumbnails(thumbs: Thumbnails, items: list[Thumbnail] | None = None, *,
                    ncols: int = 4) -> Any:
    """Several thumbnails on one figure (a page of the PDF report), one colour bar.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..plot import _pyplot

    plt = _pyplot()
    items = thumbs.items if items is None else items
    nrows = max(1, -(-len(items) // ncols))
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, figsize=(11, 0.6 + 2.5 * nrows))
    for ax, th in zip(axes.ravel(), items, strict=False):
        plot_thumbnail(th, thumbs, ax=ax, colorbar=False)
    for ax in axes.ravel()[len(items):]:
        ax.set_visible(False)
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    sm = ScalarMappable(Normalize(0, thumbs.vmax), cmap="plasma")
    cb = fig.colorbar(sm, ax=axes.ravel().tolist(), fraction=0.02, pad=0.01)
    cb.set_label(f"local speed [{thumbs.unit}]", fontsize=8)
    fig.suptitle("Each twitch's frame at its peak, with the motion map (largest local "
                 "speed over the twitch); dashed: region of interest", fontsize=9)
    return fig


def plot_velocity(recording: Recording, results: Any, *, max_points: int = 20000) -> Any:
    """The ``us`` channel(s) over the whole recording with the twitches numbered as in
    the report's table (green), rejected look-alikes by reason; below, the speed of the
    whole field and of the needle's shaft that the look-alike rules read.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..plot import _decimate_minmax, _pyplot, _shade_results, _text

    plt = _pyplot()
    names = [n for n, kd in zip(recording.ch_names, recording.ch_kinds, strict=True)
             if kd == "us"]
    ctx = [f"{n} {c}" for n in names for c in ("global", "needle")
           if f"{n} {c}" in recording.ch_names]
    fig, axes = plt.subplots(len(names) + (1 if ctx else 0), 1, sharex=True, squeeze=False,
                             figsize=(14, 1.0 + 2.4 * len(names) + (1.6 if ctx else 0)),
                             gridspec_kw={"height_ratios": [3] * len(names)
                                          + ([2] if ctx else [])})
    t = np.arange(recording.n_samples) / recording.sfreq
    ev = results.events
    for ax, name in zip(axes[:, 0], names, strict=False):
        i = recording.ch_names.index(name)
        x = recording.get_data(picks=[i])[0]
        tt, xx = _decimate_minmax(t, x, max_points)
        ax.plot(tt, xx, lw=0.6, color="0.1")
        ax.set_ylabel(f"{_text(name)} tissue speed\n[{recording.units[i]}]", fontsize=8)
        _shade_results(ax, results, {name}, 0.0, recording.duration)
        mine = [k for k in range(len(ev["onset"]))
                if name in str(ev["channels"][k]).split(",")]
        if len(mine) <= 80:
            for k in mine:  # a loop over the twitches labelled (few)
                ax.text(float(ev["peak_time"][k]), 0.88, f"#{k + 1}", fontsize=7,
                        ha="center", color="darkgreen", transform=ax.get_xaxis_transform())
        ax.margins(x=0)
    if ctx:
        ax = axes[-1, 0]
        for name, color in zip(ctx, ("tab:purple", "tab:orange", "tab:blue", "tab:red"),
                               strict=False):
            i = recording.ch_names.index(name)
            tt, xx = _decimate_minmax(t, recording.get_data(picks=[i])[0], max_points)
            ax.plot(tt, xx, lw=0.6, color=color, label=_text(name))
        ax.set_ylabel(f"context\n[{recording.units[recording.ch_names.index(ctx[0])]}]",
                      fontsize=8)
        ax.legend(loc="upper right", fontsize=7, framealpha=0.6)
        ax.margins(x=0)
    axes[-1, 0].set_xlim(0, recording.duration)
    axes[-1, 0].set_xlabel("time [s]")
    fig.suptitle(f"{_text(results.source or 'clip')}: tissue speed in the region of "
                 f"interest; twitches green and numbered as in the table, rejected "
                 f"look-alikes labelled", fontsize=10)
    fig.tight_layout()
    return fig
