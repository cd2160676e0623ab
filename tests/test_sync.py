"""An ultrasound clip put on a recording's clock, and its twitches fused with the EMG's."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
import warnings

import numpy as np
import pytest

import ltr
from ltr.annotations import Annotations
from ltr.detect.config import DetectorConfig
from ltr.evaluate import evaluate
from ltr.recording import Recording
from ltr.sync import ClipSync, clip_offset, fuse_clip, refine_offset

T0 = dt.datetime(2026, 3, 1, 10, 0, 0, tzinfo=dt.timezone.utc)


def _rec(meas_date=T0, ann=None) -> Recording:
    return Recording(np.zeros((1, 2000)), 1000.0, ["EMG"], ch_kinds=["emg"],
                     meas_date=meas_date, annotations=ann)


class _Clip:  # what clip_offset reads of a clip: its start time and name
    def __init__(self, meas_date):
        self.meas_date = meas_date
        self.source = "clip.dcm"


# -- the offset --------------------------------------------------------------------------

def test_offset_from_start_times_given_or_a_sync_event():
    clip = _Clip(T0 + dt.timedelta(seconds=12.25))
    assert clip_offset(_rec(), clip) == ClipSync(12.25, "start times")
    assert clip_offset(_rec(), clip, offset=3.5) == ClipSync(3.5, "given")
    ann = Annotations(onset=[4.0, 30.0], duration=[0, 0], description=["needle in", "Sync "])
    s = clip_offset(_rec(ann=ann), clip, sync=("sync", 2.5))
    assert s.offset == pytest.approx(27.5) and "sync event" in s.source


def test_offset_errors_name_what_is_missing():
    with pytest.raises(ValueError, match="no start time.*--clip-offset"):
        clip_offset(_rec(meas_date=None), _Clip(T0))
    with pytest.raises(ValueError, match="clip.dcm: no start time"):
        clip_offset(_rec(), _Clip(None))
    ann = Annotations(onset=[1.0, 2.0], duration=[0, 0], description=["sync", "sync"])
    with pytest.raises(ValueError, match="2 annotations of that name.*'sync#1' to 'sync#2'"):
        clip_offset(_rec(ann=ann), _Clip(T0), sync=("sync", 0.0))
    assert clip_offset(_rec(ann=ann), _Clip(T0), sync=("sync#2", 0.5)).offset == 1.5
    with pytest.raises(ValueError, match="has 2 annotation"):
        clip_offset(_rec(ann=ann), _Clip(T0), sync=("sync#3", 0.0))
    with pytest.raises(ValueError, match="0 annotations.*present: \\['sync'\\]"):
        clip_offset(_rec(ann=ann), _Clip(T0), sync=("tap", 0.0))
    with pytest.raises(ValueError, match="not both"):
        clip_offset(_rec(), _Clip(T0), offset=1.0, sync=("sync", 0.0))


# -- refining it from the twitches -------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_refine_finds_a_clock_error_from_twitches_both_saw(seed):
    rng = np.random.default_rng(seed)
    emg = np.sort(rng.uniform(0, 120, 25))
    true_offset, clock_error = 7.0, rng.uniform(-1.5, 1.5)
    seen = emg[rng.random(emg.size) < 0.7]  # the clip sees most of them, a frame late
    us_clip_time = seen + rng.uniform(0.0, 0.06, seen.size) - true_offset
    extra = rng.uniform(0, 110, 4)  # and some look-alikes of its own
    us = np.concatenate([us_clip_time, extra])
    start = ClipSync(true_offset + clock_error, "start times")
    got = refine_offset(emg, us, start, window=(-0.05, 0.1), search=2.0)
    assert abs(got.offset - true_offset) < 0.06
    assert got.matches >= int(0.8 * seen.size) and "refined" in got.source
    # a plain loop over lags (the reference) agrees on the number lined up
    best = max(sum(np.any((u + got.offset + lag - emg >= -0.05)
                          & (u + got.offset + lag - emg <= 0.1)) for u in us)
               for lag in np.arange(-0.1, 0.1, 0.005))
    assert got.matches == best


def test_refine_leaves_the_offset_when_chance_explains_the_pairs():
    rng = np.random.default_rng(5)
    emg = np.sort(rng.uniform(0, 60, 8))
    us = rng.uniform(0, 60, 3)  # nothing in common
    start = ClipSync(2.0, "given")
    got = refine_offset(emg, us, start, window=(-0.05, 0.1), search=2.0)
    assert got.offset == 2.0 and got.shift == 0.0 and got.source == "given"
    # dense, unrelated trains: some lag always lines up a few, which chance explains
    emg = np.sort(rng.uniform(0, 60, 120))
    us = rng.uniform(0, 60, 30)
    got = refine_offset(emg, us, start, window=(-0.05, 0.1), search=2.0)
    assert got.offset == 2.0 and got.chance > 0.05
    lined = max(sum(np.any((u + 2.0 + lag - emg >= -0.05) & (u + 2.0 + lag - emg <= 0.1))
                    for u in us) for lag in np.arange(-2, 2.001, 0.005))
    assert lined >= 2  # the best lag did line up several: refused for chance, not count


# -- fusion ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def paired_motion():
    """The paired session, and the clip's motion recording (its in-memory clip kept for
    the thumbnails)."""
    pytest.importorskip("cv2")  # the clip's optical flow (ltr[ultrasound])
    from ltr.ultrasound import motion_recording

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # faint EMG (down to -3 dB) beside a clip: what ultrasound adds
        rec, clip, truth = ltr.simulate.paired(40, 2000, "emg", 7, fps=30, shape=(192, 256),
                                               snr_db=(-3, 20))
        res = ltr.detect(rec, min_confidence=0.0)
        motion = motion_recording(clip)
        us = ltr.detect(motion)
    return rec, clip, truth, res, us, motion


@pytest.fixture(scope="module")
def paired_session(paired_motion):
    return paired_motion[:5]


def test_paired_simulation_puts_the_same_twitches_in_both(tmp_path):
    pytest.importorskip("scipy.ndimage")
    rec, clip, truth = ltr.simulate.paired(20, 1000, "emg", 3, fps=20, shape=(64, 96))
    info = truth.info
    assert 1 <= info["clip_offset"] <= 5 and abs(info["clock_error"]) <= 1.5
    seen = np.isfinite(truth.twitches["us_onset"])
    delay = truth.twitches["us_onset"][seen] - truth.twitches["onset"][seen]
    assert seen.sum() >= 1 and np.all((delay >= 0.005) & (delay <= 0.04))
    clip_on = np.asarray(info["clip_truth"]["twitches"]["onset"]) + info["clip_offset"]
    np.testing.assert_allclose(np.sort(clip_on), np.sort(truth.twitches["us_onset"][seen]),
                               atol=1e-8)
    back = ltr.simulate.Truth.from_json(truth.to_json(tmp_path / "t.json"))  # saved whole
    assert back.info["clip_offset"] == pytest.approx(info["clip_offset"])
    start = (clip.meas_date - rec.meas_date).total_seconds()
    assert start == pytest.approx(info["clip_offset"] + info["clock_error"])


def test_fused_twitches_are_counted_once_and_the_clip_adds_faint_ones(paired_session):
    rec, clip, truth, res, us = paired_session
    fused = fuse_clip(res, us, clip_offset(rec, clip))
    c = fused.meta["clip"]
    assert abs(c["offset"] - truth.info["clip_offset"]) < 0.1  # the clock error undone
    mod = fused.events["modality"].astype(str)
    assert set(mod) <= {"emg", "us", "emg+us"} and np.sum(mod == "emg+us") == c["fused"] >= 2
    # once each: no ultrasound row within the window of an EMG row it should have joined
    lo, hi = c["window"]
    e_on = fused.onset[mod != "us"]
    u_on = fused.onset[mod == "us"]
    d = u_on[:, None] - e_on[None, :]
    assert not np.any((d >= lo) & (d <= hi))
    tol = 0.05 + 1 / clip.fps
    inside = (truth.onsets >= c["offset"]) & (truth.onsets < c["offset"] + us.duration)
    emg = res.filter(min_confidence=0.5, calibrated_only=True)
    r_emg = evaluate(emg.onset, truth, tolerance=tol)
    r_fused = evaluate(fused.onset, truth, tolerance=tol)
    assert inside.sum() >= 5
    assert r_fused.tp > r_emg.tp and r_fused.f1 > r_emg.f1
    # the clip's rows are on the recording's clock in every table
    us_rows = fused.channel_events["channel"].astype(str) == "US"
    np.testing.assert_allclose(np.sort(fused.channel_events["onset"][us_rows]),
                               np.sort(us.channel_events["onset"] + c["offset"]))


def test_a_fused_twitch_keeps_the_emg_onset_and_combines_confidence(paired_session):
    _rec, _clip, truth, res, us = paired_session
    fused = fuse_clip(res, us, truth.info["clip_offset"], refine=None)
    both = fused.events["modality"].astype(str) == "emg+us"
    on = fused.onset[both]
    idx = np.searchsorted(res.onset, on)
    np.testing.assert_array_equal(res.onset[idx], on)
    assert np.all(fused.events["confidence"][both] >= res.events["confidence"][idx])
    assert all("US" in c and "EMG" in c for c in fused.events["channels"][both])
    assert fused.meta["clip"]["source"] == "given" and fused.meta["clip"]["shift"] == 0


def test_the_floor_still_applies_to_twitches_the_clip_did_not_see(paired_session):
    _rec, _clip, truth, res, us = paired_session
    floor = 0.995
    below = res.events["confidence"] < floor
    assert below.any()
    # nothing fused (a window nowhere near): the floor sets aside what ltr.detect would
    cfg = res.config
    never = dataclasses.replace(cfg, fusion=dataclasses.replace(cfg.fusion,
                                                                us_delay=(5.0, 5.0)))
    alone = fuse_clip(dataclasses.replace(res, config=never), us, truth.info["clip_offset"],
                      refine=None, min_confidence=floor)
    low = alone.rejected["reason"] == "low_confidence"
    ch = alone.rejected["channel"].astype(str)
    assert np.sum(low & (ch != "US")) == below.sum()
    # fused: a floor asked for applies to every twitch by its own confidence, the clip's
    # too; the clip lifts some faint EMG twitches above it (1 - (1 - c)(1 - c_us))
    fused = fuse_clip(res, us, truth.info["clip_offset"], refine=None, min_confidence=floor)
    assert np.all(fused.events["confidence"] >= floor)
    mod = fused.events["modality"].astype(str)
    kept_emg = np.sum(mod == "emg+us") + np.sum(mod == "emg")
    assert kept_emg > (~below).sum()  # the clip confirmed some of them
    # the default floor (none asked for) leaves the clip's twitches alone
    default = fuse_clip(res, us, truth.info["clip_offset"], refine=None)
    d_mod = default.events["modality"].astype(str)
    assert np.all(default.events["confidence"][d_mod == "emg"] >= default.meta["min_confidence"])
    us_all = fuse_clip(res, us, truth.info["clip_offset"], refine=None, min_confidence=0.0)
    assert np.sum(d_mod == "us") == np.sum(us_all.events["modality"].astype(str) == "us")


def test_an_unconfirmed_offset_warns_with_advice_for_how_it_was_found(paired_session):
    _rec, _clip, truth, res, us = paired_session
    # an offset given 1 s off, searched only ±0.2 s: nothing lines up
    with pytest.warns(ltr.LtrDataWarning, match="check the offset given") as got:
        fuse_clip(res, us, truth.info["clip_offset"] + 1.0, refine=0.2)
    assert not any("give the offset" in str(w.message) for w in got)
    # from the start times, the advice is to give one
    sync = ClipSync(truth.info["clip_offset"] + 1.0, "start times")
    with pytest.warns(ltr.LtrDataWarning, match=r"give the offset \(--clip-offset\)"):
        fuse_clip(res, us, sync, refine=0.2)


def test_clip_twitches_outside_the_recording_are_set_aside(paired_session):
    _rec, _clip, truth, res, us = paired_session
    shift = 20.0  # the clip (40 s) now runs 20 s past the recording's end
    with pytest.warns(ltr.LtrDataWarning, match="not counted"):
        part = fuse_clip(res, us, truth.info["clip_offset"] + shift, refine=None,
                         min_confidence=0.0)
    on = us.events["onset"] + truth.info["clip_offset"] + shift
    past = int(np.sum(on >= res.duration))
    assert past > 0
    assert np.all(part.events["onset"] < res.duration)
    out = part.rejected["reason"].astype(str) == "outside_recording"
    assert out.sum() == past == part.meta["clip"]["outside"]
    assert np.all(part.rejected["onset"][out] >= res.duration)
    assert "outside the recording (not counted)" in part.format_summary()


def test_a_window_too_narrow_fuses_nothing(paired_session):
    _rec, _clip, truth, res, us = paired_session
    cfg = res.config
    narrow = dataclasses.replace(cfg, fusion=dataclasses.replace(cfg.fusion,
                                                                 us_delay=(5.0, 5.0)))
    fused = fuse_clip(dataclasses.replace(res, config=narrow), us,
                      truth.info["clip_offset"], refine=None, min_confidence=0.0)
    assert fused.meta["clip"]["fused"] == 0
    assert len(fused) == len(res) + len(us)


def test_us_delay_is_a_config_field_that_round_trips(tmp_path):
    cfg = DetectorConfig.from_dict({"fusion": {"us_delay": [-0.01, 0.05]}})
    assert tuple(cfg.fusion.us_delay) == (-0.01, 0.05)
    p = tmp_path / "c.toml"
    cfg.to_toml(p)
    assert tuple(DetectorConfig.from_toml(p).fusion.us_delay) == (-0.01, 0.05)


# -- the command line --------------------------------------------------------------------

def test_cli_detect_with_a_dicom_clip(tmp_path):
    pytest.importorskip("pydicom")
    pytest.importorskip("cv2")
    from ltr.ultrasound import write_dicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec, clip, _truth = ltr.simulate.paired(30, 2000, "emg", 7, fps=20, shape=(96, 128),
                                               snr_db=(-3, 20))
    edf, dcm = tmp_path / "s.edf", tmp_path / "s.dcm"
    ltr.write_edf(rec, edf)
    write_dicom(dcm, clip.frames, clip.fps, spacing_mm=clip.spacing_mm,
                meas_date=clip.meas_date)
    out = tmp_path / "ev.tsv"
    run = subprocess.run([sys.executable, "-m", "ltr.cli", "detect", str(edf), "--clip", str(dcm),
                          "-o", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "clip s.dcm: first frame at" in run.stdout and "start times" in run.stdout
    text = out.read_text()
    assert "emg+us" in text or "\tus\t" in text
    import json

    side = json.loads(out.with_suffix(".json").read_text())
    assert side["UltrasoundClip"]["clip"].endswith("s.dcm")
    assert "start times" in side["UltrasoundClip"]["source"]
    assert "emg+us" in side["modality"]["Description"]
    bad = subprocess.run([sys.executable, "-m", "ltr.cli", "detect", str(edf), "--clip", str(dcm),
                          "--clip-sync", "tap=1.0"], capture_output=True, text=True)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "sync event 'tap': 0 annotations" in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "ltr.cli", "detect", str(edf),
                          "--clip-offset", "2"], capture_output=True, text=True)
    assert bad.returncode == 2 and "need --clip" in bad.stderr


def test_bad_fusions_are_refused_with_a_reason(paired_session):
    _rec, _clip, truth, res, us = paired_session
    off = truth.info["clip_offset"]
    with pytest.raises(ValueError, match="lies outside the recording"):
        fuse_clip(res, us, 1000.0, refine=None)
    with pytest.raises(ValueError, match="pass the EMG/accelerometer recording's results"):
        fuse_clip(us, res, off)
    fused = fuse_clip(res, us, off, refine=None)
    with pytest.raises(ValueError, match="already hold ultrasound"):
        fuse_clip(fused, us, off)
    for bad in (-1, float("inf"), float("nan"), 1e6):
        with pytest.raises(ValueError, match="refine must be"):
            fuse_clip(res, us, off, refine=bad)
    with pytest.warns(ltr.LtrDataWarning, match="lie outside the recording"):
        part = fuse_clip(res, us, off + 20.0, refine=None)
    assert part.meta["clip"]["checked"] is False
    assert part.meta["min_confidence"] == res.config.confidence.min_confidence


def test_refine_holds_a_long_search_in_little_memory():
    rng = np.random.default_rng(3)
    emg = np.sort(rng.uniform(0, 3600, 3000))  # an hour of twitches
    us = emg[rng.random(emg.size) < 0.5] + 0.02 - 100.0 + rng.uniform(0, 0.03)
    got = refine_offset(emg, us, ClipSync(100.0 + 37.0, "start times"),
                        window=(-0.05, 0.1), search=60.0)
    assert abs(got.offset - 100.0) < 0.06 and got.matches >= 0.9 * us.size


def test_the_clip_rows_keep_their_units_in_every_table(paired_session):
    pytest.importorskip("pandas")
    _rec, _clip, truth, res, us = paired_session
    fused = fuse_clip(res, us, truth.info["clip_offset"], refine=None)
    rej = fused.to_data_frame("rejected")
    us_rows = rej["channel"].astype(str).str.startswith("US")
    assert us_rows.any()
    assert rej.loc[us_rows, "amplitude_mm_s"].notna().all()
    assert "amplitude_uV" not in rej or rej.loc[us_rows, "amplitude_uV"].isna().all()



def test_the_report_of_a_fused_result_counts_the_clip(paired_session, tmp_path):
    pytest.importorskip("matplotlib")
    from ltr.report import write_report

    rec, _clip, truth, res, us = paired_session
    fused = fuse_clip(res, us, truth.info["clip_offset"], refine=None)
    html = write_report(rec, fused, tmp_path / "r.html")[0].read_text()
    c = fused.meta["clip"]
    assert "also seen on the ultrasound clip" in html and "on the clip alone" in html
    assert f">{c['fused']}<" in html.replace(" ", "")


# -- the clip twitch's amplitude on fused rows ---------------------------------------------

def _clip_row(fused, us, i):
    """The row of the clip's own results that fused row ``i`` came from: the one whose
    peak, on the recording's clock, is the row's ``us_peak_time`` (1 µs: a sum of two
    floats) and whose onset lies in the matching window."""
    off = fused.meta["clip"]["offset"]
    j = np.flatnonzero(np.abs(us.events["peak_time"] + off
                              - fused.events["us_peak_time"][i]) < 1e-6)
    assert j.size == 1
    lo, hi = fused.meta["clip"]["window"]
    d = us.events["onset"][j[0]] + off - fused.onset[i]
    mod = str(fused.events["modality"][i])
    assert (lo <= d <= hi) if mod != "us" else abs(d) < 1e-6
    return int(j[0])


def test_fused_rows_keep_the_clip_twitchs_amplitude(paired_session):
    pytest.importorskip("pandas")
    _rec, _clip, truth, res, us = paired_session
    fused = fuse_clip(res, us, truth.info["clip_offset"], refine=None)
    ev = fused.events
    mod = ev["modality"].astype(str)
    seen = np.char.endswith(mod.astype("U"), "us")
    assert np.sum(mod == "emg+us") >= 2 and np.sum(mod == "us") >= 1
    for i in np.flatnonzero(seen):  # a loop over the clip's twitches (a handful)
        j = _clip_row(fused, us, i)
        # copied from the clip's results, not computed: equal to rounding (1e-12)
        np.testing.assert_allclose(ev["us_amplitude"][i], us.events["amplitude"][j],
                                   rtol=1e-12)
        assert ev["us_unit"][i] == us.events["unit"][j] == "mm/s"
    # here the clip saw every EMG twitch; with a window that joins none, the EMG rows
    # are the clip's blanks
    cfg = res.config
    never = dataclasses.replace(cfg, fusion=dataclasses.replace(cfg.fusion,
                                                                us_delay=(5.0, 5.0)))
    apart = fuse_clip(dataclasses.replace(res, config=never), us, truth.info["clip_offset"],
                      refine=None, min_confidence=0.0)
    emg = apart.events["modality"].astype(str) == "emg"
    assert emg.sum() == len(res)
    assert np.isnan(apart.events["us_amplitude"][emg]).all()
    assert set(apart.events["us_unit"][emg]) == {""}
    assert np.isnan(apart.events["us_peak_time"][emg]).all()
    assert apart.to_data_frame()["amplitude_mm_s"][emg].isna().all()
    np.testing.assert_allclose(np.sort(apart.events["us_amplitude"][~emg]),
                               np.sort(us.events["amplitude"]), rtol=1e-12)
    # a fused row keeps the EMG's amplitude; the table has both, one unit per column
    df = fused.to_data_frame()
    both = mod == "emg+us"
    idx = np.searchsorted(res.onset, fused.onset[both])
    np.testing.assert_allclose(df["amplitude_uV"].to_numpy()[both],
                               res.events["amplitude"][idx] * 1e6, rtol=1e-12)
    np.testing.assert_allclose(df["amplitude_mm_s"].to_numpy()[seen], ev["us_amplitude"][seen],
                               rtol=1e-12)
    # rms and area stay those of the clip-only rows (a fused row's are the EMG's, in µV)
    assert df["rms_mm_s"][mod != "us"].isna().all()


def test_the_clip_amplitude_survives_filter_review_and_every_file(paired_session, tmp_path):
    pd = pytest.importorskip("pandas")
    import json

    _rec, _clip, truth, res, us = paired_session
    # a window that joins one EMG twitch at most: rows the clip saw and rows it did not
    cfg = res.config
    narrow = dataclasses.replace(cfg, fusion=dataclasses.replace(cfg.fusion,
                                                                 us_delay=(0.03, 0.05)))
    fused = fuse_clip(dataclasses.replace(res, config=narrow), us,
                      truth.info["clip_offset"], refine=None, min_confidence=0.0)
    mod = fused.events["modality"].astype(str)
    assert (mod == "emg").any() and (mod == "us").any()
    # filter: rows set aside take their clip columns with them, the rest keep theirs
    sure = fused.filter(min_confidence=0.99)
    keep = np.isin(fused.onset, sure.onset)
    assert 0 < keep.sum() < len(fused)
    np.testing.assert_array_equal(sure.events["us_unit"], fused.events["us_unit"][keep])
    np.testing.assert_allclose(sure.events["us_amplitude"], fused.events["us_amplitude"][keep],
                               rtol=1e-12, equal_nan=True)
    # BIDS events and their sidecar: the column named by its unit, n/a where not seen
    tsv = fused.write_events(tmp_path / "ev.tsv")
    back = pd.read_csv(tsv, sep="\t", na_values="n/a")
    seen = fused.events["us_unit"] != ""
    np.testing.assert_allclose(back["amplitude_mm_s"], np.where(seen, fused.events[
        "us_amplitude"], np.nan), rtol=1e-9, equal_nan=True)  # 10 significant digits
    np.testing.assert_allclose(back["us_peak_time"], fused.events["us_peak_time"], rtol=1e-9,
                               equal_nan=True)
    side = json.loads(tsv.with_suffix(".json").read_text())
    assert side["amplitude_mm_s"]["Units"] == "mm/s"
    assert "every twitch the clip saw" in side["amplitude_mm_s"]["Description"]
    assert side["us_peak_time"]["Units"] == "s"
    # CSV: the same columns as the TSV
    csv = pd.read_csv(fused.write_events(tmp_path / "ev.csv"), na_values="n/a")
    assert {"amplitude_mm_s", "us_peak_time"} <= set(csv.columns)
    # JSON: the event arrays, null where the clip did not see the twitch
    doc = json.loads(fused.to_json())
    assert [v is None for v in doc["events"]["us_amplitude"]] == list(~seen)
    # the HDF5 store reads the columns back
    pytest.importorskip("h5py")
    again = ltr.read_results(ltr.write_results(fused, tmp_path / "r.h5"))
    np.testing.assert_allclose(again.events["us_amplitude"], fused.events["us_amplitude"],
                               rtol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(again.events["us_unit"].astype(str),
                                  fused.events["us_unit"].astype(str))


def test_a_clips_own_results_read_their_amplitude_as_the_clip_amplitude(paired_session):
    from ltr.results import us_amplitude

    _rec, _clip, _truth, res, us = paired_session
    amp, unit = us_amplitude(us.events)
    np.testing.assert_array_equal(amp, us.events["amplitude"])
    assert set(unit) == {"mm/s"}
    amp, unit = us_amplitude(res.events)  # a recording's: the clip saw none of them
    assert np.isnan(amp).all() and set(unit) <= {""}


def test_thumbnails_of_a_fused_clip_show_the_clip_twitchs_peak(paired_motion):
    pytest.importorskip("matplotlib")
    from ltr.ultrasound.figures import fused_thumbnails

    _rec, clip, truth, res, us, motion = paired_motion
    fused = fuse_clip(res, us, truth.info["clip_offset"], refine=None)
    th = fused_thumbnails(motion, fused, max_thumbnails=50)
    mod = fused.events["modality"].astype(str)
    seen = np.flatnonzero(np.char.endswith(mod.astype("U"), "us"))
    assert th.n_twitches == seen.size and [t.index for t in th.items] == list(seen)
    off = fused.meta["clip"]["offset"]
    for t in th.items:  # numbered and timed as the report's table, framed as the clip
        assert t.onset == fused.onset[t.index]
        want = round((fused.events["us_peak_time"][t.index] - off) * clip.fps)
        assert t.frame == want  # the peak frame lies inside the window read
        assert t.frames_read[0] <= t.frame < t.frames_read[1]
    with pytest.raises(ValueError, match="fused with a clip"):
        fused_thumbnails(motion, res)
    from ltr.report import build_report

    with pytest.raises(ValueError, match="clip_recording is the motion recording"):
        build_report(_rec, res, clip_recording=motion)


# -- ltr report --clip ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def paired_files(tmp_path_factory):
    """A paired session on disk: the EMG as EDF, the clip as DICOM with its start time."""
    pytest.importorskip("pydicom")
    pytest.importorskip("cv2")
    pytest.importorskip("matplotlib")
    from ltr.ultrasound import write_dicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # 40 s at 30 fps, seed 7: the twitches fix the offset, 3 fused and 6 on the clip
        # alone (small frames keep the DICOM at 15 MB)
        rec, clip, _truth = ltr.simulate.paired(40, 2000, "emg", 7, fps=30, shape=(96, 128),
                                               snr_db=(-3, 20))
    d = tmp_path_factory.mktemp("paired")
    edf, dcm = d / "s.edf", d / "s.dcm"
    ltr.write_edf(rec, edf)
    write_dicom(dcm, clip.frames, clip.fps, spacing_mm=clip.spacing_mm,
                meas_date=clip.meas_date)
    return edf, dcm


def _cli(capsys, *argv):
    from ltr.cli import main

    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_report_with_a_clip_counts_as_detect_does(paired_files, tmp_path, capsys):
    import json
    import re

    from ltr.results import clip_position

    edf, dcm = paired_files
    rc, out, err = _cli(capsys, "detect", edf, "--clip", dcm, "--json")
    assert rc == 0, err
    det = json.loads(out)
    c = det["clip"]
    assert c["checked"] and c["fused"] >= 1 and c["us_only"] >= 1
    html_path = tmp_path / "r.html"
    rc, out, err = _cli(capsys, "report", edf, "--clip", dcm, "-o", html_path,
                        "--thumbnails", "2", "--pdf")
    assert rc == 0, err
    assert "first frame at" in out and f"written: {html_path}" in out
    assert html_path.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    html = html_path.read_text()
    boxes = dict((k, int(v)) for v, k in re.findall(r"<div class='box'><b>(\d+)</b>([^<]+)</div>",
                                                    html))
    assert boxes["twitches"] == det["summary"]["count"]
    assert boxes["also seen on the ultrasound clip"] == c["fused"]
    assert boxes["on the clip alone"] == c["us_only"]
    assert clip_position(c).replace("'", "&#x27;") in html
    # the events table has the clip's speed; the thumbnails are of the clip's twitches
    assert "clip speed (mm/s)" in html and html.count("<tr>") > det["summary"]["count"]
    assert "Twitches on the fused ultrasound clip" in html
    assert html.count("class='usthumb'") == 2
    assert f"the first 2 of the {c['fused'] + c['us_only']} twitches" in html
    first = [i + 1 for i, m in enumerate(det["events"]["modality"]) if m.endswith("us")][:2]
    assert re.findall(r"data-twitch='(\d+)'", html) == [str(i) for i in first]


def test_cli_report_clip_errors_are_one_line_before_the_clip_is_read(paired_files, tmp_path,
                                                                     capsys, monkeypatch):
    import ltr.cli

    edf, dcm = paired_files

    def slow(*_a, **_k):  # the clip's motion: never reached by these
        raise AssertionError("the clip was read")

    monkeypatch.setattr(ltr.cli, "_with_clip", slow)
    there = tmp_path / "r.html"
    there.write_text("old")
    for argv, rc_want, why in [
            (["report", edf, "--clip", dcm, "-o", there], 1, "r.html: exists; pass --overwrite"),
            (["report", edf, "--clip", dcm, "-o", tmp_path / "n.html", "--pdf", "--annotated",
              there], 1, "r.html: exists; pass --overwrite"),
            (["report", edf, "--clip", dcm, "-o", tmp_path / "n.html", "--clip-sync", "tap=1"],
             1, "sync event 'tap': 0 annotations"),
            (["report", edf, "--clip-offset", "2", "-o", tmp_path / "n.html"], 2,
             "--clip-offset and --clip-sync need --clip"),
            (["report", edf, "--clip", dcm, "--reviewed", tmp_path / "x.tsv", "-o",
              tmp_path / "n.html"], 2, "does not go with --clip")]:
        rc, _out, err = _cli(capsys, *argv)
        assert rc == rc_want and why in err, (argv, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert err.startswith("ltr report: error: ")
    assert there.read_text() == "old" and not (tmp_path / "n.html").exists()


def test_cli_report_refuses_a_clip_as_the_recording(paired_files, tmp_path, capsys):
    _edf, dcm = paired_files
    rc, _out, err = _cli(capsys, "report", dcm, "--clip", dcm, "-o", tmp_path / "r.html")
    assert rc == 1 and "is an ultrasound clip itself" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_the_per_channel_summary_of_a_fused_result_has_the_clip(paired_session):
    pytest.importorskip("pandas")
    _rec, _clip, truth, res, us = paired_session
    fused = fuse_clip(res, us, truth.info["clip_offset"], refine=None)
    by = fused.summary(by="channel").set_index("channel")
    assert list(by.index) == [*res.meta["emg"], "US"]
    assert by.loc["US", "count"] == len(us)  # every clip twitch, fused or alone
    assert by.loc["US", "rejected"] == us.rejected["onset"].size
