"""Accuracy of ltr.detect on held-out seeds: wild sessions, the named suite, confounder-only
sessions, twitches on endplate trains and tremor, faint heartbeats, hybrids, calibration.

Run from the repository root (full report: about 30 min of CPU measured under load,
so 8-15 min on 2 cores)::

    python benchmarks/accuracy.py --jobs 2 --out benchmarks/results/accuracy.md

or ``--quick`` for a small check of the same tables (a minute or two). ``--peers`` adds
NeuroKit2 and BioSPPy onsets on the suite's EMG sessions.

Seeds: detector development uses seeds below 1000; every table here is on seeds >= 1000
(the script refuses others unless ``--dev`` is given). Tables:

1. Wild sessions (``condition="wild"``, every parameter drawn from documented ranges):
   pooled F1, per-session F1, F1 by layout / electrode / confounder present, the worst
   sessions with what they held (rebuild one with ``session(condition="wild", seed=S)``).
2. Every named condition of ``ltr.simulate.SUITE`` (the new ones included) at twitch SNR
   >= 6 dB and 0-6 dB (the session draws twitch SNRs from the band and only twitches in
   it are scored; accelerometer-only conditions have one band).
3. Twitch-free sessions with one confounder kind each: false twitches per hour.
4. Recall of twitches overlapping an endplate train or a tremor episode.
5. Precision in faint-ECG sessions.
6. Hybrid sessions: simulated twitches in the quiet stretches of the real recordings in
   ``../shared/data`` (detections outside the quiet stretches are not scored).
7. Reliability of event confidence on the wild sessions: table, ECE and a PNG diagram.

Tolerance 50 ms for layouts with EMG, 100 ms for accelerometer-only ones.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed

import ltr
from ltr.detect.config import DetectorConfig
from ltr.evaluate import EvaluationReport, detection_outcomes, evaluate, match_onsets, reliability
from ltr.results import below_floor
from ltr.simulate import SUITE, session

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
HELD_OUT = 1000  # seeds below this are for development

#: Twitches of wild sessions scored in the headline F1: at least as strong as the baseline
#: (habituation and scatter carry some below it, where they are don't-care, as outside an
#: SNR band of the suite). The all-twitch figures are reported beside it.
WILD_SCORED = (0.0, np.inf)

BANDS = {">=6 dB": ((6.0, 24.0), (6.0, np.inf)), "0-6 dB": ((0.0, 6.0), (0.0, 6.0))}

#: One confounder at a time in a session without twitches: layout, rate and parameters.
CONFOUNDERS: dict[str, tuple[str, float, dict[str, Any]]] = {
    "needle_spike": ("emg", 2000.0, {"needle_spike_prob": 0.4}),
    "pop": ("emg", 2000.0, {"pop_rate": 2.0}),
    "motion": ("emg+acc", 2000.0, {"motion_prob": 0.2}),
    "ecg": ("emg", 2000.0, {"ecg_bpm": (50.0, 100.0), "ecg_amplitude": 100e-6}),
    "ecg_strong": ("emg", 2000.0, {"ecg_bpm": (50.0, 110.0), "ecg_amplitude": 500e-6}),
    "ecg_faint": ("emg", 2000.0, {"ecg_bpm": (50.0, 100.0), "ecg_qrs_snr": (2.0, 3.0)}),
    "contraction": ("emg+acc", 2000.0, {"contraction_rate": 2.0}),
    "hand_pressure": ("emg+acc", 2000.0, {"hand_pressure_rate": 2.0}),
    "single_mup": ("emg", 2000.0, {"single_mup_rate": 10.0}),
    "clipping": ("emg", 2000.0, {"pop_rate": 2.0, "needle_spike_prob": 0.4,
                                 "clip_range": 4e-4}),
    "mains": ("emg", 2000.0, {"mains_hz": 50, "mains_amplitude": 30e-6}),
    "wander": ("emg", 2000.0, {"wander_amplitude": 200e-6}),
    "endplate_noise": ("emg", 10000.0, {"endplate_noise_prob": 1.0}),
    "endplate_train": ("emg", 10000.0, {"endplate_train_rate": 4.0}),
    "tremor": ("acc", 100.0, {"tremor_rate": 4.0}),
    "tremor_emg+acc": ("emg+acc", 2000.0, {"tremor_rate": 4.0}),
}

#: Real recordings for hybrid sessions: (path under ../shared/data, read options, channel,
#: hybrid options). The PDKit tremor files get twitches anywhere (quiet_factor None): on
#: real tremor, which is what they hold.
HYBRID_FILES: tuple[tuple[str, dict[str, Any], str | None, dict[str, Any]], ...] = (
    ("biosppy_examples/emg.txt", {}, None, {}),
    ("biosppy_examples/emg_1.txt", {}, None, {}),
    ("physionet_emgdb/emg_healthy.hea", {}, None, {}),
    ("physionet_emgdb/emg_myopathy.hea", {}, None, {}),
    ("physionet_emgdb/emg_neuropathy.hea", {}, None, {}),
    ("biopac_acq/r42_test.acq", {}, None, {}),
    ("c3d_pyomeca/markers_analogs.c3d", {}, None, {}),
    ("emggo/Sample_Data.mat", {}, None, {}),
    ("biosppy_examples/acc.txt", {}, None, {}),
    ("pdkit_tremor_accel/subj2458_REST_TREMOR_AMPLITUDE_-_LEFT_HAND.csv", {}, None,
     {"quiet_factor": None}),
    ("pdkit_tremor_accel/subj2458_POSTURAL_TREMOR_OF_THE_HANDS_-_RIGHT_HAND.csv", {}, None,
     {"quiet_factor": None}),
)
#: Real files not used for hybrids, and why.
HYBRID_SKIPPED = {
    "openbci_txt/": "EEG channels (jaw clenches are the only EMG): no EMG baseline",
    "delsys_trigno_csv/": "2 s long: no quiet stretch of 2 s",
    "recruitmentcurvefitting_hreflex/": "60-ms evoked sweeps, no continuous baseline",
}


def _read_real(name: str, options: dict[str, Any]) -> ltr.Recording:
    path = SHARED / name
    if path.suffix == ".mat":  # emgGO: a MATLAB struct EMG with channelData and fs
        from scipy.io import loadmat

        emg = loadmat(path, squeeze_me=True, struct_as_record=False)["EMG"]
        x = np.asarray(emg.channelData, float).reshape(1, -1)
        # units are not documented by emgGO; SNRs are relative, so the scale is irrelevant
        return ltr.Recording(x, float(emg.fs), ["EMG tibialis anterior"], ["emg"],
                             meta={"source": str(path)})
    if name.startswith("pdkit"):  # ns timestamps, x, y, z (m/s^2), accuracy; ~100 Hz
        raw = np.loadtxt(path, delimiter=",")
        sfreq = 1e9 / float(np.median(np.diff(raw[:, 0])))
        # irregular stamps taken as uniform at their median rate (jitter a few %)
        return ltr.Recording(raw[:, 1:4].T, round(sfreq, 3), ["ACC X", "ACC Y", "ACC Z"],
                             ["acc"] * 3, meta={"source": str(path)})
    return ltr.read(path, **options)


def _peer_onsets(name: str, x: np.ndarray, sfreq: float) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "neurokit2":
            import neurokit2 as nk

            signals, _ = nk.emg_process(x, sampling_rate=int(sfreq))
            return np.flatnonzero(np.asarray(signals["EMG_Onsets"]) > 0) / sfreq
        from biosppy.signals import emg

        out = emg.emg(signal=x, sampling_rate=sfreq, show=False)
        return np.asarray(out["onsets"], dtype=float) / sfreq


def _overlap(truth: Any, kinds: tuple[str, ...]) -> np.ndarray:
    """Twitches whose [onset, offset] overlaps an interval of one of ``kinds``."""
    on, off = truth.onsets, truth.twitches["offset"]
    mask = np.isin(truth.confounders["kind"], kinds)
    a, b = truth.confounders["onset"][mask], truth.confounders["offset"][mask]
    if not a.size or not on.size:
        return np.zeros(on.size, bool)
    return ((on[:, None] <= b[None, :]) & (off[:, None] >= a[None, :])).any(axis=1)


def _found(res_onsets: np.ndarray, truth: Any) -> np.ndarray:
    tol = 0.05 if truth.has_emg else 0.1
    _, mr = match_onsets(res_onsets, truth.onsets, tol)
    found = np.zeros(len(truth), bool)
    found[mr] = True
    return found


def _detect(rec: ltr.Recording) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Onsets reported with the defaults, and every event the rules passed (onsets and
    confidence: the calibration is judged over all of them, the floor included)."""
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ltr.detect(rec, min_confidence=0.0)
    secs = time.perf_counter() - t0
    onsets = np.asarray(res.events["onset"], float)
    conf = np.asarray(res.events["confidence"], float)
    # what ltr.detect reports by default (its confidence floor)
    kept = onsets[~below_floor(conf, res.events["modality"],
                               DetectorConfig().confidence.min_confidence,
                               calibrated_only=True)]
    return kept, onsets, conf, secs


def _run_one(task: tuple[Any, ...]) -> dict[str, Any]:
    t0 = time.perf_counter()
    out = _run_task(task)
    out["task_s"] = time.perf_counter() - t0
    return out


def _run_task(task: tuple[Any, ...]) -> dict[str, Any]:
    kind = task[0]
    out: dict[str, Any] = {"kind": kind, "key": task[1], "seed": task[2]}
    if kind == "wild":
        _, _, seed = task
        rec, truth = session(condition="wild", seed=seed)
        onsets, every, conf, secs = _detect(rec)
        w = truth.info["wild"]
        scored = WILD_SCORED  # the EMG burst's SNR, the jolt's without EMG
        out.update(report=evaluate(onsets, truth, snr_range=scored),
                   report_all=evaluate(onsets, truth),
                   report_6=evaluate(onsets, truth, snr_range=(6.0, np.inf)),
                   seconds=secs, confidence=conf,
                   correct=detection_outcomes(every, truth),
                   layout=w["layout"], electrode=w["electrode"], sfreq=w["sfreq"],
                   duration=w["duration"], present=[k for k, v in w["present"].items() if v],
                   found=_found(onsets, truth),
                   snr=truth.twitches["snr_db"],
                   local_snr=truth.twitches.get("local_snr_db",
                                                np.full(len(truth), np.nan)),
                   on_train=_overlap(truth, ("endplate_train",)),
                   on_tremor=_overlap(truth, ("tremor",)),
                   on_step=_overlap(truth, ("movement_step",)))
    elif kind == "suite":
        _, key, seed, duration, peers = task
        name, band = key.split("|")
        cond = SUITE[name]
        draw, scored = BANDS[band]
        rec, truth = session(min(duration * 10, cond.duration) if cond.duration else duration,
                             cond.sfreq or 2000.0, cond.layout, seed, condition=name,
                             snr_db=draw)
        onsets, every, conf, secs = _detect(rec)
        snr_range = scored if truth.has_emg else None
        out.update(report=evaluate(onsets, truth, snr_range=snr_range), seconds=secs,
                   confidence=conf, correct=detection_outcomes(every, truth))
        snr = truth.twitches["snr_db"]
        in_band = ((snr >= scored[0]) & (snr < scored[1])) if truth.has_emg else \
            np.ones(len(truth), bool)
        out.update(found=_found(onsets, truth)[in_band],
                   on_train=_overlap(truth, ("endplate_train",))[in_band],
                   on_tremor=_overlap(truth, ("tremor",))[in_band],
                   on_step=_overlap(truth, ("movement_step",))[in_band])
        if peers and truth.has_emg:
            x = rec.get_data(picks="emg")[0]
            for peer in ("neurokit2", "biosppy"):
                try:
                    out[peer] = evaluate(_peer_onsets(peer, x, rec.sfreq), truth,
                                         snr_range=snr_range)
                except Exception as err:  # a peer failing is reported, not fatal
                    out[peer] = repr(err)
    elif kind == "confounder":
        _, key, seed, duration = task
        layout, sfreq, params = CONFOUNDERS[key]
        rec, truth = session(duration, sfreq, layout, seed, p_twitch=0.0, **params)
        onsets, _, _, _ = _detect(rec)
        out["report"] = evaluate(onsets, truth)
    else:  # hybrid
        from ltr.simulate import hybrid
        from ltr.simulate.hybrid import inside_epochs

        _, name, seed = task
        options, channel, hopts = next((o, c, h) for n, o, c, h in HYBRID_FILES if n == name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            real = _read_real(name, options)
        try:
            rec, truth = hybrid(real, channel, seed=seed, snr_db=(0.0, 20.0), **hopts)
        except ValueError as err:
            out["error"] = str(err).split(": ", 1)[-1]
            return out
        onsets, _, _, _ = _detect(rec)
        keep = inside_epochs(onsets, truth)
        out.update(report=evaluate(onsets[keep], truth, snr_range=(6.0, np.inf)),
                   report_low=evaluate(onsets[keep], truth, snr_range=(0.0, 6.0)),
                   quiet_s=float(np.sum(truth.epochs["stop"] - truth.epochs["start"])),
                   sfreq=rec.sfreq, outside=int((~keep).sum()))
    return out


#: Bands of the local SNR table (dB): the twitch over everything else in the EMG band.
LOCAL_BANDS = ((-np.inf, -6.0), (-6.0, 0.0), (0.0, 3.0), (3.0, 6.0), (6.0, 12.0),
               (12.0, np.inf))


def _local_snr_table(wild: list[dict[str, Any]]) -> list[str]:
    """Recall of the scored EMG twitches (SNR >= 0 dB) by their local SNR: against
    everything else on the channel during them, in the EMG band (``local_snr_db`` of the
    truth), not against the white baseline noise alone."""
    rows = [r for r in wild if "local_snr" in r]
    if not rows:
        return []
    snr = np.concatenate([r["snr"] for r in rows])
    loc = np.concatenate([r["local_snr"] for r in rows])
    found = np.concatenate([r["found"] for r in rows])
    scored = (snr >= WILD_SCORED[0]) & np.isfinite(loc)
    out = ["", "Recall of the scored EMG twitches (SNR >= 0 dB) by their *local* SNR: the "
           "twitch's RMS over that of everything else on its channel during it (baseline "
           "and every confounder: endplate noise, a contraction, a heartbeat, a train), "
           "both in the 20-450 Hz EMG band (`local_snr_db` of the truth). A twitch below 0 "
           "dB is weaker than what rides with it:", "",
           "| local SNR | true | share | found | recall |", "|---|---|---|---|---|"]
    n = int(scored.sum())
    for lo, hi in LOCAL_BANDS:
        m = scored & (loc >= lo) & (loc < hi)
        k = int(m.sum())
        if k:
            out.append(f"| {lo:g}..{hi:g} dB | {k} | {k / max(n, 1):.3f} | "
                       f"{int(found[m].sum())} | {_fmt(found[m].mean())} |")
    return out


def _fmt(v: float | None, digits: int = 3) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def _combine(rows: list[dict[str, Any]], key: str = "report") -> EvaluationReport | None:
    reps = [r[key] for r in rows if key in r]
    return EvaluationReport.combine(reps) if reps else None


def _recall_line(label: str, rows: list[dict[str, Any]], mask_key: str) -> str:
    found = np.concatenate([r["found"][r[mask_key]] for r in rows] or [np.zeros(0, bool)])
    rec = found.mean() if found.size else float("nan")
    return f"| {label} | {found.size} | {int(found.sum())} | {_fmt(rec)} |"


def _reliability_png(rel: Any, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(5, 6), height_ratios=[3, 1], sharex=True)
    full = rel.count > 0
    mid = (rel.lower + rel.upper) / 2
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfectly calibrated")
    ax.bar(mid[full], rel.fraction_true[full], width=rel.upper[0] - rel.lower[0],
           edgecolor="k", alpha=0.6, label="fraction true")
    ax.plot(rel.mean_confidence[full], rel.fraction_true[full], "o-", color="C3",
            label="mean confidence vs fraction true")
    ax.set_ylabel("fraction of events that are true twitches")
    ax.set_title(f"{title}\nECE {rel.ece:.3f} over {rel.n_events} events")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    ax2.bar(mid, rel.count, width=rel.upper[0] - rel.lower[0], edgecolor="k", color="0.7")
    ax2.set_xlabel("event confidence")
    ax2.set_ylabel("events")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="small sizes to check the tables (provisional numbers)")
    p.add_argument("--seed-start", type=int, default=HELD_OUT)
    p.add_argument("--wild", type=int, default=None, help="wild sessions (default 200)")
    p.add_argument("--per-cell", type=int, default=None,
                   help="seeds per suite cell (default 15)")
    p.add_argument("--confounder-seeds", type=int, default=None,
                   help="twitch-free sessions per confounder kind (default 20)")
    p.add_argument("--duration", type=float, default=None, help="suite session length, s")
    p.add_argument("--confounder-duration", type=float, default=None)
    p.add_argument("--hybrid-seeds", type=int, default=None)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--peers", action="store_true")
    p.add_argument("--dev", action="store_true", help="allow seeds below 1000")
    p.add_argument("--out", default=None, help="write the Markdown report here")
    args = p.parse_args(argv)
    quick = args.quick
    n_wild = args.wild or (30 if quick else 200)
    per_cell = args.per_cell or (3 if quick else 15)
    n_conf = args.confounder_seeds or (3 if quick else 20)
    duration = args.duration or (90.0 if quick else 120.0)
    # 20 x 180 s: one hour per confounder kind, the resolution of the <= 1/hour target
    conf_duration = args.confounder_duration or (120.0 if quick else 180.0)
    hybrid_seeds = args.hybrid_seeds or (2 if quick else 10)
    s0 = args.seed_start
    if s0 < HELD_OUT and not args.dev:
        p.error(f"--seed-start {s0}: seeds below {HELD_OUT} are for development; report on "
                f"held-out seeds (>= {HELD_OUT}) or pass --dev")
    seeds = range(s0, s0 + per_cell)
    names = [n for n in SUITE if n != "low_snr"]  # low_snr is clean at the 0-6 dB band

    def bands_of(n: str) -> list[str]:  # SNR bands mean nothing without EMG
        return list(BANDS) if SUITE[n].layout != "acc" else [next(iter(BANDS))]

    tasks: list[tuple[Any, ...]] = [("wild", "wild", s) for s in range(s0, s0 + n_wild)]
    tasks += [("suite", f"{n}|{b}", s, duration, args.peers)
              for n in names for b in bands_of(n) for s in seeds]
    tasks += [("confounder", k, s, conf_duration) for k in CONFOUNDERS
              for s in range(s0, s0 + n_conf)]
    have_shared = SHARED.is_dir()
    if have_shared:
        tasks += [("hybrid", f, s) for f, _, _, _ in HYBRID_FILES
                  for s in range(s0, s0 + hybrid_seeds)]
    # wild sessions (the longest) first, so the pool does not end on one straggler
    t0 = time.perf_counter()
    results = Parallel(n_jobs=args.jobs)(delayed(_run_one)(t) for t in tasks)
    wall = time.perf_counter() - t0
    by = lambda kind: [r for r in results if r["kind"] == kind]  # noqa: E731

    out_path = Path(args.out) if args.out else None
    label = "PROVISIONAL (--quick)" if quick else "full"
    lines = [
        f"# ltr.detect accuracy on held-out seeds — {label}",
        "",
    ]
    if quick:
        lines += ["> **Provisional.** Made with `--quick` (small sizes, wide uncertainty) to "
                  "check the machinery and give a first baseline; the full report "
                  "(`python benchmarks/accuracy.py --jobs 2 --out "
                  "benchmarks/results/accuracy.md`) replaces it.", ""]
    lines += [
        f"ltr {ltr.__version__}. Seeds {s0} and up (detector development uses seeds below "
        f"{HELD_OUT}; nothing here was tuned on). {n_wild} wild sessions; {per_cell} seeds "
        f"per suite cell ({duration:g} s; a condition's own rate and length where it has "
        f"one); {n_conf} per confounder kind ({conf_duration:g} s). Tolerance 50 ms (100 ms "
        f"accelerometer-only). Wall time {wall:.0f} s with {args.jobs} job(s).",
        "",
    ]

    # 1. wild ---------------------------------------------------------------------------
    wild = by("wild")
    c = _combine(wild)
    call = _combine(wild, "report_all")
    c6 = _combine(wild, "report_6")
    per = np.asarray([r["report"].f1 for r in wild])
    minutes = sum(r["duration"] for r in wild) / 60
    lines += ["## 1. Wild sessions", "",
              f"{len(wild)} sessions, {minutes:.0f} min in all; every parameter drawn from "
              "the documented ranges of `ltr.simulate._wild` (`wild_table()`). Headline: "
              "twitches at SNR >= 0 dB scored (weaker ones, faded by habituation, are "
              "don't-care: a detection on one is neither hit nor false alarm); all twitches "
              "below it. The SNR is the EMG burst's (RMS over the baseline noise's), and in "
              "accelerometer-only sessions the jolt's by the same rule (vector RMS over its "
              "span against the sensor noise's). Reported twitches: those of confidence >= "
              f"{DetectorConfig().confidence.min_confidence:g} (the default floor).", "",
              "| scored | sessions | true | F1 | precision | recall | false/min | "
              "median session F1 | sessions with F1 < 0.9 |",
              "|---|---|---|---|---|---|---|---|---|",
              f"| SNR >= 0 dB | {len(wild)} | {c.tp + c.fn} | {_fmt(c.f1)} | "
              f"{_fmt(c.precision)} | {_fmt(c.recall)} | {_fmt(c.false_alarms_per_min, 2)} | "
              f"{_fmt(float(np.median(per)))} | {int(np.sum(per < 0.9))} |",
              f"| SNR >= 6 dB | {len(wild)} | {c6.tp + c6.fn} | {_fmt(c6.f1)} | "
              f"{_fmt(c6.precision)} | {_fmt(c6.recall)} | "
              f"{_fmt(c6.false_alarms_per_min, 2)} | | |",
              f"| all twitches | {len(wild)} | {call.tp + call.fn} | {_fmt(call.f1)} | "
              f"{_fmt(call.precision)} | {_fmt(call.recall)} | "
              f"{_fmt(call.false_alarms_per_min, 2)} | | |", "",
              "F1 by what the session held (pooled over sessions):", "",
              "| group | sessions | true | F1 | precision | recall |", "|---|---|---|---|---|---|"]
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in wild:
        groups.setdefault(f"layout {r['layout']}", []).append(r)
        groups.setdefault(f"{r['electrode']} EMG" if r["layout"] != "acc" else
                          "accelerometer only", []).append(r)
        for k in r["present"]:
            groups.setdefault(f"with {k}", []).append(r)
        if not r["present"]:
            groups.setdefault("no confounder", []).append(r)
        if r["duration"] >= 1200:
            groups.setdefault("20-60-min sessions", []).append(r)
    for g in sorted(groups):
        cg = _combine(groups[g])
        lines.append(f"| {g} | {len(groups[g])} | {cg.tp + cg.fn} | {_fmt(cg.f1)} | "
                     f"{_fmt(cg.precision)} | {_fmt(cg.recall)} |")
    lines += ["", "Recall by twitch SNR (all wild sessions; the jolt's SNR without EMG):", "",
              "| SNR band | true | found | recall |", "|---|---|---|---|"]
    for band, v in call.recall_by_snr.items():
        if v["true"]:
            lines.append(f"| {band} | {v['true']} | {v['found']} | "
                         f"{_fmt(v['found'] / v['true'])} |")
    lines += _local_snr_table(wild)
    worst = sorted(wild, key=lambda r: (r["report"].f1, -r["report"].fn))[:10]
    lines += ["", "Worst sessions (rebuild with `session(condition=\"wild\", seed=S)`):", "",
              "| seed | layout | EMG | sfreq | s | true | TP | FP | FN | F1 | confounders |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in worst:
        rep = r["report"]
        lines.append(f"| {r['seed']} | {r['layout']} | {r['electrode']} | {r['sfreq']:g} | "
                     f"{r['duration']:.0f} | {rep.tp + rep.fn} | {rep.tp} | {rep.fp} | "
                     f"{rep.fn} | {_fmt(rep.f1)} | {', '.join(r['present']) or '-'} |")

    # 2. suite --------------------------------------------------------------------------
    lines += ["", "## 2. Named conditions by SNR band", "",
              "| condition | layout | rate | SNR band | true | F1 | precision | recall | "
              "false/min | median abs onset error (ms) |"
              + (" NeuroKit2 F1 | BioSPPy F1 |" if args.peers else ""),
              "|---|---|---|---|---|---|---|---|---|---|" + ("---|---|" if args.peers else "")]
    suite_rows = by("suite")
    for n in names:
        for band in bands_of(n):
            rows = [r for r in suite_rows if r["key"] == f"{n}|{band}"]
            cs = _combine(rows)
            err = np.median(np.abs(cs.onset_error_ms)) if cs.onset_error_ms.size else np.nan
            cond = SUITE[n]
            line = (f"| {n} | {cond.layout} | {cond.sfreq or 2000:g} | "
                    f"{band if cond.layout != 'acc' else 'all'} | {cs.tp + cs.fn} | "
                    f"{_fmt(cs.f1)} | {_fmt(cs.precision)} | {_fmt(cs.recall)} | "
                    f"{_fmt(cs.false_alarms_per_min, 2)} | {_fmt(err, 1)} |")
            if args.peers:
                for peer in ("neurokit2", "biosppy"):
                    good = [r[peer] for r in rows if isinstance(r.get(peer), EvaluationReport)]
                    line += (f" {_fmt(EvaluationReport.combine(good).f1)} |" if good
                             else " n/a |")
            lines.append(line)

    # 3. confounders --------------------------------------------------------------------
    lines += ["", "## 3. Twitch-free sessions with one confounder kind", "",
              "| confounder | layout | rate | hours | events | false twitches | per hour | "
              "causes |", "|---|---|---|---|---|---|---|---|"]
    for k, (layout, sfreq, _) in CONFOUNDERS.items():
        rows = [r for r in by("confounder") if r["key"] == k]
        cc = _combine(rows)
        base = k.split("_strong")[0].split("_faint")[0].split("_emg")[0]
        events = cc.confounders_counted.get(base, {}).get("events", 0)
        causes = ", ".join(f"{kk} {v}" for kk, v in cc.false_alarm_causes.items()) or "-"
        hours = cc.duration / 3600
        lines.append(f"| {k} | {layout} | {sfreq:g} | {hours:.2f} | {events} | {cc.fp} | "
                     f"{_fmt(cc.fp / hours, 2)} | {causes} |")

    # 4. overlap recall -----------------------------------------------------------------
    lines += ["", "## 4. Twitches on an endplate train or a tremor episode (and large bursts "
              "with a movement step)", "",
              "| twitches | on it | found | recall |", "|---|---|---|---|"]
    for n, band, key, what in (("endplate", ">=6 dB", "on_train", "an endplate train"),
                               ("endplate", "0-6 dB", "on_train", "an endplate train"),
                               ("acc_tremor", ">=6 dB", "on_tremor", "a tremor episode")):
        rows = [r for r in suite_rows if r["key"] == f"{n}|{band}"]
        shown = band if SUITE[n].layout != "acc" else "all SNR"
        lines.append(_recall_line(f"`{n}`, {shown}, on {what}", rows, key))
        lines.append(_recall_line(f"`{n}`, {shown}, elsewhere", [
            {**r, "not": ~r[key]} for r in rows], "not"))
    lines.append(_recall_line("wild, on an endplate train", wild, "on_train"))
    lines.append(_recall_line("wild, on a tremor episode", wild, "on_tremor"))
    rows = [r for r in suite_rows if r["key"] == "movement_steps|>=6 dB"]
    lines.append(_recall_line("`movement_steps`: the large bursts with a movement step",
                              rows, "on_step"))
    lines.append(_recall_line("wild: large bursts with a movement step", wild, "on_step"))

    # 5. faint ECG precision ------------------------------------------------------------
    lines += ["", "## 5. Precision with a faint heartbeat", "",
              "| sessions | band | detections | TP | FP | precision | recall |",
              "|---|---|---|---|---|---|---|"]
    for band in BANDS:
        rows = [r for r in suite_rows if r["key"] == f"faint_ecg|{band}"]
        cf = _combine(rows)
        lines.append(f"| `faint_ecg` x {len(rows)} | {band} | {cf.tp + cf.fp} | {cf.tp} | "
                     f"{cf.fp} | {_fmt(cf.precision)} | {_fmt(cf.recall)} |")
    fw = [r for r in wild if "ecg" in r["present"]]
    if fw:
        cw = _combine(fw)
        lines.append(f"| wild with ECG x {len(fw)} | all | {cw.tp + cw.fp} | {cw.tp} | "
                     f"{cw.fp} | {_fmt(cw.precision)} | {_fmt(cw.recall)} |")

    # 6. hybrids ------------------------------------------------------------------------
    lines += ["", "## 6. Hybrid sessions: real baselines, simulated twitches", ""]
    if not have_shared:
        lines.append("`../shared/data` was not available: no hybrid sessions.")
    else:
        lines += [f"Twitches at 0-20 dB over the noise around each onset, {hybrid_seeds} seeds "
                  "per file, only in quiet stretches (band-passed 0.25-s windows at most 2x "
                  "the 10th-percentile RMS, >= 2 s; accelerometers 5-50 Hz, vector RMS; "
                  "the PDKit tremor files everywhere: on real tremor); detections outside "
                  "them are not scored. Tolerance 50 ms on EMG, 100 ms on accelerometers.",
                  "", "| file | rate | quiet s per session | true >=6 dB | F1 >=6 dB | "
                  "precision | recall | true 0-6 dB | F1 0-6 dB | unscored detections |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for f, _, _, _ in HYBRID_FILES:
            rows = [r for r in by("hybrid") if r["key"] == f]
            ok = [r for r in rows if "report" in r]
            if not ok:
                err = rows[0].get("error", "failed") if rows else "not run"
                lines.append(f"| {f} | | {err} | | | | | | | |")
                continue
            ch, cl = _combine(ok), _combine(ok, "report_low")
            lines.append(
                f"| {f} | {ok[0]['sfreq']:g} | {np.mean([r['quiet_s'] for r in ok]):.0f} | "
                f"{ch.tp + ch.fn} | {_fmt(ch.f1)} | {_fmt(ch.precision)} | {_fmt(ch.recall)} | "
                f"{cl.tp + cl.fn} | {_fmt(cl.f1)} | {sum(r['outside'] for r in ok)} |")
        hy = [r for r in by("hybrid") if "report" in r]
        if hy:
            ca = _combine(hy)
            lines.append(f"| all files | | | {ca.tp + ca.fn} | {_fmt(ca.f1)} | "
                         f"{_fmt(ca.precision)} | {_fmt(ca.recall)} | | | |")
        lines += ["", "Not used: " + "; ".join(f"`{k}` ({v})" for k, v in
                                                HYBRID_SKIPPED.items()) + "."]

    # 7. calibration --------------------------------------------------------------------
    conf = np.concatenate([r["confidence"] for r in wild] or [np.zeros(0)])
    corr = np.concatenate([r["correct"] for r in wild] or [np.zeros(0, bool)])
    rel = reliability(np.clip(conf, 0.0, 1.0), corr)
    sconf = np.concatenate([r["confidence"] for r in suite_rows] or [np.zeros(0)])
    scorr = np.concatenate([r["correct"] for r in suite_rows] or [np.zeros(0, bool)])
    srel = reliability(np.clip(sconf, 0.0, 1.0), scorr)
    png_name = "reliability_provisional.png" if quick else "reliability.png"
    lines += ["", "## 7. Calibration of event confidence (wild sessions)", "",
              "An event is true when it is matched one-to-one to a true twitch within the "
              "tolerance (all SNRs). Goal: ECE <= 0.05.", "", rel.format(), "",
              f"On the named conditions (all cells pooled): ECE {_fmt(srel.ece)} over "
              f"{srel.n_events} events.", "", f"![reliability diagram]({png_name})", ""]
    secs = [r["seconds"] for r in results if "seconds" in r]
    lines += [f"Median ltr.detect time per session: {np.median(secs):.3f} s. Time spent "
              "(simulation and detection, summed over workers): " + ", ".join(
                  f"{k} {sum(r['task_s'] for r in by(k)):.0f} s"
                  for k in ("wild", "suite", "confounder", "hybrid")) + ".", ""]
    from ltr.simulate._wild import WILD_SESSION, wild_table

    lines += ["## Appendix: where the wild parameters are drawn from", "",
              "Session: " + "; ".join(f"{k} {v[0]} ({v[1]})" for k, v in
                                      WILD_SESSION.items()) + ".", "", wild_table(), ""]
    text = "\n".join(lines)
    print(text)
    if out_path:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(text + "\n")
        _reliability_png(rel, out_path.parent / png_name,
                         f"ltr event confidence, {len(wild)} wild sessions"
                         + (" (provisional)" if quick else ""))


if __name__ == "__main__":
    main()
