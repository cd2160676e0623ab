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


@pytest.mark.parametrize("command", ["info", "detect"])
def test_json_of_several_files_is_one_object_a_line(tmp_path, capsys, command):
    _, paths = _write_all(tmp_path)
    files = [str(paths[".edf"]), str(paths[".csv"])]
    assert main([command, "--json", *files]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2  # JSON Lines: each parses alone
    docs = [json.loads(line) for line in lines]
    assert all(isinstance(d, dict) for d in docs)


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


def test_detect_refuses_an_existing_sidecar_before_detecting(tmp_path, capsys,
                                                              monkeypatch):
    from pathlib import Path

    import ltr.cli as cli

    sample = Path(__file__).resolve().parents[1] / "recordings" / "sample_emg_acc.edf"
    (tmp_path / "events.json").write_text("{}", encoding="utf-8")  # a sidecar left over

    def no_read(*a, **k):
        raise AssertionError("the recording was read before the outputs were checked")

    monkeypatch.setattr(cli, "_read", no_read)
    assert main(["detect", str(sample), "-o", str(tmp_path / "events.tsv")]) != 0
    err = capsys.readouterr().err
    assert "events.json: exists; pass --overwrite" in err and "Traceback" not in err
    assert not (tmp_path / "events.tsv").exists()


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


# -- importing and start-up (issue 13) ------------------------------------------------------
def _fresh_python(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip().splitlines()


def test_submodules_load_on_first_use():
    lines = _fresh_python(
        "import sys, ltr\n"
        "print('numpy' in sys.modules)\n"
        "rec, truth = ltr.simulate.session(duration=5, layout='emg', seed=0)\n"
        "print(round(rec.sfreq), callable(ltr.detect), ltr.segment.Epochs.__name__)\n"
        "import ltr.detect\n"
        "print(callable(ltr.detect))\n"
    )
    assert lines == ["False", "2000 True Epochs", "True"]


def test_public_names_all_resolve():
    import ltr as pkg

    for name in pkg.__all__:
        assert getattr(pkg, name) is not None, name
    lazy = {n for names in pkg._ATTRS.values() for n in names}
    assert set(pkg.__all__) == lazy | {"LtrDataWarning", "ReadError", "__version__",
                                       "set_log_level"}
    for name in pkg._SUBMODULES:
        assert getattr(pkg, name).__name__ == f"ltr.{name}"
    assert {"LtrDataWarning", "simulate", "detect", "read"} <= set(dir(pkg))


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_import_no_numerics(flag):
    code = ("import sys\nfrom ltr.cli import main\n"
            f"try:\n    main([{flag!r}])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('numpy', 'scipy', 'mne', 'matplotlib', 'h5py') "
            "if m in sys.modules))")
    assert _fresh_python(code)[-1] == "[]"


# -- the CLI speaks CLI ---------------------------------------------------------------------
def test_errors_name_flags_not_keyword_arguments(tmp_path, capsys):
    rec = make_recording()
    edf = ltr.write(rec, tmp_path / "r.edf")
    assert main(["info", str(edf), "--sfreq", "1000"]) == 1
    err = capsys.readouterr().err
    assert "--sfreq does not apply to EDF/EDF+ files" in err and "keyword" not in err
    csv = tmp_path / "nosr.csv"
    csv.write_text("EMG\n1\n2\n3\n4\n5\n")
    assert main(["info", str(csv)]) == 1
    err = capsys.readouterr().err
    assert "pass --sfreq (Hz) or --time-column" in err and "sfreq=" not in err
    out = tmp_path / "ev.tsv"
    assert main(["detect", str(edf), "-o", str(out)]) == 0
    assert main(["detect", str(edf), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "pass --overwrite to replace it" in err and "overwrite=True" not in err
    assert main(["detect", str(edf), "--emg", "EMG nope"]) == 1
    assert "=" not in capsys.readouterr().err.split("channels:")[0]


def test_cli_words():
    from ltr.cli import cli_words

    assert cli_words("f.csv: pass exclude=[...] to leave a text column out") == \
        "f.csv: pass --exclude COLUMN to leave a text column out"
    assert cli_words("name them with emg=/acc= or ch_kinds=") == \
        "name them with --emg/--acc or --kind CH=KIND"
    assert cli_words("f.csv: sfreq=500 Hz disagrees") == "f.csv: --sfreq 500 Hz disagrees"
    assert cli_words("bad\n$x_{$\n   ^\nParseException: y") == "bad $x_{$ ParseException: y"


def test_n_jobs_zero_and_verbose_after_the_subcommand(tmp_path, capsys):
    path = ltr.write(make_recording(), tmp_path / "r.h5")
    with pytest.raises(SystemExit) as exc:
        main(["detect", str(path), "--n-jobs", "0"])
    assert exc.value.code == 2
    assert "--n-jobs: 0 workers would run nothing" in capsys.readouterr().err
    assert main(["info", str(path), "-v"]) == 0
    assert main(["detect", str(path), "-vv", "--n-jobs", "1"]) == 0


def test_missing_extra_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "bioread", None)  # import bioread now fails
    path = tmp_path / "x.acq"
    path.write_bytes(b"\0" * 256)
    assert main(["info", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "ltr[biopac]"' in err
    assert "Traceback" not in err


def test_unexpected_errors_one_line_and_traceback_with_v(tmp_path, capsys, monkeypatch):
    import ltr.quality

    path = ltr.write(make_recording(), tmp_path / "r.h5")

    def broken(rec):
        raise IndexError("index 7 is out of bounds")

    monkeypatch.setattr(ltr.quality, "assess", broken)
    assert main(["info", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "r.h5: IndexError: index 7 is out of bounds (run with -v for the traceback)" in err
    assert main(["info", str(path), "-v"]) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_unparsable_mathtext_label_in_report_gives_no_traceback(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    rec, _ = ltr.simulate.session(duration=20, layout="emg", seed=1)
    rec = ltr.Recording(rec.data, rec.sfreq, ["EMG $\\frac{1$"], ["emg"], units=list(rec.units))
    path = ltr.write(rec, tmp_path / "math.h5")
    status = main(["report", str(path), "-o", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert status == 0 or (status == 1 and err.count("\n") == 1)  # escaped, or one line


def test_broken_pipe_is_quiet(tmp_path):
    import os

    path = ltr.write(make_recording(), tmp_path / "r.h5")
    r, w = os.pipe()
    os.close(r)  # a reader that went away (`ltr info ... | head` after head exits)
    try:
        proc = subprocess.run([sys.executable, "-m", "ltr.cli", "info", str(path)], stdout=w,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(w)
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr
    assert proc.returncode == 141


def test_config_prints_the_default_toml(tmp_path, capsys):
    from ltr.detect import DetectorConfig

    assert main(["config"]) == 0
    text = capsys.readouterr().out
    path = tmp_path / "cfg.toml"
    path.write_text(text)
    assert DetectorConfig.from_toml(path) == DetectorConfig()
    assert main(["config", "-o", str(path)]) == 1
    assert "pass --overwrite" in capsys.readouterr().err


def test_simulate_names_truth_after_the_whole_output_name(tmp_path, capsys):
    out = tmp_path / "x.run1.edf"
    assert main(["simulate", "-o", str(out), "--duration", "10", "--layout", "emg"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(out), str(tmp_path / "x.run1.truth.json"),
                       str(tmp_path / "x.run1.events.tsv")]
    assert all((tmp_path / p).exists() for p in printed)


# -- epochs and warnings for implausible setups ---------------------------------------------
def _relabelled(tmp_path, labels=("insert", "remove"), trigger=True):
    rec = make_recording()
    names = list(rec.ch_names) if trigger else list(rec.ch_names[:4])
    data = rec.data if trigger else rec.data[:4]
    units = ["uV", "g", "g", "g", ""][: len(names)]
    out = ltr.Recording(data, rec.sfreq, names, orig_units=units,
                        annotations=ltr.Annotations([0.5, 3.0], [0, 0], list(labels)))
    return ltr.write(out, tmp_path / "lab.h5")


def test_epoch_labels_and_trigger(tmp_path, capsys):
    path = _relabelled(tmp_path, trigger=False)
    assert main(["detect", str(path), "--epoch-labels", "insert,remove"]) == 0
    captured = capsys.readouterr()
    assert "needle-in epochs from annotations" in captured.out
    assert "0.50      3.00" in captured.out
    assert "warning" not in captured.err
    # without the labels: a warning that names the flag, and epochs from activity
    assert main(["detect", str(path)]) == 0
    captured = capsys.readouterr()
    assert ("no annotation is 'needle in'/'needle out' (labels: ['insert', 'remove']); "
            "epochs fall back to needling activity; name the labels with --epoch-labels "
            "IN,OUT") in captured.err
    path = _relabelled(tmp_path / "t", labels=("needle in", "needle out"))
    assert main(["report", str(path), "-o", str(tmp_path / "r.html"), "--trigger",
                 "Trigger"]) == 0
    assert main(["detect", str(path), "--trigger", "Trigger"]) == 0
    assert "needle-in epochs from trigger" in capsys.readouterr().out
    assert main(["detect", str(path), "--trigger", "Nope"]) == 1
    assert "--trigger 'Nope' is not a channel" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["detect", str(path), "--epoch-labels", "in"])
    assert "expected IN,OUT" in capsys.readouterr().err


def test_kind_and_unit_disagree_and_low_emg_rate(tmp_path, capsys):
    path = ltr.write(make_recording(), tmp_path / "r.h5")
    assert main(["detect", str(path), "--emg", "ACC X"]) == 0
    err = capsys.readouterr().err
    assert ("channel 'ACC X' is analysed as EMG (--emg) but its unit is m/s^2, an "
            "acceleration; pass it with --acc instead") in err
    low = ltr.write(make_recording(sfreq=400.0), tmp_path / "low.h5")
    assert main(["detect", str(low)]) == 0
    assert "EMG sampled at 400 Hz, below 500 Hz" in capsys.readouterr().err
    assert main(["detect", str(path)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_check_setup_library():
    from ltr.channels import MIN_EMG_SFREQ, check_setup

    rec = make_recording()
    assert check_setup(rec) == []
    with pytest.warns(ltr.LtrDataWarning, match="'ACC Y' is analysed as EMG"):
        check_setup(rec, emg=["ACC Y"])
    emg_as_acc = ltr.Recording(rec.data[:1], rec.sfreq, ["EMG biceps"], units=["V"])
    with pytest.warns(ltr.LtrDataWarning, match="analysed as acceleration but its label"):
        check_setup(emg_as_acc, acc=["EMG biceps"])
    slow = ltr.Recording(rec.data[:1], MIN_EMG_SFREQ - 1, ["EMG biceps"], units=["V"])
    with pytest.warns(ltr.LtrDataWarning, match="below 500 Hz"):
        check_setup(slow)


# -- progress -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def long_file(tmp_path_factory):
    from ltr.simulate import write_session

    path = tmp_path_factory.mktemp("long") / "long.edf"
    write_session(path, duration=400, sfreq=1000, layout="emg", seed=3)
    return path


def test_progress_hook_follows_the_pieces(long_file):
    from ltr._logging import progress_hook

    calls = []
    with progress_hook(lambda done, total: calls.append((done, total))):
        res = ltr.detect(ltr.read(long_file), block=130)
    assert res.meta["pieces"] == len(calls) >= 3
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == calls[-1][1] == 400_000
    calls.clear()
    ltr.detect(ltr.read(long_file), block=130)  # no hook outside the context
    assert calls == []


def test_progress_bar_only_on_a_terminal(long_file, capsys, monkeypatch):
    import ltr.cli

    assert main(["detect", str(long_file), "--block", "130"]) == 0
    assert "\r" not in capsys.readouterr().err  # not a terminal: no bar
    monkeypatch.setattr(ltr.cli, "_is_terminal", lambda stream: True)
    assert main(["detect", str(long_file), "--block", "130"]) == 0
    err = capsys.readouterr().err
    assert "ltr detect long.edf:" in err and "100%|" in err


def test_batch_writes_no_carriage_returns_when_not_a_terminal(tmp_path, capsys):
    from ltr.simulate import write_session

    for i in range(2):
        write_session(tmp_path / "in" / f"s{i}.h5", duration=20, sfreq=1000, layout="emg",
                      seed=i)
    assert main(["batch", str(tmp_path / "in"), "-o", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert "2 file(s)" in captured.out
    assert "\r" not in captured.err


# -- text readers from the command line -----------------------------------------------------
def test_text_formats_from_the_cli(tmp_path, capsys, shared_data):
    assert main(["info", str(shared_data / "c3d_pyomeca" / "analogs_vicon_export.csv")]) == 0
    out = capsys.readouterr().out
    assert "Vicon Nexus Devices CSV" in out and "2000 Hz" in out and "EMG16" in out
    pdkit = shared_data / "pdkit_tremor_accel" / "subj2458_REST_TREMOR_AMPLITUDE_-_LEFT_HAND.csv"
    assert main(["info", str(pdkit)]) == 0
    captured = capsys.readouterr()
    assert "cloudUPDRS/PDKit CSV" in captured.out and "ACC: ACC X, ACC Y, ACC Z" in captured.out
    assert "irregular time column" in captured.err and "--sfreq or --time-column none" in \
        captured.err


def test_time_column_and_unit_flags(tmp_path, capsys):
    path = tmp_path / "ms.csv"
    path.write_text("stamp,EMG biceps [uV]\n" + "\n".join(f"{i * 2},{i % 7}" for i in range(500)))
    assert main(["info", str(path), "--json"]) == 1  # no column named like time, no rate
    assert "--time-column" in capsys.readouterr().err
    assert main(["info", str(path), "--time-column", "stamp", "--time-unit", "ms",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["sfreq"] == 500.0
    assert main(["info", str(path), "--time-column", "0", "--time-unit", "ms", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sfreq"] == 500.0
    assert main(["info", str(path), "--time-column", "none", "--sfreq", "250", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["sfreq"] == 250.0 and len(doc["channels"]) == 2


def test_six_digit_time_column_from_the_cli(tmp_path, capsys):
    path = tmp_path / "six.csv"
    t = np.arange(220_000) / 2000.0
    path.write_text("time,EMG [uV]\n" + "\n".join(f"{v:.6g},{i % 5}" for i, v in enumerate(t)))
    assert main(["info", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["sfreq"] == 2000.0
    assert "stamps rounded to 1 ms" in captured.err
    assert main(["info", str(path), "--sfreq", "2000", "--json"]) == 0
    assert capsys.readouterr().err == ""


def test_extras_all_and_dask_in_dev():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml")
                            .read_text())["project"]
    extras = project["optional-dependencies"]
    assert "lazy_loader>=0.6" in project["dependencies"]
    assert extras["all"] == ["ltr[plot,vendor,dask,ultrasound,live]"]
    assert any(r.startswith("dask[distributed]") for r in extras["dev"])  # batch test runs
    assert set(extras["ultrasound"]) <= set(extras["dev"])  # the ultrasound tests run
    for req in extras["live"]:  # so that the LSL round trip and the live view run in CI
        assert req in extras["dev"]
    users = set(extras) - {"all", "dev"}
    covered = {"plot", "vendor", "dask", "ultrasound", "live"}
    vendor = set(extras["vendor"])
    assert all(name in covered or set(extras[name]) <= vendor for name in users)


def test_warnings_outside_a_files_work_are_one_line(capsys, monkeypatch):
    import warnings

    import ltr.simulate

    def noisy(path, **kwargs):
        warnings.warn("x.csv: pass sfreq= (Hz)", ltr.LtrDataWarning, stacklevel=2)
        return [path]

    monkeypatch.setattr(ltr.simulate, "write_session", noisy)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["simulate", "-o", "x.edf"]) == 0
    err = capsys.readouterr().err
    assert err == "ltr simulate: warning: x.csv: pass --sfreq (Hz)\n"


def test_report_progress_only_on_a_terminal(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    import ltr.cli
    from ltr.simulate import write_session

    path = write_session(tmp_path / "s.h5", duration=20, sfreq=1000, layout="emg", seed=2)[0]
    assert main(["report", str(path), "-o", str(tmp_path / "a.html")]) == 0
    assert "\r" not in capsys.readouterr().err
    monkeypatch.setattr(ltr.cli, "_is_terminal", lambda stream: True)
    assert main(["report", str(path), "-o", str(tmp_path / "b.html")]) == 0
    assert "ltr report s.h5: writing" in capsys.readouterr().err


def test_the_lazy_package_pickles_by_name_for_worker_processes():
    """lazy_loader swaps ltr's module class; joblib/loky pickle a script's functions by
    value with their globals, ltr among them (was: cannot pickle '_ShadowGuardModule')."""
    import pickle

    cloudpickle = pytest.importorskip("cloudpickle")  # what loky pickles with (dask needs it too)

    import ltr

    assert pickle.loads(pickle.dumps(ltr)) is ltr
    namespace: dict = {"ltr": ltr}
    exec("def count(path):\n    return ltr.__name__ + str(path)", namespace)  # a script's function
    fn = cloudpickle.loads(cloudpickle.dumps(namespace["count"]))
    assert fn(1) == "ltr1"


def test_detect_names_the_misc_channels_it_left_out(tmp_path, capsys):
    rng = np.random.default_rng(0)
    t = np.arange(20000) / 2000.0
    emg, temp = rng.standard_normal(t.size) * 5e-6, rng.standard_normal(t.size)
    rows = "\n".join(f"{a:.4f},{b:.3e},{c:.3f}" for a, b, c in
                     zip(t, emg, temp, strict=True))
    p = tmp_path / "two.csv"
    p.write_text("time (s),EMG trapezius (V),Temp\n" + rows + "\n")
    assert main(["detect", str(p)]) == 0
    out = capsys.readouterr().out
    assert "not analysed: 1 misc channel(s) ('Temp')" in out and "--emg NAME" in out
    assert main(["detect", str(p), "--emg", "EMG trapezius"]) == 0
    assert "not analysed: 1" in capsys.readouterr().out  # still Temp
