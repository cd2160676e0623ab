"""Cost of the streaming detector (ltr.StreamingDetector), pushed in 100-ms chunks.

Parametrized over what drives its cost: channels (each decides the twitches it sees, up
to ``StreamConfig.max_channels`` per twitch) and the sampling rate. Timings are reported,
never asserted; the 64-channel, 4-kHz case (the real-time budget: it must run at 50x real
time) is ``slow``. ``benchmarks/live.py`` prints the real-time factor with agreement and
latency.

    python -m pytest benchmarks/test_bench_live.py --benchmark-enable -m "slow or not slow"
"""

from __future__ import annotations

import pytest
from live import grid_recording, stream

from ltr.simulate import session


@pytest.mark.parametrize("layout", ["emg", "emg2+acc"])
def test_stream_session(benchmark, layout) -> None:
    rec, _ = session(duration=60.0, layout=layout, seed=1000)
    found, det, _ = benchmark.pedantic(stream, (rec, 200), rounds=1, iterations=1)
    assert det.n_samples == rec.n_samples and found


@pytest.mark.slow
@pytest.mark.parametrize("shared", [True, False], ids=["grid", "independent"])
def test_stream_64_channels_4khz(benchmark, shared) -> None:
    rec = grid_recording(120.0, shared=shared)
    found, _, _ = benchmark.pedantic(stream, (rec, 400), rounds=1, iterations=1)
    benchmark.extra_info["real_time_factor"] = rec.duration / benchmark.stats["mean"]
    assert found
