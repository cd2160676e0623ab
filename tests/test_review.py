"""The review server's JSON endpoints, the reviewed events file and its round trips."""

from __future__ import annotations

import itertools
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import ltr
from ltr.cli import main
from ltr.review import (
    REVIEWED_COLUMNS,
    ReviewServer,
    ReviewSession,
    export_reviewed,
    open_review,
    read_reviewed,
    reviewed_twitches,
    to_annotations,
)
from ltr.review import reviewed as rv
from ltr.review.server import _columns
from ltr.simulate import write_session


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-s simulated session (EMG + tri-axial accelerometer) as EDF."""
    path = tmp_path_factory.mktemp("review") / "sim.edf"
    write_session(path, duration=40.0, sfreq=1000.0, layout="emg+acc", seed=5)
    return path


@pytest.fixture
def session(recording: Path, tmp_path: Path) -> ReviewSession:
    return open_review(recording, output=tmp_path / "sim.reviewed.tsv", reviewer="Dr A")


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _post(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    return _get(req)  # type: ignore[arg-type]


# -- the reviewed file ----------------------------------------------------------------------
def test_candidates_cover_every_table(session: ReviewSession, recording: Path) -> None:
    res = ltr.detect(ltr.read(recording))
    rows = list(session.rows.values())
    kinds = [r["detected_as"] for r in rows]
    assert kinds.count("twitch") == len(res) > 0
    assert kinds.count("look-alike") == res.rejected["onset"].size
    assert kinds.count("contraction") == res.contractions["onset"].size
    assert all(r["review_status"] is None for r in rows)
    # the file exists from the start, every row pending, columns in order
    text = session.path.read_text(encoding="utf-8").splitlines()
    assert text[0].split("\t") == list(REVIEWED_COLUMNS)
    assert len(text) == 1 + len(rows)
    assert reviewed_twitches(rows).size == 0  # nothing reviewed: nothing held true yet
    side = json.loads(session.path.with_suffix(".json").read_text(encoding="utf-8"))
    assert set(REVIEWED_COLUMNS) <= set(side) and side["onset"]["Units"] == "s"
    assert set(side["review_status"]["Levels"]) == {"confirmed", "rejected", "added", "moved"}


def test_decisions_and_round_trip(session: ReviewSession) -> None:
    tw = sorted(k for k, r in session.rows.items() if r["detected_as"] == "twitch")
    look = [k for k, r in session.rows.items() if r["detected_as"] == "look-alike"]
    session.decide(tw[0], "accept")
    session.decide(tw[1], "reject")
    new_onset = session.rows[tw[2]]["onset"] + 0.025
    session.decide(tw[2], "move", new_onset)
    added = session.add("twitch", 12.5)["row"]["candidate"]
    session.add("needle in", 1.0)
    if look:
        session.decide(look[0], "reject")  # a look-alike that is a twitch after all
    back = {r["candidate"]: r for r in read_reviewed(session.path)}
    assert back.keys() == session.rows.keys()
    assert (back[tw[0]]["review_status"], back[tw[0]]["trial_type"]) == ("confirmed", "twitch")
    assert (back[tw[1]]["review_status"], back[tw[1]]["trial_type"]) == ("rejected", "twitch")
    if look:  # rescued: a twitch the detector did not count, its call kept
        assert (back[look[0]]["review_status"], back[look[0]]["trial_type"],
                back[look[0]]["detected_as"]) == ("added", "twitch", "look-alike")
    assert back[tw[2]]["review_status"] == "moved"
    # 10 significant digits written: 1e-9 s is far below one sample (1 ms)
    assert back[tw[2]]["onset"] == pytest.approx(new_onset, abs=1e-9)
    assert back[tw[2]]["detector_onset"] == pytest.approx(session.rows[tw[2]]["detector_onset"],
                                                          abs=1e-9)
    assert back[added]["review_status"] == "added" and back[added]["detected_as"] is None
    for r in back.values():
        if r["review_status"] is not None:
            assert r["reviewer"] == "Dr A"
            assert time.strptime(r["reviewed_at"], "%Y-%m-%dT%H:%M:%SZ")
    held = reviewed_twitches(back.values())
    expect = sorted([back[tw[0]]["onset"], back[tw[2]]["onset"], 12.5]
                    + ([back[look[0]]["onset"]] if look else []))
    np.testing.assert_allclose(held, expect, atol=1e-9)  # same 10-digit rounding as above
    # undo puts the row back exactly as detected
    session.decide(tw[2], "reset")
    again = {r["candidate"]: r for r in read_reviewed(session.path)}
    assert again[tw[2]]["review_status"] is None
    assert again[tw[2]]["onset"] == again[tw[2]]["detector_onset"]


def test_resume_keeps_decisions_and_does_not_detect(session: ReviewSession, recording: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    tw = next(k for k, r in session.rows.items() if r["detected_as"] == "twitch")
    session.decide(tw, "reject")
    session.add("needle out", 30.0)

    def no_detect(*a: object, **k: object) -> None:
        raise AssertionError("a resumed review must not detect again")

    monkeypatch.setattr(sys.modules["ltr.detect"], "detect", no_detect)
    saved = {r["candidate"]: r for r in read_reviewed(session.path)}
    again = open_review(recording, output=session.path, reviewer="Dr B")
    assert again.rows == saved
    assert {r["candidate"]: r for r in read_reviewed(session.path)} == saved  # unchanged
    assert again.counts()["reviewed"] == 2
    assert again.add("twitch", 5.0)["row"]["candidate"] == "a1"  # ids continue, never reused


def test_atomic_save_survives_a_crash_between_write_and_replace(
        session: ReviewSession, monkeypatch: pytest.MonkeyPatch) -> None:
    before = session.path.read_bytes()
    tw = next(k for k, r in session.rows.items() if r["detected_as"] == "twitch")

    def crash(src: object, dst: object) -> None:
        raise OSError("simulated power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        session.decide(tw, "reject")
    assert session.path.read_bytes() == before  # the old file, whole
    assert sorted(p.name for p in session.path.parent.iterdir()) == sorted(
        [session.path.name, session.path.with_suffix(".json").name])  # no .part left
    assert session.rows[tw]["review_status"] is None  # memory rolled back too
    monkeypatch.undo()
    session.decide(tw, "reject")
    assert read_reviewed(session.path) != []


def test_readers_name_the_file_and_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "x.tsv"
    bad.write_text("onset\tduration\n1\t0\n")
    with pytest.raises(ValueError, match=r"x\.tsv: not a reviewed events file"):
        read_reviewed(bad)
    cols = "\t".join(REVIEWED_COLUMNS)
    bad.write_text(cols + "\n1\t0\ttwitch\tmaybe" + "\tn/a" * 13 + "\n")
    with pytest.raises(ValueError, match=r"x\.tsv: row 2: review_status 'maybe'"):
        read_reviewed(bad)
    with pytest.raises(FileNotFoundError, match="no such events file"):
        read_reviewed(tmp_path / "none.tsv")
    with pytest.raises(ValueError, match="the reviewer adds"):
        rv.added("pop", 1.0, reviewer="x", index=0)
    with pytest.raises(ValueError, match="no detector call to go back to; delete it"):
        rv.decide(rv.added("twitch", 1.0, reviewer="x", index=0), "reset", reviewer="x")
    with pytest.raises(ValueError, match="action must be"):
        rv.decide({"detected_as": "twitch", "trial_type": "twitch"}, "maybe", reviewer="x")


def test_events_file_from_ltr_detect_is_reviewable(recording: Path, tmp_path: Path) -> None:
    res = ltr.detect(ltr.read(recording))
    ev = res.to_bids_events(tmp_path / "ev.tsv")
    s = open_review(recording, events=ev, output=tmp_path / "r.tsv", reviewer="x")
    assert len(s.rows) == len(res)
    np.testing.assert_allclose(sorted(r["onset"] for r in s.rows.values()), res.onset,
                               atol=1e-9)  # 10-digit TSV floats
    with pytest.raises(ValueError, match=r"exists and is not a reviewed events file"):
        open_review(recording, output=ev, reviewer="x")  # never overwrites another output


def test_reviewed_events_become_annotations_in_exports(session: ReviewSession,
                                                       recording: Path, tmp_path: Path) -> None:
    tw = sorted(k for k, r in session.rows.items() if r["detected_as"] == "twitch")
    session.decide(tw[0], "accept")
    session.decide(tw[1], "reject")
    session.add("twitch", 20.0)
    session.add("needle in", 2.0)
    ann = to_annotations(read_reviewed(session.path), pending=False)
    assert ann.counts() == {"needle in": 1, "rejected: reviewer": 1, "twitch": 2}
    out = export_reviewed(recording, session.path, tmp_path / "reviewed.edf")
    back = ltr.read(out).annotations
    got = back.counts()
    assert got["twitch"] == 2 and got["rejected: reviewer"] == 1
    assert got["twitch (not reviewed)"] == len(tw) - 2
    on = back.onset[back.description == "twitch"]
    # EDF+ annotation onsets are written to 100 µs or better
    np.testing.assert_allclose(sorted(on), sorted([session.rows[tw[0]]["onset"], 20.0]),
                               atol=1e-3)


def test_columns_are_min_and_max_of_each_column() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=1003)
    lo, hi = _columns(y, 10)
    edges = np.linspace(0, y.size, 11).astype(int)
    np.testing.assert_array_equal(lo, [round(y[a:b].min(), 6) for a, b in
                                       itertools.pairwise(edges)])
    np.testing.assert_array_equal(hi, [round(y[a:b].max(), 6) for a, b in
                                       itertools.pairwise(edges)])
    y[:200] = np.nan
    lo, hi = _columns(y, 10)
    assert lo[0] is None and hi[0] is None and lo[5] is not None
    few, same = _columns(y[500:505], 10)  # fewer samples than columns: the samples
    assert few == same and len(few) == 5


# -- the server -----------------------------------------------------------------------------
def test_endpoints(session: ReviewSession) -> None:
    with ReviewServer(session, duration=60) as srv:
        assert srv.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(srv.url, timeout=10) as r:
            page = r.read().decode()
        assert "review.js" in page and "http" not in page.replace("http-equiv", "")
        code, info = _get(srv.url + "api/session")
        assert code == 200 and info["duration"] == pytest.approx(40.0, abs=1e-3)
        assert [c["kind"] for c in info["channels"]] == ["emg", "acc"]
        assert len(info["rows"]) == len(session.rows)
        code, tr = _get(srv.url + "api/trace?t0=10&t1=20&n=500")
        assert code == 200 and tr["t0"] == pytest.approx(10) and tr["t1"] == pytest.approx(20)
        for c in tr["channels"]:
            assert len(c["min"]) == len(c["max"]) == 500
            assert all(a <= b for a, b in zip(c["min"], c["max"], strict=True))
        acc = tr["channels"][1]
        assert min(acc["min"]) >= 0  # a magnitude
        code, err = _get(srv.url + "api/trace?t0=20&t1=10")
        assert code == 400 and "t0 < t1" in err["error"]
        code, err = _get(srv.url + "api/trace?t0=0&t1=4000")
        assert code == 400 and "longer than" in err["error"]
        code, err = _post(srv.url + "api/decide", {"id": "zz", "action": "accept"})
        assert code == 400 and "no row 'zz'" in err["error"]
        tw = next(k for k, r in session.rows.items() if r["detected_as"] == "twitch")
        code, err = _post(srv.url + "api/delete", {"id": tw})
        assert code == 400 and "reject it instead" in err["error"]
        code, ans = _post(srv.url + "api/decide", {"id": tw, "action": "reject"})
        assert code == 200 and ans["row"]["review_status"] == "rejected"
        assert ans["counts"]["rejected"] == 1
        code, ans = _post(srv.url + "api/add", {"trial_type": "needle out", "onset": 33.0})
        assert code == 200 and ans["row"]["trial_type"] == "needle out"
        code, err = _post(srv.url + "api/add", {"trial_type": "twitch", "onset": 99.0})
        assert code == 400 and "outside the recording" in err["error"]
        code, _ = _post(srv.url + "api/delete", {"id": ans["row"]["candidate"]})
        assert code == 200
        assert _get(srv.url + "nothing")[0] == 404
    statuses = [r["review_status"] for r in read_reviewed(session.path)]
    assert statuses.count("rejected") == 1 and statuses.count("added") == 0


def test_trace_shows_a_known_sine_at_its_amplitude(tmp_path: Path) -> None:
    fs = 1000.0
    t = np.arange(int(20 * fs)) / fs
    # 50 µV at 125 Hz, inside the 20-450 Hz band; 8 samples a cycle, one on each crest
    emg = 50e-6 * np.sin(2 * np.pi * 125 * t)
    acc = np.zeros((3, t.size))
    acc[0] = 9.81 + 0.2 * np.sin(2 * np.pi * 5 * t)  # gravity + 0.2 m/s² at 5 Hz
    rec = ltr.Recording(np.vstack([emg, acc]), fs, ["EMG a", "ACC X", "ACC Y", "ACC Z"],
                        ch_kinds=["emg", "acc", "acc", "acc"])
    s = ReviewSession(rec, [], tmp_path / "x.reviewed.tsv", reviewer="x")
    tr = s.trace(5.0, 15.0, 200)
    e, a = tr["channels"]
    # a 4th-order Butterworth passes 125 Hz within 1 % between 20 and 450 Hz
    assert max(e["max"]) == pytest.approx(50.0, rel=0.02)
    assert min(e["min"]) == pytest.approx(-50.0, rel=0.02)
    # gravity removed by the 1-Hz high-pass; the 5-Hz swing kept within 5 %
    assert max(a["max"]) == pytest.approx(0.2, rel=0.05)


def test_server_stops_by_itself(session: ReviewSession) -> None:
    srv = ReviewServer(session, idle_timeout=0.3)
    t = time.monotonic()
    why = srv.serve(poll=0.05)
    assert "no request for 0.3 s" in why and time.monotonic() - t < 10
    srv = ReviewServer(session, duration=0.3, idle_timeout=None)
    assert "--duration 0.3 s" in srv.serve(poll=0.05)
    with pytest.raises(ValueError, match="idle_timeout must be seconds > 0"):
        ReviewServer(session, idle_timeout=0)


def test_cli_review_serves_and_stops(recording: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.reviewed.tsv"
    seen: dict[str, int] = {}

    def watch() -> None:  # the reviewed file is there while the command still serves
        for _ in range(200):
            if out.exists():
                break
            time.sleep(0.05)
        seen["exists"] = int(out.exists())

    th = threading.Thread(target=watch)
    th.start()
    code = main(["review", str(recording), "-o", str(out), "--no-browser", "--duration", "1",
                 "--reviewer", "Dr C"])
    th.join()
    printed = capsys.readouterr().out
    assert code == 0 and seen["exists"] == 1
    assert "open http://127.0.0.1:" in printed and "stopped (--duration 1 s reached)" in printed
    assert read_reviewed(out)


def test_cli_review_errors_are_one_line(tmp_path: Path, recording: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", str(tmp_path / "none.edf"), "--no-browser"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("ltr review: error:") and "none.edf" in err and "\n" not in err
    assert main(["review", str(recording), "--idle", "0", "--no-browser"]) == 2
    assert "--idle must be seconds > 0" in capsys.readouterr().err
    other = tmp_path / "ev.tsv"
    other.write_text("onset\tduration\n1\t0\n")
    assert main(["review", str(recording), "-o", str(other), "--no-browser"]) == 1
    err = capsys.readouterr().err.strip()
    assert "exists and is not a reviewed events file; give another -o" in err
    assert "\n" not in err and other.read_text() == "onset\tduration\n1\t0\n"


def test_cli_review_export(recording: Path, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "a.edf"
    reviewed = tmp_path / "sim.reviewed.tsv"
    assert main(["review", str(recording), "-o", str(reviewed), "--export", str(out)]) == 1
    assert "no review yet; run ltr review" in capsys.readouterr().err
    s = open_review(recording, output=reviewed, reviewer="x")
    s.add("twitch", 7.25)
    assert main(["review", str(recording), "-o", str(reviewed), "--export", str(out)]) == 0
    assert "1 reviewed" in capsys.readouterr().out
    ann = ltr.read(out).annotations
    on = ann.onset[ann.description == "twitch"]
    np.testing.assert_allclose(on, [7.25], atol=1e-3)  # EDF+ onsets: 100 µs or better
    assert main(["review", str(recording), "-o", str(reviewed), "--export", str(out)]) == 1
    assert "--overwrite" in capsys.readouterr().err  # never replaced silently


def test_a_second_review_of_the_same_file_is_refused(tmp_path: Path) -> None:
    from ltr.review.server import review_lock

    target = tmp_path / "x.reviewed.tsv"
    with review_lock(target) as lock:
        assert lock.exists()
        with pytest.raises(RuntimeError, match=r"x\.reviewed\.tsv: is open in another ltr "
                                               r"review \(process \d+\)"), review_lock(target):
            pass
    assert not lock.exists()
    lock.write_text("999999999")  # left by a process that is gone: taken over
    with review_lock(target):
        assert lock.read_text() == str(os.getpid())


def test_an_output_in_a_missing_folder_is_named(recording: Path, tmp_path: Path,
                                               capsys) -> None:
    # fresh-eyes trial: `-o /nonexist/r.tsv` said "[Errno 2] ... '/nonexist/r.tsv.lock'"
    target = tmp_path / "nonexist" / "r.tsv"
    assert main(["review", str(recording), "--no-browser", "--duration", "1",
                 "-o", str(target)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"{target}: its folder {target.parent} does not exist; create it "
                        "or give another -o")
    assert ".lock" not in err and len(err.splitlines()) == 1


def test_apply_review_counts_what_the_reviewer_holds_true(session: ReviewSession,
                                                         recording: Path,
                                                         tmp_path: Path) -> None:
    from ltr.review import apply_review

    rec = ltr.read(recording)
    res = ltr.detect(rec)
    tw = sorted((k for k, r in session.rows.items() if r["detected_as"] == "twitch"),
                key=lambda k: int(k[1:]))
    look = [k for k, r in session.rows.items() if r["detected_as"] == "look-alike"]
    session.decide(tw[0], "reject")
    moved_to = session.rows[tw[1]]["onset"] - 0.02
    session.decide(tw[1], "move", moved_to)
    session.add("twitch", 21.5)
    if look:
        session.decide(look[0], "reject")  # the reviewer: it is a twitch
    out = apply_review(res, session.path)
    expect = len(res) - 1 + 1 + (1 if look else 0)
    assert len(out) == expect
    assert res.onset[0] not in out.onset
    assert out.rejected["reason"].tolist().count("reviewer") == 1
    assert out.rejected["onset"].size == res.rejected["onset"].size - (1 if look else 0) + 1
    i = int(np.argmin(np.abs(out.onset - moved_to)))
    assert out.onset[i] == pytest.approx(moved_to, abs=1e-9)  # 10-digit TSV floats
    # duration and rise time follow the moved onset; the offset and peak stay
    j = int(tw[1][1:])
    assert out.events["offset"][i] == res.events["offset"][j]
    assert out.events["duration"][i] == pytest.approx(res.events["offset"][j] - moved_to,
                                                      abs=1e-9)
    k = int(np.argmin(np.abs(out.onset - 21.5)))
    assert out.onset[k] == 21.5 and np.isnan(out.events["amplitude"][k])
    assert np.all(np.diff(out.onset) >= 0)
    assert out.summary()["count"].iloc[0] == expect
    assert out.meta["review"]["reviewers"] == ["Dr A"]
    # the corrected results go through the existing exports
    p = ltr.export_annotated(rec, out, tmp_path / "corrected.edf")
    ann = ltr.read(p).annotations
    assert (ann.description == "twitch").sum() == expect
    assert (ann.description == "rejected: reviewer").sum() == 1
    # pending=False: only what was reviewed
    only = apply_review(res, session.path, pending=False)
    assert len(only) == 2 + (1 if look else 0)
    # a review made on other results is refused
    other = ltr.detect(rec.crop(0, 20))
    with pytest.raises(ValueError, match="is not a candidate of these results"):
        apply_review(other, session.path)


def test_cli_report_counts_the_reviewed_twitches(session: ReviewSession, recording: Path,
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    tw = sorted(k for k, r in session.rows.items() if r["detected_as"] == "twitch")
    session.decide(tw[0], "reject")
    session.decide(tw[1], "reject")
    n = sum(r["detected_as"] == "twitch" for r in session.rows.values())
    out = tmp_path / "r.html"
    assert main(["report", str(recording), "-o", str(out), "--reviewed", str(session.path),
                 "--annotated", str(tmp_path / "a.edf")]) == 0
    printed = capsys.readouterr().out
    assert f"{n - 2} twitches" in printed and "reviewer 2" in printed
    ann = ltr.read(tmp_path / "a.edf").annotations
    assert (ann.description == "rejected: reviewer").sum() == 2


def test_only_its_own_page_can_change_the_review(session: ReviewSession) -> None:
    tw = next(k for k, r in session.rows.items() if r["detected_as"] == "twitch")
    with ReviewServer(session, duration=30) as srv:
        # a form or text/plain POST from another page needs no preflight: refused
        req = urllib.request.Request(srv.url + "api/decide",
                                     json.dumps({"id": tw, "action": "reject"}).encode(),
                                     method="POST", headers={"Content-Type": "text/plain"})
        assert _get(req)[0] == 415  # type: ignore[arg-type]
        # a name that resolves here by DNS rebinding is not this server's name
        req = urllib.request.Request(srv.url + "api/session", headers={"Host": "evil.test"})
        assert _get(req)[0] == 403  # type: ignore[arg-type]
        code, tr = _get(srv.url + "api/trace?t0=1&t1=2&n=50&ch=ACC")
        assert code == 200 and [c["name"] for c in tr["channels"]] == ["ACC"]
        code, err = _get(srv.url + "api/trace?t0=1&t1=2&n=50&ch=EMG%209")
        assert code == 400 and "no channel ['EMG 9']" in err["error"]
    assert session.rows[tw]["review_status"] is None


def test_the_page_needs_no_internet() -> None:
    from importlib import resources

    static = resources.files("ltr.review").joinpath("static")
    names = sorted(p.name for p in static.iterdir())
    assert names == ["index.html", "review.css", "review.js"]
    total = 0
    for name in names:
        text = static.joinpath(name).read_text(encoding="utf-8")
        total += len(text.encode())
        for bad in ("http://", "https://", "//cdn", "@import", "<iframe"):
            assert bad not in text, f"{name} refers to {bad}"
    assert total < 100_000  # small enough to ship in the wheel as it is
