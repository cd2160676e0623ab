"""Write a long multi-channel recording for the streaming and memory benchmarks.

    python benchmarks/make_long.py /tmp/long4h.edf --hours 4 --channels 16
    python benchmarks/make_long.py /tmp/long4h.h5 --hours 4 --channels 16
    /usr/bin/time -v ltr detect /tmp/long4h.edf -o /tmp/events.tsv

The EDF is written record by record (16-bit, 1-s records), never held in memory: ten
simulated minutes per channel are tiled to the requested length. With 4 or more
channels the last three are a skin accelerometer (X, Y, Z) beside the first EMG
channel. An ``.h5``/``.bdf`` target is written from a temporary EDF through
:func:`ltr.read` (lazy) and :func:`ltr.write_hdf5` / :func:`ltr.write_edf`.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import ltr
from ltr.simulate import session

BASE = 600.0  # seconds simulated per channel, then tiled


def _field(value: object, width: int) -> bytes:
    text = str(value)
    if len(text) > width:
        text = text[:width]
    return text.ljust(width).encode("ascii")


def base_signals(channels: int, sfreq: float, seed: int = 0) -> tuple[list[str], np.ndarray,
                                                                      list[str]]:
    """``channels`` simulated signals of :data:`BASE` s: names, data (SI), EDF units."""
    names, rows, units = [], [], []
    n_emg = channels - 3 if channels >= 4 else channels
    if channels >= 4:
        rec, _ = session(BASE, sfreq, "emg+acc", seed)
        names.append("EMG 1")
        rows.append(rec.get_data(picks="emg")[0])
        units.append("uV")
        acc = rec.get_data(picks="acc")
    for i in range(len(rows), n_emg):
        rec, _ = session(BASE, sfreq, "emg", seed + 1 + i)
        names.append(f"EMG {i + 1}")
        rows.append(rec.get_data()[0])
        units.append("uV")
    if channels >= 4:
        for axis, row in zip("XYZ", acc, strict=True):
            names.append(f"ACC {axis}")
            rows.append(row)
            units.append("m/s^2")
    return names, np.vstack(rows), units


def write_long_edf(path: Path, hours: float, channels: int, sfreq: float) -> Path:
    """Write the tiled recording as EDF, one 1-s record at a time."""
    if sfreq != int(sfreq):
        raise ValueError("the EDF writer here needs an integer rate")
    fs = int(sfreq)
    names, base, units = base_signals(channels, sfreq)
    scale = np.array([1e6 if u == "uV" else 1.0 for u in units])
    phys = base * scale[:, None]
    pmax = np.ceil(np.abs(phys).max(axis=1) * 1.05 + 1e-9)
    n_rec = round(hours * 3600)
    ns = len(names)
    head = b"".join([
        _field(0, 8), _field("X X X X", 80), _field("Startdate 01-JAN-2026 X X X", 80),
        _field("01.01.26", 8), _field("00.00.00", 8), _field(256 * (ns + 1), 8),
        _field("", 44), _field(n_rec, 8), _field(1, 8), _field(ns, 4)])
    sig = b"".join(
        [b"".join(_field(n, 16) for n in names),
         b"".join(_field("", 80) for _ in names),
         b"".join(_field(u, 8) for u in units),
         b"".join(_field(-int(m), 8) for m in pmax),
         b"".join(_field(int(m), 8) for m in pmax),
         b"".join(_field(-32768, 8) for _ in names),
         b"".join(_field(32767, 8) for _ in names),
         b"".join(_field("", 80) for _ in names),
         b"".join(_field(fs, 8) for _ in names),
         b"".join(_field("", 32) for _ in names)])
    gain = 65535.0 / (2 * pmax)
    digital = np.clip(np.round((phys + pmax[:, None]) * gain[:, None] - 32768), -32768,
                      32767).astype("<i2")
    per_base = digital.shape[1] // fs
    with open(path, "wb") as f:
        f.write(head + sig)
        for r in range(n_rec):  # a loop over 1-s records, each written at once
            k = r % per_base
            f.write(np.ascontiguousarray(digital[:, k * fs:(k + 1) * fs]).tobytes())
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("path")
    p.add_argument("--hours", type=float, default=4.0)
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--sfreq", type=float, default=2000.0)
    args = p.parse_args()
    out = Path(args.path)
    if out.suffix.lower() == ".edf":
        write_long_edf(out, args.hours, args.channels, args.sfreq)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            edf = write_long_edf(Path(tmp) / "long.edf", args.hours, args.channels,
                                 args.sfreq)
            rec = ltr.read(edf)
            if out.suffix.lower() in (".h5", ".hdf5"):
                ltr.write_hdf5(rec, out, dtype="float32", compression=None, overwrite=True)
            else:
                raise SystemExit(f"{out}: write .edf or .h5")
    print(out, f"{out.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
