"""Many files: one pure function per file, parallel over files, resumable, fault-isolated.

- :func:`process_file` reads, detects, summarises and writes one folder of outputs.
- :func:`process_files` runs it over many files with joblib (``n_jobs`` semantics, so
  ``joblib.parallel_config(backend="dask")`` hands the work to a Dask cluster without
  code changes), a progress bar, a status table and a cohort table.

Outputs of ``IN/session.edf`` go to ``OUT/session/``: ``events.tsv`` (+ ``.json``
sidecar), ``epochs.tsv``, ``summary.json``, optionally ``report.html``, and
``manifest.json`` last. A re-run skips a file whose manifest is newer than the input and
names the same configuration hash and ltr version. Every file is written to a temporary
name and renamed, so an interrupted run never leaves a half-written output behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import traceback
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ._logging import logger
from ._validate import check_option
from ._version import __version__
from .detect import DetectorConfig
from .io import READERS

MANIFEST = "manifest.json"


@dataclass
class FileReport:
    """What happened to one input file."""

    path: str
    status: str  # "ok", "skipped" or "failed"
    out_dir: str = ""
    twitches: int = -1
    duration_s: float = float("nan")
    seconds: float = 0.0
    error: str = ""
    peak_rss_mb: float = float("nan")
    epochs: list[dict[str, Any]] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("epochs")
        return d


def config_hash(config: DetectorConfig) -> str:
    """A short stable hash of a configuration (its TOML text)."""
    return hashlib.sha256(config.to_toml().encode()).hexdigest()[:16]


def _output_dir(path: Path, out_root: Path, root: Path | None) -> Path:
    rel = path.relative_to(root) if root is not None and path.is_relative_to(root) else \
        Path(path.name)
    stem = rel.name
    for suffix in reversed(rel.suffixes):
        stem = stem[: -len(suffix)] if stem.endswith(suffix) else stem
    return out_root / rel.parent / (stem or rel.name)


def is_up_to_date(path: Path, out_dir: Path, config: DetectorConfig) -> bool:
    """Whether ``out_dir`` holds complete outputs of ``path`` made with ``config``."""
    manifest = out_dir / MANIFEST
    if not manifest.exists():
        return False
    try:
        m = json.loads(manifest.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return (m.get("config_hash") == config_hash(config)
            and m.get("ltr_version") == __version__
            and manifest.stat().st_mtime >= path.stat().st_mtime
            and all((out_dir / f).exists() for f in m.get("files", [])))


def process_file(
    path: str | os.PathLike[str],
    config: DetectorConfig | None,
    out_dir: str | os.PathLike[str],
    *,
    report: bool = False,
    overwrite: bool = False,
    read_options: dict[str, Any] | None = None,
    root: str | os.PathLike[str] | None = None,
) -> FileReport:
    """Process one recording into its own output folder (a pure, picklable unit of work).

    Parameters
    ----------
    path : path-like
        The recording.
    config : DetectorConfig | None
    out_dir : path-like
        Root of the outputs; this file's go to ``out_dir/<relative path>/<stem>/``.
    report : bool
        Also write ``report.html``.
    overwrite : bool
        Redo the file even when its outputs are up to date.
    read_options : dict | None
        Passed to :func:`ltr.read`.
    root : path-like | None
        Input root: relative paths below it are kept in ``out_dir``.

    Returns
    -------
    FileReport
        ``status`` is ``"ok"``, ``"skipped"`` (up to date) or ``"failed"`` with the error;
        exceptions of the file itself never escape, so one bad file cannot stop a batch.
    """
    from .detect import detect
    from .io import read
    from .results import write_table

    t0 = time.perf_counter()
    cfg = config if config is not None else DetectorConfig()
    p = Path(path)
    out = _output_dir(p, Path(out_dir), Path(root) if root is not None else None)
    if not overwrite and p.exists() and is_up_to_date(p, out, cfg):
        return FileReport(str(p), "skipped", str(out))
    tmp = out / f".partial-{os.getpid()}"
    try:
        rec = read(p, **(read_options or {}))
        res = detect(rec, config=cfg)
        # everything is written in a scratch folder, then renamed into place (atomic per
        # file on one file system), the manifest last: its presence means complete
        tmp.mkdir(parents=True, exist_ok=True)
        res.to_bids_events(tmp / "events.tsv", overwrite=True)
        table = res.summary(by="epoch")
        write_table(table if len(table) else res.summary(by="recording"), tmp / "epochs.tsv",
                    overwrite=True)
        epochs = table.to_dict("records")
        (tmp / "summary.json").write_text(json.dumps(res.overview(), indent=1, default=str)
                                          + "\n")
        files = ["events.tsv", "events.json", "epochs.tsv", "summary.json"]
        if report:
            from .report import write_report

            write_report(rec, res, tmp / "report.html", overwrite=True)
            files.append("report.html")
        (out / MANIFEST).unlink(missing_ok=True)
        for name in files:
            os.replace(tmp / name, out / name)
        manifest = {"input": str(p), "input_size": p.stat().st_size,
                    "config_hash": config_hash(cfg), "ltr_version": __version__,
                    "files": files, "twitches": len(res), "config": cfg.to_dict()}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        os.replace(tmp / MANIFEST, out / MANIFEST)
        return FileReport(str(p), "ok", str(out), len(res), rec.duration,
                          time.perf_counter() - t0, peak_rss_mb=_peak_rss_mb(), epochs=epochs)
    except Exception as err:  # one file's failure is that file's, reported, not raised
        logger.debug("%s failed:\n%s", p, traceback.format_exc())
        return FileReport(str(p), "failed", str(out), seconds=time.perf_counter() - t0,
                          error=f"{type(err).__name__}: {err}")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class BatchResult:
    """The outcome of :func:`process_files`."""

    reports: list[FileReport]
    out_dir: str
    seconds: float

    @property
    def failed(self) -> list[FileReport]:
        return [r for r in self.reports if r.status == "failed"]

    def counts(self) -> dict[str, int]:
        out = {"ok": 0, "skipped": 0, "failed": 0}
        for r in self.reports:
            out[r.status] = out.get(r.status, 0) + 1
        return out


def find_inputs(spec: str | os.PathLike[str], *, recursive: bool = False) -> list[Path]:
    """Recording files from a folder (by known suffix) or a glob pattern, sorted."""
    p = Path(spec)
    if p.is_dir():
        it = p.rglob("*") if recursive else p.glob("*")
        files = [f for f in it if f.is_file() and f.suffix.lower() in READERS
                 and not f.name.endswith((".truth.json", ".events.tsv"))]
    else:
        import glob

        files = [Path(f) for f in glob.glob(str(p), recursive=recursive) if Path(f).is_file()]
    return sorted(files)


def process_files(
    paths: Iterable[str | os.PathLike[str]],
    config: DetectorConfig | None,
    out_dir: str | os.PathLike[str],
    *,
    n_jobs: int | None = None,
    on_error: str = "warn",
    overwrite: bool = False,
    report: bool = False,
    progress: bool = True,
    read_options: dict[str, Any] | None = None,
    root: str | os.PathLike[str] | None = None,
) -> BatchResult:
    """Process many recordings in parallel.

    Parameters
    ----------
    paths : iterable of path-like
    config : DetectorConfig | None
    out_dir : path-like
        Output root; ``status.tsv``, ``failures.tsv`` and ``cohort.tsv`` (one row per
        file × epoch) are written there.
    n_jobs : int | None
        joblib semantics: None runs serially unless inside ``joblib.parallel_config``;
        -1 uses all cores. The joblib backend can be Dask or Ray. With worker processes,
        a file that kills its worker (a crash in a native library, the OOM killer) does
        not stop the batch: the unfinished files are retried one by one, each in a worker
        of its own, and only the culprit fails.
    on_error : {"raise", "warn", "skip"}
        After all files ran: raise a RuntimeError listing failures, log a warning, or
        stay silent. Failures are in the result and in ``failures.tsv`` in every case.
    overwrite : bool
        Redo files whose outputs are up to date.
    report : bool
        Also write an HTML report per file.
    progress : bool
        Show a progress bar with ETA (tqdm) on stderr.
    read_options : dict | None
        Passed to :func:`ltr.read`.
    root : path-like | None
        Input root (relative sub-folders are kept in ``out_dir``).

    Returns
    -------
    BatchResult
    """
    import joblib

    from .results import write_table

    check_option("on_error", on_error, ("raise", "warn", "skip"))
    files = [Path(p) for p in paths]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = config if config is not None else DetectorConfig()
    t0 = time.perf_counter()
    jobs = (joblib.delayed(process_file)(f, cfg, out, report=report, overwrite=overwrite,
                                         read_options=read_options, root=root) for f in files)
    parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator")
    reports: list[FileReport] = []
    bar = _progress(len(files), progress)
    kwargs = {"report": report, "overwrite": overwrite, "read_options": read_options,
              "root": root}
    try:
        for rep in parallel(jobs):
            reports.append(rep)
            bar.update(1)
            bar.set_postfix_str(f"failed {sum(r.status == 'failed' for r in reports)}")
    except Exception as err:  # a worker process died (crash, OOM kill)
        logger.warning("a worker died (%s); retrying the unfinished files one by one", err)
        done = {r.path for r in reports}
        for f in files:
            if str(f) not in done:
                reports.append(_isolated(f, cfg, out, kwargs))
                bar.update(1)
    finally:
        bar.close()
    result = BatchResult(reports, str(out), time.perf_counter() - t0)
    write_table([r.row() for r in reports], out / "status.tsv", overwrite=True)
    write_table([r.row() for r in result.failed], out / "failures.tsv", overwrite=True)
    cohort = [{"recording": r.path, **e} for r in reports for e in r.epochs]
    if cohort:
        write_table(cohort, out / "cohort.tsv", overwrite=True)
    if result.failed:
        listing = "; ".join(f"{r.path}: {r.error}" for r in result.failed)
        if on_error == "raise":
            raise RuntimeError(f"{len(result.failed)} of {len(files)} file(s) failed: {listing}")
        if on_error == "warn":
            logger.warning("%d of %d file(s) failed: %s", len(result.failed), len(files),
                           listing)
    return result


def _isolated(path: Path, cfg: DetectorConfig, out: Path, kwargs: dict[str, Any]) -> FileReport:
    """Process one file in a worker process of its own: if it kills the worker, only it
    fails."""
    import joblib

    try:
        return joblib.Parallel(n_jobs=2, backend="loky")(
            [joblib.delayed(process_file)(path, cfg, out, **kwargs)])[0]
    except Exception as err:
        return FileReport(str(path), "failed", error=f"worker died: {type(err).__name__}: {err}")


def _peak_rss_mb() -> float:
    """Peak resident memory of this (worker) process so far, MB (NaN where unknown)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return float("nan")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, show: bool) -> Any:
    if not show:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="file", desc="ltr batch", dynamic_ncols=True)
