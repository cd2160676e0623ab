"""Batch processing: parallel, resumable, fault-isolated, with status and cohort tables."""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

import ltr
from ltr.batch import (
    config_hash,
    detector_fingerprint,
    find_inputs,
    is_up_to_date,
    process_file,
    process_files,
    source_hash,
)
from ltr.cli import main
from ltr.detect import DetectorConfig, EmgConfig
from ltr.simulate import write_session


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Six small sessions (one in a sub-folder) and four broken files."""
    root = tmp_path_factory.mktemp("archive")
    for i in range(5):
        write_session(root / f"s{i:02d}.h5", duration=30, sfreq=1000, layout="emg", seed=i,
                      snr_db=(8, 20))
    (root / "clinic_b").mkdir()
    write_session(root / "clinic_b" / "s10.edf", duration=30, sfreq=1000, layout="emg+acc",
                  seed=10)
    (root / "empty.edf").write_bytes(b"")
    good = (root / "s00.h5").read_bytes()
    (root / "truncated.h5").write_bytes(good[: len(good) // 3])
    (root / "not_emg.csv").write_text("time,temperature\n" + "\n".join(
        f"{i / 10},36.6" for i in range(50)))
    edf = (root / "clinic_b" / "s10.edf").read_bytes()
    (root / "clinic_b" / "cut.edf").write_bytes(edf[:4000])
    return root


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_find_inputs(archive):
    top = [p.name for p in find_inputs(archive)]
    assert "s00.h5" in top and "s10.edf" not in top
    assert "s00.truth.json" not in top  # truth files are not recordings
    deep = find_inputs(archive, recursive=True)
    assert any(p.name == "s10.edf" for p in deep)
    assert [p.name for p in find_inputs(str(archive / "s0*.h5"))] == [
        f"s{i:02d}.h5" for i in range(5)]


def test_batch_isolates_failures_and_writes_tables(archive, tmp_path):
    files = find_inputs(archive, recursive=True)
    result = process_files(files, None, tmp_path, n_jobs=2, progress=False, root=archive)
    counts = result.counts()
    assert counts == {"ok": 6, "skipped": 0, "failed": 4}
    failed = {os.path.basename(r.path): r.error for r in result.failed}
    assert "the file is empty" in failed["empty.edf"]
    assert "truncated" in failed["cut.edf"]
    assert "no EMG or accelerometer channel" in failed["not_emg.csv"]
    assert failed["truncated.h5"]
    status = _rows(tmp_path / "status.tsv")
    assert len(status) == 10
    assert len(_rows(tmp_path / "failures.tsv")) == 4
    cohort = _rows(tmp_path / "cohort.tsv")
    assert {r["recording"] for r in cohort} == {str(p) for p in files
                                                if os.path.basename(str(p)) not in failed}
    # one row per file x epoch, epochs included when empty
    s00 = [r for r in cohort if r["recording"].endswith("s00.h5")]
    truth = ltr.simulate.Truth.from_json(archive / "s00.truth.json")
    assert len(s00) == truth.epochs["start"].size
    out = tmp_path / "clinic_b" / "s10.edf"  # sub-folders and the whole name are kept
    assert (out / "events.tsv").exists() and (out / "manifest.json").exists()
    assert not list(tmp_path.rglob(".partial-*"))


def test_batch_is_resumable_and_config_aware(archive, tmp_path):
    files = find_inputs(str(archive / "s0*.h5"))
    first = process_files(files, None, tmp_path, progress=False)
    assert first.counts()["ok"] == 5
    again = process_files(files, None, tmp_path, progress=False)
    assert again.counts() == {"ok": 0, "skipped": 5, "failed": 0}
    # a changed configuration, a forced run, or a newer input: processed again
    other = DetectorConfig(emg=EmgConfig(on_ratio=2.2))
    assert config_hash(other) != config_hash(DetectorConfig())
    assert process_files(files, other, tmp_path, progress=False).counts()["ok"] == 5
    assert process_files(files, other, tmp_path, progress=False,
                         overwrite=True).counts()["ok"] == 5
    # touched input: set its time well past the outputs' rather than sleeping, so a file
    # system with coarse time stamps (1-2 s on some) cannot make it look unchanged
    later = (tmp_path / "s00.h5" / "manifest.json").stat().st_mtime + 10.0
    os.utime(files[0], (later, later))
    redo = process_files(files, other, tmp_path, progress=False)
    assert redo.counts() == {"ok": 1, "skipped": 4, "failed": 0}
    manifest = json.loads((tmp_path / "s00.h5" / "manifest.json").read_text())
    assert manifest["config_hash"] == config_hash(other)


# -- outputs are re-used only when the same detector made them ----------------------------
def _edit_manifest(folder, edit):
    path = folder / "manifest.json"
    m = json.loads(path.read_text())
    edit(m)
    path.write_text(json.dumps(m))


def test_outputs_of_another_detector_are_made_again_and_say_why(archive, tmp_path):
    f = archive / "s00.h5"
    assert process_file(f, None, tmp_path).status == "ok"
    assert process_file(f, None, tmp_path).status == "skipped"  # same detector: re-used
    # outputs of an ltr with the same version but other code (the version stayed 0.1.0
    # through many detector changes)
    _edit_manifest(tmp_path / "s00.h5", lambda m: m.setdefault("detector", {}).update(
        source_hash="0123456789abcdef"))
    assert not is_up_to_date(f, tmp_path / "s00.h5", DetectorConfig())
    redo = process_file(f, None, tmp_path)
    assert redo.status == "ok"
    assert redo.rerun == "outputs were made by another detector (ltr's code differs)"
    manifest = json.loads((tmp_path / "s00.h5" / "manifest.json").read_text())
    assert manifest["detector"] == detector_fingerprint(DetectorConfig())
    again = process_file(f, None, tmp_path)  # made by this detector now: re-used
    assert again.status == "skipped" and again.rerun == ""
    # another ltr version
    _edit_manifest(tmp_path / "s00.h5", lambda m: m["detector"].update(ltr_version="0.0.9"))
    redo = process_file(f, None, tmp_path)
    assert redo.status == "ok" and "ltr 0.0.9 -> " in redo.rerun


def test_outputs_without_a_detector_fingerprint_are_made_again(archive, tmp_path):
    # a manifest as ltr wrote it before the fingerprint: version and configuration hash
    # match, yet nothing says which detector code made the outputs
    f = archive / "s01.h5"
    first = process_file(f, None, tmp_path)
    assert first.status == "ok"
    _edit_manifest(tmp_path / "s01.h5", lambda m: m.pop("detector", None))
    assert not is_up_to_date(f, tmp_path / "s01.h5", DetectorConfig())
    redo = process_file(f, None, tmp_path)
    assert redo.status == "ok"
    assert "another detector (an ltr that recorded no detector fingerprint)" in redo.rerun
    assert first.rerun == ""  # nothing was there before the first run


def test_a_changed_detector_code_reruns_the_batch(archive, tmp_path, monkeypatch, capsys):
    files = find_inputs(str(archive / "s0[12].h5"))
    out = tmp_path / "out"
    assert main(["batch", str(archive / "s0[12].h5"), "-o", str(out)]) == 0
    capsys.readouterr()
    # the same ltr version with an edited detector: its code hash differs
    monkeypatch.setattr("ltr.batch._running_source_hash", lambda: "fedcba9876543210",
                        raising=False)
    assert main(["batch", str(archive / "s0[12].h5"), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2 done, 0 up to date" in printed
    assert "2 file(s) re-run: outputs were made by another detector (ltr's code differs)" \
        in printed
    status = _rows(out / "status.tsv")
    assert {r["rerun"] for r in status} == {
        "outputs were made by another detector (ltr's code differs)"}
    for f in files:
        m = json.loads((out / f.name / "manifest.json").read_text())
        assert m["detector"]["source_hash"] == "fedcba9876543210"
    # made by this detector now: re-used, nothing said
    assert main(["batch", str(archive / "s0[12].h5"), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "0 done, 2 up to date" in printed and "re-run" not in printed


def test_another_configuration_is_named_as_the_reason(archive, tmp_path):
    f = archive / "s02.h5"
    assert process_file(f, None, tmp_path).status == "ok"
    redo = process_file(f, DetectorConfig(emg=EmgConfig(on_ratio=2.2)), tmp_path)
    assert redo.status == "ok"
    assert redo.rerun == "outputs were made with another detector configuration"
    (tmp_path / "s02.h5" / "events.tsv").unlink()
    redo = process_file(f, DetectorConfig(), tmp_path)
    assert redo.rerun == ("outputs were made with another detector configuration; outputs "
                          "were incomplete")
    assert process_file(f, None, tmp_path, overwrite=True).rerun == "overwrite asked"


def test_the_code_hash_follows_the_installed_sources(tmp_path):
    import shutil

    pkg = tmp_path / "ltr"
    shutil.copytree(Path(ltr.__file__).parent, pkg,
                    ignore=shutil.ignore_patterns("__pycache__"))
    before = source_hash(pkg)
    assert before == source_hash() == detector_fingerprint(DetectorConfig())["source_hash"]
    (pkg / "detect" / "__pycache__").mkdir(exist_ok=True)
    (pkg / "detect" / "__pycache__" / "core.cpython-312.pyc").write_bytes(b"byte code")
    (pkg / "review" / "static" / "notes.txt").write_text("not code")
    assert source_hash(pkg) == before  # byte code and data files do not count
    core = pkg / "detect" / "core.py"
    core.write_text(core.read_text() + "# edited\n")
    assert source_hash(pkg) != before  # one edited line of the detector does
    empty = tmp_path / "frozen"
    empty.mkdir()
    assert source_hash(empty) == "unavailable"


def test_a_half_written_output_is_not_trusted(archive, tmp_path):
    f = archive / "s01.h5"
    rep = process_file(f, None, tmp_path)
    assert rep.status == "ok"
    (tmp_path / "s01.h5" / "events.tsv").unlink()  # as if interrupted mid-way
    assert process_file(f, None, tmp_path).status == "ok"


def test_parallel_equals_serial(archive, tmp_path):
    files = find_inputs(str(archive / "s0*.h5"))
    a = process_files(files, None, tmp_path / "a", n_jobs=None, progress=False)
    b = process_files(files, None, tmp_path / "b", n_jobs=2, progress=False)
    assert [r.twitches for r in a.reports] == [r.twitches for r in b.reports]
    assert (tmp_path / "a" / "s02.h5" / "events.tsv").read_text() == \
        (tmp_path / "b" / "s02.h5" / "events.tsv").read_text()


def test_on_error_raise_lists_failures(archive, tmp_path):
    with pytest.raises(RuntimeError, match=r"1 of 2 file\(s\) failed: .*empty.edf"):
        process_files([archive / "s00.h5", archive / "empty.edf"], None, tmp_path,
                      on_error="raise", progress=False)
    with pytest.raises(ValueError, match="on_error must be one of"):
        process_files([], None, tmp_path, on_error="ignore")


def test_batch_cli(archive, tmp_path, capsys):
    assert main(["batch", str(archive), "-o", str(tmp_path), "--n-jobs", "2"]) == 1
    captured = capsys.readouterr()
    assert "8 file(s)" in captured.out and "3 failed" in captured.out
    assert "FAILED" in captured.err and "failures.tsv" in captured.err
    assert main(["batch", str(archive), "-o", str(tmp_path)]) == 1  # failures again
    captured = capsys.readouterr()
    assert "5 up to date" in captured.out
    n_rows = len(_rows(tmp_path / "cohort.tsv"))
    assert f"cohort.tsv: {n_rows} row(s), {n_rows} of them from earlier runs" in captured.out
    good = tmp_path / "good"
    assert main(["batch", str(archive / "s0*.h5"), "-o", str(good), "--report"]) == 0
    assert (good / "s03.h5" / "report.html").exists()
    assert main(["batch", str(tmp_path / "nothing_here"), "-o", str(good)]) == 2


def test_dask_backend(archive, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    import joblib

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster), joblib.parallel_config(backend="dask"):
        result = process_files(find_inputs(str(archive / "s0*.h5")), None, tmp_path,
                               n_jobs=-1, progress=False)
    assert result.counts()["ok"] == 5
    assert np.all([r.twitches >= 0 for r in result.reports])


class _KillsTheWorker:
    """An sfreq that kills the process converting it: stands for a native crash."""

    def __float__(self):
        os._exit(3)


def test_a_file_that_kills_its_worker_fails_alone(archive, tmp_path):
    bad = tmp_path / "kills.csv"
    bad.write_text("EMG\n" + "\n".join(["1.0"] * 200))  # needs sfreq: conversion kills
    files = [archive / "s00.h5", bad, archive / "s01.h5", archive / "s02.h5"]
    result = process_files(files, None, tmp_path / "out", n_jobs=2, progress=False,
                           on_error="skip", read_options={"sfreq": _KillsTheWorker()})
    status = {os.path.basename(r.path): r.status for r in result.reports}
    assert status.pop("kills.csv") == "failed"
    # good files finished before the crash may be reported on the retry as up to date
    assert set(status) == {"s00.h5", "s01.h5", "s02.h5"}
    assert set(status.values()) <= {"ok", "skipped"}
    for r in result.reports:  # inputs from two folders: below their common folder
        if r.status != "failed":
            assert (Path(r.out_dir) / "manifest.json").exists()
            assert Path(r.out_dir).parent.name == archive.name
    assert "worker died" in result.failed[0].error


# -- outputs are injective, and the manifest must match the input ------------------------
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs of one subject (names differing after the first dot) and one stem in two
    folders."""
    root = tmp_path_factory.mktemp("runs")
    (root / "a").mkdir()
    for name, seed in (("s01.run1.h5", 1), ("s01.run2.h5", 2)):
        write_session(root / "a" / name, duration=20, sfreq=1000, layout="emg", seed=seed)
    for folder, seed in (("x", 3), ("y", 4)):
        (root / folder).mkdir()
        write_session(root / folder / "s05.h5", duration=20, sfreq=1000, layout="emg",
                      seed=seed)
    return root


def test_outputs_keep_the_whole_name_and_the_folder(runs, tmp_path):
    files = find_inputs(str(runs / "a" / "*.h5")) + find_inputs(str(runs / "*" / "s05.h5"))
    assert len(files) == 4
    result = process_files(files, None, tmp_path, progress=False)
    assert result.counts() == {"ok": 4, "skipped": 0, "failed": 0}
    assert len({r.out_dir for r in result.reports}) == 4
    for rel in ("a/s01.run1.h5", "a/s01.run2.h5", "x/s05.h5", "y/s05.h5"):
        manifest = json.loads((tmp_path / rel / "manifest.json").read_text())
        assert manifest["input"]["path"] == rel
    cohort = _rows(tmp_path / "cohort.tsv")
    assert {r["recording"] for r in cohort} == {str(f) for f in files}
    again = process_files(files, None, tmp_path, progress=False)
    assert again.counts() == {"ok": 0, "skipped": 4, "failed": 0}


def test_a_changed_input_with_its_old_size_and_time_is_redone(runs, tmp_path):
    src = runs / "x" / "s05.h5"
    f = tmp_path / "in" / "s05.h5"
    f.parent.mkdir()
    f.write_bytes(src.read_bytes())
    st = f.stat()
    assert process_file(f, None, tmp_path / "out", root=f.parent).status == "ok"
    data = bytearray(f.read_bytes())
    data[-1] ^= 0xFF  # same size, same time stamp, other content
    f.write_bytes(bytes(data))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert not is_up_to_date(f, tmp_path / "out" / "s05.h5", DetectorConfig(), root=f.parent)
    # the input is named by its path below the root: another file there is not it
    other = tmp_path / "in2" / "s05.h5"
    other.parent.mkdir()
    other.write_bytes(src.read_bytes())
    assert not is_up_to_date(other, tmp_path / "out" / "s05.h5", DetectorConfig(),
                             root=other.parent / "..")


def test_a_remaining_collision_fails_both_files_by_name(runs, tmp_path):
    # an input outside the given root keeps only its name: two such inputs would share
    a, b = runs / "x" / "s05.h5", runs / "y" / "s05.h5"
    result = process_files([a, b], None, tmp_path, progress=False, on_error="skip",
                           root=runs / "a")
    assert result.counts() == {"ok": 0, "skipped": 0, "failed": 2}
    for r in result.failed:
        assert str(a) in r.error and str(b) in r.error and "share the output folder" in r.error
    assert not (tmp_path / "s05.h5").exists()
    status = _rows(tmp_path / "status.tsv")
    assert [r["status"] for r in status] == ["failed", "failed"]


def test_names_differing_in_case_collide_where_case_is_ignored(runs, tmp_path, monkeypatch):
    import ltr.batch

    monkeypatch.setattr(ltr.batch, "_case_insensitive", lambda folder: True)
    upper = tmp_path / "in" / "S05.h5"
    upper.parent.mkdir()
    upper.write_bytes((runs / "x" / "s05.h5").read_bytes())
    lower = upper.with_name("s05.h5")
    lower.write_bytes((runs / "y" / "s05.h5").read_bytes())
    result = process_files([upper, lower], None, tmp_path / "out", progress=False,
                           on_error="skip")
    assert result.counts()["failed"] == 2
    assert "ignores case" in result.failed[0].error


def test_an_output_folder_of_the_old_layout_is_named_not_used(runs, tmp_path):
    f = runs / "a" / "s01.run1.h5"
    old = tmp_path / "a" / "s01"  # the layout before: stem only
    old.mkdir(parents=True)
    (old / "events.tsv").write_text("onset\tduration\n")
    (old / "manifest.json").write_text(json.dumps({
        "input": str(f), "input_size": f.stat().st_size, "config_hash":
        config_hash(DetectorConfig()), "ltr_version": ltr.__version__,
        "files": ["events.tsv"], "twitches": 0}))
    result = process_files([f, runs / "a" / "s01.run2.h5"], None, tmp_path, progress=False,
                           root=runs)
    assert result.counts()["ok"] == 2  # neither is taken as up to date from the old folder
    assert result.stale_dirs == [str(old)]
    assert (old / "manifest.json").exists()  # the researcher's files are left alone
    assert {r["recording"] for r in _rows(tmp_path / "cohort.tsv")} == {
        str(f), str(runs / "a" / "s01.run2.h5")}


# -- the cohort covers every input with results -------------------------------------------
def test_cohort_covers_every_input_after_a_resume(archive, tmp_path):
    files = find_inputs(str(archive / "s0*.h5"))
    whole = process_files(files, None, tmp_path / "whole", progress=False)
    # a run stopped after two files, then resumed on all five
    process_files(files[:2], None, tmp_path / "resumed", progress=False)
    resumed = process_files(files, None, tmp_path / "resumed", progress=False)
    assert resumed.counts() == {"ok": 3, "skipped": 2, "failed": 0}
    # rows read back from earlier outputs are the rows a fresh run writes
    assert (tmp_path / "resumed" / "cohort.tsv").read_text() == \
        (tmp_path / "whole" / "cohort.tsv").read_text()
    first_two = [r for r in _rows(tmp_path / "whole" / "cohort.tsv")
                 if r["recording"] in {str(f) for f in files[:2]}]
    assert resumed.earlier_rows == len(first_two) > 0
    assert resumed.cohort_rows == whole.cohort_rows and whole.earlier_rows == 0
    # and a run where everything is up to date keeps them all
    again = process_files(files, None, tmp_path / "resumed", progress=False)
    assert again.earlier_rows == again.cohort_rows == whole.cohort_rows


def test_scratch_folders_of_dead_runs_are_removed(archive, tmp_path):
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = tmp_path / "s00.h5" / f".partial-{int(gone.stdout)}"
    live = tmp_path / "s00.h5" / f".partial-{os.getppid()}"  # a live process: kept
    for d in (dead, live):
        d.mkdir(parents=True)
        (d / "events.tsv").write_text("half")
    result = process_files([archive / "s00.h5"], None, tmp_path, progress=False)
    assert result.cleaned == [str(dead)]
    assert not dead.exists() and live.exists()


# -- one pathological file cannot block a batch ------------------------------------------
class _Hangs:
    """An sfreq whose conversion never ends: stands for a file that takes forever."""

    def __float__(self):
        n = 0
        while n >= 0:  # a Python loop, like the detector's on absurd sampling rates
            n += 1
        return 1000.0


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_a_file_past_its_time_limit_fails_alone(archive, tmp_path, n_jobs):
    slow = tmp_path / "slow.csv"
    slow.write_text("EMG\n" + "\n".join(["1.0"] * 200))  # needs sfreq: conversion hangs
    files = [archive / "s00.h5", slow, archive / "s01.h5"]
    result = process_files(files, None, tmp_path / "out", n_jobs=n_jobs, progress=False,
                           on_error="skip", read_options={"sfreq": _Hangs()},
                           timeout=4.0)  # a good 30-s file takes < 0.5 s, imports included
    status = {os.path.basename(r.path): r.status for r in result.reports}
    assert status == {"s00.h5": "ok", "slow.csv": "failed", "s01.h5": "ok"}
    assert "timed out" in result.failed[0].error and "--timeout" in result.failed[0].error
    assert len(_rows(tmp_path / "out" / "status.tsv")) == 3
    assert [r["path"] for r in _rows(tmp_path / "out" / "failures.tsv")] == [str(slow)]
    assert {r["recording"] for r in _rows(tmp_path / "out" / "cohort.tsv")} == {
        str(files[0]), str(files[2])}


class _Greedy:
    """An sfreq whose conversion asks for 4 GiB: stands for a file that needs too much."""

    def __float__(self):
        np.ones(2**29)  # float64: 4 GiB, touched
        return 1000.0


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_a_file_past_its_memory_limit_fails_alone(archive, tmp_path, n_jobs):
    greedy = tmp_path / "greedy.csv"
    greedy.write_text("EMG\n" + "\n".join(["1.0"] * 200))  # needs sfreq: 4 GiB asked
    files = [archive / "s00.h5", greedy, archive / "s01.h5"]
    import resource

    before = resource.getrlimit(resource.RLIMIT_AS)
    # 1000 MB: a good 30-s file needs far less (read, detect: tens of MB), 4 GiB is more
    result = process_files(files, None, tmp_path / "out", n_jobs=n_jobs, progress=False,
                           on_error="skip", read_options={"sfreq": _Greedy()},
                           max_memory=1000)
    status = {os.path.basename(r.path): r.status for r in result.reports}
    assert status == {"s00.h5": "ok", "greedy.csv": "failed", "s01.h5": "ok"}
    assert "out of memory" in result.failed[0].error
    assert "--max-memory" in result.failed[0].error
    assert [r["path"] for r in _rows(tmp_path / "out" / "failures.tsv")] == [str(greedy)]
    assert len(_rows(tmp_path / "out" / "cohort.tsv")) > 0
    assert resource.getrlimit(resource.RLIMIT_AS) == before  # lifted after each file


def test_a_memory_limit_is_checked(archive, tmp_path):
    with pytest.raises(ValueError, match="max_memory must be a finite number > 0"):
        process_files([archive / "s00.h5"], None, tmp_path, max_memory=-1)
    assert main(["batch", str(archive / "s00.h5"), "-o", str(tmp_path), "--max-memory",
                 "-5"]) == 2


def test_a_time_limit_is_checked(archive, tmp_path):
    with pytest.raises(ValueError, match="timeout must be a finite number > 0"):
        process_files([archive / "s00.h5"], None, tmp_path, timeout=-1)
    assert main(["batch", str(archive / "s00.h5"), "-o", str(tmp_path), "--timeout",
                 "-5"]) == 2
    from ltr.batch import DEFAULT_TIMEOUT
    from ltr.cli import build_parser

    help_text = build_parser()._subparsers._group_actions[0].choices["batch"].format_help()
    assert f"default {DEFAULT_TIMEOUT:g}" in help_text


def test_an_edf_with_an_absurd_record_duration_is_refused_at_once(archive, tmp_path):
    good = (archive / "clinic_b" / "s10.edf").read_bytes()
    bad = bytearray(good)
    bad[244:252] = b"1e-9    "  # record duration field: 1e12 Hz at 1000 samples per record
    (tmp_path / "ns.edf").write_bytes(bytes(bad))
    bad[244:252] = b"0       "
    (tmp_path / "zero.edf").write_bytes(bytes(bad))
    files = [tmp_path / "ns.edf", tmp_path / "zero.edf", archive / "clinic_b" / "s10.edf"]
    result = process_files(files, None, tmp_path / "out", progress=False, on_error="skip",
                           timeout=60)
    errors = {os.path.basename(r.path): r.error for r in result.failed}
    assert "sampling rate of 1e+12 Hz" in errors["ns.edf"] and "EMG" in errors["ns.edf"]
    assert "record duration 0 s" in errors["zero.edf"]
    assert result.counts()["ok"] == 1


def test_interrupted_runs_write_what_is_known(archive, tmp_path):
    class _Interrupts:
        def __float__(self):
            raise KeyboardInterrupt

    stop = tmp_path / "stop.csv"
    stop.write_text("EMG\n" + "\n".join(["1.0"] * 200))
    files = [archive / "s00.h5", stop, archive / "s01.h5"]
    with pytest.raises(KeyboardInterrupt):
        process_files(files, None, tmp_path / "out", progress=False,
                      read_options={"sfreq": _Interrupts()})
    status = {os.path.basename(r["path"]): r["status"]
              for r in _rows(tmp_path / "out" / "status.tsv")}
    assert status == {"s00.h5": "ok", "stop.csv": "not run", "s01.h5": "not run"}
    assert {r["recording"] for r in _rows(tmp_path / "out" / "cohort.tsv")} == {
        str(files[0])}


# -- tables survive any file name ---------------------------------------------------------
def test_tables_round_trip_names_with_tabs_and_newlines(archive, tmp_path):
    pd = pytest.importorskip("pandas")
    weird = tmp_path / "in" / 'tab\there "quoted"\nnext line.h5'
    weird.parent.mkdir()
    weird.write_bytes((archive / "s00.h5").read_bytes())
    broken = weird.with_name("broken\tone.h5")
    broken.write_bytes(b"not hdf5 at all")
    result = process_files([weird, broken], None, tmp_path / "out", progress=False,
                           on_error="skip")
    assert result.counts() == {"ok": 1, "skipped": 0, "failed": 1}
    status = pd.read_csv(tmp_path / "out" / "status.tsv", sep="\t")
    assert list(status["path"]) == [str(weird), str(broken)]
    assert list(status["status"]) == ["ok", "failed"]
    failures = pd.read_csv(tmp_path / "out" / "failures.tsv", sep="\t")
    assert list(failures["path"]) == [str(broken)] and str(broken) in failures["error"][0]
    cohort = pd.read_csv(tmp_path / "out" / "cohort.tsv", sep="\t")
    assert set(cohort["recording"]) == {str(weird)}
    assert len(cohort) == len(result.reports[0].epochs)
    assert (tmp_path / "out" / weird.name / "manifest.json").exists()


def test_an_output_folder_inside_the_input_folder_is_not_read_as_input(archive, tmp_path):
    (tmp_path / "s00.h5").write_bytes((archive / "s00.h5").read_bytes())
    out = tmp_path / "out"
    assert process_files(find_inputs(tmp_path, recursive=True), None, out,
                         progress=False).counts()["ok"] == 1
    again = process_files(find_inputs(tmp_path, recursive=True), None, out, progress=False)
    assert again.counts() == {"ok": 0, "skipped": 1, "failed": 0}  # no tables as inputs
    assert {Path(p).name for p in again.inside_output} >= {"status.tsv", "events.tsv"}


def test_the_time_limit_reaches_any_thread_and_nothing_after_it():
    import threading

    from ltr.batch import FileTimeout, run_with_time_limit

    def spin():
        n = 0
        while n >= 0:
            n += 1

    caught = []

    def in_thread():
        try:
            run_with_time_limit(spin, 0.2)
        except FileTimeout:
            caught.append("timed out")

    t = threading.Thread(target=in_thread)
    t.start()
    t.join(30)  # a bound for a broken limit, not a timing assumption
    assert caught == ["timed out"]
    # a call that ends in time: its limit is cancelled and never fires afterwards
    assert run_with_time_limit(lambda: 7, 0.05) == 7
    end = time.perf_counter() + 0.3  # several times the cancelled limit
    while time.perf_counter() < end:
        pass


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM is TerminateProcess on Windows")
def test_a_terminated_cli_run_writes_its_tables(archive, tmp_path):
    import subprocess
    import sys

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.h5").write_bytes((archive / "s00.h5").read_bytes())
    (tmp_path / "in" / "z_hangs.h5").write_bytes((archive / "s01.h5").read_bytes())
    child = f"""
import sys
import ltr.io
from ltr.cli import main
read = ltr.io.read
def hanging_read(path, **kw):
    if str(path).endswith("z_hangs.h5"):
        print("ready", flush=True)
        while True:
            pass
    return read(path, **kw)
ltr.io.read = hanging_read
sys.exit(main(["batch", {str(tmp_path / "in")!r}, "-o", {str(tmp_path / "out")!r},
               "--timeout", "0"]))
"""
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"  # a.h5 is done, z_hangs hangs
        proc.terminate()  # SIGTERM, as a cluster scheduler sends at its time limit
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130 and "interrupted" in err
    status = {os.path.basename(r["path"]): r["status"]
              for r in _rows(tmp_path / "out" / "status.tsv")}
    assert status == {"a.h5": "ok", "z_hangs.h5": "not run"}
    assert len(_rows(tmp_path / "out" / "cohort.tsv")) > 0
