"""The benchmark suite: named conditions every accuracy claim of ltr is reported against."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..recording import Recording
from .truth import Truth


@dataclass(frozen=True)
class Condition:
    """A named simulation condition: a layout, parameter overrides and, where the
    phenomenon needs them, a sampling rate and session length (``None``: the caller's)."""

    name: str
    layout: str
    description: str
    conditions: dict[str, Any] = field(default_factory=dict)
    sfreq: float | None = None
    duration: float | None = None


_EVERYTHING = {
    "snr_db": (0.0, 20.0), "mains_hz": 50, "mains_amplitude": 8e-6,
    "wander_amplitude": 40e-6, "needle_spike_prob": 0.3, "pop_rate": 1.0,
    "motion_prob": 0.15, "ecg_bpm": (55.0, 95.0), "ecg_amplitude": 60e-6,
    "contraction_rate": 1.0, "hand_pressure_rate": 2.0, "single_mup_rate": 6.0,
    "clip_range": 1.5e-3,
}

#: The conditions of the benchmark suite, by name.
SUITE: dict[str, Condition] = {c.name: c for c in (
    Condition("clean", "emg", "resting baseline and twitches, SNR 6-24 dB",
              {"snr_db": (6.0, 24.0)}),
    Condition("low_snr", "emg", "weak twitches, SNR -3 to 6 dB", {"snr_db": (-3.0, 6.0)}),
    Condition("mains", "emg", "50 Hz hum with harmonics, 3x the baseline RMS and more",
              {"mains_hz": 50, "mains_amplitude": 15e-6}),
    Condition("mains60", "emg", "60 Hz hum with harmonics",
              {"mains_hz": 60, "mains_amplitude": 15e-6}),
    Condition("needle_artifacts", "emg",
              "needle-contact spikes at 40 % of passes, electrode pops, cable motion",
              {"needle_spike_prob": 0.4, "pop_rate": 2.0, "motion_prob": 0.2}),
    Condition("ecg", "emg", "ECG on trapezius, 50-100 bpm, R wave 100 µV",
              {"ecg_bpm": (50.0, 100.0), "ecg_amplitude": 100e-6}),
    Condition("voluntary_contraction", "emg",
              "sustained contractions (1-5 s) and isolated motor-unit potentials",
              {"contraction_rate": 2.0, "single_mup_rate": 10.0}),
    Condition("acc_only", "acc", "tri-axial accelerometer only, with hand pressure",
              {"hand_pressure_rate": 2.0}),
    Condition("fused", "emg+acc", "EMG and accelerometer, motion and hand pressure",
              {"motion_prob": 0.15, "hand_pressure_rate": 1.0}),
    Condition("two_muscles", "emg2", "two neighbouring muscles with cross-talk", {}),
    Condition("everything", "emg2+acc", "all confounders at once", _EVERYTHING),
    # issue 12: phenomena the first suite did not hold
    Condition("faint_ecg", "emg",
              "faint heartbeat (band-passed QRS 2-3x the baseline RMS, 50-100 bpm) with "
              "50 Hz hum, wander, needle spikes and isolated motor units (trapezius, "
              "quadratus lumborum, paraspinals)",
              {"ecg_bpm": (50.0, 100.0), "ecg_qrs_snr": (2.0, 3.0), "mains_hz": 50,
               "mains_amplitude": 8e-6, "wander_amplitude": 30e-6,
               "needle_spike_prob": 0.2, "single_mup_rate": 4.0}),
    Condition("endplate", "emg",
              "needle at the endplate zone, 10 kHz: endplate noise in 70 % of insertions "
              "and trains of endplate spikes (3 per minute of needle-in time), half of "
              "them over a twitch",
              {"endplate_noise_prob": 0.7, "endplate_train_rate": 3.0,
               "endplate_on_twitch": 0.5}, sfreq=10000.0),
    Condition("acc_tremor", "acc",
              "accelerometer at 100 Hz with 4-7 Hz tremor episodes (2-8 s, 0.02-0.1 g, "
              "3 per minute), half of them over a twitch",
              {"tremor_rate": 3.0, "tremor_on_twitch": 0.5}, sfreq=100.0),
    Condition("movement_steps", "emg",
              "large genuine bursts (0.8-1.2 mV, 0.3-0.6 s) with a baseline step, "
              "2 per minute of needle-in time: twitches to be counted",
              {"movement_burst_rate": 2.0}),
    Condition("quiet_gaps", "emg",
              "20-minute session whose pauses are long quiet gaps (1-5 min) half the time",
              {"quiet_gap_prob": 0.5}, duration=1200.0),
)}


def suite(
    seeds: Iterable[int] = range(5),
    *,
    duration: float | None = None,
    sfreq: float | None = None,
    names: Iterable[str] | None = None,
) -> Iterator[tuple[Condition, int, Recording, Truth]]:
    """Generate the benchmark suite: every condition for every seed.

    Parameters
    ----------
    seeds : iterable of int
        Seeds per condition (default 0-4).
    duration, sfreq : float | None
        Session length (s) and sampling rate (Hz); None: the condition's own
        (:attr:`Condition.duration`, :attr:`Condition.sfreq`), else 120 s and 2 kHz.
    names : iterable of str | None
        Subset of :data:`SUITE` names; all by default.

    Yields
    ------
    condition : Condition
    seed : int
    recording : Recording
    truth : Truth
    """
    from ._session import session

    chosen = list(SUITE) if names is None else list(names)
    unknown = sorted(set(chosen) - set(SUITE))
    if unknown:
        raise ValueError(f"unknown suite condition(s) {unknown}; known: {list(SUITE)}")
    for name in chosen:
        cond = SUITE[name]
        for seed in seeds:
            rec, truth = session(duration=duration or cond.duration or 120.0,
                                 sfreq=sfreq or cond.sfreq or 2000.0, layout=cond.layout,
                                 seed=seed, condition=name)  # type: ignore[misc]
            yield cond, seed, rec, truth
