"""The shipped sample recordings are what their README says, and reproducible."""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pytest

import ltr
from ltr.cli import main
from ltr.simulate import Truth

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"


def _commands():
    out = []
    for line in (RECORDINGS / "README.md").read_text().splitlines():
        if "`ltr simulate -o " in line:
            out.append(line.split("`ltr simulate")[1].split("`")[0])
    return out


def test_every_sample_is_documented_and_small():
    documented = {shlex.split(c)[1] for c in _commands()}
    shipped = {f"recordings/{p.name}" for p in RECORDINGS.iterdir()
               if p.suffix in (".edf", ".h5", ".bdf", ".csv", ".fif")}
    assert documented == shipped
    for p in RECORDINGS.iterdir():
        assert p.stat().st_size < 2 * 1024 * 1024, p.name


@pytest.mark.parametrize("args", _commands())
def test_samples_regenerate_identically(args, tmp_path):
    argv = shlex.split(args)
    target = RECORDINGS / Path(argv[1]).name
    argv[1] = str(tmp_path / target.name)
    assert main(["simulate", *argv]) == 0
    shipped, fresh = ltr.read(target).data, ltr.read(argv[1]).data
    # Not bit for bit: numpy/scipy builds (SIMD sums, libm) differ in the last ULP, and
    # filters carry that along (seen: 1 ULP in 1.9 % of samples, 5.6e-13 relative).
    # 1e-9 of each channel's full scale is far below any quantisation a file applies.
    scale = np.abs(shipped).max(axis=1, keepdims=True)
    np.testing.assert_allclose(fresh, shipped, rtol=0, atol=1e-9 * scale.max())
    assert (np.abs(fresh - shipped) <= 1e-9 * scale).all()
    stem = target.name.rsplit(".", 1)[0]
    a = Truth.from_json(RECORDINGS / f"{stem}.truth.json").to_dict()
    b = Truth.from_json(tmp_path / f"{stem}.truth.json").to_dict()
    a["info"].pop("generator")
    b["info"].pop("generator")
    _assert_close_tree(b, a, path=stem)
    _assert_same_table(tmp_path / f"{stem}.events.tsv", RECORDINGS / f"{stem}.events.tsv")


# Truth values (SNRs, amplitudes, onsets) are computed from the signal: the same last-ULP
# differences as above, so numbers match to 1e-9 relative, everything else exactly.
_RTOL = 1e-9


def _assert_close_tree(got, want, path: str) -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), path
        for k in want:
            _assert_close_tree(got[k], want[k], f"{path}.{k}")
    elif isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _assert_close_tree(g, w, f"{path}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert got == pytest.approx(want, rel=_RTOL, abs=1e-12, nan_ok=True), path
    else:
        assert got == want, path


def _assert_same_table(got: Path, want: Path) -> None:
    """Two TSVs with the same cells; numeric cells may differ in the last printed digit."""
    rows_g = [line.split("\t") for line in got.read_text().splitlines()]
    rows_w = [line.split("\t") for line in want.read_text().splitlines()]
    assert len(rows_g) == len(rows_w), got.name
    for i, (g, w) in enumerate(zip(rows_g, rows_w, strict=True)):
        assert len(g) == len(w), f"{got.name} line {i + 1}"
        for a, b in zip(g, w, strict=True):
            try:
                fa, fb = float(a), float(b)
            except ValueError:
                assert a == b, f"{got.name} line {i + 1}"
                continue
            # cells are printed with a fixed number of decimals: one unit in the last place
            decimals = len(b.split(".")[1]) if "." in b else 0
            assert abs(fa - fb) <= 10.0 ** -decimals * 1.0001 + _RTOL * abs(fb), \
                f"{got.name} line {i + 1}: {a} vs {b}"
