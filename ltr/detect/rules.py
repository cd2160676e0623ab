"""The rejection rule table: one named function per look-alike, in order of precedence.

Each rule is a function of the candidates of one channel and their context
(:class:`Candidates`) and the thresholds (:class:`~ltr.detect.config.RejectConfig`),
returning a boolean mask: True where the candidate is turned away. A table is a list of
:class:`Rule` (rule name, reason, function); :func:`judge` gives each candidate the
reason of the *first* rule that turns it away, so the order of the table is the
precedence. Every reason is one entry of :data:`REASONS`, which results, figures and
reports show to users.

Like :func:`scipy.signal.find_peaks`, the properties are computed once as arrays (the
features of :func:`ltr.detect.core.segment_features`, and the context such as
heartbeats and level steps) and every rule is a comparison of those arrays with its
thresholds: nothing loops over candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .config import RejectConfig, UsConfig


# -- the reasons registry ---------------------------------------------------------------
@dataclass(frozen=True)
class Reason:
    """Why a candidate was turned away, as shown to users."""

    name: str
    """Short name stored in the results (``rejected["reason"]``)."""
    description: str
    """One sentence for reports and figure legends."""
    color: str
    """Matplotlib colour of the reason in figures."""


#: Every reason a candidate can be turned away for, by name (the order of first use).
REASONS: dict[str, Reason] = {r.name: r for r in (
    Reason("clipping", "touches a saturated rail of the amplifier or converter",
           "black"),
    Reason("pop", "electrode pop: a one-sample jump that leaves the level shifted",
           "tab:purple"),
    Reason("contraction", "part of a sustained (voluntary) contraction, reported apart",
           "tab:orange"),
    Reason("needle_spike", "needle-contact spike: a lone, sharp transient of 1-3 ms",
           "tab:red"),
    Reason("single_mup", "a lone motor-unit potential: 90 % of its energy within 10 ms",
           "tab:cyan"),
    Reason("ecg", "heartbeat (ECG) residue at an R peak", "tab:pink"),
    Reason("motion", "low-frequency motion artifact (cable or needle movement), or an "
           "accelerometer event while the EMG leads moved (or a jolt inside a hand "
           "movement with no EMG burst)", "tab:brown"),
    Reason("movement", "accelerometer movement (hand pressure, flinch), not a twitch's "
           "jolt", "tab:olive"),
    Reason("low_confidence", "a twitch whose calibrated confidence is below the "
           "--min-confidence asked for (TwitchResults.filter)", "tab:gray"),
    Reason("background", "does not stand out from the background of the seconds around "
           "it (the hiss of endplate noise where the needle sits in an endplate zone)",
           "slateblue"),
    Reason("tremor", "what is left of accelerometer tremor where an episode fades in or "
           "out, not a jolt", "darkkhaki"),
    Reason("reviewer", "a detected twitch that a human reviewer judged not to be one "
           "(ltr review)", "sienna"),
    # ultrasound (channels of kind "us")
    Reason("probe_motion", "ultrasound: the whole field moved together (probe or patient "
           "movement)", "tab:blue"),
    Reason("needle", "ultrasound: motion along the needle track (insertion or "
           "manipulation)", "firebrick"),
    Reason("frame_freeze", "ultrasound: beside a repeated (frozen) frame or a catch-up "
           "after it", "dimgray"),
    Reason("breathing", "ultrasound: slow tissue motion (breathing, drift), longer than "
           "a twitch", "yellowgreen"),
    Reason("pulsation", "ultrasound: local motion recurring at a heart rhythm (arterial "
           "pulsation)", "orchid"),
    Reason("outside_recording", "ultrasound: a twitch of a fused clip outside the "
           "recording's time span (the clip runs past it): not counted", "lightgray"),
)}
#: The reason of a fused clip's twitches outside the recording (:func:`ltr.sync.fuse_clip`).
OUTSIDE = REASONS["outside_recording"].name


#: The reason of an accelerometer event vetoed by movement on the EMG leads (fusion).
VETO = REASONS["motion"].name
#: Look-alikes that mark needling activity: without annotations or a trigger channel,
#: epochs come from them and the twitches (:func:`ltr.segment.epochs_from_activity`).
NEEDLING = (REASONS["needle_spike"].name, REASONS["motion"].name, REASONS["pop"].name,
            REASONS["needle"].name)
#: The reason of accelerometer movements (and what is left of one cut around a jolt).
MOVEMENT = REASONS["movement"].name
#: The reason whose candidates are reported as contractions rather than rejected.
CONTRACTION = REASONS["contraction"].name


def describe(reason: str) -> str:
    """The user-facing description of a reason (the name itself when unknown)."""
    r = REASONS.get(str(reason))
    return r.description if r is not None else str(reason)


# -- candidates and their context -------------------------------------------------------
_NONE = np.zeros(0, dtype=int)


@dataclass
class Candidates:
    """The candidates of one channel and what the rules look at.

    Attributes
    ----------
    onset, offset : ndarray of int
        Samples, offset exclusive.
    sfreq : float
        Rate of ``onset``/``offset``, Hz.
    features : dict of ndarray
        Per-candidate features (:func:`ltr.detect.core.segment_features` and those the
        front end adds: ``rise_half``, ``low_ratio``, ``raw_max_k``/``raw_min_k``;
        ``jolt_piece`` > 0 for an accelerometer jolt cut out of a movement candidate,
        :attr:`ltr.detect.config.AccConfig.jolt_band`).
    floor : ndarray
        Noise floor (RMS) at each onset.
    steps : ndarray of int
        Sorted samples of electrode pops (level steps) near the candidates.
    step_shift : ndarray
        The level shift at each of ``steps`` (raw units, absolute).
    step_energy : float | None
        Energy (sum of squares) of the channel's band-passed response to a unit step
        (None: not computed, and the pop rule does not weigh energies).
    beats : ndarray of int
        Sorted R peaks (samples) of the channel's heartbeat, empty without one.
    energy_before, energy_after : ndarray | None
        Energy of each candidate before and after heartbeat subtraction (None when no
        beat template is settled).
    ecg_residue : float | None
        What subtraction typically leaves of a beat's energy on this channel.
    beat_z : ndarray | None
        For candidates confined to ``ecg_window`` s around an R peak, how many robust
        standard deviations the energy left there exceeds an ordinary beat's (+inf
        elsewhere; None without a settled beat template).
    rails : list of (float | None, float | None)
        Saturation rails (top, bottom) of each raw channel; empty until the whole
        channel has been seen.
    """

    onset: np.ndarray
    offset: np.ndarray
    sfreq: float
    features: dict[str, np.ndarray]
    floor: np.ndarray
    steps: np.ndarray = field(default_factory=lambda: _NONE)
    step_shift: np.ndarray = field(default_factory=lambda: np.zeros(0))
    step_energy: float | None = None
    beats: np.ndarray = field(default_factory=lambda: _NONE)
    energy_before: np.ndarray | None = None
    energy_after: np.ndarray | None = None
    ecg_residue: float | None = None
    beat_z: np.ndarray | None = None
    rails: Sequence[tuple[float | None, float | None]] = ()

    @property
    def duration(self) -> np.ndarray:
        """Seconds, onset to offset."""
        return (self.offset - self.onset) / self.sfreq


def near(points: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Whether any of the sorted ``points`` lies in each ``[lo, hi]``."""
    if points.size == 0:
        return np.zeros(lo.size, bool)
    return np.searchsorted(points, hi, side="right") > np.searchsorted(points, lo, side="left")


def inside(starts: np.ndarray, stops: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Whether each ``t`` lies in one of the ``[start, stop]`` spans (starts sorted)."""
    if starts.size == 0:
        return np.zeros(t.size, bool)
    i = np.searchsorted(starts, t, side="right") - 1
    return (i >= 0) & (t <= stops[np.clip(i, 0, None)])


# -- the rules --------------------------------------------------------------------------
def clipping(c: Candidates, r: RejectConfig) -> np.ndarray:
    """The candidate's raw samples reach a saturated rail (``raw_max_k == top`` or
    ``raw_min_k == bottom`` for any raw channel ``k``): its shape is cut off. Decided once
    the whole channel has been seen (``c.rails``); blanked spikes (NaN extremes) keep
    their own reason."""
    clip = np.zeros(c.onset.size, bool)
    for k, (top, bottom) in enumerate(c.rails):
        hi = c.features.get(f"raw_max_{k}")
        lo = c.features.get(f"raw_min_{k}")
        if hi is None or lo is None:
            continue
        if top is not None:
            clip |= hi == top
        if bottom is not None:
            clip |= lo == bottom
    return clip


def pop(c: Candidates, r: RejectConfig) -> np.ndarray:
    """An electrode pop (``c.steps``, see :func:`ltr.detect._channel.find_steps`) lies
    within ``r.pop_margin`` s of the candidate and its level shift is at least
    ``r.pop_explains`` × the candidate's peak in the EMG band (``amplitude``): the
    candidate is the pop's own transient (and, with ``c.step_energy``, the step explains
    its energy: :func:`step_explains`). A genuine burst during which the limb moved and
    the baseline stepped is larger than its step and is kept."""
    m = int(r.pop_margin * c.sfreq)
    hit = near(c.steps, c.onset - m, c.offset + m)
    if not hit.any() or c.step_shift.size != c.steps.size:
        return hit
    # the largest shift among the steps near each candidate
    lo = np.searchsorted(c.steps, c.onset - m, side="left")
    hi = np.searchsorted(c.steps, c.offset + m, side="right")
    top = np.zeros(c.onset.size)
    for i in np.flatnonzero(hit):  # a loop over the few candidates beside a pop
        top[i] = c.step_shift[lo[i]:hi[i]].max()
    explains = hit & (top >= r.pop_explains * c.features["amplitude"])
    if c.step_energy is not None:
        explains &= step_explains(top, c, r)
    return explains


def step_explains(shift: np.ndarray, c: Candidates, r: RejectConfig) -> np.ndarray:
    """Whether the band-passed response of a level step of ``shift`` (one per candidate)
    holds at least ``r.pop_energy`` of the candidate's energy (``rms² × samples``): the
    candidate is the step's own transient, not a burst during which the baseline
    stepped (a ballistic burst of 0.3-0.6 s holds many times its step's energy)."""
    energy = c.features["rms"] ** 2 * (c.offset - c.onset)
    with np.errstate(invalid="ignore"):
        return shift**2 * (c.step_energy or 0.0) >= r.pop_energy * energy


def dense(c: Candidates, r: RejectConfig) -> np.ndarray:
    """Candidates of dense, sustained activity (a voluntary contraction that the
    envelope crosses on and off): runs of candidates separated by less than
    ``r.dense_gap`` s that last longer than ``r.max_duration`` and are active at least
    ``r.dense_duty`` of the time. Twitches while fanning leave longer quiet gaps."""
    onset, offset, sfreq = c.onset, c.offset, c.sfreq
    out = np.zeros(onset.size, bool)
    if onset.size < 2:
        return out
    new = np.r_[True, (onset[1:] - offset[:-1]) / sfreq >= r.dense_gap]
    group = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, onset.size - 1]
    span = (offset[last] - onset[first]) / sfreq
    active = np.add.reduceat(offset - onset, first) / sfreq
    sustained = (last > first) & (span > r.max_duration) & (active >= r.dense_duty * span)
    return sustained[group]


def _riders(c: Candidates) -> np.ndarray:
    """Twitches cut out of a contraction they rode on (``rider`` > 0,
    :attr:`RejectConfig.rider_ratio`), which the contraction and background rules leave
    alone."""
    rider = c.features.get("rider")
    return np.zeros(c.onset.size, bool) if rider is None else rider > 0


def sustained(c: Candidates, r: RejectConfig) -> np.ndarray:
    """Longer than ``r.max_duration`` s (:func:`long_energy`), or part of a dense run
    (:func:`dense`): a sustained contraction. An LTR lasts 20-300 ms, a ballistic burst
    with a movement step up to 0.6 s, a contraction 0.5-5 s. Not a twitch cut out of
    a contraction (``rider`` > 0): what is left of that contraction stays one."""
    return (long_energy(c, r) | dense(c, r)) & ~_riders(c)


def long_energy(c: Candidates, r: RejectConfig) -> np.ndarray:
    """Both the candidate (onset to offset) and the span holding the central 90 % of its
    energy (``burst``) last longer than ``r.max_duration`` s. Where the envelope crosses
    the threshold depends on the SNR: a 1-mV ballistic burst of 0.3-0.6 s over a µV
    floor stays above it for 0.6-0.8 s on its weak first and last potentials, while its
    energy span stays 0.3-0.5 s. A contraction's energy is spread over its plateau and
    ramps (energy span 0.7 s and more for the 1-5-s contractions of the development
    seeds). The weak tails stretch the span only when the peak stands far above the
    floor, so below ``r.ballistic_snr_db`` the span alone decides."""
    compact = ((c.features["burst"] <= r.max_duration)
               & (c.features["snr_db"] >= r.ballistic_snr_db))
    return (c.duration > r.max_duration) & ~compact


def contraction_fragment(c: Candidates, r: RejectConfig) -> np.ndarray:
    """Within ``r.contraction_margin`` s of a sustained contraction (:func:`sustained`)
    and not ``r.rider_ratio`` × stronger (RMS) than every contraction it is near: a
    fragment of its ramps, which are weaker than its plateau. Not a twitch cut out of a
    contraction it rode on (``rider`` > 0), nor a burst just beside one that stands
    above it by the rider ratio: a 1-mV ballistic burst 0.3 s before a 20-µV guarding
    contraction is not the contraction's ramp."""
    long_ = sustained(c, r)
    out = np.zeros(c.onset.size, bool)
    if long_.any():
        m = int(r.contraction_margin * c.sfreq)
        order = np.argsort(c.onset[long_], kind="stable")
        c_on, c_off = c.onset[long_][order] - m, c.offset[long_][order] + m
        level = c.features["rms"][long_][order]
        # the contractions whose widened span [c_on, c_off] meets each candidate: they
        # do not overlap one another, so they are a run of the sorted ones
        lo = np.searchsorted(c_off, c.onset, side="left")
        hi = np.searchsorted(c_on, c.offset, side="right")
        out = hi > lo
        strongest = np.zeros(c.onset.size)
        for k in np.flatnonzero(out):  # a loop over candidates beside a contraction
            strongest[k] = level[lo[k]:hi[k]].max()
        if r.rider_ratio > 0:
            out &= ~(c.features["rms"] > r.rider_ratio * strongest)
    return out & ~_riders(c)


def _short_burst(c: Candidates, r: RejectConfig) -> np.ndarray:
    return c.features["burst"] < r.min_burst


def needle_spike(c: Candidates, r: RejectConfig) -> np.ndarray:
    """90 % of the energy within ``r.min_burst`` s and a crest factor (peak / RMS) of
    at least ``r.spike_crest``: a needle-contact spike that was not blanked."""
    return _short_burst(c, r) & (c.features["crest"] >= r.spike_crest)


def single_mup(c: Candidates, r: RejectConfig) -> np.ndarray:
    """90 % of the energy within ``r.min_burst`` s: one motor-unit potential (2-15 ms)
    rather than a train of them (an LTR)."""
    return _short_burst(c, r)


def _low(c: Candidates, r: RejectConfig) -> np.ndarray:
    """Median frequency below ``r.min_median_freq`` with no EMG-band content above
    ``r.high_band_ratio`` × floor riding on it."""
    emg_inside = c.features["high_rms"] > r.high_band_ratio * c.floor
    return (c.features["median_freq"] < r.min_median_freq) & ~emg_inside


def _at_beat(c: Candidates, r: RejectConfig) -> np.ndarray:
    w = int(r.ecg_window * c.sfreq)
    return near(c.beats, c.onset - w, c.offset + w)


def ecg_residue(c: Candidates, r: RejectConfig) -> np.ndarray:
    """Within ``r.ecg_window`` s of an R peak, and the energy left after subtracting the
    beat template is below ``min(r.ecg_explained, r.ecg_residue_factor × typical
    residue)`` of the energy before: what subtraction typically leaves of a beat."""
    if c.energy_before is None or c.energy_after is None or c.ecg_residue is None:
        return np.zeros(c.onset.size, bool)
    limit = min(r.ecg_explained, r.ecg_residue_factor * c.ecg_residue)
    return _at_beat(c, r) & (c.energy_after < limit * c.energy_before)


def ordinary_beat(c: Candidates, r: RejectConfig) -> np.ndarray:
    """Confined to ``r.ecg_window`` s around an R peak, with less energy left there after
    subtraction than ``r.ecg_beat_z`` robust standard deviations above what the channel's
    ordinary beats leave (``beat_z``): a heartbeat, however faint."""
    if c.beat_z is None:
        return np.zeros(c.onset.size, bool)
    return c.beat_z < r.ecg_beat_z


def ecg_low_frequency(c: Candidates, r: RejectConfig) -> np.ndarray:
    """Low-frequency content (:func:`low_frequency`) within ``r.ecg_window`` s of an R
    peak: the heartbeat's slow waves."""
    return _low(c, r) & _at_beat(c, r)


def low_frequency(c: Candidates, r: RejectConfig) -> np.ndarray:
    """Median frequency below ``r.min_median_freq`` Hz (twitch potentials have most
    energy above 50 Hz) unless the content above ``r.high_band`` Hz alone exceeds
    ``r.high_band_ratio`` × the noise floor (a twitch riding on a motion transient is
    kept): motion residue."""
    return _low(c, r)


def background(c: Candidates, r: RejectConfig) -> np.ndarray:
    """The candidate's peak detection envelope (``env_peak``) is below
    ``r.background_ratio`` × the background of the seconds around it, or below that
    background plus ``r.background_sigma`` × its spread (``background``,
    ``background_spread``: the median envelope over ``r.background_span`` before the
    onset or after the offset, whichever is higher, and how much it fluctuates), where
    that limit is at least ``r.background_raised`` × the on threshold the candidate
    cleared (``on_threshold``): a fluctuation of a raised, continuous background, such as the
    hiss of endplate noise (monophasic potentials of 1-2 ms, hundreds a second) while
    the needle sits in an endplate zone, that the running floor (a median over 20 s
    that mixes the hiss with the quiet pauses between insertions) stands below. A
    twitch stands out from the background on both sides of it, hiss or not. Not for
    a twitch cut out of a contraction (``rider`` > 0): one side is the contraction, and
    the rider already stands ``r.rider_ratio`` × above the level around it."""
    bg = c.features.get("background")
    if bg is None or r.background_ratio <= 0:
        return np.zeros(c.onset.size, bool)
    limit = r.background_ratio * bg
    sd = c.features.get("background_spread")
    if sd is not None:
        limit = np.fmax(limit, bg + r.background_sigma * sd)
    with np.errstate(invalid="ignore"):  # NaN (no background either side): kept
        on = c.features.get("on_threshold", c.floor)
        raised = limit >= r.background_raised * on
        return raised & (c.features["env_peak"] < limit) & ~_riders(c)


def tremor_residue(c: Candidates, r: RejectConfig) -> np.ndarray:
    """An accelerometer candidate whose peak is below ``r.acc_tremor_residue`` × the
    amplitude of the tremor fitted around it (``tremor_amp``: within half a tremor
    spectral window,
    :func:`ltr.preprocess.remove_tremor`), where that tremor fades in or out (its fitted
    amplitude changes by at least ``r.acc_tremor_fade`` of its top over the candidate
    and a fit window either side, ``tremor_fade``): the fit cannot follow a fade exactly
    and leaves a few per cent of the tremor there; something that small cannot be told
    from that residue. Inside a steady episode the fit leaves noise only, and small
    jolts there are judged like any other."""
    tremor = c.features.get("tremor_amp")
    if tremor is None:  # no tremor measured (tremor removal off): nothing to judge by
        return np.zeros(c.onset.size, bool)
    fade = c.features.get("tremor_fade", np.ones(c.onset.size))
    return ((c.features["amplitude"] < r.acc_tremor_residue * tremor)
            & (fade >= r.acc_tremor_fade))


def long_jolt(c: Candidates, r: RejectConfig) -> np.ndarray:
    """An accelerometer candidate longer than ``r.acc_max_duration`` s (hand pressure,
    flinch), not a jolt."""
    return c.duration > r.acc_max_duration


def slow_rise(c: Candidates, r: RejectConfig) -> np.ndarray:
    """Short envelope taking longer than ``r.acc_max_rise`` s from onset to half its
    peak (``rise_half``): a jolt of 8 Hz or more swings to half its size within half a
    cycle, a hand or cable movement swells slowly."""
    return c.features["rise_half"] > r.acc_max_rise


def slow_content(c: Candidates, r: RejectConfig) -> np.ndarray:
    """More than ``r.acc_low_ratio`` × the twitch-band content in the movement band
    (``low_ratio``, :attr:`RejectConfig.acc_low_band`). Not for a jolt cut out of a
    movement candidate (``jolt_piece``): found in the jolt band, above the movement's
    reach, its movement-band content is the movement's around it; its length and rise
    (in the jolt band) are still judged."""
    piece = c.features.get("jolt_piece", np.zeros(c.onset.size)) > 0
    return (c.features["low_ratio"] > r.acc_low_ratio) & ~piece


# -- the tables -------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """One row of a rule table: a named test and the reason it gives."""

    name: str
    reason: str
    test: Callable[[Candidates, RejectConfig], np.ndarray]

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise ValueError(f"rule {self.name!r}: unknown reason {self.reason!r}; "
                             f"known: {list(REASONS)}")

    @property
    def description(self) -> str:
        """The rule's documentation (its function's first paragraph)."""
        return " ".join((self.test.__doc__ or "").split("\n\n")[0].split())


#: EMG rules in order of precedence. ``clipping`` is first: it is decided once the whole
#: channel has been seen (:func:`ltr.detect._channel.mark_clipping`) and replaces any
#: other reason.
EMG_RULES: tuple[Rule, ...] = (
    Rule("clipping", "clipping", clipping),
    # a heartbeat first: at 250 Hz a QRS complex is a few samples and looks like a step
    Rule("ecg_residue", "ecg", ecg_residue),
    Rule("ordinary_beat", "ecg", ordinary_beat),
    Rule("pop", "pop", pop),
    Rule("sustained", "contraction", sustained),
    Rule("contraction_fragment", "contraction", contraction_fragment),
    Rule("needle_spike", "needle_spike", needle_spike),
    Rule("single_mup", "single_mup", single_mup),
    Rule("ecg_low_frequency", "ecg", ecg_low_frequency),
    Rule("low_frequency", "motion", low_frequency),
    Rule("background", "background", background),
)

#: Accelerometer rules in order of precedence (clipping as for EMG).
ACC_RULES: tuple[Rule, ...] = (
    Rule("clipping", "clipping", clipping),
    Rule("tremor_residue", "tremor", tremor_residue),
    Rule("long_jolt", "movement", long_jolt),
    Rule("slow_rise", "movement", slow_rise),
    Rule("slow_content", "movement", slow_content),
)


# -- ultrasound (kind "us") ---------------------------------------------------------------
# The ultrasound rules read the context features of :func:`ltr.detect._us.detect_us_channel`
# (``global_peak``, ``global_median``, ``needle_peak``, ``needle_median``, ``tip_move``,
# ``tip_span``, ``frozen``) and
# their thresholds from :class:`~ltr.detect.config.UsConfig`, passed where the other
# tables get the RejectConfig.
def us_probe_motion(c: Candidates, u: UsConfig) -> np.ndarray:
    """The whole field's coherent speed near the candidate (``global_peak``) exceeds
    ``u.probe_ratio`` × the candidate's peak local speed and ``u.probe_floor`` × its own
    median: the probe or the patient moved."""
    f = c.features
    return ((f["global_peak"] > u.probe_ratio * f["speed_peak"])
            & (f["global_peak"] > u.probe_floor * f["global_median"]))


def us_needle(c: Candidates, u: UsConfig) -> np.ndarray:
    """The needle was moved: its tip travelled at least ``u.tip_move`` px along its line
    around the candidate (``tip_move``), or the local speed along its shaft
    (``needle_peak``) exceeds ``u.needle_ratio`` × its median and ``u.needle_share`` ×
    the candidate's peak (the tissue dragged along the track)."""
    f = c.features
    drag = ((f["needle_peak"] > u.needle_ratio * f["needle_median"])
            & (f["needle_peak"] > u.needle_share * f["speed_peak"]))
    return drag | (f.get("tip_move", np.zeros(c.onset.size)) >= u.tip_move)


def us_needle_long(c: Candidates, u: UsConfig) -> np.ndarray:
    """The candidate lasts at least ``u.long_duration`` s and the needle's tip travelled
    at least ``u.long_span`` px within ``u.long_window`` s of it (``tip_span``): the
    tissue dragged by a manipulation (0.3-1 s), longer than a twitch (50-200 ms), whose
    tip travel the ``tip_move`` windows beside the candidate do not span."""
    span = c.features.get("tip_span", np.zeros(c.onset.size))
    return (c.duration >= u.long_duration) & (span >= u.long_span)


def us_freeze(c: Candidates, u: UsConfig) -> np.ndarray:
    """A repeated frame within ``u.margin`` s of the candidate (``frozen``)."""
    return c.features["frozen"] > 0


def us_slow(c: Candidates, u: UsConfig) -> np.ndarray:
    """Longer than ``u.max_duration`` s: breathing or drift, not a twitch."""
    return c.duration > u.max_duration


def us_pulsation(c: Candidates, u: UsConfig) -> np.ndarray:
    """Part of a run of at least ``u.pulse_count`` candidates whose intervals lie in
    ``u.pulse_period`` s and vary by less than ``u.pulse_cv`` (coefficient of variation
    over the run's intervals): arterial pulsation at the heart rate."""
    out = np.zeros(c.onset.size, bool)
    k = int(u.pulse_count)
    if c.onset.size < k or k < 2:
        return out
    t = c.onset / c.sfreq
    iv = np.diff(t)
    win = np.lib.stride_tricks.sliding_window_view(iv, k - 1)  # k - 1 intervals per run
    m = win.mean(axis=1)
    cv = win.std(axis=1) / np.maximum(m, 1e-12)
    lo, hi = u.pulse_period
    ok = (cv < u.pulse_cv) & (win.min(axis=1) >= lo) & (win.max(axis=1) <= hi)
    for s in np.flatnonzero(ok):  # a loop over the few regular runs
        out[s: s + k] = True
    return out


#: Ultrasound (``us``) rules in order of precedence; thresholds in
#: :class:`~ltr.detect.config.UsConfig`.
US_RULES: tuple[Rule, ...] = (
    Rule("us_freeze", "frame_freeze", us_freeze),  # type: ignore[arg-type]
    Rule("us_probe_motion", "probe_motion", us_probe_motion),  # type: ignore[arg-type]
    Rule("us_needle", "needle", us_needle),  # type: ignore[arg-type]
    Rule("us_needle_long", "needle", us_needle_long),  # type: ignore[arg-type]
    Rule("us_slow", "breathing", us_slow),  # type: ignore[arg-type]
    Rule("us_pulsation", "pulsation", us_pulsation),  # type: ignore[arg-type]
)


def judge(rules: Sequence[Rule], c: Candidates, r: RejectConfig) -> np.ndarray:
    """Each candidate's reason: that of the first rule turning it away ("" if none).

    Returns
    -------
    ndarray of object
        One reason name per candidate.
    """
    reason = np.full(c.onset.size, "", dtype=object)
    for rule in rules:  # a loop over the table's rows
        free = reason == ""
        if not free.any():
            break
        reason[free & rule.test(c, r)] = rule.reason
    return reason
