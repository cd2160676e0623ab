"""Fuzzing the readers (issue 14): mutated files end in a result or an ltr.ReadError.

Seed files of nine reader families (EDF/BDF, BrainVision, FIF, HDF5, NPZ, text and WFDB
written here; C3D and BIOPAC from the real files in ``../shared/data``) are mutated
(truncation, byte flips, header-field edits, huge declared sizes, non-ASCII labels, zero
channels, one sample) and read, then detected on, in a worker process under a 4 GB
address-space limit and a 20 s alarm, so that a hang, a memory blow-up or a crash is
counted rather than fatal. Every case must end in a recording (and a detection, or the
detector's ValueError) or in an :class:`ltr.ReadError` naming the file.

A few hundred cases run with the suite; ``pytest -m slow tests/test_fuzz_readers.py``
runs 1,200 per family (10,800). ``LTR_FUZZ_CASES`` overrides the count per family and
``LTR_FUZZ_REPORT=path.json`` writes the counts per family and outcome.
"""

from __future__ import annotations

import json
import os
import random
import re
import select
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED, make_recording
from hostile_files import brainvision
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

import ltr

FAMILIES = ["edf", "brainvision", "fif", "hdf5", "npz", "text", "wfdb", "c3d", "biopac"]
MUTATIONS = ["truncate", "flip", "field", "huge", "labels", "zero_channels", "one_sample"]
#: Bounds of one case, as in the issue: the worker's address space and an alarm.
MEMORY_LIMIT = 4 * 2**30
ALARM_S = 20
CI_CASES = 24  # per family: 216 cases with the suite
SLOW_CASES = 1200  # per family: 10,800 behind the slow marker
#: How a case may end: a result, or an ltr error naming the file.
ACCEPTED = {"ok", "ltr_error"}
NASTY_NUMBERS = ["0", "-1", "1", "1e308", "-1e308", "inf", "nan", "99999999", "2147483648",
                 "9223372036854775808", "-2147483649", "1e-9", "", "x", "\u00e9", "0.0",
                 "65535", "4294967295", "1e10", "-0"]


# -- seed files ---------------------------------------------------------------------------
def _wfdb(d: Path) -> Path:
    x = (np.sin(np.arange(4000) / 7) * 800).astype("<i2")
    (d / "rec.dat").write_bytes(np.vstack([x, x // 2]).T.tobytes())
    (d / "rec.hea").write_text("rec 2 1000 4000\nrec.dat 16 1000(0)/mV 16 0 0 0 0 EMG\n"
                               "rec.dat 16 100(0)/mV 16 0 0 0 0 ACC\n")
    return d / "rec.hea"


def _write(d: Path, name: str) -> Path:
    ltr.write(make_recording(), d / name)
    return d / name


def _npz(d: Path) -> Path:
    from ltr.io import write_npz

    write_npz(make_recording(), d / "rec.npz")
    return d / "rec.npz"


def _npz_stored(d: Path) -> Path:  # not deflated: mutations reach the .npy headers
    rec = make_recording()
    np.savez(d / "rec.npz", data=rec.data, sfreq=rec.sfreq, ch_names=list(rec.ch_names),
             units=list(rec.units))
    return d / "rec.npz"


def _shared(d: Path, rel: str) -> Path:
    src = SHARED / rel
    shutil.copy(src, d / src.name)
    return d / src.name


SEEDS = {
    "edf": [lambda d: _write(d, "rec.edf"), lambda d: _write(d, "rec.bdf")],
    "brainvision": [brainvision],
    "fif": [lambda d: _write(d, "rec.fif")],
    "hdf5": [lambda d: _write(d, "rec.h5")],
    "npz": [_npz, _npz_stored],
    "text": [lambda d: _write(d, "rec.csv"), lambda d: _write(d, "rec.tsv")],
    "wfdb": [_wfdb],
    "c3d": [lambda d: _shared(d, "c3d_pyomeca/markers_analogs.c3d")],
    "biopac": [lambda d: _shared(d, "biopac_acq/r42_test.acq"),
               lambda d: _shared(d, "biopac_acq/physio-5.0.1.acq")],
}


# -- mutations ----------------------------------------------------------------------------
_NUMBER = re.compile(rb"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?")
_WORD = re.compile(rb"[A-Za-z][A-Za-z ]{2,}")


def _header_pos(rnd: random.Random, size: int) -> int:
    """Half the time within the first 2 KB (headers), else anywhere."""
    return rnd.randrange(min(size, 2048)) if rnd.random() < 0.5 else rnd.randrange(size)


def _edit_numbers(rnd: random.Random, raw: bytes, values: list[str]) -> bytes:
    spans = [m.span() for m in _NUMBER.finditer(raw[:8192])]
    if not spans:
        return _flip(rnd, raw)
    b = bytearray(raw)
    for _ in range(rnd.randint(1, 3)):
        lo, hi = rnd.choice(spans)
        new = rnd.choice(values).encode("utf-8")
        if rnd.random() < 0.7:  # fixed-width layouts (EDF): keep the width
            new = new[: hi - lo].ljust(hi - lo)
        b[lo:hi] = new
        if len(new) != hi - lo:
            break  # the other spans moved
    return bytes(b)


def _flip(rnd: random.Random, raw: bytes) -> bytes:
    b = bytearray(raw)
    for _ in range(rnd.randint(1, 8)):
        b[_header_pos(rnd, len(b))] ^= 1 << rnd.randrange(8)
    return bytes(b)


def _huge(rnd: random.Random, raw: bytes) -> bytes:
    if rnd.random() < 0.5:  # a text size field
        return _edit_numbers(rnd, raw, ["99999999", "2147483647", "4294967295", "1e9",
                                        "1e18", "9999999999999"])
    b = bytearray(raw)  # a binary size field: a large integer at an aligned offset
    value = rnd.choice([0x7FFFFFFF, 0xFFFFFFFF, 0x7FFF, 0xFFFF, 0x40000000, 10**9])
    width = 4 if value > 0xFFFF else 2
    pos = _header_pos(rnd, max(1, len(b) - width)) & ~(width - 1)
    b[pos:pos + width] = value.to_bytes(width, rnd.choice(["little", "big"]))
    return bytes(b)


def _labels(rnd: random.Random, raw: bytes) -> bytes:
    spans = [m.span() for m in _WORD.finditer(raw[:8192])]
    if not spans:
        return _flip(rnd, raw)
    b = bytearray(raw)
    for _ in range(rnd.randint(1, 3)):
        lo, hi = rnd.choice(spans)
        junk = rnd.choice(["\u00b5\u00e9\u00df", "\u03a9\u20ac\u2603", "\x00\x01", "\ufffd"])
        new = (junk * (hi - lo)).encode(rnd.choice(["utf-8", "latin-1"]), "replace")
        b[lo:hi] = new[: hi - lo] if rnd.random() < 0.7 else new
    return bytes(b)


def _structural(rnd: random.Random, family: str, target: Path, raw: bytes,
                zero: bool) -> bytes:
    """Zero channels or one sample, by rewriting the seed where the format allows."""
    if family == "npz":
        shape = (0, 4000) if zero else (5, 1)
        with np.load(target) as f:
            arrays = dict(f)
        arrays["data"] = np.zeros(shape) if zero else arrays["data"][:, :1]
        if zero:
            for k in ("ch_names", "ch_kinds", "units"):
                if k in arrays:
                    arrays[k] = arrays[k][:0]
        np.savez(target, **arrays)
        return target.read_bytes()
    if family == "hdf5":
        import h5py

        with h5py.File(target, "a") as f:
            data = f["data"][()]
            del f["data"]
            f.create_dataset("data", data=data[:0] if zero else data[:, :1])
            if zero:
                for k in list(f["channels"]):
                    del f["channels"][k]
        return target.read_bytes()
    if family == "text":
        lines = raw.decode("utf-8", "replace").splitlines()
        first = next((i for i, ln in enumerate(lines) if ln[:1].isdigit() or
                      ln[:1] == "-"), len(lines))
        keep = lines[:first] if zero else lines[:first + 1]
        return ("\n".join(keep) + "\n").encode()
    if family == "edf":
        b = bytearray(raw)
        if zero:
            b[252:256] = b"0   "
        else:
            b[236:244] = b"1".ljust(8)
        return bytes(b)
    if family == "wfdb" and target.suffix == ".hea":
        f = raw.decode().split("\n")
        parts = f[0].split()
        if zero:
            parts[1] = "0"
        else:
            parts[3] = "1"
        return "\n".join([" ".join(parts), *f[1:]]).encode()
    if family == "brainvision" and target.suffix == ".vhdr":
        text = raw.decode("utf-8")
        if zero:
            return re.sub(r"NumberOfChannels=\d+", "NumberOfChannels=0", text).encode()
        return text.encode()  # one sample: the .eeg is cut below
    if family == "brainvision" and target.suffix == ".eeg" and not zero:
        return raw[:4]
    return _edit_numbers(rnd, raw, ["0"] if zero else ["1"])


def mutate(rnd: random.Random, family: str, mutation: str, case: Path) -> Path:
    """Mutate one file of the seed copied into ``case``; return the file to read."""
    files = sorted(p for p in case.iterdir())
    main = next(p for p in files if p.suffix in (".vhdr", ".hea") or len(files) == 1)
    others = [p for p in files if p != main]
    target = main if not others or rnd.random() < 0.7 else rnd.choice(others)
    raw = target.read_bytes()
    if mutation == "truncate":
        new = raw[:_header_pos(rnd, len(raw))]
    elif mutation == "flip":
        new = _flip(rnd, raw)
    elif mutation == "field":
        new = _edit_numbers(rnd, raw, NASTY_NUMBERS)
    elif mutation == "huge":
        new = _huge(rnd, raw)
    elif mutation == "labels":
        new = _labels(rnd, raw)
    else:
        new = _structural(rnd, family, target, raw, zero=mutation == "zero_channels")
    target.write_bytes(new)
    return main


#: Cases the fuzz suite found (family -> (mutation, seed, seed file)), run first in every
#: campaign as hypothesis examples. They reproduce as long as :func:`mutate` is unchanged.
REGRESSIONS = {
    # bioread: a corrupt point count allocated 3.4 GiB; header counts looped for hours
    "biopac": [("labels", 38460972, 0), ("huge", 553, 1), ("labels", 4294967294, 1),
               ("labels", 341, 1), ("field", 536343, 1), ("huge", 274, 1)],
    # MNE: NumberOfChannels=4294967295 allocated past the 4 GB bound
    "brainvision": [("field", 555, 0)],
}


# -- the worker ---------------------------------------------------------------------------
class Worker:
    """A persistent worker process (tests/fuzz_worker.py), restarted after a hang or crash."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None

    def _start(self) -> None:
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   MKL_NUM_THREADS="1", PYTHONWARNINGS="ignore")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("fuzz_worker.py")),
             str(MEMORY_LIMIT), str(ALARM_S)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, env=env)
        assert self._readline(120) == "ready"

    def _readline(self, timeout: float) -> str | None:
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        return line.strip() if line else None

    def run(self, path: Path, where: Path, detect: bool = True) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        assert self.proc is not None and self.proc.stdin is not None
        request = {"path": str(path), "where": str(where), "detect": detect}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self._readline(ALARM_S + 30)  # the alarm fires first unless C code blocks it
        if line is None:
            rc = self.proc.poll()
            self.close()
            return {"outcome": "hang" if rc is None else "crash", "returncode": rc}
        return json.loads(line)

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe is not None:
                    pipe.close()
            self.proc = None


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.close()


COUNTS: dict[str, Counter] = {}


def campaign(family: str, n: int, worker: Worker, root: Path) -> list[dict]:
    """Run ``n`` hypothesis-drawn cases of ``family``; return the failed ones (their
    mutated files kept under ``root``)."""
    seeds = root / "seeds"
    seeds.mkdir(exist_ok=True)
    builders = SEEDS[family]
    seed_dirs = []
    for i, build in enumerate(builders):
        d = seeds / f"{family}{i}"
        if not d.exists():
            d.mkdir()
            build(d)
        seed_dirs.append(d)
    counts = COUNTS.setdefault(family, Counter())
    failures: list[dict] = []
    done = [0]

    @settings(max_examples=n, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate],  # no shrinking: each case counted
              suppress_health_check=list(HealthCheck))
    @given(mutation=st.sampled_from(MUTATIONS), seed=st.integers(0, 2**32 - 1),
           which=st.integers(0, len(seed_dirs) - 1))
    def one(mutation: str, seed: int, which: int) -> None:
        done[0] += 1
        case = root / f"{family}-{done[0]}-{mutation}-{seed}"
        shutil.copytree(seed_dirs[which], case)
        path = mutate(random.Random(seed), family, mutation, case)
        result = worker.run(path, case)
        counts[result["outcome"]] += 1
        counts["cases"] += 1
        if result["outcome"] in ACCEPTED:
            shutil.rmtree(case)
        else:
            failures.append({"case": str(case), "mutation": mutation, **result})

    for mutation, seed, which in REGRESSIONS.get(family, []):
        one = example(mutation=mutation, seed=seed, which=which)(one)
    one()
    report = os.environ.get("LTR_FUZZ_REPORT")
    if report:
        Path(report).write_text(json.dumps({k: dict(v) for k, v in COUNTS.items()},
                                           indent=1))
    return failures


def _needs_data(family: str, request: pytest.FixtureRequest) -> None:
    if family in ("c3d", "biopac"):
        request.getfixturevalue("shared_data")  # skips when ../shared/data is absent
    module = {"c3d": "c3d", "biopac": "bioread", "wfdb": "wfdb", "hdf5": "h5py"}.get(family)
    if module:
        pytest.importorskip(module)


def _describe(failures: list[dict]) -> str:
    return "\n".join(f"{f['outcome']} {f.get('stage', '')} {f.get('type', '')}: "
                     f"{f.get('message', '')[:160]} [{f['case']}]" for f in failures[:20])


@pytest.mark.parametrize("family", FAMILIES)
def test_fuzz_readers(family, worker, tmp_path, request):
    _needs_data(family, request)
    n = int(os.environ.get("LTR_FUZZ_CASES", CI_CASES))
    failures = campaign(family, n, worker, tmp_path)
    assert not failures, f"{len(failures)} of {n} {family} cases failed:\n" + \
        _describe(failures)


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_fuzz_readers_slow(family, worker, tmp_path, request):
    _needs_data(family, request)
    n = int(os.environ.get("LTR_FUZZ_CASES", SLOW_CASES))
    failures = campaign(family, n, worker, tmp_path)
    assert not failures, f"{len(failures)} of {n} {family} cases failed:\n" + \
        _describe(failures)


@pytest.mark.parametrize("family", FAMILIES)
def test_seed_files_read(family, worker, tmp_path, request):
    """Unmutated, every seed reads and is detected on: failures come from the mutations."""
    _needs_data(family, request)
    for i, build in enumerate(SEEDS[family]):
        d = tmp_path / str(i)
        d.mkdir()
        result = worker.run(build(d), d)
        # a recording without EMG or acceleration (a BIOPAC EDA file) is refused by detect
        assert result["outcome"] == "ok" or result["stage"] == "detect", result


def test_worker_counts_a_hang_and_a_blow_up(tmp_path, worker, monkeypatch):
    """The harness can fail: an alarm and the address-space limit are seen by the worker."""
    from fuzz_worker import run_case

    path = tmp_path / "rec.npz"
    np.savez(path, data=np.zeros((1, 10)), sfreq=1000.0)
    import ltr.io

    def slow(*_a, **_k):
        while True:
            pass

    def greedy(*_a, **_k):
        raise MemoryError

    monkeypatch.setitem(ltr.io.READERS, ".npz", ("NPZ", slow))
    import signal

    from fuzz_worker import _on_alarm
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        assert run_case(str(path), str(tmp_path), False, 1)["outcome"] == "hang"
    finally:
        signal.signal(signal.SIGALRM, previous)
    monkeypatch.setitem(ltr.io.READERS, ".npz", ("NPZ", greedy))
    assert run_case(str(path), str(tmp_path), False, 1)["outcome"] == "memory"
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04" + bytes(40))
    monkeypatch.undo()
    assert run_case(str(bad), str(tmp_path), False, 5)["outcome"] == "ltr_error"
