"""The ``ltr`` command line: thin subcommands over the library."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._version import __version__


def _key_value(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    k, v = text.split("=", 1)
    return k.strip(), v.strip()


def _probability(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return v


def _add_read_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("reading options")
    g.add_argument("--sfreq", type=float, help="sampling rate in Hz (text files without time)")
    g.add_argument("--kind", action="append", type=_key_value, default=[], metavar="CH=KIND",
                   help="set a channel's kind (emg, acc, trigger, misc); repeatable")
    g.add_argument("--bipolar", action="append", type=_key_value, default=[],
                   metavar="NAME=ANODE,CATHODE", help="derive a bipolar channel; repeatable")
    g.add_argument("--skip-until", help="text files: skip lines before the one containing this")
    g.add_argument("--delimiter", help="text files: field delimiter (default: detected)")


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
    return opts


def _load_config(args: argparse.Namespace, command: str) -> Any:
    """The --config file as a DetectorConfig (defaults without it); None after an error."""
    from .detect import DetectorConfig

    try:
        return DetectorConfig.from_toml(args.config) if args.config else DetectorConfig()
    except (OSError, ValueError) as err:
        print(f"ltr {command}: error: {err}", file=sys.stderr)
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
            except (OSError, ValueError, TypeError) as err:
                print(f"ltr {command}: error: {err}", file=sys.stderr)
                status = 1
                continue
        for w in caught:
            print(f"ltr {command}: warning: {w.message}", file=sys.stderr)
        show()
    return status


def _cmd_info(args: argparse.Namespace) -> int:
    from .io import read
    from .quality import assess

    def work(path: str) -> Callable[[], None]:
        report = assess(read(path, **_read_options(args)))

        def show() -> None:
            if args.json:
                print(json.dumps(report.to_dict(), indent=2, default=str))
            else:
                print(report.format())
                if len(args.files) > 1:
                    print()

        return show

    return _each_file(args, "info", work)


def _cmd_detect(args: argparse.Namespace) -> int:
    from .detect import detect
    from .io import read

    cfg = _load_config(args, "detect")
    if cfg is None:
        return 2
    if args.output and len(args.files) > 1:
        print("ltr detect: error: -o takes one input file", file=sys.stderr)
        return 2

    def work(path: str) -> Callable[[], None]:
        res = detect(read(path, **_read_options(args)), config=cfg, emg=args.emg,
                     acc=args.acc, block=args.block, n_jobs=args.n_jobs,
                     min_confidence=args.min_confidence)
        if args.output:
            res.write_events(args.output, per_channel=args.per_channel,
                             overwrite=args.overwrite)

        def show() -> None:
            if args.json:
                print(res.to_json())
            else:
                print(res.format_summary())
                if args.output:
                    print(f"  events written to {args.output}")

        return show

    return _each_file(args, "detect", work)


def _cmd_report(args: argparse.Namespace) -> int:
    from .detect import detect
    from .export import export_annotated
    from .io import read
    from .report import write_report

    cfg = _load_config(args, "report")
    if cfg is None:
        return 2

    def work(path: str) -> Callable[[], None]:
        rec = read(path, **_read_options(args))
        res = detect(rec, config=cfg)
        written = write_report(rec, res, args.output, pdf=args.pdf, overwrite=args.overwrite)
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

    from .batch import find_inputs, process_files

    cfg = _load_config(args, "batch")
    if cfg is None:
        return 2
    files = find_inputs(args.inputs, recursive=args.recursive)
    if not files:
        print(f"ltr batch: error: no recordings found in {args.inputs}", file=sys.stderr)
        return 2
    root = args.inputs if Path(args.inputs).is_dir() else None
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
    with backend:
        result = process_files(files, cfg, args.output, n_jobs=args.n_jobs, on_error="skip",
                               overwrite=args.overwrite, report=args.report,
                               read_options=_read_options(args), root=root)
    c = result.counts()
    print(f"ltr batch: {len(files)} file(s) in {result.seconds:.1f} s: {c['ok']} done, "
          f"{c['skipped']} up to date, {c['failed']} failed; outputs in {args.output}")
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
        print(f"ltr simulate: error: {err}", file=sys.stderr)
        return 1
    for p in paths:
        print(p)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_files

    try:
        report = evaluate_files(args.detected, args.truth, tolerance=args.tolerance)
    except (OSError, ValueError, TypeError) as err:
        print(f"ltr evaluate: error: {err}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        print(report.format())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ltr`` command."""
    parser = argparse.ArgumentParser(
        prog="ltr",
        description="Find, count and describe local twitch responses in needling recordings.",
    )
    parser.add_argument("--version", action="version", version=f"ltr {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log progress (-v info, -vv debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("info", help="summarise a recording: channels, units, annotations, flags",
                       description="Print duration, rate, channels (kind, unit), annotation "
                                   "counts and quality flags: clipping, flat channels, NaN "
                                   "gaps, mains hum.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_read_options(p)
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("detect", help="find and count local twitch responses",
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
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--overwrite", action="store_true", help="replace an existing -o file")
    p.add_argument("--block", type=_block_arg, default="auto", metavar="SECONDS",
                   help="read and process the file in pieces of this many seconds (default "
                        "'auto': 300-s pieces for files longer than 10 minutes; 0: all at "
                        "once); the events are the same either way")
    p.add_argument("--n-jobs", type=int, default=None, metavar="N",
                   help="channels processed in parallel (threads; -1: every core)")
    p.add_argument("--min-confidence", type=_probability, default=None, metavar="P",
                   help="set aside twitches of calibrated confidence below P (0-1): they "
                        "are listed as rejected (low_confidence); higher P, fewer but "
                        "surer twitches")
    _add_read_options(p)
    p.set_defaults(func=_cmd_detect)

    p = sub.add_parser("report", help="detect and write a self-contained HTML report",
                       description="Detect twitches and write one HTML file a clinician can "
                                   "read: counts per needle insertion, figures, events, "
                                   "settings. --pdf adds a PDF; --annotated writes a copy of "
                                   "the recording with the detections as annotations.")
    p.add_argument("files", nargs=1, metavar="FILE")
    p.add_argument("-o", "--output", required=True, metavar="REPORT.html")
    p.add_argument("--pdf", action="store_true", help="also write REPORT.pdf")
    p.add_argument("--annotated", metavar="OUT.edf|.fif|.h5",
                   help="write the recording with twitch annotations (EDF+, FIF, HDF5)")
    p.add_argument("--config", metavar="CFG.toml", help="detector configuration (TOML)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    _add_read_options(p)
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("batch", help="process a folder or glob of recordings in parallel",
                       description="Detect twitches in many recordings: one output folder "
                                   "per input, status.tsv, failures.tsv and cohort.tsv (one "
                                   "row per file x epoch). Re-runs skip files whose outputs "
                                   "are up to date. Exit status 1 if any file failed.")
    p.add_argument("inputs", metavar="DIR_OR_GLOB")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--n-jobs", type=int, default=None,
                   help="parallel workers (joblib; -1 = all cores; default serial)")
    p.add_argument("--config", metavar="CFG.toml", help="detector configuration (TOML)")
    p.add_argument("--recursive", action="store_true", help="descend into sub-folders")
    p.add_argument("--report", action="store_true", help="also write an HTML report per file")
    p.add_argument("--overwrite", action="store_true", help="redo files that are up to date")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run on a Dask cluster (needs dask[distributed])")
    _add_read_options(p)
    p.set_defaults(func=_cmd_batch)

    p = sub.add_parser("simulate", help="simulate a needling session with known twitches",
                       description="Write a simulated needling session and its ground truth "
                                   "(FILE.truth.json and FILE.events.tsv beside it).")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="output recording (.edf, .bdf, .h5, .csv, .fif)")
    p.add_argument("--duration", type=float, default=120.0, help="seconds (default 120)")
    p.add_argument("--sfreq", type=float, default=2000.0, help="Hz (default 2000)")
    p.add_argument("--layout", default="emg+acc",
                   help="emg, acc, emg+acc or emg2 (two muscles; default emg+acc)")
    p.add_argument("--condition", default=None,
                   help="a named condition of ltr.simulate.SUITE (e.g. clean, low_snr, ecg)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", type=_key_value, default=[], metavar="KEY=VALUE",
                   help="override a simulation parameter, e.g. --set mains_hz=60; repeatable")
    p.add_argument("--overwrite", action="store_true", help="replace existing files")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("evaluate", help="score detected twitches against ground truth",
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ltr`` command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log = logging.getLogger("ltr")
        log.addHandler(handler)
        log.setLevel(logging.DEBUG if args.verbose > 1 else logging.INFO)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
