"""Batch processing: parallel, resumable, fault-isolated, with status and cohort tables."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest

import ltr
from ltr.batch import config_hash, find_inputs, process_file, process_files
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
    out = tmp_path / "clinic_b" / "s10"  # sub-folders are kept
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
    later = (tmp_path / "s00" / "manifest.json").stat().st_mtime + 10.0
    os.utime(files[0], (later, later))
    redo = process_files(files, other, tmp_path, progress=False)
    assert redo.counts() == {"ok": 1, "skipped": 4, "failed": 0}
    manifest = json.loads((tmp_path / "s00" / "manifest.json").read_text())
    assert manifest["config_hash"] == config_hash(other)


def test_a_half_written_output_is_not_trusted(archive, tmp_path):
    f = archive / "s01.h5"
    rep = process_file(f, None, tmp_path)
    assert rep.status == "ok"
    (tmp_path / "s01" / "events.tsv").unlink()  # as if interrupted mid-way
    assert process_file(f, None, tmp_path).status == "ok"


def test_parallel_equals_serial(archive, tmp_path):
    files = find_inputs(str(archive / "s0*.h5"))
    a = process_files(files, None, tmp_path / "a", n_jobs=None, progress=False)
    b = process_files(files, None, tmp_path / "b", n_jobs=2, progress=False)
    assert [r.twitches for r in a.reports] == [r.twitches for r in b.reports]
    assert (tmp_path / "a" / "s02" / "events.tsv").read_text() == \
        (tmp_path / "b" / "s02" / "events.tsv").read_text()


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
    good = tmp_path / "good"
    assert main(["batch", str(archive / "s0*.h5"), "-o", str(good), "--report"]) == 0
    assert (good / "s03" / "report.html").exists()
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
    for name in ("s00", "s01", "s02"):
        assert (tmp_path / "out" / name / "manifest.json").exists()
    assert "worker died" in result.failed[0].error
