"""Shared fixtures: synthetic recordings and the real files in ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

# before anything imports mne_lsl: LSL streams of the tests resolve on this machine only
# (ResolveScope = machine, KnownPeers = {127.0.0.1}, IPv6 off; ltr/live/lsl_api.cfg)
os.environ["LSLAPICFG"] = str(Path(__file__).resolve().parents[1] / "ltr" / "live"
                              / "lsl_api.cfg")

import numpy as np
import pytest

import ltr

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The folder of real recordings; skips the test when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not available")
    return SHARED


def make_recording(
    seed: int = 0, sfreq: float = 1000.0, seconds: float = 4.0, annotations: bool = True
) -> ltr.Recording:
    """EMG (µV-scale noise with bursts), a tri-axial accelerometer and a trigger channel."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sfreq)
    t = np.arange(n) / sfreq
    emg = rng.normal(0, 5e-6, n)
    burst = (t > 1.0) & (t < 1.1)
    emg[burst] += rng.normal(0, 80e-6, burst.sum())
    acc = rng.normal(0, 0.05, (3, n)) + np.array([[0.0], [0.0], [9.81]])
    trig = np.zeros(n)
    trig[(t >= 0.5) & (t < 3.0)] = 1.0
    ann = ltr.Annotations([0.5, 1.0, 3.0], [2.5, 0.0, 0.0],
                          ["needle in", "marker", "needle out"]) if annotations else None
    return ltr.Recording(
        np.vstack([emg, acc, trig]), sfreq,
        ["EMG trapezius", "ACC X", "ACC Y", "ACC Z", "Trigger"],
        orig_units=["uV", "g", "g", "g", ""], annotations=ann,
    )


@pytest.fixture
def recording() -> ltr.Recording:
    return make_recording()
