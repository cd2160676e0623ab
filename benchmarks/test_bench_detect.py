"""Cost of ltr.detect beside its floor, one zero-phase 4th-order band-pass (sosfiltfilt).

Each group holds ``ltr.detect`` and the floor on the same data, so their ratio is read
off one report. Timings are reported by pytest-benchmark, never asserted; the asserts
only check that each benchmark computed something. Large cases (1 h, 64 channels,
streamed files) are marked ``slow``: CI runs the small ones once with
``--benchmark-disable`` so the code stays correct.

    python -m pytest benchmarks --benchmark-enable --benchmark-only -m "slow or not slow"
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from make_long import base_signals, write_long_edf
from scipy import signal

import ltr
from ltr.simulate import session

SLOW = pytest.mark.slow


def tiled(duration: float, channels: int, sfreq: float = 2000.0) -> ltr.Recording:
    """``channels`` EMG channels of ``duration`` s: up to 8 simulated 10-min channels,
    repeated over channels and tiled in time (cost does not depend on the content)."""
    names, base, _ = base_signals(min(channels, 3), sfreq)  # 1-3 EMG channels
    base = base[[i for i, n in enumerate(names) if n.startswith("EMG")]]
    n = round(duration * sfreq)
    rows = [np.resize(base[i % base.shape[0]], n) for i in range(channels)]
    rec = ltr.Recording(np.vstack(rows), sfreq, [f"EMG {i + 1}" for i in range(channels)])
    return rec


def floor(rec: ltr.Recording) -> np.ndarray:
    sos = signal.butter(4, [20, 450], btype="bandpass", fs=rec.sfreq, output="sos")
    if rec.data.dtype == np.float32:
        sos = sos.astype(np.float32)
    return signal.sosfiltfilt(sos, rec.data, axis=-1)


def _pair(benchmark, rec, which, group, rounds):
    benchmark.group = group
    benchmark.extra_info["samples"] = rec.n_channels * rec.n_samples
    if which == "floor":
        out = benchmark.pedantic(floor, (rec,), rounds=rounds, iterations=1)
        assert out.shape == rec.data.shape
    else:
        res = benchmark.pedantic(ltr.detect, (rec,), kwargs={"block": None}, rounds=rounds,
                                 iterations=1)
        assert np.isfinite(res.rate_per_min)


SCALE = [(60.0, 1), (60.0, 8),
         pytest.param(600.0, 1, marks=SLOW), pytest.param(600.0, 8, marks=SLOW),
         pytest.param(600.0, 64, marks=SLOW), pytest.param(3600.0, 1, marks=SLOW),
         pytest.param(3600.0, 8, marks=SLOW), pytest.param(3600.0, 64, marks=SLOW)]


@pytest.mark.parametrize("which", ["floor", "detect"])
@pytest.mark.parametrize(("duration", "channels"), SCALE)
def test_scale(benchmark, duration, channels, which):
    """Duration x channels at 2 kHz, float64, in memory."""
    rec = tiled(duration, channels)
    rounds = 5 if duration * channels <= 4800 else 2 if duration * channels < 40000 else 1
    _pair(benchmark, rec, which, f"{duration:g} s x {channels} ch at 2 kHz", rounds)


@pytest.mark.parametrize("which", ["floor", "detect"])
@pytest.mark.parametrize("sfreq", [1000.0, pytest.param(2000.0, marks=SLOW),
                                   pytest.param(4000.0, marks=SLOW)])
def test_rate(benchmark, sfreq, which):
    """Sampling rate, 10 min x 1 channel."""
    rec = tiled(600.0 if sfreq != 1000.0 else 60.0, 1, sfreq)
    _pair(benchmark, rec, which, f"{rec.duration:g} s x 1 ch at {sfreq:g} Hz", 5)


@pytest.mark.parametrize("which", ["floor", "detect"])
@pytest.mark.parametrize("dtype", ["float32", pytest.param("float64", marks=SLOW)])
def test_dtype(benchmark, dtype, which):
    """float32 recordings are filtered in float32 (the floor too, with a float32 design)."""
    rec = tiled(600.0 if dtype == "float64" else 60.0, 8)
    rec = ltr.Recording(rec.data.astype(dtype), rec.sfreq, rec.ch_names)
    _pair(benchmark, rec, which, f"{rec.duration:g} s x 8 ch {dtype}", 3)


def bursts(per_minute: float, duration: float = 120.0, sfreq: float = 2000.0,
           seed: int = 0) -> tuple[ltr.Recording, int]:
    """Resting EMG with ``per_minute`` bursts of 30-120 ms (at least 0.25 s apart)."""
    rng = np.random.default_rng(seed)
    n = round(duration * sfreq)
    x = rng.normal(0, 5e-6, n)
    k = round(per_minute * duration / 60)
    gaps = rng.uniform(0.25, 2 * duration / max(k, 1), k)
    starts = np.cumsum(gaps) * (duration - 1) / max(gaps.sum(), 1e-9)
    for t in starts:  # building the test signal
        a = int(t * sfreq)
        m = int(rng.uniform(0.03, 0.12) * sfreq)
        x[a: a + m] += rng.normal(0, rng.uniform(20e-6, 80e-6), len(x[a: a + m]))
    return ltr.Recording(x[np.newaxis], sfreq, ["EMG 1"]), k


@pytest.mark.parametrize("rate", [2.0, 20.0, 200.0])
def test_detect_twitch_density(benchmark, rate):
    """Cost against twitch density (100x): loops run over events, so it must grow slowly."""
    benchmark.group = "detect vs twitch density (1 ch, 120 s)"
    rec, k = bursts(rate)
    res = benchmark(ltr.detect, rec)
    benchmark.extra_info["bursts"] = k
    benchmark.extra_info["twitches_found"] = len(res)
    assert len(res) > 0.5 * k


@pytest.fixture(scope="module")
def long_files(tmp_path_factory):
    """A 1-h, 16-channel recording (13 EMG + a tri-axial accelerometer) as EDF and HDF5."""
    folder = tmp_path_factory.mktemp("long")
    edf = write_long_edf(folder / "long.edf", 1.0, 16, 2000.0)
    h5 = folder / "long.h5"
    ltr.write_hdf5(ltr.read(edf), h5, dtype="float32", compression=None)
    return {"edf": edf, "h5": h5}


@SLOW
@pytest.mark.parametrize("how", ["edf streamed", "h5 streamed", "h5 streamed n_jobs=2",
                                 "in memory"])
def test_streamed(benchmark, long_files, how):
    """1 h x 16 ch at 2 kHz: read in 300-s pieces from the file, or loaded first."""
    benchmark.group = "1 h x 16 ch, read included"
    path = long_files["edf" if how.startswith("edf") else "h5"]
    n_jobs = 2 if "n_jobs" in how else None
    if how == "in memory":
        rec = ltr.read(path).load_data()
        res = benchmark.pedantic(ltr.detect, (rec,), kwargs={"block": None}, rounds=1,
                                 iterations=1)
    else:
        res = benchmark.pedantic(lambda: ltr.detect(ltr.read(path), n_jobs=n_jobs),
                                 rounds=1, iterations=1)
        assert res.meta["pieces"] > 1
    assert len(res) > 0


@SLOW
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_channels_in_parallel(benchmark, n_jobs):
    """8 channels x 10 min in memory, serial or on 2 threads."""
    benchmark.group = "n_jobs, 600 s x 8 ch"
    rec = tiled(600.0, 8)
    res = benchmark.pedantic(ltr.detect, (rec,), kwargs={"n_jobs": n_jobs}, rounds=3,
                             iterations=1)
    assert np.isfinite(res.rate_per_min)


PEERS = [pytest.param(p, marks=SLOW) for p in ("neurokit2", "biosppy")
         if importlib.util.find_spec(p)]


@pytest.mark.parametrize("who", ["ltr", *PEERS])
def test_peers_per_minute(benchmark, who):
    """Five minutes of one 2-kHz EMG channel, beside NeuroKit2 and BioSPPy when installed
    (divide by 5 for the cost per minute)."""
    import warnings

    benchmark.group = "peers: 300 s x 1 ch at 2 kHz"
    rec, _ = session(300.0, 2000.0, "emg", 0)
    x = rec.get_data()[0]
    if who == "ltr":
        out = benchmark(ltr.detect, rec)
    elif who == "neurokit2":
        import neurokit2 as nk

        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return nk.emg_process(x, sampling_rate=2000)
        out = benchmark.pedantic(run, rounds=1, iterations=1)
    else:
        from biosppy.signals import emg

        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return emg.emg(signal=x, sampling_rate=2000.0, show=False)
        out = benchmark.pedantic(run, rounds=3, iterations=1)
    assert out is not None
