"""Recording: construction, validation, channel handling, MNE bridge."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from conftest import make_recording

import ltr


def test_kinds_units_and_sensors_are_inferred(recording):
    assert recording.ch_kinds == ("emg", "acc", "acc", "acc", "trigger")
    assert recording.units == ("V", "m/s^2", "m/s^2", "m/s^2", "")
    assert recording.orig_units == ("uV", "g", "g", "g", "")
    assert recording.sensors() == {"ACC": [1, 2, 3]}
    assert recording.data.dtype == np.float64
    assert recording.data.flags.c_contiguous
    assert recording.duration == pytest.approx(4.0)


def test_kind_overrides_and_defaults():
    rec = ltr.Recording(np.zeros((2, 10)), 100, ["EXG1", "EXG2"], {"EXG1": "emg"})
    assert rec.ch_kinds == ("emg", "misc")
    rec = ltr.Recording(np.zeros(10), 100)
    assert rec.ch_names == ("ch1",) and rec.n_channels == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sfreq": 0}, ValueError, "sfreq must be a finite positive number.*got 0"),
        ({"sfreq": -5.0}, ValueError, "got -5.0"),
        ({"sfreq": float("nan")}, ValueError, "sfreq"),
        ({"sfreq": "fast"}, TypeError, "sfreq must be a number in Hz, got 'fast'"),
        ({"ch_names": ["a", "a"]}, ValueError, r"unique, repeated: \['a'\]"),
        ({"ch_names": ["a"]}, ValueError, "1 channel names for 2 channels"),
        ({"ch_kinds": {"a": "emg"}}, ValueError, r"ch_kinds names channel\(s\) \['a'\]"),
        ({"ch_kinds": ["emg", "eeg"]}, ValueError, "kind must be one of.*got 'eeg'"),
        ({"units": ["V"]}, ValueError, "units must give one entry per channel"),
    ],
)
def test_validation_names_the_offending_value(kwargs, error, match):
    args = {"data": np.zeros((2, 100)), "sfreq": 100.0, "ch_names": ["x", "y"]}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        ltr.Recording(**args)


def test_infinite_and_bad_shapes_are_refused():
    data = np.zeros((2, 50))
    data[1, 7] = np.inf
    with pytest.raises(ValueError, match="infinite.*'y' at sample 7"):
        ltr.Recording(data, 100, ["x", "y"])
    with pytest.raises(ValueError, match="shape"):
        ltr.Recording(np.zeros((2, 2, 2)), 100)
    with pytest.raises(TypeError, match="real numbers"):
        ltr.Recording(np.zeros(4, complex), 100)


def test_pick_by_name_index_and_kind(recording):
    acc = recording.pick("acc")
    assert acc.ch_names == ("ACC X", "ACC Y", "ACC Z")
    np.testing.assert_array_equal(acc.data, recording.data[1:4])
    two = recording.pick(["Trigger", 0])
    assert two.ch_names == ("Trigger", "EMG trapezius")
    assert two.units == ("", "V")
    with pytest.raises(ValueError, match="neither a channel name nor a kind"):
        recording.pick("EMG deltoid")
    with pytest.raises(IndexError, match="out of range"):
        recording.pick(9)


def test_crop_moves_annotations_and_meas_date():
    rec = make_recording()
    rec.meas_date = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    part = rec.crop(0.75, 2.0)
    assert part.n_samples == 1250
    np.testing.assert_array_equal(part.data, rec.data[:, 750:2000])
    # 'needle in' 0.5-3.0 is clipped to 0.75-2.0, the marker at 1.0 moves to 0.25
    assert list(part.annotations.description) == ["needle in", "marker"]
    np.testing.assert_allclose(part.annotations.onset, [0.0, 0.25])
    np.testing.assert_allclose(part.annotations.duration, [1.25, 0.0])
    assert part.meas_date == rec.meas_date + dt.timedelta(seconds=0.75)
    with pytest.raises(ValueError, match="0 <= tmin < tmax"):
        rec.crop(3.0, 2.0)


def test_copy_is_deep(recording):
    c = recording.copy()
    c.data[0, 0] = 123.0
    c.meta["x"] = 1
    assert recording.data[0, 0] != 123.0
    assert "x" not in recording.meta


def test_bipolar_derivation():
    rng = np.random.default_rng(1)
    mono = rng.normal(size=(3, 200))
    rec = ltr.Recording(mono, 200, ["EXG1", "EXG2", "Status"])
    bip = rec.set_bipolar({"EMG left": ("EXG1", "EXG2")})
    assert bip.ch_names == ("EMG left", "Status")
    assert bip.ch_kinds == ("emg", "trigger")
    np.testing.assert_allclose(bip.data[0], mono[0] - mono[1])
    kept = rec.set_bipolar({"EMG left": ("EXG1", "EXG2")}, drop=False)
    assert kept.ch_names == ("EMG left", "EXG1", "EXG2", "Status")
    with pytest.raises(ValueError, match="must be an \\(anode, cathode\\) pair"):
        rec.set_bipolar({"bad": ("EXG1",)})
    with pytest.raises(ValueError, match="already exist"):
        rec.set_bipolar({"Status": ("EXG1", "EXG2")})


def test_mne_round_trip_keeps_kinds_units_and_annotations(recording, tmp_path):
    recording.meas_date = dt.datetime(2025, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
    raw = recording.to_mne()
    assert raw.get_channel_types() == ["emg", "misc", "misc", "misc", "stim"]
    back = ltr.Recording.from_mne(raw)
    assert back.ch_kinds == recording.ch_kinds
    assert back.orig_units == recording.orig_units
    np.testing.assert_allclose(back.data, recording.data)
    assert back.annotations == recording.annotations
    assert back.meas_date == recording.meas_date
    # through a FIF file, lazily
    path = tmp_path / "rec_raw.fif"
    ltr.write(recording, path)
    lazy = ltr.read(path)
    assert not lazy.preloaded
    np.testing.assert_allclose(lazy.get_data(100, 300, picks="acc"), recording.data[1:4, 100:300])
    assert lazy.annotations == recording.annotations


def test_from_mne_without_ltr_metadata_infers_kinds():
    import mne

    info = mne.create_info(["EMG1", "Accel_X", "STI 014"], 500.0, ["emg", "misc", "stim"])
    raw = mne.io.RawArray(np.zeros((3, 500)), info, verbose="error")
    rec = ltr.Recording.from_mne(raw)
    assert rec.ch_kinds == ("emg", "acc", "trigger")


def test_annotations_basics():
    ann = ltr.Annotations([3.0, 1.0], [0.0, 2.0], ["b", "a"])
    assert list(ann.onset) == [1.0, 3.0]
    assert ann.counts() == {"a": 1, "b": 1}
    assert len(ann.select("a")) == 1
    assert len(ann + ann) == 4
    with pytest.raises(ValueError, match="one description per onset"):
        ltr.Annotations([1.0], 0.0, ["a", "b"])
    with pytest.raises(ValueError, match="durations must be finite and >= 0"):
        ltr.Annotations([1.0], -1.0, ["a"])
