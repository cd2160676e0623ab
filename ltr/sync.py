"""An ultrasound clip and an EMG/accelerometer recording on one clock, and their twitches fused.

A cine loop (:func:`ltr.ultrasound.read_cine`) and an EDF/BDF recording of the same
needling are made by two machines. To count a twitch once when both saw it, the clip's
times must be put on the recording's clock: ``recording time = clip time + offset``.
:func:`clip_offset` finds the offset from

- a number the user gives (``offset=``);
- a sync event (``sync=("LABEL", t)``): the recording's annotation ``LABEL`` happened at
  ``t`` s into the clip (a tap on the probe marked on the amplifier, say);
- the two start times (``Recording.meas_date`` and ``Clip.meas_date``): what both files
  carry, as good as the two clocks, which are rarely set within a second of each other.

:func:`fuse_clip` then refines the offset from the twitches themselves (the shift, within
``refine`` s, that lines up the most ultrasound twitches with EMG/accelerometer ones: a
twitch's tissue motion follows its burst by the electromechanical delay) and fuses: an
ultrasound twitch within :attr:`~ltr.detect.config.FusionConfig.us_delay` (widened by a
frame on each side) of an EMG or accelerometer twitch joins it (modality ``emg+us``,
``acc+us`` or ``emg+acc+us``); the others stay ``us`` twitches on the recording's clock.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validate import LtrDataWarning
from .detect.rules import OUTSIDE
from .results import TwitchResults, us_amplitude

#: Step of the lag grid searched by :func:`refine_offset`, s.
REFINE_STEP = 0.005
#: The largest search :func:`fuse_clip` takes (s): clocks further apart than a minute
#: need the offset given (or a sync event), not searched.
REFINE_MAX = 60.0
#: A refinement is taken when the best lag lines up at least this many twitches ...
REFINE_MIN_MATCHES = 2
#: ... and chance would line up as many at some lag of the search with at most this
#: probability (Poisson: the EMG twitches' density times the window, over the search's
#: independent lags).
REFINE_CHANCE = 0.05


@dataclass(frozen=True)
class ClipSync:
    """Where a clip sits on a recording's clock.

    Attributes
    ----------
    offset : float
        Recording time of the clip's first frame, s (recording time = clip time + offset).
    source : str
        How it was found: ``"given"``, ``"sync event 'LABEL'"`` or ``"start times"``, with
        ``", refined by twitches"`` when :func:`refine_offset` moved it.
    shift : float
        What the refinement added, s (0 when not refined).
    matches : int | None
        Twitch pairs lined up at the final offset (None: not refined).
    chance : float | None
        The probability that chance lines up ``matches`` or more twitches at some lag of
        the search (None: not refined).
    """

    offset: float
    source: str
    shift: float = 0.0
    matches: int | None = None
    chance: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict (for ``results.meta`` and the sidecar)."""
        return dataclasses.asdict(self)


def _date(obj: Any) -> _dt.datetime | None:
    d = getattr(obj, "meas_date", None)
    if d is not None and d.tzinfo is None:
        d = d.replace(tzinfo=_dt.timezone.utc)
    return d


def _name(obj: Any, default: str) -> str:
    return str(getattr(obj, "source", "") or (getattr(obj, "meta", None) or {}).get(
        "source", "") or default)


def clip_offset(recording: Any, clip: Any, *, offset: float | None = None,
                sync: tuple[str, float] | None = None) -> ClipSync:
    """The clip's first frame on the recording's clock.

    Parameters
    ----------
    recording : Recording
        The EMG/accelerometer recording (its ``meas_date`` and annotations are read).
    clip : ltr.ultrasound.Clip | Recording
        The clip, or its motion recording (:func:`ltr.ultrasound.motion_recording`).
    offset : float | None
        Recording time of the clip's first frame, s, when known.
    sync : (str, float) | None
        A sync event: the recording's annotation with this description (case and
        surrounding spaces ignored; there must be exactly one, or ``"LABEL#N"`` names
        the N-th of them) happened at this many seconds into the clip.

    Returns
    -------
    ClipSync

    Raises
    ------
    ValueError
        When ``offset`` and ``sync`` are both given, the sync annotation is missing or
        not unique, or (with neither) a start time is missing.
    """
    if offset is not None and sync is not None:
        raise ValueError("give the clip's offset or a sync event, not both")
    if offset is not None:
        off = float(offset)
        if not np.isfinite(off):
            raise ValueError(f"clip offset must be a finite number of seconds, got {offset!r}")
        return ClipSync(off, "given")
    rec_name = _name(recording, "the recording")
    clip_name = _name(clip, "the clip")
    if sync is not None:
        label, at = sync
        name, nth = _nth(str(label))
        ann = recording.annotations
        desc = np.char.lower(np.char.strip(np.asarray(ann.description, dtype=str)))
        hit = np.flatnonzero(desc == name.lower())
        have = sorted(set(np.asarray(ann.description, dtype=str).tolist()))[:8]
        if nth is None and hit.size != 1:
            more = (f"; name one of them as '{name}#1' to '{name}#{hit.size}'"
                    if hit.size > 1 else f"; annotations present: {have or 'none'}")
            raise ValueError(f"{rec_name}: sync event {label!r}: {hit.size} annotations of "
                             f"that name (need exactly one){more}")
        if nth is not None and not 1 <= nth <= hit.size:
            raise ValueError(f"{rec_name}: sync event {label!r}: the recording has "
                             f"{hit.size} annotation(s) {name!r}; annotations present: "
                             f"{have or 'none'}")
        at_rec = float(ann.onset[hit[0 if nth is None else nth - 1]])
        return ClipSync(at_rec - float(at), f"sync event {label!r}")
    a, b = _date(recording), _date(clip)
    missing = [n for n, d in ((rec_name, a), (clip_name, b)) if d is None]
    if missing:
        raise ValueError(
            f"{' and '.join(missing)}: no start time, so the clip cannot be put on the "
            "recording's clock; give its offset (--clip-offset SECONDS) or a sync event "
            "(--clip-sync LABEL=SECONDS)")
    return ClipSync((b - a).total_seconds(), "start times")


def _nth(label: str) -> tuple[str, int | None]:
    """``"tap#2"`` -> ``("tap", 2)`` (the second annotation ``tap``); ``"tap"`` ->
    ``("tap", None)``."""
    name, sep, k = label.strip().rpartition("#")
    if sep and name.strip() and k.strip().isdigit():
        return name.strip(), int(k)
    return label.strip(), None


def _window(us_results: TwitchResults, config: Any) -> tuple[float, float]:
    """US onset minus EMG/accelerometer onset for the two to be one twitch, s: the
    configured delay widened by one frame on each side (onsets on a clip are known to a
    frame)."""
    lo, hi = config.fusion.us_delay
    frame = 1.0 / float(us_results.sfreq) if us_results.sfreq > 0 else 0.0
    return float(lo) - frame, float(hi) + frame


def refine_offset(onset: np.ndarray, us_onset: np.ndarray, sync: ClipSync, *,
                  window: tuple[float, float], search: float) -> ClipSync:
    """Shift a clip's offset, within ``search`` s, to line up the most twitch pairs.

    For each lag on a grid of :data:`REFINE_STEP` s, an ultrasound twitch lines up when
    its onset (clip time + offset + lag) minus an EMG/accelerometer onset lies in
    ``window``. The lag kept is the middle of the run of lags with the most twitches
    lined up (nearest 0 on ties); it is taken only when it lines up at least
    :data:`REFINE_MIN_MATCHES` and chance would do as well at some lag with a
    probability of at most :data:`REFINE_CHANCE`; otherwise ``sync`` comes back
    unchanged, with the count at its offset and that probability.

    Parameters
    ----------
    onset : ndarray
        EMG/accelerometer twitch onsets, s (recording time).
    us_onset : ndarray
        Ultrasound twitch onsets, s (clip time).
    sync : ClipSync
        The offset to start from.
    window : (float, float)
        Allowed ultrasound-minus-EMG onset difference, s.
    search : float
        Largest shift tried, s (on both sides).

    Returns
    -------
    ClipSync
    """
    e = np.sort(np.asarray(onset, float))
    u = np.asarray(us_onset, float) + sync.offset
    n_lag = round(2 * search / REFINE_STEP) + 1
    lags = np.linspace(-search, search, n_lag)
    if e.size == 0 or u.size == 0 or search <= 0:
        return dataclasses.replace(sync, matches=0, chance=0.0)
    lo, hi = window
    # pairs whose difference can fall in the window at some lag: d + lag in [lo, hi]
    left = np.searchsorted(e, u - hi - search, side="left")
    right = np.searchsorted(e, u - lo + search, side="right")
    counts = right - left
    ui = np.repeat(np.arange(u.size), counts)
    ei = np.repeat(left - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    d = u[ui] - e[ei]
    first = np.ceil((lo - d + search) / REFINE_STEP - 1e-9).astype(int)
    last = np.floor((hi - d + search) / REFINE_STEP + 1e-9).astype(int)
    first, last = np.clip(first, 0, n_lag), np.clip(last + 1, 0, n_lag)
    per_lag = _lined_up(ui, first, last, n_lag)
    best = int(per_lag.max())
    chance = _chance(best, e, u, window, search)
    if best < REFINE_MIN_MATCHES or chance > REFINE_CHANCE:
        at0 = int(per_lag[np.argmin(np.abs(lags))])
        return dataclasses.replace(sync, matches=at0, chance=chance)
    top = per_lag == best
    edges = np.flatnonzero(np.diff(np.concatenate([[0], top.astype(int), [0]])))
    runs = edges.reshape(-1, 2)  # [start, stop) of each run of best lags
    mids = (lags[runs[:, 0]] + lags[runs[:, 1] - 1]) / 2
    shift = float(mids[np.argmin(np.abs(mids))])
    return ClipSync(sync.offset + shift, sync.source + ", refined by twitches", shift,
                    best, chance)


def _lined_up(ui: np.ndarray, first: np.ndarray, last: np.ndarray, n_lag: int,
              ) -> np.ndarray:
    """Per lag, how many ultrasound twitches line up with some EMG twitch, from each
    pair's lags ``[first, last)`` (``ui``: the pair's ultrasound twitch). A twitch near
    two EMG ones counts once: its intervals are merged, then summed in one difference
    array (memory: the pairs and the lags, not their product)."""
    keep = last > first
    ui, first, last = ui[keep], first[keep], last[keep]
    diff = np.zeros(n_lag + 1, np.int64)
    if ui.size:
        key = ui.astype(np.int64) * (n_lag + 2)  # each twitch's lags in a range of its own
        order = np.lexsort((first, ui))
        f2, l2, key = (first + key)[order], (last + key)[order], key[order]
        reach = np.maximum.accumulate(l2)
        new_run = np.r_[True, f2[1:] > reach[:-1]]
        stops = np.zeros(int(new_run.sum()), np.int64)
        np.maximum.at(stops, np.cumsum(new_run) - 1, reach)
        np.add.at(diff, f2[new_run] - key[new_run], 1)
        np.add.at(diff, stops - key[new_run], -1)
    return np.cumsum(diff)[:n_lag]


def _chance(best: int, e: np.ndarray, u: np.ndarray, window: tuple[float, float],
            search: float) -> float:
    """Probability that unrelated twitches line up ``best`` or more at some lag: at one
    lag each ultrasound twitch meets an EMG twitch with probability density × window
    width (Poisson), and the search holds ``2 search / width + 1`` independent lags."""
    from scipy.stats import poisson

    width = window[1] - window[0]
    lo, hi = u.min() - search - window[1], u.max() + search - window[0]
    n_e = np.count_nonzero((e >= lo) & (e <= hi))
    lam = u.size * n_e / max(hi - lo, width) * width
    lags = 2 * search / width + 1
    return float(min(1.0, lags * poisson.sf(best - 1, lam)))


def _match(onset: np.ndarray, us_onset: np.ndarray,
           window: tuple[float, float]) -> np.ndarray:
    """For each ultrasound onset the index of the EMG/accelerometer twitch it joins
    (-1: none): one-to-one matching, closest to the window's middle first
    (:func:`ltr.evaluate.match_onsets` on onsets moved by the middle, with half the
    window as tolerance)."""
    from .evaluate import match_onsets

    lo, hi = window
    out = np.full(us_onset.size, -1)
    if us_onset.size and onset.size:
        ui, ei = match_onsets(np.asarray(us_onset, float) - (lo + hi) / 2,
                              np.asarray(onset, float), (hi - lo) / 2)
        out[ui] = ei
    return out


def _shifted(table: dict[str, np.ndarray], by: float) -> dict[str, np.ndarray]:
    out = dict(table)
    for k in ("onset", "offset", "peak_time"):
        if k in out:
            out[k] = np.asarray(out[k], float) + by
    return out


def _concat(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rows of ``b`` after those of ``a`` (columns of ``a``; a column ``b`` lacks is
    NaN or empty text), sorted by onset."""
    n = len(next(iter(b.values()))) if b else 0
    out = {}
    for k, v in a.items():
        w = b.get(k)
        if w is None:
            w = np.full(n, "" if v.dtype == object else np.nan, dtype=v.dtype)
        out[k] = np.concatenate([v, np.asarray(w).astype(v.dtype)])
    if "onset" in out:
        order = np.argsort(out["onset"], kind="stable")
        out = {k: v[order] for k, v in out.items()}
    return out


def fuse_clip(results: TwitchResults, us_results: TwitchResults, sync: ClipSync | float,
              *, refine: float | None = 2.0,
              min_confidence: float | None = None) -> TwitchResults:
    """EMG/accelerometer twitches and a clip's ultrasound twitches as one table.

    Parameters
    ----------
    results : TwitchResults
        :func:`ltr.detect` of the EMG/accelerometer recording. Detect it with
        ``min_confidence=0`` so that the clip can confirm twitches below the floor.
    us_results : TwitchResults
        :func:`ltr.detect` of the clip's motion recording (clip time).
    sync : ClipSync | float
        The clip's offset (:func:`clip_offset`, or seconds).
    refine : float | None
        Search this many seconds (0 to :data:`REFINE_MAX`; default 2) either side of the
        offset for the shift that lines up the most twitches (:func:`refine_offset`); a
        :class:`~ltr.LtrDataWarning` when no shift lines up more than chance would.
        None or 0: the offset as given.
    min_confidence : float | None
        Confidence floor applied to the fused table: every twitch below it is set aside
        (reason ``low_confidence``), the clip's too (their confidence, the chance that
        either modality is right, ``1 - (1 - c)(1 - c_us)``, is not calibrated). None:
        ``results.config.confidence.min_confidence``, which, like :func:`ltr.detect`'s
        default, sets aside only EMG and accelerometer twitches the clip did not see.

    Returns
    -------
    TwitchResults
        On the recording's clock. A fused row keeps the recording's onset and amplitude; the
        clip twitch's peak tissue speed and peak time are kept on every row the clip saw
        (``us_amplitude``, ``us_unit``, ``us_peak_time``: :data:`~ltr.results.CLIP_COLUMNS`;
        NaN on the others). ``meta["clip"]`` holds the sync (:class:`ClipSync` fields), the
        clip (``clip``: its source), its frame rate and duration, the matching window, how
        many ultrasound twitches were ``fused`` and ``us_only``, the search (``refine``, s)
        and whether it confirmed the offset (``checked``); ultrasound rows
        (``channel_events``, ``rejected``, ``contractions``) are shifted onto the
        recording's clock.
    """
    if not isinstance(sync, ClipSync):
        sync = ClipSync(float(sync), "given")
    if not np.isfinite(sync.offset):
        raise ValueError(f"the clip's offset must be a finite number of seconds, got "
                         f"{sync.offset!r}")
    _check_inputs(results, us_results)
    search = _check_refine(refine)
    cfg = results.config
    window = _window(us_results, cfg)
    ev, us_ev = results.events, us_results.events
    clip_name = us_results.source or "the clip"
    if search:
        sync = refine_offset(ev["onset"], us_ev["onset"], sync, window=window,
                             search=search)
        if "refined" not in sync.source:
            warnings.warn(
                f"{clip_name}: the clip's offset ({sync.offset:.3f} s, {_how(sync)}) "
                f"could not be checked: no shift within {search:g} s lines up "
                + (f"more twitches than chance would (p = {sync.chance:.2f})"
                   if (sync.chance or 0.0) > REFINE_CHANCE else
                   f"{REFINE_MIN_MATCHES} or more twitches seen by both")
                + f", so a twitch both saw may be counted twice; {_advice(sync)}",
                LtrDataWarning, stacklevel=2)
    _check_overlap(results, us_results, sync, clip_name)
    us_ev = _shifted(us_ev, sync.offset)
    pair = _match(ev["onset"], us_ev["onset"], window)
    joined = pair >= 0
    events = {k: np.array(v, copy=True) for k, v in ev.items()}
    k = pair[joined]
    c_us = np.asarray(us_ev["confidence"], float)[joined]
    mod = events["modality"].astype(object)
    mod[k] = np.asarray([f"{m}+us" for m in mod[k]], dtype=object)
    events["modality"] = mod
    ch = events["channels"].astype(object)
    ch[k] = np.asarray([f"{a},{b}" for a, b in zip(ch[k], us_ev["channels"][joined],
                                                    strict=True)], dtype=object)
    events["channels"] = ch
    conf = np.asarray(events["confidence"], float)
    conf[k] = 1 - (1 - conf[k]) * (1 - c_us)
    events["confidence"] = conf
    # the clip twitch's own speed and peak on the rows it saw (CLIP_COLUMNS)
    us_amp, us_unit = us_amplitude(us_ev)
    n = len(results)
    events["us_amplitude"] = np.full(n, np.nan)
    events["us_amplitude"][k] = us_amp[joined]
    events["us_unit"] = np.full(n, "", dtype=object)
    events["us_unit"][k] = us_unit[joined]
    events["us_peak_time"] = np.full(n, np.nan)
    events["us_peak_time"][k] = np.asarray(us_ev["peak_time"], float)[joined]
    alone = {c: np.asarray(v)[~joined] for c, v in us_ev.items()}
    alone.update(us_amplitude=us_amp[~joined], us_unit=us_unit[~joined].astype(object),
                 us_peak_time=np.asarray(us_ev["peak_time"], float)[~joined])
    # the clip's own twitches beyond the recording's span are not counted over it
    outside = _outside(alone["onset"], results.duration)
    set_aside = {"onset": alone["onset"][outside], "offset": alone["offset"][outside],
                 "channel": alone["channel"][outside],
                 "reason": np.full(int(outside.sum()), OUTSIDE, dtype=object),
                 "amplitude": alone["amplitude"][outside]}
    alone = {c: v[~outside] for c, v in alone.items()}
    alone["epoch"] = results.epochs.assign(alone["onset"])
    events = _concat(events, alone)
    us_ch = _shifted(us_results.channel_events, sync.offset)
    keep = ~_outside(us_ch["onset"], results.duration) | np.isin(us_ch["onset"],
                                                               us_ev["onset"][joined])
    us_ch = {c: np.asarray(v)[keep] for c, v in us_ch.items()}
    us_ch = dict(us_ch, epoch=results.epochs.assign(us_ch["onset"]))
    meta = dict(results.meta)
    meta.pop("confidence_features", None)  # rows no longer line up with the events
    # the clip's channels keep their units (mm/s, px/s) in every table
    meta["units"] = {**results.meta.get("units", {}), **us_results.meta.get("units", {})}
    if us_results.meta.get("us"):
        meta["us"] = list(us_results.meta["us"])
    meta["clip"] = dict(sync.to_dict(), clip=us_results.source,
                        fps=float(us_results.sfreq), duration=float(us_results.duration),
                        window=list(window), fused=int(joined.sum()),
                        us_only=int((~joined).sum() - outside.sum()),
                        outside=int(outside.sum()), refine=search,
                        checked=bool("refined" in sync.source))
    out = dataclasses.replace(
        results, events=events,
        channel_events=_concat(results.channel_events, us_ch),
        rejected=_concat(_concat(results.rejected, _shifted(us_results.rejected,
                                                            sync.offset)), set_aside),
        contractions=_concat(results.contractions,
                             _shifted(us_results.contractions, sync.offset)),
        noise_floor={**results.noise_floor, **us_results.noise_floor},
        processing={**results.processing, **us_results.processing}, meta=meta)
    floor = cfg.confidence.min_confidence if min_confidence is None else min_confidence
    # the default floor leaves the clip's twitches (not calibrated) alone; a floor asked
    # for applies to every twitch
    out = out.filter(min_confidence=float(floor), calibrated_only=min_confidence is None)
    out.meta["min_confidence"] = float(floor)
    return out


def _advice(sync: ClipSync) -> str:
    """What to do when the twitches could not confirm an offset found from ``sync``."""
    if sync.source == "start times":
        return ("give the offset (--clip-offset) or a sync event (--clip-sync), or search "
                "further (--clip-refine)")
    return ("check the offset given (a clip may have too few twitches seen by both to "
            "confirm it), or search further (--clip-refine)")


def _outside(onset: np.ndarray, duration: float) -> np.ndarray:
    """Onsets outside a recording of ``duration`` s."""
    onset = np.asarray(onset, float)
    return (onset < 0) | (onset >= duration)


def _how(sync: ClipSync) -> str:
    """How an offset was found, for messages."""
    return how_found(sync.source)


def how_found(source: str) -> str:
    """``ClipSync.source`` in words: "as given", "from the start times", "from the sync
    event 'X'" (without the refinement, said apart)."""
    base = source.split(", refined")[0]
    return "as given" if base == "given" else f"from the {base}"


def _check_refine(refine: float | None) -> float:
    """The search of :func:`fuse_clip` in seconds (0: none), or a ValueError."""
    if refine is None or refine is False:
        return 0.0
    try:
        v = float(refine)
    except (TypeError, ValueError):
        v = float("nan")
    if not (0 <= v <= REFINE_MAX):
        raise ValueError(f"refine must be a number of seconds from 0 to {REFINE_MAX:g} (or "
                         f"None), got {refine!r}")
    return v


def _check_inputs(results: TwitchResults, us_results: TwitchResults) -> None:
    """Arguments in the right order, each fused once."""
    mods = set(np.asarray(results.events["modality"]).astype(str).tolist())
    us_mods = set(np.asarray(us_results.events["modality"]).astype(str).tolist())
    if "clip" in results.meta or any("us" in m.split("+") for m in mods):
        raise ValueError("results already hold ultrasound twitches (a clip fused in "
                         "already, or a clip's own results): pass the EMG/accelerometer "
                         "recording's results first and the clip's second")
    if us_mods - {"us"}:
        raise ValueError(f"us_results must be a clip's (ltr.detect of its motion "
                         f"recording); they hold {sorted(us_mods - {'us'})} twitches")


def _check_overlap(results: TwitchResults, us_results: TwitchResults, sync: ClipSync,
                   clip_name: str) -> None:
    """A clip wholly outside the recording is an error; partly outside, a warning."""
    start, stop = sync.offset, sync.offset + float(us_results.duration)
    if stop <= 0 or start >= results.duration:
        raise ValueError(
            f"{clip_name}: at an offset of {sync.offset:.3f} s ({_how(sync)}) the clip "
            f"({us_results.duration:.1f} s) lies outside the recording (0 to "
            f"{results.duration:.1f} s); check --clip-offset / --clip-sync or the files' "
            f"start times")
    frame = 1.0 / float(us_results.sfreq) if us_results.sfreq > 0 else 0.0
    on = np.asarray(us_results.events["onset"], float) + sync.offset
    out = int(np.sum((on < 0) | (on >= results.duration)))
    if out and (start < -frame or stop > results.duration + frame):
        warnings.warn(
            f"{clip_name}: the clip runs from {start:.3f} to {stop:.3f} s of the recording "
            f"(0 to {results.duration:.1f} s): {out} of its twitches lie outside the "
            f"recording and are not counted (rejected, reason {OUTSIDE})", LtrDataWarning,
            stacklevel=3)
