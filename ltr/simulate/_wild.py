"""The ``wild`` condition: every parameter of a session drawn from wide, documented ranges.

``session(condition="wild", seed=s)`` draws the session length, sampling rate, layout,
surface or needle EMG, the twitches (SNR, duration, rate, clustering), the baseline
(level, colour) and the presence, strength and rate of every confounder from the tables
below, as a function of the seed alone. The ranges come from ``../shared/LTR-FACTS.md``
and the papers named beside each one, or are marked *(assumed)* where no published figure
was found; they were not chosen from what the detector passes. The draw is stored in
``truth.info["wild"]`` so that any failing session can be rebuilt from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

G = 9.80665

#: Salt mixed with the seed for the wild draw, so it is independent of the component
#: streams of the session (which the same seed also drives).
_WILD_SALT = 0x57494C44  # "WILD"


@dataclass(frozen=True)
class WildRange:
    """Where one parameter is drawn from.

    Attributes
    ----------
    field : str
        The :class:`~ltr.simulate.SimulationConfig` field it sets.
    lo, hi : float
        Bounds (SI units, or the field's own units).
    scale : {"lin", "log"}
        Uniform or log-uniform.
    pair : bool
        The field is a (low, high) range: two values are drawn and sorted.
    source : str
        Where the range comes from.
    """

    field: str
    lo: float
    hi: float
    scale: str = "lin"
    pair: bool = False
    source: str = "(assumed)"

    def draw(self, rng: np.random.Generator) -> float | tuple[float, float]:
        """One draw (a sorted pair for range fields)."""
        k = 2 if self.pair else 1
        if self.scale == "log":
            v = np.exp(rng.uniform(np.log(self.lo), np.log(self.hi), k))
        else:
            v = rng.uniform(self.lo, self.hi, k)
        v = np.clip(v, self.lo, self.hi)  # exp(log(x)) may step one ULP outside
        return (float(v.min()), float(v.max())) if self.pair else float(v[0])


_F = "LTR-FACTS.md"

#: Twitch, schedule and baseline parameters, drawn in every wild session (EMG ones only
#: matter with EMG, accelerometer ones only with an accelerometer).
WILD_ALWAYS: tuple[WildRange, ...] = (
    WildRange("snr_db", 0.0, 30.0, pair=True,
              source="0 dB: a twitch no stronger than the baseline (the suite's floor; "
                     "below it nobody, clinician or detector, sees an LTR); faint LTRs about "
                     "9 dB (issue 12); sleep twitches >= 4x background (12 dB); Bonato 1998 "
                     "onsets reliable > 8 dB; 30 dB: strong needle-EMG bursts (assumed)"),
    WildRange("duration_median", 0.04, 0.15,
              source=f"{_F}: tens of ms to ~300 ms, typically 50-100 ms"),
    WildRange("duration_sigma", 0.25, 0.6, source="(assumed) log-normal spread"),
    WildRange("firing_rate", 80.0, 500.0, pair=True,
              source=f"(assumed) polyphasic train of several MUAPs ({_F})"),
    WildRange("muap_duration", 0.002, 0.015, pair=True,
              source=f"{_F}: motor-unit potentials last 2-15 ms"),
    WildRange("snr_jitter_db", 0.5, 4.0, source="(assumed)"),
    WildRange("habituation", 0.85, 1.0, pair=True,
              source="Baraja-Vegas 2020 and Cruz-Montecinos 2021: successive LTRs shrink; "
                     "up to 1.4 dB per twitch (assumed: stronger fading would carry long "
                     "runs below the baseline, where no twitch is seen)"),
    WildRange("p_enter_target", 0.02, 0.2, source="(assumed) clustering: runs of twitches"),
    WildRange("p_stay_target", 0.3, 0.9, source="(assumed) clustering: length of runs"),
    WildRange("p_twitch", 0.5, 1.0, source="(assumed)"),
    WildRange("pass_interval", 0.2, 1.5, pair=True,
              source="(assumed) fanning / pistoning at about 1-5 passes per second"),
    WildRange("latency", 0.01, 0.1, pair=True,
              source="(assumed) spinal reflex (Hong 1994) after the pass"),
    WildRange("epoch_duration", 10.0, 90.0, pair=True, source="(assumed) needle-in time"),
    WildRange("gap_duration", 3.0, 30.0, pair=True, source="(assumed) needle-out pauses"),
    WildRange("pink_fraction", 0.0, 0.8, source="(assumed) baseline colour"),
    WildRange("acc_noise_rms", 0.002, 0.02, scale="log", source="(assumed) MEMS sensor noise"),
    WildRange("acc_amplitude", 0.02, 1.0, scale="log", pair=True,
              source=f"{_F}: an LTR recruits part of a band, 0.02-1 m/s^2"),
    WildRange("acc_freq", 5.0, 40.0, pair=True,
              source=f"{_F}: mechanical transients with energy below ~50 Hz; MMG 5-100 Hz"),
    WildRange("acc_duration", 0.05, 0.3, pair=True, source=f"{_F}: transients of 50-300 ms"),
    WildRange("emd", 0.005, 0.04, pair=True,
              source=f"{_F}: electromechanical delay ~5-40 ms"),
    WildRange("breathing_amplitude", 0.005, 0.05, scale="log", source="(assumed)"),
    WildRange("crosstalk_db", -30.0, -8.0, pair=True, source="(assumed) volume conduction"),
)

#: Baseline level by electrode type.
WILD_NOISE = {
    "surface": WildRange("noise_rms", 1e-6, 5e-6, scale="log",
                         source=f"{_F}: amplifier noise 1-5 uV RMS"),
    "needle": WildRange("noise_rms", 2e-6, 10e-6, scale="log",
                        source="(assumed) concentric needle: amplifier plus tissue noise"),
}

#: Confounders and phenomena: probability that a session has it, and its parameters.
WILD_CONFOUNDERS: dict[str, tuple[float, tuple[WildRange, ...]]] = {
    "mains": (0.5, (WildRange("mains_amplitude", 2e-6, 30e-6, scale="log",
                              source=f"(assumed); {_F}: 50/60 Hz with odd harmonics"),)),
    "wander": (0.4, (WildRange("wander_amplitude", 10e-6, 300e-6, scale="log",
                               source=f"{_F}: 0.05-2 Hz wander; amplitude assumed"),)),
    "needle_spike": (0.4, (WildRange("needle_spike_prob", 0.05, 0.5, source="(assumed)"),)),
    "pop": (0.3, (WildRange("pop_rate", 0.2, 3.0, source="(assumed) per minute"),)),
    "motion": (0.4, (WildRange("motion_prob", 0.05, 0.3,
                               source=f"{_F}: the operator's hand, time-locked to passes"),)),
    "ecg": (0.5, (WildRange("ecg_bpm", 50.0, 110.0, pair=True,
                            source=f"{_F}: QRS 50-110 bpm on trunk muscles"),
                  WildRange("ecg_amplitude", 20e-6, 500e-6, scale="log",
                            source=f"{_F}: 20-500 uV"))),
    "contraction": (0.3, (WildRange("contraction_rate", 0.2, 2.0, source="(assumed)"),
                          WildRange("contraction_snr_db", 10.0, 30.0, pair=True,
                                    source=f"(assumed); {_F}: guarding 0.5-5 s"))),
    "hand_pressure": (0.4, (WildRange("hand_pressure_rate", 0.3, 3.0,
                                      source=f"{_F}: the operator's hand"),)),
    "single_mup": (0.4, (WildRange("single_mup_rate", 2.0, 20.0,
                                   source=f"{_F}: sparse motor-unit firing at rest"),)),
    "clipping": (0.1, (WildRange("clip_range", 0.5e-3, 5e-3, scale="log",
                                 source="(assumed) amplifier ranges"),)),
    "endplate": (0.6, (
        WildRange("endplate_noise_prob", 0.2, 1.0,
                  source="Simons, Hong & Simons 2002 (Am J Phys Med Rehabil 81:212): endplate "
                         "noise at every trigger point studied"),
        WildRange("endplate_noise_rate", 100.0, 900.0, pair=True,
                  source="issue 12: hundreds per second"),
        WildRange("endplate_noise_amplitude", 2.0, 5.0, pair=True,
                  source=f"issue 12: a few times the baseline; {_F}: 10-50 uV"),
        WildRange("endplate_train_rate", 0.5, 4.0, source="(assumed) per minute of needle-in"),
        WildRange("endplate_train_duration", 1.0, 6.0, pair=True,
                  source=f"issue 12: 1-6 s; {_F}: firing irregularly for seconds"),
        WildRange("endplate_train_firing", 5.0, 40.0, pair=True,
                  source="issue 12: irregular at 5-40 Hz (Partanen: end plate spikes)"),
        WildRange("endplate_spike_amplitude", 15.0, 50.0, pair=True,
                  source=f"issue 12: 15-50x baseline; {_F}: 100-200 uV"),
        WildRange("endplate_on_twitch", 0.0, 0.5, source="(assumed)"),
    )),
    "tremor": (0.3, (
        WildRange("tremor_rate", 0.3, 3.0, source="(assumed) episodes per minute"),
        WildRange("tremor_freq", 4.0, 12.0, pair=True,
                  source=f"{_F}: tremor 4-12 Hz; physiological 8-12, essential 4-12 Hz "
                         "(PMC6806079)"),
        WildRange("tremor_duration", 2.0, 8.0, pair=True, source="issue 12: episodes 2-8 s"),
        WildRange("tremor_amplitude", 0.02 * G, 0.1 * G, pair=True,
                  source="issue 12: 0.02-0.1 g"),
        WildRange("tremor_on_twitch", 0.0, 0.5, source="(assumed)"),
    )),
    "movement_burst": (0.3, (
        WildRange("movement_burst_rate", 0.2, 2.0,
                  source="issue 12: real surface EMG, bursts of 0.8-1.2 mV with a step; "
                         "rate assumed"),)),
    "quiet_gap": (0.5, (
        WildRange("quiet_gap_prob", 0.1, 0.5, source="(assumed)"),
        WildRange("quiet_gap_duration", 30.0, 600.0, pair=True,
                  source="issue 12: long quiet gaps between insertions (assumed length)"))),
}

#: Which confounders need what: EMG, an accelerometer, a needle, surface EMG, a long
#: session. A confounder whose need is not met is never drawn present.
_NEEDS = {"mains": "emg", "wander": "emg", "needle_spike": "emg", "pop": "emg",
          "ecg": "emg", "single_mup": "emg", "clipping": "emg", "hand_pressure": "acc",
          "endplate": "needle", "tremor": "acc", "movement_burst": "surface",
          "quiet_gap": "long", "motion": "", "contraction": ""}

#: Session-level choices and why.
WILD_SESSION = {
    "needle_share": (0.3, "(assumed) share of sessions with needle (intramuscular) EMG"),
    "sfreq_surface": ((250.0, 4000.0), "log-uniform; 250 Hz (emgGO, OpenBCI in "
                      "../shared/data) to 4 kHz; Delsys Trigno 1926 Hz (LTR-FACTS.md)"),
    "sfreq_needle": ((4000.0, 10000.0), "log-uniform; PhysioNet needle EMG 4 kHz, issue 12 "
                     "10 kHz"),
    "sfreq_acc_only": ((100.0, 1000.0), "log-uniform; smartphone ~100 Hz (PDKit), Trigno "
                       "148 Hz (LTR-FACTS.md)"),
    "layouts_surface": ({"emg": 0.3, "emg+acc": 0.3, "emg2": 0.15, "emg2+acc": 0.1,
                         "acc": 0.15}, "(assumed)"),
    "layouts_needle": ({"emg": 0.7, "emg2": 0.3}, "(assumed)"),
    "duration": ({"short": ((60.0, 180.0), 0.75), "medium": ((180.0, 600.0), 0.17),
                  "long": ((1200.0, 3600.0), 0.08)},
                 "mostly short to keep a 200-session sweep affordable; 8 % are 20-60-min "
                 "sessions (issue 12), whose rate is capped at 2 kHz (the simulator holds "
                 "every component in memory)"),
    "long_sfreq_cap": (2000.0, "Hz, for 20-60-min sessions"),
}


def _choice(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.asarray([weights[k] for k in keys], float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def wild_draw(seed: int | None) -> dict[str, Any]:
    """The wild session drawn for ``seed``.

    Returns
    -------
    dict
        ``duration`` (s), ``sfreq`` (Hz), ``layout``, ``electrode`` (``"surface"`` or
        ``"needle"``), ``present`` (confounder name -> bool) and ``conditions`` (the
        :class:`~ltr.simulate.SimulationConfig` fields drawn). JSON-serialisable; it is
        stored as ``truth.info["wild"]``.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_WILD_SALT,)))
    electrode = "needle" if rng.random() < WILD_SESSION["needle_share"][0] else "surface"
    layout = _choice(rng, WILD_SESSION[f"layouts_{electrode}"][0])
    bands = WILD_SESSION["duration"][0]
    band = _choice(rng, {k: v[1] for k, v in bands.items()})
    duration = float(rng.uniform(*bands[band][0]))
    key = "sfreq_acc_only" if layout == "acc" else f"sfreq_{electrode}"
    lo, hi = WILD_SESSION[key][0]
    sfreq = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    if band == "long":
        sfreq = min(sfreq, WILD_SESSION["long_sfreq_cap"][0])
    sfreq = float(round(sfreq))
    conditions: dict[str, Any] = {}
    for r in WILD_ALWAYS:
        conditions[r.field] = r.draw(rng)
    conditions["noise_rms"] = WILD_NOISE[electrode].draw(rng)
    has = {"emg": layout != "acc", "acc": layout.endswith("acc"),
           "needle": electrode == "needle" and layout != "acc",
           "surface": electrode == "surface" and layout != "acc", "long": band == "long",
           "": True}
    present: dict[str, bool] = {}
    for name, (p, ranges) in WILD_CONFOUNDERS.items():
        u = rng.random()
        values = {r.field: r.draw(rng) for r in ranges}  # drawn always: stable streams
        present[name] = bool(has[_NEEDS[name]] and u < p)
        if present[name]:
            conditions.update(values)
    if present["mains"]:
        conditions["mains_hz"] = 50 if rng.random() < 0.5 else 60
    faint = rng.random() < 0.5
    qrs = float(rng.uniform(2.0, 3.0))
    if present["ecg"] and faint:  # issue 12: faint heartbeat, band-passed QRS 2-3x baseline
        conditions["ecg_qrs_snr"] = (qrs, qrs)
    return {"duration": round(duration, 3), "sfreq": sfreq, "layout": layout,
            "electrode": electrode, "duration_band": band, "present": present,
            "conditions": conditions}


def wild_ranges() -> dict[str, tuple[float, float]]:
    """Every drawn field with the bounds of its documented range (for tests and docs)."""
    out: dict[str, tuple[float, float]] = {}
    for r in (*WILD_ALWAYS, *WILD_NOISE.values(),
              *(r for _, rs in WILD_CONFOUNDERS.values() for r in rs)):
        lo, hi = out.get(r.field, (r.lo, r.hi))
        out[r.field] = (min(lo, r.lo), max(hi, r.hi))
    out["ecg_qrs_snr"] = (2.0, 3.0)
    out["mains_hz"] = (50.0, 60.0)
    return out


def wild_table() -> str:
    """The ranges as a Markdown table (field, range, scale, source)."""
    lines = ["| parameter | range | scale | present in | source |", "|---|---|---|---|---|"]
    for r in WILD_ALWAYS:
        lines.append(f"| {r.field} | {r.lo:g}-{r.hi:g} | {r.scale} | all | {r.source} |")
    for k, r in WILD_NOISE.items():
        lines.append(f"| noise_rms ({k}) | {r.lo:g}-{r.hi:g} | {r.scale} | all | {r.source} |")
    for name, (p, ranges) in WILD_CONFOUNDERS.items():
        for r in ranges:
            lines.append(f"| {r.field} | {r.lo:g}-{r.hi:g} | {r.scale} | {name}: "
                         f"{100 * p:.0f} % | {r.source} |")
    return "\n".join(lines)
