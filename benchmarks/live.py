"""The streaming detector against the offline one: agreement, accuracy, latency, speed.

Run from the repository root::

    python benchmarks/live.py --out benchmarks/results/live.md            # ~15 min, 1 core
    python benchmarks/live.py --quick                                     # ~2 min

For every condition of ``ltr.simulate.SUITE`` and every seed (held-out seeds, 1000 and
up), the session is detected offline (``ltr.detect``) and streamed through
``ltr.StreamingDetector`` in chunks of ``--chunk`` samples. Tables:

1. Agreement: F1 of the streamed twitches against the offline ones (onsets within
   50 ms; 100 ms accelerometer-only), pooled over seeds, and F1 of each against the
   truth; the gap is offline minus streamed. "Same row": the fraction of twitches
   found by both whose row as reported carries offline's ``channels``, ``modality``
   and ``epoch``.
2. Decision latency: for each true twitch the stream found, the stream time at which it
   was reported minus the true onset (what a clinician waits), median / 95th
   percentile / max, per condition and pooled.
3. Chunk-size invariance: one session pushed in chunks of 1, 7, 64, 1000 and 10 000
   samples; the events must be identical.
4. Real-time factor: 64 EMG channels at 4 kHz (``--rtf-seconds`` of signal: 16 simulated
   sessions of 4 channels, each channel a sensor of a grid over the muscle), pushed in
   100-ms chunks on one core; seconds of signal per second of CPU.
"""

from __future__ import annotations

import argparse
import inspect
import time
import warnings
from pathlib import Path

import numpy as np

import ltr
from ltr.evaluate import compare
from ltr.live import StreamConfig, StreamingDetector
from ltr.simulate import SUITE, session

ROOT = Path(__file__).resolve().parents[1]


def stream(rec: ltr.Recording, chunk: int, cfg: StreamConfig | None = None,
           ) -> tuple[list, StreamingDetector, float]:
    """Push a recording in chunks; the twitches, the detector and the CPU seconds.

    The needle insertions are given as ``ltr live FILE`` gives them (the recording's
    annotations, :func:`ltr.segment.find_epochs`), where the detector takes them."""
    kw = {}
    if "epochs" in inspect.signature(StreamingDetector).parameters:
        kw["epochs"] = ltr.segment.find_epochs(rec)
    det = StreamingDetector(rec.sfreq, rec.ch_names, rec.ch_kinds, stream=cfg,
                            units=rec.units, **kw)
    data = rec.data
    t0 = time.process_time()
    found = []
    for i in range(0, rec.n_samples, chunk):
        found += det.push(data[:, i:i + chunk])
    found += det.flush()
    return found, det, time.process_time() - t0


def one(name: str, seed: int, chunk: int, cfg: StreamConfig | None) -> dict:
    c = SUITE[name]
    rec, truth = session(duration=c.duration or 120.0, sfreq=c.sfreq or 2000.0,
                         layout=c.layout, seed=seed, condition=name)
    tol = 0.1 if c.layout == "acc" else 0.05
    t0 = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        off = ltr.detect(rec)
    t_off = time.process_time() - t0
    found, det, t_on = stream(rec, chunk, cfg)
    on = np.array([f.onset for f in found])
    decided = np.array([f.decided_at for f in found])
    agree = compare(on, off.onset, tol)
    vs_off = compare(off.onset, truth.onsets, tol)
    vs_on = compare(on, truth.onsets, tol)
    lat = decided[vs_on["matched_detected"]] - np.asarray(truth.onsets)[
        vs_on["matched_reference"]]
    # the twitches both found: do their rows say the same (channels, modality, epoch)?
    same = [(found[i].channels, found[i].modality, found[i].row["epoch"])
            == (off.events["channels"][j], off.events["modality"][j], off.events["epoch"][j])
            for i, j in zip(agree["matched_detected"], agree["matched_reference"],
                            strict=True)]
    return {"name": name, "seed": seed, "agree": agree, "off": vs_off, "on": vs_on,
            "same": np.asarray(same, bool),
            "latency": lat, "t_off": t_off, "t_on": t_on, "seconds": rec.duration,
            "decisions": det.decisions}


def f1(rows: list[dict], key: str) -> float:
    tp = sum(r[key]["tp"] for r in rows)
    fp = sum(r[key]["fp"] for r in rows)
    fn = sum(r[key]["fn"] for r in rows)
    return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def invariance(chunks: tuple[int, ...] = (1, 7, 64, 1000, 10000)) -> list[str]:
    rec, _ = session(duration=90.0, layout="emg+acc", seed=1000, condition="fused")
    ref = None
    lines = ["| chunk (samples) | twitches | identical to 10 000 |", "| --- | --- | --- |"]
    results = {}
    for n in sorted(chunks, reverse=True):
        found, _, _ = stream(rec, n)
        results[n] = [(f.onset, f.channels, f.amplitude, f.confidence) for f in found]
        ref = results[n] if ref is None else ref
    for n in chunks:
        lines.append(f"| {n} | {len(results[n])} | {results[n] == ref} |")
    return lines


def grid_recording(seconds: float, sfreq: float = 4000.0, n: int = 64,
                   shared: bool = True) -> ltr.Recording:
    """``n`` EMG channels at ``sfreq``.

    ``shared``: a grid over one muscle, every channel seeing every twitch (one clean
    session's EMG plus independent noise of the baseline's level on each channel, so
    each twitch is decided on all ``n``). Otherwise the worst case: independent
    sessions (two-muscle layouts), ``n / 2`` times a session's twitch rate.
    """
    rows, names = [], []
    if shared:
        rec, _ = session(duration=seconds, sfreq=sfreq, layout="emg", seed=1000,
                         condition="clean")
        x = rec.data[0]
        sd = float(np.median(np.abs(np.diff(x))) / 0.6745 / np.sqrt(2))  # baseline noise
        rng = np.random.default_rng(1000)
        rows = [x + rng.normal(0, sd, x.size) for _ in range(n)]
        names = [f"EMG {k + 1}" for k in range(n)]
    seed = 1000
    while len(rows) < n:
        rec, _ = session(duration=seconds, sfreq=sfreq, layout="emg2", seed=seed,
                         condition="two_muscles")
        for k in range(rec.n_channels):
            if rec.ch_kinds[k] == "emg" and len(rows) < n:
                rows.append(rec.data[k])
                names.append(f"EMG {len(rows)}")
        seed += 1
    out = ltr.Recording(np.array(rows), sfreq, names)
    out.set_channel_kinds(dict.fromkeys(names, "emg"))
    return out


def rtf(seconds: float, shared: bool = True) -> tuple[float, float, int, int]:
    rec = grid_recording(seconds, shared=shared)
    found, det, cpu = stream(rec, round(0.1 * rec.sfreq))
    return seconds / cpu, cpu, len(found), det.decisions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1000-1002", help="e.g. 1000-1004 or 1000,1003")
    ap.add_argument("--names", default=None, help="comma-separated SUITE conditions")
    ap.add_argument("--chunk", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="one seed, 4 conditions")
    ap.add_argument("--rtf-seconds", type=float, default=60.0)
    ap.add_argument("--no-rtf", action="store_true")
    ap.add_argument("--out", default=None)
    ap.add_argument("--quiet", type=float, default=None, help="StreamConfig.quiet")
    ap.add_argument("--context", type=float, default=None, help="StreamConfig.context")
    ap.add_argument("--beat-wait", type=float, default=None, help="StreamConfig.beat_wait")
    ap.add_argument("--no-fuse-late", action="store_true",
                    help="StreamConfig(fuse_late=False): report bursts without waiting for "
                         "their fusion partners")
    a = ap.parse_args()
    if "-" in a.seeds:
        lo, hi = (int(x) for x in a.seeds.split("-"))
        seeds = list(range(lo, hi + 1))
    else:
        seeds = [int(x) for x in a.seeds.split(",")]
    names = a.names.split(",") if a.names else list(SUITE)
    if a.quick:
        seeds, names = seeds[:1], ["clean", "ecg", "fused", "everything"]
    kw = {k: v for k, v in (("quiet", a.quiet), ("context", a.context),
                            ("beat_wait", a.beat_wait)) if v is not None}
    if a.no_fuse_late:
        kw["fuse_late"] = False
    cfg = StreamConfig(**kw)
    out = [f"# The streaming detector against `ltr.detect`\n\n`python benchmarks/live.py "
           f"--seeds {a.seeds} --chunk {a.chunk}`; StreamConfig: {cfg}\n",
           "## Agreement, accuracy and latency per SUITE condition\n",
           "| condition | offline | streamed | agreement F1 | same row | F1 offline | "
           "F1 streamed | gap | latency median / p95 / max (ms) | CPU offline / streamed "
           "(s) |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    allrows: list[dict] = []
    for name in names:
        rows = [one(name, s, a.chunk, cfg) for s in seeds]
        allrows += rows
        lat = np.concatenate([r["latency"] for r in rows]) * 1e3
        n_off = sum(r["agree"]["tp"] + r["agree"]["fn"] for r in rows)
        n_on = sum(r["agree"]["tp"] + r["agree"]["fp"] for r in rows)
        fo, fs = f1(rows, "off"), f1(rows, "on")
        same = np.concatenate([r["same"] for r in rows])
        line = (f"| {name} | {n_off} | {n_on} | {f1(rows, 'agree'):.3f} | "
                f"{same.mean() if same.size else 1.0:.3f} | {fo:.3f} | "
                f"{fs:.3f} | {fo - fs:+.3f} | "
                + (f"{np.median(lat):.0f} / {np.percentile(lat, 95):.0f} / {lat.max():.0f}"
                   if lat.size else "-")
                + f" | {sum(r['t_off'] for r in rows):.1f} / "
                  f"{sum(r['t_on'] for r in rows):.1f} |")
        out.append(line)
        print(line, flush=True)
    lat = np.concatenate([r["latency"] for r in allrows]) * 1e3
    same = np.concatenate([r["same"] for r in allrows])
    out.append(f"| **pooled** | | | {f1(allrows, 'agree'):.3f} | {same.mean():.3f} | "
               f"{f1(allrows, 'off'):.3f} | "
               f"{f1(allrows, 'on'):.3f} | {f1(allrows, 'off') - f1(allrows, 'on'):+.3f} | "
               f"{np.median(lat):.0f} / {np.percentile(lat, 95):.0f} / {lat.max():.0f} | |")
    print(out[-1], flush=True)
    out += ["", "## Chunk-size invariance (fused, 90 s, seed 1000)", "", *invariance()]
    print("\n".join(out[-7:]), flush=True)
    if not a.no_rtf:
        out += ["", "## Real-time factor", "",
                "64 EMG channels at 4 kHz pushed in 100-ms chunks, one core (CPU time):",
                ""]
        for shared, what in ((True, "a grid over one muscle (every twitch on all 64)"),
                             (False, "32 independent two-muscle sessions (32x the "
                                     "twitches)")):
            factor, cpu, n, dec = rtf(a.rtf_seconds, shared)
            out.append(f"- {what}, {a.rtf_seconds:g} s: {cpu:.2f} s of CPU, **{factor:.1f}x "
                       f"real time** ({n} twitches, {dec} runs of the front end)")
            print(out[-1], flush=True)
    if a.out:
        Path(a.out).write_text("\n".join(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
