"""Detector parameters: one frozen dataclass per concern, with TOML input and output."""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._validate import check_option


@dataclass(frozen=True)
class EmgConfig:
    """EMG front end and thresholds.

    Attributes
    ----------
    band : (float, float)
        Band-pass edges, Hz (default 20-450, SENIAM-style surface EMG band). The upper
        edge is capped at 0.45 × sfreq, so 225 Hz at 500 Hz sampling; the edges used are
        stored in the results.
    filter_order : int
        Butterworth order per pass (zero-phase, so the response is squared).
    mains : bool
        Detect 50/60 Hz hum and harmonics from the spectrum and subtract them where they
        stand ``mains_prominence_db`` above their neighbourhood.
    mains_prominence_db : float
        Peak-over-neighbourhood ratio for a harmonic to be removed, dB.
    ecg : bool
        Detect periodic heartbeats and subtract them by template.
    ecg_max_shift : float
        Each heartbeat is aligned to the beat template (by cross-correlation) within
        ± this many seconds of the R peak found on the QRS-band energy before it is
        subtracted (:func:`ltr.preprocess.subtract_ecg`). That energy often has two
        humps per beat (the R and S waves, 20-40 ms apart): when the QRS is faint the
        larger hump changes from beat to beat under the noise, and a beat aligned only
        within the last few ms is left whole, to be detected as a twitch.
    ecg_fill : float
        A faint beat next to something larger (a needle spike, a motor-unit potential,
        a twitch) is hidden from the R-peak finder, which keeps the largest peak of the
        QRS-band energy within 0.6 RR, and its beat is left whole. The rhythm finds it
        again: in a gap of a whole number of RR between two beats, the energy's local
        maximum nearest each expected beat, within ``ecg_fill`` × RR of it, is a beat
        (:func:`ltr.preprocess.beats`; 0 turns this off).
    ecg_clip : float
        While each beat's alignment and gain are fitted, samples beyond this many times
        the template's peak are limited to it (0: not). A beat varies by tens of per
        cent around the median beat, not by several times; a needle spike (blanked only
        later) or a large motor-unit potential in the 0.4-s window would otherwise
        steer the fit, and the beat subtracted with a wrong gain leaves a QRS-shaped
        residue.
    ecg_span : (float, float)
        Extent of the beat template before and after the R peak, s. The band-passed
        beat is the QRS (50-110 ms) spread by the zero-phase band-pass, whose response
        to it lasts a few periods of the lower edge either side (at 20 Hz, 2 % of the
        QRS peak is left 0.1 s before the R peak, 0.1 % at 0.16 s): a template cut
        shorter leaves that ringing of a strong beat (500 µV) standing above the noise.
    window : float
        Detection envelope: centred moving RMS window, s.
    onset_window : float
        Short envelope used to place onsets and offsets, s.
    on_ratio, off_ratio : float
        Hysteresis thresholds on the detection envelope as multiples of the running noise
        floor: a candidate starts above ``on_ratio`` × floor and lasts while the envelope
        stays above ``off_ratio`` × floor.
    edge_ratio : float
        Onset/offset placement: first/last sample of the candidate where the short
        envelope exceeds ``edge_ratio`` × its own floor.
    envelope : {"rms", "tkeo"}
        Envelope of the detection trace: moving RMS or Teager-Kaiser energy.
    max_lead : float
        A zero-phase band-pass answers a large, sharp change (a movement step of the
        baseline, mV against a µV floor) up to a few periods of its lower edge *before*
        it happens. Each onset is checked against the same band-pass run forward only
        (causal: it cannot answer before its input changes, :func:`ltr.detect._channel.
        causal_onsets`); when the causal short envelope first clears the edge threshold
        more than ``max_lead`` s after the zero-phase onset, the onset moves there.
        Default 8 ms: on ordinary bursts the two differ by the forward filter's group
        delay in the EMG band (1-4 ms at 50-200 Hz with a 20-Hz edge); a step's
        pre-response leads by 10-80 ms (measured on the ``movement_steps`` condition,
        development seeds). 0 turns the check off.
    lead_gap, lead_ratio, lead_min : float
        A weak lead-in is cut off a candidate's front
        (:func:`ltr.detect.core.trim_lead_ins`): where the short envelope pauses below
        the edge threshold for more than ``lead_gap`` s before the candidate's main
        burst, everything before the pause stays below ``lead_ratio`` × the burst's
        peak (amplitude), and the pause comes at least ``lead_min`` s after the onset,
        the onset moves past the pause. The operator's hand makes motion transients on
        the EMG leads, time-locked to the needle's movement (LTR-FACTS.md), and the
        twitch a pass elicits follows it by tens of ms (the simulator assumes 10-100
        ms). The transient, band-passed, leaves a residue 2-4 × the floor that the
        40-ms detection envelope glues to the twitch; the onset was placed at the
        transient, so the twitch was missed and a false one reported 50-200 ms early.
        On development seeds of the wild condition (0-199, SNR >= 0 dB), F1 0.918 ->
        0.921-0.922 (22-27 more twitches found, 23-33 fewer false ones) for every
        setting tried (gap 5-20 ms, ratio 0.25-0.4, lead 15-30 ms): a plateau, not a
        tuned value. Default 10 ms (longer than ``onset_window``, so a real pause),
        0.25 (a sixteenth of the burst's energy), 20 ms. ``lead_gap`` 0 turns it off.
    """

    band: tuple[float, float] = (20.0, 450.0)
    filter_order: int = 4
    mains: bool = True
    mains_prominence_db: float = 6.0
    ecg: bool = True
    ecg_max_shift: float = 0.04
    ecg_span: tuple[float, float] = (0.2, 0.2)
    ecg_fill: float = 0.2
    ecg_clip: float = 3.0
    window: float = 0.04
    onset_window: float = 0.008
    on_ratio: float = 1.8
    off_ratio: float = 1.3
    edge_ratio: float = 2.0
    envelope: str = "rms"
    max_lead: float = 0.008
    lead_gap: float = 0.01
    lead_ratio: float = 0.25
    lead_min: float = 0.02

    def __post_init__(self) -> None:
        check_option("emg.envelope", self.envelope, ("rms", "tkeo"))
        _check_ratios("emg", self.on_ratio, self.off_ratio)
        if self.lead_gap < 0 or self.lead_min < 0 or not 0 < self.lead_ratio <= 1:
            raise ValueError(f"emg: need lead_gap >= 0, lead_min >= 0 and 0 < lead_ratio "
                             f"<= 1, got lead_gap={self.lead_gap!r}, lead_min="
                             f"{self.lead_min!r}, lead_ratio={self.lead_ratio!r}")


@dataclass(frozen=True)
class AccConfig:
    """Accelerometer front end and thresholds (see :class:`EmgConfig` for the meanings).

    The default band 5-50 Hz keeps the 8-30 Hz twitch jolt and drops gravity, posture
    drift and breathing; the envelope window (60 ms) spans about one cycle of a 15 Hz
    jolt. ``split_gap`` and ``split_depth``: a candidate is cut between two envelope peaks
    at least ``split_gap`` s apart when the valley between them falls below
    ``split_depth`` × the smaller peak (successive jolts overlapping).

    Tremor (:func:`ltr.preprocess.find_tremor`, :func:`ltr.preprocess.remove_tremor`)
    passes the twitch band (4-12 Hz against a band starting at 5 Hz) and would otherwise
    become one long candidate that swallows the twitches under it. It is found where a
    ``tremor_window`` s window (default 2 s: eight cycles of a 4 Hz tremor, a main lobe
    of ±1 Hz, far longer than a 50-300 ms jolt) has a spectral peak in ``tremor_band``
    (default 3-12 Hz: tremor is 4-12 Hz, with a margin below) whose main lobe holds at
    least ``tremor_purity`` of the power from half the peak frequency to the top of the
    twitch band (default 0.35: a sinusoid gives nearly 1, white noise about 0.1; real
    hand tremor on a phone accelerometer, whose amplitude and frequency wander, gives
    0.4-0.6 (median about 0.5 on the PDKit recordings in ``../shared/data``, where 0.5
    found it only in patches and left pieces of it as false twitches); a falling
    background peaks at the band's edge, which does not count as a peak, and a long
    8-12 Hz jolt that passes is no sustained oscillation, see ``tremor_min_cycles``);
    ``tremor = false`` turns tremor removal off.
    There the tremor is fitted by least squares over ``tremor_cycles`` periods (default
    2: enough to pin a sinusoid whose amplitude changes, short enough to follow an
    episode fading in over a few tenths of a second) and subtracted. Beside a jolt the
    fit over the window ending (or starting) at a sample is used instead of the centred
    one, where the centred fit's residual over the half window ahead is more than
    ``tremor_asymmetry`` times that behind (or the other way round; default 4, a
    residual twice as large in amplitude: something arrives that is not tremor), so the
    jolt neither bends the tremor estimate nor leaks ahead of its onset. A stretch whose
    fitted amplitude stays above half its largest for fewer than ``tremor_min_cycles``
    periods (default 5: a Gaussian-windowed swing of hand pressure gives at most about
    3, a tremor episode of 2 s at 4 Hz about 7) is a single swing, not tremor, and is
    left alone; so is one whose median residual exceeds ``tremor_misfit`` of its median
    fitted amplitude (default 0.1: a steady line leaves noise, a few per cent of it;
    the real hand tremor of the PDKit phone recordings in ``../shared/data`` wanders
    from cycle to cycle, leaves 0.1-1 of itself and, removed, pieces of it looked like
    jolts; left alone it is one long movement, as before).

    ``jolt_band`` (default 20-50 Hz, the upper edge capped at 0.45 × the rate): a twitch
    often follows the needle pass that moved the operator's hand, and its jolt then
    shares a candidate with that movement, which the slow rules turn away whole
    (:func:`ltr.detect.rules.slow_rise`, ``slow_content``, ``long_jolt``). Inside each
    such movement candidate the signal is filtered to the jolt band alone, above the
    reach of the hand's motion transients (< 20 Hz, ``../shared/LTR-FACTS.md``), and a
    jolt found there (the twitch band's thresholds scaled to the band's width) is cut
    out and judged apart; the rest of the candidate stays a movement. 20 Hz sits on a
    plateau of the development seeds (acc-only wild sessions < 1000: F1 0.867 at 20,
    0.869 at 22, 0.870 at 25 Hz; 0.854 at 18 and 0.855 at 30, 0.830 at 16, 0.804
    without): lower edges let the movement's own spectral tail through as false jolts,
    higher ones lose the slower jolts. ``jolt_search = false`` turns the search off.
    """

    band: tuple[float, float] = (5.0, 50.0)
    filter_order: int = 4
    window: float = 0.06
    onset_window: float = 0.01
    on_ratio: float = 2.5
    off_ratio: float = 1.5
    edge_ratio: float = 2.0
    split_gap: float = 0.15
    split_depth: float = 0.5
    tremor_band: tuple[float, float] = (3.0, 12.0)
    tremor_window: float = 2.0
    tremor: bool = True
    tremor_purity: float = 0.35
    tremor_cycles: float = 2.0
    tremor_asymmetry: float = 4.0
    tremor_min_cycles: float = 5.0
    tremor_misfit: float = 0.1
    jolt_band: tuple[float, float] = (20.0, 50.0)
    jolt_search: bool = True

    def __post_init__(self) -> None:
        _check_ratios("acc", self.on_ratio, self.off_ratio)


@dataclass(frozen=True)
class FloorConfig:
    """Robust running noise floor.

    The envelope's median is taken over blocks of ``block`` s, then a running median of
    the block medians over ``window`` s: a twitch, a run of twitches or a contraction
    shorter than half the window does not lift the floor, while slow drifts of the
    resting background are followed.

    The same running median of each block's robust standard deviation (``spread``) guards
    the thresholds: the on threshold is at least ``floor + on_sigma × spread`` and the off
    threshold at least ``floor + off_sigma × spread``, whatever ``on_ratio``/``off_ratio``
    say. A narrow band (EMG at 500 Hz, a slow accelerometer) makes the background envelope
    fluctuate more, and the thresholds follow.
    """

    block: float = 0.5
    window: float = 20.0
    on_sigma: float = 6.0
    off_sigma: float = 2.5


@dataclass(frozen=True)
class SegmentConfig:
    """Turning threshold crossings into events.

    Attributes
    ----------
    merge_gap : float
        Quiet gaps shorter than this (s) join phases of one polyphasic burst; longer ones
        separate twitches.
    min_duration : float
        Candidates shorter than this (s, onset to offset) are dropped as noise.
    """

    merge_gap: float = 0.025
    min_duration: float = 0.005


@dataclass(frozen=True)
class RejectConfig:
    """Rules that turn look-alikes away, each with a named reason.

    Attributes
    ----------
    max_duration : float
        EMG candidates longer than this (s), onset to offset and by the span holding
        90 % of their energy, are sustained contractions, reported apart
        (:func:`ltr.detect.rules.long_energy`). Default 0.6 s: on the development seeds
        (wild 3-29 and the ``voluntary_contraction``/``movement_steps`` conditions)
        ballistic bursts with a movement step have energy spans of 0.33-0.50 s, and
        contractions 0.73 s and more.
    ballistic_snr_db : float
        The energy span speaks for a candidate longer than ``max_duration`` only at an
        SNR (``snr_db``) of at least this: a burst's weak first and last potentials
        stretch its span above threshold only when its peak stands far above the floor.
        Default 20 dB: the simulated ballistic bursts that outlast ``max_duration``
        (development seeds) have 41-47 dB and the real ones of emgGO (tibialis
        anterior, energy span 0.40-0.59 s) 28.5-32 dB, while the real recordings' other
        long candidates with a compact energy span, at 6 and 19 dB (biosppy ``emg_1``,
        c3d ``markers_analogs``), are weak sustained activity and stay contractions. A
        hypothesis from few real files: the gap it sits in is 19-28 dB.
    contraction_margin : float
        Candidates within this many seconds of a contraction are fragments of its ramps.
    rider_ratio, rider_off, rider_window : float
        A twitch riding on a sustained contraction (the needle reaches the trigger point
        while the patient guards) or just beside one is cut out of it: inside each
        contraction and each of its fragments, a run of the detection envelope above
        ``rider_off`` × the contraction's own level (the running median of its envelope
        over ``rider_window`` s, reaching past its edges) that reaches ``rider_ratio`` ×
        that level, and ``rider_ratio`` × the median envelope over half a window on
        either side of it (whichever is higher: the burst that opens a real contraction
        stands above the quiet before it only), becomes a candidate of its own
        (``rider`` > 0), judged by the rules like any other except the contraction and
        background rules; the rest stays a contraction. ``rider_ratio = 0`` turns the
        search off. Default 3.5: on development seeds (``voluntary_contraction``, seeds
        0-29, 401 twitches at >= 6 dB) the search cut misses from 59 to 45 at 2.5, 48 at
        3, 49 at 3.5, 50 at 4 and 52 at 5; at 2.5 it also found three "twitches" in the
        real voluntary contractions of ``../shared/data`` (biosppy ``emg_1``, c3d
        ``markers_analogs``: bursts opening a contraction, 2.6-3.0 × the level beside
        them), none from 3 up. ``rider_off`` (1.5) is the detection's own off ratio
        (:class:`EmgConfig`); ``rider_window`` (0.5 s) longer than a twitch and shorter
        than a contraction's plateau (misses 48, 49, 49, 54 at 0.3, 0.5, 0.8, 1.2 s).
    dense_gap, dense_duty : float
        Candidates separated by less than ``dense_gap`` s form a run; a run longer than
        ``max_duration`` that is active at least ``dense_duty`` of its span is a
        contraction too (a weak contraction's envelope crosses the threshold on and off).
    ecg_explained, ecg_residue_factor : float
        A candidate at a heartbeat is ECG residue when the energy left after subtracting
        the beat template is below ``ecg_residue_factor`` times what subtraction typically
        leaves of a beat on that channel (and at most ``ecg_explained`` of its energy
        before subtraction). Subtraction is near perfect at 2 kHz, coarse at 250 Hz.
    min_burst : float
        Shortest span (s) holding the central 90 % of a candidate's energy; shorter ones
        are a needle-contact spike or a lone motor-unit potential. An LTR is a train of
        potentials over 20-300 ms, while one motor-unit potential lasts 2-15 ms, so 90 %
        of its energy fits in about 10 ms.
    spike_isolation : float
        Needle spikes are blanked before detection where the RMS over ~2 ms is at least
        this many times the RMS of the surrounding ±20 ms (0 disables blanking).
    spike_min_ratio : float
        ... and at least this many times the noise floor.
    spike_crest : float
        Peak / RMS over a candidate above which a short candidate is a needle spike rather
        than a single motor-unit potential (only used to name the reason).
    min_median_freq : float
        EMG candidates whose median frequency is below this (Hz) are motion or ECG
        residue: twitch potentials have most energy above 50 Hz ...
    high_band_ratio : float
        ... unless their content above 60 Hz alone exceeds this many times the whole
        noise floor: a twitch riding on a motion transient is kept.
    pop_jump : float
        Electrode pops: a one-sample jump of the raw signal larger than this many robust
        standard deviations of the sample-to-sample difference (estimated over the
        calibration stretch) is examined ...
    pop_settle : (float, float)
        ... by comparing the mean level from ``pop_settle[0]`` to ``pop_settle[1]`` s
        after it with the same span before it (a needle spike or a motor-unit potential
        returns to baseline within a few ms, a pop does not) ...
    pop_hold : float
        ... which must differ by at least this fraction of the jump ...
    pop_step : float
        ... and by at least this many times the RMS sample-to-sample difference over
        those spans (the signal around a pop is smooth, the inside of an EMG burst is
        not). Up to ltr 0.1.0 this key was documented as a step relative to the candidate's
        peak but never read; the default keeps the detector's behaviour.
    pop_margin : float
        A pop within this many seconds of a candidate turns it away ...
    pop_explains : float
        ... when its level shift is at least this fraction of the candidate's peak in the
        EMG band: the band-passed transient of a step is about as high as the step, so a
        candidate made by a pop has ``shift / peak`` near 1, while a genuine burst during
        which the limb moved and the baseline stepped (real surface EMG: 0.8-1.2 mV
        bursts with a smaller step) stands well above its step.
    pop_energy : float
        ... and when the band-passed response of a step of that shift holds at least
        this fraction of the candidate's energy (``rms² × samples``). A pop's
        candidate is the filter's answer to the step and little else (fraction near 1);
        a ballistic burst of 0.3-0.6 s with a movement step carries many times the
        step's energy in the EMG band (fraction 0.015-0.03 on the hand-made bursts
        of ``tests/test_steps.py``: 1 mV, 0.4 s, 0.5-mV step), so it is kept even
        where the step is as high as the burst's peak. Default 0.1 (a burst holds an
        order of magnitude more than its step): the pops of the ``needle_artifacts``
        condition (development seeds 0-2) give 0.94-1.17; a 0.3-s stretch of giant
        motor-unit potentials with a step in the real ``emg_neuropathy`` recording
        gives 0.12 and stays a pop.
    ecg_beat_z : float
        A candidate lying within ``ecg_window`` s of an R peak is an ordinary heartbeat
        when the mean square left there after template subtraction exceeds that of the
        channel's calibration beats by less than this many robust standard deviations.
        This holds whatever the beat's size: when the QRS is faint (2-3x the baseline
        after the band-pass) subtraction leaves much of each beat, so the relative test
        (``ecg_explained``) cannot fire, while a twitch adds energy that ordinary beats
        do not have.
    ecg_window : float
        A candidate within this many seconds of an R peak is at a heartbeat (half a QRS
        complex and the filter's spread of it).
    high_band : float
        Lower edge (Hz) of the content counted by ``high_band_ratio``: above the 1-40 Hz
        of motion and ECG residue, within the twitch potentials' band.
    spike_window : float
        Span (s) of the needle-spike test's inner window (a needle contact lasts 1-3 ms)
        ...
    spike_ring : float
        ... and of the ring it is compared with (±20 ms) ...
    train_spike_window, train_spike_ring : float
        A second isolation test for longer lone spikes in a train: endplate spikes
        (biphasic, 3-5 ms, 15-50x the baseline, firing irregularly at 5-40 Hz for
        seconds; Simons' spontaneous electrical activity) sit too close together for the
        ±20 ms ring of the needle-spike test, but each stands alone within a few ms: the
        mean square over ``train_spike_window`` s must exceed ``train_isolation``²
        times that of the ring out to ``train_spike_ring`` s (full width) and
        ``spike_min_ratio`` × floor. 0 disables the test.
    train_isolation : float
        Isolation ratio of that test (amplitude; the needle-spike test uses
        ``spike_isolation``). Measured on development seeds of ``endplate`` (F1 0.76 at
        4, 0.79 at 3) and on the PhysioNet neuropathy needle EMG, whose giant motor-unit
        potentials during a voluntary contraction also fire as lone spikes: at 3 they
        were blanked and the contraction fell apart into three twitch-length bursts.
    train_gap, train_min_span, train_min_spikes : float, float, int
        Only spikes of a train are blanked by that test: runs of spikes each within
        ``train_gap`` s of the previous one (endplate spikes fire at 5-40 Hz, irregularly),
        spanning at least ``train_min_span`` s and holding at least ``train_min_spikes``
        spikes. The potentials of a twitch (20-300 ms) or of a large movement burst
        (< 0.6 s) never form such a run, so a twitch keeps its own potentials.
    train_match : float
        Spikes of a train that fire too close together for its isolation test (its
        firing is irregular: some intervals are a few ms) pass, two or three together,
        for a 20-70-ms burst of 20-30 dB. Every spike of a train comes from one endplate
        and has one waveform: the median of its isolated spikes. Any other extreme of
        the train's sign within it (or ``train_gap`` s of it) that reaches
        ``train_member_ratio`` × the train's median peak and correlates with that
        waveform (±``train_spike_window`` s) at least this much is blanked as one of its
        spikes (:func:`ltr.detect._channel.train_members`; each one found is subtracted
        and the search repeated once, so that two overlapping spikes are both found).
        0 disables it. Measured on development seeds (default 0.85): twitch-free
        endplate trains gave 5 false twitches an hour without it, 0 with it (one search
        alone: 4, 2, 1, 0 at 0.95, 0.9, 0.85, 0.8); on ``endplate`` F1 at >= 6 dB 0.924
        without, 0.934 with it (one search: 0.931, 0.937, 0.937, 0.932), at 0-6 dB
        0.520 without, 0.500 with it: the twitches lost are those whose event was the
        unblanked spikes themselves (amplitude 3-4 × the twitch's); wild F1 0.9158
        without, 0.9153 with it (150 sessions).
    train_member_ratio : float
        ... the least peak, as a fraction of the train's median peak, of a spike of the
        train (its spikes vary by ±15 % in the simulator; half leaves room for a real
        endplate's wider spread).
    spike_on_burst : bool
        Look beneath a candidate turned away as one transient (``needle_spike``,
        ``single_mup``): where its detection envelope still reaches the on threshold once
        the transient (``min_burst`` s either side of its peak) is removed as if it had
        never entered the band-pass, the transient is blanked and the rest judged
        (:func:`ltr.detect._channel._spikes_on_bursts`): a needle-contact or endplate
        spike of 15-50 × the baseline landing on a twitch took the twitch with it. On the
        development seeds (0-19 of ``needle_artifacts``, 0-9 of ``endplate``) it finds 1
        more twitch in each (333 / 358 and 127 / 169), with no false twitch more on
        twitch-free ``single_mup``, ``needle_spike`` and ``endplate_train`` hours.
        False turns it off.
    spike_pad : float
        ... and the seconds blanked on both sides of a spike: the band-pass makes a sharp
        spike ring for a few periods of its upper edge (2 ms at 450 Hz).
    raw_spike_max : float
        Longest needle-contact spike (s; a contact lasts 1-3 ms). When it spans at most
        ``raw_spike_width`` samples (at or below 667 Hz with the defaults: emgGO,
        OpenBCI, BITalino-class devices) a spike is one or two raw samples, which the
        band-pass spreads over its own impulse response (10-20 ms at 250 Hz, ringing at
        the 20-Hz edge for longer), where the ~2-ms test above cannot see it: such spikes
        are found on the raw samples instead (:func:`ltr.detect._channel.find_raw_spikes`)
        and replaced by the line between their neighbours before any filter.
    raw_spike_width : int
        Samples a spike may span for that test: a running median over
        ``2 × raw_spike_width + 1`` samples ignores up to ``raw_spike_width`` outliers, so
        the residual from it holds the spike whole and nothing of it spreads.
    raw_spike_isolation : float
        The residual at a raw spike must be at least this many times the standard
        deviation of the raw samples of the surrounding ``spike_ring`` (the spike
        excluded): the same isolation as ``spike_isolation`` (a twitch's potentials have
        neighbours).
    raw_spike_min_ratio : float
        ... and at least this many times the channel's robust spread about its ±20-ms
        moving mean (:attr:`ltr.detect.plan.EmgPlan.spread`). A contact spike is an
        artifact far above the baseline (0.1-1 mV over a few µV); at these rates the
        one or two potentials of a short, faint twitch are single samples too, and stay
        below it. Measured on development wild seeds: 95 % of contact spikes were at least
        57 × the spread, while the twitch potentials a 5 × limit blanked were 5-30 ×.
    raw_spike_sharpness : float
        ... and at least this fraction of the sample's excursion from the ring's median:
        a contact spike rises and falls within the median's span, so the residual is
        nearly all of it, while at an R peak (a QRS lasts 60-100 ms, 15-25 samples at
        250 Hz) the median follows the wave and the residual is a small part of it.
    motion_band : (float, float)
        Band (Hz) of cable and needle movement on an EMG lead, below heartbeats' QRS.
    motion_window : float
        RMS window (s) of the movement envelope of an EMG lead.
    acc_low_band : (float, float)
        Movement band (Hz) of the accelerometer, compared with the twitch band by
        ``acc_low_ratio`` (the upper edge capped at 0.45 × the rate).
    acc_max_duration : float
        Accelerometer candidates longer than this (s) are movements (hand pressure,
        flinch), not jolts.
    acc_low_ratio : float
        Accelerometer candidates whose 0.5-5 Hz content exceeds this many times their
        twitch-band content are movements.
    background_ratio : float
        An EMG candidate whose peak detection envelope is below this many times the
        background around it (the larger of the median envelopes over
        ``background_span`` on either side, :func:`ltr.detect.rules.background`) does not
        stand out from what surrounds it: the continuous hiss of endplate noise where
        the needle sits in an endplate zone (monophasic potentials, 1-2 ms, hundreds a
        second; Simons et al. 2002) fluctuates as its potentials bunch, and the 20-s
        floor, which mixes the hiss with the quiet pauses between insertions, stands
        below it. Default 1.8, ``emg.on_ratio``: the same margin as over the floor, so
        on a steady background the rule adds nothing. 0 turns the rule off.
    background_sigma : float
        ... or below the background plus this many times its spread (from the lower
        half of the envelope on that side, which other twitches nearby do not lift;
        the median absolute deviation, which they do, cost the development seeds of
        ``quiet_gaps`` 10 weak twitches in clusters, this 3): the hiss's potentials
        come a few to a few tens per envelope window, so its envelope fluctuates more
        than the floor's blocks, which mix it with quiet pauses, say. Default 6,
        ``floor.on_sigma``: the same guard as the on threshold, with the local
        background in place of the floor. On the development seeds of ``endplate``
        (>= 6 dB, with ``background_raised`` 1.1) F1 is 0.925-0.934 from 4 to 8 (0.914
        without the term); twitch-free endplate noise gives 15, 10, 4 false twitches an
        hour at 4, 6, 7.
    background_raised : float
        The rule turns a candidate away only where that local limit is at least this
        many times the on threshold the candidate cleared (``on_threshold``, from the
        floor): within it the two agree up to the noise of a 1.4-s estimate (70
        envelope points), and a marginal twitch on a steady background stays as the
        floor judged it. Default 1.2: on the development seeds of ``endplate``, F1 at
        >= 6 dB is 0.931, 0.929, 0.929 at 1.1, 1.15, 1.2 (0.510, 0.514, 0.525 at
        0-6 dB) and twitch-free endplate noise gives 10, 13, 13 false twitches an hour;
        at 1.1 a weak twitch just before a cluster of three (``fused``, seed 12) was
        lost.
    background_span : (float, float)
        The background either side of a candidate is taken from this many seconds
        (start, end) before its onset and after its offset: from beyond the reach of
        the envelope window and edge placement (0.1 s) to 1.5 s (a train of twitches
        occupies less than half of it; the hiss lasts as long as the needle stays).
    motion_ratio : float
        An accelerometer event with no EMG burst is a movement when an EMG lead shows
        1-8 Hz activity above this many times its floor at the same time (cable or
        needle movement disturbs the leads; a twitch the EMG missed does not).
    acc_tremor_residue : float
        Accelerometer candidates whose peak is below this fraction of the tremor fitted
        under them are what the tremor fit left (:func:`ltr.detect.rules.tremor_residue`).
        0.1: on hand-made episodes fading in over 0.3 s the fit leaves at most 7.5 % of
        the tremor at 4 Hz and 2.5 % at 7-11 Hz; left-overs in the acc_tremor condition
        (dev seeds 0-9) measured 3-13 %.
    acc_tremor_fade : float
        ... but only where the tremor fades: its fitted amplitude changes by at least
        this fraction of its top over the candidate and a fit window either side. 0.5:
        a fade runs from nothing to the full amplitude, while inside a steady episode
        (where the fit leaves noise only, and small jolts must stay) the fitted
        amplitude wanders by a few tens of per cent at most.
    acc_max_rise : float
        Accelerometer candidates whose short envelope takes longer than this (s) from
        onset to half its peak are movements: a jolt of 8 Hz or more swings to half its
        size within half a cycle (62 ms at 8 Hz, plus half the 10 ms envelope window),
        while a hand or cable movement swells slowly.
    """

    max_duration: float = 0.6
    ballistic_snr_db: float = 20.0
    contraction_margin: float = 0.5
    rider_ratio: float = 3.5
    rider_off: float = 1.5
    rider_window: float = 0.5
    dense_gap: float = 0.15
    dense_duty: float = 0.6
    ecg_explained: float = 0.5
    ecg_residue_factor: float = 3.0
    min_burst: float = 0.010
    spike_isolation: float = 6.0
    spike_min_ratio: float = 5.0
    spike_crest: float = 6.0
    min_median_freq: float = 45.0
    high_band_ratio: float = 1.5
    pop_jump: float = 20.0
    pop_settle: tuple[float, float] = (0.003, 0.025)
    pop_hold: float = 0.5
    pop_step: float = 10.0
    pop_margin: float = 0.01
    pop_explains: float = 0.5
    pop_energy: float = 0.1
    ecg_window: float = 0.06
    ecg_beat_z: float = 6.0
    high_band: float = 60.0
    spike_window: float = 0.002
    spike_ring: float = 0.04
    spike_pad: float = 0.002
    raw_spike_max: float = 0.003
    raw_spike_width: int = 2
    raw_spike_isolation: float = 6.0
    raw_spike_min_ratio: float = 20.0
    raw_spike_sharpness: float = 0.5
    train_spike_window: float = 0.004
    train_spike_ring: float = 0.012
    train_isolation: float = 4.0
    train_gap: float = 0.35
    train_min_span: float = 0.8
    train_min_spikes: int = 6
    train_match: float = 0.85
    train_member_ratio: float = 0.5
    spike_on_burst: bool = True
    motion_band: tuple[float, float] = (1.0, 8.0)
    motion_window: float = 0.1
    acc_low_band: tuple[float, float] = (0.5, 5.0)
    acc_max_duration: float = 0.45
    acc_low_ratio: float = 1.0
    acc_max_rise: float = 0.07
    acc_tremor_residue: float = 0.1
    acc_tremor_fade: float = 0.5
    motion_ratio: float = 3.0
    background_ratio: float = 1.8
    background_sigma: float = 6.0
    background_raised: float = 1.2
    background_span: tuple[float, float] = (0.1, 1.5)


@dataclass(frozen=True)
class UsConfig:
    """Ultrasound tissue-motion front end (channels of kind ``us``, :mod:`ltr.ultrasound`)
    and its look-alike rules (:data:`ltr.detect.rules.US_RULES`).

    The ``us`` channel is the ROI's tissue speed relative to the whole field at the frame
    rate (15-75 fps). A twitch is a brief local motion burst of 50-300 ms: its speed,
    less the slow changes of a running median over ``baseline`` s (default 1 s: slower
    than a twitch, faster than breathing; the median's own median is kept, so the noise
    level stays), is the conditioned signal; a ``window`` s moving RMS (default
    0.1 s, two to seven frames) its envelope, judged against the running noise floor of
    :class:`FloorConfig` with ``on_ratio``/``off_ratio`` hysteresis (the floor of a speed
    trace is its noise; a twitch at a few px stands ten times above it on the simulated
    clips, the look-alikes often as high, so the rules below do the work).

    Attributes
    ----------
    probe_ratio : float
        Probe or patient movement (``probe_motion``): the whole field's coherent speed
        (channel ``<name> global``) within ``margin`` s of the candidate peaks above this
        many times the candidate's peak local speed. Default 0.5: when the probe jerks,
        the flow's errors where speckle decorrelates leave local residues of the order
        of the field's speed (0.5-2 × on the development clips), while during a twitch
        the field stands (the next condition).
    probe_floor : float
        ... and that coherent speed is above this many times its own median (default 4:
        breathing and drift move the field slowly all the time).
    needle_ratio : float
        Needle insertion or manipulation (``needle``): the local speed along the needle
        track (``<name> needle``) within ``margin`` s of the candidate peaks above this
        many times its median and above ``needle_share`` × the candidate's peak.
        Default 4 (the track's own noise is a few times smaller than a manipulation).
    needle_share : float
        Default 0.5: a manipulation drags the tissue along the whole shaft about as much
        as beside the tip, while a twitch at the tip moves the shaft (measured from
        three cells short of the tip) a quarter as much or less.
    tip_move : float
        ... or the needle's tip (channel ``<name> tip``, px along its line) moved at
        least this many px from before the candidate to after it (medians over
        ``tip_window`` s on each side). Default 30 px: an advance or withdrawal moves it
        by 20-100 px and stays, a twitch of 1.5-5 px at the tip by little; but the tip
        estimate jumps by up to about 40 px where the needle's line is fitted anew (after
        a probe jerk), and at 8 px twitches there were turned away on the development
        clips (the drag along the shaft catches the smaller manipulations).
    tip_window : float
        Default 0.3 s.
    long_duration : float
        A long candidate during a manipulation (``needle``, rule ``us_needle_long``): a
        candidate lasting at least this (s) while the tip moves ``long_span`` px or more
        is the tissue dragged by a manipulation. Default 0.27 s: on development seeds
        0-24 the needle's false alarms lasted 0.18-0.45 s (median 0.35 s), twitches
        (50-200 ms) 0.08-0.33 s as detected (median 0.17 s; 0.27-0.33 s only at 15 fps,
        four or five frames); F1 stayed within 0.005 of its best from 0.25 to 0.30 s
        (``benchmarks/results/us_notes.md``).
    long_span : float
        ... the range (px) of the tip's position along its line from ``long_window`` s
        before the candidate to as long after it. Default 12 px: a manipulation moves
        the tip 20-60 px over 0.3-1 s (10-28 px by the ``tip_window`` medians of the
        false alarms it made); a still tip's estimate varies by 0-4 px (its 2-px steps).
        F1 was flat from 4 to 18 px (a running median over up to 0.3 s first changed
        nothing, so there is none).
    long_window : float
        Default 0.6 s: wide enough to span a manipulation of 0.3-1 s around a candidate
        inside it (0.3 s, the ``tip_window``, was not); F1 was flat from 0.5 to 0.7 s and
        lower at 0.3 and 1 s (more twitches have an unrelated tip jump within a second).
    freeze_ratio : float
        A repeated (frozen) frame (``frame_freeze``): a frame differs from the one before
        (``<name> change``) by less than this fraction of the median difference. Default
        0.2: a repeated frame differs by nothing (or codec noise), any live frame by its
        electronic noise at least. Candidates within ``margin`` s of one are turned away:
        a freeze stops the motion and the frame after it catches up all at once.
    max_duration : float
        Slow motion (``breathing``): candidates longer than this (s) are breathing or
        slow drift, not a twitch (50-300 ms). Default 0.45 s.
    pulse_cv : float
        Pulsation (``pulsation``): at least ``pulse_count`` candidates in a row whose
        intervals are within ``pulse_period`` s and vary by less than this coefficient
        of variation (default 0.12: a heart rhythm at rest).
    pulse_period : (float, float)
        Default 0.4-1.5 s (40-150 beats/min).
    pulse_count : int
        Default 8: a pulsing artery in the ROI beats all along, while twitches come in
        runs of a few as the needle is fanned (pistoning at about 1 Hz can make 3-5 of
        them as regular as a pulse).
    margin : float
        Seconds around a candidate searched for the context above. Default 0.1 s.
    """

    window: float = 0.1
    baseline: float = 1.0
    on_ratio: float = 3.0
    off_ratio: float = 1.8
    edge_ratio: float = 2.0
    probe_ratio: float = 0.5
    probe_floor: float = 4.0
    needle_ratio: float = 4.0
    needle_share: float = 0.5
    tip_move: float = 30.0
    tip_window: float = 0.3
    long_duration: float = 0.27
    long_span: float = 12.0
    long_window: float = 0.6
    freeze_ratio: float = 0.2
    max_duration: float = 0.45
    pulse_cv: float = 0.12
    pulse_period: tuple[float, float] = (0.4, 1.5)
    pulse_count: int = 8
    margin: float = 0.1

    def __post_init__(self) -> None:
        _check_ratios("us", self.on_ratio, self.off_ratio)


@dataclass(frozen=True)
class GapConfig:
    """Missing samples (NaN) in a channel.

    Attributes
    ----------
    max_fill : float
        Gaps up to this long (s) are filled by a straight line between their neighbours
        and cost nothing else; longer ones are filled for the filters, then left out of
        detection over the gap and three periods of the band's lower edge on each side
        (where the filter's transients would be), and reported. 10 ms is half the
        shortest twitch burst (20 ms, :class:`RejectConfig` ``min_burst`` × 2), so a
        filled gap can shave a twitch but neither make nor hide one; a dropped sample or
        a short transmission loss (a few ms) is well inside it.
    """

    max_fill: float = 0.01

    def __post_init__(self) -> None:
        if not self.max_fill >= 0:
            raise ValueError(f"gaps: need max_fill >= 0 (s), got {self.max_fill!r}")


@dataclass(frozen=True)
class FusionConfig:
    """Combining candidates of several channels into twitches.

    Attributes
    ----------
    emg_window : float
        EMG candidates on different channels whose onsets lie within this (s) are one
        twitch (cross-talk, or one twitch seen by two electrodes).
    acc_delay : (float, float)
        Accelerometer onset minus EMG onset (s) for the two to be one twitch: the jolt
        follows the burst by the electromechanical delay (10-40 ms), and both onsets are
        uncertain by a few tens of ms on weak twitches.
    confidence : (float, float)
        The heuristic confidence scale of ltr 0.1 (used only with
        ``[confidence] method = "heuristic"``): a channel's confidence goes from
        ``confidence[0]`` at the on threshold's SNR to ``confidence[1]`` at
        ``confidence_span_db`` above it (linear in dB, clipped), and EMG and accelerometer
        combine as ``1 - (1 - c_emg)(1 - c_acc)``. Not calibrated; see
        :class:`ConfidenceConfig`.
    confidence_span_db : float
        See ``confidence``.
    us_delay : (float, float)
        Ultrasound onset minus EMG or accelerometer onset (s) for a clip's twitch to join
        a recording's (:func:`ltr.fuse_clip`), widened by one frame on each side: the
        tissue moves an electromechanical delay (5-40 ms) after the burst, give or take
        20 ms of onset error, and a clip's onset is known to a frame (on paired
        simulations, development seeds 0-19, 161 twitches both found: -15 to +102 ms at
        15 fps, -15 to +52 ms at 30-60 fps).
    """

    emg_window: float = 0.03
    acc_delay: tuple[float, float] = (-0.04, 0.1)
    us_delay: tuple[float, float] = (-0.02, 0.06)
    confidence: tuple[float, float] = (0.3, 0.9)
    confidence_span_db: float = 15.0


#: What each coefficient of :class:`ConfidenceConfig` multiplies, in order. Every
#: feature is computed by the detector for each event (``ltr.detect._fusion``) and scaled
#: to a few units, then clipped to the range in brackets so that no session can push
#: the logit far outside what the fit saw:
#:
#: - ``intercept``: 1.
#: - ``emg_margin``: (EMG SNR - on threshold, dB) / 10 on the strongest EMG channel
#:   [-1, 4]; 0 without EMG. How far above the threshold the burst stands.
#: - ``acc_margin``: the same for the accelerometer jolt [-1, 4]; 0 without one.
#: - ``log_duration``: log2(duration / 50 ms) [-3, 3]. Residues of heartbeats and lone
#:   motor-unit potentials are short; contraction fragments long.
#: - ``median_freq``: (EMG median frequency - 100 Hz) / 100 Hz [-1, 3]; 0 without EMG.
#:   Motion and ECG residue sit low.
#: - ``burst``: log2(span holding 90 % of the energy / 20 ms) [-3, 3] on the primary
#:   channel. A twitch is a train of potentials, a look-alike often one transient.
#: - ``crest``: (peak / RMS - 3) / 3 [-1, 3] on the primary channel (spiky transients).
#: - ``near_beat``: 1 when the EMG burst lies within ``reject.ecg_window`` of a detected
#:   R peak (faint-heartbeat residue, issue 12), else 0.
#: - ``channels``: 1 when more than one EMG channel saw the event, else 0.
#: - ``log_rate``: log2(sampling rate / 2 kHz) [-3, 3]: at 250 Hz the features are
#:   coarser and the thresholds noisier.
#: - ``neighbours``: log2(1 + other twitches in the 1 s before) [0, 4]. Residues of a
#:   heartbeat the template missed, trains of endplate spikes and tremor come in runs of
#:   about one per second or faster; twitches rarely do.
#: - ``look_alikes``: log2(1 + candidates the rules turned away per minute on the
#:   event's primary channel before it, since the recording began, over at least
#:   :data:`LOOK_ALIKE_SPAN`) [0, 8]. How busy the channel is with confounders: where
#:   many look-alikes were caught, some slip through, and where none were, an event is
#:   rarely one (without it a model fitted on the confounder-rich wild mix is
#:   under-confident on clean recordings).
#:
#: Both look at the past only, so that :class:`ltr.StreamingDetector`, which knows the
#: past when it decides, gives the confidence ``ltr.detect`` gives (until 2026-12-03
#: they counted the 1 s after too and the whole recording's rate: streamed and offline
#: confidences then differed by up to 0.24 on the shipped sample).
#: - ``acc_slow``: log2(movement-band over twitch-band content of the jolt,
#:   ``low_ratio``) [-4, 3]; 0 without one. Movement sits below ~5 Hz, a jolt above;
#:   the rule ``slow_content`` turns away only what is mostly movement (a jolt cut out
#:   of a movement, ``jolt_piece``: 0, as that rule exempts it). Tried beside it and
#:   left out: the jolt's onset-to-half-peak time (log2 of ``rise_half``), whose fitted
#:   coefficient was -0.02 (no information beyond the rule ``slow_rise``).
#: The shortest span (s) over which the rate of look-alikes before an event is taken:
#: at the start of a recording a handful of them is not yet a rate.
LOOK_ALIKE_SPAN = 60.0

CONFIDENCE_FEATURES: tuple[str, ...] = (
    "intercept", "emg_margin", "acc_margin", "log_duration", "median_freq", "burst",
    "crest", "near_beat", "channels", "log_rate", "neighbours", "look_alikes",
    "acc_slow")

# The default coefficients, written by ``python benchmarks/calibrate_confidence.py
# --write-defaults`` (do not edit by hand between the markers).
# BEGIN fitted coefficients
_FITTED: dict[str, tuple[float, ...]] = {
    "emg": (
        0.77, 1.8635, 0.0, -0.1784, 1.4173, 1.4051, -2.6085, -0.6369, 0.1065, 0.541,
        0.2926, -0.4345, 0.0,
    ),
    "acc": (
        5.5916, 0.0, 1.5408, -1.5314, 0.0, -0.1518, 2.3927, 0.0, 0.0, 0.0923, 0.8581,
        -0.7364, -1.0339,
    ),
    "emg_acc": (
        1.3721, 0.4982, 0.0, -0.4369, 2.3381, 0.714, -1.2389, -0.7975, 0.0919, -0.3718,
        0.1792, -0.1254, -0.8257,
    ),
}
# END fitted coefficients


@dataclass(frozen=True)
class ConfidenceConfig:
    """Calibrated event confidence: the probability that an event is a true twitch.

    Each event's confidence is a logistic regression of features the detector already
    has (:data:`CONFIDENCE_FEATURES`), with one coefficient vector per kind of event:
    ``p = 1 / (1 + exp(-(w · x)))``. EMG-only events use ``emg``, accelerometer-only
    events ``acc``, and twitches seen by both ``emg_acc`` (fitted on fused events, so the
    fused confidence is calibrated as such rather than combined from two channels).
    Rows of the per-channel table (``channel_events``) use ``emg`` or ``acc``.

    The defaults were fitted by ``python benchmarks/calibrate_confidence.py`` on
    simulated development sessions (seeds below 1000) of the ``wild`` condition and the
    named conditions of :data:`ltr.simulate.SUITE`, each event labelled true when it
    matches a true twitch one-to-one (:func:`ltr.evaluate.detection_outcomes`), and
    checked on held-out seeds (``benchmarks/results/calibration.md``). Rerun the script
    whenever the detector's rules change.

    Attributes
    ----------
    method : {"logistic", "heuristic"}
        ``"logistic"``: the calibrated model. ``"heuristic"``: the uncalibrated scale of
        ltr 0.1 (:class:`FusionConfig` ``confidence``).
    emg, acc, emg_acc : tuple of float
        Coefficients, one per name of :data:`CONFIDENCE_FEATURES`. The coefficients of
        ``emg_margin`` and ``acc_margin`` are non-negative (the fit enforces it), so
        confidence never falls as the SNR rises.
    min_confidence : float
        Twitches of confidence below this (0-1) are set aside as rejected
        (``low_confidence``), as ``ltr.detect(..., min_confidence=P)`` does; the keyword,
        when given, wins. Default 0.5: a twitch is reported when the calibrated model
        finds it more likely true than not (events below that were false about four
        times in five on held-out simulated sessions, ``benchmarks/results/
        calibration.md``); 0 keeps every candidate the rules passed. Ultrasound twitches
        (kind ``us``), whose confidence is not calibrated yet, are not set aside by this
        floor (only by an explicit ``min_confidence``). ``ltr calibrate``
        fits it to a site's reviewed recordings.
    """

    method: str = "logistic"
    emg: tuple[float, ...] = _FITTED["emg"]
    acc: tuple[float, ...] = _FITTED["acc"]
    emg_acc: tuple[float, ...] = _FITTED["emg_acc"]
    min_confidence: float = 0.5

    def __post_init__(self) -> None:
        check_option("confidence.method", self.method, ("logistic", "heuristic"))
        p = self.min_confidence
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
            raise ValueError(f"confidence.min_confidence: need a number from 0 to 1, got "
                             f"{p!r}")
        for name in ("emg", "acc", "emg_acc"):
            w = getattr(self, name)
            if len(w) != len(CONFIDENCE_FEATURES):
                raise ValueError(
                    f"confidence.{name}: need {len(CONFIDENCE_FEATURES)} coefficients "
                    f"({', '.join(CONFIDENCE_FEATURES)}), got {len(w)}")
            if not all(isinstance(v, int | float) and math.isfinite(v) for v in w):
                raise ValueError(f"confidence.{name}: coefficients must be finite numbers, "
                                 f"got {list(w)!r}")
            object.__setattr__(self, name, tuple(float(v) for v in w))
            for k in (1, 2):
                if w[k] < 0:
                    raise ValueError(
                        f"confidence.{name}: the {CONFIDENCE_FEATURES[k]} coefficient must "
                        f"be >= 0 (confidence may not fall as the SNR rises), got {w[k]!r}")


@dataclass(frozen=True)
class DetectorConfig:
    """All detector parameters. Defaults work without tuning on EMG at 500 Hz-10 kHz and
    accelerometers at >= 100 Hz.

    Examples
    --------
    >>> cfg = DetectorConfig()
    >>> cfg.emg.band
    (20.0, 450.0)
    >>> DetectorConfig.from_dict({"emg": {"on_ratio": 2.0}}).emg.on_ratio
    2.0
    """

    emg: EmgConfig = field(default_factory=EmgConfig)
    acc: AccConfig = field(default_factory=AccConfig)
    floor: FloorConfig = field(default_factory=FloorConfig)
    segment: SegmentConfig = field(default_factory=SegmentConfig)
    reject: RejectConfig = field(default_factory=RejectConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    gaps: GapConfig = field(default_factory=GapConfig)
    confidence: ConfidenceConfig = field(default_factory=ConfidenceConfig)
    us: UsConfig = field(default_factory=UsConfig)

    # -- dict / TOML --------------------------------------------------------------------
    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Nested dict of all parameters (tuples as lists)."""
        out: dict[str, dict[str, Any]] = {}
        for f in dataclasses.fields(self):
            section = getattr(self, f.name)
            out[f.name] = {k: list(v) if isinstance(v, tuple) else v
                           for k, v in dataclasses.asdict(section).items()}
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "config") -> DetectorConfig:
        """Build from a nested dict; unknown sections or keys raise ValueError naming them."""
        sections = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - set(sections))
        if unknown:
            raise ValueError(f"{source}: unknown section(s) {unknown}; known: {sorted(sections)}")
        kwargs = {}
        for name, values in d.items():
            section_cls = _SECTION_TYPES[name]
            known = {f.name: f for f in dataclasses.fields(section_cls)}
            bad = sorted(set(values) - set(known))
            if bad:
                raise ValueError(f"{source}: unknown key(s) {bad} in [{name}]; known: "
                                 f"{sorted(known)}")
            fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
            try:
                kwargs[name] = section_cls(**fixed)
            except (TypeError, ValueError) as err:
                raise ValueError(f"{source}: [{name}]: {err}") from err
        return cls(**kwargs)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> DetectorConfig:
        """Read a TOML file with sections ``[emg]``, ``[acc]``, ``[floor]``, ``[segment]``,
        ``[reject]``, ``[fusion]``, ``[gaps]``, ``[confidence]``, ``[us]`` (any may be left
        out)."""
        try:
            import tomllib
        except ModuleNotFoundError:  # pragma: no cover - Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file")
        try:
            d = tomllib.loads(p.read_text())
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{p}: not valid TOML ({err})") from err
        return cls.from_dict(d, source=str(p))

    def to_toml(self, path: str | os.PathLike[str] | None = None) -> str:
        """The configuration as TOML text; also written to ``path`` when given."""
        lines = ["# ltr detector configuration"]
        for section, values in self.to_dict().items():
            lines.append(f"\n[{section}]")
            for k, v in values.items():
                lines.append(f"{k} = {_toml_value(v)}")
        text = "\n".join(lines) + "\n"
        if path is not None:
            Path(path).write_text(text)
        return text


_SECTION_TYPES = {"emg": EmgConfig, "acc": AccConfig, "floor": FloorConfig,
                  "segment": SegmentConfig, "reject": RejectConfig, "fusion": FusionConfig,
                  "gaps": GapConfig, "confidence": ConfidenceConfig, "us": UsConfig}


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(float(v)) if isinstance(v, float) else str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} to TOML")


def _check_ratios(name: str, on: float, off: float) -> None:
    if not 1.0 < off <= on:
        raise ValueError(f"{name}: need 1 < off_ratio <= on_ratio, got on_ratio={on!r}, "
                         f"off_ratio={off!r}")
