"""Twitch detection: EMG and accelerometer front ends, rejection of look-alikes, fusion.

:func:`detect` is the entry point; :class:`DetectorConfig` holds every parameter.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._logging import logger, verbose
from .._validate import LtrDataWarning, check_sfreq
from .._version import __version__
from ..channels import group_sensors
from ..recording import Recording
from ..results import TwitchResults, empty_table
from ..segment import Epochs, epochs_from_activity, find_epochs
from ._channel import ChannelResult, detect_acc_sensor, detect_emg_channel
from ._fusion import channel_table, fuse, strip_private
from ._us import add_us, split_us
from .config import (
    CONFIDENCE_FEATURES,
    AccConfig,
    ConfidenceConfig,
    DetectorConfig,
    EmgConfig,
    FloorConfig,
    FusionConfig,
    GapConfig,
    RejectConfig,
    SegmentConfig,
    UsConfig,
)
from .rules import CONTRACTION, NEEDLING, VETO
from .stream import BLOCK, run_channels

__all__ = [
    "AccConfig",
    "ConfidenceConfig",
    "DetectorConfig",
    "EmgConfig",
    "FloorConfig",
    "FusionConfig",
    "GapConfig",
    "RejectConfig",
    "SegmentConfig",
    "UsConfig",
    "detect",
    "traces",
]


def _merge_contractions(con: dict[str, np.ndarray], margin: float) -> dict[str, np.ndarray]:
    """One row per contraction: pieces on one channel closer than ``margin`` s join."""
    rows: list[tuple[float, float, str, float]] = []
    order = np.lexsort((con["onset"], con["channel"].astype(str)))
    for i in order:  # a loop over contraction pieces
        on, off, ch, rms = con["onset"][i], con["offset"][i], con["channel"][i], con["rms"][i]
        if rows and rows[-1][2] == ch and on - rows[-1][1] < margin:
            a, b, _, r = rows[-1]
            rows[-1] = (a, max(b, off), ch, max(r, rms))
        else:
            rows.append((on, off, ch, rms))
    rows.sort()
    return {"onset": np.asarray([r[0] for r in rows], float),
            "offset": np.asarray([r[1] for r in rows], float),
            "channel": np.asarray([r[2] for r in rows], dtype=object),
            "rms": np.asarray([r[3] for r in rows], float)}


def _gap_table(results: list, sfreq: float, cfg: DetectorConfig,
               sensors: dict[str, list[str]], source: str) -> dict[str, np.ndarray]:
    """The missing-sample runs of every channel as one table, summarised in each
    channel's ``processing["gaps"]``, with a warning per channel that has any.

    The table (``results.meta["gaps"]``) has one row per run of missing samples on one
    raw channel: ``channel``, ``onset`` and ``duration`` (s), ``action`` (``"filled"``
    by interpolation, or ``"skipped"``: left out of detection with the filter's reach
    around it), as lists."""
    cols: dict[str, list] = {"channel": [], "onset": [], "duration": [], "action": []}
    for r in results:
        g = r.gaps
        if not g or g["start"].size == 0:
            continue
        axes = sensors[r.name] if r.modality == "acc" else [r.name]
        length = (g["stop"] - g["start"]) / sfreq
        long_ = g["long"]
        cols["channel"].extend(axes[k] for k in g["row"].tolist())
        cols["onset"].extend((g["start"] / sfreq).tolist())
        cols["duration"].extend(length.tolist())
        cols["action"].extend(np.where(long_, "skipped", "filled").tolist())
        r.processing["gaps"] = {"count": int(length.size), "filled": int((~long_).sum()),
                                "skipped": int(long_.sum()),
                                "missing_s": float(length.sum()),
                                "skipped_s": float(length[long_].sum())}
        warnings.warn(
            f"{source}: channel {r.name!r} has {length.size} gap(s) of missing samples "
            f"(NaN), {length.sum():.3g} s in all, the longest {length.max():.3g} s: "
            f"{int((~long_).sum())} up to {cfg.gaps.max_fill:g} s filled by interpolation, "
            f"{int(long_.sum())} longer left out of detection (with 3 periods of the band's "
            f"lower edge on each side); the gap table is in results.meta['gaps']",
            LtrDataWarning, stacklevel=5)
    # plain lists: meta is stored as JSON (ltr.write_results)
    return {k: [str(v) if k in ("channel", "action") else float(v) for v in col]
            for k, col in cols.items()}


def _as_recording(data: Any, sfreq: float | None, ch_names: Sequence[str] | None) -> Recording:
    if isinstance(data, str | os.PathLike):  # a file: read as ltr.read reads it
        from ..io import read

        return read(data, **({"sfreq": sfreq} if sfreq is not None else {}))
    if isinstance(data, Recording):
        if sfreq is not None and abs(sfreq - data.sfreq) > 1e-9:
            raise ValueError(f"sfreq={sfreq} given, but the recording is at {data.sfreq} Hz")
        return data
    if hasattr(data, "info") and hasattr(data, "get_data"):
        return Recording.from_mne(data)
    from ..io import _is_clip

    if _is_clip(data):  # ltr.simulate.cine, ltr.ultrasound.read_clip: its motion recording
        from ..io import read

        return read(data)
    if type(data).__module__.startswith("pandas"):
        # samples in rows, channels named by the columns; as for an array, every channel
        # is EMG unless a name says otherwise
        rec = Recording(data, sfreq, ch_names)
        if not {"emg", "acc"} & set(rec.ch_kinds):
            rec.set_channel_kinds(dict.fromkeys(rec.ch_names, "emg"))
        return rec
    if not isinstance(data, np.ndarray | list | tuple) and not np.isscalar(data) and (
            np.asarray(data, dtype=object).ndim == 0):
        raise TypeError(f"detect() takes a Recording (ltr.read), a path, an MNE Raw, a "
                        f"DataFrame or an array of samples, not {type(data).__name__}")
    if sfreq is None:
        raise TypeError("detect() needs sfreq= (Hz) when given an array")
    arr = np.asarray(data)
    if arr.ndim == 1:
        arr = arr[np.newaxis]
    names = list(ch_names) if ch_names is not None else [f"EMG {i + 1}" for i in
                                                          range(arr.shape[0])]
    rec = Recording(arr, check_sfreq(sfreq), names)
    if ch_names is None:
        rec.set_channel_kinds(dict.fromkeys(names, "emg"))
    return rec


@verbose
def detect(
    data: Recording | str | os.PathLike[str] | Any,
    sfreq: float | None = None,
    config: DetectorConfig | None = None,
    *,
    emg: Sequence[str] | None = None,
    acc: Sequence[str] | None = None,
    us: Sequence[str] | None = None,
    ch_names: Sequence[str] | None = None,
    epochs: Epochs | None = None,
    block: float | str | None = "auto",
    n_jobs: int | None = None,
    min_confidence: float | None = None,
    verbose: bool | str | int | None = None,
) -> TwitchResults:
    """Find, count and describe local twitch responses.

    Parameters
    ----------
    data : Recording | path-like | mne.io.BaseRaw | pandas.DataFrame | pandas.Series | array_like
        The recording. A path (``str`` or :class:`os.PathLike`) is read with
        :func:`ltr.read` (``ltr.detect("s.edf")`` is ``ltr.detect(ltr.read("s.edf"))``;
        call :func:`ltr.read` yourself for other reading options). An array has shape
        ``(n_channels, n_samples)`` in SI units (V, m/s²); its channels are EMG unless
        ``ch_names`` name them (``"ACC X"``...). A DataFrame has samples in rows and one
        named column per channel (see :class:`ltr.Recording`); its channels are EMG
        unless a column name says otherwise.
    sfreq : float | None
        Sampling rate in Hz, needed for arrays and for DataFrames without a time index.
        With a path it is passed to the reader (``ltr.read(path, sfreq=...)``: delimited
        text without a time column, a folder of ultrasound frames).
    config : DetectorConfig | None
        Parameters (defaults when None).
    emg : sequence of str | None
        EMG channels to analyse (default: every channel of kind ``emg``).
    acc : sequence of str | None
        Accelerometer channels (default: every channel of kind ``acc``); X/Y/Z axes of
        one sensor are combined (:func:`ltr.channels.group_sensors`).
    us : sequence of str | None
        Ultrasound tissue-speed channels (default: every channel of kind ``us``, as
        :func:`ltr.ultrasound.motion_recording` makes them); each is judged with its
        context channels ``<name> global``, ``<name> needle``, ``<name> change`` when
        present (:data:`ltr.detect.rules.US_RULES`, thresholds in :class:`UsConfig`).
    ch_names : sequence of str | None
        Channel names for array input.
    epochs : ltr.segment.Epochs | None
        Needle-in epochs. By default they come from ``needle in``/``needle out``
        annotations, else from a trigger channel (:func:`ltr.segment.find_epochs`), else
        from clusters of needling activity (:func:`ltr.segment.epochs_from_activity`).
    block : float | "auto" | None
        Process the recording in pieces of this many seconds (15 s of context on both
        sides), reading each piece from the file: memory then does not grow with the
        recording's length, and the events are the same as in one go
        (:mod:`ltr.detect.stream`). ``"auto"`` streams recordings read lazily from a file
        and longer than 10 minutes in 300-s pieces; None processes everything at once.
    n_jobs : int | None
        EMG channels and accelerometer sensors processed in parallel (joblib semantics:
        None or 1 serial, -1 every core).
    min_confidence : float | None
        Set aside the twitches whose calibrated confidence is below this (0-1): they move
        to the rejected candidates with reason ``low_confidence``
        (:meth:`TwitchResults.filter`). None: ``config.confidence.min_confidence``
        (default 0.5: more likely a twitch than not; applied to the calibrated kinds,
        EMG and accelerometer, while ultrasound twitches, whose confidence is not
        calibrated yet, are kept); 0 keeps every twitch the rules passed. A number
        given here applies to every twitch.
    verbose : bool | str | int | None
        Log level for this call.

    Returns
    -------
    TwitchResults
        Never None; empty tables when nothing is found.

    Notes
    -----
    Per EMG channel: zero-phase band-pass (20-450 Hz by default, upper edge at most
    0.45 × sfreq), mains harmonics subtracted by lock-in where the spectrum shows them,
    heartbeats subtracted by template when they are periodic, then a centred moving-RMS
    envelope (40 ms) compared with a running median noise floor: candidates rise above
    1.8 × floor and last while above 1.3 × floor (hysteresis), quiet gaps under 25 ms
    merge phases of one burst, and onsets and offsets are placed on an 8 ms envelope.
    Look-alikes are turned away with a named reason: clipping, electrode pop (level
    step), sustained contraction (> 0.6 s), needle spike or lone motor-unit potential
    (90 % of the energy within 6 ms), ECG or motion residue (median frequency < 45 Hz).

    Per accelerometer sensor: axes band-passed 5-50 Hz, combined as the vector
    magnitude, the same floor and hysteresis (2.5 / 1.5 × floor, 60 ms window), and
    movements rejected (longer than 0.45 s, or more 0.5-5 Hz than twitch-band energy).

    Fusion: EMG candidates on several channels within 30 ms are one twitch; an
    accelerometer jolt 40 ms before to 100 ms after an EMG onset joins it.

    Confidence: each twitch's ``confidence`` is a logistic regression of its SNR over
    the threshold, duration, median frequency, burst span, crest factor, nearness to a
    heartbeat, channels agreeing, sampling rate and neighbouring twitches, with one set
    of coefficients for EMG-only, accelerometer-only and fused twitches
    (:class:`ConfidenceConfig`), fitted on simulated sessions so that among twitches of
    confidence c about a fraction c are true.

    Examples
    --------
    >>> from ltr.simulate import session
    >>> rec, truth = session(duration=60, layout="emg+acc", seed=2, snr_db=(10, 20))
    >>> res = detect(rec)
    >>> res.compare(truth)["f1"] > 0.8
    True
    """
    cfg = config if config is not None else DetectorConfig()
    if not isinstance(cfg, DetectorConfig):
        raise TypeError(f"config must be a DetectorConfig, got {type(cfg).__name__}")
    if min_confidence is not None and (
            isinstance(min_confidence, bool)
            or not isinstance(min_confidence, int | float | np.integer | np.floating)
            or not 0 <= float(min_confidence) <= 1):
        raise ValueError(f"min_confidence must be None or a number from 0 to 1, got "
                         f"{min_confidence!r}")
    rec = _as_recording(data, sfreq, ch_names)
    emg_names, acc_names, us_names = _pick_channels(rec, emg, acc, us)
    sensors = {s: [acc_names[i] for i in idx]
               for s, idx in group_sensors(acc_names, ["acc"] * len(acc_names)).items()}
    if epochs is None:
        epochs = find_epochs(rec)
    if not isinstance(epochs, Epochs):
        raise TypeError(f"epochs must be ltr.segment.Epochs or None, got {type(epochs)}")
    if isinstance(block, str):
        if block != "auto":
            raise ValueError(f"block must be 'auto', None or seconds, got {block!r}")
        block = BLOCK if (not rec.preloaded and rec.duration > 2 * BLOCK) else None
    # the steps: per channel, candidates judged by the rule tables; gaps and unusable
    # channels reported; accepted candidates fused over channels; what was turned away
    # collected; epochs assigned
    results, pieces = run_channels(rec, cfg, emg_names, sensors, block=block,
                                   n_jobs=n_jobs, us=us_names)
    gaps = _report_channels(results, rec, cfg, sensors)
    events, per_channel, vetoed, conf_x = _fuse_channels(results, rec.sfreq, cfg)
    rejected, contractions = _turned_away(results, vetoed, rec.sfreq, cfg)
    if epochs.source == "none":
        # nothing marks the insertions: needling activity does (twitches, needle contacts,
        # cable motion)
        marks = np.isin(rejected["reason"].astype(str), list(NEEDLING))
        epochs = epochs_from_activity(np.concatenate([events["onset"],
                                                      rejected["onset"][marks]]),
                                      end=rec.duration)
    events["epoch"] = epochs.assign(events["onset"])
    per_channel["epoch"] = epochs.assign(per_channel["onset"])
    res = TwitchResults(
        events=events, channel_events=per_channel, rejected=rejected,
        contractions=contractions,
        noise_floor={r.name: r.floor for r in results},
        processing={r.name: r.processing for r in results},
        epochs=epochs, config=cfg, sfreq=rec.sfreq,
        duration=rec.duration, source=str(rec.meta.get("source", "")),
        meta={"ltr_version": __version__, "emg": emg_names, "acc": acc_names,
              **({"us": us_names} if us_names else {}),
              "pieces": pieces, "block_s": block, "gaps": gaps,
              "confidence_features": conf_x,
              "unusable": {r.name: r.unusable for r in results if r.unusable},
              "sensors": sensors,
              "units": {r.name: r.unit for r in results},
              "meas_date": rec.meas_date.isoformat() if rec.meas_date else None},
    )
    if min_confidence is not None:  # the caller's floor: every twitch
        return res.filter(min_confidence=min_confidence)
    return _apply_floor(res, cfg)


def _apply_floor(res: TwitchResults, cfg: DetectorConfig) -> TwitchResults:
    """The configuration's confidence floor (``confidence.min_confidence``; 0 keeps
    every twitch), on calibrated confidence only (``ltr live`` applies it too)."""
    floor = cfg.confidence.min_confidence
    return res.filter(min_confidence=floor, calibrated_only=True) if floor else res


def _pick_channels(rec: Recording, emg: Sequence[str] | None, acc: Sequence[str] | None,
                   us: Sequence[str] | None = None,
                   ) -> tuple[list[str], list[str], list[str]]:
    """The EMG, accelerometer and ultrasound channels to analyse (by kind unless named)."""
    names = list(rec.ch_names)
    kinds = list(rec.ch_kinds)
    emg_names = list(emg) if emg is not None else [
        n for n, k in zip(names, kinds, strict=True) if k == "emg"]
    acc_names = list(acc) if acc is not None else [
        n for n, k in zip(names, kinds, strict=True) if k == "acc"]
    us_names = list(us) if us is not None else [
        n for n, k in zip(names, kinds, strict=True) if k == "us"]
    missing = sorted(set(emg_names + acc_names + us_names) - set(names))
    if missing:
        raise ValueError(f"channel(s) {missing} not in the recording; channels: {names}")
    if not emg_names and not acc_names and not us_names:
        raise ValueError(
            f"{rec.meta.get('source', 'recording')}: no EMG or accelerometer channel to "
            f"analyse, nor an ultrasound one (channels and kinds: "
            f"{dict(zip(names, kinds, strict=True))}); name them with emg=/acc= or "
            f"ch_kinds="
        )
    return emg_names, acc_names, us_names


def _report_channels(results: list[ChannelResult], rec: Recording, cfg: DetectorConfig,
                     sensors: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """Units from the recording; gaps and unusable channels warned about (the gap table
    is returned); candidate counts logged."""
    source = str(rec.meta.get("source", "")) or "recording"
    gaps = _gap_table(results, rec.sfreq, cfg, sensors, source)
    for r in results:
        first = sensors[r.name][0] if r.modality == "acc" else r.name
        # amplitudes are in the channel's unit: V, or whatever the file held (ADC counts)
        r.unit = rec.units[rec.ch_names.index(first)] or "a.u."
        if r.unusable:
            warnings.warn(f"{source}: channel {r.name!r} is unusable and was left out: "
                          f"{r.unusable}", LtrDataWarning, stacklevel=4)
            continue
        logger.info("%s: %d candidates, %d accepted", r.name, r.onset.size,
                    int(r.accepted.sum()))
    return gaps


def _fuse_channels(results: list[ChannelResult], sfreq: float, cfg: DetectorConfig,
                   prior: Mapping[str, int] | None = None,
                   ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray],
                              dict[str, np.ndarray], np.ndarray]:
    """Accepted candidates of every channel fused into twitches (``prior``: per channel,
    the candidates turned away before the first of ``results``, a stream's past).

    Returns the twitches, the per-channel table without the accelerometer events
    vetoed by a movement on the EMG leads, those vetoed rows, and the confidence
    model's inputs, one row per twitch (``benchmarks/calibrate_confidence.py``).
    """
    ratios = {"emg": cfg.emg.on_ratio, "acc": cfg.acc.on_ratio, "us": cfg.us.on_ratio}
    per_channel = channel_table(results, sfreq, ratios, cfg, prior=prior)
    # ultrasound rows are twitches of their own (ltr.detect._us.us_events)
    per_channel, us_rows = split_us(per_channel, cfg)
    spans = [r.motion for r in results if r.modality == "emg"]
    m_on = np.concatenate([s[0] for s in spans]) / sfreq if spans else np.zeros(0)
    m_off = np.concatenate([s[1] for s in spans]) / sfreq if spans else np.zeros(0)
    vetoed = np.zeros(0, dtype=int)
    if per_channel["onset"].size:
        events, vetoed = fuse(per_channel, cfg, (m_on, m_off), sfreq=sfreq,
                              emg_present=any(r.modality == "emg" for r in results))
    else:
        events = empty_table()
    conf_x = events.pop("_x", np.zeros((0, len(CONFIDENCE_FEATURES))))
    if us_rows["onset"].size:
        events, conf_x, per_channel = add_us(events, conf_x, per_channel, us_rows, cfg)
    per_channel = strip_private(per_channel)
    out = {k: v[vetoed] for k, v in per_channel.items()}
    if vetoed.size:
        keep = np.setdiff1d(np.arange(per_channel["onset"].size), vetoed)
        per_channel = {k: v[keep] for k, v in per_channel.items()}
    return events, per_channel, out, conf_x


def _turned_away(results: list[ChannelResult], vetoed: dict[str, np.ndarray],
                 sfreq: float, cfg: DetectorConfig,
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The rejected candidates (sorted by onset) and the contractions (one row each)."""
    rej: dict[str, list] = {"onset": [], "offset": [], "channel": [], "reason": [],
                            "amplitude": []}
    con: dict[str, list] = {"onset": [], "offset": [], "channel": [], "rms": []}
    for r in results:
        out = ~r.accepted
        piece = out & (r.reason == CONTRACTION)
        other = out & ~piece
        con["onset"].append(r.onset[piece] / sfreq)
        con["offset"].append(r.offset[piece] / sfreq)
        con["channel"].append(np.full(int(piece.sum()), r.name, dtype=object))
        con["rms"].append(r.features["rms"][piece])
        rej["onset"].append(r.onset[other] / sfreq)
        rej["offset"].append(r.offset[other] / sfreq)
        rej["channel"].append(np.full(int(other.sum()), r.name, dtype=object))
        rej["reason"].append(r.reason[other].astype(object))
        rej["amplitude"].append(r.features["amplitude"][other])
    # accelerometer events vetoed by a movement on the EMG leads
    rej["onset"].append(vetoed["onset"])
    rej["offset"].append(vetoed["offset"])
    rej["channel"].append(vetoed["channel"].astype(object))
    rej["reason"].append(np.full(vetoed["onset"].size, VETO, dtype=object))
    rej["amplitude"].append(vetoed["amplitude"])
    text = ("channel", "reason")
    rejected = {k: np.concatenate(v).astype(object if k in text else float)
                for k, v in rej.items()}
    order = np.argsort(rejected["onset"], kind="stable")
    rejected = {k: v[order] for k, v in rejected.items()}
    contractions = _merge_contractions(
        {k: np.concatenate(v).astype(object if k in text else float)
         for k, v in con.items()}, cfg.reject.contraction_margin)
    return rejected, contractions


def traces(
    recording: Recording,
    config: DetectorConfig | None = None,
    *,
    tmin: float = 0.0,
    tmax: float | None = None,
    context: float = 30.0,
    emg: Sequence[str] | None = None,
    acc: Sequence[str] | None = None,
    keep: Sequence[str] | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """The detector's internal traces over a time window, for figures.

    Runs the per-channel front ends on ``[tmin - context, tmax + context]`` (the noise
    floor needs context) and returns, per EMG channel or accelerometer sensor, arrays
    cut to ``[tmin, tmax]``: ``time`` (s), ``conditioned`` (band-passed EMG without hum,
    heartbeats and spikes; or the accelerometer magnitude), ``envelope``, ``floor``,
    ``on`` and ``off`` thresholds (``keep`` names a subset). Values are in SI units.
    Channels without a single finite sample in the window are left out.
    """
    cfg = config if config is not None else DetectorConfig()
    if tmax is None:
        tmax = recording.duration
    a = max(0.0, tmin - context)
    b = min(recording.duration, tmax + context)
    part = recording.crop(a, b)
    names = list(part.ch_names)
    emg_names = list(emg) if emg is not None else [n for n, k in zip(names, part.ch_kinds,
                                                                      strict=True) if k == "emg"]
    acc_names = list(acc) if acc is not None else [n for n, k in zip(names, part.ch_kinds,
                                                                      strict=True) if k == "acc"]
    out: dict[str, dict[str, np.ndarray]] = {}
    wanted: bool | Sequence[str] = True if keep is None else keep
    used = emg_names + acc_names
    data = part.get_data(picks=used)  # one read of the window for every channel
    row = {name: i for i, name in enumerate(used)}
    # channels with no sample in the window (unusable, or inside a long gap) have no
    # traces: they are left out
    results = [detect_emg_channel(data[row[n]], part.sfreq, n, cfg, motion=False,
                                  keep_traces=wanted)
               for n in emg_names if np.isfinite(data[row[n]]).any()]
    for sensor, idx in group_sensors(acc_names, ["acc"] * len(acc_names)).items():
        raw = data[[row[acc_names[i]] for i in idx]]
        if np.isfinite(raw).any():
            results.append(detect_acc_sensor(raw, part.sfreq, sensor, cfg,
                                             keep_traces=wanted))
    i0 = round((tmin - a) * part.sfreq)
    i1 = round((tmax - a) * part.sfreq)
    for r in results:
        cut = {k: v[i0:i1] for k, v in r.traces.items()}
        cut["time"] = a + np.arange(i0, i0 + next(iter(cut.values())).size) / part.sfreq
        out[r.name] = cut
    return out
