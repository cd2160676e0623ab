"""Real recordings from ../shared/data (skipped when the folder is absent)."""

from __future__ import annotations

import numpy as np
import pytest

import ltr
from ltr.quality import assess

pytestmark = pytest.mark.shared_data


def test_biosppy_emg_text(shared_data):
    rec = ltr.read(shared_data / "biosppy_examples" / "emg.txt")
    assert rec.sfreq == 1000.0
    assert rec.ch_kinds == ("emg",)
    assert rec.duration == pytest.approx(100.0)
    # raw 12-bit ADC counts: no unit, so nothing is converted and info says so
    assert rec.units == ("",)
    assert 0 < rec.data.min() < rec.data.max() < 4096
    assert "unit unknown" in " ".join(assess(rec).channels[0].flags)


def test_biosppy_acc_text(shared_data):
    rec = ltr.read(shared_data / "biosppy_examples" / "acc.txt")
    assert rec.sfreq == 100.0 and rec.ch_kinds == ("acc",) * 3
    assert rec.units == ("m/s^2",) * 3
    assert rec.sensors() == {"acc": [0, 1, 2]}
    magnitude = np.linalg.norm(rec.data, axis=0)
    assert np.all(magnitude < 3 * 9.81)


def test_openbci_text(shared_data):
    path = shared_data / "openbci_txt" / "OpenBCI_GUI-v6-blinks-jawClench-alpha.txt"
    rec = ltr.read(path, exclude=["Timestamp (Formatted)"], time_column=None)
    assert rec.sfreq == 250.0
    assert rec.sensors() == {"Accel Channel": [9, 10, 11]}
    assert rec.duration == pytest.approx(90, abs=1)


def test_hreflex_sweeps_with_sfreq(shared_data):
    path = shared_data / "recruitmentcurvefitting_hreflex" / "example-waveforms.csv"
    rec = ltr.read(path, sfreq=3200.0, units="mV", ch_kinds=None)
    assert rec.n_samples > 100
    assert rec.units[0] == "V"


def test_pdkit_accelerometer_ns_timestamps(shared_data):
    path = shared_data / "pdkit_tremor_accel" / "subj2458_REST_TREMOR_AMPLITUDE_-_RIGHT_HAND.csv"
    with pytest.warns(ltr.LtrDataWarning, match="irregular time column"):
        rec = ltr.read(path, time_column=0, time_unit="ns", ch_names=["acc x", "acc y", "acc z",
                                                                      "accuracy"],
                       units={"acc x": "m/s^2", "acc y": "m/s^2", "acc z": "m/s^2"})
    assert 90 < rec.sfreq < 110
    assert rec.ch_kinds[:3] == ("acc", "acc", "acc")


# -- the detector on real recordings: what it should and should not count -----------------
def _wfdb_format16(path, name):
    """Read a one-channel WFDB format-16 record (for this check only; WFDB is issue 8)."""
    hea = (path / f"{name}.hea").read_text().split("\n")
    sfreq = float(hea[0].split()[2])
    gain = float(hea[1].split()[2].split("/")[0].split("(")[0])
    x = np.fromfile(path / f"{name}.dat", "<i2") / gain * 1e-3  # mV -> V
    return ltr.Recording(x, sfreq, ["EMG needle"])


def test_detector_leaves_needle_emg_motor_units_alone(shared_data):
    # gentle contractions of tibialis anterior: isolated (giant) motor-unit potentials
    # and interference, no twitch; at most a handful of bursts may pass
    for name, most in (("emg_myopathy", 1), ("emg_neuropathy", 3), ("emg_healthy", 4)):
        rec = _wfdb_format16(shared_data / "physionet_emgdb", name)
        res = ltr.detect(rec)
        assert len(res) <= most, (name, res.onset)
    res = ltr.detect(_wfdb_format16(shared_data / "physionet_emgdb", "emg_neuropathy"))
    assert res.overview()["rejected"].get("needle_spike", 0) > 50


def test_detector_finds_and_removes_ecg_on_real_emg(shared_data):
    import scipy.io

    m = scipy.io.loadmat(shared_data / "emggo" / "Sample_Data.mat", squeeze_me=True,
                         struct_as_record=False)
    x = np.asarray(m["EMG"].channelData, float).ravel()
    rec = ltr.Recording(x, float(m["EMG"].fs), ["EMG tibialis"], units=[""])
    res = ltr.detect(rec)
    # ~75 bpm over 550 s of 250 Hz EMG, and the ballistic bursts are contractions
    assert 500 < res.processing["EMG tibialis"]["heartbeats"] < 900
    assert res.contractions["onset"].size > 30
    assert len(res) < 30


def test_detector_on_real_accelerometers(shared_data):
    rec = ltr.read(shared_data / "biosppy_examples" / "acc.txt")
    assert len(ltr.detect(rec)) == 0
    path = shared_data / "pdkit_tremor_accel" / "subj2458_REST_TREMOR_AMPLITUDE_-_RIGHT_HAND.csv"
    with pytest.warns(ltr.LtrDataWarning):
        rec = ltr.read(path, time_column=0, time_unit="ns",
                       ch_names=["acc x", "acc y", "acc z", "accuracy"],
                       units={"acc x": "m/s^2", "acc y": "m/s^2", "acc z": "m/s^2"})
    res = ltr.detect(rec)
    assert res.processing["acc"]["glitches_repaired"] > 0
    assert len(res) <= 2  # tremor is a movement, sensor glitches are not jolts
