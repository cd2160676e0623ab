"""The ``ltr`` command line: thin subcommands over the library."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ._validate import ReadError
from ._version import __version__

#: Keyword arguments of the library and the flags that set them, for messages the CLI shows.
_FLAGS = {
    "overwrite": "--overwrite", "sfreq": "--sfreq", "time_column": "--time-column",
    "time_unit": "--time-unit", "delimiter": "--delimiter", "skip_until": "--skip-until",
    "exclude": "--exclude COLUMN", "ch_kinds": "--kind CH=KIND", "bipolar": "--bipolar",
    "emg": "--emg", "acc": "--acc", "block": "--block", "n_jobs": "--n-jobs",
    "config": "--config", "tolerance": "--tolerance", "fps": "--sfreq", "roi": "--roi",
}
_KWARG_RE = re.compile(r"\b(" + "|".join(_FLAGS) + r")=(True\b|None\b|\[\.\.\.\])?")
_UNEXPECTED_RE = re.compile(r"(?:option not understood by the (?P<fmt>.+?) reader: )?"
                            r"\S+\(\) got an unexpected keyword argument '(?P<kw>\w+)'")


def cli_words(message: str) -> str:
    """A library message in command-line words: flags instead of keyword arguments, one line.

    >>> cli_words("x.csv: exists; pass overwrite=True to replace it")
    'x.csv: exists; pass --overwrite to replace it'
    >>> cli_words("x.csv: no rate; pass sfreq= (Hz) or time_column=None")
    'x.csv: no rate; pass --sfreq (Hz) or --time-column none'
    >>> cli_words("x.h5: ch_kinds names channel(s) ['EMG 9'] that are not in the recording")
    "x.h5: --kind names channel(s) ['EMG 9'] that are not in the recording"
    """
    def unexpected(m: re.Match[str]) -> str:
        flag = _FLAGS.get(m.group("kw"), m.group("kw")).split()[0]
        fmt = m.group("fmt") or "this file's"
        return f"{flag} does not apply to {fmt} files"

    def flag(m: re.Match[str]) -> str:
        name, value = m.group(1), m.group(2)
        if value == "None":
            return f"{_FLAGS[name].split()[0]} none"
        nxt = m.string[m.end():m.end() + 1]
        return _FLAGS[name] + (" " if nxt and not nxt.isspace() and nxt not in ",;)/" else "")

    text = _UNEXPECTED_RE.sub(unexpected, str(message))
    text = text.replace("start=, stop=", "--epoch-labels IN,OUT")
    text = re.sub(r"\bch_kinds (?=names|must)", "--kind ", text)
    text = _KWARG_RE.sub(flag, text)
    # one line: matplotlib's mathtext and others put the offending text on lines of their own
    parts = [ln.strip() for ln in text.splitlines()]
    return " ".join(ln for ln in parts if ln and set(ln) != {"^"})


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _n_jobs(text: str) -> int:
    """``--n-jobs``: a positive count, or -1 (-2 ...) for every core (but one ...)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError(
            "0 workers would run nothing; give 1 (serial), a count, or -1 for every core")
    return value


def _time_column(text: str) -> str | int | None:
    """``--time-column``: a name, a 0-based index, 'auto' or 'none'."""
    if text.lower() == "none":
        return None
    if text.lower() == "auto":
        return "auto"
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def _labels(text: str) -> tuple[str, str]:
    parts = [s.strip() for s in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise argparse.ArgumentTypeError(f"expected IN,OUT (two labels), got {text!r}")
    return parts[0], parts[1]


def _key_value(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    k, v = text.split("=", 1)
    return k.strip(), v.strip()


def _count(text: str) -> int:
    """A whole number >= 0 (``--thumbnails``)."""
    if not re.fullmatch(r"\s*\d+\s*", text):
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def _number_between(text: str, lo: float, hi: float, what: str = "a number") -> float:
    """``text`` as a number from ``lo`` to ``hi`` (NaN and words refused)."""
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not lo <= v <= hi:
        raise argparse.ArgumentTypeError(f"expected {what} from {lo:g} to {hi:g}, got "
                                         f"{text!r}")
    return v


def _probability(text: str) -> float:
    return _number_between(text, 0.0, 1.0)


def _add_read_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("reading options")
    g.add_argument("--sfreq", type=float, help="sampling rate in Hz (text files without time)")
    g.add_argument("--kind", action="append", type=_key_value, default=[], metavar="CH=KIND",
                   help="set a channel's kind (emg, acc, trigger, misc); repeatable")
    g.add_argument("--bipolar", action="append", type=_key_value, default=[],
                   metavar="NAME=ANODE,CATHODE", help="derive a bipolar channel; repeatable")
    g.add_argument("--skip-until", help="text files: skip lines before the one containing this")
    g.add_argument("--delimiter", help="text files: field delimiter (default: detected)")
    g.add_argument("--time-column", type=_time_column, default="auto", metavar="NAME|INDEX",
                   help="text files: the time column by name or 0-based index, or 'none' "
                        "(default: a column named time, t, timestamp ...)")
    g.add_argument("--time-unit", metavar="UNIT", choices=("s", "ms", "us", "ns", "min"),
                   help="text files: unit of the time column when its header does not say "
                        "(s, ms, us, ns, min; default s)")
    g.add_argument("--exclude", action="append", default=[], metavar="COLUMN",
                   help="text files: leave a column out (e.g. a text date); repeatable")
    g.add_argument("--roi", type=_roi, metavar="X0,Y0,X1,Y1",
                   help="ultrasound cine loops: the region of interest in pixels "
                        "(default: found where brief local motion is strongest)")


def _roi(text: str) -> tuple[int, int, int, int]:
    """``--roi``: four integers, the box's left, top, right and bottom pixel."""
    try:
        x0, y0, x1, y1 = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X0,Y0,X1,Y1 (pixels), got {text!r}"
                                         ) from None
    return x0, y0, x1, y1


def _refine_arg(text: str) -> float:
    """``--clip-refine``: seconds from 0 to ``ltr.sync.REFINE_MAX``."""
    from .sync import REFINE_MAX

    return _number_between(text, 0.0, REFINE_MAX, "seconds")


def _sync_arg(text: str) -> tuple[str, float]:
    """``--clip-sync LABEL=SECONDS``."""
    label, sep, at = text.rpartition("=")
    try:
        value = float(at)
    except ValueError:
        value = float("nan")
    if not sep or not label.strip() or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected LABEL=SECONDS (an annotation of the "
                                         f"recording and its time in the clip), got {text!r}")
    return label.strip(), value


def _block_arg(text: str) -> float | str | None:
    """``--block``: 'auto', 0 (all at once) or seconds."""
    if text == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or seconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 'auto' or seconds >= 0, got {text!r}")
    return None if value == 0 else value


def _read_options(args: argparse.Namespace) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if args.sfreq is not None:
        opts["sfreq"] = args.sfreq
    if args.kind:
        opts["ch_kinds"] = dict(args.kind)
    if args.bipolar:
        bip = {}
        for name, pair in args.bipolar:
            parts = [s.strip() for s in pair.split(",")]
            if len(parts) != 2:
                raise ValueError(f"--bipolar {name}={pair}: expected ANODE,CATHODE")
            bip[name] = (parts[0], parts[1])
        opts["bipolar"] = bip
    if args.skip_until:
        opts["skip_until"] = args.skip_until
    if args.delimiter:
        opts["delimiter"] = args.delimiter.encode().decode("unicode_escape")
    if args.time_column != "auto":
        opts["time_column"] = args.time_column
    if args.time_unit:
        opts["time_unit"] = args.time_unit
    if args.exclude:
        opts["exclude"] = list(args.exclude)
    if getattr(args, "roi", None):
        opts["roi"] = args.roi
    return opts


def _read(path: str, args: argparse.Namespace) -> Any:
    """Read one input with the reading flags."""
    from .io import read

    return read(path, **_read_options(args))


def _epochs(rec: Any, args: argparse.Namespace) -> Any:
    """Epochs from --epoch-labels / --trigger (None: the library's default search)."""
    if args.epoch_labels is None and args.trigger is None:
        return None
    from .segment import epochs_from_trigger, find_epochs

    if args.trigger is not None:  # the user's trigger channel, even where annotations exist
        if args.trigger not in rec.ch_names:
            raise ValueError(f"{rec.meta.get('source', 'recording')}: --trigger "
                             f"{args.trigger!r} is not a channel; channels: "
                             f"{list(rec.ch_names)}")
        return epochs_from_trigger(rec.get_data(picks=args.trigger)[0], rec.sfreq)
    start, stop = args.epoch_labels
    return find_epochs(rec, start=start, stop=stop)


def _check_setup(rec: Any, args: argparse.Namespace) -> None:
    from .channels import check_setup

    check_setup(rec, emg=getattr(args, "emg", None), acc=getattr(args, "acc", None))


@contextlib.contextmanager
def _progress(desc: str, show: bool) -> Iterator[Any]:
    """A tqdm bar on stderr fed by the library's progress hook (pieces of a long file);
    nothing when ``show`` is False (stderr is not a terminal)."""
    from ._logging import progress_hook

    if not show:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=100, desc=desc, unit="%", file=sys.stderr, leave=False,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def update(done: int, total: int) -> None:
        bar.n = round(100 * done / total) if total else 100
        bar.refresh()

    try:
        with progress_hook(update):
            yield bar
    finally:
        bar.close()


def _load_config(args: argparse.Namespace, command: str) -> Any:
    """The --config file as a DetectorConfig (defaults without it); None after an error."""
    from .detect import DetectorConfig

    try:
        return DetectorConfig.from_toml(args.config) if args.config else DetectorConfig()
    except (OSError, ValueError) as err:
        print(f"ltr {command}: error: {cli_words(str(err))}", file=sys.stderr)
        return None


def _each_file(args: argparse.Namespace, command: str,
               work: Callable[[str], Callable[[], None]]) -> int:
    """Run ``work(path)`` per input file: errors are reported and the next file is tried;
    warnings are printed after the file's output. Returns the exit status."""
    status = 0
    for path in args.files:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                show = work(path)
            except Exception as err:  # one line per file, then the next file
                _print_warnings(command, caught)
                _print_error(command, err, args.verbose, path)
                status = 1
                continue
        _print_warnings(command, caught)
        show()
    return status


def _print_warnings(command: str, caught: list[warnings.WarningMessage]) -> None:
    for w in caught:
        print(f"ltr {command}: warning: {cli_words(str(w.message))}", file=sys.stderr)


#: Errors that say what is wrong with the input or the options: shown as their message
#: (every reader's failure is an ltr.ReadError, a ValueError, naming the file).
_EXPECTED = (ReadError, OSError, ValueError, TypeError, ImportError, KeyError, RuntimeError,
             EOFError)


def _print_error(command: str, err: BaseException, verbose: int, path: str | None = None) -> None:
    """One line on stderr; the traceback too with -v."""
    if verbose:
        import traceback

        traceback.print_exception(type(err), err, err.__traceback__, file=sys.stderr)
    text = cli_words(str(err)) or type(err).__name__
    if isinstance(err, ImportError) and "pip install" not in text:
        text += ' (pip install "ltr[all]" installs every optional dependency)'
    if not isinstance(err, _EXPECTED) or isinstance(err, NotImplementedError):
        text = f"{type(err).__name__}: {text}" + ("" if verbose else
                                                   " (run with -v for the traceback)")
    if path is not None and path not in text and Path(path).name not in text:
        text = f"{path}: {text}"
    print(f"ltr {command}: error: {text}", file=sys.stderr)


def _cmd_info(args: argparse.Namespace) -> int:
    from .quality import assess

    def work(path: str) -> Callable[[], None]:
        report = assess(_read(path, args))

        def show() -> None:
            if args.json:  # several files: JSON Lines, one object a line
                print(json.dumps(report.to_dict(), default=str,
                                 indent=2 if len(args.files) == 1 else None))
            else:
                print(report.format())
                if len(args.files) > 1:
                    print()

        return show

    return _each_file(args, "info", work)


def _not_analysed(rec: Any, res: Any) -> list[str]:
    """The misc channels (kind not EMG, accelerometer, ultrasound or trigger) that the
    detection left out: a file whose EMG is typed otherwise is not analysed silently."""
    used = set(res.meta.get("emg", [])) | set(res.meta.get("acc", []))
    return [n for n, k in zip(rec.ch_names, rec.ch_kinds, strict=True)
            if k == "misc" and n not in used]


def _clip_usage(args: argparse.Namespace) -> str | None:
    """What is wrong with the ``--clip`` options as given (None: nothing), before any file
    is read."""
    if args.clip and len(args.files) > 1:
        return "--clip takes one input file"
    if (args.clip_offset is not None or args.clip_sync is not None) and not args.clip:
        return "--clip-offset and --clip-sync need --clip"
    return None


def _check_clip_input(rec: Any, path: str, args: argparse.Namespace) -> None:
    """``--clip``: what can be checked on the recording before the clip's motion is
    computed (the slow part): it is not a clip itself, and the --clip-sync label is in it."""
    if not args.clip:
        return
    if "us" in rec.ch_kinds:
        raise ValueError(f"{path}: is an ultrasound clip itself; --clip fuses a clip with "
                         f"an EMG/accelerometer recording")
    if args.clip_sync is not None:
        from .sync import clip_offset

        clip_offset(rec, None, sync=args.clip_sync)


def _with_clip(rec: Any, res: Any, args: argparse.Namespace, cfg: Any) -> tuple[Any, Any]:
    """``--clip``: the clip's twitches detected and fused with the recording's (the
    summary then says how the two were put on one clock). Returns the fused results and
    the clip's motion recording (for the report's thumbnails)."""
    from .detect import detect
    from .io import read
    from .sync import clip_offset, fuse_clip

    opts = {k: v for k, v in (("fps", args.clip_fps), ("roi", args.clip_roi)) if v}
    clip = read(args.clip, **opts)
    if "us" not in clip.ch_kinds:
        raise ValueError(f"{args.clip}: --clip needs an ultrasound cine loop (DICOM, "
                         f"video or a folder of frames); this file has no us channel")
    us = detect(clip, config=cfg)
    sync = clip_offset(rec, clip, offset=args.clip_offset, sync=args.clip_sync)
    fused = fuse_clip(res, us, sync, refine=args.clip_refine or None,
                      min_confidence=getattr(args, "min_confidence", None))
    return fused, clip


def _cmd_detect(args: argparse.Namespace) -> int:
    from .detect import detect

    cfg = _load_config(args, "detect")
    if cfg is None:
        return 2
    if args.output and len(args.files) > 1:
        print("ltr detect: error: -o takes one input file", file=sys.stderr)
        return 2
    if _clip_usage(args):
        print(f"ltr detect: error: {_clip_usage(args)}", file=sys.stderr)
        return 2

    def work(path: str) -> Callable[[], None]:
        from .results import events_files

        if args.output and not args.overwrite:
            for q in events_files(args.output, per_channel=args.per_channel):
                if q.exists():  # before any detection (a BIDS .tsv's sidecar too)
                    raise FileExistsError(f"{q}: exists; pass --overwrite to replace it")
        rec = _read(path, args)
        _check_setup(rec, args)
        _check_clip_input(rec, path, args)
        with _progress(f"ltr detect {Path(path).name}", _is_terminal(sys.stderr)):
            # with a clip, the clip may confirm twitches below the floor: fuse first
            res = detect(rec, config=cfg, emg=args.emg, acc=args.acc, block=args.block,
                         n_jobs=args.n_jobs, epochs=_epochs(rec, args),
                         min_confidence=0.0 if args.clip else args.min_confidence)
            if args.clip:
                res, _clip = _with_clip(rec, res, args, cfg)
        if args.output:
            res.write_events(args.output, per_channel=args.per_channel,
                             overwrite=args.overwrite)

        def show() -> None:
            if args.json:  # several files: JSON Lines, one object a line
                print(res.to_json() if len(args.files) == 1
                      else json.dumps(json.loads(res.to_json())))
            else:
                print(res.format_summary())
                skipped = _not_analysed(rec, res)
                if skipped:
                    names = ", ".join(repr(n) for n in skipped[:4])
                    more = f" and {len(skipped) - 4} more" if len(skipped) > 4 else ""
                    print(f"  not analysed: {len(skipped)} misc channel(s) ({names}{more}); "
                          f"--emg NAME analyses one as EMG, --acc NAME as accelerometer")
                if args.output:
                    print(f"  events written to {args.output}")

        return show

    return _each_file(args, "detect", work)


def _cmd_report(args: argparse.Namespace) -> int:
    from .detect import detect
    from .export import export_annotated
    from .report import write_report

    cfg = _load_config(args, "report")
    if cfg is None:
        return 2
    if Path(args.output).suffix.lower() not in (".html", ".htm", ".pdf"):
        print(f"ltr report: error: {args.output}: the report is written as .html or .pdf "
              "(-o report.html, -o report.pdf, or -o report.html --pdf for both)",
              file=sys.stderr)
        return 2
    usage = _clip_usage(args) or ("--reviewed counts a review of the recording's own "
                                  "detections; it does not go with --clip"
                                  if args.clip and args.reviewed else None)
    if usage:
        print(f"ltr report: error: {usage}", file=sys.stderr)
        return 2

    def work(path: str) -> Callable[[], None]:
        out = Path(args.output)
        targets = [out] + ([out.with_suffix(".pdf")] if args.pdf and out.suffix.lower()
                           != ".pdf" else []) + ([Path(args.annotated)] if args.annotated
                                                 else [])
        for q in targets:  # before the detection (and a clip's motion) is computed
            if q.exists() and not args.overwrite:
                raise FileExistsError(f"{q}: exists; pass --overwrite to replace it")
        rec = _read(path, args)
        _check_setup(rec, args)
        _check_clip_input(rec, path, args)
        clip = None
        with _progress(f"ltr report {Path(path).name}", _is_terminal(sys.stderr)) as bar:
            # with a clip, the clip may confirm twitches below the floor: fuse first
            res = detect(rec, config=cfg, epochs=_epochs(rec, args),
                         min_confidence=0.0 if args.clip else None)
            if args.clip:
                res, clip = _with_clip(rec, res, args, cfg)
            if args.reviewed:  # the detections as a reviewer corrected them
                from .review import apply_review

                res = apply_review(res, args.reviewed)
            if bar is not None:
                bar.set_description_str(f"ltr report {Path(path).name}: writing")
            written = write_report(rec, res, args.output, pdf=args.pdf,
                                   overwrite=args.overwrite, subject=args.subject,
                                   muscle=args.muscle, side=args.side,
                                   clip_recording=clip, max_thumbnails=args.thumbnails)
        if args.annotated:
            written.append(export_annotated(rec, res, args.annotated,
                                            overwrite=args.overwrite))

        def show() -> None:
            print(res.format_summary())
            for p in written:
                print(f"  written: {p}")

        return show

    return _each_file(args, "report", work)


def _cmd_batch(args: argparse.Namespace) -> int:
    import contextlib
    import signal
    import threading

    from .batch import DEFAULT_TIMEOUT, find_inputs, process_files

    cfg = _load_config(args, "batch")
    if cfg is None:
        return 2
    files = find_inputs(args.inputs, recursive=args.recursive)
    if not files:
        print(f"ltr batch: error: no recordings found in {args.inputs}", file=sys.stderr)
        return 2
    root = args.inputs if Path(args.inputs).is_dir() else None
    timeout = DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    if not timeout >= 0:  # NaN too
        print(f"ltr batch: error: --timeout must be seconds >= 0 (0: no limit), got "
              f"{timeout:g}", file=sys.stderr)
        return 2
    if args.max_memory is not None and not args.max_memory >= 0:  # NaN too
        print(f"ltr batch: error: --max-memory must be megabytes >= 0 (0: no limit), got "
              f"{args.max_memory:g}", file=sys.stderr)
        return 2
    backend: Any = contextlib.nullcontext()
    if args.scheduler:
        try:
            import joblib
            from dask.distributed import Client
        except ImportError:
            print("ltr batch: error: --scheduler needs dask: pip install \"dask[distributed]\"",
                  file=sys.stderr)
            return 2
        client = Client(args.scheduler)
        backend = joblib.parallel_config(backend="dask")
        print(f"ltr batch: sending work to {client.scheduler.address}")

    def stop(signum: int, frame: Any) -> None:  # a scheduler's SIGTERM: as Ctrl-C
        raise KeyboardInterrupt

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if main_thread else None
    try:
        with backend:
            result = process_files(files, cfg, args.output, n_jobs=args.n_jobs,
                                   on_error="skip", overwrite=args.overwrite,
                                   report=args.report, read_options=_read_options(args),
                                   root=root, timeout=timeout, max_memory=args.max_memory,
                                   progress=_is_terminal(sys.stderr))
    except KeyboardInterrupt:
        print(f"ltr batch: interrupted; status.tsv, failures.tsv and cohort.tsv in "
              f"{args.output} hold what was done (files not reached are 'not run')",
              file=sys.stderr)
        return 130
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    c = result.counts()
    if result.inside_output:
        print(f"ltr batch: left out {len(result.inside_output)} file(s) inside the output "
              f"folder {args.output}")
    print(f"ltr batch: {len(result.reports)} file(s) in {result.seconds:.1f} s: {c['ok']} done, "
          f"{c['skipped']} up to date, {c['failed']} failed; outputs in {args.output}")
    reruns: dict[str, int] = {}
    for r in result.reports:
        if r.status == "ok" and r.rerun:
            reruns[r.rerun] = reruns.get(r.rerun, 0) + 1
    for why, n in reruns.items():  # outputs of an earlier run that were not trusted
        print(f"  {n} file(s) re-run: {why}")
    print(f"  cohort.tsv: {result.cohort_rows} row(s), {result.earlier_rows} of them from "
          f"earlier runs")
    if result.cleaned:
        print(f"  removed {len(result.cleaned)} scratch folder(s) left by a killed run")
    if result.stale_dirs:
        print(f"  note: {len(result.stale_dirs)} output folder(s) from an earlier layout are "
              f"not used any more (e.g. {result.stale_dirs[0]}); outputs now go to a folder "
              f"named after the whole file name; delete the old ones when done",
              file=sys.stderr)
    for r in result.failed:
        print(f"  FAILED {r.path}: {r.error}", file=sys.stderr)
    if result.failed:
        print(f"  (listed in {Path(args.output) / 'failures.tsv'})", file=sys.stderr)
    return 1 if result.failed else 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from .simulate import write_session

    conditions: dict[str, Any] = {}
    for key, value in args.set:
        conditions[key] = json.loads(value) if value[:1] in "[{0123456789-tfn" else value
    try:
        paths = write_session(
            args.output, duration=args.duration, sfreq=args.sfreq, layout=args.layout,
            seed=args.seed, condition=args.condition, overwrite=args.overwrite, **conditions,
        )
    except (OSError, ValueError, TypeError) as err:
        print(f"ltr simulate: error: {cli_words(str(err))}", file=sys.stderr)
        return 1
    for p in paths:
        print(p)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_files

    try:
        report = evaluate_files(args.detected, args.truth, tolerance=args.tolerance)
    except (OSError, ValueError, TypeError) as err:
        print(f"ltr evaluate: error: {cli_words(str(err))}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        print(report.format())
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    cfg = _load_config(args, "config")
    if cfg is None:
        return 2
    text = cfg.to_toml()
    if args.output:
        out = Path(args.output)
        if out.exists() and not args.overwrite:
            print(f"ltr config: error: {out}: exists; pass --overwrite to replace it",
                  file=sys.stderr)
            return 1
        out.write_text(text)
        print(f"ltr config: written to {out}")
    else:
        sys.stdout.write(text)
    return 0


def _speed(text: str) -> float:
    """``--speed``: a number >= 0 (0: as fast as possible)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _seconds(text: str) -> float:
    """A positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


def _cmd_live(args: argparse.Namespace) -> int:
    cfg = _load_config(args, "live")
    if cfg is None:
        return 2
    if (args.source is None) == (args.lsl is None):
        print("ltr live: error: give a recording (SOURCE) or --lsl NAME, not both"
              if args.source else "ltr live: error: give a recording (SOURCE) or --lsl NAME",
              file=sys.stderr)
        return 2
    if args.follow and args.lsl:
        print("ltr live: error: --follow reads a file that is being written; --lsl reads "
              "a stream", file=sys.stderr)
        return 2
    if args.source and Path(args.source).suffix.lower() in (".dcm", ".mp4", ".avi", ".mov",
                                                            ".mkv"):
        print(f"ltr live: error: {args.source}: live counting reads EMG and accelerometer "
              f"signals; an ultrasound cine loop is counted offline: ltr detect "
              f"{args.source}", file=sys.stderr)
        return 2
    try:
        from .live import run as live_run
        from .live import sources

        note = ""
        if args.lsl is not None:
            from .live import lsl

            lsl.use_loopback_config()
            note = lsl.scope()
            print(f"ltr live: {note}", file=sys.stderr)
            source: Any = lsl.LslInlet(args.lsl, timeout=args.timeout)
            name = f"LSL stream {args.lsl}"
            print(f"ltr live: needle in/out marks from LSL stream {source.marker_stream}"
                  if source.marker_stream else
                  f"ltr live: no marker stream {args.lsl}-annotations: twitches get "
                  f"epoch -1 as they are reported, insertions are found from needling "
                  f"activity at the end", file=sys.stderr)
        elif args.follow:
            opts = _read_options(args)
            source = sources.TailSource(
                args.source, sfreq=args.sfreq, idle=args.timeout,
                **{k: opts[k] for k in ("time_column", "exclude", "ch_kinds") if k in opts})
            name = f"{args.source} (following)"
        else:
            source = sources.FileSource(args.source, speed=args.speed,
                                        **_read_options(args))
            name = f"{args.source} at {args.speed:g}x" if args.speed else f"{args.source}"
        markers = args.markers if args.markers is not None else args.lsl is not None
        if markers and args.lsl is None:
            from .live import lsl

            lsl.use_loopback_config()
            print(f"ltr live: {lsl.scope()}", file=sys.stderr)
        plain = args.plain or not _is_terminal(sys.stdout)
        if plain:
            from .live.view import PlainView

            view: Any = PlainView(bell=args.bell)
        else:
            from .live.view import RichView

            view = RichView(name, bell=args.bell, note=note)
        with view:
            done = live_run.run(source, config=cfg, duration=args.duration, out=args.out,
                                overwrite=args.overwrite, markers=markers,
                                on_chunk=view.update)
    except BrokenPipeError:  # `ltr live ... | head`: main() stops quietly
        raise
    except Exception as err:
        _print_error("live", err, args.verbose, args.source)
        return 1
    n = len(done.results)
    word = "twitch" if n == 1 else "twitches"
    if done.pipe_closed:  # `ltr live ... | head`: say what the file holds, on stderr
        _quiet_stdout()
        print(f"ltr live: stdout was closed (a pipe's reader such as head ended): stopped "
              f"after {done.seconds:.1f} s of signal, {n} {word}"
              + (f"; {args.out} is incomplete: it holds the twitches up to there, not those "
                 f"of the rest of {args.source or name}" if args.out else ""),
              file=sys.stderr)
        return 141
    print(f"ltr live: {n} {word} in {done.seconds:.1f} s of signal"
          + (" (stopped by Ctrl-C)" if done.interrupted else "")
          + (f"; events written to {args.out}" if args.out else ""))
    return 0


def _cmd_agree(args: argparse.Namespace) -> int:
    from .agreement import agree, agree_folders

    try:
        folders = [Path(f).is_dir() for f in args.files]
        if any(folders) and not all(folders):
            raise ValueError("give events files, or folders (one per rater), not both")
        if all(folders) and (args.epochs or args.insertions):
            raise ValueError("--epochs and --insertions take the files of one recording, "
                             "not folders")
        res = agree_folders(args.files, tolerance=args.tolerance) if all(folders) else \
            agree(args.files, tolerance=args.tolerance, epochs=args.epochs,
                  insertions=args.insertions)
        written = res.write(args.output, overwrite=args.overwrite) if args.output else []
    except (OSError, ValueError, TypeError) as err:
        print(f"ltr agree: error: {cli_words(str(err))}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(res.to_dict(), indent=1, allow_nan=False))
    else:
        print(res.format())
        for p in written:
            print(f"  written: {p}")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from .calibration import calibrate

    cfg = _load_config(args, "calibrate")
    if cfg is None:
        return 2
    out = Path(args.output)
    if out.exists() and not args.overwrite:
        print(f"ltr calibrate: error: {out}: exists; pass --overwrite to replace it",
              file=sys.stderr)
        return 1
    items: list[Any] = []
    for text in args.reviewed:
        rec, sep, ev = text.partition("=")
        items.append((rec, ev) if sep else text)
    try:
        res = calibrate(items, config=cfg, tolerance=args.tolerance)
        res.to_toml(out, overwrite=args.overwrite)
    except (OSError, ValueError, TypeError) as err:
        print(f"ltr calibrate: error: {cli_words(str(err))}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"before": res.before, "after": res.after, "scale": res.scale,
                          "min_confidence": res.min_confidence,
                          "folds": res.folds.to_dict("records"), "config": str(out)},
                         indent=1, default=str))
    else:
        print(res.format())
        print(f"  written: {out} (use with --config)")
    return 0


def _cmd_outcomes(args: argparse.Namespace) -> int:
    from .outcomes import compare_outcomes

    try:
        res = compare_outcomes(args.cohort, args.outcomes)
        if args.strict and (res.unmatched_outcomes or res.unmatched_cohort):
            raise ValueError(
                f"{args.outcomes}: {len(res.unmatched_outcomes)} outcome row(s) and "
                f"{len(res.unmatched_cohort)} recorded unit(s) did not join (e.g. "
                f"{(res.unmatched_outcomes + res.unmatched_cohort)[0]}); without --strict "
                "they are listed and left out")
        written = res.write(args.output, overwrite=args.overwrite)
    except (OSError, ValueError, TypeError) as err:
        print(f"ltr outcomes: error: {cli_words(str(err))}", file=sys.stderr)
        return 1
    print(res.format())
    print(f"  written: {len(written)} file(s) in {args.output} (outcomes.html)")
    return 0


def _cmd_review(args: argparse.Namespace) -> int:
    """``ltr review FILE``: serve the review page until Ctrl-C or a timeout."""
    import errno
    import webbrowser

    from .review import ReviewServer, open_review

    for name in ("idle", "duration"):
        v = getattr(args, name)
        if v is not None and not v > 0:
            print(f"ltr review: error: --{name} must be seconds > 0, got {v:g}",
                  file=sys.stderr)
            return 2
    if args.export:
        return _review_export(args)
    if not 0 <= args.port <= 65535:
        print(f"ltr review: error: --port must be 0-65535 (0: any free one), got {args.port}",
              file=sys.stderr)
        return 2
    cfg = _load_config(args, "review")
    if cfg is None:
        return 2
    from .review.reviewed import default_path
    from .review.server import review_lock

    target = Path(args.output) if args.output else default_path(args.file)
    with contextlib.ExitStack() as stack:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fresh, path_in_error = not target.exists(), None
            try:
                if Path(args.file).exists():
                    stack.enter_context(review_lock(target))
                path_in_error = args.file
                session = open_review(args.file, events=args.events, output=target,
                                      reviewer=args.reviewer, config=cfg,
                                      read_options=_read_options(args))
                path_in_error = None
                server = ReviewServer(session, port=args.port, idle_timeout=args.idle,
                                      duration=args.duration)
            except Exception as err:
                if isinstance(err, OSError) and err.errno == errno.EADDRINUSE:
                    err = OSError(f"port {args.port} is in use on 127.0.0.1; give another "
                                  "--port (0: any free one)")
                if fresh and path_in_error is None:  # nothing reviewed: leave no file
                    target.unlink(missing_ok=True)
                    target.with_suffix(".json").unlink(missing_ok=True)
                _print_warnings("review", caught)
                _print_error("review", err, args.verbose, path_in_error)
                return 1
        _print_warnings("review", caught)
        c = session.counts()
        print(f"ltr review: {c['total']} candidate(s), {c['reviewed']} reviewed; decisions "
              f"are saved to {session.path}")
        print(f"  open {server.url} (Ctrl-C stops)", flush=True)
        if not args.no_browser:
            webbrowser.open(server.url)
        try:
            why = server.serve()
        except KeyboardInterrupt:
            why = "interrupted"
        c = session.counts()
        print(f"ltr review: stopped ({why}); {c['reviewed']} of {c['total']} reviewed, "
              f"in {session.path}")
    return 0


def _review_export(args: argparse.Namespace) -> int:
    """``ltr review FILE --export OUT``: the recording with the reviewed events, no page."""
    from .review import default_path, export_reviewed, read_reviewed

    reviewed = Path(args.output) if args.output else default_path(args.file)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if not reviewed.exists():
                raise FileNotFoundError(f"{reviewed}: no review yet; run ltr review "
                                        f"{args.file} first (or give it with -o)")
            rows = read_reviewed(reviewed)
            out = export_reviewed(_read(args.file, args), rows, args.export,
                                  overwrite=args.overwrite)
        except Exception as err:
            _print_warnings("review", caught)
            _print_error("review", err, args.verbose, args.file)
            return 1
    _print_warnings("review", caught)
    n = sum(r["review_status"] is not None for r in rows)
    print(f"ltr review: {out} written with {len(rows)} events as annotations ({n} "
          f"reviewed) from {reviewed}")
    return 0


def _add_clip_options(p: argparse.ArgumentParser) -> None:
    """``--clip`` and its options (``ltr detect``, ``ltr report``)."""
    g = p.add_argument_group(
        "ultrasound clip", "fuse the twitches of an ultrasound cine loop recorded during "
        "the same needling (ltr[ultrasound]); by default the two files' start times put "
        "the clip on the recording's clock, refined by the twitches both saw")
    g.add_argument("--clip", metavar="CLIP", help="the clip: DICOM, MP4/AVI or a folder "
                   "of frames")
    g.add_argument("--clip-offset", type=float, default=None, metavar="SECONDS",
                   help="the clip's first frame is this many seconds into the recording")
    g.add_argument("--clip-sync", type=_sync_arg, default=None, metavar="LABEL=SECONDS",
                   help="the recording's annotation LABEL happened SECONDS into the clip "
                        "(LABEL#N: the N-th annotation of that name)")
    g.add_argument("--clip-refine", type=_refine_arg, default=2.0, metavar="SECONDS",
                   help="search this far (0-60 s) either side of the offset for the shift "
                        "that lines up the most twitches (default 2; 0: use the offset as "
                        "is)")
    g.add_argument("--clip-fps", type=float, default=None, metavar="FPS",
                   help="the clip's frame rate (a folder of frames, or to override the "
                        "file's)")
    g.add_argument("--clip-roi", type=_roi, default=None, metavar="X0,Y0,X1,Y1",
                   help="the clip's region of interest in pixels (default: found)")


def _add_epoch_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("needle insertions (epochs)")
    g.add_argument("--epoch-labels", type=_labels, metavar="IN,OUT",
                   help="annotation labels that open and close an insertion (default "
                        "'needle in,needle out')")
    g.add_argument("--trigger", metavar="CH",
                   help="channel that marks insertions (high while the needle is in)")


def _add_agreement_parsers(add_parser: Callable[..., argparse.ArgumentParser]) -> None:
    """``ltr agree``, ``ltr calibrate`` and ``ltr outcomes``."""
    p = add_parser("agree", help="agreement between raters (people or the detector)",
                   description="Compare twitch events files (BIDS events.tsv, reviewed or "
                               "not; rows a reviewer rejected are no twitch): per pair, "
                               "precision, recall and F1 with one-to-one onset matching, "
                               "onset differences, Cohen's kappa of '>= 1 twitch' per "
                               "needle insertion, ICC(2,1) and Bland-Altman of the counts "
                               "per insertion; Fleiss' kappa with three raters or more.")
    p.add_argument("files", nargs="+", metavar="EVENTS.tsv",
                   help="one events file per rater, or one folder per rater holding an "
                        "events file per recording (paired by name; statistics pooled)")
    p.add_argument("--tolerance", type=float, default=0.05, metavar="S",
                   help="largest onset difference of a match, s (default 0.05; 0.1 for "
                        "accelerometer events)")
    p.add_argument("--epochs", metavar="FILE",
                   help="needle insertions: a table with start_s,stop_s (ltr batch's "
                        "epochs.tsv) or an events file with needle in/out rows (default: "
                        "the needle in/out rows of the first events file having them)")
    p.add_argument("--insertions", metavar="TABLE.csv",
                   help="per-insertion yes/no raters, one row per insertion (e.g. columns "
                        "seen, felt: a clinician's and a patient's), for the three-way "
                        "comparison of Lim 2004")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="write pairs.tsv, raters.tsv, counts.tsv, agreement.json and "
                        "Bland-Altman PNGs here")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_agree)

    p = add_parser("calibrate", help="fit detector thresholds to a site's reviewed recordings",
                   description="Fit the threshold scale (EMG and accelerometer on/off "
                               "ratios and the floor's spread guards, together) and the "
                               "confidence floor to reviewed recordings, report F1 before "
                               "and after by leave-one-recording-out cross-validation, and "
                               "write the configuration for --config.")
    p.add_argument("reviewed", nargs="+", metavar="REVIEWED",
                   help="a recording (its reviewed events file beside it: NAME.reviewed.tsv, "
                        "NAME.events.tsv, NAME_events.tsv ...) or RECORDING=EVENTS.tsv")
    p.add_argument("-o", "--output", required=True, metavar="SITE.toml")
    p.add_argument("--config", metavar="CFG.toml", help="start from this configuration")
    p.add_argument("--tolerance", type=float, default=None, metavar="S",
                   help="onset matching tolerance, s (default 0.05; 0.1 without EMG)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing -o file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_calibrate)

    p = add_parser("outcomes", help="relate twitches to clinical outcomes over a cohort",
                   description="Join ltr batch's cohort.tsv (subject, session, muscle from "
                               "BIDS sub-/ses-/acq- names) with an outcomes table (subject, "
                               "session, muscle, NAME_pre/NAME_post or NAME_change) and "
                               "compare the '>= 1 twitch' and 'no twitch' groups (Hedges' g, "
                               "95% CI), correlate count and amplitude with the change "
                               "(Spearman, 95% CI) and fit habituation over insertions; "
                               "tables, figures and outcomes.html in -o DIR.")
    p.add_argument("cohort", metavar="COHORT.tsv")
    p.add_argument("outcomes", metavar="OUTCOMES.csv")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--strict", action="store_true",
                   help="fail when any outcome row or recorded unit does not join")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.set_defaults(func=_cmd_outcomes)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ltr`` command."""
    parser = argparse.ArgumentParser(
        prog="ltr",
        description="Find, count and describe local twitch responses in needling recordings.",
    )
    parser.add_argument("--version", action="version", version=f"ltr {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log progress (-v info, -vv debug) and show tracebacks")
    common = argparse.ArgumentParser(add_help=False)  # -v after the subcommand too
    common.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="log progress (-v info, -vv debug) and show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add_parser(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kwargs)

    p = add_parser("info", help="summarise a recording: channels, units, annotations, flags",
                       description="Print duration, rate, channels (kind, unit), annotation "
                                   "counts and quality flags: clipping, flat channels, NaN "
                                   "gaps, mains hum.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true",
                   help="machine-readable output (several files: one JSON object a line)")
    _add_read_options(p)
    p.set_defaults(func=_cmd_info)

    p = add_parser("detect", help="find and count local twitch responses",
                       description="Detect local twitch responses in a recording: prints a "
                                   "summary (count, rate, per-epoch table); -o writes the "
                                   "events (BIDS .tsv with a .json sidecar, .csv or .json).")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("-o", "--output", metavar="OUT", help="events file: .tsv, .csv or .json")
    p.add_argument("--config", metavar="CFG.toml", help="detector configuration (TOML)")
    p.add_argument("--emg", nargs="+", metavar="CH", help="EMG channels (default: by label)")
    p.add_argument("--acc", nargs="+", metavar="CH",
                   help="accelerometer channels (default: by label)")
    p.add_argument("--per-channel", action="store_true",
                   help="write each channel's detections before fusion")
    p.add_argument("--json", action="store_true",
                   help="print the full result as JSON (several files: one object a line)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing -o file")
    p.add_argument("--block", type=_block_arg, default="auto", metavar="SECONDS",
                   help="read and process the file in pieces of this many seconds (default "
                        "'auto': 300-s pieces for files longer than 10 minutes; 0: all at "
                        "once); the events are the same either way")
    p.add_argument("--n-jobs", type=_n_jobs, default=None, metavar="N",
                   help="channels processed in parallel (threads; -1: every core)")
    _add_epoch_options(p)
    p.add_argument("--min-confidence", type=_probability, default=None, metavar="P",
                   help="set aside twitches of calibrated confidence below P (0-1): they "
                        "are listed as rejected (low_confidence); higher P, fewer but "
                        "surer twitches (with --clip, the clip's too, whose confidence is "
                        "not calibrated; the default floor leaves them)")
    _add_clip_options(p)
    _add_read_options(p)
    p.set_defaults(func=_cmd_detect)

    p = add_parser("report", help="detect and write a self-contained HTML report",
                       description="Detect twitches and write one HTML file a clinician can "
                                   "read: counts per needle insertion, figures, events, "
                                   "settings. --pdf adds a PDF; --annotated writes a copy of "
                                   "the recording with the detections as annotations.")
    p.add_argument("files", nargs=1, metavar="FILE")
    p.add_argument("-o", "--output", required=True, metavar="REPORT.html|.pdf",
                   help="the report: HTML, or a PDF when the name ends in .pdf")
    p.add_argument("--pdf", action="store_true", help="also write REPORT.pdf beside the HTML")
    p.add_argument("--subject", metavar="ID",
                   help="subject shown in the header (default: the file's metadata or a "
                        "BIDS-like name, sub-ID_...)")
    p.add_argument("--muscle", metavar="NAME", help="muscle shown in the header")
    p.add_argument("--side", metavar="SIDE", help="side shown in the header (left, right)")
    p.add_argument("--thumbnails", type=_count, default=None, metavar="N",
                   help="ultrasound clip: draw the frame and motion map of the first N "
                        "twitches (default 24; 0: none); the report says how many were "
                        "left out")
    p.add_argument("--annotated", metavar="OUT.edf|.fif|.h5",
                   help="write the recording with twitch annotations (EDF+, FIF, HDF5)")
    p.add_argument("--reviewed", metavar="REVIEWED.tsv",
                   help="count the twitches as reviewed in ltr review (its .reviewed.tsv; "
                        "same --config as the review)")
    p.add_argument("--config", metavar="CFG.toml", help="detector configuration (TOML)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    _add_epoch_options(p)
    _add_clip_options(p)
    _add_read_options(p)
    p.set_defaults(func=_cmd_report)

    p = add_parser("batch", help="process a folder or glob of recordings in parallel",
                       description="Detect twitches in many recordings: one output folder "
                                   "per input, status.tsv, failures.tsv and cohort.tsv (one "
                                   "row per file x epoch). Re-runs skip files whose outputs "
                                   "are up to date. Exit status 1 if any file failed.")
    p.add_argument("inputs", metavar="DIR_OR_GLOB")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--n-jobs", type=_n_jobs, default=None,
                   help="parallel workers (joblib; -1 = all cores; default serial)")
    p.add_argument("--config", metavar="CFG.toml", help="detector configuration (TOML)")
    p.add_argument("--recursive", action="store_true", help="descend into sub-folders")
    p.add_argument("--report", action="store_true", help="also write an HTML report per file")
    p.add_argument("--overwrite", action="store_true", help="redo files that are up to date")
    # the default lives in ltr.batch.DEFAULT_TIMEOUT (not imported here: --help stays
    # fast); a test checks this text names it
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="per-file time limit in seconds; a file past it fails alone and "
                        "the batch goes on (default 1800; 0: no limit)")
    p.add_argument("--max-memory", type=float, default=None, metavar="MB",
                   help="per-file memory limit in MB (Linux); a file needing more fails "
                        "alone and the batch goes on (default: no limit)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run on a Dask cluster (needs dask[distributed])")
    _add_read_options(p)
    p.set_defaults(func=_cmd_batch)

    p = add_parser("simulate", help="simulate a needling session with known twitches",
                       description="Write a simulated needling session and its ground truth "
                                   "(FILE.truth.json and FILE.events.tsv beside it).")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="output recording (.edf, .bdf, .h5, .csv, .fif)")
    p.add_argument("--duration", type=float, default=None,
                   help="seconds (default: the condition's own, else 120; drawn for wild)")
    p.add_argument("--sfreq", type=float, default=None,
                   help="Hz (default: the condition's own, else 2000; drawn for wild)")
    p.add_argument("--layout", default=None,
                   help="emg, acc, emg+acc, emg2 or emg2+acc (default: the condition's own, "
                        "else emg+acc; drawn for wild)")
    p.add_argument("--condition", default=None,
                   help="a named condition of ltr.simulate.SUITE (e.g. clean, low_snr, ecg, "
                        "endplate) or wild (every parameter drawn from the seed)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", type=_key_value, default=[], metavar="KEY=VALUE",
                   help="override a simulation parameter, e.g. --set mains_hz=60; repeatable")
    p.add_argument("--overwrite", action="store_true", help="replace existing files")
    p.set_defaults(func=_cmd_simulate)

    p = add_parser("evaluate", help="score detected twitches against ground truth",
                       description="Match detected onsets to true onsets one-to-one within a "
                                   "tolerance and print precision, recall, F1, onset error, "
                                   "false alarms per minute and per confounder, count error "
                                   "per epoch.")
    p.add_argument("detected", metavar="DETECTED.tsv",
                   help="events.tsv with an 'onset' column (seconds)")
    p.add_argument("truth", metavar="TRUTH.json", help="truth file written by ltr simulate")
    p.add_argument("--tolerance", type=float, default=0.05, help="seconds (default 0.05)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_evaluate)

    p = add_parser("live", help="count twitches live: a file replayed, a file being "
                                "written, or an LSL stream",
                   description="Count twitches as the signal arrives: a terminal view "
                               "(count, count in this insertion, rate, last twitch, "
                               "envelope, signal quality), or a line per twitch when "
                               "stdout is not a terminal. Ctrl-C ends it with everything "
                               "written.")
    p.add_argument("source", nargs="?", metavar="SOURCE",
                   help="a recording to replay (any format ltr reads), or with --follow "
                        "a CSV/TSV file still being written")
    p.add_argument("--lsl", metavar="NAME",
                   help="read the Lab Streaming Layer stream of this name (on this "
                        "machine) instead of a file")
    p.add_argument("--speed", type=_speed, default=1.0, metavar="N",
                   help="replay a file at N x real time (default 1; 0: as fast as possible)")
    p.add_argument("--follow", action="store_true",
                   help="SOURCE is a CSV/TSV file still being written: read it as it grows")
    p.add_argument("--duration", type=_seconds, metavar="S",
                   help="stop after S seconds of signal")
    p.add_argument("--out", metavar="EVENTS.tsv",
                   help="write each twitch to this .tsv/.csv as it is decided")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--bell", action="store_true", help="ring the terminal bell on each twitch")
    p.add_argument("--markers", action=argparse.BooleanOptionalAction, default=None,
                   help="send each twitch to the LSL marker stream 'ltr-twitches' (default: "
                        "on with --lsl)")
    p.add_argument("--plain", action="store_true",
                   help="a line per twitch even on a terminal")
    p.add_argument("--timeout", type=_seconds, default=5.0, metavar="S",
                   help="seconds to wait for an LSL stream or for a --follow file to grow "
                        "before it counts as ended (default 5)")
    p.add_argument("--config", metavar="CFG.toml", help="detector configuration (TOML)")
    _add_read_options(p)
    p.set_defaults(func=_cmd_live)

    _add_agreement_parsers(add_parser)

    p = add_parser("review", help="review the detections in the browser (localhost)",
                   description="Serve a review page on 127.0.0.1: triage every candidate "
                               "(twitches, rejected look-alikes, contractions) with the "
                               "keyboard, add missed twitches and needle marks, move onsets. "
                               "Every decision is saved at once to NAME.reviewed.tsv (BIDS "
                               "events + review_status, reviewer, reviewed_at); reopening "
                               "resumes it.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--events", metavar="EV.tsv",
                   help="review these events instead of detecting (ltr detect -o output, "
                        "or a reviewed file)")
    p.add_argument("-o", "--output", metavar="REVIEWED.tsv",
                   help="the reviewed events file (default FILE's name + .reviewed.tsv "
                        "beside it); resumed when it exists")
    p.add_argument("--reviewer", metavar="NAME", help="your name (default: login name)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free)")
    p.add_argument("--no-browser", action="store_true", help="print the address only")
    p.add_argument("--idle", type=float, default=1800.0, metavar="S",
                   help="stop after S seconds without a request (the open page keeps it "
                        "alive; default 1800)")
    p.add_argument("--duration", type=float, default=None, metavar="S",
                   help="stop after S seconds whatever happens")
    p.add_argument("--export", metavar="OUT.edf|.fif|.h5",
                   help="do not serve: write the recording with the reviewed events as "
                        "annotations (EDF+, FIF, HDF5) and exit")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --export")
    p.add_argument("--config", metavar="CFG.toml", help="detector configuration (TOML)")
    _add_read_options(p)
    p.set_defaults(func=_cmd_review)

    p = add_parser("config", help="print the detector configuration as TOML",
                       description="Print the default detector configuration (or --config "
                                   "CFG.toml with its defaults filled in) as TOML, to edit "
                                   "and pass back with --config.")
    p.add_argument("--config", metavar="CFG.toml", help="start from this configuration")
    p.add_argument("-o", "--output", metavar="OUT.toml", help="write to a file instead")
    p.add_argument("--overwrite", action="store_true", help="replace an existing -o file")
    p.set_defaults(func=_cmd_config)
    return parser


def _quiet_stdout() -> None:
    """Point stdout at the null device after its pipe closed: no second error when Python
    flushes it at exit."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ltr`` command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = None
    if args.verbose:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log = logging.getLogger("ltr")
        log.addHandler(handler)
        log.setLevel(logging.DEBUG if args.verbose > 1 else logging.INFO)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    shown = warnings.showwarning

    def one_line(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        print(f"ltr {args.command}: warning: {cli_words(str(message))}", file=sys.stderr)

    warnings.showwarning = one_line  # warnings outside a file's work: one line too
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `ltr ... | head` closed the pipe: stop quietly
        _quiet_stdout()
        return 141  # 128 + SIGPIPE, as a shell reports a pipe closed under a command
    except KeyboardInterrupt:
        print(f"ltr {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # anything a subcommand did not catch: one line, never a trace
        _print_error(args.command, err, args.verbose)
        return 1
    finally:
        warnings.showwarning = shown
        if handler is not None:
            logging.getLogger("ltr").removeHandler(handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
