"""Channel-wide estimates: saturation rails as exact reductions, block by block."""

from __future__ import annotations

import numpy as np
import pytest

from ltr.detect.plan import below, extremes, merge_counts, needs_below, rails, rails_from


def _brute(x: np.ndarray) -> tuple[float | None, float | None]:
    f = x[np.isfinite(x)]
    out = []
    for sign in (1.0, -1.0):
        v = sign * f
        top = v.max()
        n_top = np.count_nonzero(v == top)
        rest = v[v < top]
        n_next = np.count_nonzero(v == rest.max()) if rest.size else 0
        out.append(sign * top if n_top >= 3 and n_top > 4 * n_next else None)
    return out[0], out[1]


@pytest.mark.parametrize("seed", range(6))
def test_rails_are_exact_whole_and_in_blocks(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50_000, 400_000))
    x = np.round(rng.normal(size=n) * rng.choice([5, 50, 5000]))
    if seed % 2:  # a saturated amplifier: values pile up on both rails
        x = np.clip(x, -rng.integers(2, 8), rng.integers(2, 8))
    x[rng.integers(0, n, 7)] = np.nan
    want = _brute(x)
    assert rails(x) == want
    # the two-stage reduction over blocks, as a long file is read
    blocks = np.array_split(x, 7)
    tops = extremes(blocks[0])
    for b in blocks[1:]:
        tops = merge_counts(tops, extremes(b))
    nexts = None
    if needs_below(tops):
        nexts = below(blocks[0], tops)
        for b in blocks[1:]:
            nexts = merge_counts(nexts, below(b, tops))
    assert rails_from(tops, nexts) == want
    if seed % 2:
        assert want != (None, None)
