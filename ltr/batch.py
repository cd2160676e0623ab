"""Many files: one pure function per file, parallel over files, resumable, fault-isolated.

- :func:`process_file` reads, detects, summarises and writes one folder of outputs.
- :func:`process_files` runs it over many files with joblib (``n_jobs`` semantics, so
  ``joblib.parallel_config(backend="dask")`` hands the work to a Dask cluster without
  code changes), a progress bar, a status table and a cohort table.

Output layout: the outputs of ``IN/sub/session.run1.edf`` go to
``OUT/sub/session.run1.edf/`` (the relative folder and the whole file name are kept, so
two inputs never share a folder): ``events.tsv`` (+ ``.json`` sidecar), ``epochs.tsv``,
``summary.json``, optionally ``report.html``, and ``manifest.json`` last. The manifest
records the input (relative path, size, modification time in ns and a fingerprint of its
first and last :data:`FINGERPRINT_BYTES` bytes) and the detector that made the outputs
(:func:`detector_fingerprint`: ltr version, configuration hash and a hash of ltr's code);
a re-run skips a file only when all of them match and every listed output exists, and
says why when it does not (:attr:`FileReport.rerun`). Every file is written in a scratch
folder ``.partial-PID`` and renamed into place, so an interrupted run never leaves a
half-written output that a re-run would trust; scratch folders whose process is gone are
removed by the next run.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import json
import os
import re
import shutil
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ._logging import logger
from ._validate import check_option, check_positive
from ._version import __version__
from .detect import DetectorConfig
from .io import READERS

MANIFEST = "manifest.json"
#: Bytes read from each end of an input for its fingerprint: cheap (128 KiB per file)
#: and enough to see a re-recorded or re-exported file whose size and time were kept.
FINGERPRINT_BYTES = 65536
#: Default per-file time limit, s. The longest real recording we hold (4 h) takes about
#: 2 min to read, detect and report, so 30 min leaves room for days-long files while a
#: pathological one cannot hold a batch for hours.
DEFAULT_TIMEOUT = 1800.0
#: Tables of the output root: no input's output folder may take these names.
TABLES = ("status.tsv", "failures.tsv", "cohort.tsv")
_PARTIAL = re.compile(r"^\.partial-(\d+)$")
#: Status of a file the run did not reach (interrupted).
NOT_RUN = "not run"


class FileTimeout(BaseException):
    """Raised inside a file's work when it exceeds its time limit.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` in a reader
    or the detector can swallow it.
    """


@dataclass
class FileReport:
    """What happened to one input file.

    ``status`` is ``"ok"``, ``"skipped"`` (up to date), ``"failed"`` or ``"not run"``
    (the batch was interrupted first); ``seconds`` is wall time, ``duration_s`` the
    recording's length, ``peak_rss_mb`` the worker's peak memory. ``rerun`` says why
    outputs an earlier run left in the file's folder were not re-used (e.g. "outputs were
    made by another detector (ltr's code differs)"); empty when there were none or they
    were re-used.
    """

    path: str
    status: str
    out_dir: str = ""
    twitches: int = -1
    duration_s: float = float("nan")
    seconds: float = 0.0
    error: str = ""
    peak_rss_mb: float = float("nan")
    rerun: str = ""
    epochs: list[dict[str, Any]] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("epochs")
        return d


STATUS_COLUMNS = tuple(f.name for f in fields(FileReport) if f.name != "epochs")


def config_hash(config: DetectorConfig) -> str:
    """A short stable hash of a configuration (its TOML text)."""
    return hashlib.sha256(config.to_toml().encode()).hexdigest()[:16]


class _Node(Protocol):
    """The part of :class:`importlib.resources.abc.Traversable` that is walked."""

    name: str

    def iterdir(self) -> Iterable[_Node]: ...

    def is_dir(self) -> bool: ...

    def read_bytes(self) -> bytes: ...


#: Files whose bytes make up ltr's code hash (:func:`source_hash`).
SOURCE_SUFFIXES = (".py",)


def _sources(node: _Node, prefix: str = "") -> Iterable[tuple[str, _Node]]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.is_dir():
            if child.name != "__pycache__":
                yield from _sources(child, f"{prefix}{child.name}/")
        elif child.name.endswith(SOURCE_SUFFIXES):
            yield f"{prefix}{child.name}", child


def source_hash(package: str | os.PathLike[str] | None = None) -> str:
    """A hash of the code that makes a batch's outputs: every ``.py`` file of ltr.

    Parameters
    ----------
    package : path-like | None
        Folder of the package to hash; None (default) hashes the ltr that is running, where
        it is installed (found by :func:`importlib.resources.files`, so a wheel in
        site-packages, an editable checkout and a zipped package all work).

    Returns
    -------
    str
        SHA-256 (hex, 16 characters) of the files' relative paths and bytes, in sorted
        order (``__pycache__`` left out); ``"unavailable"`` when no source file is found
        (a frozen application holding byte code only): then the ltr version alone speaks
        for the code.

    Notes
    -----
    The whole package, not only :mod:`ltr.detect`: readers, preprocessing, the detector
    and the writers all shape the outputs, and a list of the modules that matter would go
    stale as the code moves. The price is a re-run after a change that could not have
    altered the outputs; trusting outputs of a changed detector is the worse error. The
    hash is of what is installed, not of a constant someone must remember to bump (the
    version stayed 0.1.0 through many detector changes). Computed once per process for
    the running ltr.
    """
    if package is None:
        return _running_source_hash()
    return _hash_sources(Path(package))


@functools.lru_cache(maxsize=1)
def _running_source_hash() -> str:
    from importlib.resources import files

    return _hash_sources(files(__package__ or "ltr"))


def _hash_sources(root: _Node) -> str:
    h = hashlib.sha256()
    n = 0
    for rel, node in _sources(root):
        data = node.read_bytes()
        h.update(f"{rel}\0{len(data)}\0".encode())
        h.update(data)
        n += 1
    return h.hexdigest()[:16] if n else "unavailable"


def detector_fingerprint(config: DetectorConfig) -> dict[str, str]:
    """What determines a file's outputs besides the file: the detector that made them.

    Parameters
    ----------
    config : DetectorConfig
        The effective configuration (defaults filled in).

    Returns
    -------
    dict
        ``ltr_version``, ``config_hash`` (:func:`config_hash`) and ``source_hash``
        (:func:`source_hash` of the running ltr). Written into each file's
        ``manifest.json`` under ``detector``; outputs whose fingerprint differs are
        made again.
    """
    return {"ltr_version": __version__, "config_hash": config_hash(config),
            "source_hash": source_hash()}


def _detector_change(recorded: Any, current: dict[str, str]) -> list[str]:
    """Why outputs with the ``recorded`` fingerprint were not made by the ``current``
    detector (nothing when they were)."""
    if not isinstance(recorded, dict):
        return ["outputs were made by another detector (an ltr that recorded no detector "
                "fingerprint)"]
    why = []
    if recorded.get("ltr_version") != current["ltr_version"]:
        why.append(f"outputs were made by another detector (ltr "
                   f"{recorded.get('ltr_version')} -> {current['ltr_version']})")
    elif recorded.get("source_hash") != current["source_hash"]:
        why.append("outputs were made by another detector (ltr's code differs)")
    if recorded.get("config_hash") != current["config_hash"]:
        why.append("outputs were made with another detector configuration")
    return why


def fingerprint(path: str | os.PathLike[str]) -> str:
    """A cheap content fingerprint: SHA-256 of the size and the first and last
    :data:`FINGERPRINT_BYTES` bytes (hex, 16 characters)."""
    p = Path(path)
    size = p.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with open(p, "rb") as fh:
        h.update(fh.read(FINGERPRINT_BYTES))
        if size > FINGERPRINT_BYTES:
            fh.seek(max(FINGERPRINT_BYTES, size - FINGERPRINT_BYTES))
            h.update(fh.read(FINGERPRINT_BYTES))
    return h.hexdigest()[:16]


def _relative(path: Path, root: Path | None) -> Path:
    """The part of ``path`` kept below the output root: the path relative to ``root``
    when it lies below it, else the file name."""
    if root is not None:
        with contextlib.suppress(ValueError):
            return Path(os.path.abspath(path)).relative_to(os.path.abspath(root))
    return Path(path.name)


def output_dir(path: str | os.PathLike[str], out_dir: str | os.PathLike[str],
               root: str | os.PathLike[str] | None = None) -> Path:
    """The output folder of one input: ``out_dir / <path relative to root>``.

    The whole file name is kept (``a/s01.run1.edf`` -> ``OUT/a/s01.run1.edf/``), so
    distinct inputs below ``root`` get distinct folders. An input outside ``root`` (or
    with ``root=None``) keeps only its name.
    """
    p = Path(path)
    return Path(out_dir) / _relative(p, Path(root) if root is not None else None)


def _input_record(path: Path, root: Path | None) -> dict[str, Any]:
    st = path.stat()
    return {"path": _relative(path, root).as_posix(), "size": st.st_size,
            "mtime_ns": st.st_mtime_ns, "fingerprint": fingerprint(path)}


def _read_manifest(out_dir: Path) -> dict[str, Any] | None:
    try:
        m = json.loads((out_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) else None


def _check_manifest(path: Path, out_dir: Path, config: DetectorConfig,
                    root: Path | None) -> tuple[dict[str, Any] | None, str]:
    """The manifest of up-to-date outputs and ``""``, or None and why the outputs in
    ``out_dir`` cannot be re-used (``""`` when there are none)."""
    m = _read_manifest(out_dir)
    if m is None:
        return None, ("its manifest.json could not be read"
                      if (out_dir / MANIFEST).exists() else "")
    why = _detector_change(m.get("detector"), detector_fingerprint(config))
    files = m.get("files")
    if not isinstance(files, list) or not all((out_dir / f).exists() for f in files):
        why.append("outputs were incomplete")
    try:
        if m.get("input") != _input_record(path, root):
            why.append("the input changed")
    except OSError:
        why.append("the input could not be read")
    return (None, "; ".join(why)) if why else (m, "")


def _matching_manifest(path: Path, out_dir: Path, config: DetectorConfig,
                       root: Path | None) -> dict[str, Any] | None:
    return _check_manifest(path, out_dir, config, root)[0]


def is_up_to_date(path: str | os.PathLike[str], out_dir: str | os.PathLike[str],
                  config: DetectorConfig, root: str | os.PathLike[str] | None = None) -> bool:
    """Whether ``out_dir`` holds complete outputs of ``path`` made with ``config``.

    The manifest's input (path relative to ``root``, size, modification time, content
    fingerprint) and detector (:func:`detector_fingerprint`: ltr version, configuration
    hash, hash of ltr's code) must all match, and every output it lists must exist.
    """
    return _matching_manifest(Path(path), Path(out_dir), config,
                              Path(root) if root is not None else None) is not None


def _cohort_rows(res: Any) -> list[dict[str, Any]]:
    """One row per epoch, or one whole-recording row when there are no epochs; values
    JSON-normal (NaN as None), so rows read back from a manifest equal fresh ones."""
    rows = _records(res.summary(by="epoch"))
    if not rows:
        rows = [{"epoch": None, **{k: v for k, v in row.items() if k != "recording"}}
                for row in _records(res.summary(by="recording"))]
    return json.loads(json.dumps(rows, default=_json_default, allow_nan=True),
                      parse_constant=lambda c: None)


def _records(table: Any) -> list[dict[str, Any]]:
    if hasattr(table, "to_dict"):  # a pandas DataFrame
        return list(table.to_dict("records"))
    return [dict(r) for r in table]


def _json_default(v: Any) -> Any:
    """numpy scalars as Python numbers, anything else as its text."""
    return v.item() if hasattr(v, "item") else str(v)


F = TypeVar("F")


def run_with_time_limit(fn: Callable[[], F], seconds: float | None) -> F:
    """Call ``fn()``; raise :class:`FileTimeout` in it after ``seconds`` (None: no limit).

    The exception is delivered to the calling thread between two Python bytecodes (as
    a signal would be), so it works in any thread and any worker; a single long call
    inside a C library ends before it is seen.
    """
    if not seconds:
        return fn()
    tid = threading.get_ident()
    lock = threading.Lock()
    done = False

    def fire() -> None:
        with lock:
            if not done:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid),
                                                           ctypes.py_object(FileTimeout))

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        return fn()
    finally:
        with lock:
            done = True
        timer.cancel()


class MemoryLimitUnavailable(RuntimeError):
    """The platform cannot bound a process's memory (no ``RLIMIT_AS``)."""


def _address_space_bytes() -> int | None:
    """This process's mapped address space, bytes (None where /proc is absent)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def memory_limit(megabytes: float | None) -> Any:
    """Bound what the block may allocate to ``megabytes`` MB more than the process holds.

    The process's address-space limit (``RLIMIT_AS``) is set to its current size plus
    ``megabytes`` for the block and restored after it, so an allocation past it raises
    MemoryError in the block. It bounds the whole process: with a thread backend the
    files running at once share it. Linux only (:class:`MemoryLimitUnavailable`
    elsewhere). ``None`` or 0: no limit.
    """
    if not megabytes:
        yield
        return
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        raise MemoryLimitUnavailable("--max-memory needs a system with resource limits "
                                     "(Linux)") from None
    current = _address_space_bytes()
    if current is None:
        raise MemoryLimitUnavailable("--max-memory needs /proc/self/statm (Linux) to measure "
                                     "the process's memory")
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = current + int(megabytes * 2**20)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _is_memory_error(err: BaseException) -> bool:
    seen = 0
    e: BaseException | None = err
    while e is not None and seen < 20:
        if isinstance(e, MemoryError):
            return True
        e, seen = e.__cause__ or e.__context__, seen + 1
    return False


def process_file(
    path: str | os.PathLike[str],
    config: DetectorConfig | None,
    out_dir: str | os.PathLike[str],
    *,
    report: bool = False,
    overwrite: bool = False,
    read_options: dict[str, Any] | None = None,
    root: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    max_memory: float | None = None,
) -> FileReport:
    """Process one recording into its own output folder (a pure, picklable unit of work).

    Parameters
    ----------
    path : path-like
        The recording.
    config : DetectorConfig | None
    out_dir : path-like
        Root of the outputs; this file's go to ``out_dir/<path relative to root>/``
        (see :func:`output_dir`).
    report : bool
        Also write ``report.html``.
    overwrite : bool
        Redo the file even when its outputs are up to date.
    read_options : dict | None
        Passed to :func:`ltr.read`.
    root : path-like | None
        Input root: relative paths below it are kept in ``out_dir``.
    timeout : float | None
        Time limit for this file, s (None: none). Past it the file fails with a reason
        saying so and nothing of it is written.
    max_memory : float | None
        Memory reading and detecting this file may take, MB beyond what the worker
        already holds (None: no limit; see :func:`memory_limit`). Past it the file fails
        with a reason saying so and nothing of it is written.

    Returns
    -------
    FileReport
        ``status`` is ``"ok"``, ``"skipped"`` (up to date) or ``"failed"`` with the error;
        exceptions of the file itself never escape, so one bad file cannot stop a batch.
        ``rerun`` says why outputs of an earlier run were made again (another detector,
        another configuration, a changed input, incomplete outputs, ``overwrite``).
    """
    from .detect import detect
    from .io import read

    t0 = time.perf_counter()
    cfg = config if config is not None else DetectorConfig()
    p = Path(path)
    root_p = Path(root) if root is not None else None
    out = output_dir(p, out_dir, root_p)
    rerun = ""
    if overwrite:
        rerun = "overwrite asked" if (out / MANIFEST).exists() else ""
    elif p.exists():
        m, rerun = _check_manifest(p, out, cfg, root_p)
        if m is not None:
            return FileReport(str(p), "skipped", str(out), int(m.get("twitches", -1)),
                              _float(m.get("duration_s")), epochs=list(m.get("cohort", [])))
    if rerun:
        logger.info("%s: re-run: %s", p, rerun)
    tmp = out / f".partial-{os.getpid()}"
    try:
        # the input as it was before reading: a change during the run shows next time
        source = _input_record(p, root_p)

        def work() -> tuple[Any, Any]:
            with memory_limit(max_memory):
                rec = read(p, **(read_options or {}))
                res = detect(rec, config=cfg)
            # everything is written in a scratch folder, then renamed into place
            # (atomic per file on one file system), the manifest last: its presence
            # means complete
            tmp.mkdir(parents=True, exist_ok=True)
            _write_outputs(rec, res, tmp, report)
            return rec, res

        rec, res = run_with_time_limit(work, timeout)
        files = ["events.tsv", "events.json", "epochs.tsv", "summary.json"]
        if report:
            files.append("report.html")
        if out.exists() and not out.is_dir():
            raise FileExistsError(f"{out}: exists and is not a folder; cannot write outputs")
        (out / MANIFEST).unlink(missing_ok=True)
        for name in files:
            os.replace(tmp / name, out / name)
        cohort = _cohort_rows(res)
        manifest = {"input": source, "input_abspath": os.path.abspath(p),
                    "config_hash": config_hash(cfg), "ltr_version": __version__,
                    "detector": detector_fingerprint(cfg), "files": files,
                    "twitches": len(res), "duration_s": rec.duration,
                    "cohort": cohort, "config": cfg.to_dict()}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, default=_json_default)
                                    + "\n")
        os.replace(tmp / MANIFEST, out / MANIFEST)
        return FileReport(str(p), "ok", str(out), len(res), rec.duration,
                          time.perf_counter() - t0, peak_rss_mb=_peak_rss_mb(), rerun=rerun,
                          epochs=cohort)
    except FileTimeout:
        return FileReport(str(p), "failed", str(out), seconds=time.perf_counter() - t0,
                          error=f"timed out: still running after the {timeout:g} s limit "
                                f"(--timeout); nothing written")
    except Exception as err:  # one file's failure is that file's, reported, not raised
        if max_memory and _is_memory_error(err):
            return FileReport(str(p), "failed", str(out), seconds=time.perf_counter() - t0,
                              error=f"out of memory: needed more than the {max_memory:g} MB "
                                    "limit (--max-memory); nothing written")
        logger.debug("%s failed:\n%s", p, traceback.format_exc())
        return FileReport(str(p), "failed", str(out), seconds=time.perf_counter() - t0,
                          error=f"{type(err).__name__}: {err}")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _write_outputs(rec: Any, res: Any, folder: Path, report: bool) -> None:
    from .results import write_table

    res.to_bids_events(folder / "events.tsv", overwrite=True)
    epochs = _records(res.summary(by="epoch"))
    write_table(epochs or _records(res.summary(by="recording")), folder / "epochs.tsv",
                overwrite=True)
    (folder / "summary.json").write_text(json.dumps(res.overview(), indent=1, default=str)
                                         + "\n")
    if report:
        from .report import write_report

        write_report(rec, res, folder / "report.html", overwrite=True)


def _float(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


@dataclass
class BatchResult:
    """The outcome of :func:`process_files`.

    ``cohort_rows`` is the number of rows of ``cohort.tsv``, ``earlier_rows`` how many of
    them come from outputs of earlier runs (files skipped as up to date);
    ``stale_dirs`` lists output folders of an earlier layout that name one of the
    inputs (left in place, not used); ``cleaned`` the scratch folders of dead runs that
    were removed; ``inside_output`` the given paths left out because they lie inside the
    output folder (outputs of earlier runs, not recordings).
    """

    reports: list[FileReport]
    out_dir: str
    seconds: float
    cohort_rows: int = 0
    earlier_rows: int = 0
    stale_dirs: list[str] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)
    inside_output: list[str] = field(default_factory=list)

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


def input_root(paths: Iterable[str | os.PathLike[str]]) -> Path | None:
    """The deepest folder holding every path (None for no paths)."""
    parents = [os.path.dirname(os.path.abspath(p)) for p in paths]
    return Path(os.path.commonpath(parents)) if parents else None


def plan_outputs(files: list[Path], out_dir: Path, root: Path | None
                 ) -> tuple[dict[Path, Path], dict[Path, str]]:
    """Each input's output folder, and an error for every input whose folder another
    input (or a table of the output root) would share."""
    folded = _case_insensitive(out_dir)
    dirs = {f: output_dir(f, out_dir, root) for f in files}
    owner: dict[str, Path] = {}
    errors: dict[Path, str] = {}
    for f, d in dirs.items():
        key = os.path.normcase(os.path.abspath(d))
        key = key.casefold() if folded else key
        if d.parent == out_dir and d.name in TABLES:
            errors[f] = (f"its output folder {d} would take the name of the batch table "
                         f"{d.name}; rename the file or process it on its own")
        elif key in owner:
            other = owner[key]
            msg = (f"{other} and {f} would share the output folder {d}"
                   + (" (the output file system ignores case)" if folded else "")
                   + "; rename one, or pass an input root that holds both")
            errors[f] = msg
            errors.setdefault(other, msg)
        else:
            owner[key] = f
    return dirs, errors


def _case_insensitive(folder: Path) -> bool:
    """Whether the file system of ``folder`` ignores case in names (probed)."""
    probe = folder / f".ltr-case-probe-{os.getpid()}"
    try:
        probe.touch()
        return (folder / probe.name.upper()).exists()
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


def _pid_alive(pid: int) -> bool:
    if os.name != "posix":  # os.kill would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user
        return True
    return True


def clean_partials(out_dir: str | os.PathLike[str]) -> list[Path]:
    """Remove scratch folders ``.partial-PID`` under ``out_dir`` whose process is gone
    (left by a killed run). Those of live processes (a concurrent run, our own workers)
    are kept. Returns the removed folders."""
    removed = []
    for d in Path(out_dir).rglob(".partial-*"):
        m = _PARTIAL.match(d.name)
        if m and d.is_dir() and int(m.group(1)) != os.getpid() \
                and not _pid_alive(int(m.group(1))):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


def _stale_dirs(out_dir: Path, files: list[Path], dirs: dict[Path, Path]) -> list[str]:
    """Output folders of an earlier layout (e.g. ``OUT/s01`` for ``s01.edf``): their
    manifest names one of the inputs but they are not that input's folder now."""
    current = {os.path.abspath(d) for d in dirs.values()}
    names = {str(f) for f in files} | {os.path.abspath(f) for f in files}
    stale = []
    for m_path in out_dir.rglob(MANIFEST):
        folder = m_path.parent
        if os.path.abspath(folder) in current:
            continue
        m = _read_manifest(folder)
        if m is None:
            continue
        named = m.get("input")
        named = m.get("input_abspath") if isinstance(named, dict) else named
        if isinstance(named, str) and (named in names or os.path.abspath(named) in names):
            stale.append(str(folder))
    return sorted(stale)


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
    timeout: float | None = DEFAULT_TIMEOUT,
    max_memory: float | None = None,
) -> BatchResult:
    """Process many recordings in parallel.

    Parameters
    ----------
    paths : iterable of path-like
        Inputs; a path given twice is processed once, and paths inside ``out_dir`` are
        left out (see ``BatchResult.inside_output``).
    config : DetectorConfig | None
    out_dir : path-like
        Output root. Each input gets ``out_dir/<path relative to root>/`` (the whole file
        name kept); ``status.tsv`` (one row per input), ``failures.tsv`` and
        ``cohort.tsv`` (one row per file × epoch, for every input with results, those
        up to date from earlier runs included) are written there, also when the run is
        interrupted (Ctrl-C: files not reached are ``"not run"``). Tables are TSV written
        with :mod:`csv`: a field holding a tab, newline or quote is quoted.
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
        Input root: relative sub-folders below it are kept in ``out_dir``. Default: the
        deepest folder holding every input. Two inputs that would still share an output
        folder (an input outside ``root``, names differing only in case on a file system
        that ignores case) both fail with an error naming the other.
    timeout : float | None
        Per-file time limit, s (default :data:`DEFAULT_TIMEOUT`; None or 0: none). A
        file past it fails alone ("timed out"); the others go on.
    max_memory : float | None
        Per-file memory limit, MB beyond what a worker holds before the file (None or 0:
        none; Linux). A file needing more fails alone ("out of memory"); the others go
        on and the tables are written. Each worker process has its own limit; with a
        thread backend the files running at once share one.

    Returns
    -------
    BatchResult
    """
    import joblib

    check_option("on_error", on_error, ("raise", "warn", "skip"))
    timeout = check_positive("timeout", timeout) if timeout else None
    max_memory = check_positive("max_memory", max_memory) if max_memory else None
    if max_memory:
        with memory_limit(max_memory):  # fail now, not once per file, where unsupported
            pass
    out = Path(out_dir)
    files, inside = [], []
    for f in dict.fromkeys(Path(p) for p in paths):
        # a folder searched recursively may hold OUT itself: its tables are not inputs
        (inside if Path(os.path.abspath(f)).is_relative_to(os.path.abspath(out))
         else files).append(f)
    if inside:
        logger.info("left out %d file(s) inside the output folder %s", len(inside), out)
    out.mkdir(parents=True, exist_ok=True)
    root_p = Path(root) if root is not None else input_root(files)
    cfg = config if config is not None else DetectorConfig()
    t0 = time.perf_counter()
    cleaned = [str(d) for d in clean_partials(out)]
    if cleaned:
        logger.info("removed %d scratch folder(s) left by killed runs", len(cleaned))
    dirs, clashes = plan_outputs(files, out, root_p)
    stale = _stale_dirs(out, files, dirs)
    if stale:
        logger.warning("%d output folder(s) of an earlier layout are not used any more "
                       "(e.g. %s); outputs now go to one folder per whole file name; "
                       "delete the old ones when you no longer need them", len(stale),
                       stale[0])
    done: dict[Path, FileReport] = {f: FileReport(str(f), "failed", str(dirs[f]), error=e)
                                    for f, e in clashes.items()}
    todo = [f for f in files if f not in done]
    kwargs = {"report": report, "overwrite": overwrite, "read_options": read_options,
              "root": root_p, "timeout": timeout, "max_memory": max_memory}
    bar = _progress(len(files), progress)
    bar.update(len(done))
    result = BatchResult([], str(out), 0.0, stale_dirs=stale, cleaned=cleaned,
                         inside_output=[str(f) for f in inside])
    try:
        jobs = (joblib.delayed(process_file)(f, cfg, out, **kwargs) for f in todo)
        parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator")
        try:
            for f, rep in zip(todo, parallel(jobs), strict=False):
                done[f] = rep
                bar.update(1)
                bar.set_postfix_str(
                    f"failed {sum(r.status == 'failed' for r in done.values())}")
        except Exception as err:  # a worker process died (crash, OOM kill)
            logger.warning("a worker died (%s); retrying the unfinished files one by one",
                           err)
            for f in todo:
                if f not in done:
                    done[f] = _isolated(f, cfg, out, kwargs)
                    bar.update(1)
    finally:
        bar.close()
        # written whatever happened, Ctrl-C included: what is known
        result.reports = [done.get(f) or FileReport(str(f), NOT_RUN, str(dirs[f]))
                          for f in files]
        result.seconds = time.perf_counter() - t0
        _write_tables(result, cfg, root_p)
    if result.failed:
        listing = "; ".join(f"{r.path}: {r.error}" for r in result.failed)
        if on_error == "raise":
            raise RuntimeError(f"{len(result.failed)} of {len(files)} file(s) failed: {listing}")
        if on_error == "warn":
            logger.warning("%d of %d file(s) failed: %s", len(result.failed), len(files),
                           listing)
    return result


def _write_tables(result: BatchResult, cfg: DetectorConfig, root: Path | None) -> None:
    out = Path(result.out_dir)
    rows = [r.row() for r in result.reports]
    write_tsv(rows, out / "status.tsv", STATUS_COLUMNS)
    write_tsv([r.row() for r in result.failed], out / "failures.tsv", STATUS_COLUMNS)
    cohort, earlier = [], 0
    for r in result.reports:
        epochs = r.epochs
        if r.status == NOT_RUN:  # interrupted: its outputs of an earlier run still count
            m = _matching_manifest(Path(r.path), Path(r.out_dir), cfg, root)
            epochs = list(m.get("cohort", [])) if m is not None else []
        if r.status in ("skipped", NOT_RUN):
            earlier += len(epochs)
        cohort += [{"recording": r.path, **e} for e in epochs]
    write_tsv(cohort, out / "cohort.tsv", ("recording",))
    result.cohort_rows, result.earlier_rows = len(cohort), earlier
    logger.info("cohort.tsv: %d row(s), %d of them from outputs of earlier runs",
                len(cohort), earlier)


def write_tsv(rows: list[dict[str, Any]], path: str | os.PathLike[str],
              columns: Iterable[str] = ()) -> Path:
    """Write rows (dicts) as a tab-separated table with :mod:`csv`, atomically
    (:func:`ltr.io.tables.write_delimited`, the one table writer).

    Columns are ``columns`` then any others in order of appearance; fields holding a
    tab, newline or quote are quoted, so ``pandas.read_csv(path, sep="\\t")`` reads the
    values back. Missing values and non-finite numbers are written as ``n/a``.
    """
    from .io.tables import write_delimited

    cols = list(dict.fromkeys([*columns, *(k for row in rows for k in row)]))
    return write_delimited(path, cols, ([row.get(c) for c in cols] for row in rows),
                           delimiter="\t", overwrite=True)


def _isolated(path: Path, cfg: DetectorConfig, out: Path, kwargs: dict[str, Any]) -> FileReport:
    """Process one file in a worker process of its own: if it kills the worker, only it
    fails."""
    import joblib

    try:
        return joblib.Parallel(n_jobs=2, backend="loky")(
            [joblib.delayed(process_file)(path, cfg, out, **kwargs)])[0]
    except Exception as err:
        return FileReport(str(path), "failed", str(output_dir(path, out, kwargs["root"])),
                          error=f"worker died: {type(err).__name__}: {err}")


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
