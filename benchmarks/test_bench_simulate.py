"""Cost of the simulator and of event matching (timings are reported, never asserted)."""

from __future__ import annotations

import numpy as np
import pytest

from ltr.evaluate import compare
from ltr.simulate import session


@pytest.mark.parametrize(("layout", "duration"), [("emg+acc", 60.0), ("emg+acc", 600.0),
                                                  ("emg2+acc", 600.0)])
def test_session(benchmark, layout, duration):
    benchmark.group = "simulate 2 kHz"
    rec, _truth = benchmark(session, duration, 2000.0, layout, 0)
    assert rec.n_samples == int(duration * 2000)


def test_session_everything(benchmark):
    benchmark.group = "simulate 2 kHz"
    _rec, truth = benchmark(session, 600.0, 2000.0, "emg2+acc", 0, condition="everything")
    assert len(truth.confounders["kind"]) > 0


@pytest.mark.parametrize("n", [1_000, 100_000])
def test_compare(benchmark, n):
    benchmark.group = "evaluate"
    rng = np.random.default_rng(0)
    ref = np.sort(rng.uniform(0, n, n))
    det = ref + rng.normal(0, 0.02, n)
    det = np.concatenate([det, rng.uniform(0, n, n // 10)])
    r = benchmark(compare, det, ref, 0.05)
    assert r["tp"] > 0.9 * n
