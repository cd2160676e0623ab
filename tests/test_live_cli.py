"""`ltr live`: the command, its views, Ctrl-C, and an LSL round trip on this machine."""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import ltr
from ltr.cli import main
from ltr.evaluate import compare
from ltr.live import run as live_run
from ltr.live.sources import FileSource

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "recordings" / "sample_emg_acc.edf"


def read_tsv(path: Path) -> list[dict[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    head = lines[0].split("\t")
    return [dict(zip(head, ln.split("\t"), strict=True)) for ln in lines[1:]]


def test_cli_file_plain_lines_and_tsv(tmp_path, capsys) -> None:
    """Not a terminal: a line per twitch; the TSV holds the same twitches, which agree
    with `ltr detect` on the file (F1 >= 0.97, 50 ms)."""
    out = tmp_path / "live.tsv"
    assert main(["live", str(SAMPLE), "--speed", "0", "--out", str(out)]) == 0
    text = capsys.readouterr().out.splitlines()
    rows = read_tsv(out)
    assert len([ln for ln in text if " twitch " in ln]) == len(rows) >= 10
    assert text[-1].startswith(f"ltr live: {len(rows)} twitches in 90.0 s")
    onsets = [float(r["onset"]) for r in rows]
    assert compare(onsets, ltr.detect(ltr.read(SAMPLE)).onset, 0.05)["f1"] >= 0.97


def test_closed_stdout_stops_cleanly_and_says_the_file_is_incomplete(tmp_path) -> None:
    """`ltr live --out F | head`: no traceback, exit 141, F holds every twitch decided up
    to there, and stderr says F is incomplete."""
    import subprocess
    import sys

    out = tmp_path / "live.tsv"
    r, w = os.pipe()
    os.close(r)  # the reader went away before the first twitch was printed
    try:
        proc = subprocess.run([sys.executable, "-m", "ltr.cli", "live", str(SAMPLE),
                               "--speed", "0", "--out", str(out)], stdout=w,
                              stderr=subprocess.PIPE, text=True, timeout=300)
    finally:
        os.close(w)
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr
    assert proc.returncode == 141
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "stdout was closed" in err[0]
    assert f"{out} is incomplete" in err[0]
    n = int(re.search(r"(\d+) twitch", err[0]).group(1))
    assert 1 <= len(read_tsv(out)) == n  # the first twitch reached the file


def test_run_stops_at_a_broken_pipe_and_flushes_the_sinks(tmp_path) -> None:
    out = tmp_path / "live.tsv"
    calls = []

    def view(det, found):
        calls.append(len(found))
        if found:
            raise BrokenPipeError

    done = live_run.run(FileSource(SAMPLE, speed=0), out=out, on_chunk=view)
    assert done.pipe_closed and not done.interrupted
    assert done.seconds < 89.0  # the rest of the 90-s file was not read
    assert calls.count(0) == len(calls) - 1 and calls[-1] >= 1  # not called once broken
    assert len(read_tsv(out)) == len(done.results) >= 1


def test_cli_errors_are_one_line(tmp_path, capsys) -> None:
    assert main(["live"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["ltr live: error: give a recording (SOURCE) or --lsl NAME"]
    assert main(["live", str(tmp_path / "nope.edf"), "--speed", "0"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope.edf" in err[0] and "Traceback" not in err[0]
    out = tmp_path / "x.tsv"
    out.write_text("taken\n", encoding="utf-8")
    assert main(["live", str(SAMPLE), "--speed", "0", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--overwrite" in err[0]
    with pytest.raises(SystemExit):
        main(["live", str(SAMPLE), "--speed", "-1"])
    assert "expected a number >= 0" in capsys.readouterr().err
    # an ultrasound clip is counted offline, and the message says how
    assert main(["live", str(tmp_path / "cine.dcm")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ltr detect" in err[0] and "cine.dcm" in err[0]


def test_cli_follow_a_csv(tmp_path, capsys) -> None:
    """--follow reads a CSV as it grows and stops when it has not grown for --timeout."""
    rec, _ = ltr.simulate.session(duration=15.0, sfreq=1000.0, layout="emg", seed=5,
                                  condition="clean")
    path = tmp_path / "growing.csv"
    lines = [f"{i / 1000:.6f},{v * 1e6:.6f}" for i, v in enumerate(rec.data[0])]
    path.write_text("time,EMG trapezius [uV]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert main(["live", str(path), "--follow", "--timeout", "0.3"]) == 0
    out = capsys.readouterr().out.splitlines()
    n = len(ltr.detect(rec))
    assert out[-1].startswith(f"ltr live: {n} twitch")


def _noise_csv(path: Path, header: str, cell: object) -> Path:
    """2 s of noise at 2 kHz as CSV, each row ``time,EMG`` formatted by ``cell(i, t, v)``."""
    v = np.random.default_rng(0).normal(0, 10.0, 4000)
    rows = [cell(i, i / 2000, x) for i, x in enumerate(v)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


#: Files `ltr info` refuses, and what both commands must say of them.
_BAD_CSV = {
    "text_cell": ("time,EMG [uV]", lambda i, t, x: f"{t},{'abc' if i == 100 else x}",
                  "line 102, column 'EMG': 'abc' is not a number"),
    "text_column": ("time,EMG [uV],note", lambda i, t, x: f"{t},{x},hello",
                    "line 2, column 'note': 'hello' is not a number"),
    "no_rate": ("EMG [uV]", lambda i, t, x: f"{x}", "cannot tell the sampling rate"),
    "time_repeats": ("time,EMG [uV]", lambda i, t, x: f"0,{x}", "not strictly increasing"),
    "infinite": ("time,EMG [uV]", lambda i, t, x: f"{t},{'inf' if i == 5 else x}",
                 "infinite values"),
    "rate_too_high": ("time,EMG [uV]", lambda i, t, x: f"{t * 1e-6},{x}",
                      "above 1e+06 Hz"),
}


@pytest.mark.parametrize("case", sorted(_BAD_CSV))
def test_cli_follow_refuses_what_info_refuses(tmp_path, capsys, case) -> None:
    """--follow on a CSV that `ltr info` refuses: one line naming the file and the
    problem, exit 1, no traceback (was '0 twitches', exit 0, for a text cell)."""
    header, cell, words = _BAD_CSV[case]
    path = _noise_csv(tmp_path / f"{case}.csv", header, cell)
    assert main(["info", str(path)]) == 1
    info = capsys.readouterr().err.strip().splitlines()
    assert len(info) == 1 and words in info[0]
    assert main(["live", str(path), "--follow", "--timeout", "0.3"]) == 1
    cap = capsys.readouterr()
    err = cap.err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in cap.err and "twitches" not in cap.out
    assert err[0].startswith(f"ltr live: error: {path}") and words in err[0]
    if case.startswith("text"):  # the text reader's own words, line and column
        assert err[0].replace("ltr live", "ltr info") == info[0]


def test_cli_follow_exclude_and_time_column(tmp_path, capsys) -> None:
    """The flags the errors name work with --follow: --exclude drops a text column,
    --time-column none with --sfreq ignores a broken time column."""
    path = _noise_csv(tmp_path / "note.csv", "time,EMG [uV],note",
                      lambda i, t, x: f"{t},{x},hello")
    assert main(["live", str(path), "--follow", "--timeout", "0.3", "--exclude",
                 "note"]) == 0
    assert capsys.readouterr().out.strip().endswith("in 2.0 s of signal")
    path = _noise_csv(tmp_path / "t0.csv", "time,EMG [uV]", lambda i, t, x: f"0,{x}")
    assert main(["live", str(path), "--follow", "--timeout", "0.3", "--time-column", "none",
                 "--sfreq", "2000"]) == 0
    assert capsys.readouterr().out.strip().endswith("in 2.0 s of signal")


class _Interrupted(FileSource):
    """A replay that Ctrl-C stops after ``after`` chunks."""

    def __init__(self, *a, after: int, **kw) -> None:
        super().__init__(*a, **kw)
        self.after = after

    def chunks(self):
        for k, c in enumerate(super().chunks()):
            if k == self.after:
                raise KeyboardInterrupt
            yield c


def test_ctrl_c_flushes_everything(tmp_path) -> None:
    """Ctrl-C after 40 s: every twitch decided (the open one too) is in the TSV."""
    out = tmp_path / "live.tsv"
    src = _Interrupted(SAMPLE, speed=0, chunk=0.05, after=800)
    done = live_run.run(src, out=out)
    assert done.interrupted and done.seconds == pytest.approx(40.0, abs=0.05)  # 800 x 50 ms
    rows = read_tsv(out)
    assert len(rows) == len(done.results) >= 5
    np.testing.assert_allclose([float(r["onset"]) for r in rows], done.results.onset,
                               rtol=1e-9)  # 10 significant digits written


def test_rich_view_export_text() -> None:
    """The terminal view, captured: count, insertion, rate, last twitch, sparkline and
    signal quality are on it."""
    pytest.importorskip("rich")
    from rich.console import Console

    from ltr.live.view import RichView

    console = Console(record=True, width=100, force_terminal=True, color_system=None)
    view = RichView("sample_emg_acc.edf at 0x", console=console)
    rec = ltr.read(SAMPLE).crop(0.0, 30.0)
    done = live_run.run(FileSource(rec, speed=0), on_chunk=view.update)
    console.print(view.render())
    text = console.export_text()
    n = len(done.results)
    assert n >= 3 and re.search(rf"twitches\s+{n}\s", text)
    for word in ("this insertion", "rate", "last twitch", "envelope", "EMG trapezius",
                 "mains"):
        assert word in text
    assert any(ch in text for ch in "▁▂▃▄▅▆▇█")


def test_lsl_round_trip(tmp_path, capsys) -> None:
    """A player streams 5 s of the sample recording on this machine; `ltr live --lsl`
    counts it as `ltr detect` does on the same 5 s; a test inlet reads the markers."""
    pytest.importorskip("mne_lsl")
    import mne
    from mne_lsl import lsl
    from mne_lsl.player import PlayerLSL

    assert os.environ["LSLAPICFG"].endswith("lsl_api.cfg")  # conftest: loopback only
    raw = mne.io.read_raw_edf(SAMPLE, preload=True, verbose="error")
    raw.crop(6.0, 11.0, include_tmax=False)  # 10 000 samples: whole 100-sample chunks
    offline = ltr.detect(ltr.Recording.from_mne(raw))
    assert len(offline) >= 4
    name = f"ltr-test-{os.getpid()}"
    player = PlayerLSL(raw, chunk_size=100, n_repeat=1, name=name)
    markers: list[tuple[str, float]] = []
    stop = threading.Event()

    def read_markers() -> None:
        inlet = None
        deadline = time.monotonic() + 10
        try:
            while inlet is None and not stop.is_set() and time.monotonic() < deadline:
                found = lsl.resolve_streams(timeout=0.5, name="ltr-twitches",
                                            source_id=f"ltr-{os.getpid()}")
                if found:
                    inlet = lsl.StreamInlet(found[0])
                    inlet.open_stream(timeout=2)
            while inlet is not None and not stop.is_set():
                data, ts = inlet.pull_chunk(timeout=0.2)
                markers.extend((d[0], t) for d, t in zip(data, ts, strict=True))
            if inlet is not None:  # what came in after the last pull
                data, ts = inlet.pull_chunk(timeout=0.5)
                markers.extend((d[0], t) for d, t in zip(data, ts, strict=True))
        finally:
            if inlet is not None:
                inlet.close_stream()

    out = tmp_path / "live.tsv"
    reader = threading.Thread(target=read_markers, daemon=True)
    player.start()
    try:
        reader.start()
        code = main(["live", "--lsl", name, "--duration", "4.5", "--timeout", "3",
                     "--out", str(out)])
    finally:
        with contextlib.suppress(RuntimeError):  # it stops by itself after one pass
            player.stop()
        time.sleep(0.5)
        stop.set()
        reader.join(timeout=5)
    assert code == 0
    err = capsys.readouterr().err
    assert "resolve scope: machine" in err
    rows = read_tsv(out)
    live = np.array([float(r["onset"]) for r in rows])
    # the inlet starts with the samples that reach it after it connected: align by the
    # nearest offline onset (a shift of 0 to 1 s)
    shift = np.median([live[i] - offline.onset[np.argmin(np.abs(offline.onset - live[i]))]
                       for i in range(live.size)]) if live.size else 0.0
    assert -1.0 < shift <= 0.0
    twitches = offline.onset[offline.onset < 4.5 + shift]  # within the 4.5 s counted
    assert compare(live - shift, twitches, 0.05)["f1"] >= 0.97
    assert len(markers) == len(rows)
    sent = [json.loads(m) for m, _ in markers]
    np.testing.assert_allclose([s["onset"] for s in sent], live, atol=1e-6)  # 6 decimals
    # the jolt of a twitch the accelerometer saw, null without one, as in the --out rows
    jolt = [s["jolt_amplitude_m_s2"] for s in sent]
    assert [j is None for j in jolt] == [r["amplitude_m_s2"] == "n/a" for r in rows]
    assert any(j is not None for j in jolt)
    np.testing.assert_allclose([j for j in jolt if j is not None],
                               [float(r["amplitude_m_s2"]) for r in rows
                                if r["amplitude_m_s2"] != "n/a"],
                               rtol=1e-9)  # the file's 10 significant digits


def test_cli_broken_pipe_is_quiet(tmp_path) -> None:
    """`ltr live FILE --speed 0 | head`: once head has gone, ltr stops like the other
    commands (status 141, nothing on stderr), not with 'error: ... Broken pipe'."""
    import subprocess
    import sys

    r, w = os.pipe()
    os.close(r)  # a reader that went away
    try:
        proc = subprocess.run([sys.executable, "-m", "ltr.cli", "live", str(SAMPLE),
                               "--speed", "0", "--duration", "12", "--plain"], stdout=w,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(w)
    assert "Broken pipe" not in proc.stderr and "Traceback" not in proc.stderr
    assert proc.returncode == 141


def test_view_counts_the_insertion_from_known_epochs() -> None:
    """With needle in/out known, 'this insertion' counts the twitches of the insertion
    holding now (0 with the needle out), not the activity run."""
    from ltr.live.view import Tally
    from ltr.segment import Epochs

    tally = Tally()
    tally.onsets = [1.0, 2.0, 8.0, 9.0, 9.5]
    tally.count = len(tally.onsets)
    ep = Epochs([0.5, 7.5], [5.0, 20.0], "annotations")
    assert tally.in_insertion(10.0, ep) == 3
    assert tally.in_insertion(6.0, ep) == 0  # needle out
    assert tally.in_insertion(10.0) == 5  # activity: one run, gaps under 8 s


def test_lsl_needle_marks_give_epochs(tmp_path, capsys) -> None:
    """A player streams 11 s of the sample with its 'needle in' annotation at 4.1 s
    (mne-lsl publishes NAME-annotations); `ltr live --lsl NAME` takes the mark from that
    stream and every twitch after it is in insertion 0 (was -1: no epochs over LSL)."""
    pytest.importorskip("mne_lsl")
    import mne
    from mne_lsl.player import PlayerLSL

    raw = mne.io.read_raw_edf(SAMPLE, preload=True, verbose="error")
    raw.crop(0.0, 11.0, include_tmax=False)  # the marks inlet has 4 s to connect
    assert "needle in" in set(raw.annotations.description)
    name = f"ltr-marks-{os.getpid()}"
    player = PlayerLSL(raw, chunk_size=100, n_repeat=1, name=name)
    out = tmp_path / "live.tsv"
    player.start()
    try:
        code = main(["live", "--lsl", name, "--duration", "10", "--timeout", "3",
                     "--out", str(out), "--no-markers"])
    finally:
        with contextlib.suppress(RuntimeError):
            player.stop()
    assert code == 0
    err = capsys.readouterr().err
    assert f"marks from LSL stream {name}-annotations" in err
    rows = read_tsv(out)
    assert len(rows) >= 3
    assert [r["epoch"] for r in rows] == ["0"] * len(rows)
