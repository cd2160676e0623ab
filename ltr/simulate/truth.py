"""Ground truth of a simulated session: twitches, confounders, needling epochs and passes."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

TRUTH_VERSION = 1

#: Columns of :attr:`Truth.twitches`, with units.
TWITCH_COLUMNS = {
    "onset": "s, EMG onset: 1 % of the burst's energy, or earlier where the burst's own "
             "RMS over 5 ms already reaches the baseline noise's (a strong burst's first "
             "potentials); the jolt's onset in acc-only layouts",
    "offset": "s, 99 % of the burst's energy, or later by the same rule (end of the jolt "
              "in acc-only layouts)",
    "peak_time": "s, time of the largest absolute EMG value (or acceleration magnitude)",
    "amplitude": "V, peak absolute EMG of the twitch alone on its channel (NaN without EMG)",
    "rms": "V, RMS of the twitch alone over its 1-99 % energy span, inside [onset, offset] "
           "(NaN without EMG)",
    "snr_db": "dB, 20 log10(rms / baseline noise RMS); in acc-only layouts the jolt's: "
              "its vector RMS over its span against the sensor noise's",
    "channel": "name of the EMG channel of the needled muscle ('' without EMG)",
    "acc_onset": "s, onset of the accelerometer jolt (NaN without accelerometer)",
    "acc_amplitude": "m/s^2, peak magnitude of the jolt (NaN without accelerometer)",
    "crosstalk_db": "dB, RMS on the neighbouring muscle's channel relative to the twitch "
                    "(NaN with one muscle)",
    "epoch": "index of the needle-in epoch",
    "local_snr_db": "dB, the twitch's RMS over that of everything else on its channel "
                    "(baseline and every confounder), both in the 20-450 Hz EMG band, over "
                    "the twitch's span (NaN without EMG, and in hybrid sessions)",
}

#: Confounder kinds the simulator can add; each must not be counted as a twitch.
CONFOUNDER_KINDS = (
    "needle_spike", "pop", "motion", "ecg", "contraction", "hand_pressure", "single_mup",
    "clipping", "mains", "wander", "endplate_noise", "endplate_train", "tremor",
)

#: Intervals logged beside the confounders that are not look-alikes: ``movement_step``
#: (the baseline step under a large genuine burst, which *is* a twitch and counts) and
#: ``quiet_gap`` (a long pause between insertions).
MARKER_KINDS = ("movement_step", "quiet_gap")


def _table(columns: dict[str, Any]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in columns.items()}


@dataclass
class Truth:
    """What really happened in a simulated session.

    Attributes
    ----------
    twitches : dict of ndarray
        Parallel arrays, one entry per twitch, sorted by onset; columns in
        :data:`TWITCH_COLUMNS`.
    confounders : dict of ndarray
        ``kind`` (see :data:`CONFOUNDER_KINDS` and :data:`MARKER_KINDS`), ``onset``,
        ``offset`` (s), ``channel`` (a channel name or ``"*"`` for all), ``amplitude`` (SI).
    epochs : dict of ndarray
        ``start`` and ``stop`` of each needle-in epoch (s) and the needled ``muscle``.
    passes : dict of ndarray
        Needle passes: ``time`` (s), ``epoch``, ``on_target`` (bool).
    info : dict
        ``seed``, ``layout``, ``sfreq``, ``duration``, ``channels``, ``condition``,
        ``config`` (all simulation parameters), ``noise_rms``, ``generator`` (ltr version).
    """

    twitches: dict[str, np.ndarray]
    confounders: dict[str, np.ndarray]
    epochs: dict[str, np.ndarray]
    passes: dict[str, np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)

    # -- convenience ------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.twitches["onset"].size)

    @property
    def onsets(self) -> np.ndarray:
        """Twitch onsets, s (EMG onsets; jolt onsets when the layout has no EMG)."""
        return self.twitches["onset"]

    @property
    def has_emg(self) -> bool:
        """Whether the layout has EMG channels (``info["ch_kinds"]`` when given, as in
        hybrid sessions, else channel names starting with ``EMG``)."""
        if "ch_kinds" in self.info:
            return "emg" in self.info["ch_kinds"]
        return any(c.startswith("EMG") for c in self.info.get("channels", []))

    def confounders_of(self, kind: str) -> dict[str, np.ndarray]:
        """The rows of :attr:`confounders` of one kind."""
        mask = self.confounders["kind"] == kind
        return {k: v[mask] for k, v in self.confounders.items()}

    def counts_per_epoch(self) -> np.ndarray:
        """Number of twitches in each epoch (zero-twitch epochs included)."""
        n = self.epochs["start"].size
        return np.bincount(self.twitches["epoch"].astype(int), minlength=n)[:n]

    def __repr__(self) -> str:
        kinds = {str(k): int(v) for k, v in zip(*np.unique(self.confounders["kind"],
                                                            return_counts=True), strict=True)}
        return (f"<Truth | {len(self)} twitches in {self.epochs['start'].size} epochs, "
                f"confounders {kinds}>")

    # -- I/O ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (NaN written as null)."""

        def clean(table: dict[str, np.ndarray]) -> dict[str, list[Any]]:
            out = {}
            for k, v in table.items():
                values = v.tolist()
                if v.dtype.kind == "f":
                    values = [None if not np.isfinite(x) else round(x, 9) for x in values]
                out[k] = values
            return out

        return {
            "ltr_truth_version": TRUTH_VERSION,
            "info": self.info,
            "twitch_columns": TWITCH_COLUMNS,
            "twitches": clean(self.twitches),
            "confounders": clean(self.confounders),
            "epochs": clean(self.epochs),
            "passes": clean(self.passes),
        }

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write the truth as JSON (see :meth:`from_json`)."""
        p = Path(path)
        p.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return p

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "truth") -> Truth:
        """Rebuild from :meth:`to_dict` output."""
        version = d.get("ltr_truth_version")
        if version is None:
            raise ValueError(f"{source}: not an ltr truth file (no 'ltr_truth_version')")
        if int(version) > TRUTH_VERSION:
            raise ValueError(f"{source}: truth version {version} is newer than this ltr "
                             f"reads ({TRUTH_VERSION})")

        def load(table: dict[str, list[Any]], strings: tuple[str, ...]) -> dict[str, np.ndarray]:
            out = {}
            for k, v in table.items():
                if k in strings:
                    out[k] = np.asarray(v, dtype=str) if v else np.zeros(0, dtype=str)
                elif k in ("epoch",):
                    out[k] = np.asarray(v, dtype=int)
                elif k == "on_target":
                    out[k] = np.asarray(v, dtype=bool)
                else:
                    out[k] = np.asarray([np.nan if x is None else x for x in v], dtype=float)
            return out

        return cls(
            twitches=load(d["twitches"], ("channel",)),
            confounders=load(d["confounders"], ("kind", "channel")),
            epochs=load(d["epochs"], ("muscle",)),
            passes=load(d["passes"], ()),
            info=d.get("info", {}),
        )

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Truth:
        """Read a truth file written by :meth:`to_json` / ``ltr simulate``."""
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file")
        try:
            d = json.loads(p.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{p}: not valid JSON ({err})") from err
        return cls.from_dict(d, source=str(p))

    def to_events_tsv(self, path: str | os.PathLike[str]) -> Path:
        """Write a BIDS-style events.tsv: twitches, confounders and needle in/out.

        Columns: ``onset`` (s), ``duration`` (s), ``trial_type`` (``twitch``, a confounder
        kind, ``needle in``, ``needle out``), ``channel``, ``amplitude`` (SI), ``snr_db``.
        """
        rows = []
        tw = self.twitches
        for i in range(len(self)):
            rows.append((tw["onset"][i], tw["offset"][i] - tw["onset"][i], "twitch",
                         tw["channel"][i] or "n/a", tw["amplitude"][i], tw["snr_db"][i]))
        cf = self.confounders
        for i in range(cf["onset"].size):
            rows.append((cf["onset"][i], cf["offset"][i] - cf["onset"][i], cf["kind"][i],
                         cf["channel"][i], cf["amplitude"][i], np.nan))
        for s, e in zip(self.epochs["start"], self.epochs["stop"], strict=True):
            rows.append((s, 0.0, "needle in", "n/a", np.nan, np.nan))
            rows.append((e, 0.0, "needle out", "n/a", np.nan, np.nan))
        rows.sort(key=lambda r: (r[0], r[2]))

        def fmt(v: Any) -> str:
            if isinstance(v, float | np.floating):
                return "n/a" if not np.isfinite(v) else f"{v:.6g}"
            return str(v)

        lines = ["onset\tduration\ttrial_type\tchannel\tamplitude\tsnr_db"]
        lines += ["\t".join(fmt(v) for v in r) for r in rows]
        p = Path(path)
        p.write_text("\n".join(lines) + "\n")
        return p
