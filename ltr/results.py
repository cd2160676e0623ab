"""TwitchResults: the event table of detected twitches, with summaries and exports."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Columns of the twitch table: description and unit. ``amplitude``, ``rms`` and ``area``
#: are in the unit of the twitch's primary channel (``unit`` column).
EVENT_COLUMNS: dict[str, tuple[str, str]] = {
    "onset": ("Twitch onset from the start of the recording", "s"),
    "duration": ("Onset to offset", "s"),
    "offset": ("End of the twitch", "s"),
    "peak_time": ("Time of the largest absolute value on the primary channel", "s"),
    "amplitude": ("Peak absolute value of the conditioned signal on the primary channel",
                  "V for EMG, m/s^2 for acceleration (see unit)"),
    "unit": ("Unit of amplitude and rms", "n/a"),
    "rms": ("RMS of the conditioned signal over the twitch", "V or m/s^2"),
    "area": ("Integral of the rectified conditioned signal over the twitch",
             "V*s or m/s"),
    "snr_db": ("20 log10 of the twitch RMS over the local noise floor", "dB"),
    "rise_time": ("Onset to peak", "s"),
    "median_freq": ("Median frequency of the EMG burst (NaN for acceleration)", "Hz"),
    "channel": ("Primary channel (strongest EMG, else the accelerometer sensor)", "n/a"),
    "channels": ("All channels on which the twitch was seen, comma-separated", "n/a"),
    "modality": ("emg, acc or emg+acc", "n/a"),
    "confidence": ("0-1: margin over threshold, raised when EMG and accelerometer agree",
                   "n/a"),
    "epoch": ("Needle-in epoch index from the annotations, -1 outside any epoch", "n/a"),
}
_STRING_COLUMNS = ("unit", "channel", "channels", "modality")


def empty_table(columns: dict[str, Any] = EVENT_COLUMNS) -> dict[str, np.ndarray]:
    """A table with every column and no rows."""
    return {k: np.zeros(0, dtype=object if k in _STRING_COLUMNS else
                        (int if k == "epoch" else float)) for k in columns}


@dataclass
class TwitchResults:
    """What :func:`ltr.detect` found.

    Attributes
    ----------
    events : dict of ndarray
        One row per twitch (fused over channels), columns :data:`EVENT_COLUMNS`, sorted by
        onset. Empty arrays, never None, when nothing was found.
    channel_events : dict of ndarray
        The accepted candidates of every channel (or accelerometer sensor) before fusion.
    rejected : dict of ndarray
        Candidates turned away: ``onset``, ``offset``, ``channel``, ``reason``
        (``needle_spike``, ``single_mup``, ``pop``, ``motion``, ``ecg``, ``clipping``,
        ``movement``, ``contraction``), ``amplitude``.
    contractions : dict of ndarray
        Sustained activity too long for a twitch: ``onset``, ``offset``, ``channel``,
        ``rms``.
    noise_floor : dict
        Channel -> median running noise floor (RMS of the conditioned signal, SI unit).
    processing : dict
        What the front ends did per channel: band edges used, mains removed, heartbeats.
    epochs : dict of ndarray
        ``start`` and ``stop`` of needle-in epochs found in the annotations.
    config : DetectorConfig
    sfreq, duration : float
    source : str
    """

    events: dict[str, np.ndarray]
    channel_events: dict[str, np.ndarray]
    rejected: dict[str, np.ndarray]
    contractions: dict[str, np.ndarray]
    noise_floor: dict[str, float]
    processing: dict[str, Any]
    epochs: dict[str, np.ndarray]
    config: Any
    sfreq: float
    duration: float
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    # -- basics -------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.events["onset"].size)

    @property
    def onset(self) -> np.ndarray:
        """Twitch onsets, s."""
        return self.events["onset"]

    def __repr__(self) -> str:
        return (f"<TwitchResults | {len(self)} twitches in {self.duration:.1f} s "
                f"({self.rate_per_min:.2f}/min), {self.rejected['onset'].size} rejected, "
                f"{self.contractions['onset'].size} contractions>")

    @property
    def rate_per_min(self) -> float:
        """Twitches per minute of recording."""
        return len(self) / (self.duration / 60.0) if self.duration > 0 else float("nan")

    # -- summaries ----------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Counts and rates: overall, per channel, per epoch (zero-twitch epochs included),
        rejected candidates by reason, contractions."""
        ev = self.events
        per_channel: dict[str, int] = {}
        for chans in ev["channels"]:
            for ch in str(chans).split(","):
                per_channel[ch] = per_channel.get(ch, 0) + 1
        per_epoch = []
        for k, (s, e) in enumerate(zip(self.epochs["start"], self.epochs["stop"],
                                       strict=True)):
            n = int(np.sum(ev["epoch"] == k))
            per_epoch.append({"epoch": k, "start": float(s), "stop": float(e), "count": n,
                              "rate_per_min": n / ((e - s) / 60.0) if e > s else float("nan")})
        reasons, counts = np.unique(self.rejected["reason"].astype(str), return_counts=True)
        return {
            "count": len(self),
            "rate_per_min": self.rate_per_min,
            "duration_s": self.duration,
            "per_channel": per_channel,
            "per_modality": {m: int(np.sum(ev["modality"] == m)) for m in ("emg", "acc",
                                                                           "emg+acc")},
            "per_epoch": per_epoch,
            "outside_epochs": int(np.sum(ev["epoch"] < 0)) if self.epochs["start"].size else 0,
            "rejected": {str(r): int(c) for r, c in zip(reasons, counts, strict=True)},
            "contractions": int(self.contractions["onset"].size),
            "median_snr_db": float(np.median(ev["snr_db"])) if len(self) else None,
        }

    def format_summary(self) -> str:
        """The summary as text (what ``ltr detect`` prints)."""
        s = self.summary()
        lines = [f"{self.source or 'recording'}: {s['count']} twitches in "
                 f"{self.duration:.1f} s ({s['rate_per_min']:.2f} per minute)"]
        if s["count"]:
            mods = ", ".join(f"{k} {v}" for k, v in s["per_modality"].items() if v)
            lines.append(f"  seen on: {mods}; median SNR {s['median_snr_db']:.1f} dB")
            lines.append("  per channel: " + ", ".join(f"{k} {v}" for k, v in
                                                        s["per_channel"].items()))
        if s["per_epoch"]:
            lines.append("  epoch  start (s)  stop (s)  twitches  per min")
            for row in s["per_epoch"]:
                lines.append(f"  {row['epoch']:>5}  {row['start']:>9.2f}  {row['stop']:>8.2f}"
                             f"  {row['count']:>8}  {row['rate_per_min']:>7.2f}")
            lines.append(f"  outside epochs: {s['outside_epochs']}")
        if s["rejected"]:
            lines.append("  rejected look-alikes: " + ", ".join(
                f"{k} {v}" for k, v in s["rejected"].items()))
        if s["contractions"]:
            lines.append(f"  sustained contractions: {s['contractions']}")
        return "\n".join(lines)

    # -- exports ------------------------------------------------------------------------
    def to_data_frame(self) -> Any:
        """The twitch table as a :class:`pandas.DataFrame` (pandas is needed)."""
        try:
            import pandas as pd
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("to_data_frame needs pandas: pip install pandas") from err
        return pd.DataFrame({k: self.events[k] for k in EVENT_COLUMNS})

    def to_bids_events(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write a BIDS-style ``events.tsv`` and its ``events.json`` sidecar.

        Columns start ``onset``, ``duration``, ``trial_type`` (``twitch``), then
        ``peak_time``, ``channels``, ``amplitude``, ``snr_db``, ``confidence``, ``epoch``,
        then ``unit`` (of amplitude) and the other features. Missing values are ``n/a``.

        Returns
        -------
        Path
            The ``.tsv`` file; the sidecar has the same stem and ``.json``.
        """
        p = Path(path)
        side = p.with_suffix(".json")
        for q in (p, side):
            if q.exists() and not overwrite:
                raise FileExistsError(f"{q}: exists; pass overwrite=True to replace it")
        order = ["onset", "duration", "trial_type", "peak_time", "channels", "amplitude",
                 "snr_db", "confidence", "epoch", "unit", "offset", "rms", "area",
                 "rise_time", "median_freq", "channel", "modality"]
        rows = ["\t".join(order)]
        ev = self.events
        for i in range(len(self)):
            vals = []
            for col in order:
                v = "twitch" if col == "trial_type" else ev[col][i]
                vals.append(_fmt(v))
            rows.append("\t".join(vals))
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("\n".join(rows) + "\n")
        sidecar: dict[str, Any] = {
            col: {"Description": desc, "Units": unit} for col, (desc, unit) in
            EVENT_COLUMNS.items()
        }
        sidecar["trial_type"] = {"Description": "Event type", "Levels": {
            "twitch": "Local twitch response detected by ltr"}}
        sidecar["GeneratedBy"] = [{"Name": "ltr", "Version": self.meta.get("ltr_version", ""),
                                   "Description": "ltr.detect", "Config":
                                   self.config.to_dict() if self.config is not None else {}}]
        side.write_text(json.dumps(sidecar, indent=2) + "\n")
        return p

    def to_json(self, path: str | os.PathLike[str] | None = None, *,
                overwrite: bool = False) -> str:
        """Summary, events, rejected candidates and contractions as JSON text.

        Written to ``path`` too when given (refusing to overwrite unless asked).
        """

        def table(t: dict[str, np.ndarray]) -> dict[str, list[Any]]:
            return {k: [_json_value(v) for v in arr.tolist()] for k, arr in t.items()}

        doc = {
            "source": self.source, "sfreq": self.sfreq, "duration_s": self.duration,
            "summary": self.summary(), "events": table(self.events),
            "rejected": table(self.rejected), "contractions": table(self.contractions),
            "noise_floor": self.noise_floor, "processing": self.processing,
            "config": self.config.to_dict() if self.config is not None else {},
            "ltr_version": self.meta.get("ltr_version", ""),
        }
        text = json.dumps(doc, indent=1, default=_json_value)
        if path is not None:
            p = Path(path)
            if p.exists() and not overwrite:
                raise FileExistsError(f"{p}: exists; pass overwrite=True to replace it")
            p.write_text(text + "\n")
        return text

    def write_events(self, path: str | os.PathLike[str], *, per_channel: bool = False,
                     overwrite: bool = False) -> Path:
        """Write the twitch table by suffix: ``.tsv`` (BIDS, with sidecar), ``.csv`` or
        ``.json``. ``per_channel=True`` writes the candidates of each channel before
        fusion instead (``.tsv``/``.csv``)."""
        p = Path(path)
        suffix = p.suffix.lower()
        if suffix == ".json" and not per_channel:
            self.to_json(p, overwrite=overwrite)
            return p
        if suffix == ".tsv" and not per_channel:
            return self.to_bids_events(p, overwrite=overwrite)
        if suffix not in (".tsv", ".csv"):
            raise ValueError(f"{p}: events are written as .tsv, .csv or .json, got {suffix!r}")
        if p.exists() and not overwrite:
            raise FileExistsError(f"{p}: exists; pass overwrite=True to replace it")
        t = self.channel_events if per_channel else self.events
        sep = "," if suffix == ".csv" else "\t"
        cols = list(EVENT_COLUMNS)
        rows = [sep.join(cols)]
        rows += [sep.join(_fmt(t[c][i]) for c in cols) for i in range(t["onset"].size)]
        p.write_text("\n".join(rows) + "\n")
        return p

    def compare(self, reference: Any, tolerance: float = 0.05) -> dict[str, Any]:
        """Event-level scores against reference onsets (see :func:`ltr.evaluate.compare`)."""
        from .evaluate import compare

        ref = reference.onsets if hasattr(reference, "onsets") else reference
        return compare(self.onset, ref, tolerance)


def _json_value(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return float(v) if np.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.ndarray):
        return [_json_value(x) for x in v.tolist()]
    return v


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return "n/a" if not np.isfinite(v) else f"{float(v):.6g}"
    if isinstance(v, int | np.integer):
        return str(int(v))
    s = str(v)
    return s if s else "n/a"
