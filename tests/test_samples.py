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
    np.testing.assert_array_equal(fresh, shipped)
    stem = target.name.rsplit(".", 1)[0]
    a = Truth.from_json(RECORDINGS / f"{stem}.truth.json").to_dict()
    b = Truth.from_json(tmp_path / f"{stem}.truth.json").to_dict()
    a["info"].pop("generator")
    b["info"].pop("generator")
    assert a == b
    assert (RECORDINGS / f"{stem}.events.tsv").read_text() == \
        (tmp_path / f"{stem}.events.tsv").read_text()
