"""The reviewed events file: every candidate ltr found, with a reviewer's verdict on it.

A BIDS ``events.tsv`` (``onset``, ``duration``, ``trial_type`` first) with one row per
candidate the detector considered — twitches, rejected look-alikes, sustained
contractions — and per event the reviewer added, plus the review columns
(:data:`REVIEWED_COLUMNS`). It is saved after every decision, atomically
(:func:`write_reviewed`), so a reopened review resumes where the reviewer stopped.

``trial_type`` is what the row is an event of: ``twitch``, ``look-alike``,
``contraction`` (the detector's call, ``detected_as``), ``needle in`` or ``needle out`` (a
reviewer's mark), or ``twitch`` for a look-alike or contraction the reviewer called a
twitch. ``review_status`` is the reviewer's verdict on it:

``confirmed``
    the row is what ``trial_type`` says (a twitch is a twitch, a look-alike is not one);
``rejected``
    it is not: a detected twitch that is no twitch;
``added``
    a twitch the detector did not count: one it missed (``detected_as`` n/a), or a
    look-alike or contraction that is a twitch after all (``detected_as`` keeps the
    detector's call); or a needle in / out mark;
``moved``
    a twitch whose onset the reviewer moved (``detector_onset`` keeps the detector's);
``n/a``
    not reviewed yet.

So the twitches a reviewer holds true are the rows with ``trial_type == "twitch"`` and a
``review_status`` of ``confirmed``, ``added`` or ``moved`` (:func:`reviewed_twitches`); a
reader that also keeps the pending twitches (``n/a``) takes the detector's call for them.
"""

from __future__ import annotations

import csv
import datetime as _dt
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..io.tables import MISSING, shared_mode, write_delimited

#: Columns of the reviewed events file, in order: description and unit.
REVIEWED_COLUMNS: dict[str, tuple[str, str]] = {
    "onset": ("Event onset from the start of the recording (the reviewer's, when moved)",
              "s"),
    "duration": ("Onset to offset (0 for a needle mark or an added twitch)", "s"),
    "trial_type": ("twitch, look-alike, contraction (the detector's call, or twitch for one "
                   "the reviewer called a twitch), needle in or needle out", "n/a"),
    "review_status": ("confirmed (it is what trial_type says), rejected (it is not), added "
                      "(by the reviewer, or a look-alike that is a twitch), moved (onset "
                      "moved), or n/a (not reviewed yet)", "n/a"),
    "reviewer": ("Who reviewed the row", "n/a"),
    "reviewed_at": ("When, ISO 8601 UTC", "n/a"),
    "candidate": ("Stable row id: t<i> twitch, l<i> look-alike, c<i> contraction (index in "
                  "the detector's table), a<i> added by the reviewer", "n/a"),
    "detected_as": ("The detector's call: twitch, look-alike or contraction (n/a if added)",
                    "n/a"),
    "detector_onset": ("The detector's onset (n/a if added)", "s"),
    "channel": ("Primary channel or accelerometer sensor", "n/a"),
    "channels": ("Channels the twitch was seen on, comma-separated", "n/a"),
    "reason": ("Why the detector turned a look-alike away (ltr.detect.rules.REASONS)", "n/a"),
    "amplitude_uV": ("Peak of the conditioned signal, EMG", "µV"),
    "amplitude_m_s2": ("Peak of the conditioned signal, accelerometer: a twitch's jolt "
                       "(emg+acc twitches too), a look-alike's peak on a sensor", "m/s^2"),
    "snr_db": ("Twitch RMS over the local noise floor", "dB"),
    "confidence": ("Calibrated probability that a detected twitch is true", "n/a"),
    "epoch": ("Needle-in epoch index, -1 outside any", "n/a"),
}

#: Values of ``review_status`` (``None`` is written ``n/a``: not reviewed yet).
STATUSES = ("confirmed", "rejected", "added", "moved")
#: Categories of ``trial_type``.
TRIAL_TYPES = ("twitch", "look-alike", "contraction", "needle in", "needle out")
_FLOATS = ("onset", "duration", "detector_onset", "amplitude_uV", "amplitude_m_s2",
           "snr_db", "confidence")


def default_path(recording: str | os.PathLike[str]) -> Path:
    """Where the review of ``recording`` is kept: ``NAME.reviewed.tsv`` beside it.

    >>> default_path("data/sub-01_emg.edf").as_posix()
    'data/sub-01_emg.reviewed.tsv'
    """
    p = Path(recording)
    return p.with_name(p.stem + ".reviewed.tsv")


def now_utc() -> str:
    """The current time as ISO 8601 UTC to the second, e.g. ``2026-01-31T09:15:02Z``."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _row(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(REVIEWED_COLUMNS)
    row.update(values)
    return row


def _f(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def candidates(results: Any) -> list[dict[str, Any]]:
    """The rows of a review not yet started: every candidate of ``results``, pending.

    Parameters
    ----------
    results : TwitchResults
        What :func:`ltr.detect` found.

    Returns
    -------
    list of dict
        One row per twitch (``t<i>``), rejected look-alike (``l<i>``) and contraction
        (``c<i>``), keys :data:`REVIEWED_COLUMNS`, sorted by onset.
    """
    rows = []
    ev = results.to_data_frame("events")
    for i, r in enumerate(ev.itertuples(index=False)):
        rows.append(_row(onset=r.onset, duration=r.duration, trial_type="twitch",
                         candidate=f"t{i}", detected_as="twitch", detector_onset=r.onset,
                         channel=r.channel, channels=r.channels, amplitude_uV=r.amplitude_uV,
                         amplitude_m_s2=r.amplitude_m_s2, snr_db=r.snr_db,
                         confidence=r.confidence, epoch=int(r.epoch)))
    for table, kind, key in (("rejected", "look-alike", "l"), ("contractions", "contraction",
                                                                "c")):
        df = results.to_data_frame(table)
        eps = results.epochs.assign(df["onset"].to_numpy(float)) if len(df) else []
        for i, r in enumerate(df.to_dict("records")):
            ep = eps[i]
            amp = "amplitude" if table == "rejected" else "rms"
            rows.append(_row(onset=r["onset"], duration=r["duration"], trial_type=kind,
                             candidate=f"{key}{i}", detected_as=kind,
                             detector_onset=r["onset"], channel=r["channel"],
                             channels=r["channel"], reason=r.get("reason", "contraction"),
                             amplitude_uV=r.get(f"{amp}_uV"),
                             amplitude_m_s2=r.get(f"{amp}_m_s2"), epoch=int(ep)))
    rows.sort(key=lambda r: (float(r["onset"]), str(r["candidate"])))
    return rows


def candidates_from_events(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Pending review rows from an events file (``ltr detect -o``, or another rater's).

    A reviewed file is returned as it is (its verdicts kept); any other table with an
    ``onset`` column gives one pending twitch per row (``duration`` and the feature
    columns are kept where present).
    """
    header, rows = _read_table(path)
    if "onset" not in header:
        raise ValueError(f"{path}: an events file needs an 'onset' column (seconds); "
                         f"columns: {header}")
    if "review_status" in header:
        return read_reviewed(path)
    out = []
    for i, r in enumerate(rows):
        onset = _f(r.get("onset"))
        if onset is None:
            raise ValueError(f"{path}: row {i + 2}: onset {r.get('onset')!r} is not a number")
        kind = r.get("trial_type") or "twitch"
        kind = kind if kind in TRIAL_TYPES else "twitch"
        key = {"twitch": "t", "look-alike": "l", "contraction": "c"}.get(kind, "a")
        row = _row(**{k: v for k, v in r.items() if k in REVIEWED_COLUMNS})
        row.update(onset=onset, duration=_f(r.get("duration")) or 0.0, trial_type=kind,
                   review_status=None, reviewer=None, reviewed_at=None, candidate=f"{key}{i}",
                   detected_as=kind if key != "a" else None,
                   detector_onset=onset if key != "a" else None)
        out.append(row)
    return _typed(out)


def _read_table(path: str | os.PathLike[str]) -> tuple[list[str], list[dict[str, str]]]:
    p = Path(path)
    try:
        with open(p, newline="", encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: no such events file") from None
    sep = "," if p.suffix.lower() == ".csv" else "\t"
    reader = csv.DictReader(text.splitlines(), delimiter=sep)
    header = list(reader.fieldnames or [])
    rows = [{k: (None if v in (MISSING, "") else v) for k, v in r.items() if k is not None}
            for r in reader]
    return header, rows


def _typed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for r in rows:
        for k in _FLOATS:
            r[k] = _f(r.get(k))
        ep = r.get("epoch")
        r["epoch"] = int(float(ep)) if ep not in (None, "") else None
    return rows


def read_reviewed(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read a reviewed events file back: rows as dicts, ``n/a`` as None, numbers as float.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file: missing, or not a reviewed file (no ``review_status`` column),
        or a ``review_status`` / ``trial_type`` value that is not one of the known ones.
    """
    header, rows = _read_table(path)
    missing = [c for c in ("onset", "trial_type", "review_status", "candidate")
               if c not in header]
    if missing:
        raise ValueError(f"{path}: not a reviewed events file (no {', '.join(missing)} "
                         "column); ltr review writes one")
    for i, r in enumerate(rows):
        if r.get("review_status") not in (None, *STATUSES):
            raise ValueError(f"{path}: row {i + 2}: review_status {r['review_status']!r} is "
                             f"not one of {', '.join(STATUSES)} or n/a")
        if r.get("trial_type") not in TRIAL_TYPES:
            raise ValueError(f"{path}: row {i + 2}: trial_type {r.get('trial_type')!r} is "
                             f"not one of {', '.join(TRIAL_TYPES)}")
        if _f(r.get("onset")) is None:
            raise ValueError(f"{path}: row {i + 2}: onset {r.get('onset')!r} is not a number")
    return _typed([_row(**{k: v for k, v in r.items() if k in REVIEWED_COLUMNS})
                   for r in rows])


def write_reviewed(rows: Iterable[Mapping[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Save the review atomically: a temporary file beside ``path``, flushed, then renamed.

    A reader (or a crash at any moment) sees the previous complete file or the new one,
    never a partial one: the rename (:func:`os.replace`) is atomic on one file system.

    Parameters
    ----------
    rows : iterable of mappings
        Keys :data:`REVIEWED_COLUMNS` (missing keys are written ``n/a``); written sorted by
        onset.
    path : path-like
        The ``.tsv`` file, replaced if it exists (it is the review's own file).

    Returns
    -------
    Path
    """
    ordered = sorted(rows, key=lambda r: (float(r["onset"]), str(r.get("candidate"))))
    return write_delimited(path, list(REVIEWED_COLUMNS),
                           ([r.get(c) for c in REVIEWED_COLUMNS] for r in ordered),
                           delimiter="\t", overwrite=True)


def write_sidecar(path: str | os.PathLike[str]) -> Path | None:
    """Write the BIDS ``.json`` sidecar of a reviewed file (column descriptions and units)
    beside it, once: an existing file of that name is left alone. Returns the path written,
    or None when one was there already."""
    import json

    side = Path(path).with_suffix(".json")
    if side.exists():
        return None
    doc: dict[str, Any] = {c: {"Description": d, "Units": u} if u != "n/a" else
                           {"Description": d} for c, (d, u) in REVIEWED_COLUMNS.items()}
    doc["trial_type"]["Levels"] = {
        "twitch": "local twitch response (a rejected one is not)",
        "look-alike": "a candidate that is not a twitch", "contraction":
        "sustained contraction", "needle in": "needle inserted (reviewer's mark)",
        "needle out": "needle withdrawn (reviewer's mark)"}
    doc["review_status"]["Levels"] = {
        "confirmed": "it is what trial_type says",
        "rejected": "it is not (a detected twitch that is no twitch)",
        "added": "added by the reviewer, or a look-alike the reviewer called a twitch",
        "moved": "a twitch whose onset the reviewer moved"}
    doc["GeneratedBy"] = [{"Name": "ltr review", "Description": "human review of ltr's "
                           "detections (ltr.review)"}]
    fd, tmp = tempfile.mkstemp(prefix=f".{side.name}.", suffix=".part", dir=side.parent)
    shared_mode(fd)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, side)
    return side


def decide(row: dict[str, Any], action: str, *, reviewer: str, onset: float | None = None,
           when: str | None = None) -> dict[str, Any]:
    """Apply one reviewer decision to a row (in place) and return it.

    Parameters
    ----------
    row : dict
        A row of :func:`candidates` or :func:`read_reviewed`.
    action : {"accept", "reject", "move", "reset"}
        ``accept``: the detector's call is right (``confirmed``); ``reject``: it is wrong
        (a twitch that is not one: ``rejected``; a look-alike or contraction that is a
        twitch: ``trial_type`` twitch, ``added``); ``move``: the onset is ``onset`` (the
        row is a twitch, ``moved``); ``reset``: back to pending.
    reviewer : str
    onset : float | None
        The new onset in seconds, for ``move``.
    when : str | None
        ISO 8601 UTC time (default now).
    """
    detected = row.get("detected_as")
    if action == "reset" and detected is None:
        raise ValueError("an added event has no detector call to go back to; delete it")
    if action == "reset":
        row.update(review_status=None, reviewer=None, reviewed_at=None,
                   trial_type=detected or row["trial_type"])
        if row.get("detector_onset") is not None:
            row["onset"] = row["detector_onset"]
        return row
    if action == "accept":
        status, kind = "confirmed", detected
    elif action == "reject":
        if detected is None:
            raise ValueError("an added event has no detector call to reject; delete it")
        status, kind = ("rejected", "twitch") if detected == "twitch" else ("added", "twitch")
    elif action == "move":
        new = _f(onset)
        if new is None or new < 0:
            raise ValueError(f"move needs onset= seconds >= 0, got {onset!r}")
        row["onset"] = new
        status = "added" if detected is None else "moved"
        kind = row["trial_type"] if detected is None else "twitch"
    else:
        raise ValueError(f"action must be 'accept', 'reject', 'move' or 'reset', got "
                         f"{action!r}")
    if detected is None and action == "accept":
        status, kind = "added", row["trial_type"]
    row.update(review_status=status, trial_type=kind, reviewer=reviewer,
               reviewed_at=when or now_utc())
    return row


def added(kind: str, onset: float, *, reviewer: str, index: int, duration: float = 0.0,
          when: str | None = None) -> dict[str, Any]:
    """A row the reviewer adds: a missed ``twitch`` or a ``needle in`` / ``needle out`` mark."""
    if kind not in ("twitch", "needle in", "needle out"):
        raise ValueError(f"the reviewer adds a 'twitch', 'needle in' or 'needle out', got "
                         f"{kind!r}")
    new = _f(onset)
    if new is None or new < 0:
        raise ValueError(f"an added {kind} needs an onset in seconds >= 0, got {onset!r}")
    return _row(onset=new, duration=float(duration), trial_type=kind, review_status="added",
                reviewer=reviewer, reviewed_at=when or now_utc(), candidate=f"a{index}")


#: The review statuses of a twitch the reviewer holds true.
HELD_TRUE = ("confirmed", "added", "moved")


def reviewed_twitches(rows: Iterable[Mapping[str, Any]]) -> np.ndarray:
    """Onsets (s, sorted) of the twitches the reviewer holds true: rows whose
    ``trial_type`` is ``twitch`` and ``review_status`` confirmed, added or moved."""
    on = [float(r["onset"]) for r in rows
          if r.get("trial_type") == "twitch" and r.get("review_status") in HELD_TRUE]
    return np.sort(np.asarray(on, float))


def to_annotations(rows: Iterable[Mapping[str, Any]], *, pending: bool = True,
                   orig_time: _dt.datetime | None = None) -> Any:
    """The review as :class:`ltr.Annotations`, for :func:`ltr.io.write` / EDF+ exports.

    Twitches the reviewer holds true become ``twitch``; needle marks ``needle in`` /
    ``needle out``; twitches the reviewer turned away ``rejected: reviewer``. With
    ``pending`` (default), rows not reviewed yet keep the detector's call, labelled
    ``twitch (not reviewed)``, ``rejected: <reason> (not reviewed)`` or ``contraction (not
    reviewed)``, so nothing the detector found silently disappears.
    """
    from ..annotations import Annotations

    on, dur, desc = [], [], []
    for r in rows:
        status, kind = r.get("review_status"), r.get("trial_type")
        if status is None:
            if not pending:
                continue
            label = (f"rejected: {r.get('reason') or 'look-alike'}" if kind == "look-alike"
                     else str(kind)) + " (not reviewed)"
        elif status == "rejected":
            label = "rejected: reviewer"
        elif kind == "look-alike":
            label = f"rejected: {r.get('reason') or 'look-alike'}"
        else:
            label = str(kind)
        on.append(float(r["onset"]))
        dur.append(float(r.get("duration") or 0.0))
        desc.append(label)
    return Annotations(on, dur, desc, orig_time=orig_time)


def export_reviewed(recording: Any, rows: Iterable[Mapping[str, Any]] | str | os.PathLike[str],
                    path: str | os.PathLike[str], *, pending: bool = True,
                    overwrite: bool = False) -> Path:
    """Write the recording with the reviewed events as annotations (EDF+, BDF+, FIF, HDF5).

    The reviewed counterpart of :func:`ltr.export_annotated`.

    Parameters
    ----------
    recording : Recording | path-like
        The reviewed recording (a path is read with :func:`ltr.read`).
    rows : reviewed rows or path-like
        :func:`read_reviewed` rows, or the reviewed ``.tsv`` itself.
    path : path-like
        Output; the format follows the suffix as in :func:`ltr.write`.
    pending, overwrite : bool
        See :func:`to_annotations`; replace an existing ``path``.

    Returns
    -------
    Path
    """
    from ..io import read, write

    rec = read(recording) if isinstance(recording, str | os.PathLike) else recording
    table = read_reviewed(rows) if isinstance(rows, str | os.PathLike) else list(rows)
    out = rec.copy()
    out.annotations = out.annotations + to_annotations(table, pending=pending,
                                                       orig_time=rec.annotations.orig_time)
    return Path(write(out, path, overwrite=overwrite))


def apply_review(results: Any, rows: Iterable[Mapping[str, Any]] | str | os.PathLike[str],
                 *, pending: bool = True) -> Any:
    """The detector's results as the reviewer corrected them, for reports and exports.

    Twitches the reviewer confirmed, moved or added, and look-alikes or contractions the
    reviewer called twitches, are the events; detected twitches the reviewer turned away
    join :attr:`~ltr.TwitchResults.rejected` with reason ``reviewer``. So
    :meth:`~ltr.TwitchResults.summary`, :func:`ltr.export_annotated`, :func:`ltr.cohort_table`
    and the report count what the reviewer holds true.

    Parameters
    ----------
    results : TwitchResults
        What :func:`ltr.detect` found on the reviewed recording (with the same settings:
        rows are matched to it by their ``candidate`` ids, ``t3`` = the 4th twitch).
    rows : reviewed rows or path-like
        :func:`read_reviewed` rows, or the reviewed ``.tsv``.
    pending : bool
        Rows not reviewed yet keep the detector's call (default); False drops the
        twitches not reviewed yet.

    Returns
    -------
    TwitchResults
        A new object. Features the detector never measured (an added twitch's amplitude,
        a rescued look-alike's SNR) are NaN; an added twitch has duration 0, the primary
        channel of the detected twitches and every channel in ``channels`` (the reviewer
        saw the traces together); added and rescued twitches have confidence 1. Needle
        marks the reviewer added are not epochs here: they reach exports as annotations
        (:func:`export_reviewed`).

    Raises
    ------
    ValueError
        If a row names a candidate the results do not have, or a moved onset is not a
        number (the review was made on other results).
    """
    import dataclasses

    table = read_reviewed(rows) if isinstance(rows, str | os.PathLike) else list(rows)
    ev, rej, con = results.events, results.rejected, results.contractions
    sizes = {"t": ev["onset"].size, "l": rej["onset"].size, "c": con["onset"].size}
    keep: list[tuple[int, float]] = []  # (event index, onset)
    extra: list[dict[str, Any]] = []  # twitches the detector did not list as twitches
    turned: list[int] = []  # detected twitches the reviewer rejected
    rescued: dict[str, set[int]] = {"l": set(), "c": set()}
    for r in table:
        cid, kind, status = str(r.get("candidate")), r.get("trial_type"), r.get("review_status")
        key, num = cid[:1], cid[1:]
        if key in sizes:
            src = {"t": ev, "l": rej, "c": con}[key]
            det = _f(r.get("detector_onset"))
            if not num.isdigit() or int(num) >= sizes[key] or (
                    det is not None and abs(float(src["onset"][int(num)]) - det) > 1e-6):
                raise ValueError(f"review row {cid!r} is not a candidate of these results "
                                 f"({sizes['t']} twitches, {sizes['l']} look-alikes, "
                                 f"{sizes['c']} contractions); was it reviewed on other "
                                 "detector settings?")
        if status is None and not pending and key == "t":
            continue
        if key == "t":
            if status == "rejected" or kind != "twitch":
                turned.append(int(num))
            else:
                keep.append((int(num), float(r["onset"])))
        elif key in ("l", "c") and kind == "twitch" and status != "rejected":
            rescued[key].add(int(num))
            src = rej if key == "l" else con
            i = int(num)
            amp = src["amplitude"][i] if key == "l" else src["rms"][i]
            extra.append({"onset": float(r["onset"]), "offset": float(src["offset"][i]),
                          "channel": str(src["channel"][i]), "amp": float(amp),
                          "rms": float(src["rms"][i]) if key == "c" else np.nan})
        elif key == "a" and kind == "twitch" and status != "rejected":
            on = float(r["onset"])
            dur = float(r.get("duration") or 0.0)
            extra.append({"onset": on, "offset": on + dur, "channel": None, "amp": np.nan,
                          "rms": np.nan})

    units = results.meta.get("units", {})
    sensors = results.meta.get("sensors", {})
    idx = np.asarray([i for i, _ in keep], int)
    new = {k: np.asarray(v)[idx] for k, v in ev.items()}
    onsets = np.asarray([o for _, o in keep], float)
    if idx.size:
        moved_on = onsets
        past = moved_on >= new["offset"]
        new["offset"] = np.where(past, moved_on + new["duration"], new["offset"])
        new["onset"] = moved_on
        new["duration"] = new["offset"] - new["onset"]
        new["rise_time"] = np.where(new["peak_time"] >= moved_on,
                                    new["peak_time"] - moved_on, np.nan)
    if extra:
        n = len(extra)
        add: dict[str, np.ndarray] = {}
        for k, v in ev.items():
            add[k] = np.full(n, "" if v.dtype == object else (-1 if v.dtype.kind == "i"
                                                              else np.nan), dtype=v.dtype)
        add["onset"] = np.asarray([e["onset"] for e in extra], float)
        add["offset"] = np.maximum(np.asarray([e["offset"] for e in extra], float),
                                   add["onset"])
        add["duration"] = add["offset"] - add["onset"]
        seen = sorted({c for cs in ev["channels"] for c in str(cs).split(",") if c}
                      | {str(c) for c in rej["channel"]} | {str(c) for c in con["channel"]})
        primary = str(ev["channel"][0]) if ev["channel"].size else (seen[0] if seen else "")
        chans = [e["channel"] or primary for e in extra]
        add["channel"] = np.asarray(chans, dtype=object)
        add["channels"] = np.asarray([e["channel"] or ",".join(seen) for e in extra],
                                     dtype=object)
        add["modality"] = np.asarray(["acc" if c in sensors else "emg" for c in chans],
                                     dtype=object)
        add["unit"] = np.asarray([units.get(c, "m/s^2" if c in sensors else "V")
                                  for c in chans], dtype=object)
        add["confidence"] = np.ones(n)  # a person saw it
        add["amplitude"] = np.asarray([e["amp"] for e in extra], float)
        if "jolt_amplitude" in add:  # a look-alike on a sensor called a twitch: its jolt
            add["jolt_amplitude"] = np.where(add["unit"] == "m/s^2", add["amplitude"], np.nan)
        add["rms"] = np.asarray([e["rms"] for e in extra], float)
        add["epoch"] = np.asarray(results.epochs.assign(add["onset"]), dtype=ev["epoch"].dtype)
        new = {k: np.concatenate([new[k], add[k].astype(new[k].dtype)]) for k in new}
    order = np.argsort(new["onset"], kind="stable")
    new = {k: v[order] for k, v in new.items()}

    gone = np.asarray(turned, int)
    keep_rej = np.ones(rej["onset"].size, bool)
    keep_rej[list(rescued["l"])] = False
    moved_rej = {"onset": ev["onset"][gone], "offset": ev["offset"][gone],
                 "channel": ev["channel"][gone].astype(object),
                 "reason": np.full(gone.size, "reviewer", dtype=object),
                 "amplitude": ev["amplitude"][gone]}
    out_rej = {}
    for k, v in rej.items():
        more = moved_rej.get(k)
        if more is None:
            more = np.full(gone.size, "" if v.dtype == object else np.nan, dtype=v.dtype)
        out_rej[k] = np.concatenate([v[keep_rej], more.astype(v.dtype)])
    o = np.argsort(out_rej["onset"], kind="stable")
    out_rej = {k: v[o] for k, v in out_rej.items()}
    keep_con = np.ones(con["onset"].size, bool)
    keep_con[list(rescued["c"])] = False
    meta = dict(results.meta)
    if "confidence_features" in meta:
        feats = np.asarray(meta["confidence_features"], float)
        rows_f = np.full((len(order), feats.shape[1] if feats.ndim == 2 else 0), np.nan)
        rows_f[:idx.size] = feats[idx] if feats.ndim == 2 else rows_f[:idx.size]
        meta["confidence_features"] = rows_f[order]
    reviewed = [r for r in table if r.get("review_status") is not None]
    meta["review"] = {"reviewers": sorted({str(r.get("reviewer")) for r in reviewed}),
                      "reviewed": len(reviewed), "rows": len(table), "pending_kept": pending}
    return dataclasses.replace(results, events=new, rejected=out_rej,
                               contractions={k: v[keep_con] for k, v in con.items()},
                               meta=meta)
