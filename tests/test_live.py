"""The streaming detector (ltr.live): same events as offline, whatever the chunks."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

import ltr
from ltr.evaluate import compare
from ltr.live import StreamConfig, StreamingDetector
from ltr.live import run as live_run
from ltr.live.sinks import LIVE_COLUMNS, EventsWriter
from ltr.live.sources import FileSource, TailSource
from ltr.simulate import session

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "recordings" / "sample_emg_acc.edf"


def stream(rec: ltr.Recording, chunk: int, **kw) -> tuple[list, StreamingDetector]:
    det = StreamingDetector(rec.sfreq, rec.ch_names, rec.ch_kinds, units=rec.units, **kw)
    found = []
    for i in range(0, rec.n_samples, chunk):
        found += det.push(rec.data[:, i:i + chunk])
    found += det.flush()
    return found, det


@pytest.fixture(scope="module")
def fused() -> tuple[ltr.Recording, object]:
    return session(duration=20.0, layout="emg+acc", seed=7, condition="fused")


def key(found: list) -> list[tuple]:
    return [(f.onset, f.offset, f.channels, f.amplitude, f.confidence) for f in found]


def test_one_push_across_the_plans_gives_the_same_twitches() -> None:
    """A 30-s block pushed at once (a file read whole, ``ltr live --follow`` on a
    finished file) spans the plans made at 2 and 10 s; the watch's filters change with
    them. It lost the twitch at 9.97 s of the sample before the block was cut there."""
    rec = ltr.read(Path(__file__).resolve().parents[1] / "recordings" / "sample_emg_acc.edf")
    n = round(30 * rec.sfreq)
    part = ltr.Recording(rec.data[:, :n], rec.sfreq, rec.ch_names, rec.ch_kinds,
                         units=rec.units)
    ref, _ = stream(part, 1000)
    whole, _ = stream(part, n)
    assert len(ref) >= 8
    assert key(whole) == key(ref)


def test_chunk_size_invariance(fused) -> None:
    """1, 7, 64, 1000 and 10 000 samples per push: identical twitches (exactly: every
    decision falls on the same samples, and each computation sees the same numbers)."""
    rec, _ = fused
    ref, _ = stream(rec, 10000)
    assert len(ref) >= 5  # the session holds twitches to compare
    for chunk in (1000, 64, 7, 1):
        found, _ = stream(rec, chunk)
        assert key(found) == key(ref), chunk


@pytest.mark.parametrize("condition, layout", [("clean", "emg"), ("fused", "emg+acc"),
                                               ("ecg", "emg")])
def test_agrees_with_offline(condition, layout) -> None:
    """Streamed onsets match ltr.detect's on the same session (F1 >= 0.97 with the
    usual 50-ms tolerance) and are as accurate against the truth."""
    rec, truth = session(duration=60.0, layout=layout, seed=11, condition=condition)
    off = ltr.detect(rec)
    found, _ = stream(rec, 500)
    on = np.array([f.onset for f in found])
    assert compare(on, off.onset, 0.05)["f1"] >= 0.97
    assert compare(on, truth.onsets, 0.05)["f1"] >= compare(off.onset, truth.onsets,
                                                            0.05)["f1"] - 0.02


def test_latency_in_stream_time(fused) -> None:
    """Each twitch is reported once it has ended and the channels have been quiet for
    StreamConfig.quiet: soon after its offset (in samples pushed, not wall time)."""
    rec, _ = fused
    found, det = stream(rec, 100)
    cfg = det.stream
    late = np.array([f.decided_at - f.offset for f in found])
    assert (late >= 0).all()
    # quiet, a hop, the envelope window, and the jolt that may follow a burst (100 ms)
    assert np.median(late) <= cfg.quiet + cfg.hop + 0.04 + 0.1
    lat = np.array([f.decided_at - f.onset for f in found])
    assert np.median(lat) < 0.4


def test_rows_carry_offline_fusion_and_epochs() -> None:
    """The shipped sample replayed: every twitch streamed carries the channels, modality
    and needle insertion (epoch, from its needle in/out annotations) that ltr.detect
    gives it (onsets matched within 5 ms: the same twitch, a few samples apart)."""
    off = ltr.detect(ltr.read(SAMPLE))
    assert set(off.events["modality"]) >= {"emg+acc", "acc"}  # fused twitches to compare
    assert off.epochs.source == "annotations"
    reported: list = []
    done = live_run.run(FileSource(SAMPLE, speed=0), on_twitch=reported.append)
    live = done.results.events
    assert live["onset"].size == off.events["onset"].size
    i = np.abs(live["onset"][:, None] - off.events["onset"][None, :]).argmin(axis=1)
    np.testing.assert_allclose(live["onset"], off.events["onset"][i], atol=0.005)
    for col in ("channels", "modality", "epoch"):
        assert live[col].tolist() == off.events[col][i].tolist(), col
    assert done.results.epochs.source == "annotations"
    # and as each twitch was reported (the rows of --out)
    assert [(tw.channels, tw.modality, tw.row["epoch"]) for tw in reported] == list(
        zip(off.events["channels"][i], off.events["modality"][i], off.events["epoch"][i],
            strict=True))


def test_epochs_from_marks_as_they_arrive() -> None:
    """Needle in/out marks pushed while streaming (an LSL marker stream) give each twitch
    the insertion it falls in, an insertion not closed yet included; without marks the
    epoch is -1 when reported."""
    fs = 2000.0
    rng = np.random.default_rng(3)
    x = rng.normal(0, 5e-6, int(20 * fs))
    for t0 in (4.0, 6.0, 14.0):
        i0 = int(t0 * fs)
        x[i0: i0 + int(0.08 * fs)] += rng.normal(0, 60e-6, int(0.08 * fs))
    det = StreamingDetector(fs, ["EMG 1"], ["emg"])
    found = []
    for i in range(0, x.size, 500):
        t = i / fs
        if t == 3.0:
            det.annotate(3.0, "needle in")
        if t == 8.0:
            det.annotate(8.0, "needle out")
        if t == 12.0:
            det.annotate(12.0, "Needle In")  # case does not matter, as offline
        found += det.push(x[None, i:i + 500])
    found += det.flush()
    assert [round(f.onset) for f in found] == [4, 6, 14]
    assert [f.row["epoch"] for f in found] == [0, 0, 1]
    res = det.results()
    assert res.epochs.source == "annotations" and len(res.epochs) == 2
    assert res.events["epoch"].tolist() == [0, 0, 1]
    plain = StreamingDetector(fs, ["EMG 1"], ["emg"])
    assert [f.row["epoch"] for f in plain.iter([x[None]])] == [-1, -1, -1]
    with pytest.raises(TypeError, match="epochs must be"):
        StreamingDetector(fs, ["EMG 1"], ["emg"], epochs=[(1, 2)])


def test_fuse_late_off_reports_the_burst_alone() -> None:
    """StreamConfig(fuse_late=False): twitches are reported without waiting for the
    jolt, so the sample's fused twitches come out as EMG alone, sooner."""
    late = live_run.run(FileSource(SAMPLE, speed=0)).results.events
    soon = live_run.run(FileSource(SAMPLE, speed=0),
                        stream=StreamConfig(fuse_late=False)).results.events
    assert "emg+acc" in set(late["modality"]) and "emg+acc" not in set(soon["modality"])
    assert soon["onset"].size == late["onset"].size
    with pytest.raises(ValueError, match="fuse_late must be"):
        StreamConfig(fuse_late=1)


def test_hand_built_burst() -> None:
    """White noise with one 80-ms burst at 5.0 s: one twitch, onset within 10 ms (the
    envelope's resolution), reported less than 0.3 s after the burst ends."""
    fs = 2000.0
    rng = np.random.default_rng(0)
    x = rng.normal(0, 5e-6, int(12 * fs))
    i0 = int(5.0 * fs)
    x[i0: i0 + int(0.08 * fs)] += rng.normal(0, 60e-6, int(0.08 * fs))
    det = StreamingDetector(fs, ["EMG 1"], ["emg"])
    found = list(det.iter(x[None, i:i + 250] for i in range(0, x.size, 250)))
    assert len(found) == 1
    assert abs(found[0].onset - 5.0) < 0.01
    assert found[0].decided_at - 5.08 < 0.3
    assert found[0].unit == "V" and found[0].modality == "emg"


def test_api_callback_iter_results(fused) -> None:
    rec, _ = fused
    seen = []
    det = StreamingDetector(rec.sfreq, rec.ch_names, rec.ch_kinds, callback=seen.append)
    found = list(det.iter(rec.data[:, i:i + 1000] for i in range(0, rec.n_samples, 1000)))
    assert found == seen
    res = det.results()
    assert isinstance(res, ltr.TwitchResults)
    np.testing.assert_array_equal(res.events["onset"], [f.onset for f in found])
    assert res.duration == pytest.approx(rec.duration, abs=1 / rec.sfreq)  # one sample
    assert det.flush() == []  # a second flush: nothing more
    with pytest.raises(RuntimeError, match="after flush"):
        det.push(rec.data[:, :10])


def test_quiet_flat_and_missing_input() -> None:
    """Noise only, a flat channel and a NaN run: no twitch, no error."""
    fs = 1000.0
    rng = np.random.default_rng(1)
    x = rng.normal(0, 5e-6, (2, int(8 * fs)))
    x[1] = 0.0
    x[0, 3000:3400] = np.nan
    det = StreamingDetector(fs, ["EMG 1", "EMG 2"], ["emg", "emg"])
    found = list(det.iter(x[:, i:i + 123] for i in range(0, x.shape[1], 123)))
    assert found == []
    q = det.signal_quality()
    assert q["EMG 2"]["flat"] and not q["EMG 1"]["flat"]
    assert len(det.results()) == 0


def test_validation() -> None:
    with pytest.raises(ValueError, match="no EMG or accelerometer"):
        StreamingDetector(1000.0, ["Trigger"], ["trigger"])
    with pytest.raises(ValueError, match="3 kinds"):
        StreamingDetector(1000.0, ["a", "b"], ["emg", "emg", "emg"])
    with pytest.raises(TypeError, match="DetectorConfig"):
        StreamingDetector(1000.0, ["a"], ["emg"], config={"emg": {}})
    det = StreamingDetector(1000.0, ["a", "b"], ["emg", "emg"])
    assert det.push(np.zeros((2, 0))) == [] and det.n_samples == 0
    with pytest.raises(ValueError, match=r"shape \(2, n_samples\)"):
        det.push(np.zeros((3, 10)))
    with pytest.raises(ValueError, match="quiet must be > 0"):
        StreamConfig(quiet=0)
    with pytest.raises(ValueError, match="plan_at"):
        StreamConfig(plan_at=(10.0, 2.0))
    with pytest.raises(ValueError, match="unknown parameter"):
        StreamConfig.from_dict({"hop": 0.01, "hops": 2})


def test_events_writer_flushes_each_row(tmp_path, fused) -> None:
    """A reader sees each twitch as soon as it is written; pandas reads the table."""
    pd = pytest.importorskip("pandas")
    rec, _ = fused
    found, _ = stream(rec, 1000)
    path = tmp_path / "live.tsv"
    with EventsWriter(path) as w:
        w.write(found[0])
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 2 and lines[0].split("\t") == list(LIVE_COLUMNS)
        for tw in found[1:]:
            w.write(tw)
    df = pd.read_csv(path, sep="\t", na_values="n/a")
    assert len(df) == len(found)
    np.testing.assert_allclose(df["onset"], [f.onset for f in found], rtol=1e-9)  # 10 digits
    assert df["channels"].tolist() == [f.channels for f in found]
    with pytest.raises(FileExistsError, match="exists"):
        EventsWriter(path)


def test_tail_a_growing_csv(tmp_path) -> None:
    """A CSV written line by line while it is read: the same twitches as the whole file
    replayed (the tail sees every complete line, in order)."""
    rec, _ = session(duration=20.0, sfreq=1000.0, layout="emg", seed=5, condition="clean")
    path = tmp_path / "growing.csv"
    body = [f"{i / rec.sfreq:.6f},{v * 1e6:.6f}\n" for i, v in enumerate(rec.data[0])]

    def writer() -> None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(f"time,{rec.ch_names[0]} [uV]\n")
            for k in range(0, len(body), 2000):  # 2-s bursts of lines, a partial last line
                block = "".join(body[k:k + 2000])
                fh.write(block[:-5])
                fh.flush()
                time.sleep(0.02)
                fh.write(block[-5:])
                fh.flush()

    th = threading.Thread(target=writer, daemon=True)
    th.start()
    try:
        src = TailSource(path, idle=1.0, poll=0.01, wait=5.0)
        assert src.sfreq == pytest.approx(1000.0, rel=1e-6)  # from 6-decimal times
        assert src.ch_kinds == ["emg"] and src.units == ["V"]
        det = StreamingDetector(src.sfreq, src.ch_names, src.ch_kinds)
        tailed = list(det.iter(src.chunks()))
        src.close()
    finally:
        th.join(timeout=10)
    whole, _ = stream(rec, 4096)
    assert len(whole) >= 3
    np.testing.assert_allclose([f.onset for f in tailed], [f.onset for f in whole],
                               atol=1e-9)  # the same samples (µV printed to 1e-12 V)


def test_tail_needs_a_rate(tmp_path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("EMG 1\n0.1\n0.2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no time column"):
        TailSource(path, wait=0.1)
    with pytest.raises(ValueError, match="CSV/TSV"):
        TailSource(tmp_path / "x.edf", wait=0.1)


def test_file_source_chunks() -> None:
    src = FileSource(SAMPLE, speed=0, chunk=0.05)
    chunks = list(src.chunks())
    assert sum(c.shape[1] for c in chunks) == src.rec.n_samples
    assert {c.shape[1] for c in chunks[:-1]} == {100}  # 50 ms at 2 kHz
    with pytest.raises(ValueError, match="speed"):
        FileSource(SAMPLE, speed=-1)


def _train_with_doublets(seed: int) -> ltr.Recording:
    """Needle EMG at 10 kHz: a 3-s train of biphasic 4-ms endplate spikes (~15 Hz,
    30x the baseline, irregular) where three of its first six spikes are followed by
    another 5-8 ms later: a doublet passes for a short burst, and the stream decides it
    before the train has lasted long enough to be one (``[reject] train_min_span``)."""
    sfreq, noise = 10000.0, 3e-6
    rng = np.random.default_rng(seed)
    x = rng.normal(0, noise, int(30 * sfreq))
    tt = np.arange(-0.002, 0.002, 1 / sfreq)
    sigma = 0.004 / 6
    spike = (tt / sigma) * np.exp(-0.5 * (tt / sigma) ** 2)
    spike /= np.abs(spike).max()
    times = [t for t in 10.0 + np.cumsum(rng.gamma(4.0, 1.0 / 60.0, 60)) if t < 13.0]
    times += [times[k] + rng.uniform(0.005, 0.008) for k in (1, 3, 5)]
    for t in times:
        i = int(t * sfreq) - tt.size // 2
        x[i:i + tt.size] += 30 * noise * rng.uniform(0.85, 1.15) * spike
    return ltr.Recording(x[None], sfreq, ["EMG needle"], ch_kinds=["emg"])


def test_a_train_that_begins_with_doublets_is_no_twitch_in_the_stream_either() -> None:
    """Offline the whole train is seen, and its doublets are blanked with it; the stream
    waits while a run of spikes may still become a train. Without the wait 4 false
    twitches streamed over these 6 recordings, offline none."""
    streamed = offline = 0
    for seed in range(6):
        rec = _train_with_doublets(seed)
        offline += len(ltr.detect(rec))
        found, _ = stream(rec, 1000)
        streamed += len(found)
    assert offline == 0
    assert streamed <= 1


#: Conditions where the streamed twitches agree with offline below 0.97 or lose more than
#: 0.02 of F1 against the truth (benchmarks/results/live.md): what the stream cannot know
#: yet when it decides.
KNOWN_GAPS = {
    "endplate": "the background rule needs 1.5 s after a candidate, isolated bursts are "
                "decided 40 ms after; a train's first spikes (agreement 0.915 on 3 seeds)",
    "faint_ecg": "the background rule without the 1.5 s after a burst, faint beats before "
                 "the plans (agreement 0.957, F1 against truth 0.042 lower)",
    "everything": "every confounder at once: the background rule, contractions that begin "
                  "after a twitch, rails not yet seen (agreement 0.931)",
    "two_muscles": "agreement 0.98, but 0.018 (seeds 1000-1002) to 0.035 (1000-1001) "
                   "less accurate than offline against the truth; not investigated",
    "acc_tremor": "tremor found over a 2-s centred window: at an episode's edge the "
                  "stream decides on less (agreement 0.971 on 3 seeds, 0.952 on 2)",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(reason=KNOWN_GAPS[n], strict=False))
    if n in KNOWN_GAPS else n for n in ltr.simulate.SUITE])
def test_agreement_on_the_suite(name) -> None:
    """Pooled over two held-out seeds, streamed onsets agree with offline (F1 >= 0.97,
    50 ms; 100 ms accelerometer-only) and are at most 0.02 less accurate."""
    c = ltr.simulate.SUITE[name]
    tol = 0.1 if c.layout == "acc" else 0.05
    tp = fp = fn = 0
    truth_on = truth_off = 0.0
    for seed in (1000, 1001):
        rec, truth = session(duration=c.duration or 120.0, sfreq=c.sfreq or 2000.0,
                             layout=c.layout, seed=seed, condition=name)
        off = ltr.detect(rec)
        found, _ = stream(rec, 1000)
        on = np.array([f.onset for f in found])
        a = compare(on, off.onset, tol)
        tp, fp, fn = tp + a["tp"], fp + a["fp"], fn + a["fn"]
        truth_on += compare(on, truth.onsets, tol)["f1"]
        truth_off += compare(off.onset, truth.onsets, tol)["f1"]
    assert 2 * tp / max(1, 2 * tp + fp + fn) >= 0.97
    assert truth_on / 2 >= truth_off / 2 - 0.02
