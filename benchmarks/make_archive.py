"""Make the batch benchmark's archive: N simulated recordings, 5 % of them broken.

    python benchmarks/make_archive.py /tmp/archive200 --n 200 --duration 600
    /usr/bin/time -v ltr batch /tmp/archive200 -o /tmp/out --n-jobs 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import ltr
from ltr.simulate import session


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("folder")
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--duration", type=float, default=600.0)
    args = p.parse_args()
    root = Path(args.folder)
    root.mkdir(parents=True, exist_ok=True)
    bad = set(np.random.default_rng(0).choice(args.n, max(1, args.n // 20),
                                              replace=False).tolist())
    for i in range(args.n):
        path = root / f"s{i:03d}.h5"
        rec, _ = session(args.duration, 2000, "emg", seed=5000 + i)
        ltr.write_hdf5(rec, path, dtype="float32", overwrite=True)
        if i in bad:  # empty, truncated, or a CSV with no EMG in it
            if i % 3 == 0:
                path.write_bytes(b"")
            elif i % 3 == 1:
                path.write_bytes(path.read_bytes()[:20000])
            else:
                path.unlink()
                (root / f"s{i:03d}.csv").write_text(
                    "time,temperature\n" + "\n".join(f"{k / 10},36.6" for k in range(100)))
    print(f"{args.n} recordings in {root}, broken: {sorted(bad)}")


if __name__ == "__main__":
    main()
