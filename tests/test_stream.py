"""Processing in pieces gives the same events as processing the whole recording."""

from __future__ import annotations

import numpy as np
import pytest

import ltr
from ltr.detect.stream import _quiet_cut
from ltr.simulate import SUITE, session

BLOCK = 122.0  # the shortest piece allowed: calibration (120 s) + 2 s


def _same(a: ltr.TwitchResults, b: ltr.TwitchResults) -> None:
    """Identical events and rejections; floating features equal to rounding."""
    for name in ("channel_events", "events", "rejected", "contractions"):
        ta, tb = getattr(a, name), getattr(b, name)
        assert ta["onset"].size == tb["onset"].size, name
        oa, ob = np.argsort(ta["onset"], kind="stable"), np.argsort(tb["onset"], kind="stable")
        for key in ta:
            va, vb = ta[key][oa], tb[key][ob]
            if va.dtype == object or va.dtype.kind in "iub":
                assert list(va) == list(vb), (name, key)
            elif key in ("onset", "offset", "duration", "peak_time"):
                np.testing.assert_array_equal(va, vb, err_msg=f"{name}.{key}")
            else:
                np.testing.assert_allclose(va, vb, rtol=1e-8, atol=0, equal_nan=True,
                                           err_msg=f"{name}.{key}")
    assert a.noise_floor.keys() == b.noise_floor.keys()
    for k in a.noise_floor:
        assert a.noise_floor[k] == pytest.approx(b.noise_floor[k], rel=1e-9)


@pytest.mark.parametrize(("condition", "seed"), [("everything", 3), ("ecg", 4),
                                                 ("voluntary_contraction", 5)])
def test_pieces_equal_whole(condition, seed):
    rec, _ = session(400.0, 2000.0, SUITE[condition].layout, seed, condition=condition)
    whole = ltr.detect(rec, block=None)
    pieces = ltr.detect(rec, block=BLOCK)
    assert len(whole) > 20
    _same(whole, pieces)
    assert pieces.meta["pieces"] >= 3
    assert whole.meta["pieces"] == 1


def _bursts_at_edges() -> tuple[ltr.Recording, list[float]]:
    """Noise with 60-ms bursts straddling piece boundaries, and a train of bursts 0.3 s
    apart that outlasts a whole piece (no quiet point to hand over at: the next piece
    grows)."""
    sfreq = 2000.0
    rng = np.random.default_rng(11)
    n = int(500 * sfreq)
    x = rng.normal(0, 5e-6, n)
    onsets = []
    # pieces end at multiples of 122 s (on the 1-s alignment grid)
    for t in (122 - 0.03, 122 + 0.9, 488 - 0.03, 488 + 0.9, 375.0):
        a = int(t * sfreq)
        x[a: a + int(0.06 * sfreq)] += rng.normal(0, 60e-6, int(0.06 * sfreq))
        onsets.append(t)
    train = np.arange(240.0, 370.0, 0.3)  # over the boundaries at 244 and 366 s
    for t in train:
        a = int(t * sfreq)
        x[a: a + int(0.06 * sfreq)] += rng.normal(0, 60e-6, int(0.06 * sfreq))
    rec = ltr.Recording(x[np.newaxis], sfreq, ["EMG 1"], ch_kinds=["emg"])
    return rec, onsets + list(train)


def test_twitches_straddling_piece_edges():
    rec, onsets = _bursts_at_edges()
    whole = ltr.detect(rec, block=None)
    pieces = ltr.detect(rec, block=BLOCK)
    _same(whole, pieces)
    # every burst is found once, wherever the cut fell
    found = pieces.events["onset"]
    hits = [np.sum(np.abs(found - t) < 0.02) for t in onsets]
    missed = [t for t, h in zip(onsets, hits, strict=True) if h != 1]
    assert not missed, missed[:5]


def test_pieces_from_files_equal_whole(tmp_path):
    rec, _ = session(300.0, 2000.0, "emg+acc", 8, condition="fused")
    for suffix in (".edf", ".h5"):
        path = tmp_path / f"rec{suffix}"
        ltr.write(rec, path)
        lazy = ltr.read(path)
        assert not lazy.preloaded
        streamed = ltr.detect(lazy, block=BLOCK)
        assert not lazy.preloaded  # never loaded whole
        whole = ltr.detect(ltr.read(path).load_data(), block=None)
        _same(whole, streamed)


def test_parallel_channels_equal_serial():
    rec, _ = session(120.0, 2000.0, "emg2+acc", 9, condition="everything")
    _same(ltr.detect(rec), ltr.detect(rec, n_jobs=2))


def test_block_too_short_is_refused():
    rec, _ = session(400.0, 1000.0, "emg", 1)
    with pytest.raises(ValueError, match="too short"):
        ltr.detect(rec, block=60.0)
    with pytest.raises(ValueError, match="block must be"):
        ltr.detect(rec, block="pieces")


def test_quiet_cut_moves_before_activity():
    from ltr.detect._channel import ChannelResult

    def res(on, off):
        return ChannelResult("c", "emg", "V", np.asarray(on), np.asarray(off), {},
                             np.full(len(on), "", dtype=object), 0.0)

    assert _quiet_cut(res([], []), 0, 1000, 10) == 1000
    assert _quiet_cut(res([100], [200]), 0, 1000, 10) == 1000
    assert _quiet_cut(res([995], [1100]), 0, 1000, 10) == 985
    # a chain of candidates closer than the guard is one busy stretch
    assert _quiet_cut(res([900, 960, 995], [950, 990, 1100]), 0, 1000, 20) == 880
    # activity through the whole stretch: no cut
    assert _quiet_cut(res([5], [2000]), 0, 1000, 10) == 0


def test_float32_recording_stays_float32_with_the_same_events():
    rec, truth = session(120.0, 2000.0, "emg+acc", 12, condition="fused")
    rec32 = ltr.Recording(rec.data.astype(np.float32), rec.sfreq, rec.ch_names,
                          rec.ch_kinds, units=rec.units)
    assert rec32.data.dtype == np.float32
    assert rec32.get_data(0, 10).dtype == np.float32
    a, b = ltr.detect(rec), ltr.detect(rec32)
    assert len(a) == len(b) > 10
    # single-precision filtering moves an onset by a sample at most
    assert np.max(np.abs(a.events["onset"] - b.events["onset"])) <= 1 / rec.sfreq + 1e-12
    assert b.compare(truth)["f1"] == pytest.approx(a.compare(truth)["f1"], abs=0.02)


def test_cli_block_option_gives_the_same_events_file(tmp_path, capsys):
    from ltr.cli import main

    rec, _ = session(320.0, 1000.0, "emg", 13)
    path = tmp_path / "rec.edf"
    ltr.write(rec, path)
    assert main(["detect", str(path), "--block", "0", "-o", str(tmp_path / "a.tsv")]) == 0
    assert main(["detect", str(path), "--block", "122", "-o", str(tmp_path / "b.tsv"),
                 "--n-jobs", "2"]) == 0
    a = (tmp_path / "a.tsv").read_text()
    assert a == (tmp_path / "b.tsv").read_text()
    assert a.count("\n") > 10
    assert main(["detect", str(path), "--block", "30"]) != 0
    assert "too short" in capsys.readouterr().err


def test_pieces_on_worker_processes_equal_whole():
    """A process backend (joblib.parallel_config) gets the heartbeat template back from
    the first piece, like threads do."""
    import joblib

    rec, _ = session(300.0, 2000.0, "emg2", 14,
                     ecg_bpm=(60.0, 80.0), ecg_amplitude=200e-6)
    whole = ltr.detect(rec, block=None)
    with joblib.parallel_config(backend="loky"):
        pieces = ltr.detect(rec, block=BLOCK, n_jobs=2)
    assert whole.processing["EMG trapezius"]["heartbeats"] > 200
    _same(whole, pieces)


def test_gaps_across_piece_edges_equal_whole():
    """NaN gaps (one across a piece boundary) are handled the same in pieces."""
    rec, _ = session(400.0, 2000.0, "emg+acc", 21, condition="fused")
    data = rec.data.copy()
    data[:, int(243.5 * 2000): (245 * 2000)] = np.nan  # over the 244-s boundary
    data[0, (100 * 2000): int(100.01 * 2000)] = np.nan
    gappy = ltr.Recording(data, rec.sfreq, rec.ch_names, rec.ch_kinds, units=rec.units)
    with pytest.warns(UserWarning, match="gap"):
        whole = ltr.detect(gappy, block=None)
    with pytest.warns(UserWarning, match="gap"):
        pieces = ltr.detect(gappy, block=BLOCK)
    assert len(whole) > 20
    _same(whole, pieces)


def test_clipping_seen_only_late_is_marked_in_pieces_too():
    """Saturation appears only in the third piece: candidates touching the rail are turned
    away as clipping, as when the whole recording is processed."""
    sfreq = 2000.0
    rng = np.random.default_rng(5)
    x = rng.normal(0, 5e-6, int(400 * sfreq))
    for t in (30.0, 150.0, 330.0):  # bursts that stay within the amplifier's range
        a = int(t * sfreq)
        x[a: a + 120] += rng.normal(0, 30e-6, 120)
    late = slice(int(300 * sfreq), int(300 * sfreq) + 120)
    x[late] += rng.normal(0, 300e-6, 120)
    x[late] = np.clip(x[late], -200e-6, 200e-6)  # the amplifier saturates
    rec = ltr.Recording(x[np.newaxis], sfreq, ["EMG 1"], ch_kinds=["emg"])
    whole = ltr.detect(rec, block=None)
    pieces = ltr.detect(rec, block=BLOCK)
    _same(whole, pieces)
    clipped = pieces.rejected["onset"][pieces.rejected["reason"] == "clipping"]
    assert clipped.size == 1 and abs(clipped[0] - 300.0) < 0.05
    assert np.sum(np.abs(pieces.events["onset"] - 330.0) < 0.05) == 1
