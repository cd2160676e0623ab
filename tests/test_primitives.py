"""The detector's array primitives against plain-loop references (hypothesis-drawn inputs).

Random floats make exact ties (a value equal to a threshold) improbable, so the
vectorized and looped forms must agree exactly on indices; float results agree within
1e-9 relative (cumulative sums versus direct sums round differently).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ltr.detect.core import (
    MovingSums,
    at_blocks,
    block_floor,
    hysteresis_blocks,
    interp_blocks,
    merge_close,
    place_edges,
    runs,
)

SETTINGS = settings(max_examples=60, deadline=None)
RTOL = 1e-9  # cumulative-sum differences versus direct window sums


def _signal(seed: int, n: int, nan_frac: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n) ** 2
    if nan_frac:
        x[rng.random(n) < nan_frac] = np.nan
    return x


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(1, 300), half=st.integers(0, 40),
       gaps=st.sampled_from([0.0, 0.2]))
def test_moving_sums_equal_window_loops(seed, n, half, gaps):
    v = _signal(seed, n, gaps)
    s = MovingSums(v)
    want_sum = np.array([np.nansum(v[max(0, i - half): i + half + 1]) for i in range(n)])
    counts = np.array([np.isfinite(v[max(0, i - half): i + half + 1]).sum()
                       for i in range(n)])
    with np.errstate(invalid="ignore", divide="ignore"):
        want_mean = np.where(counts > 0, want_sum / np.maximum(counts, 1), np.nan)
    np.testing.assert_allclose(s.sum(half), want_sum, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(s.mean(half), want_mean, rtol=RTOL, atol=1e-12,
                               equal_nan=True)
    for step in (1, 3, 7):
        np.testing.assert_allclose(s.mean_grid(half, step), want_mean[::step], rtol=RTOL,
                                   atol=1e-12, equal_nan=True)
        if not gaps:
            np.testing.assert_allclose(s.sum_grid(half, step), want_sum[::step],
                                       rtol=RTOL, atol=1e-12)
    idx = np.arange(0, n, 5)
    np.testing.assert_allclose(s.mean_at(idx, half), want_mean[idx], rtol=RTOL,
                               atol=1e-12, equal_nan=True)


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(50, 400), reach=st.integers(0, 10))
def test_moving_sums_refresh_equals_a_rebuild(seed, n, reach):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    s = MovingSums(x * x)
    starts = np.sort(rng.choice(n - 5, 3, replace=False))
    stops = starts + rng.integers(1, 5, 3)
    y = x.copy()
    for a, b in zip(starts, stops, strict=True):
        y[a:b] = rng.normal(0, 5, b - a)
    s.refresh(y, starts, stops, reach)
    np.testing.assert_allclose(s.cs, MovingSums(y * y).cs, rtol=RTOL, atol=1e-9)


def _running_median_loop(values: np.ndarray, k: int) -> np.ndarray:
    half = k // 2
    out = np.full(values.size, np.nan)
    for i in range(values.size):
        w = values[max(0, i - half): i + half + 1]
        w = w[np.isfinite(w)]
        if w.size:
            out[i] = np.median(w)
    return out


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(1, 2000), b=st.integers(1, 200),
       points=st.sampled_from([8, 64]), blocks_in_window=st.integers(1, 12),
       gaps=st.sampled_from([0.0, 0.3]))
def test_block_floor_equals_a_loop_over_blocks(seed, n, b, points, blocks_in_window, gaps):
    env = _signal(seed, n, gaps)
    block = 0.5
    window = blocks_in_window * block
    floor, spread = block_floor(env, b, window, block, spread=True, points=points)
    step = max(1, -(-b // points))
    per = -(-b // step)
    nb = -(-n // b)
    med = np.full(nb, np.nan)
    mad = np.full(nb, np.nan)
    for j in range(nb):  # the reference: one block at a time
        vals = env[j * b: (j + 1) * b: step]
        vals = vals[np.isfinite(vals) & (vals > 0)]
        if vals.size >= max(1, per // 4):
            med[j] = np.median(vals)
            mad[j] = 1.4826 * np.median(np.abs(vals - med[j]))
    k = max(1, round(window / block))
    k += 1 - k % 2
    np.testing.assert_allclose(floor, _running_median_loop(med, k), rtol=RTOL,
                               equal_nan=True)
    np.testing.assert_allclose(spread, _running_median_loop(mad, k), rtol=RTOL,
                               equal_nan=True)


def _hysteresis_loop(env2, on, off):
    """Runs where env2 > off that somewhere exceed on (one sample at a time)."""
    starts, stops = [], []
    i, n = 0, env2.size
    while i < n:
        if env2[i] > off[i]:
            j = i
            while j < n and env2[j] > off[j]:
                j += 1
            if np.any(env2[i:j] > on[i:j]):
                starts.append(i)
                stops.append(j)
            i = j
        else:
            i += 1
    return np.array(starts, int), np.array(stops, int)


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(2, 600), b=st.integers(1, 60),
       ratio=st.floats(1.0, 3.0))
def test_hysteresis_blocks_equals_a_sample_loop(seed, n, b, ratio):
    rng = np.random.default_rng(seed)
    env2 = rng.gamma(1.0, 1.0, n)
    nb = -(-n // b)
    off2 = rng.uniform(0.8, 1.5, nb)
    on2 = off2 * ratio
    got = hysteresis_blocks(env2, on2, off2, b)
    want = _hysteresis_loop(env2, interp_blocks(on2, b, n), interp_blocks(off2, b, n))
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@SETTINGS
@given(mask=st.lists(st.booleans(), max_size=80))
def test_runs_equal_a_loop(mask):
    m = np.array(mask, bool)
    starts, stops = [], []
    for i, v in enumerate(mask):
        if v and (i == 0 or not mask[i - 1]):
            starts.append(i)
        if v and (i == len(mask) - 1 or not mask[i + 1]):
            stops.append(i + 1)
    got = runs(m)
    assert list(got[0]) == starts and list(got[1]) == stops


def _regions(draw_lengths):
    """Sorted, non-overlapping regions from (gap, length) pairs."""
    starts, stops, t = [], [], 0
    for gap, length in draw_lengths:
        t += gap
        starts.append(t)
        t += length
        stops.append(t)
    return np.array(starts, int), np.array(stops, int)


REGIONS = st.lists(st.tuples(st.integers(0, 30), st.integers(1, 30)), max_size=15)


@SETTINGS
@given(pairs=REGIONS, gap=st.integers(0, 20))
def test_merge_close_equals_a_loop(pairs, gap):
    starts, stops = _regions(pairs)
    out: list[list[int]] = []
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
        if out and a - out[-1][1] < gap:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    got = merge_close(starts, stops, gap)
    assert [list(x) for x in zip(*got, strict=True)] == out


@SETTINGS
@given(starts=st.lists(st.integers(0, 200), min_size=1, max_size=12),
       lengths=st.lists(st.integers(1, 40), min_size=12, max_size=12),
       gap=st.integers(0, 10))
def test_merge_close_joins_overlapping_and_nested_regions(starts, lengths, gap):
    """Regions sorted by start only (a short one inside a long one): as a sample mask."""
    a = np.sort(np.array(starts))
    b = a + np.array(lengths[: a.size])
    on, off = merge_close(a, b, gap)
    covered = np.zeros(300, bool)
    for x, y in zip(a, b, strict=True):
        covered[x:y] = True
    # every region lies inside one merged region, merged regions are gap apart
    for x, y in zip(a, b, strict=True):
        k = np.searchsorted(on, x, side="right") - 1
        assert on[k] <= x and y <= off[k]
    assert np.all(on[1:] - off[:-1] >= gap)
    assert covered[on].all() and covered[off - 1].all()


@SETTINGS
@given(pairs=REGIONS, seed=st.integers(0, 10_000), reach=st.integers(0, 15),
       density=st.floats(0.0, 0.5))
def test_place_edges_equals_a_loop(pairs, seed, reach, density):
    starts, stops = _regions(pairs)
    n = int(stops[-1]) + 20 if stops.size else 20
    rng = np.random.default_rng(seed)
    true = np.flatnonzero(rng.random(n) < density)
    on, off = place_edges(true, n, starts, stops, reach)
    for k, (a, b) in enumerate(zip(starts.tolist(), stops.tolist(), strict=True)):
        first = [t for t in true if max(a - reach, 0) <= t < b]
        last = [t for t in true if a <= t < min(b + reach, n)]
        want_on = first[0] if first else a
        want_off = last[-1] + 1 if last else b
        if want_off <= want_on:
            want_on, want_off = a, b
        assert (on[k], off[k]) == (want_on, want_off), k


@SETTINGS
@given(seed=st.integers(0, 10_000), nb=st.integers(1, 30), b=st.integers(1, 50),
       extra=st.integers(-49, 49), nan_frac=st.sampled_from([0.0, 0.3]))
def test_interp_blocks_and_at_blocks_equal_np_interp_between_centres(seed, nb, b, extra,
                                                                    nan_frac):
    rng = np.random.default_rng(seed)
    values = rng.uniform(1, 2, nb)
    values[rng.random(nb) < nan_frac] = np.nan
    n = max(1, nb * b + extra)
    good = np.isfinite(values)
    centres = (np.arange(nb) + 0.5) * b
    if not good.any():
        assert np.isnan(interp_blocks(values, b, n)).all()
        return
    # NaN blocks are filled from their neighbours first (as np.interp over the good ones)
    filled = np.interp(np.arange(nb), np.flatnonzero(good), values[good])
    want = np.interp(np.arange(n), centres, filled)
    np.testing.assert_allclose(interp_blocks(values, b, n), want, rtol=RTOL)
    idx = rng.integers(0, n, 20)
    np.testing.assert_allclose(at_blocks(values, b, idx), want[idx], rtol=RTOL)


def _causal_onsets_loop(raw, x, sfreq, edges, order, onset, offset, limit, half, max_lead,
                        gap, ratio):
    """The forward-filter onset check one candidate at a time (the form it had before
    the windows were filtered together)."""
    from scipy import signal

    from ltr.preprocess import butter_sos

    out = onset.copy()
    sos = butter_sos(order, edges, "bandpass", sfreq)
    reach, lead, n = int(0.25 * sfreq), max(1, round(max_lead * sfreq)), raw.size
    for i in range(onset.size):
        a, f = int(onset[i]), int(offset[i])
        if f - a <= lead or not np.isfinite(limit[i]):
            continue
        w0 = max(0, a - reach)
        seg = np.nan_to_num(raw[w0: min(n, f + half)])
        y = signal.sosfilt(sos, seg - seg[0])
        c = np.cumsum(np.r_[0.0, y * y])
        k = np.arange(a - w0, f - w0)
        lo, hi = np.maximum(k - half, 0), np.minimum(k + half + 1, y.size)
        ms = (c[hi] - c[lo]) / (hi - lo)
        above = np.flatnonzero(ms > limit[i])
        if above.size == 0:
            continue
        brk = np.flatnonzero(np.diff(above) > gap)
        first = np.r_[above[0], above[brk + 1]]
        start = first[np.searchsorted(first, int(np.argmax(ms)), side="right") - 1]
        k0 = a - w0
        pre = float(np.sum(np.nan_to_num(x[a: a + start]) ** 2))
        if start > lead and pre > ratio * float(np.sum(y[k0: k0 + start] ** 2)):
            out[i] = a + start
    return out


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_cand=st.integers(0, 12), gap=st.integers(1, 30),
       steps=st.booleans())
def test_causal_onsets_equal_a_loop_over_candidates(seed, n_cand, gap, steps):
    """Candidates of many lengths (several padded matrices), some on baseline steps whose
    zero-phase pre-response leads, some with an infinite limit (no check), near both
    ends of the signal; the batched form moves exactly the same onsets."""
    from scipy import signal

    from ltr.detect._channel import causal_onsets
    from ltr.preprocess import butter_sos

    rng = np.random.default_rng(seed)
    sfreq, n = 1000.0, 6000
    raw = rng.normal(0, 1e-6, n)
    onset = np.sort(rng.integers(0, n - 50, n_cand))
    offset = np.minimum(onset + rng.integers(1, 1500, n_cand), n)
    if steps:  # a step some ms into each candidate, activity after it: the zero-phase
        # band-pass answers the step before it happens, the forward one cannot
        for a, f in zip(onset, offset, strict=True):
            at = min(f, a + int(rng.integers(5, 200)))
            raw[at:] += rng.choice([-1, 1]) * rng.uniform(1e-5, 1e-3)
            raw[at: f] += rng.normal(0, 2e-5, f - at)
    sos = butter_sos(4, (20.0, 450.0), "bandpass", sfreq)
    x = signal.sosfiltfilt(sos, raw)
    limit = (4.0 * 1e-6 * rng.uniform(0.5, 20.0, n_cand)) ** 2
    limit[rng.random(n_cand) < 0.2] = np.inf
    args = (raw, x, sfreq, (20.0, 450.0), 4, onset, offset, limit, 10, 0.02)
    got = causal_onsets(*args, gap=gap, ratio=16.0)
    want = _causal_onsets_loop(*args, gap, 16.0)
    np.testing.assert_array_equal(got, want)


def test_standout_runs_finds_a_bump_on_a_plateau_but_not_the_burst_opening_it():
    from ltr.detect._channel import standout_runs

    rng = np.random.default_rng(0)
    env = np.r_[np.full(100, 1.0), np.full(300, 10.0)] * rng.uniform(0.9, 1.1, 400)
    env[250:260] = 50.0  # 5x the plateau, inside it: stands out on both sides
    env[100:110] = 30.0  # the plateau's opening burst: 3x the plateau after it only
    inside = np.zeros(400, bool)
    inside[95:] = True
    st, sp = standout_runs(env, inside, size=51, ratio=3.5, off=1.5)
    np.testing.assert_array_equal(np.c_[st, sp], [[250, 260]])
    # with a ratio the opening burst clears on its plateau side too, it is found
    st, sp = standout_runs(env, inside, size=51, ratio=2.5, off=1.5)
    assert [100, 110] in np.c_[st, sp].tolist()
    # nothing outside `inside`
    st, _ = standout_runs(env, np.zeros(400, bool), size=51, ratio=2.5, off=1.5)
    assert st.size == 0
