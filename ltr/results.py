"""TwitchResults: the event table of detected twitches, with summaries and exports."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Columns of the event arrays (:attr:`TwitchResults.events`, ``channel_events``):
#: description and unit. ``amplitude``, ``rms`` and ``area`` are in the SI unit of the
#: twitch's primary channel (``unit`` column); the tables a person reads
#: (:meth:`TwitchResults.to_data_frame`, the files written) split them into one column per
#: unit instead (:data:`EVENT_TABLE_COLUMNS`).
EVENT_COLUMNS: dict[str, tuple[str, str]] = {
    "onset": ("Twitch onset from the start of the recording", "s"),
    "duration": ("Onset to offset", "s"),
    "offset": ("End of the twitch", "s"),
    "peak_time": ("Time of the largest absolute value on the primary channel", "s"),
    "amplitude": ("Peak absolute value of the conditioned signal on the primary channel",
                  "V for EMG, m/s^2 for acceleration (see unit)"),
    "unit": ("Unit of amplitude and rms", "n/a"),
    "jolt_amplitude": ("Peak absolute value of the conditioned accelerometer signal (the "
                       "twitch's jolt) on the sensor that saw it best, for every twitch an "
                       "accelerometer saw (acc and emg+acc); NaN without one, or when the "
                       "sensor's unit is not known (n/a in the files)", "m/s^2"),
    "rms": ("RMS of the conditioned signal over the twitch", "V or m/s^2"),
    "area": ("Integral of the rectified conditioned signal over the twitch",
             "V*s or m/s"),
    "snr_db": ("20 log10 of the twitch RMS over the local noise floor", "dB"),
    "rise_time": ("Onset to peak", "s"),
    "median_freq": ("Median frequency of the EMG burst (NaN for acceleration)", "Hz"),
    "channel": ("Primary channel (strongest EMG, else the accelerometer sensor)", "n/a"),
    "channels": ("All channels on which the twitch was seen, comma-separated", "n/a"),
    "modality": ("What saw the twitch: emg, acc or emg+acc; us for an ultrasound clip, "
                 "and emg+us, acc+us, emg+acc+us when a clip fused with the recording "
                 "saw it too", "n/a"),
    "confidence": ("0-1: calibrated probability that the twitch is true (among twitches "
                   "of confidence c, about a fraction c are) for emg, acc and emg+acc; "
                   "a fixed scale, not calibrated, for us and the +us kinds", "n/a"),
    "epoch": ("Needle-in epoch index from the annotations, -1 outside any epoch", "n/a"),
}
_STRING_COLUMNS = ("unit", "channel", "channels", "modality", "us_unit")

#: Columns that :func:`ltr.fuse_clip` adds to the event arrays of a recording fused with
#: an ultrasound clip: the clip twitch's own measures on every row it saw (``us`` and the
#: ``+us`` kinds, whose ``onset``, ``amplitude`` and ``peak_time`` are the recording's
#: for a fused row), NaN (``""``) on the rows the clip did not see. Results without them
#: (a clip's own, a recording's) read as :func:`us_amplitude` says.
CLIP_COLUMNS: dict[str, tuple[str, str]] = {
    "us_amplitude": ("Peak tissue speed of the ultrasound clip's twitch (on its primary us "
                     "channel), for every twitch the clip saw; NaN for the others",
                     "mm/s, or px/s for a clip without a pixel spacing (see us_unit)"),
    "us_unit": ("Unit of us_amplitude (empty where the clip did not see the twitch)",
                "n/a"),
    "us_peak_time": ("Time of the clip twitch's peak tissue speed on the recording's "
                     "clock, for every twitch the clip saw; NaN for the others", "s"),
}

#: Per-unit columns of the tables: array column -> ((suffix, unit, factor from SI) per unit
#: of the primary channel). EMG in µV, acceleration in m/s², a channel without a known
#: unit (ADC counts) in arbitrary units; the columns of a unit no row has are still there
#: (all NaN) for V and m/s², and only present for arbitrary units when a row needs them.
UNIT_COLUMNS: dict[str, dict[str, tuple[str, str, float]]] = {
    "amplitude": {"V": ("amplitude_uV", "µV", 1e6), "m/s^2": ("amplitude_m_s2", "m/s^2", 1.0),
                  "a.u.": ("amplitude_au", "a.u.", 1.0)},
    "rms": {"V": ("rms_uV", "µV", 1e6), "m/s^2": ("rms_m_s2", "m/s^2", 1.0),
            "a.u.": ("rms_au", "a.u.", 1.0)},
    "area": {"V": ("area_uV_s", "µV*s", 1e6), "m/s^2": ("area_m_s", "m/s", 1.0),
             "a.u.": ("area_au_s", "a.u.*s", 1.0)},
}
# ultrasound tissue speed (kind "us", ltr.ultrasound): columns only when a row needs them
UNIT_COLUMNS["amplitude"].update({"mm/s": ("amplitude_mm_s", "mm/s", 1.0),
                                  "px/s": ("amplitude_px_s", "px/s", 1.0)})
UNIT_COLUMNS["rms"].update({"mm/s": ("rms_mm_s", "mm/s", 1.0),
                            "px/s": ("rms_px_s", "px/s", 1.0)})
UNIT_COLUMNS["area"].update({"mm/s": ("area_mm", "mm", 1.0), "px/s": ("area_px", "px", 1.0)})
_US_UNITS = ("mm/s", "px/s")

_AMP = "the conditioned signal on the primary channel"
#: Columns of :meth:`TwitchResults.to_data_frame` and of the event files: description and
#: unit. One unit per column: a twitch led by EMG has its amplitudes in the ``*_uV``
#: columns and NaN in ``rms_m_s2``/``area_m_s``, an accelerometer-only twitch the
#: reverse; ``amplitude_m_s2`` is the jolt of every twitch an accelerometer saw
#: (``jolt_amplitude`` of the event arrays), so a twitch seen on both has both amplitudes.
EVENT_TABLE_COLUMNS: dict[str, tuple[str, str]] = {
    "onset": EVENT_COLUMNS["onset"],
    "duration": EVENT_COLUMNS["duration"],
    "offset": EVENT_COLUMNS["offset"],
    "peak_time": EVENT_COLUMNS["peak_time"],
    "amplitude_uV": (f"Peak absolute value of {_AMP}, EMG-led twitches (else n/a)", "µV"),
    "amplitude_m_s2": EVENT_COLUMNS["jolt_amplitude"],
    "rms_uV": (f"RMS of {_AMP} over the twitch, EMG-led twitches", "µV"),
    "rms_m_s2": (f"RMS of {_AMP} over the twitch, accelerometer-only twitches", "m/s^2"),
    "area_uV_s": (f"Integral of the rectified {_AMP[4:]}, EMG-led twitches", "µV*s"),
    "area_m_s": (f"Integral of the rectified {_AMP[4:]}, accelerometer-only twitches",
                 "m/s"),
    "snr_db": EVENT_COLUMNS["snr_db"],
    "rise_time": EVENT_COLUMNS["rise_time"],
    "median_freq": EVENT_COLUMNS["median_freq"],
    "channel": EVENT_COLUMNS["channel"],
    "channels": EVENT_COLUMNS["channels"],
    "modality": EVENT_COLUMNS["modality"],
    "confidence": EVENT_COLUMNS["confidence"],
    "epoch": EVENT_COLUMNS["epoch"],
}
#: Extra columns present only when a twitch's channel has no known unit (ADC counts).
EVENT_TABLE_COLUMNS_AU: dict[str, tuple[str, str]] = {
    "amplitude_au": (f"Peak absolute value of {_AMP}, channel without a known unit", "a.u."),
    "rms_au": (f"RMS of {_AMP}, channel without a known unit", "a.u."),
    "area_au_s": (f"Integral of the rectified {_AMP[4:]}, channel without a known unit",
                  "a.u.*s"),
}

#: Extra columns present only when an ultrasound clip saw a twitch (kind ``us``,
#: :mod:`ltr.ultrasound`), in mm/s or, without a pixel spacing, px/s. The amplitude is
#: the clip twitch's peak tissue speed on every row the clip saw, fused ``emg+us``,
#: ``acc+us``, ``emg+acc+us`` rows too (:func:`us_amplitude`), as ``amplitude_m_s2`` is
#: the jolt of every twitch an accelerometer saw; RMS and area are those of the twitches
#: the clip alone saw (``us``).
EVENT_TABLE_COLUMNS_US: dict[str, tuple[str, str]] = {
    UNIT_COLUMNS[col][u][0]: (what + (", clip without a pixel spacing"
                                      if u == "px/s" else ""), UNIT_COLUMNS[col][u][1])
    for u in _US_UNITS
    for col, what in (
        ("amplitude", "Peak tissue speed of the ultrasound clip's twitch, every twitch the "
                      "clip saw (us, and emg+us, acc+us, emg+acc+us of a fused clip)"),
        ("rms", "RMS of the tissue speed on the primary channel over the twitch, "
                "ultrasound-only twitches"),
        ("area", "Integral of the tissue speed on the primary channel over the twitch (a "
                 "displacement), ultrasound-only twitches"))
}

#: Columns of ``to_data_frame("rejected")``.
REJECTED_TABLE_COLUMNS: dict[str, tuple[str, str]] = {
    "onset": ("Start of the rejected candidate", "s"),
    "offset": ("Its end", "s"),
    "duration": ("offset - onset", "s"),
    "channel": ("Channel or accelerometer sensor", "n/a"),
    "reason": ("Why it was turned away (needle_spike, single_mup, pop, motion, ecg, "
               "clipping, movement, contraction)", "n/a"),
    "amplitude_uV": ("Peak of the conditioned signal, EMG channels", "µV"),
    "amplitude_m_s2": ("Peak of the conditioned signal, accelerometer sensors", "m/s^2"),
}
#: Columns of ``to_data_frame("contractions")``.
CONTRACTION_TABLE_COLUMNS: dict[str, tuple[str, str]] = {
    "onset": ("Start of the sustained contraction", "s"),
    "offset": ("Its end", "s"),
    "duration": ("offset - onset", "s"),
    "channel": ("Channel or accelerometer sensor", "n/a"),
    "rms_uV": ("Largest RMS of the conditioned signal, EMG channels", "µV"),
    "rms_m_s2": ("Largest RMS of the conditioned signal, accelerometer sensors", "m/s^2"),
}


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
        return (f"<TwitchResults | {len(self)} twitch{'' if len(self) == 1 else 'es'} in "
                f"{self.duration:.1f} s "
                f"({self.rate_per_min:.2f}/min), {self.rejected['onset'].size} rejected, "
                f"{self.contractions['onset'].size} contractions>")

    @property
    def rate_per_min(self) -> float:
        """Twitches per minute of recording."""
        return len(self) / (self.duration / 60.0) if self.duration > 0 else float("nan")

    # -- summaries ----------------------------------------------------------------------
    def summary(self, by: str = "recording") -> Any:
        """Counts, rates and twitch statistics as a table.

        Parameters
        ----------
        by : {"recording", "epoch", "channel"}
            One row for the recording (default), one per needle-in epoch (zero-twitch
            epochs included) or one per analysed channel / accelerometer sensor.

        Returns
        -------
        pandas.DataFrame
            Key columns (``recording``; ``epoch``, ``label``, ``source``; or ``channel``)
            then :data:`SUMMARY_COLUMNS`, one unit per column (named in the column).
            No rows, with every column, when there is nothing to summarise (no epochs).

        See Also
        --------
        overview : the nested dictionary ``ltr detect`` prints.
        """
        import pandas as pd

        if by == "recording":
            keys = ["recording"]
            rows = [self._row(np.ones(len(self), bool), 0.0, self.duration,
                              {"recording": self.source or "recording"})]
        elif by == "epoch":
            keys = ["epoch", "label", "source"]
            rows = [self._row(self.events["epoch"] == k, float(self.epochs.start[k]),
                              float(self.epochs.stop[k]),
                              {"epoch": k, "label": str(self.epochs.label[k]),
                               "source": self.epochs.source})
                    for k in range(len(self.epochs))]
        elif by == "channel":
            keys = ["channel"]
            rows = []
            for ch in self._channels():
                mask = np.array([ch in str(c).split(",") for c in self.events["channels"]],
                                dtype=bool)
                rows.append(self._row(mask, 0.0, self.duration, {"channel": ch},
                                      channel=ch))
        else:
            raise ValueError(f"by must be 'recording', 'epoch' or 'channel', got {by!r}")
        return pd.DataFrame(rows, columns=keys + list(SUMMARY_COLUMNS))

    def _channels(self) -> list[str]:
        names = (list(self.meta.get("emg", [])) + list(self.meta.get("sensors", {}))
                 + list(self.meta.get("us", [])))  # a fused clip's channels too
        return names or sorted({c for cs in self.events["channels"] for c in str(cs).split(",")})

    def _row(self, mask: np.ndarray, t0: float, t1: float, keys: dict[str, Any],
             channel: str | None = None) -> dict[str, Any]:
        ev = {k: v[mask] for k, v in self.events.items()}
        span = max(t1 - t0, 0.0)
        onset = ev["onset"]
        iti = np.diff(onset)
        unit = ev["unit"].astype(str)
        emg_amp = ev["amplitude"][unit == "V"] * 1e6
        acc_amp = jolt_amplitude(ev)
        acc_amp = acc_amp[np.isfinite(acc_amp)]
        rej = self.rejected
        in_span = (rej["onset"] >= t0) & (rej["onset"] <= t1)
        con = self.contractions
        con_in = (con["offset"] >= t0) & (con["onset"] <= t1)
        if channel is not None:
            in_span &= rej["channel"] == channel
            con_in &= con["channel"] == channel

        def stat(f: Any, a: np.ndarray) -> float:
            return float(f(a)) if a.size else float("nan")

        row = dict(keys)
        row.update({
            "start_s": t0, "stop_s": t1, "duration_s": span,
            "count": int(onset.size),
            "rate_per_min": onset.size / (span / 60.0) if span > 0 else float("nan"),
            # an epoch guessed from activity starts at its first event: no latency then
            "first_latency_s": float(onset[0] - t0) if onset.size and
            getattr(self.epochs, "source", "") != "activity" and "epoch" in keys
            else float("nan"),
            "iti_median_s": stat(np.median, iti),
            "iti_cv": float(np.std(iti) / np.mean(iti)) if iti.size > 1 else float("nan"),
            "emg_amplitude_median_uV": stat(np.median, emg_amp),
            "emg_amplitude_max_uV": stat(np.max, emg_amp),
            "acc_amplitude_median_m_s2": stat(np.median, acc_amp),
            "acc_amplitude_max_m_s2": stat(np.max, acc_amp),
            "snr_median_db": stat(np.median, ev["snr_db"]),
            "habituation_db_per_twitch": habituation_slope(ev["amplitude"], ev["unit"]),
            "contractions": int(con_in.sum()),
            "rejected": int(in_span.sum()),
        })
        return row

    def overview(self) -> dict[str, Any]:
        """The whole result in one nested dictionary (what ``ltr detect`` prints).

        Returns
        -------
        dict
            ``count``, ``rate_per_min`` (per minute), ``duration_s``, ``per_channel``
            (twitches seen on each channel), ``per_modality``, ``epochs_source``,
            ``per_epoch`` (``epoch``, ``start_s``, ``stop_s``, ``count``,
            ``rate_per_min``, ``first_latency_s``, ``habituation_db_per_twitch``),
            ``outside_epochs``, ``rejected`` (count per reason), ``contractions`` and
            ``median_snr_db`` (dB, None without twitches).
        """
        ev = self.events
        per_channel: dict[str, int] = {}
        for chans in ev["channels"]:
            for ch in str(chans).split(","):
                per_channel[ch] = per_channel.get(ch, 0) + 1
        cols = ["epoch", "start_s", "stop_s", "count", "rate_per_min", "first_latency_s",
                "habituation_db_per_twitch"]
        per_epoch = [{k: int(v) if k in ("epoch", "count") else float(v)
                      for k, v in r.items()}
                     for r in self.summary(by="epoch")[cols].to_dict("records")]
        reasons, counts = np.unique(self.rejected["reason"].astype(str), return_counts=True)
        return {
            "count": len(self),
            "rate_per_min": self.rate_per_min,
            "duration_s": self.duration,
            "per_channel": per_channel,
            "per_modality": {m: int(np.sum(ev["modality"] == m)) for m in MODALITIES},
            "epochs_source": self.epochs.source,
            "per_epoch": per_epoch,
            "outside_epochs": int(np.sum(ev["epoch"] < 0)) if len(self.epochs) else 0,
            "rejected": {str(r): int(c) for r, c in zip(reasons, counts, strict=True)},
            "contractions": int(self.contractions["onset"].size),
            # over the twitches whose SNR was measured (a reviewer's added ones were not)
            "median_snr_db": (float(np.median(ev["snr_db"][np.isfinite(ev["snr_db"])]))
                              if np.isfinite(ev["snr_db"]).any() else
                              float("nan") if len(self) else None),
            "min_confidence": self.meta.get("min_confidence"),
        }

    def format_summary(self) -> str:
        """The summary as text (what ``ltr detect`` prints)."""
        s = self.overview()
        lines = [f"{self.source or 'recording'}: {s['count']} "
                 f"twitch{'' if s['count'] == 1 else 'es'} in "
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
                lines.append(f"  {row['epoch']:>5}  {row['start_s']:>9.2f}  "
                             f"{row['stop_s']:>8.2f}  {row['count']:>8}  "
                             f"{row['rate_per_min']:>7.2f}  "
                             f"{'-' if not np.isfinite(lat) else f'{lat:.2f}':>15}")
            lines.append(f"  outside epochs: {s['outside_epochs']}")
        n_low = s["rejected"].get("low_confidence", 0)
        if s["min_confidence"] and n_low:  # a floor of 0, or nothing below it: nothing to say
            lines.append(f"  confidence below {s['min_confidence']:g}: {n_low} twitch"
                         f"{'' if n_low == 1 else 'es'} set aside (rejected as "
                         "low_confidence)")
        if s["rejected"]:
            lines.append("  rejected look-alikes: " + ", ".join(
                f"{k} {v}" for k, v in s["rejected"].items()))
        if s["contractions"]:
            lines.append(f"  sustained contractions: {s['contractions']}")
        if "clip" in self.meta:
            lines.append(clip_line(self.meta["clip"]))
        return "\n".join(lines)

    # -- exports ------------------------------------------------------------------------
    def to_data_frame(self, table: str = "events") -> Any:
        """A table of the results as a :class:`pandas.DataFrame`, one unit per column.

        Parameters
        ----------
        table : {"events", "channel_events", "rejected", "contractions"}
            The fused twitches (default), the accepted candidates of each channel before
            fusion, the rejected look-alikes, or the sustained contractions.

        Returns
        -------
        pandas.DataFrame
            One row per event. Columns :data:`EVENT_TABLE_COLUMNS` (twitches; plus
            :data:`EVENT_TABLE_COLUMNS_AU` when a channel has no known unit and
            :data:`EVENT_TABLE_COLUMNS_US` for twitches an ultrasound clip saw, and
            ``us_peak_time`` of :data:`CLIP_COLUMNS` when a clip was fused in),
            :data:`REJECTED_TABLE_COLUMNS` or :data:`CONTRACTION_TABLE_COLUMNS`. Times in
            seconds from the first sample; amplitudes in µV (EMG) or m/s²
            (acceleration), each in its own column.
        """
        import pandas as pd

        if table in ("events", "channel_events"):
            return pd.DataFrame(_event_table(getattr(self, table)))
        if table in ("rejected", "contractions"):
            t = getattr(self, table)
            units = self.meta.get("units", {})
            unit = np.asarray([units.get(str(c), self._guess_unit(str(c)))
                               for c in t["channel"]], dtype=object)
            cols = {"onset": t["onset"], "offset": t["offset"],
                    "duration": t["offset"] - t["onset"], "channel": t["channel"]}
            if table == "rejected":
                cols["reason"] = t["reason"]
            cols.update(_split_by_unit({"amplitude" if table == "rejected" else "rms":
                                        t["amplitude" if table == "rejected" else "rms"]},
                                       unit))
            return pd.DataFrame(cols)
        raise ValueError("table must be 'events', 'channel_events', 'rejected' or "
                         f"'contractions', got {table!r}")

    def _guess_unit(self, channel: str) -> str:
        # results stored before units were kept: EMG in V, sensors in m/s^2
        return "m/s^2" if channel in self.meta.get("sensors", {}) else "V"

    def to_bids_events(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write a BIDS-style ``events.tsv`` and its ``events.json`` sidecar.

        Columns start ``onset``, ``duration``, ``trial_type`` (``twitch``), then
        ``peak_time``, ``channels``, ``amplitude_uV``, ``amplitude_m_s2``, ``snr_db``,
        ``confidence``, ``epoch``, then the other columns of :data:`EVENT_TABLE_COLUMNS`.
        Missing values are ``n/a``; fields are quoted as :mod:`csv` does when they hold a
        tab, a quote or a line break.

        Returns
        -------
        Path
            The ``.tsv`` file; the sidecar has the same stem and ``.json``.
        """
        from .io.tables import write_frame

        p = Path(path)
        side = _sidecar(p)
        for q in (p, side):
            if q.exists() and not overwrite:
                raise FileExistsError(f"{q}: exists; pass overwrite=True to replace it")
        df = self.to_data_frame()
        df.insert(2, "trial_type", "twitch")
        first = ["onset", "duration", "trial_type", "peak_time", "channels", "amplitude_uV",
                 "amplitude_m_s2", "snr_db", "confidence", "epoch"]
        df = df[first + [c for c in df.columns if c not in first]]
        write_frame(df, p, delimiter="\t", overwrite=True)
        described = {**EVENT_TABLE_COLUMNS, **EVENT_TABLE_COLUMNS_AU, **EVENT_TABLE_COLUMNS_US,
                     "us_peak_time": CLIP_COLUMNS["us_peak_time"]}
        sidecar: dict[str, Any] = {
            col: {"Description": described[col][0], "Units": described[col][1]}
            for col in df.columns if col in described
        }
        sidecar["trial_type"] = {"Description": "Event type", "Levels": {
            "twitch": "Local twitch response detected by ltr"}}
        sidecar["GeneratedBy"] = [{"Name": "ltr", "Version": self.meta.get("ltr_version", ""),
                                   "Description": "ltr.detect", "Config":
                                   self.config.to_dict() if self.config is not None else {}}]
        if "clip" in self.meta:  # an ultrasound clip fused in (ltr.fuse_clip): its clock
            sidecar["GeneratedBy"][0]["Description"] = "ltr.detect and ltr.fuse_clip"
            sidecar["UltrasoundClip"] = {k: _json_value(v)
                                         for k, v in self.meta["clip"].items()}
        side.write_text(json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        return p

    def to_json(self, path: str | os.PathLike[str] | None = None, *,
                overwrite: bool = False) -> str:
        """Overview, events, rejected candidates and contractions as JSON text.

        The event arrays are as in :attr:`events` (SI units, ``unit`` column); ``summary``
        holds :meth:`overview`. Written to ``path`` too when given (refusing to overwrite
        unless asked).
        """

        def table(t: dict[str, np.ndarray]) -> dict[str, list[Any]]:
            return {k: [_json_value(v) for v in arr.tolist()] for k, arr in t.items()}

        doc = {
            "source": self.source, "sfreq": self.sfreq, "duration_s": self.duration,
            "summary": self.overview(), "events": table(self.events),
            "rejected": table(self.rejected), "contractions": table(self.contractions),
            "noise_floor": self.noise_floor, "processing": self.processing,
            "config": self.config.to_dict() if self.config is not None else {},
            "ltr_version": self.meta.get("ltr_version", ""),
        }
        if "clip" in self.meta:
            doc["clip"] = self.meta["clip"]
        # strict JSON: NaN and infinities (a median of nothing, say) are written as null
        text = json.dumps(_json_tree(doc), indent=1, default=_json_value, allow_nan=False)
        if path is not None:
            p = Path(path)
            if p.exists() and not overwrite:
                raise FileExistsError(f"{p}: exists; pass overwrite=True to replace it")
            p.write_text(text + "\n")
        return text

    def write_events(self, path: str | os.PathLike[str], *, per_channel: bool = False,
                     overwrite: bool = False) -> Path:
        """Write the twitch table by suffix.

        Parameters
        ----------
        path : path-like
            ``.tsv`` (BIDS, with a JSON sidecar), ``.csv`` (the columns of
            :meth:`to_data_frame`) or ``.json`` (:meth:`to_json`).
        per_channel : bool
            Write the candidates of each channel before fusion instead (``.tsv``/``.csv``).
        overwrite : bool
            Replace an existing file.

        Returns
        -------
        Path
        """
        from .io.tables import write_frame

        p = Path(path)
        suffix = p.suffix.lower()
        if suffix == ".json" and not per_channel:
            self.to_json(p, overwrite=overwrite)
            return p
        if suffix == ".tsv" and not per_channel:
            return self.to_bids_events(p, overwrite=overwrite)
        if suffix not in (".tsv", ".csv"):
            raise ValueError(f"{p}: events are written as .tsv, .csv or .json, got {suffix!r}")
        df = self.to_data_frame("channel_events" if per_channel else "events")
        return write_frame(df, p, overwrite=overwrite)

    def to_annotations(self, *, with_rejected: bool = False) -> Any:
        """The twitches as :class:`ltr.Annotations` (``twitch``, with duration).

        With ``with_rejected``, rejected look-alikes are added as ``rejected: <reason>``
        and contractions as ``contraction``, so a viewer shows what was turned away too.
        The annotations carry the recording's start time (``orig_time``) when it was known,
        so :meth:`ltr.Annotations.to_mne` lines them up with the Raw's own annotations.
        """
        from .annotations import Annotations
        from .detect.rules import REASONS  # here: ltr.detect imports this module

        start = self.meta.get("meas_date")
        orig = _dt.datetime.fromisoformat(start) if start else None
        ann = Annotations(self.events["onset"], self.events["duration"], "twitch",
                          orig_time=orig)
        if with_rejected:
            rej = self.rejected
            ann = ann + Annotations(rej["onset"], rej["offset"] - rej["onset"],
                                    [f"rejected: {r}" for r in rej["reason"]])
            con = self.contractions
            ann = ann + Annotations(con["onset"], con["offset"] - con["onset"],
                                    REASONS["contraction"].name)
        return ann

    def filter(self, *, min_confidence: float,
               calibrated_only: bool = False) -> TwitchResults:
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
        calibrated_only : bool
            Only set aside twitches whose confidence is calibrated: ultrasound (``us``)
            twitches, whose confidence is a fixed scale, are kept. What the default floor
            of :func:`ltr.detect` (``confidence.min_confidence``) does.

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
        low = below_floor(self.events["confidence"], self.events["modality"], p,
                          calibrated_only=calibrated_only)
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


#: Statistics in the rows of :meth:`TwitchResults.summary` and :func:`cohort_table`:
#: column -> description with its unit.
SUMMARY_COLUMNS: dict[str, str] = {
    "start_s": "start of the span summarised, s from the first sample",
    "stop_s": "its end, s from the first sample",
    "duration_s": "its length, s",
    "count": "twitches (count)",
    "rate_per_min": "twitches per minute of the span",
    "first_latency_s": "first twitch onset after the needle insertion, s (epochs from "
                       "annotations or a trigger only, else NaN)",
    "iti_median_s": "median interval between successive twitch onsets, s",
    "iti_cv": "coefficient of variation of those intervals (no unit)",
    "emg_amplitude_median_uV": "median peak amplitude of EMG-led twitches, µV (NaN when "
                               "there are none or the EMG unit is not known)",
    "emg_amplitude_max_uV": "largest peak amplitude of EMG-led twitches, µV",
    "acc_amplitude_median_m_s2": "median jolt (amplitude_m_s2) of the twitches an "
                                 "accelerometer saw, accelerometer-only and emg+acc, m/s² "
                                 "(NaN when there are none or the unit is not known)",
    "acc_amplitude_max_m_s2": "largest jolt of the twitches an accelerometer saw, m/s²",
    "snr_median_db": "median twitch SNR, dB",
    "habituation_db_per_twitch": "slope of 20 log10(amplitude) over successive twitches "
                                 "of the more common unit (EMG-led twitches, numbered "
                                 "among themselves, or accelerometer-only ones), dB per "
                                 "twitch (negative: shrinking); NaN under 3 twitches",
    "contractions": "sustained contractions overlapping the span (count)",
    "rejected": "look-alikes rejected in the span (count)",
}


#: The kinds of twitch (``modality``): what saw it. ``+us``: a clip's ultrasound too
#: (:func:`ltr.fuse_clip`).
MODALITIES: tuple[str, ...] = ("emg", "acc", "emg+acc", "us", "emg+us", "acc+us",
                               "emg+acc+us")

#: Kinds of twitch whose confidence is not calibrated (a fixed scale, or combined with
#: one: twitches an ultrasound clip saw, :func:`ltr.fuse_clip`): the default floor of
#: :func:`ltr.detect` (``confidence.min_confidence``) leaves them alone.
UNCALIBRATED_MODALITIES: tuple[str, ...] = ("us", "emg+us", "acc+us", "emg+acc+us")


def clip_position(c: dict[str, Any]) -> str:
    """Where a fused clip's first frame sits (``meta["clip"]`` of :func:`ltr.fuse_clip`)
    and how that was found: "+3.975 s of the recording, from the start times, shifted
    ..."."""
    from .sync import how_found

    how = how_found(c["source"])
    if c.get("checked"):
        how += (f", shifted {c['shift']:+.3f} s to line up {c['matches']} twitches both "
                f"saw")
    elif c.get("refine"):
        how += " (not confirmed by the twitches)"
    return f"{c['offset']:+.3f} s of the recording, {how}"


def clip_line(c: dict[str, Any]) -> str:
    """The summary line of a fused ultrasound clip: :func:`clip_position` and how many of
    its twitches joined the recording's."""
    name = Path(str(c.get("clip") or "clip")).name
    out = int(c.get("outside", 0))
    n = c["fused"] + c["us_only"] + out
    return (f"  clip {name}: first frame at {clip_position(c)}; "
            f"{c['fused']} of its {n} twitch{'' if n == 1 else 'es'} joined the "
            f"recording's, {c['us_only']} seen on the clip alone"
            + (f", {out} outside the recording (not counted)" if out else ""))


def below_floor(confidence: Any, modality: Any, floor: float, *,
                calibrated_only: bool = False) -> np.ndarray:
    """Which twitches a confidence floor sets aside: ``confidence < floor``, and with
    ``calibrated_only`` not of a kind in :data:`UNCALIBRATED_MODALITIES`."""
    low = np.asarray(confidence, float) < floor
    if calibrated_only:
        low &= ~np.isin(np.asarray(modality).astype(str), UNCALIBRATED_MODALITIES)
    return low


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


def cohort_table(results: Any, names: Any = None) -> Any:
    """One row per recording × epoch over many results, for cohort statistics.

    Parameters
    ----------
    results : sequence of TwitchResults
    names : sequence of str | None
        A name per result (file, subject, muscle ...); defaults to each result's source.

    Returns
    -------
    pandas.DataFrame
        Columns ``recording``, ``epoch`` (-1 for a recording without epochs, summarised
        whole), ``label``, ``source`` (where the epochs came from) and
        :data:`SUMMARY_COLUMNS`, one unit per column.
    """
    import pandas as pd

    results = list(results)
    names = [r.source or f"recording {i}" for i, r in enumerate(results)] if names is None \
        else list(names)
    if len(names) != len(results):
        raise ValueError(f"got {len(names)} names for {len(results)} results")
    columns = ["recording", "epoch", "label", "source", *SUMMARY_COLUMNS]
    frames = []
    for name, res in zip(names, results, strict=True):
        table = res.summary(by="epoch")
        if not len(table):
            table = res.summary(by="recording").drop(columns="recording")
            table.insert(0, "epoch", -1)
            table.insert(1, "label", "whole recording")
            table.insert(2, "source", "none")
        table.insert(0, "recording", name)
        frames.append(table[columns])
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)


def events_files(path: str | os.PathLike[str], *, per_channel: bool = False) -> list[Path]:
    """The files :meth:`TwitchResults.write_events` writes for ``path``: a BIDS ``.tsv``
    has its ``.json`` sidecar beside it (the per-channel table has none)."""
    p = Path(path)
    if p.suffix.lower() == ".tsv" and not per_channel:
        return [p, _sidecar(p)]
    return [p]


def _sidecar(path: Path) -> Path:
    """The JSON sidecar of a BIDS events file."""
    return path.with_suffix(".json")


def write_table(table: Any, path: str | os.PathLike[str], *,
                overwrite: bool = False) -> Path:
    """Write a table as TSV (``.tsv``) or CSV (``.csv``) with the :mod:`csv` module.

    Parameters
    ----------
    table : pandas.DataFrame | sequence of dict
        The table (the index is not written), or rows as dicts (columns in order of first
        appearance, missing cells empty).
    path : path-like
        ``.tsv`` or ``.csv``.
    overwrite : bool
        Replace an existing file (default False: ``FileExistsError``).

    Returns
    -------
    Path

    Notes
    -----
    NaN and None are written as ``n/a`` (``pandas.read_csv`` reads them back as NaN),
    floats with 10 significant digits, and a field holding the delimiter, a quote or a
    line break is quoted, so ``pandas.read_csv(path, sep=None or "\t")`` gives the table
    back.
    """
    import pandas as pd

    from .io.tables import delimiter_for, write_frame

    delimiter_for(path)  # the suffix is checked before anything is built
    if not isinstance(table, pd.DataFrame):
        rows = list(table)
        if rows and not all(isinstance(r, dict) for r in rows):
            raise TypeError("write_table needs a pandas.DataFrame or a sequence of dicts, got "
                            f"{type(rows[0]).__name__} rows")
        table = pd.DataFrame(rows, columns=list(dict.fromkeys(k for r in rows for k in r)))
    return write_frame(table, path, overwrite=overwrite)


def _split_by_unit(values: dict[str, np.ndarray], unit: np.ndarray) -> dict[str, np.ndarray]:
    """SI value columns mixed by row -> one column per unit (µV, m/s², a.u.), NaN elsewhere.

    The arbitrary-unit columns appear only when a row needs them.
    """
    unit = np.asarray(unit).astype(str)
    known = np.isin(unit, ("V", "m/s^2", *_US_UNITS))
    out: dict[str, np.ndarray] = {}
    for col, x in values.items():
        x = np.asarray(x, float)
        for u, (name, _, factor) in UNIT_COLUMNS[col].items():
            rows = ~known if u == "a.u." else unit == u
            if (u == "a.u." or u in _US_UNITS) and not rows.any():
                continue
            out[name] = np.where(rows, x * factor, np.nan)
    return out


def jolt_amplitude(events: dict[str, np.ndarray]) -> np.ndarray:
    """The ``jolt_amplitude`` of event arrays, m/s^2 (:data:`EVENT_COLUMNS`); for arrays
    kept before it was (an older results file), the amplitude of the accelerometer-only
    twitches, NaN for the others."""
    if "jolt_amplitude" in events:
        return np.asarray(events["jolt_amplitude"], float)
    unit = np.asarray(events["unit"]).astype(str)
    return np.where(unit == "m/s^2", np.asarray(events["amplitude"], float), np.nan)


def us_amplitude(events: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The ``us_amplitude`` and ``us_unit`` of event arrays (:data:`CLIP_COLUMNS`): the
    clip twitch's peak tissue speed on every row an ultrasound clip saw, NaN and ``""``
    elsewhere; for arrays without them (a clip's own results, a recording's, older
    files) the amplitude of the rows led by a tissue-speed channel (mm/s, px/s)."""
    if "us_amplitude" in events and "us_unit" in events:
        return (np.asarray(events["us_amplitude"], float),
                np.asarray(events["us_unit"]).astype(str))
    unit = np.asarray(events["unit"]).astype(str)
    us = np.isin(unit, _US_UNITS)
    return (np.where(us, np.asarray(events["amplitude"], float), np.nan),
            np.where(us, unit, ""))


def _event_table(t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The columns of :data:`EVENT_TABLE_COLUMNS` from event arrays."""
    split = _split_by_unit({c: t[c] for c in UNIT_COLUMNS}, t["unit"])
    split["amplitude_m_s2"] = jolt_amplitude(t)  # the jolt of emg+acc twitches too
    amp, unit = us_amplitude(t)  # the clip's speed of emg+us ... twitches too
    for u in _US_UNITS:
        name = UNIT_COLUMNS["amplitude"][u][0]
        if (unit == u).any():
            split[name] = np.where(unit == u, amp, np.nan)
    au = [c for c in EVENT_TABLE_COLUMNS_AU if c in split]
    out = {c: split[c] if c in split else t[c] for c in EVENT_TABLE_COLUMNS}
    out.update({c: split[c] for c in au})
    out.update({c: v for c, v in split.items() if c not in out})  # ultrasound units
    if "us_peak_time" in t:  # a clip fused in: when its twitch peaked
        out["us_peak_time"] = np.asarray(t["us_peak_time"], float)
    return out


def _json_tree(v: Any) -> Any:
    """``v`` with every float that JSON cannot hold (NaN, ±inf) replaced by None, through
    dicts, lists and tuples (what :func:`json.dumps` does not call ``default`` for)."""
    if isinstance(v, dict):
        return {k: _json_tree(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json_tree(x) for x in v]
    if isinstance(v, float | np.floating):
        return float(v) if np.isfinite(v) else None
    return v


def _json_value(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return float(v) if np.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.ndarray):
        return [_json_value(x) for x in v.tolist()]
    return v
