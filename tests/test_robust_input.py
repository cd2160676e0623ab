"""Inputs that must not change what is found: missing samples (NaN) and DC offsets."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import ltr
from ltr.evaluate import match_onsets
from ltr.simulate import SUITE, session

FS = 2000.0


def _with(rec: ltr.Recording, data: np.ndarray) -> ltr.Recording:
    return ltr.Recording(data, rec.sfreq, rec.ch_names, rec.ch_kinds, units=rec.units,
                         annotations=rec.annotations)


def _same_onsets(a: np.ndarray, b: np.ndarray, tol: float) -> None:
    """One-to-one within ``tol`` s, nothing left over on either side."""
    assert a.size == b.size, (a, b)
    i, _j = match_onsets(a, b, tol)
    assert i.size == a.size, (a, b)


def _warned(caught, pattern: str) -> None:
    assert any(re.search(pattern, str(w.message)) for w in caught), [
        str(w.message) for w in caught]


# -- missing samples ------------------------------------------------------------------
@pytest.mark.parametrize("every", [2000, 50])  # one NaN per second; one per 25 ms
@pytest.mark.parametrize(("condition", "seed"), [("clean", 3), ("everything", 4),
                                                 ("fused", 5)])
def test_sparse_nan_costs_only_the_samples_near_it(every, condition, seed):
    """Single missing samples, however many, change no event: each is filled from its
    neighbours. On main (clean, seed 3) one NaN per second lost 3 of 8 twitches, one per
    50 samples all 8."""
    rec, _ = session(60.0, FS, SUITE[condition].layout, seed, condition=condition)
    ref = ltr.detect(rec)
    data = rec.data.copy()
    data[:, 7::every] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = ltr.detect(_with(rec, data))
    assert len(ref) >= 3
    # a filled sample moves a twitch's edge by at most a sample or two (2 ms): the
    # line between neighbours differs from the lost sample by about the noise
    _same_onsets(res.onset, ref.onset, 0.002)
    assert list(res.events["channels"]) == list(ref.events["channels"])
    _warned(caught, r"channel 'EMG trapezius' has \d+ gap\(s\) of missing samples")
    g = res.meta["gaps"]
    assert set(g["action"]) == {"filled"}
    assert np.all(np.abs(np.asarray(g["duration"]) - 1 / FS) < 1e-9)  # 1 sample (float)
    assert len(g["onset"]) == int(np.isnan(data).sum())
    emg_row = rec.ch_names.index("EMG trapezius")
    assert res.processing["EMG trapezius"]["gaps"]["filled"] == np.isnan(data[emg_row]).sum()


def test_long_gap_is_skipped_and_reported_and_costs_only_its_surroundings(tmp_path):
    rec, _ = session(120.0, FS, "emg", 6, condition="clean")
    ref = ltr.detect(rec)
    data = rec.data.copy()
    a = round(float(ref.onset[ref.onset.size // 2]) - 1.0, 3)  # a twitch 1 s into it
    b = a + 2.5
    data[0, int(a * FS): int(b * FS)] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = ltr.detect(_with(rec, data))
    # left out: the gap and 3 periods of 20 Hz (0.15 s) on each side, plus a twitch's
    # length (0.3 s) for events that start before it and run into it
    inside = (res.onset > a - 0.15) & (res.onset < b + 0.15)
    assert not inside.any()
    near = (ref.onset > a - 0.5) & (ref.onset < b + 0.2)
    assert near.sum() >= 1 and (~near).sum() >= 5
    far = (res.onset < a - 0.5) | (res.onset > b + 0.2)
    _same_onsets(res.onset[far], ref.onset[~near], 0.002)  # 2 ms: rounding of a refilter
    _warned(caught, r"'EMG trapezius' has 1 gap.*1 longer left out")
    g = res.meta["gaps"]
    assert list(g["action"]) == ["skipped"] and list(g["channel"]) == ["EMG trapezius"]
    assert g["onset"][0] == pytest.approx(a, abs=1 / FS)  # to the sample
    assert g["duration"][0] == pytest.approx(b - a, abs=1 / FS)
    assert res.processing["EMG trapezius"]["gaps"]["skipped"] == 1
    # the table and its summary survive the results file and JSON
    back = ltr.read_results(ltr.write_results(res, tmp_path / "results.h5"))
    assert back.meta["gaps"] == res.meta["gaps"]
    assert '"skipped": 1' in res.to_json()


def test_all_nan_channel_is_reported_unusable_not_an_error():
    rec, _ = session(60.0, FS, "emg2+acc", 2, condition="two_muscles")
    data = rec.data.copy()
    bad, other = [n for n, k in zip(rec.ch_names, rec.ch_kinds, strict=True) if k == "emg"]
    data[rec.ch_names.index(bad)] = np.nan
    with pytest.warns(UserWarning) as caught:
        res = ltr.detect(_with(rec, data))
    _warned(caught, f"channel '{bad}' is unusable and was left out: no finite sample")
    assert bad in res.meta["unusable"]
    assert "unusable" in res.processing[bad]
    assert np.isnan(res.noise_floor[bad])
    assert not np.any(res.channel_events["channel"] == bad)
    assert np.any(res.channel_events["channel"] == other)
    # every channel missing: still a result, empty
    with pytest.warns(UserWarning, match="unusable"):
        empty = ltr.detect(_with(rec, np.full_like(data, np.nan)))
    assert len(empty) == 0 and len(empty.meta["unusable"]) == 3  # 2 EMG, 1 sensor


def test_nan_pieces_equal_whole():
    """Gaps short and long, one over a piece boundary: pieces give the whole's events and
    the same gap table."""
    rec, _ = session(400.0, FS, "emg+acc", 21, condition="fused")
    data = rec.data.copy()
    data[:, int(243.5 * FS): int(245 * FS)] = np.nan  # over the 244-s boundary
    data[0, int(100 * FS): int(100.01 * FS)] = np.nan
    data[0, 3::1000] = np.nan
    gappy = _with(rec, data)
    with pytest.warns(UserWarning, match="gap"):
        whole = ltr.detect(gappy, block=None)
    with pytest.warns(UserWarning, match="gap"):
        pieces = ltr.detect(gappy, block=122.0)
    assert pieces.meta["pieces"] > 1
    assert len(whole) > 20
    np.testing.assert_array_equal(whole.onset, pieces.onset)
    for k in ("channel", "action"):
        assert list(whole.meta["gaps"][k]) == list(pieces.meta["gaps"][k])
    for k in ("onset", "duration"):  # the same samples: exact
        np.testing.assert_array_equal(whole.meta["gaps"][k], pieces.meta["gaps"][k])
    assert set(whole.meta["gaps"]["action"]) == {"filled", "skipped"}


# -- DC offset ------------------------------------------------------------------------
@pytest.mark.parametrize("offset", [-2.0, -1e-3, 5e-2, 1.0])  # V: µV-scale EMG beside it
@pytest.mark.parametrize(("condition", "seed"), [("mains", 7), ("mains60", 8),
                                                 ("everything", 9), ("ecg", 10),
                                                 ("fused", 11)])
def test_dc_offset_changes_nothing(condition, seed, offset):
    """Adding a constant to every EMG and accelerometer channel gives the same events,
    rejections and contractions. On main hum subtraction demodulated the DC level too
    (blocks are whole mains periods only to the sample), so mains conditions changed."""
    rec, _ = session(60.0, FS, SUITE[condition].layout, seed, condition=condition)
    ref = ltr.detect(rec)
    data = rec.data.copy()
    rows = [i for i, k in enumerate(rec.ch_kinds) if k in ("emg", "acc")]
    data[rows] += offset
    res = ltr.detect(_with(rec, data))
    # onsets within a sample: x + c rounds each sample to the ulp of c (4e-16 V at
    # 2 V), which can move a threshold crossing by one sample in a rare tie
    for name in ("events", "rejected", "contractions"):
        _same_onsets(getattr(res, name)["onset"], getattr(ref, name)["onset"], 1.01 / FS)
    assert list(res.rejected["reason"]) == list(ref.rejected["reason"])
    np.testing.assert_allclose(res.events["amplitude"], ref.events["amplitude"],
                               rtol=1e-6)  # band-passed: the offset is gone but rounding


def test_nan_and_dc_offset_together():
    """On main a NaN was filtered as 0 V: beside an electrode offset that is a step of
    the whole offset, and the band-pass rang over the twitches around it."""
    rec, _ = session(60.0, FS, "emg", 12, condition="clean")
    ref = ltr.detect(rec)
    data = rec.data.copy() + 0.3  # 0.3 V of electrode offset
    data[:, 11::997] = np.nan
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        res = ltr.detect(_with(rec, data))
    assert len(ref) >= 3
    _same_onsets(res.onset, ref.onset, 0.002)  # as for sparse NaN alone


def test_an_unusable_channel_is_left_out_of_traces_and_the_report():
    from ltr.detect import traces
    from ltr.report import build_report

    rec, _ = session(30.0, FS, "emg2", 14, condition="two_muscles")
    data = rec.data.copy()
    bad, good = rec.ch_names[0], rec.ch_names[1]
    data[0] = np.nan
    gappy = _with(rec, data)
    tr = traces(gappy, tmin=5.0, tmax=10.0)
    assert set(tr) == {good}
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        res = ltr.detect(gappy)
        html = build_report(gappy, res)  # on main: detect failed on a window shape
    assert bad in res.meta["unusable"] and good in html
