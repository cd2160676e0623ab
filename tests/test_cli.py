"""The ltr command line: info on every format family, JSON output, errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import make_recording

import ltr
from ltr.cli import main


def _write_all(tmp_path):
    rec = make_recording()
    paths = {s: ltr.write(rec, tmp_path / f"rec{s}") for s in (".edf", ".bdf", ".csv", ".h5")}
    pybv = pytest.importorskip("pybv")
    pybv.write_brainvision(data=rec.data[:1], sfreq=rec.sfreq, ch_names=["EMG trapezius"],
                           fname_base="rec", folder_out=tmp_path, unit="µV")
    paths[".vhdr"] = tmp_path / "rec.vhdr"
    return rec, paths


def test_info_on_every_format(tmp_path, capsys):
    _, paths = _write_all(tmp_path)
    for suffix, path in paths.items():
        assert main(["info", str(path)]) == 0
        out = capsys.readouterr().out
        assert "4.000 s" in out and "1000 Hz" in out, suffix
        assert "EMG trapezius" in out and "emg" in out, suffix
        if suffix != ".vhdr":
            assert "ACC: ACC X, ACC Y, ACC Z" in out, suffix
        if suffix in (".edf", ".bdf", ".h5"):
            assert "annotations 3: 'marker' x1, 'needle in' x1, 'needle out' x1" in out, suffix


def test_info_json(tmp_path, capsys):
    _, paths = _write_all(tmp_path)
    assert main(["info", "--json", str(paths[".edf"])]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sfreq"] == 1000.0
    assert report["n_samples"] == 4000
    assert [c["kind"] for c in report["channels"]] == ["emg", "acc", "acc", "acc", "trigger"]
    assert report["annotations"] == {"marker": 1, "needle in": 1, "needle out": 1}
    assert report["channels"][0]["flags"] == []


def test_info_flags_mains_and_nan(tmp_path, capsys):
    sfreq = 1000.0
    t = np.arange(5000) / sfreq
    rng = np.random.default_rng(0)
    emg = rng.normal(0, 5, t.size) + 20 * np.sin(2 * np.pi * 60 * t)
    path = tmp_path / "hum.csv"
    lines = [f"{v:.6f}" for v in emg]
    lines[100] = ""
    path.write_text("EMG biceps [uV]\n" + "\n".join(lines) + "\n")
    assert main(["info", "--sfreq", "1000", str(path)]) == 0
    captured = capsys.readouterr()
    assert "mains 60 Hz" in captured.out
    assert "NaN gap" in captured.out and "NaN gap" in captured.err  # flag and warning


def test_info_errors_exit_nonzero_and_name_the_file(tmp_path, capsys):
    bad = tmp_path / "empty.edf"
    bad.write_bytes(b"")
    good = ltr.write(make_recording(), tmp_path / "ok.h5")
    assert main(["info", str(bad), str(good)]) == 1
    captured = capsys.readouterr()
    assert "empty.edf: the file is empty" in captured.err
    assert "ok.h5" in captured.out  # the good file is still reported


def test_info_reading_options(tmp_path, capsys):
    rec = ltr.Recording(np.random.default_rng(0).normal(0, 1e-5, (2, 2000)), 1000,
                        ["EXG1", "EXG2"], units=["V", "V"])
    path = ltr.write(rec, tmp_path / "mono.bdf")
    assert main(["info", str(path), "--bipolar", "EMG L=EXG1,EXG2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(c["name"], c["kind"]) for c in report["channels"]] == [("EMG L", "emg")]


def test_console_script_version_and_help():
    out = subprocess.run([sys.executable, "-m", "ltr.cli", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == f"ltr {ltr.__version__}"
    out = subprocess.run([sys.executable, "-m", "ltr.cli", "--help"], capture_output=True,
                         text=True, check=True)
    assert "info" in out.stdout


def test_detect_prints_a_summary_and_writes_events(tmp_path, capsys):
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "recordings" / "sample_emg_acc.edf"
    assert main(["detect", str(sample)]) == 0
    out = capsys.readouterr().out
    assert "twitches in 90.0 s" in out and "epoch  start (s)" in out
    tsv = tmp_path / "events.tsv"
    assert main(["detect", str(sample), "-o", str(tsv)]) == 0
    capsys.readouterr()
    header = tsv.read_text().splitlines()[0].split("\t")
    assert header[:3] == ["onset", "duration", "trial_type"]
    assert (tmp_path / "events.json").exists()
    # the written events score against the sample's truth
    truth = sample.with_name("sample_emg_acc.truth.json")
    assert main(["evaluate", str(tsv), str(truth)]) == 0
    assert "F1" in capsys.readouterr().out
    # refuses to overwrite, then does when asked
    assert main(["detect", str(sample), "-o", str(tsv)]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["detect", str(sample), "-o", str(tsv), "--overwrite"]) == 0
    for suffix in (".csv", ".json"):
        assert main(["detect", str(sample), "-o", str(tmp_path / f"e{suffix}")]) == 0
        assert (tmp_path / f"e{suffix}").stat().st_size > 100
    assert main(["detect", str(sample), "--per-channel", "-o", str(tmp_path / "pc.csv")]) == 0


def test_detect_options_and_errors(tmp_path, capsys):
    rec = make_recording()
    path = ltr.write(rec, tmp_path / "r.h5")
    assert main(["detect", str(path), "--emg", "EMG trapezius", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["count"] >= 1
    assert doc["config"]["emg"]["band"] == [20.0, 450.0]
    cfg = tmp_path / "cfg.toml"
    cfg.write_text("[emg]\nonratio = 2\n")
    assert main(["detect", str(path), "--config", str(cfg)]) == 2
    assert "unknown key(s) ['onratio']" in capsys.readouterr().err
    assert main(["detect", str(tmp_path / "missing.edf")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["detect", str(path), "--emg", "EMG nope"]) == 1
    assert "not in the recording" in capsys.readouterr().err
