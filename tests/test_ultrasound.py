"""Ultrasound cine loops: simulator, optical flow, motion Recording, rules, readers."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import ltr
from ltr.detect import DetectorConfig
from ltr.detect.config import UsConfig
from ltr.detect.rules import (
    REASONS,
    US_RULES,
    Candidates,
    us_freeze,
    us_needle,
    us_needle_long,
    us_probe_motion,
    us_pulsation,
    us_slow,
)
from ltr.evaluate import match_onsets
from ltr.simulate import cine

pytest.importorskip("cv2")
pytest.importorskip("skimage")


def _clip(seed: int, **kw):
    kw.setdefault("duration", 12.0)
    kw.setdefault("fps", 30.0)
    return cine(seed=seed, **kw)


# -- simulator ---------------------------------------------------------------------------
def test_cine_frames_and_truth():
    clip, truth = _clip(3, twitch_rate=30)
    assert clip.frames.shape == (360, 192, 256)
    assert clip.frames.dtype == np.uint8
    assert clip.fps == 30.0 and clip.spacing_mm == pytest.approx(0.15)
    assert len(truth) > 0
    d = truth.twitches["offset"] - truth.twitches["onset"]
    assert np.all((d >= 0.05) & (d <= 0.2))
    assert np.all((truth.twitches["amplitude"] > 1.0) & (truth.twitches["amplitude"] <= 5))
    kinds = set(truth.confounders["kind"].tolist())
    assert {"breathing", "drift"} <= kinds
    again, truth2 = _clip(3, twitch_rate=30)
    assert np.array_equal(clip.frames, again.frames)  # the seed decides everything
    np.testing.assert_array_equal(truth.onsets, truth2.onsets)


def test_cine_rejects_unknown_confounder():
    with pytest.raises(ValueError, match="unknown.*'tremor'"):
        cine(duration=2, confounders=("tremor",))


def test_freeze_repeats_frames():
    clip, truth = _clip(5, confounders=("freeze",), twitch_rate=0)
    fr = truth.confounders_of("freeze")
    assert fr["onset"].size
    i = round(fr["onset"][0] * clip.fps)
    assert np.array_equal(clip.frames[i], clip.frames[i + 1])


# -- optical flow ------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["farneback", "ilk"])
@pytest.mark.parametrize("shift", [(0.7, -0.4), (-1.5, 1.0)])
def test_flow_recovers_a_known_shift(method, shift):
    from scipy import ndimage

    from ltr.simulate.cine import _texture
    from ltr.ultrasound.flow import flow

    tex = _texture((200, 260), np.random.default_rng(1)) * 60
    a = tex[20:180, 20:240]
    yy, xx = np.mgrid[0:160, 0:220].astype(float)
    b = ndimage.map_coordinates(tex, [yy + 20 - shift[1], xx + 20 - shift[0]], order=3)
    fx, fy = flow(a, b, method=method, downsample=2)
    inner = (slice(10, -10), slice(10, -10))
    # 0.25 px: the worst mean error of the chosen settings on the benchmark's textures
    # was 0.05 (2x) - 0.3 px (5x averaging); a sign or scale error would be > 0.7 px
    assert np.median(fx[inner]) == pytest.approx(shift[0], abs=0.25)
    assert np.median(fy[inner]) == pytest.approx(shift[1], abs=0.25)


def test_flow_rejects_unknown_method():
    from ltr.ultrasound.flow import flow

    with pytest.raises(ValueError, match="method must be one of"):
        flow(np.zeros((8, 8)), np.zeros((8, 8)), method="horn")


# -- motion recording and detection -------------------------------------------------------
def test_motion_recording_channels_units():
    clip, _ = _clip(2, duration=4)
    rec = ltr.ultrasound.motion_recording(clip)
    assert rec.ch_names[0] == "US" and rec.ch_kinds[0] == "us"
    assert rec.units[0] == "mm/s"
    assert rec.sfreq == clip.fps and rec.n_samples == clip.n_frames
    x0, y0, x1, y1 = rec.meta["ultrasound"]["roi_px"]
    assert 0 <= x0 < x1 <= 256 and 0 <= y0 < y1 <= 192
    clip.spacing_mm = None
    rec_px = ltr.ultrasound.motion_recording(clip, roi=(x0, y0, x1, y1))
    assert rec_px.units[0] == "px/s"
    # the same box, in px/s instead of mm/s: the speeds differ by the pixel size
    np.testing.assert_allclose(rec.get_data(picks="US")[0] / 0.15,
                               rec_px.get_data(picks="US")[0], rtol=1e-4, atol=1e-3)


def test_streamed_clip_equals_in_memory():
    from ltr.ultrasound import Clip

    clip, _ = _clip(4, duration=3)
    calls = []

    def reader(a, b):
        calls.append(b - a)
        return clip.frames[a:b]

    lazy = Clip(None, fps=clip.fps, spacing_mm=clip.spacing_mm, reader=reader,
                n_frames=clip.n_frames, shape=clip.shape)
    a = ltr.ultrasound.motion_recording(clip, block=16)
    b = ltr.ultrasound.motion_recording(lazy, block=16)
    assert max(calls) <= 16  # never more than a block in memory
    np.testing.assert_array_equal(a.get_data(), b.get_data())


@pytest.mark.parametrize("seed,fps", [(11, 20.0), (12, 30.0)])
def test_detect_finds_simulated_twitches(seed, fps):
    clip, truth = _clip(seed, fps=fps, twitch_rate=30, confounders=("drift", "breathing"))
    res = ltr.detect(ltr.ultrasound.motion_recording(clip))
    assert set(res.events["modality"].tolist()) <= {"us"}
    det, _ = match_onsets(res.events["onset"], truth.onsets, 1 / fps + 0.05)
    assert len(truth) >= 2  # twitch_rate=30 draws 2-6 in 12 s
    assert det.size >= 0.8 * len(truth)
    assert len(res) - det.size <= 1
    df = res.to_data_frame()
    assert "amplitude_mm_s" in df and np.all(df["amplitude_mm_s"] > 0)


@pytest.mark.parametrize("kind,reason", [("probe_jerk", "probe_motion"),
                                         ("needle", "needle")])
def test_lookalikes_rejected_with_their_reason(kind, reason):
    seen = 0
    for seed in (21, 22):
        clip, _truth = _clip(seed, twitch_rate=0, confounders=(kind,))
        res = ltr.detect(ltr.ultrasound.motion_recording(clip))
        assert len(res) == 0, res.events["onset"]
        seen += int(np.sum(res.rejected["reason"] == reason))
    assert seen > 0


# -- rules on hand-made candidates ---------------------------------------------------------
def _cands(**feats):
    n = len(next(iter(feats.values())))
    base = {"speed_peak": np.ones(n), "global_peak": np.full(n, 0.3),
            "global_median": np.full(n, 0.3), "needle_peak": np.full(n, 0.2),
            "needle_median": np.full(n, 0.2), "tip_move": np.zeros(n),
            "tip_span": np.zeros(n), "frozen": np.zeros(n)}
    base.update({k: np.asarray(v, float) for k, v in feats.items()})
    onset = np.asarray(feats.pop("onset", np.arange(n) * 30), int)
    return Candidates(onset, onset + 3, 30.0, base, np.ones(n))


def test_us_rules_hand_made():
    u = UsConfig()
    c = _cands(global_peak=[0.3, 5.0, 5.0], speed_peak=[1.0, 1.0, 20.0])
    # a still field, a jerk larger than the local speed, a large local burst
    assert us_probe_motion(c, u).tolist() == [False, True, False]
    c = _cands(needle_peak=[0.2, 2.0, 2.0], speed_peak=[1.0, 1.0, 10.0],
               tip_move=[0, 0, 45])
    assert us_needle(c, u).tolist() == [False, True, True]
    assert us_freeze(_cands(frozen=[0, 1]), u).tolist() == [False, True]
    c = _cands(speed_peak=[1.0, 1.0])
    c.offset = c.onset + np.array([3, 30])  # 0.1 s, 1 s at 30 fps
    assert us_slow(c, u).tolist() == [False, True]


def test_us_needle_long_needs_both_duration_and_tip_travel():
    u = UsConfig()
    # at 30 fps: 0.1 s / 20 px, 0.4 s / 20 px, 0.4 s / 2 px, 0.3 s / 12 px (both borders)
    c = _cands(tip_span=[20.0, 20.0, 2.0, 12.0])
    c.offset = c.onset + np.array([3, 12, 12, 9])
    assert us_needle_long(c, u).tolist() == [False, True, False, True]
    # a twitch-long candidate in a manipulation is left to the other rules
    assert not us_needle(c, u)[0]
    # without a tip channel the feature is missing: the rule never fires
    del c.features["tip_span"]
    assert not us_needle_long(c, u).any()


def test_tip_span_spans_the_manipulation_around_a_candidate():
    from ltr.detect._us import _tip_move, _tip_span

    fps, u = 30, UsConfig()
    tip = np.full(150, 100.0)
    tip[45:75] = np.linspace(100, 140, 30)  # a 40-px advance over 1 s
    tip[75:] = 140.0
    tip[100] = np.nan  # a frame without a tip estimate
    onset, offset = np.array([52, 120]), np.array([64, 125])  # inside it; after it
    span = _tip_span(tip, onset, offset, round(u.long_window * fps))
    # the candidate inside sees the whole 40 px, the one after it a still tip (1e-9 px:
    # the linspace's rounding)
    np.testing.assert_allclose(span, [40.0, 0.0], atol=1e-9)
    # the 0.3-s medians beside the candidate see less than tip_move (about 28.6 px)
    move = _tip_move(tip, onset, offset, round(u.tip_window * fps))
    assert 20 < move[0] < u.tip_move
    assert _tip_span(np.full(150, np.nan), onset, offset, 18).tolist() == [0.0, 0.0]


def test_us_pulsation_needs_a_long_regular_train():
    u = UsConfig()
    beat = np.round(np.arange(10) * 0.8 * 30).astype(int)  # 75 bpm for 8 s
    c = _cands(speed_peak=np.ones(10), onset=beat)
    assert us_pulsation(c, u).all()
    few = _cands(speed_peak=np.ones(5), onset=beat[:5])  # a run of 5 pistoned twitches
    assert not us_pulsation(few, u).any()
    jitter = beat + np.array([0, 5, -4, 6, -5, 4, -6, 5, -3, 0])
    assert not us_pulsation(_cands(speed_peak=np.ones(10), onset=jitter), u).any()


def test_us_reasons_registered_and_config_toml(tmp_path):
    assert {r.reason for r in US_RULES} <= set(REASONS)
    cfg = DetectorConfig.from_dict({"us": {"probe_ratio": 0.7}})
    path = tmp_path / "c.toml"
    cfg.to_toml(path)
    assert DetectorConfig.from_toml(path).us.probe_ratio == 0.7
    with pytest.raises(ValueError, match=r"\[us\]"):
        DetectorConfig.from_dict({"us": {"on_ratio": 1.0}})


# -- readers -------------------------------------------------------------------------------
def test_dicom_round_trip_and_cli(tmp_path, capsys):
    pytest.importorskip("pydicom")
    from ltr.cli import main
    from ltr.ultrasound.io import read_clip, write_dicom

    clip, _ = _clip(7, duration=3, fps=25.0)
    p = write_dicom(tmp_path / "cine.dcm", clip.frames, 25.0, spacing_mm=0.15)
    back = read_clip(p)
    assert back.fps == pytest.approx(25.0, rel=1e-4)  # FrameTime is written to 6 digits
    assert back.spacing_mm == pytest.approx(0.15)
    assert back.n_frames == clip.n_frames
    np.testing.assert_array_equal(back.read(10, 20), clip.frames[10:20])
    rec = ltr.read(p)
    assert rec.ch_kinds[0] == "us" and rec.units[0] == "mm/s"
    assert main(["info", str(p)]) == 0
    assert "US" in capsys.readouterr().out
    assert main(["detect", str(p)]) == 0
    assert main(["detect", str(p), "--roi", "20,20,120,100"]) == 0
    assert main(["detect", str(p), "--roi", "20,20,900,100"]) != 0
    err = capsys.readouterr().err
    assert "roi=" not in err and "--roi" in err and "Traceback" not in err


def test_a_dicom_of_another_modality_is_refused(tmp_path):
    pydicom = pytest.importorskip("pydicom")
    from ltr.ultrasound.io import read_dicom, write_dicom

    p = write_dicom(tmp_path / "c.dcm", np.zeros((3, 16, 16), np.uint8), 20.0)
    for modality, ok in (("MR", False), ("CT", False), ("OT", True), ("US", True)):
        ds = pydicom.dcmread(p)
        ds.Modality = modality
        ds.save_as(tmp_path / f"{modality}.dcm")
        if ok:
            assert read_dicom(tmp_path / f"{modality}.dcm").n_frames == 3
        else:
            with pytest.raises(ValueError, match=f"{modality}.dcm: a DICOM of modality "
                                                 f"{modality}, not an ultrasound"):
                read_dicom(tmp_path / f"{modality}.dcm")


def test_dicom_without_rate_or_decoder(tmp_path, monkeypatch):
    pydicom = pytest.importorskip("pydicom")
    from ltr.ultrasound.io import read_dicom, write_dicom

    p = write_dicom(tmp_path / "c.dcm", np.zeros((3, 16, 16), np.uint8), 20.0)
    ds = pydicom.dcmread(p)
    del ds.FrameTime
    del ds.CineRate
    ds.save_as(tmp_path / "norate.dcm")
    with pytest.raises(ValueError, match=r"norate.dcm: no frame rate.*fps="):
        read_dicom(tmp_path / "norate.dcm")
    assert read_dicom(tmp_path / "norate.dcm", fps=12).fps == 12
    # a compressed transfer syntax whose decoder is missing: the plugin is named
    ds = pydicom.dcmread(p)
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.90"
    ds.PixelData = pydicom.encaps.encapsulate([b"\x00" * 16] * 3)  # 3 opaque frames
    ds.save_as(tmp_path / "j2k.dcm")

    def no_decoder(*a, **k):
        raise RuntimeError("unable to decode: no plugin")
        yield  # pragma: no cover

    monkeypatch.setattr("pydicom.pixels.iter_pixels", no_decoder)
    with pytest.raises(ValueError, match=r"j2k.dcm: .*JPEG 2000.*pylibjpeg-openjpeg"):
        read_dicom(tmp_path / "j2k.dcm")


def test_mp4_round_trip(tmp_path, capsys):
    iio = pytest.importorskip("imageio.v2")
    pytest.importorskip("imageio_ffmpeg")
    from ltr.cli import main

    clip, _ = _clip(8, duration=3, fps=30.0)
    p = tmp_path / "cine.mp4"
    with iio.get_writer(p, fps=30, codec="libx264", quality=9, macro_block_size=16) as w:
        for f in clip.frames:
            w.append_data(f)
    rec = ltr.read(p)
    assert rec.sfreq == pytest.approx(30.0)
    assert rec.units[0] == "px/s"  # a video has no pixel size
    assert abs(rec.n_samples - clip.n_frames) <= 1
    assert main(["info", str(p)]) == 0
    assert main(["detect", str(p)]) == 0


def test_frame_folder(tmp_path):
    from PIL import Image

    clip, _ = _clip(9, duration=1, fps=20.0)
    for i, f in enumerate(clip.frames):
        Image.fromarray(f).save(tmp_path / f"f{i:04d}.png")
    with pytest.raises(IsADirectoryError):
        ltr.read(tmp_path)  # no rate given: not taken for frames
    with pytest.raises(ValueError, match="no frame rate; pass fps="):
        ltr.ultrasound.io.read_frames(tmp_path)
    rec = ltr.read(tmp_path, sfreq=20.0)
    assert rec.n_samples == 20 and rec.ch_kinds[0] == "us"


def _shipped(name: str) -> Path | None:
    spec = importlib.util.find_spec("data_store")  # pydicom-data, no download ever
    if spec is None or spec.origin is None:
        return None
    p = Path(spec.origin).parent / "data" / name
    return p if p.is_file() else None


def test_real_ultrasound_dicoms_shipped_by_pydicom_data():
    pytest.importorskip("pydicom")
    from ltr.ultrasound import Clip
    from ltr.ultrasound.io import read_clip

    cine_file = _shipped("color3d_jpeg_baseline.dcm")  # 120-frame JPEG US cine
    two = _shipped("OBXXXX1A_2frame.dcm")  # 2-frame palette-colour US, no rate
    if cine_file is None or two is None:
        pytest.skip("pydicom-data is not installed")
    clip = read_clip(cine_file)
    assert clip.n_frames == 120 and clip.shape == (480, 640)
    assert clip.fps == pytest.approx(30.0, rel=1e-3)  # FrameTime 33.333 ms
    assert clip.spacing_mm == pytest.approx(0.5105, rel=1e-3)  # region: 0.05105 cm
    head = Clip(clip.read(0, 12), fps=clip.fps, spacing_mm=clip.spacing_mm)
    rec = ltr.ultrasound.motion_recording(head)
    assert np.isfinite(rec.get_data()).all()
    with pytest.raises(ValueError, match="no frame rate"):
        read_clip(two)
    rec2 = ltr.read(two, fps=10)
    assert rec2.n_samples == 2 and rec2.units[0] == "mm/s"


def test_video_reader_leaves_no_open_pipes(tmp_path):
    """A clip read to its end (ffmpeg exits by itself) and then closed leaves no pipe of
    the ffmpeg process open: imageio-ffmpeg closes them only when ffmpeg still runs, so
    they used to reach garbage collection (a ResourceWarning per clip; a CI failure)."""
    import gc
    import time
    import warnings

    iio = pytest.importorskip("imageio.v2")
    pytest.importorskip("imageio_ffmpeg")
    from ltr.ultrasound.io import _close_video, _open_video

    p = tmp_path / "short.mp4"
    frames = (np.random.default_rng(0).random((20, 64, 64)) * 255).astype(np.uint8)
    with iio.get_writer(p, fps=30, codec="libx264", quality=9, macro_block_size=16) as w:
        for f in frames:
            w.append_data(f)
    # whether ffmpeg has exited when the generator sees the end is a race: several clips
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(6):
            rdr, proc = _open_video(iio, p)
            assert proc is not None  # the process is found where _close_video looks
            n = sum(1 for _ in rdr)  # to the end: the generator finishes, ffmpeg exits
            time.sleep(0.2)
            _close_video(rdr, proc)
            assert proc.stdout.closed and proc.stdin.closed and proc.poll() is not None
            assert n == 20
            del rdr, proc
            gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_clip_in_memory_reads_and_detects_like_its_file(tmp_path):
    """`clip, truth = ltr.simulate.cine(...)` then `ltr.detect(clip)` / `ltr.read(clip)`
    (the README's "treat it like any other modality"): the clip's motion recording, the
    same twitches as through a DICOM file; unknown options are named."""
    clip, _ = cine(duration=8, seed=3, shape=(96, 128), twitch_rate=30)
    rec = ltr.read(clip)
    assert "us" in rec.ch_kinds and rec.sfreq == clip.fps
    res = ltr.detect(clip)
    assert len(res.onset) > 0
    p = ltr.ultrasound.write_dicom(tmp_path / "c.dcm", clip.frames, clip.fps,
                                   spacing_mm=clip.spacing_mm)
    assert np.allclose(res.onset, ltr.detect(ltr.read(p)).onset)
    with pytest.raises(TypeError, match=r"option\(s\) \['sfreq'\] not understood when "
                                        "reading an ultrasound Clip"):
        ltr.read(clip, sfreq=30)


def test_a_broken_video_is_one_short_line(tmp_path, capsys):
    """A damaged .mp4 names the file and ffmpeg's last word, not ffmpeg's whole banner
    (version, build flags, library versions: 2.9 kB), nor an install hint when
    imageio-ffmpeg is installed."""
    pytest.importorskip("imageio_ffmpeg")
    from ltr.cli import main

    p = tmp_path / "bad.mp4"
    p.write_text("hi\n")
    assert main(["info", str(p)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"ltr info: error: {p}: cannot open as video (")
    assert len(err.splitlines()) == 1 and len(err) < 300 and "pip install" not in err


def test_info_names_the_cine_format(tmp_path, capsys):
    """`ltr info cine.dcm` printed an empty 'format' line (fresh-eyes trial)."""
    from ltr.cli import main

    clip, _ = cine(duration=2, seed=1, shape=(64, 96))
    p = ltr.ultrasound.write_dicom(tmp_path / "c.dcm", clip.frames, clip.fps,
                                   spacing_mm=clip.spacing_mm)
    assert ltr.read(p).meta["format"] == "DICOM"
    assert ltr.read(clip).meta["format"] == "ultrasound cine"
    assert main(["info", str(p)]) == 0
    assert "format      DICOM" in capsys.readouterr().out


def _tip_loop(frame, prof):
    """The needle tip of one frame as first written, one 1-D profile at a time (the
    reference :func:`ltr.ultrasound.motion._tips` must equal)."""
    from scipy.ndimage import binary_closing, label, map_coordinates, uniform_filter1d

    ts, qy, qx, bg = prof
    p = uniform_filter1d(map_coordinates(frame, [qy, qx], order=1), 3)
    level = float(np.median(p[: max(3, p.size // 2)]))
    above = binary_closing(p > (level + bg) / 2, structure=np.ones(5, bool))
    lab, k = label(above)
    if k == 0:
        return float("nan")
    longest = int(np.argmax(np.bincount(lab)[1:])) + 1
    return float(ts[np.flatnonzero(lab == longest)[-1]])


def test_tips_of_a_block_equal_the_per_frame_loop():
    """Vectorized over frames equals looped, on frames with a bright line, with several
    runs of equal length, and with none (NaN)."""
    from ltr.ultrasound.motion import _tips

    rng = np.random.default_rng(3)
    frames = rng.uniform(0, 60, (9, 40, 50)).astype(np.float32)
    ts = np.arange(30, dtype=float)
    qy, qx = 5 + ts, 8 + ts
    for j in range(8):  # a bright line ending at a different depth per frame
        end = 6 + 3 * j
        frames[j, (5 + ts[:end]).astype(int), (8 + ts[:end]).astype(int)] = 250.0
    i = (5 + ts).astype(int), (8 + ts).astype(int)
    # two runs of equal length (3-7 and 15-19, 2-8 and 14-20 once smoothed): the first
    frames[3] = 10.0
    frames[3][i] = np.where((np.arange(30) % 12 >= 3) & (np.arange(30) % 12 < 8)
                            & (np.arange(30) < 24), 250.0, 10.0)
    frames[8] = 0.0  # flat: no run above its level
    prof = (ts, qy, qx, 30.0)
    got = _tips(frames, prof)
    want = np.array([_tip_loop(f, prof) for f in frames])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(got[8])
    assert got[3] == 8.0
    # positions along the line are grid points: exactly equal
    np.testing.assert_array_equal(got[~np.isnan(got)], want[~np.isnan(want)])


def test_the_readme_example_clip_has_twitches_and_they_are_found():
    """README: `cine(duration=20, seed=5)` holds 4 twitches and `ltr.detect(clip)` finds
    them (seed=1's 20-s clip holds none); keep the README in step if this changes."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "ltr.simulate.cine(duration=20, seed=5)` (4 twitches" in readme
    clip, truth = cine(duration=20, seed=5)
    assert truth.onsets.size == 4
    res = ltr.detect(clip)
    # onsets within 0.1 s (3 frames at 30 fps); detection may drift as the rules are tuned
    assert res.compare(truth, tolerance=0.1)["f1"] >= 0.75
