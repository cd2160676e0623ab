"""Hybrid sessions: simulated twitches at known SNRs in the quiet stretches of a recording."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ltr
from ltr.simulate import hybrid
from ltr.simulate._phenomena import bandpass
from ltr.simulate.hybrid import inside_epochs, quiet_stretches


def _real_like(seed=0, sfreq=2000.0, seconds=60.0):
    """Coloured noise with drift and two loud 3-s stretches of activity."""
    rng = np.random.default_rng(seed)
    n = int(sfreq * seconds)
    t = np.arange(n) / sfreq
    x = 4e-6 * rng.standard_normal(n) + 30e-6 * np.sin(2 * np.pi * 0.3 * t)
    for a in (15.0, 40.0):
        sel = (t >= a) & (t < a + 3.0)
        x[sel] += 60e-6 * rng.standard_normal(sel.sum())
    return ltr.Recording(x[None], sfreq, ["EMG trapezius"], ["emg"],
                         meta={"source": "made.edf"})


def _measured_snr(rec, hyb, truth):
    x = rec.data[0]
    y = bandpass(x, rec.sfreq)
    added = bandpass(hyb.data[0] - x, rec.sfreq)
    out = []
    for on, off in zip(truth.onsets, truth.twitches["offset"], strict=True):
        a, b = round(on * rec.sfreq), round(off * rec.sfreq)
        local = np.sqrt(np.mean(y[round((on - 0.5) * rec.sfreq):round((on + 0.5) * rec.sfreq)]
                                ** 2))
        out.append(20 * np.log10(np.sqrt(np.mean(added[a:b + 1] ** 2)) / local))
    return np.asarray(out)


def test_twitches_sit_in_quiet_stretches_at_the_stated_snr():
    rec = _real_like()
    hyb, truth = hybrid(rec, snr_db=(0.0, 15.0), rate=30.0, seed=1)
    assert len(truth) >= 10
    assert hyb.ch_names == ("EMG trapezius",) and hyb.sfreq == rec.sfreq
    on, off = truth.onsets, truth.twitches["offset"]
    assert inside_epochs(on, truth).all() and inside_epochs(off, truth).all()
    for a in (15.0, 40.0):  # nothing inserted on the loud activity
        assert not np.any((off > a) & (on < a + 3.0))
    assert np.all(on[1:] > off[:-1])
    snr = truth.twitches["snr_db"]
    assert snr.min() >= 0.0 and snr.max() <= 15.0
    # the twitch alone, band-passed over the whole recording instead of over a 0.2-s-padded
    # copy: the filter's tails beyond 0.2 s shift the RMS by far less than 0.1 dB
    np.testing.assert_allclose(_measured_snr(rec, hyb, truth), snr, atol=0.1)
    # outside the twitches the real signal is untouched, exactly
    touched = np.zeros(rec.n_samples, bool)
    for p, o in zip(on, off, strict=True):
        touched[round((p - 0.05) * rec.sfreq):round((o + 0.05) * rec.sfreq)] = True
    diff = hyb.data[0] - rec.data[0]
    assert not diff[~touched].any()


def test_hybrid_is_a_function_of_the_seed_and_is_reported_in_info():
    rec = _real_like()
    a, ta = hybrid(rec, seed=4)
    b, tb = hybrid(rec, seed=4)
    c, _tc = hybrid(rec, seed=5)
    np.testing.assert_array_equal(a.data, b.data)
    assert ta.to_dict() == tb.to_dict()
    assert not np.array_equal(a.data, c.data)
    info = ta.info["hybrid"]
    assert info["source"] == "made.edf" and info["channel"] == "EMG trapezius"
    assert len(info["local_noise_rms"]) == len(ta)


def test_quiet_stretches_of_a_hand_made_channel():
    sfreq = 1000.0
    rng = np.random.default_rng(0)
    x = rng.standard_normal(int(20 * sfreq))
    x[5000:8000] *= 20  # loud from 5 s to 8 s
    q = quiet_stretches(x, sfreq)
    # two stretches, 0-5 s and 8-20 s less 0.25-s margins, to a window (0.25 s) each way
    assert q.shape == (2, 2)
    np.testing.assert_allclose(q, [[0.25, 4.75], [8.25, 19.75]], atol=0.25 + 1e-9)


def test_hybrid_errors_name_the_file_and_problem():
    rec = ltr.Recording(np.zeros((1, 1000)) + 1.0, 1000.0, ["ACC X"], ["acc"],
                        meta={"source": "arm.csv"})
    with pytest.raises(ValueError, match="arm.csv: no EMG channel and no tri-axial"):
        hybrid(rec)
    rec2 = _real_like()
    with pytest.raises(ValueError, match="made.edf: no channel 'EMG x'"):
        hybrid(rec2, "EMG x")
    with pytest.raises(ValueError, match="no quiet stretch of 100 s"):
        hybrid(rec2, min_quiet=100.0)


@pytest.mark.parametrize("name", ["biosppy_examples/emg.txt", "physionet_emgdb/emg_healthy.hea"])
def test_hybrid_on_real_recordings(shared_data, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # vendor readers warn about their own metadata
        rec = ltr.read(shared_data / name)
    hyb, truth = hybrid(rec, seed=1000, rate=30.0)
    assert len(truth) >= 2
    assert inside_epochs(truth.onsets, truth).all()
    np.testing.assert_allclose(_measured_snr(rec.pick([hyb.ch_names[0]]), hyb, truth),
                               truth.twitches["snr_db"], atol=0.1)  # as above


def test_hybrid_on_an_accelerometer_with_tremor_everywhere():
    sfreq = 100.0
    rng = np.random.default_rng(3)
    t = np.arange(int(60 * sfreq)) / sfreq
    tremor = 0.3 * np.sin(2 * np.pi * 5.5 * t)  # real-like tremor over the whole record
    acc = np.vstack([tremor + 0.01 * rng.standard_normal(t.size),
                     0.5 * tremor + 0.01 * rng.standard_normal(t.size),
                     9.81 + 0.01 * rng.standard_normal(t.size)])
    rec = ltr.Recording(acc, sfreq, ["ACC X", "ACC Y", "ACC Z"], ["acc"] * 3,
                        meta={"source": "arm.csv"})
    with pytest.raises(ValueError, match="arm.csv: accelerometer ACC X/ACC Y/ACC Z has no "
                                         "quiet stretch"):
        hybrid(rec, min_quiet=100.0)
    hyb, truth = hybrid(rec, quiet_factor=None, snr_db=(0.0, 6.0), rate=20.0, seed=2)
    assert hyb.ch_names == rec.ch_names and not truth.has_emg
    assert len(truth) >= 5
    np.testing.assert_array_equal(truth.onsets, truth.twitches["acc_onset"])
    y = bandpass(acc, sfreq, (5.0, 50.0))
    added = bandpass(hyb.data - acc, sfreq, (5.0, 50.0))
    for on, off, snr in zip(truth.onsets, truth.twitches["offset"], truth.twitches["snr_db"],
                            strict=True):
        a, b = round(on * sfreq), round(off * sfreq)
        local = np.sqrt(np.sum(np.mean(y[:, round((on - 0.5) * sfreq):round((on + 0.5) * sfreq)]
                                       ** 2, axis=1)))
        got = 20 * np.log10(np.sqrt(np.sum(np.mean(added[:, a:b + 1] ** 2, axis=1))) / local)
        # the 0.2-s pad truncates the 5-Hz edge's longer filter tails: 0.3 dB
        assert got == pytest.approx(snr, abs=0.3)
