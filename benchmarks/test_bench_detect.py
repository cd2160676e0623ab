"""Cost of ltr.detect beside its floor, one zero-phase 4th-order band-pass (sosfiltfilt).

Timings are reported by pytest-benchmark, never asserted. The performance issue extends
this to 8-64 channels, 1 h recordings and streamed files.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

import ltr
from ltr.simulate import session


@pytest.fixture(scope="module", params=[("emg", 600.0), ("emg+acc", 600.0), ("emg2", 600.0)],
                ids=lambda p: f"{p[0]}-{p[1]:g}s")
def recording(request):
    layout, duration = request.param
    rec, _ = session(duration, 2000.0, layout, 0, condition=None)
    return rec


def test_detect(benchmark, recording):
    benchmark.group = f"detect {recording.n_channels} ch"
    res = benchmark(ltr.detect, recording)
    assert len(res) > 0


def test_sosfiltfilt_floor(benchmark, recording):
    benchmark.group = f"detect {recording.n_channels} ch"
    sos = signal.butter(4, [20, 450], btype="bandpass", fs=recording.sfreq, output="sos")
    out = benchmark(signal.sosfiltfilt, sos, recording.data, axis=-1)
    assert out.shape == recording.data.shape


@pytest.mark.parametrize("rate", [2.0, 20.0, 200.0])
def test_detect_twitch_density(benchmark, rate):
    """Cost against twitch density: loops run over events, so it must grow slowly."""
    benchmark.group = "detect vs twitch density (1 ch, 120 s)"
    rec, _ = session(120.0, 2000.0, "emg", 0, p_enter_target=min(1.0, rate / 20),
                         p_stay_target=0.95, pass_interval=(0.25, 0.3), refractory=0.2)
    res = benchmark(ltr.detect, rec)
    assert np.isfinite(res.rate_per_min)
