"""The simulator: determinism, structure, and statistics that match what it claims."""

from __future__ import annotations

import numpy as np
import pytest

import ltr
from ltr.quality import mains_peak
from ltr.simulate import SUITE, SimulationConfig, Truth, session, suite, write_session

SEEDS = [11, 22, 33]


def _sim(seed, **kw):
    kw.setdefault("duration", 120.0)
    kw.setdefault("sfreq", 2000.0)
    kw.setdefault("layout", "emg+acc")
    return session(seed=seed, return_components=True, **kw)


@pytest.mark.parametrize("layout", sorted(ltr.simulate.LAYOUTS))
def test_same_seed_same_session_other_seed_other_session(layout):
    a, ta = session(60, 1000, layout, seed=5)
    b, tb = session(60, 1000, layout, seed=5)
    c, _tc = session(60, 1000, layout, seed=6)
    np.testing.assert_array_equal(a.data, b.data)
    assert ta.to_dict() == tb.to_dict()
    assert not np.array_equal(a.data, c.data)
    assert a.ch_names == ltr.simulate.LAYOUTS[layout]
    assert len(ta) > 0


def test_switching_a_confounder_leaves_everything_else_alone():
    rec0, t0, c0 = _sim(3)
    rec1, t1, c1 = _sim(3, mains_hz=60, ecg_bpm=(60, 70))
    np.testing.assert_array_equal(c0["twitch"], c1["twitch"])
    np.testing.assert_array_equal(t0.twitches["onset"], t1.twitches["onset"])
    diff = rec1.data[0] - rec0.data[0]
    np.testing.assert_allclose(diff, c1["mains"][0] + c1["ecg"][0], atol=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_twitches_only_while_the_needle_is_in_and_never_overlap(seed):
    rec, truth, _ = _sim(seed, duration=300.0)
    on, off = truth.twitches["onset"], truth.twitches["offset"]
    ep = truth.twitches["epoch"]
    assert np.all(on >= truth.epochs["start"][ep])
    assert np.all(off <= truth.epochs["stop"][ep])
    assert np.all(np.diff(on) >= truth.info["config"]["refractory"])
    assert np.all(on[1:] > off[:-1])
    # annotations carry the epochs
    ann = rec.annotations
    np.testing.assert_allclose(ann.select("needle in").onset, truth.epochs["start"])
    np.testing.assert_allclose(ann.select("needle out").onset, truth.epochs["stop"])
    # twitches come in runs: most follow another twitch by less than 2 s
    gaps = np.diff(on)
    assert np.mean(gaps < 2.0) > 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_snr_and_baseline_are_what_the_truth_says(seed):
    rec, truth, comp = _sim(seed, layout="emg")
    noise = truth.info["noise_rms"]
    base = comp["baseline"][0]
    assert np.sqrt(np.mean(base**2)) == pytest.approx(noise, rel=0.02)
    tw = comp["twitch"][0]
    sfreq = rec.sfreq
    for i in range(len(truth)):
        a = round(truth.twitches["onset"][i] * sfreq)
        b = round(truth.twitches["offset"][i] * sfreq)
        # the SNR is the RMS over the burst's 1-99 % energy span, which [onset, offset]
        # holds (widened where the burst already shows over the baseline)
        m = int(0.02 * sfreq)  # beyond the burst's padding, short of the next twitch
        e = np.cumsum(tw[a - m : b + 1 + m] ** 2)
        e /= e[-1]
        lo, hi = a - m + np.searchsorted(e, 0.01), a - m + np.searchsorted(e, 0.99)
        rms = np.sqrt(np.mean(tw[lo : hi + 1] ** 2))
        assert 20 * np.log10(rms / noise) == pytest.approx(truth.twitches["snr_db"][i], abs=0.3)
        peak = np.abs(tw[a - 200 : b + 200]).max()
        assert peak == pytest.approx(truth.twitches["amplitude"][i], rel=1e-6)
    # first twitches of epochs are drawn from the configured range (plus 2 dB scatter)
    snr = truth.twitches["snr_db"]
    assert snr.max() <= 24.0 + 4 * 2.0


def test_twitch_durations_and_shape_statistics():
    durations, phases = [], []
    for seed in range(6):
        rec, truth, comp = _sim(seed, layout="emg", duration=240.0)
        tw = comp["twitch"][0]
        for on, off in zip(truth.twitches["onset"], truth.twitches["offset"], strict=True):
            durations.append(off - on)
            seg = tw[round(on * rec.sfreq) : round(off * rec.sfreq)]
            big = np.abs(seg) > 0.2 * np.abs(seg).max()
            phases.append(np.count_nonzero(np.diff(np.sign(seg[big])) != 0))
    durations = np.asarray(durations)
    assert len(durations) > 100
    # log-normal-ish around 60-100 ms at the core, tens of ms to ~300 ms overall
    assert 0.03 <= np.median(durations) <= 0.11
    assert durations.min() >= 0.005 and durations.max() <= 0.30
    logd = np.log(durations)
    skew = np.mean((logd - logd.mean()) ** 3) / logd.std() ** 3
    assert abs(skew) < 1.0
    # polyphasic: a burst changes sign many times
    assert np.median(phases) >= 4


def test_habituation_shrinks_successive_twitches():
    _rec, truth, _ = _sim(4, layout="emg", duration=300.0, habituation=(0.8, 0.8),
                          snr_jitter_db=0.0)
    snr, ep = truth.twitches["snr_db"], truth.twitches["epoch"]
    for e in np.unique(ep):
        s = snr[ep == e]
        np.testing.assert_allclose(np.diff(s), 20 * np.log10(0.8), atol=1e-9)
    # with the default scatter the trend is still downhill within epochs
    slopes = []
    for seed in range(5):
        _, truth, _ = _sim(seed, layout="emg", duration=300.0)
        snr, ep = truth.twitches["snr_db"], truth.twitches["epoch"]
        for e in np.unique(ep):
            s = snr[ep == e]
            if s.size >= 4:
                slopes.append(np.polyfit(np.arange(s.size), s, 1)[0])
    assert np.mean(slopes) < 0


@pytest.mark.parametrize("seed", SEEDS)
def test_accelerometer_jolt_follows_the_burst(seed):
    rec, truth, comp = _sim(seed, layout="emg+acc")
    delay = truth.twitches["acc_onset"] - truth.twitches["onset"]
    assert np.all((delay >= 0.01 - 1e-9) & (delay <= 0.04 + 1e-9))
    amp = truth.twitches["acc_amplitude"]
    assert np.all((amp >= 0.02 - 1e-12) & (amp <= 1.0 + 1e-12))
    jolt = comp["acc_twitch"]
    sfreq = rec.sfreq
    for i in range(min(len(truth), 10)):
        a = round(truth.twitches["acc_onset"][i] * sfreq)
        seg = jolt[:, a : a + int(0.3 * sfreq)]
        mag = np.linalg.norm(seg, axis=0)
        assert mag.max() == pytest.approx(amp[i], rel=0.2)
        # dominant frequency of the jolt on its strongest axis is within 8-30 Hz
        x = seg[np.argmax(np.abs(seg).max(axis=1))]
        spec = np.abs(np.fft.rfft(x, 8 * x.size))
        f = np.fft.rfftfreq(8 * x.size, 1 / sfreq)
        assert 5.0 <= f[spec.argmax()] <= 33.0
    # gravity is there and constant in magnitude (posture drifts slowly)
    g = np.linalg.norm(comp["acc_baseline"].mean(axis=1))
    assert g == pytest.approx(9.80665, rel=0.05)


def test_crosstalk_level_is_recorded():
    rec, truth, comp = _sim(8, layout="emg2", duration=200.0)
    tw = comp["twitch"]
    names = list(rec.ch_names)
    for i in range(len(truth)):
        own = names.index(truth.twitches["channel"][i])
        a = round(truth.twitches["onset"][i] * rec.sfreq)
        b = round(truth.twitches["offset"][i] * rec.sfreq)
        level = 20 * np.log10(np.sqrt(np.mean(tw[1 - own, a : b + 1] ** 2))
                              / np.sqrt(np.mean(tw[own, a : b + 1] ** 2)))
        assert level == pytest.approx(truth.twitches["crosstalk_db"][i], abs=0.5)
        assert -30 < level < -10


def test_ecg_mains_clipping_and_artifact_logs():
    rec, truth, comp = _sim(9, layout="emg", condition="everything", duration=120.0)
    kinds = set(truth.confounders["kind"])
    for kind in ("needle_spike", "ecg", "mains", "wander", "single_mup"):
        assert kind in kinds
    beats = truth.confounders_of("ecg")["onset"]
    bpm = 60.0 / np.median(np.diff(beats))
    assert 55 <= bpm <= 95
    assert mains_peak(comp["mains"][0], rec.sfreq)[0] == 50.0
    assert mains_peak(rec.data[0], rec.sfreq)[0] == 50.0
    limit = truth.info["config"]["clip_range"]
    assert np.abs(rec.data[0]).max() <= limit
    clip = truth.confounders_of("clipping")
    at_rail = np.flatnonzero(np.abs(rec.data[0]) >= limit) / rec.sfreq
    if at_rail.size:
        assert clip["onset"].size > 0
        inside = ((at_rail[:, None] >= clip["onset"] - 1e-9)
                  & (at_rail[:, None] <= clip["offset"] + 1e-9)).any(1)
        assert inside.all()
    spikes = truth.confounders_of("needle_spike")
    assert np.all(spikes["offset"] - spikes["onset"] <= 0.0031)
    # needle spikes sit at needle passes
    passes = truth.passes["time"]
    lag = spikes["onset"][:, None] - passes[None, :]
    assert np.all(np.min(np.abs(lag), axis=1) < 0.02)


@pytest.mark.parametrize("name", sorted(SUITE))
def test_every_suite_condition_logs_its_confounders(name):
    cond = SUITE[name]
    rec, truth = session(90, 1000, cond.layout, seed=1, condition=name)
    expected = {
        "mains": {"mains"}, "mains60": {"mains"}, "ecg": {"ecg"},
        "needle_artifacts": {"needle_spike", "motion"},
        "voluntary_contraction": {"contraction", "single_mup"},
        "acc_only": {"hand_pressure"},
    }.get(name, set())
    assert expected <= set(truth.confounders["kind"])
    assert np.all(truth.confounders["onset"] >= 0)
    assert np.all(truth.confounders["offset"] <= rec.duration + 1.0)
    assert truth.info["condition"] == name


def test_acc_only_truth_uses_jolt_onsets():
    _rec, truth = session(120, 1000, "acc", seed=2)
    assert not truth.has_emg
    np.testing.assert_array_equal(truth.onsets, truth.twitches["acc_onset"])
    # the jolt's SNR by the EMG burst's rule: its vector RMS over the sensor noise's
    snr = truth.twitches["snr_db"]
    assert np.isfinite(snr).all()
    cfg = SimulationConfig()
    peak = truth.twitches["acc_amplitude"]
    # a damped jolt's RMS over its span is a fraction of its peak (a sine's 0.71 at most)
    assert (snr < 20 * np.log10(0.71 * peak / (cfg.acc_noise_rms * np.sqrt(3)))).all()
    assert (snr > 20 * np.log10(0.05 * peak / (cfg.acc_noise_rms * np.sqrt(3)))).all()


def test_suite_generator_and_names():
    got = [(c.name, s) for c, s, _, _ in suite(seeds=[0, 1], duration=30, names=["clean", "ecg"])]
    assert got == [("clean", 0), ("clean", 1), ("ecg", 0), ("ecg", 1)]
    with pytest.raises(ValueError, match="unknown suite condition"):
        list(suite(names=["rain"]))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"snr": 3}, TypeError, r"unknown simulation parameter\(s\) \['snr'\]"),
        ({"snr_db": (10, 0)}, ValueError, "snr_db must be a \\(low, high\\) pair"),
        ({"p_twitch": 1.5}, ValueError, "p_twitch must be a probability"),
        ({"mains_hz": 55}, ValueError, "mains_hz must be None, 50 or 60"),
        ({"layout": "eeg"}, ValueError, "layout must be one of"),
        ({"duration": 2}, ValueError, "duration must be at least 5 s"),
        ({"sfreq": 200}, ValueError, "EMG layouts need sfreq >= 250"),
        ({"condition": "rainy"}, ValueError, "condition must be one of"),
    ],
)
def test_bad_conditions(kwargs, error, match):
    args = {"duration": 30, "sfreq": 1000, "layout": "emg", "seed": 0}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        session(**args)


def test_config_round_trips_through_dict():
    cfg = SimulationConfig(snr_db=(1.0, 2.0), mains_hz=60)
    assert SimulationConfig.from_kwargs(**cfg.to_dict()) == cfg


def test_truth_json_and_events_tsv(tmp_path):
    _rec, truth = session(60, 1000, "emg+acc", seed=4, condition="needle_artifacts")
    p = truth.to_json(tmp_path / "t.truth.json")
    back = Truth.from_json(p)
    for table in ("twitches", "confounders", "epochs", "passes"):
        a, b = getattr(truth, table), getattr(back, table)
        assert a.keys() == b.keys()
        for k in a:
            if a[k].dtype.kind == "f":
                np.testing.assert_allclose(b[k], a[k], atol=1e-8, equal_nan=True)
            else:
                np.testing.assert_array_equal(b[k], a[k])
    tsv = truth.to_events_tsv(tmp_path / "t.events.tsv").read_text().splitlines()
    assert tsv[0].split("\t") == ["onset", "duration", "trial_type", "channel", "amplitude",
                                  "snr_db"]
    types = [line.split("\t")[2] for line in tsv[1:]]
    assert types.count("twitch") == len(truth)
    assert types.count("needle in") == truth.epochs["start"].size
    assert types.count("needle_spike") == truth.confounders_of("needle_spike")["onset"].size
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="not an ltr truth file"):
        Truth.from_json(tmp_path / "bad.json")


@pytest.mark.parametrize("suffix", [".edf", ".h5"])
def test_write_session(tmp_path, suffix):
    paths = write_session(tmp_path / f"s{suffix}", duration=30, sfreq=1000, layout="emg+acc",
                          seed=3)
    assert [p.name for p in paths] == [f"s{suffix}", "s.truth.json", "s.events.tsv"]
    rec = ltr.read(paths[0])
    direct, truth = session(30, 1000, "emg+acc", seed=3)
    atol = 1e-12 if suffix == ".h5" else 2e-8 + np.ptp(direct.data[1:]) / 65535
    np.testing.assert_allclose(rec.data[0], direct.data[0], atol=max(atol, 2e-8))
    assert rec.annotations.counts() == direct.annotations.counts()
    assert Truth.from_json(paths[1]).to_dict()["twitches"] == truth.to_dict()["twitches"]
    with pytest.raises(FileExistsError, match="exists; pass overwrite=True"):
        write_session(tmp_path / f"s{suffix}", duration=30, sfreq=1000, seed=3)


def test_local_snr_compares_a_twitch_with_everything_else_on_its_channel():
    from ltr.preprocess import bandpass

    rec, truth, comp = session(60, 2000, "emg", 4, return_components=True,
                               contraction_rate=6.0)
    loc = truth.twitches["local_snr_db"]
    assert len(truth) >= 5 and np.all(np.isfinite(loc))
    # the reference: whole-channel filters, the same span (segments filtered alone
    # differ only by the filter's edge effects 0.5 s away: within 0.5 dB)
    x = rec.get_data(picks="emg")[0]
    tw = comp["twitch"][0]
    both = bandpass(np.vstack([tw, x - tw]), rec.sfreq, (20.0, 450.0))[0]
    for i in range(len(truth)):
        a = int(truth.twitches["onset"][i] * rec.sfreq)
        z = int(truth.twitches["offset"][i] * rec.sfreq) + 1
        ref = 10 * np.log10(np.mean(both[0, a:z] ** 2) / np.mean(both[1, a:z] ** 2))
        assert loc[i] == pytest.approx(ref, abs=0.5)
    # a twitch inside a contraction stands out less than the white-noise SNR says
    cf = truth.confounders
    inside = np.zeros(len(truth), bool)
    for k, a, b in zip(cf["kind"], cf["onset"], cf["offset"], strict=True):
        if k == "contraction":
            inside |= (truth.onsets >= a) & (truth.onsets <= b)
    assert inside.any() and (~inside).any()  # this seed has both kinds
    gap = loc - truth.twitches["snr_db"]
    assert np.median(gap[inside]) < np.median(gap[~inside]) - 6


def test_truth_onset_is_where_a_burst_shows_over_the_baseline():
    from ltr.simulate import _waveforms as wf

    cfg = SimulationConfig()
    fs = 2000.0
    w = max(1, round(wf.VISIBLE_WINDOW * fs))
    for seed in range(5):
        rng = np.random.default_rng(seed)
        wave, i_on, i_off = wf.twitch_burst(rng, 0.1, fs, cfg)
        rms = np.sqrt(np.mean(wave[i_on:i_off + 1] ** 2))
        for snr_db in (3.0, 45.0):
            scaled = wave * cfg.noise_rms * 10 ** (snr_db / 20) / rms
            on, off = wf.visible_span(scaled, i_on, i_off, cfg.noise_rms, fs)
            assert on <= i_on and off >= i_off
            power = np.convolve(scaled**2, np.ones(w) / w, mode="same")
            # nothing of the burst reaches the baseline's level outside [on, off]
            assert (power[:on] < cfg.noise_rms**2).all()
            assert (power[off + 1:] < cfg.noise_rms**2).all()
            if snr_db > 40:  # a strong burst shows before 1 % of its energy
                assert on < i_on and power[on] >= cfg.noise_rms**2


@pytest.mark.parametrize("seed", [0, 1])
def test_strong_twitches_truth_holds_every_visible_sample(seed):
    # 35-45-dB twitches: before the truth onset the simulated burst stays below the
    # baseline's RMS (over the window of the definition) and reaches it at the onset;
    # the jolt follows that onset by the electromechanical delay
    from ltr.simulate import _waveforms as wf

    rec, truth, comp = session(60.0, 2000.0, "emg+acc", seed, snr_db=(35.0, 45.0),
                               return_components=True)
    on = truth.onsets
    assert on.size >= 5
    x = comp["twitch"][0]
    w = max(1, round(wf.VISIBLE_WINDOW * rec.sfreq))
    power = np.convolve(x**2, np.ones(w) / w, mode="same")
    noise = truth.info["noise_rms"]
    for t in on:
        i = round(t * rec.sfreq)
        assert (power[max(0, i - int(0.04 * rec.sfreq)): i - 1] < noise**2).all()
        assert power[i: i + w].max() >= noise**2
    lo, hi = SimulationConfig().emd
    delay = truth.twitches["acc_onset"] - on
    assert np.all((delay >= lo - 1e-9) & (delay <= hi + 1e-9))


def test_large_bursts_jolt_follows_the_reported_onset():
    _, truth = session(180.0, 2000.0, "emg+acc", 0, condition="movement_steps")
    steps = truth.confounders["onset"][truth.confounders["kind"] == "movement_step"]
    big = np.array([np.any(np.abs(steps - t) < 0.2) for t in truth.onsets])
    assert big.sum() >= 2
    lo, hi = SimulationConfig().emd
    delay = (truth.twitches["acc_onset"] - truth.onsets)[big]
    assert np.all((delay >= lo - 1e-9) & (delay <= hi + 1e-9))
