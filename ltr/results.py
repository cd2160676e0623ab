"""TwitchResults: the event table of detected twitches, with summaries and exports."""

from __future__ import annotations

import dataclasses
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
    "confidence": ("0-1: calibrated probability that the twitch is true (among twitches "
                   "of confidence c, about a fraction c are)", "n/a"),
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
        Candidates turned away: ``onset``, ``offset``, ``channel``, ``reason`` (a name of
        :data:`ltr.detect.rules.REASONS`, which describes each), ``amplitude``.
    contractions : dict of ndarray
        Sustained activity too long for a twitch: ``onset``, ``offset``, ``channel``,
        ``rms``.
    noise_floor : dict
        Channel -> median running noise floor (RMS of the conditioned signal, SI unit).
    processing : dict
        What the front ends did per channel: band edges used, mains removed, heartbeats.
    epochs : ltr.segment.Epochs
        Needle-in epochs (from annotations, a trigger channel or needling activity; see
        ``epochs.source``).
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
    epochs: Any
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
    def summary(self, by: str | None = None) -> Any:
        """Counts, rates and twitch statistics.

        Parameters
        ----------
        by : {None, "recording", "epoch", "channel"}
            ``None`` gives one dict for the recording with nested breakdowns (what
            ``ltr detect`` prints). ``"recording"``, ``"epoch"`` and ``"channel"`` give a
            list of flat rows (dicts), one per recording, per epoch (zero-twitch epochs
            included) or per analysed channel, with the statistics of
            :data:`SUMMARY_COLUMNS`.

        Returns
        -------
        dict | list of dict
        """
        if by is None:
            return self._overview()
        if by == "recording":
            return [self._row(np.ones(len(self), bool), 0.0, self.duration,
                              {"recording": self.source or "recording"})]
        if by == "epoch":
            rows = []
            for k in range(len(self.epochs)):
                s0, e0 = float(self.epochs.start[k]), float(self.epochs.stop[k])
                rows.append(self._row(self.events["epoch"] == k, s0, e0,
                                      {"epoch": k, "label": str(self.epochs.label[k]),
                                       "source": self.epochs.source}))
            return rows
        if by == "channel":
            rows = []
            for ch in self._channels():
                mask = np.array([ch in str(c).split(",") for c in self.events["channels"]],
                                dtype=bool)
                rows.append(self._row(mask, 0.0, self.duration, {"channel": ch},
                                      channel=ch))
            return rows
        raise ValueError(f"by must be None, 'recording', 'epoch' or 'channel', got {by!r}")

    def _channels(self) -> list[str]:
        names = list(self.meta.get("emg", [])) + list(self.meta.get("sensors", {}))
        return names or sorted({c for cs in self.events["channels"] for c in str(cs).split(",")})

    def _row(self, mask: np.ndarray, t0: float, t1: float, keys: dict[str, Any],
             channel: str | None = None) -> dict[str, Any]:
        ev = {k: v[mask] for k, v in self.events.items()}
        span = max(t1 - t0, 0.0)
        onset = ev["onset"]
        iti = np.diff(onset)
        emg_amp = ev["amplitude"][(ev["unit"] == "V") & (ev["modality"] != "acc")]
        acc_amp = ev["amplitude"][(ev["modality"] == "acc") | (ev["unit"] == "m/s^2")]
        rej = self.rejected
        in_span = (rej["onset"] >= t0) & (rej["onset"] <= t1)
        con = self.contractions
        con_in = (con["offset"] >= t0) & (con["onset"] <= t1)
        if channel is not None:
            in_span &= rej["channel"] == channel
            con_in &= con["channel"] == channel
        row = dict(keys)
        row.update({
            "start_s": t0, "stop_s": t1, "duration_s": span,
            "count": int(onset.size),
            "rate_per_min": onset.size / (span / 60.0) if span > 0 else float("nan"),
            # an epoch guessed from activity starts at its first event: no latency then
            "first_latency_s": float(onset[0] - t0) if onset.size and
            getattr(self.epochs, "source", "") != "activity" and "epoch" in keys
            else float("nan"),
            "iti_median_s": float(np.median(iti)) if iti.size else float("nan"),
            "iti_cv": float(np.std(iti) / np.mean(iti)) if iti.size > 1 else float("nan"),
            "emg_amplitude_median_uV": float(np.median(emg_amp)) * 1e6 if emg_amp.size
            else float("nan"),
            "emg_amplitude_max_uV": float(np.max(emg_amp)) * 1e6 if emg_amp.size
            else float("nan"),
            "acc_amplitude_median": float(np.median(acc_amp)) if acc_amp.size
            else float("nan"),
            "snr_median_db": float(np.median(ev["snr_db"])) if onset.size else float("nan"),
            "habituation_db_per_twitch": habituation_slope(ev["amplitude"], ev["unit"]),
            "contractions": int(con_in.sum()),
            "rejected": int(in_span.sum()),
        })
        return row

    def _overview(self) -> dict[str, Any]:
        ev = self.events
        per_channel: dict[str, int] = {}
        for chans in ev["channels"]:
            for ch in str(chans).split(","):
                per_channel[ch] = per_channel.get(ch, 0) + 1
        per_epoch = [
            {"epoch": r["epoch"], "start": r["start_s"], "stop": r["stop_s"],
             "count": r["count"], "rate_per_min": r["rate_per_min"],
             "first_latency_s": r["first_latency_s"],
             "habituation_db_per_twitch": r["habituation_db_per_twitch"]}
            for r in self.summary(by="epoch")
        ]
        reasons, counts = np.unique(self.rejected["reason"].astype(str), return_counts=True)
        return {
            "count": len(self),
            "rate_per_min": self.rate_per_min,
            "duration_s": self.duration,
            "per_channel": per_channel,
            "per_modality": {m: int(np.sum(ev["modality"] == m)) for m in ("emg", "acc",
                                                                           "emg+acc")},
            "epochs_source": self.epochs.source,
            "per_epoch": per_epoch,
            "outside_epochs": int(np.sum(ev["epoch"] < 0)) if len(self.epochs) else 0,
            "rejected": {str(r): int(c) for r, c in zip(reasons, counts, strict=True)},
            "contractions": int(self.contractions["onset"].size),
            "median_snr_db": float(np.median(ev["snr_db"])) if len(self) else None,
            "min_confidence": self.meta.get("min_confidence"),
        }

    def format_summary(self) -> str:
        """The summary as text (what ``ltr detect`` prints)."""
        s = self.summary()
        lines = [f"{self.source or 'recording'}: {s['count']} twitches in "
                 f"{self.duration:.1f} s ({s['rate_per_min']:.2f} per minute)"]
        if s["count"]:
            mods = ", ".join(f"{k} {v}" for k, v in s["per_modality"].items() if v)
            lines.append(f"  seen on: {mods}; median SNR {s['median_snr_db']:.1f} dB")
            lines.append("  per channel: " + ", ".join(f"{k}: {v}" for k, v in
                                                        s["per_channel"].items()))
        if s["per_epoch"]:
            lines.append(f"  needle-in epochs from {s['epochs_source']}:")
            lines.append("  epoch  start (s)  stop (s)  twitches  per min  first after (s)")
            for row in s["per_epoch"]:
                lat = row["first_latency_s"]
                lines.append(f"  {row['epoch']:>5}  {row['start']:>9.2f}  {row['stop']:>8.2f}"
                             f"  {row['count']:>8}  {row['rate_per_min']:>7.2f}  "
                             f"{'-' if not np.isfinite(lat) else f'{lat:.2f}':>15}")
            lines.append(f"  outside epochs: {s['outside_epochs']}")
        if s["min_confidence"] is not None:
            n_low = s["rejected"].get("low_confidence", 0)
            lines.append(f"  confidence below {s['min_confidence']:g}: {n_low} twitch"
                         f"{'' if n_low == 1 else 'es'} set aside (rejected as "
                         "low_confidence)")
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

    def to_annotations(self, *, with_rejected: bool = False) -> Any:
        """The twitches as :class:`ltr.Annotations` (``twitch``, with duration).

        With ``with_rejected``, rejected look-alikes are added as ``rejected: <reason>``
        and contractions as ``contraction``, so a viewer shows what was turned away too.
        """
        from .annotations import Annotations
        from .detect.rules import REASONS  # here: ltr.detect imports this module

        ann = Annotations(self.events["onset"], self.events["duration"], "twitch")
        if with_rejected:
            rej = self.rejected
            ann = ann + Annotations(rej["onset"], rej["offset"] - rej["onset"],
                                    [f"rejected: {r}" for r in rej["reason"]])
            con = self.contractions
            ann = ann + Annotations(con["onset"], con["offset"] - con["onset"],
                                    REASONS["contraction"].name)
        return ann

    def filter(self, *, min_confidence: float) -> TwitchResults:
        """The results with the twitches below a confidence moved to the rejected ones.

        Trades recall for precision: confidence is calibrated (among twitches of
        confidence c, about a fraction c are true; :class:`ltr.detect.ConfidenceConfig`),
        so a higher ``min_confidence`` keeps fewer, surer twitches. The twitches set aside
        join :attr:`rejected` with reason ``low_confidence``; counts, rates, epochs and
        exports then see only the twitches kept. The per-channel candidates
        (:attr:`channel_events`) are left as they were.

        Parameters
        ----------
        min_confidence : float
            Twitches with ``confidence < min_confidence`` (0-1) are set aside. Filtering
            twice keeps the stricter threshold.

        Returns
        -------
        TwitchResults
            A new object; this one is not changed.

        Examples
        --------
        >>> from ltr.simulate import session
        >>> import ltr
        >>> res = ltr.detect(session(duration=60, seed=3)[0])
        >>> sure = res.filter(min_confidence=0.7)
        >>> len(sure) + int((sure.rejected["reason"] == "low_confidence").sum()) == len(res)
        True
        """
        p = min_confidence
        if isinstance(p, bool) or not isinstance(p, int | float | np.integer | np.floating) \
                or not 0 <= float(p) <= 1:
            raise ValueError(f"min_confidence must be a number from 0 to 1, got {p!r}")
        p = float(p)
        low = self.events["confidence"] < p
        ev = self.events
        moved = {"onset": ev["onset"][low], "offset": ev["offset"][low],
                 "channel": ev["channel"][low].astype(object),
                 "reason": np.full(int(low.sum()), "low_confidence", dtype=object),
                 "amplitude": ev["amplitude"][low]}
        rej = {}
        for k, v in self.rejected.items():
            add = moved.get(k)
            if add is None:  # a column the moved twitches do not have
                add = np.full(int(low.sum()), "" if v.dtype == object else np.nan,
                              dtype=v.dtype)
            rej[k] = np.concatenate([v, add.astype(v.dtype)])
        order = np.argsort(rej["onset"], kind="stable")
        meta = dict(self.meta)
        if "confidence_features" in meta:
            meta["confidence_features"] = np.asarray(meta["confidence_features"])[~low]
        meta["min_confidence"] = max(p, float(meta.get("min_confidence") or 0.0))
        return dataclasses.replace(
            self, events={k: v[~low] for k, v in ev.items()},
            rejected={k: v[order] for k, v in rej.items()}, meta=meta)

    def compare(self, reference: Any, tolerance: float = 0.05) -> dict[str, Any]:
        """Event-level scores against reference onsets (see :func:`ltr.evaluate.compare`)."""
        from .evaluate import compare

        ref = reference.onsets if hasattr(reference, "onsets") else reference
        return compare(self.onset, ref, tolerance)


#: Statistics in the rows of :meth:`TwitchResults.summary` and :func:`cohort_table`.
SUMMARY_COLUMNS: dict[str, str] = {
    "start_s": "start of the span summarised, s", "stop_s": "its end, s",
    "duration_s": "its length, s", "count": "twitches",
    "rate_per_min": "twitches per minute of the span",
    "first_latency_s": "first twitch onset after the needle insertion, s (epochs from "
                       "annotations or a trigger only)",
    "iti_median_s": "median interval between successive twitch onsets, s",
    "iti_cv": "coefficient of variation of those intervals",
    "emg_amplitude_median_uV": "median peak amplitude of EMG-led twitches, µV (NaN when "
                               "the EMG unit is not known)",
    "emg_amplitude_max_uV": "largest peak amplitude of EMG-led twitches, µV",
    "acc_amplitude_median": "median peak of accelerometer-only twitches (their unit)",
    "snr_median_db": "median twitch SNR, dB",
    "habituation_db_per_twitch": "slope of 20 log10(amplitude) over successive twitches, "
                                 "dB per twitch (negative: shrinking); NaN under 3 twitches",
    "contractions": "sustained contractions overlapping the span",
    "rejected": "look-alikes rejected in the span",
}


def habituation_slope(amplitude: np.ndarray, unit: np.ndarray) -> float:
    """Least-squares slope of 20 log10(amplitude) against twitch order, dB per twitch.

    Computed on the twitches of the more common unit (EMG-led twitches in V, or
    accelerometer-only ones in m/s²) so amplitudes of different kinds are not mixed.
    NaN with fewer than 3 twitches.

    Examples
    --------
    >>> amp = 1e-4 * 0.9 ** np.arange(5)  # each twitch 10 % smaller: -0.915 dB per twitch
    >>> round(habituation_slope(amp, np.array(["V"] * 5)), 3)
    -0.915
    """
    amplitude = np.asarray(amplitude, float)
    unit = np.asarray(unit).astype(str)
    if amplitude.size == 0:
        return float("nan")
    values, counts = np.unique(unit, return_counts=True)
    a = amplitude[unit == values[np.argmax(counts)]]
    a = a[np.isfinite(a) & (a > 0)]
    if a.size < 3:
        return float("nan")
    return float(np.polyfit(np.arange(a.size), 20 * np.log10(a), 1)[0])


def cohort_table(results: Any, names: Any = None) -> list[dict[str, Any]]:
    """One row per recording × epoch over many results, for cohort statistics.

    Parameters
    ----------
    results : sequence of TwitchResults
    names : sequence of str | None
        A name per result (file, subject, muscle ...); defaults to each result's source.

    Returns
    -------
    list of dict
        Columns ``recording``, ``epoch`` (-1 for a recording without epochs, summarised
        whole), ``label``, ``source`` and :data:`SUMMARY_COLUMNS`.
    """
    results = list(results)
    names = [r.source or f"recording {i}" for i, r in enumerate(results)] if names is None \
        else list(names)
    if len(names) != len(results):
        raise ValueError(f"got {len(names)} names for {len(results)} results")
    rows = []
    for name, res in zip(names, results, strict=True):
        epoch_rows = res.summary(by="epoch")
        if not epoch_rows:
            whole = res.summary(by="recording")[0]
            whole.pop("recording")
            epoch_rows = [{"epoch": -1, "label": "whole recording", "source": "none", **whole}]
        for row in epoch_rows:
            rows.append({"recording": name, **row})
    return rows


def write_table(rows: list[dict[str, Any]], path: Any, *, overwrite: bool = False) -> Path:
    """Write rows (dicts) as TSV (``.tsv``) or CSV (``.csv``); NaN as ``n/a``."""
    p = Path(path)
    if p.suffix.lower() not in (".tsv", ".csv"):
        raise ValueError(f"{p}: tables are written as .tsv or .csv, got {p.suffix!r}")
    if p.exists() and not overwrite:
        raise FileExistsError(f"{p}: exists; pass overwrite=True to replace it")
    sep = "," if p.suffix.lower() == ".csv" else "\t"
    cols = list(dict.fromkeys(k for row in rows for k in row))
    lines = [sep.join(cols)]
    lines += [sep.join(_fmt(row.get(c, float("nan"))) for c in cols) for row in rows]
    p.write_text("\n".join(lines) + "\n")
    return p


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
