"""Saturation rails as exact reductions, whole and block by block."""

from __future__ import annotations

import numpy as np
import pytest

from ltr.quality import merge_top_two, rails, rails_of, top_two


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
    # summaries of consecutive blocks combine into the whole's, as a long file is read
    blocks = np.array_split(x, 7)
    stats = top_two(blocks[0])
    for b in blocks[1:]:
        stats = merge_top_two(stats, top_two(b))
    np.testing.assert_array_equal(stats, top_two(x))
    assert rails_of(stats) == want
    if seed % 2:
        assert want != (None, None)
