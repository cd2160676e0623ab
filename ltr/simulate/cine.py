"""B-mode-like ultrasound cine loops of a needled muscle, with ground truth.

:func:`cine` returns a :class:`~ltr.ultrasound.Clip` (frames in memory) and a
:class:`~ltr.simulate.Truth` like :func:`ltr.simulate.session` does. What is drawn:

- **Tissue**: fully developed speckle (complex Gaussian scatterers blurred by an
  anisotropic point-spread function, the envelope Rayleigh-distributed; the PSF about
  1 px axial × 2.5 px lateral) on an echogenicity map of muscle layers: oblique bright
  fascia lines and faint fibre striations, attenuated with depth, log-compressed to
  8 bits. The speckle moves with the tissue (small displacements: the pattern is
  carried, not re-drawn) and each frame gets fresh electronic noise.
- **Twitches**: a local displacement of a Gaussian patch (σ 12-30 px) at the trigger
  point the needle is aimed at (± 5 px), peak 1.5-5 px, lasting 50-200 ms (rising over
  30-45 % of it, then back), in runs as the needle is fanned, shrinking along a run
  (habituation, Cruz-Montecinos et al.
  2021). Truth onset = the first instant of the displacement.
- **Probe drift** (a smooth wander of a few px over the clip) and **probe jerks** (the
  whole field shifted 6-25 px within 80-250 ms, often partly back later; 1 + Poisson
  (duration / 40 s) of them).
- **A needle** as a bright line entering from the top edge at 15-40°; manipulations
  advance or withdraw its tip by 20-60 px over 0.3-1 s and drag the tissue beside the
  line along it (within about 8 px); the tip stays near the trigger point.
- **Breathing**: an axial sinusoid of 3-6 s period, 1-3 px, larger with depth.
- **Pulsation** (optional): an artery whose wall expands by about 1 px at each beat
  (55-100 bpm).
- **Freezes** (the same frame repeated 2-8 times) and **drops** (a frame lost, the next
  shown in its place), each 1 + Poisson(duration / 30 s).

Every confounder is logged with its interval in ``truth.confounders`` (kinds
``probe_jerk``, ``needle``, ``breathing``, ``pulsation``, ``freeze``, ``drop``,
``drift``). Displacements are in pixels (``truth.info["spacing_mm"]`` per pixel).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from .._version import __version__
from .truth import Truth

#: Confounders :func:`cine` can add (``confounders=``), all on by default but pulsation.
CINE_CONFOUNDERS = ("drift", "probe_jerk", "needle", "breathing", "pulsation", "freeze",
                    "drop")
_DEFAULT = ("drift", "probe_jerk", "needle", "breathing", "freeze", "drop")


def _texture(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Speckle × echogenicity of muscle layers on a canvas of ``shape`` (float)."""
    h, w = shape
    z = rng.standard_normal((2, h, w))
    z = ndimage.gaussian_filter(z, sigma=(0, 1.0, 2.5), mode="wrap")
    speck = np.hypot(z[0], z[1])
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    echo = np.full((h, w), 0.55)
    n_layers = int(rng.integers(2, 5))
    for _ in range(n_layers):  # a loop over a few fascia lines
        y0 = rng.uniform(0.15, 0.9) * h
        slope = rng.uniform(-0.12, 0.12)
        d = yy - (y0 + slope * (xx - w / 2))
        echo += rng.uniform(1.2, 2.5) * np.exp(-0.5 * (d / rng.uniform(1.5, 3.5)) ** 2)
    angle = rng.uniform(-0.3, 0.3)
    echo *= 1 + 0.25 * np.sin(2 * np.pi * (yy * np.cos(angle) + xx * np.sin(angle))
                              / rng.uniform(6, 14))
    return (echo * speck).astype(np.float32)


def _pulse(s: np.ndarray, rise: float) -> np.ndarray:
    """A displacement time course on ``s`` in [0, 1]: up over ``rise``, back after."""
    out = np.zeros_like(s)
    up = (s >= 0) & (s < rise)
    down = (s >= rise) & (s <= 1)
    out[up] = np.sin(0.5 * np.pi * s[up] / rise) ** 2
    out[down] = np.cos(0.5 * np.pi * (s[down] - rise) / (1 - rise)) ** 2
    return out


def _smoothstep(s: np.ndarray) -> np.ndarray:
    s = np.clip(s, 0, 1)
    return s * s * (3 - 2 * s)


def cine(
    duration: float = 20.0,
    fps: float = 30.0,
    shape: tuple[int, int] = (192, 256),
    *,
    seed: int = 0,
    spacing_mm: float = 0.15,
    twitch_rate: float = 8.0,
    twitch_amplitude: tuple[float, float] = (1.5, 5.0),
    twitch_duration: tuple[float, float] = (0.05, 0.2),
    confounders: tuple[str, ...] | None = None,
    noise: float = 0.08,
    twitch_times: Any = None,
) -> tuple[Any, Truth]:
    """Simulate a B-mode cine loop of dry needling with known twitches.

    Parameters
    ----------
    duration : float
        Seconds.
    fps : float
        Frame rate, frames/s (clinical scanners: 15-75).
    shape : (int, int)
        Frame rows (depth) and columns, px.
    seed : int
        Random seed; everything drawn follows from it.
    spacing_mm : float
        Pixel size, mm (square pixels), kept in the clip.
    twitch_rate : float
        Twitches per minute on average (in runs while the needle is fanned).
    twitch_amplitude : (float, float)
        Range of the peak displacement of the first twitch of a run, px.
    twitch_duration : (float, float)
        Range of twitch durations, s.
    confounders : tuple of str | None
        Which of :data:`CINE_CONFOUNDERS` to add (None: all but ``pulsation``).
    noise : float
        Electronic noise per frame, relative to the mean echo.
    twitch_times : array_like of float | None
        Onsets of the twitches (s), for a clip that records the same twitches as an EMG
        session (:func:`ltr.simulate.paired`); their amplitudes are drawn from
        ``twitch_amplitude``. None: twitches come in runs at ``twitch_rate``. Onsets
        later than 0.3 s before the end are left out.

    Returns
    -------
    clip : ltr.ultrasound.Clip
        ``frames`` (n_frames × rows × columns, uint8), ``fps``, ``spacing_mm``.
    truth : Truth
        ``twitches`` (``onset``, ``offset``, ``peak_time`` s; ``amplitude`` px;
        ``amplitude_mm``; ``x``, ``y`` px of the patch centre; ``snr_db`` NaN;
        ``channel`` "US"; ``epoch`` 0), ``confounders`` (kind, onset, offset, channel
        ``"*"``, amplitude px), one epoch over the clip; ``info`` with ``fps``,
        ``spacing_mm``, ``shape``, ``needle`` (entry, angle) and the seed.
    """
    from ..ultrasound import Clip

    conf = _DEFAULT if confounders is None else tuple(confounders)
    bad = sorted(set(conf) - set(CINE_CONFOUNDERS))
    if bad:
        raise ValueError(f"confounders: unknown {bad}; known: {list(CINE_CONFOUNDERS)}")
    if not fps > 0 or not duration > 0:
        raise ValueError(f"need fps > 0 and duration > 0, got fps={fps!r}, "
                         f"duration={duration!r}")
    rng = np.random.default_rng(seed)
    h, w = int(shape[0]), int(shape[1])
    n = max(2, round(duration * fps))
    t = np.arange(n) / fps
    margin = 40
    tex = _texture((h + 2 * margin, w + 2 * margin), rng)
    cf: dict[str, list] = {"kind": [], "onset": [], "offset": [], "channel": [],
                           "amplitude": []}

    def log(kind: str, on: float, off: float, amp: float) -> None:
        cf["kind"].append(kind)
        cf["onset"].append(float(on))
        cf["offset"].append(float(off))
        cf["channel"].append("*")
        cf["amplitude"].append(float(amp))

    # -- global motion: drift, jerks, breathing (px, per frame) ---------------------------
    gx = np.zeros(n)
    gy = np.zeros(n)
    if "drift" in conf:
        k = max(2, int(duration / 4) + 2)
        knots = np.linspace(0, t[-1], k)
        gx += np.interp(t, knots, rng.normal(0, 1.5, k))
        gy += np.interp(t, knots, rng.normal(0, 1.0, k))
        log("drift", 0, t[-1], 1.5)
    jerks: list[float] = []
    if "probe_jerk" in conf:
        for on in np.sort(rng.uniform(1.0, max(1.5, duration - 1.0),
                                      rng.poisson(duration / 40) + 1)):
            d = rng.uniform(0.08, 0.25)
            amp = rng.uniform(6, 25)
            ang = rng.uniform(0, 2 * np.pi)
            s = _smoothstep((t - on) / d)
            frac = rng.uniform(0, 0.8)
            t_back = on + d + rng.uniform(0.5, 2)
            back = frac * _smoothstep((t - t_back) / d)
            gx += amp * np.cos(ang) * (s - back)
            gy += amp * np.sin(ang) * (s - back)
            log("probe_jerk", on, on + d, amp)
            if frac > 0.1 and t_back < t[-1]:  # the probe put partly back
                log("probe_jerk", t_back, t_back + d, frac * amp)
            jerks.append(on)
    depth = (0.5 + np.arange(h) / h)[:, None]  # breathing grows with depth
    b_amp = 0.0
    b_per = 4.0
    if "breathing" in conf:
        b_amp = rng.uniform(1.0, 3.0)
        b_per = rng.uniform(3.0, 6.0)
        log("breathing", 0, t[-1], b_amp)
    breath = b_amp * np.sin(2 * np.pi * t / b_per + rng.uniform(0, 2 * np.pi))

    # -- the needle, aimed at the trigger point ------------------------------------------
    tp = (rng.uniform(0.4, 0.8) * w, rng.uniform(0.3, 0.7) * h)  # where twitches arise
    theta = np.deg2rad(rng.uniform(15, 40))
    ux, uy = np.cos(theta), np.sin(theta)
    ex = tp[0] - tp[1] / np.tan(theta)  # entry on the top edge (may lie left of the frame)
    length = np.full(n, np.hypot(tp[0] - ex, tp[1]) - rng.uniform(5, 20))
    drag = np.zeros(n)  # tissue drag along the needle, px (signed)
    if "needle" in conf:
        for on in np.sort(rng.uniform(0.5, max(1.0, duration - 1.5),
                                      rng.poisson(duration / 8) + 1)):
            d = rng.uniform(0.3, 1.0)
            amp = rng.uniform(20, 60) * rng.choice([-1, 1])
            s = _smoothstep((t - on) / d)
            length += amp * s
            # the tissue follows the needle part of the way, then slips back
            drag += np.sign(amp) * rng.uniform(2, 5) * np.sin(np.pi * np.clip(
                (t - on) / (d + 0.3), 0, 1))
            log("needle", on, on + d, abs(amp))
        reach = float(np.hypot(tp[0] - ex, tp[1]))
        length = np.clip(length, 0.5 * reach, reach + 25)
    np.column_stack([ex + ux * length, uy * length])  # x, y per frame (no probe)

    # -- twitches, in runs near the tip -----------------------------------------------------
    tw: dict[str, list] = {k: [] for k in ("onset", "offset", "peak_time", "amplitude",
                                           "amplitude_mm", "x", "y", "sigma", "rise")}
    tw_dir: list[tuple[float, float]] = []
    t_next = rng.uniform(0.5, 2.0)
    run_left, a0 = 0, 0.0
    given = None if twitch_times is None else np.sort(np.asarray(twitch_times, float))
    if given is not None:
        given = given[(given >= 0) & (given < duration - 0.3)]
        twitch_rate = 0.0  # the runs below are not drawn
    for t_given in () if given is None else given:  # a loop over twitches
        d = rng.uniform(*twitch_duration)
        amp = rng.uniform(*twitch_amplitude)
        rise = rng.uniform(0.3, 0.45)
        for key, val in (("onset", t_given), ("offset", t_given + d), ("rise", rise),
                         ("peak_time", t_given + rise * d), ("amplitude", amp),
                         ("amplitude_mm", amp * spacing_mm),
                         ("x", float(np.clip(tp[0] + rng.normal(0, 5), 20, w - 20))),
                         ("y", float(np.clip(tp[1] + rng.normal(0, 5), 20, h - 20))),
                         ("sigma", rng.uniform(12, 30))):
            tw[key].append(float(val))
        ang = rng.uniform(-np.pi, np.pi)
        tw_dir.append((np.cos(ang) * 0.6, np.sin(ang)))
    while twitch_rate > 0:
        if run_left == 0:
            t_next += rng.exponential(60.0 / twitch_rate * 2.5)
            run_left = int(rng.integers(1, 5))
            a0 = rng.uniform(*twitch_amplitude)
            k_in_run = 0
        else:
            t_next += rng.uniform(0.8, 3.0)
        if t_next > duration - 0.5:
            break
        d = rng.uniform(*twitch_duration)
        i = min(n - 1, int(t_next * fps))
        amp = max(twitch_amplitude[0] * 0.8, a0 * 0.88 ** k_in_run)
        tw["onset"].append(t_next)
        tw["offset"].append(t_next + d)
        rise = rng.uniform(0.3, 0.45)
        tw["rise"].append(rise)
        tw["peak_time"].append(t_next + rise * d)
        tw["amplitude"].append(amp)
        tw["amplitude_mm"].append(amp * spacing_mm)
        tw["x"].append(float(np.clip(tp[0] + rng.normal(0, 5), 20, w - 20)))
        tw["y"].append(float(np.clip(tp[1] + rng.normal(0, 5), 20, h - 20)))
        tw["sigma"].append(rng.uniform(12, 30))
        ang = rng.uniform(-np.pi, np.pi)
        tw_dir.append((np.cos(ang) * 0.6, np.sin(ang)))  # mostly axial
        run_left -= 1
        k_in_run += 1
    n_tw = len(tw["onset"])

    # -- pulsation -------------------------------------------------------------------------
    beats = np.zeros(0)
    art = (rng.uniform(0.2, 0.8) * w, rng.uniform(0.7, 0.85) * h, rng.uniform(6, 12))
    if "pulsation" in conf:
        period = 60.0 / rng.uniform(55, 100)
        beats = np.arange(rng.uniform(0, period), duration, period)
        for b in beats:
            log("pulsation", b, b + 0.15, 1.0)

    # -- frames ----------------------------------------------------------------------------
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # distance to the needle's infinite line and position along it (probe-fixed frame)
    along = (xx - ex) * ux + yy * uy
    perp = -(xx - ex) * uy + yy * ux
    near_line = np.exp(-0.5 * (perp / 4.0) ** 2).astype(np.float32)
    atten = np.exp(-1.2 * yy / h).astype(np.float32)
    ref = float(np.mean(tex))
    lo_db = np.log1p(0.02)
    hi_db = np.log1p(6.0)
    frames = np.empty((n, h, w), dtype=np.uint8)
    onsets = np.asarray(tw["onset"])
    for i in range(n):  # a loop over frames: each is one warp of the texture
        dx = np.full((h, w), gx[i], np.float32)
        dy = (gy[i] + breath[i] * depth).astype(np.float32) * np.ones((1, w), np.float32)
        for k in np.flatnonzero((onsets <= t[i]) & (onsets + 0.25 >= t[i])):
            s = (t[i] - onsets[k]) / (tw["offset"][k] - onsets[k])
            a = tw["amplitude"][k] * _pulse(np.asarray([s]), tw["rise"][k])[0]
            if a == 0:
                continue
            g = np.exp(-0.5 * ((xx - tw["x"][k]) ** 2 + (yy - tw["y"][k]) ** 2)
                       / tw["sigma"][k] ** 2)
            dx += a * tw_dir[k][0] * g
            dy += a * tw_dir[k][1] * g
        if drag[i] != 0:
            seg = near_line * (1 / (1 + np.exp((along - length[i]) / 5.0)))
            dx += drag[i] * ux * seg
            dy += drag[i] * uy * seg
        if beats.size:
            ph = (t[i] - beats[beats <= t[i]][-1]) / 0.15 if (beats <= t[i]).any() else 2
            if 0 <= ph <= 1:
                rx, ry = xx - art[0], yy - art[1]
                r = np.hypot(rx, ry) + 1e-6
                g = np.exp(-0.5 * ((r - art[2]) / 6.0) ** 2) * np.sin(np.pi * ph)
                dx += rx / r * g
                dy += ry / r * g
        img = ndimage.map_coordinates(tex, [yy + margin - dy, xx + margin - dx], order=1,
                                      mode="reflect")
        img = img * atten + noise * ref * np.abs(rng.standard_normal((h, w),
                                                                      dtype=np.float32))
        if "pulsation" in conf:  # the artery's dark lumen
            img *= 1 - 0.85 * (np.hypot(xx - art[0] - gx[i], yy - art[1] - gy[i])
                               < art[2])
        # the needle: a bright line to its tip, carried by the probe's motion
        ln = length[i]
        al = (xx - ex - gx[i]) * ux + (yy - gy[i]) * uy
        pd = -(xx - ex - gx[i]) * uy + (yy - gy[i]) * ux
        img += 6.0 * ref * np.exp(-0.5 * (pd / 1.2) ** 2) * (al > 0) * (al < ln)
        v = (np.log1p(np.maximum(img / ref, 0) * 0.5) - lo_db) / (hi_db - lo_db)
        frames[i] = np.clip(v * 255, 0, 255).astype(np.uint8)

    # -- freezes and drops --------------------------------------------------------------
    if "freeze" in conf:
        for on in rng.uniform(1, max(1.5, duration - 1), rng.poisson(duration / 30) + 1):
            i0 = int(on * fps)
            k = int(rng.integers(2, 9))
            if i0 >= n - 1:
                continue
            frames[i0 + 1: i0 + k] = frames[i0]
            log("freeze", t[min(i0, n - 1)], t[min(i0 + k, n - 1)], float(k))
    if "drop" in conf:
        for on in rng.uniform(1, max(1.5, duration - 1), rng.poisson(duration / 30) + 1):
            i0 = int(on * fps)
            if 0 < i0 < n - 1:  # frame i0 lost: the next one shown in its place
                frames[i0] = frames[i0 + 1]
                log("drop", t[i0 - 1], t[i0 + 1], 1.0)
    order = np.argsort(cf["onset"], kind="stable")
    truth = Truth(
        twitches={
            "onset": np.asarray(tw["onset"], float),
            "offset": np.asarray(tw["offset"], float),
            "peak_time": np.asarray(tw["peak_time"], float),
            "amplitude": np.asarray(tw["amplitude"], float),
            "amplitude_mm": np.asarray(tw["amplitude_mm"], float),
            "x": np.asarray(tw["x"], float), "y": np.asarray(tw["y"], float),
            "snr_db": np.full(n_tw, np.nan),
            "channel": np.full(n_tw, "US", dtype=object),
            "epoch": np.zeros(n_tw, int)},
        confounders={"kind": np.asarray(cf["kind"], dtype=object)[order],
                     "onset": np.asarray(cf["onset"], float)[order],
                     "offset": np.asarray(cf["offset"], float)[order],
                     "channel": np.asarray(cf["channel"], dtype=object)[order],
                     "amplitude": np.asarray(cf["amplitude"], float)[order]},
        epochs={"start": np.asarray([0.0]), "stop": np.asarray([float(n / fps)]),
                "muscle": np.asarray(["muscle"], dtype=object)},
        passes={"time": np.zeros(0), "epoch": np.zeros(0, int),
                "on_target": np.zeros(0, bool)},
        info={"seed": seed, "layout": "us", "sfreq": float(fps), "fps": float(fps),
              "duration": float(n / fps), "channels": ["US"], "condition": "cine",
              "spacing_mm": float(spacing_mm), "shape": [h, w],
              "needle": {"entry_x": float(ex), "angle_deg": float(np.rad2deg(theta))},
              "confounders": list(conf), "generator": f"ltr {__version__}"},
    )
    return Clip(frames, fps=float(fps), spacing_mm=float(spacing_mm),
                source=f"simulated cine (seed {seed})"), truth
