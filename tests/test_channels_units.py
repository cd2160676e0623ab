"""Channel-kind inference, sensor grouping and unit conversion."""

from __future__ import annotations

import pytest

from ltr.channels import group_sensors, infer_kind, split_axis
from ltr.units import STANDARD_GRAVITY, si_scale, split_label_unit


@pytest.mark.parametrize(
    ("label", "unit", "kind"),
    [
        ("EMG trapezius", "", "emg"),
        ("sEMG_left", "", "emg"),
        ("Mini sensor 10: EMG 10", "V", "emg"),
        ("ACC X", "", "acc"),
        ("Accel_Y", "", "acc"),
        ("acc_z", "", "acc"),
        ("Status", "", "trigger"),
        ("Trigger", "", "trigger"),
        ("STI 014", "", "trigger"),
        ("Marker Channel", "", "trigger"),
        ("EXG1", "uV", "misc"),
        ("sensor 3", "g", "acc"),
        ("Temperature", "", "misc"),
        ("Stimulus intensity", "", "misc"),  # 'stim' only as a whole word
        ("Memgraph", "", "misc"),  # 'emg' inside a word is not EMG
    ],
)
def test_infer_kind(label, unit, kind):
    assert infer_kind(label, unit) == kind


def test_axis_split_and_grouping():
    assert split_axis("ACC X") == ("ACC", "x")
    assert split_axis("Mini sensor 10: ACC.Z 10") == ("Mini sensor 10: ACC 10", "z")
    assert split_axis("EMG") is None
    names = ["ACC X", "ACC Y", "ACC Z", "Accel Channel 0", "Accel Channel 1",
             "Accel Channel 2", "acc wrist", "S1 ACC.Y", "S1 ACC.X"]
    groups = group_sensors(names, ["acc"] * len(names))
    assert groups == {"ACC": [0, 1, 2], "Accel Channel": [3, 4, 5], "acc wrist": [6],
                      "S1 ACC": [8, 7]}
    # a repeated axis is not guessed into one sensor
    assert group_sensors(["A X", "A X2"], ["acc", "acc"]) == {"A X": [0], "A X2": [1]}


@pytest.mark.parametrize(
    ("unit", "scale", "si"),
    [("uV", 1e-6, "V"), ("µV", 1e-6, "V"), ("μV", 1e-6, "V"), ("mV", 1e-3, "V"), ("V", 1, "V"),
     ("[uV]", 1e-6, "V"), ("g", STANDARD_GRAVITY, "m/s^2"), ("mg", STANDARD_GRAVITY / 1e3,
     "m/s^2"), ("m/s^2", 1, "m/s^2"), ("m/s²", 1, "m/s^2"), ("counts", 1, ""), ("", 1, ""),
     ("MV", 1, "")],
)
def test_si_scale(unit, scale, si):
    factor, got = si_scale(unit)
    assert factor == pytest.approx(scale) and got == si


def test_split_label_unit():
    assert split_label_unit("EMG trapezius [uV]") == ("EMG trapezius", "uV")
    assert split_label_unit("ACC X (g)") == ("ACC X", "g")
    assert split_label_unit("Digital Channel 0 (D11)") == ("Digital Channel 0 (D11)", "")
