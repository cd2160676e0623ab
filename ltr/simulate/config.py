"""Parameters of a simulated needling session, in one frozen dataclass."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

#: Layouts: which channels the simulated session has.
LAYOUTS = {
    "emg": ("EMG trapezius",),
    "acc": ("ACC X", "ACC Y", "ACC Z"),
    "emg+acc": ("EMG trapezius", "ACC X", "ACC Y", "ACC Z"),
    "emg2": ("EMG trapezius", "EMG rhomboid"),
    "emg2+acc": ("EMG trapezius", "EMG rhomboid", "ACC X", "ACC Y", "ACC Z"),
}

Range = tuple[float, float]

#: Fields added with the endplate, tremor, movement-burst, faint-ECG and quiet-gap
#: phenomena: :meth:`SimulationConfig.to_dict` omits them while they hold their default.
ADDED_FIELDS = frozenset({
    "ecg_qrs_snr", "endplate_noise_prob", "endplate_noise_rate", "endplate_noise_amplitude",
    "endplate_train_rate", "endplate_train_duration", "endplate_train_firing",
    "endplate_spike_amplitude", "endplate_on_twitch", "tremor_rate", "tremor_freq",
    "tremor_duration", "tremor_amplitude", "tremor_on_twitch", "movement_burst_rate",
    "movement_burst_amplitude", "movement_burst_duration", "movement_step_amplitude",
    "quiet_gap_prob", "quiet_gap_duration",
})


@dataclass(frozen=True)
class SimulationConfig:
    """Everything a simulated session depends on besides duration, rate, layout and seed.

    Ranges ``(lo, hi)`` are sampled uniformly per event unless noted. Rates of confounders
    are events per minute; 0 switches a confounder off. Amplitudes are SI (V, m/s²).
    The defaults give a *clean* session: resting baseline and twitches only.

    Attributes
    ----------
    noise_rms : float
        RMS of the resting EMG baseline (amplifier white noise plus 1/f noise), V.
        Literature: 1-5 µV. Default 3 µV.
    pink_fraction : float
        Share of the baseline power that is 1/f (pink) noise. Default 0.3.
    snr_db : (float, float)
        SNR of the first twitch of an epoch: 20·log10(twitch RMS over [onset, offset] /
        baseline RMS). Successive twitches shrink by ``habituation``. Default (0, 24).
    duration_median, duration_sigma, duration_range
        Twitch (burst) duration is log-normal with this median (s) and log-σ, clipped to
        the range. Defaults 0.08 s, 0.45, (0.02, 0.30).
    firing_rate : (float, float)
        Motor-unit potentials per second of burst (all units together); sets how
        polyphasic a burst is. Default (120, 400) /s: a few to tens of potentials.
    n_units : (int, int)
        Distinct motor units taking part in one twitch. Default (2, 8).
    muap_duration : (float, float)
        Duration of one motor-unit potential, s. Default (0.002, 0.015).
    snr_jitter_db : float
        Twitch-to-twitch SNR scatter around the habituation trend (SD, dB). Default 2.
    habituation : (float, float)
        Amplitude ratio between successive twitches of one epoch (per site).
        Default (0.88, 1.0): up to about 1 dB less per twitch.
    epoch_duration, gap_duration : (float, float)
        Needle-in epochs and needle-out pauses, s. Defaults (15, 45) and (4, 12).
    pass_interval : (float, float)
        Time between needle passes (fanning / pistoning) while the needle is in, s.
    p_enter_target, p_stay_target : float
        Markov chain of passes on the trigger point: probability to move onto it and to
        stay on it at the next pass (twitches come in runs). Defaults 0.06 and 0.65.
    p_twitch : float
        Probability that a pass on the trigger point elicits a twitch. Default 0.85.
    latency : (float, float)
        Twitch onset after the needle pass, s. Default (0.02, 0.08).
    refractory : float
        Minimum time between twitch onsets at one site, s. Default 0.2.
    acc_noise_rms : float
        Accelerometer sensor noise RMS, m/s². Default 0.005.
    acc_amplitude : (float, float)
        Peak acceleration of a twitch jolt for the strongest twitches, m/s², log-uniform;
        scaled with the twitch's EMG amplitude. Default (0.02, 1.0).
    acc_freq : (float, float)
        Frequency of the damped jolt, Hz. Default (8, 30).
    acc_duration : (float, float)
        Duration of the jolt (to 5 % of its envelope), s. Default (0.05, 0.30).
    emd : (float, float)
        Electromechanical delay of the jolt after the EMG onset, s. Default (0.01, 0.04).
    breathing_amplitude : float
        Respiration movement on the accelerometer, m/s². Default 0.02.
    crosstalk_db : (float, float)
        Level of a twitch on the neighbouring muscle's channel, dB. Default (-25, -12).
    mains_hz : float | None
        50 or 60 to add mains hum with odd harmonics; None for none.
    mains_amplitude : float
        Amplitude of the fundamental, V (drifts ±30 %). Default 10 µV.
    wander_amplitude : float
        Baseline wander (0.05-2 Hz) amplitude, V. Default 0.
    needle_spike_prob : float
        Probability of a needle-contact spike (1-3 ms) at each needle pass. Default 0.
    needle_spike_amplitude : (float, float)
        Peak of a needle spike, V. Default (100e-6, 1e-3).
    pop_rate : float
        Electrode pops (step then exponential decay) per minute. Default 0.
    pop_amplitude : (float, float)
        Pop step, V. Default (0.3e-3, 3e-3).
    motion_prob : float
        Probability of a cable-motion transient at a needle pass (hundreds of ms, < 20 Hz,
        on EMG and accelerometer). Default 0.
    motion_amplitude : (float, float)
        Peak of a motion transient on EMG, V. Default (50e-6, 400e-6).
    ecg_bpm : (float, float) | None
        Heart rate range for ECG on trunk-muscle EMG; None for none.
    ecg_amplitude : float
        R-wave amplitude, V. Default 150 µV.
    contraction_rate : float
        Sustained voluntary contractions (1-5 s) per minute. Default 0.
    contraction_snr_db : (float, float)
        RMS of a contraction over the baseline, dB. Default (10, 30).
    hand_pressure_rate : float
        Movements of the clinician's hand on the accelerometer per minute. Default 0.
    hand_pressure_amplitude : (float, float)
        Peak of a hand-pressure movement, m/s². Default (0.1, 1.0).
    single_mup_rate : float
        Isolated motor-unit potentials (fasciculation-like) per minute. Default 0.
    clip_range : float | None
        Amplifier range, V: EMG beyond ±clip_range is clipped. None for no clipping.
    ecg_qrs_snr : (float, float) | None
        Faint-through-strong heartbeat: when set, the ECG gain is chosen so that the QRS
        peak *after the 20-450 Hz band-pass* is this many times the band-passed baseline
        RMS (one draw per session), overriding ``ecg_amplitude``. ``(2, 3)`` is the faint
        heartbeat of trapezius, quadratus lumborum and paraspinal recordings. Default None.
    endplate_noise_prob : float
        Probability that the needle sits in an endplate zone during a needle-in epoch, which
        then carries endplate noise throughout (on the needled muscle's channel). Default 0.
    endplate_noise_rate : (float, float)
        Endplate-noise potentials per second (Poisson; one rate per epoch). Default
        (200, 600): hundreds per second (Simons et al. 2002).
    endplate_noise_amplitude : (float, float)
        Peak of a (monophasic, negative, 1-2 ms) endplate-noise potential, in multiples of
        ``noise_rms``. Default (2, 5): a few times the baseline.
    endplate_train_rate : float
        Trains of endplate spikes per minute of needle-in time. Default 0.
    endplate_train_duration : (float, float)
        Length of a train, s. Default (1, 6).
    endplate_train_firing : (float, float)
        Mean firing rate of a train, Hz (intervals scatter irregularly around it).
        Default (5, 40).
    endplate_spike_amplitude : (float, float)
        Peak of an endplate spike (biphasic, negative first, 3-5 ms), in multiples of
        ``noise_rms``. Default (15, 50).
    endplate_on_twitch : float
        Share of trains placed over a twitch (a twitch on top of a train). Default 0.
    tremor_rate : float
        Tremor episodes on the accelerometer per minute. Default 0.
    tremor_freq : (float, float)
        Tremor frequency, Hz. Default (4, 7); the literature gives 4-12 Hz.
    tremor_duration : (float, float)
        Length of an episode, s. Default (2, 8).
    tremor_amplitude : (float, float)
        Peak acceleration of the tremor, m/s². Default 0.02-0.1 g.
    tremor_on_twitch : float
        Share of tremor episodes placed over a twitch. Default 0.
    movement_burst_rate : float
        Large genuine bursts with a movement step per minute of needle-in time: they are
        twitches (logged in ``truth.twitches`` and counted) whose limb movement also steps
        the baseline (logged as ``movement_step``). Default 0.
    movement_burst_amplitude : (float, float)
        Peak of the burst, V. Default (0.8e-3, 1.2e-3).
    movement_burst_duration : (float, float)
        Length of the burst, s. Default (0.3, 0.6).
    movement_step_amplitude : (float, float)
        Baseline step under the burst, V (decays over 0.5-3 s as the electrode settles).
        Default (0.2e-3, 1.0e-3) *(assumed)*.
    quiet_gap_prob : float
        Probability that a pause between insertions is a long quiet gap (logged as
        ``quiet_gap``). Quiet gaps move the later epochs, as any schedule change does.
        Default 0.
    quiet_gap_duration : (float, float)
        Length of a quiet gap, s. Default (60, 300).
    """

    noise_rms: float = 3e-6
    pink_fraction: float = 0.3
    snr_db: Range = (0.0, 24.0)
    duration_median: float = 0.08
    duration_sigma: float = 0.45
    duration_range: Range = (0.02, 0.30)
    firing_rate: Range = (120.0, 400.0)
    n_units: tuple[int, int] = (2, 8)
    muap_duration: Range = (0.002, 0.015)
    snr_jitter_db: float = 2.0
    habituation: Range = (0.88, 1.0)
    epoch_duration: Range = (15.0, 45.0)
    gap_duration: Range = (4.0, 12.0)
    pass_interval: Range = (0.25, 1.0)
    p_enter_target: float = 0.06
    p_stay_target: float = 0.65
    p_twitch: float = 0.85
    latency: Range = (0.02, 0.08)
    refractory: float = 0.2
    acc_noise_rms: float = 0.005
    acc_amplitude: Range = (0.02, 1.0)
    acc_freq: Range = (8.0, 30.0)
    acc_duration: Range = (0.05, 0.30)
    emd: Range = (0.01, 0.04)
    breathing_amplitude: float = 0.02
    crosstalk_db: Range = (-25.0, -12.0)
    mains_hz: float | None = None
    mains_amplitude: float = 10e-6
    wander_amplitude: float = 0.0
    needle_spike_prob: float = 0.0
    needle_spike_amplitude: Range = (100e-6, 1e-3)
    pop_rate: float = 0.0
    pop_amplitude: Range = (0.3e-3, 3e-3)
    motion_prob: float = 0.0
    motion_amplitude: Range = (50e-6, 400e-6)
    ecg_bpm: Range | None = None
    ecg_amplitude: float = 150e-6
    contraction_rate: float = 0.0
    contraction_snr_db: Range = (10.0, 30.0)
    hand_pressure_rate: float = 0.0
    hand_pressure_amplitude: Range = (0.1, 1.0)
    single_mup_rate: float = 0.0
    clip_range: float | None = None
    ecg_qrs_snr: Range | None = None
    endplate_noise_prob: float = 0.0
    endplate_noise_rate: Range = (200.0, 600.0)
    endplate_noise_amplitude: Range = (2.0, 5.0)
    endplate_train_rate: float = 0.0
    endplate_train_duration: Range = (1.0, 6.0)
    endplate_train_firing: Range = (5.0, 40.0)
    endplate_spike_amplitude: Range = (15.0, 50.0)
    endplate_on_twitch: float = 0.0
    tremor_rate: float = 0.0
    tremor_freq: Range = (4.0, 7.0)
    tremor_duration: Range = (2.0, 8.0)
    tremor_amplitude: Range = (0.02 * 9.80665, 0.1 * 9.80665)
    tremor_on_twitch: float = 0.0
    movement_burst_rate: float = 0.0
    movement_burst_amplitude: Range = (0.8e-3, 1.2e-3)
    movement_burst_duration: Range = (0.3, 0.6)
    movement_step_amplitude: Range = (0.2e-3, 1.0e-3)
    quiet_gap_prob: float = 0.0
    quiet_gap_duration: Range = (60.0, 300.0)
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "extra":
                continue
            if isinstance(value, tuple):
                if len(value) != 2 or not value[0] <= value[1]:
                    raise ValueError(f"{f.name} must be a (low, high) pair with low <= high, "
                                     f"got {value!r}")
                if f.name not in ("snr_db", "crosstalk_db", "contraction_snr_db") and value[0] < 0:
                    raise ValueError(f"{f.name} must not be negative, got {value!r}")
            elif isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"{f.name} must be >= 0, got {value!r}")
        for name in ("p_enter_target", "p_stay_target", "p_twitch", "needle_spike_prob",
                     "motion_prob", "pink_fraction", "endplate_noise_prob",
                     "endplate_on_twitch", "tremor_on_twitch", "quiet_gap_prob"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be a probability in [0, 1], got "
                                 f"{getattr(self, name)!r}")
        if self.mains_hz not in (None, 50, 60, 50.0, 60.0):
            raise ValueError(f"mains_hz must be None, 50 or 60, got {self.mains_hz!r}")
        if self.noise_rms <= 0:
            raise ValueError(f"noise_rms must be > 0, got {self.noise_rms!r}")

    @classmethod
    def from_kwargs(cls, **conditions: Any) -> SimulationConfig:
        """Build from keyword conditions, naming unknown keys and converting lists to tuples."""
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        unknown = sorted(set(conditions) - names)
        if unknown:
            raise TypeError(f"unknown simulation parameter(s) {unknown}; valid: {sorted(names)}")
        fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in conditions.items()}
        return cls(**fixed)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-serialisable dict.

        Parameters added after truth files were first shipped (:data:`ADDED_FIELDS`) are
        left out while they hold their default (the phenomenon is off or unchanged), so a
        session that does not use them writes the same truth as before they existed.
        """
        d = dataclasses.asdict(self)
        d.pop("extra")
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()
                if not (k in ADDED_FIELDS and v == defaults[k])}
