"""ltr agree: F1, kappa, Fleiss' kappa and ICC against hand computation and published
worked examples; the matching against independent references; reviewed files; the CLI."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from ltr._validate import LtrDataWarning
from ltr.agreement import (
    PAIR_KEYS,
    agree,
    bland_altman,
    cohen_kappa,
    fleiss_kappa,
    icc,
    icc_ci,
    read_rater_events,
)
from ltr.cli import main
from ltr.evaluate import match_onsets

# every statistic below is a ratio of a few small integers: 3 decimals (the issue's
# demand) leaves a rounding margin of 5e-4, far above float error
DEC = 5e-4


def _events(path, rows, header=("onset", "duration", "trial_type", "review_status")):
    lines = ["\t".join(header)] + ["\t".join(str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _marks(starts, stops):
    return [(s, 0, "needle in", "n/a") for s in starts] + \
        [(e, 0, "needle out", "n/a") for e in stops]


# -- textbook formulas on small tables ------------------------------------------------------

def test_f1_hand_case():
    # A: 5 twitches, B: 4; within 50 ms: (1.00, 1.02) and (3.00, 3.00); 2.00 vs 2.06 is
    # 60 ms apart. tp 2, fp 3, fn 2: precision 2/5, recall 2/4, F1 = 4 / (4 + 5) = 0.444
    a = {"A": [1.00, 2.00, 3.00, 7.0, 9.0], "B": [1.02, 2.06, 3.00, 5.0]}
    with pytest.warns(UserWarning, match="no needle insertions"):
        res = agree(a, tolerance=0.05)
    row = res.pairs.iloc[0]
    assert (row.tp, row.fp, row.fn) == (2, 3, 2)
    assert row.precision == pytest.approx(0.400, abs=DEC)
    assert row.recall == pytest.approx(0.500, abs=DEC)
    assert row.f1 == pytest.approx(0.444, abs=DEC)
    # matched onset differences a - b: -20 ms and 0 ms
    assert row.onset_diff_median_ms == pytest.approx(-10.0, abs=1e-6)  # float ms
    assert np.isnan(row.kappa) and np.isnan(row.icc)


def test_cohen_kappa_hand_case():
    # 2x2 table (rater A rows, B columns): yes/yes 20, yes/no 5, no/yes 10, no/no 15.
    # p_o = 35/50 = 0.7; p_e = (25/50)(30/50) + (25/50)(20/50) = 0.3 + 0.2 = 0.5;
    # kappa = (0.7 - 0.5) / 0.5 = 0.4
    a = [1] * 25 + [0] * 25
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    po = 35 / 50
    pe = (25 / 50) * (30 / 50) + (25 / 50) * (20 / 50)
    assert cohen_kappa(a, b) == pytest.approx((po - pe) / (1 - pe), abs=1e-12)
    assert round(cohen_kappa(a, b), 3) == 0.400
    # a second, unbalanced table: 9 insertions, A yes on 6, B yes on 4, both on 4:
    # p_o = (4 + 3)/9; p_e = (6/9)(4/9) + (3/9)(5/9) = 39/81; kappa = 0.5714...
    a = [1, 1, 1, 1, 1, 1, 0, 0, 0]
    b = [1, 1, 1, 1, 0, 0, 0, 0, 0]
    assert cohen_kappa(a, b) == pytest.approx((7 / 9 - 39 / 81) / (1 - 39 / 81), abs=1e-12)
    assert round(cohen_kappa(a, b), 3) == 0.571
    assert np.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))  # p_e = 1: undefined


def test_fleiss_kappa_published_example():
    # Fleiss (1971) as worked in the Wikipedia article and Cardillo's MATLAB fleiss.m:
    # 10 subjects, 14 raters, 5 categories, kappa 0.2099 (0.210)
    table = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
                      [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
                      [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])
    assert round(fleiss_kappa(table, counts=True), 3) == 0.210
    # the same ratings given per rater (subjects x raters) give the same kappa
    ratings = np.array([np.repeat(np.arange(5), row) for row in table])
    assert fleiss_kappa(ratings) == pytest.approx(fleiss_kappa(table, counts=True), abs=1e-12)


def test_fleiss_kappa_hand_case():
    # 3 raters, 4 insertions yes/no: P_i = 1, 1, 1/3, 1/3 (P_bar 2/3); p_yes = 6/12 so
    # P_e = 0.5; kappa = (2/3 - 1/2) / (1/2) = 1/3
    r = np.array([[1, 1, 1], [0, 0, 0], [1, 1, 0], [0, 0, 1]])
    p_i = [(sum(c * c for c in np.bincount(row, minlength=2)) - 3) / 6 for row in r]
    pj = np.bincount(r.ravel(), minlength=2) / r.size
    expected = (np.mean(p_i) - np.sum(pj ** 2)) / (1 - np.sum(pj ** 2))
    assert fleiss_kappa(r) == pytest.approx(expected, abs=1e-12)
    assert round(fleiss_kappa(r), 3) == 0.333
    # with two raters Fleiss' kappa is Scott's pi, not Cohen's kappa; on marginals that
    # agree the two coincide
    a, b = np.array([1, 1, 0, 0, 1, 0]), np.array([1, 0, 1, 0, 1, 0])
    assert fleiss_kappa(np.stack([a, b], 1)) == pytest.approx(cohen_kappa(a, b), abs=1e-12)


def _icc_by_hand(x):
    """ICC(2,1) from sums of squares written out as loops (Shrout & Fleiss 1979)."""
    n, k = len(x), len(x[0])
    grand = sum(sum(r) for r in x) / (n * k)
    row_means = [sum(r) / k for r in x]
    col_means = [sum(x[i][j] for i in range(n)) / n for j in range(k)]
    bms = k * sum((m - grand) ** 2 for m in row_means) / (n - 1)
    jms = n * sum((m - grand) ** 2 for m in col_means) / (k - 1)
    ems = sum((x[i][j] - row_means[i] - col_means[j] + grand) ** 2
              for i in range(n) for j in range(k)) / ((n - 1) * (k - 1))
    return (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)


def test_icc_published_example_and_hand_case():
    # Shrout & Fleiss (1979), Table 2: 6 targets, 4 judges; ICC(1,1) .17, ICC(2,1) .29,
    # ICC(3,1) .71 as published (two decimals)
    sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    assert round(icc(sf, "1,1"), 2) == 0.17
    assert round(icc(sf), 2) == 0.29
    assert round(icc(sf, "3,1"), 2) == 0.71
    assert icc(sf) == pytest.approx(_icc_by_hand(sf), abs=1e-12)
    assert round(icc(sf), 3) == 0.290
    # counts per insertion of two raters, B one twitch more on two insertions:
    # by hand: grand mean 2.2, row means 0, 1.5, 3, 2.5, 4, rater means 2.0, 2.4;
    # BMS = 2 × 9.3 / 4 = 4.65, JMS = 5 × 0.08 = 0.4, residuals ±0.2 (x3) and ±0.3 (x2)
    # so EMS = 0.6 / 4 = 0.15; ICC(2,1) = 4.5 / (4.8 + 2 × 0.25 / 5) = 4.5 / 4.9
    counts = [[0, 0], [1, 2], [3, 3], [2, 3], [4, 4]]
    assert icc(counts) == pytest.approx(_icc_by_hand(counts), abs=1e-12)
    assert icc(counts) == pytest.approx((4.65 - 0.15) / (4.65 + 0.15 + 2 * (0.4 - 0.15) / 5),
                                        abs=1e-12)
    assert round(icc(counts), 3) == 0.918
    # a constant bias lowers ICC(2,1) (absolute agreement) but not ICC(3,1)
    biased = [[c, c + 2] for c, _ in counts]
    assert icc(biased, "3,1") == pytest.approx(1.0, abs=1e-12)
    assert icc(biased) < 0.8
    with pytest.raises(ValueError, match="form must be one of"):
        icc(counts, "2,k")
    # undefined: BMS = JMS = 0 and EMS = 1 make the ICC(2,1) denominator 0 (two
    # insertions the raters count in opposite ways); no division error, NaN
    assert np.isnan(icc([[0, 1], [1, 0]])) and np.isnan(icc_ci([[0, 1], [1, 0]])[0])


def test_icc_published_confidence_intervals():
    # psych::ICC (R) on the Shrout & Fleiss data prints the bounds to 3 decimals (lower)
    # and 2 (upper): ICC1 -0.133..0.72, ICC2 0.019..0.76, ICC3 0.342..0.95; DescTools
    # prints the estimates as 0.166, 0.290, 0.715
    sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    for form, est, lo, hi in (("1,1", 0.166, -0.133, 0.72), ("2,1", 0.290, 0.019, 0.76),
                              ("3,1", 0.715, 0.342, 0.95)):
        low, high = icc_ci(sf, form)
        assert round(icc(sf, form), 3) == est, form
        assert round(low, 3) == lo and round(high, 2) == hi, form


def test_icc_ci_coverage():
    """Counts of two raters drawn from a two-way random model with a known ICC(2,1):
    the 95 % interval (McGraw & Wong's approximation) covers it in 89-99 % of 300
    draws (binomial SD 1.3 %; the approximation ran at 93 % when this was written)."""
    rng = np.random.default_rng(11)
    true = 1 / (1 + 0.25 + 0.5)  # subject variance 1, rater 0.25, residual 0.5
    hits = 0
    for _ in range(300):
        x = rng.normal(0, 1, (30, 1)) + rng.normal(0, 0.5, (1, 2)) + \
            rng.normal(0, np.sqrt(0.5), (30, 2))
        lo, hi = icc_ci(x)
        hits += lo <= true <= hi
    assert 0.89 <= hits / 300 <= 0.99


def test_bland_altman_hand_case():
    ba = bland_altman([1, 2, 3, 4], [0, 2, 2, 5])  # d = 1, 0, 1, -1: mean .25, sd .957
    assert ba["bias"] == pytest.approx(0.25, abs=1e-12)
    assert ba["sd"] == pytest.approx(np.std([1, 0, 1, -1], ddof=1), abs=1e-12)
    assert ba["loa_high"] - ba["loa_low"] == pytest.approx(2 * 1.96 * ba["sd"], abs=1e-12)


# -- files: insertions, reviewed rows, the three-way comparison -----------------------------

def test_files_insertions_and_reviewed_rows(tmp_path):
    marks = _marks([0, 10, 20, 30], [8, 18, 28, 38])
    # rater A: insertions with 2, 0, 1, 3 twitches; a rejected row that is no twitch
    a = _events(tmp_path / "a_events.tsv", [
        *marks, (1.0, 0.05, "twitch", "confirmed"), (2.0, 0.05, "twitch", "added"),
        (5.0, 0.05, "twitch", "rejected"),
        (21.0, 0.05, "twitch", "moved"),
        (31.0, 0.05, "twitch", ""), (32.0, 0.05, "twitch", "n/a"), (33.0, 0.05, "twitch", ""),
        (40.0, 0.05, "twitch", "confirmed"),  # needle out: matched, in no count
    ])
    # rater B (detector, no review columns): 2, 1, 0, 3
    b = tmp_path / "b.tsv"
    b.write_text("onset\tduration\ttrial_type\n" + "".join(
        f"{t}\t0.05\ttwitch\n" for t in (1.01, 2.0, 12.0, 31.0, 32.02, 33.1, 40.0)))
    res = agree([a, b])
    assert res.raters.set_index("rater").loc["a_events", "rejected_rows"] == 1
    assert res.counts["a_events"].tolist() == [2, 0, 1, 3]
    assert res.counts["b"].tolist() == [2, 1, 0, 3]
    row = res.pairs.iloc[0]
    # matches: 1.0, 2.0, 31.0, 32.0, 40.0 (33.0 vs 33.1 is 100 ms): tp 5, fp 2, fn 2
    assert (row.tp, row.fp, row.fn) == (5, 2, 2)
    assert row.f1 == pytest.approx(10 / 14, abs=DEC)
    # yes/no per insertion: A 1 0 1 1, B 1 1 0 1: p_o 0.5, p_e (3/4)(3/4) + (1/4)(1/4)
    pe = 0.75 * 0.75 + 0.25 * 0.25
    assert row.kappa == pytest.approx((0.5 - pe) / (1 - pe), abs=1e-12)
    assert row.icc == pytest.approx(_icc_by_hand([[2, 2], [0, 1], [1, 0], [3, 3]]), abs=1e-12)
    assert res.raters.set_index("rater").loc["a_events", "outside_insertions"] == 1
    assert "1 row(s) rejected by review" in res.format()


def test_three_way_comparison(tmp_path):
    """Lim 2004: seen (clinician), felt (patient), recorded (EMG); per insertion."""
    marks = _marks([0, 10, 20, 30, 40], [8, 18, 28, 38, 48])
    rec = _events(tmp_path / "recorded.tsv", [*marks, (12.0, 0.1, "twitch", "")])
    table = tmp_path / "seen_felt.csv"
    table.write_text("insertion,seen,felt\n1,no,yes\n2,yes,yes\n3,no,no\n4,yes,yes\n5,no,Y\n")
    res = agree([rec], insertions=table)
    assert list(res.positive.columns) == ["recorded", "seen", "felt"]
    k = res.pairs.set_index(["a", "b"])["kappa"]
    # recorded 0 1 0 0 0, seen 0 1 0 1 0, felt 1 1 0 1 1
    assert k[("recorded", "seen")] == pytest.approx(cohen_kappa([0, 1, 0, 0, 0],
                                                                [0, 1, 0, 1, 0]), abs=1e-12)
    assert k[("seen", "felt")] == pytest.approx(cohen_kappa([0, 1, 0, 1, 0],
                                                            [1, 1, 0, 1, 1]), abs=1e-12)
    assert res.overall["fleiss_kappa"] == pytest.approx(
        fleiss_kappa(np.array([[0, 0, 1], [1, 1, 1], [0, 0, 0], [0, 1, 1], [0, 0, 1]])),
        abs=1e-12)
    shares = res.raters.set_index("rater")["positive_share"]
    assert shares.tolist() == pytest.approx([0.2, 0.4, 0.8], abs=1e-12)
    assert np.isnan(res.pairs.set_index(["a", "b"]).loc[("recorded", "seen"), "f1"])


@pytest.mark.parametrize(("text", "match"), [
    ("seen,felt\nyes,no\n", "1 row\\(s\\) for 5 needle insertion"),
    ("seen,felt\n" + "yes,maybe\n" * 5, "line 2: felt 'maybe' is not yes or no"),
    ("seen,felt\n" + "yes,\n" * 5, "line 2: felt '' is not yes or no"),
    ("insertion\n1\n2\n3\n4\n5\n", "a per-insertion table needs at least one yes/no"),
])
def test_insertion_table_errors(tmp_path, text, match):
    rec = _events(tmp_path / "r.tsv", _marks([0, 10, 20, 30, 40], [8, 18, 28, 38, 48]))
    table = tmp_path / "t.csv"
    table.write_text(text)
    with pytest.raises(ValueError, match=f"t.csv: {match}"):
        agree([rec], insertions=table)


def test_reader_errors(tmp_path):
    p = tmp_path / "x.tsv"
    p.write_text("time\ttrial_type\n1\ttwitch\n")
    with pytest.raises(ValueError, match="x.tsv: an events file needs an 'onset' column"):
        read_rater_events(p)
    p.write_text("onset\ttrial_type\treview_status\n1\ttwitch\tmaybe\n")
    with pytest.raises(ValueError, match="x.tsv: line 2: review_status 'maybe'"):
        read_rater_events(p)
    p.write_text("onset\ttrial_type\nabc\ttwitch\n")
    with pytest.raises(ValueError, match="x.tsv: line 2: onset 'abc' is not a number"):
        read_rater_events(p)
    with pytest.raises(FileNotFoundError, match="y.tsv: no such file"):
        read_rater_events(tmp_path / "y.tsv")
    with pytest.raises(ValueError, match="at least two raters"):
        agree([np.array([1.0])])


def test_epochs_file_and_mismatched_marks(tmp_path):
    a = _events(tmp_path / "a.tsv", [*_marks([0, 10], [8, 18]), (1.0, 0, "twitch", "")])
    b = _events(tmp_path / "b.tsv", [*_marks([0], [8]), (1.0, 0, "twitch", "")])
    res = agree([a, b])
    assert len(res.epochs) == 2 and any("b.tsv marks 1 insertion" in n for n in res.notes)
    ep = tmp_path / "epochs.tsv"
    ep.write_text("epoch\tstart_s\tstop_s\n0\t0.5\t5\n1\t6\t9\n2\t9.5\t30\n")
    res = agree([a, b], epochs=ep)
    assert res.counts["a"].tolist() == [1, 0, 0] and res.epochs_from == str(ep)
    ep.write_text("begin\tend\n0\t1\n")
    with pytest.raises(ValueError, match="epochs.tsv: an epochs table needs columns start_s"):
        agree([a, b], epochs=ep)


# -- the matching against independent references on random event lists ---------------------

def _greedy_reference(det, ref, tol):
    """Closest remaining pair first, one pair per step (O(n^2) loops)."""
    pairs, used_d, used_r = [], set(), set()
    cand = sorted((abs(d - r), i, j) for i, d in enumerate(det) for j, r in enumerate(ref)
                  if abs(d - r) <= tol + 1e-12)
    for _, i, j in cand:
        if i not in used_d and j not in used_r:
            pairs.append((i, j))
            used_d.add(i)
            used_r.add(j)
    return sorted(pairs)


def _optimal_reference(det, ref, tol):
    """Most pairs within the tolerance (then the least total distance): an assignment
    problem solved by scipy's Hungarian method."""
    if not len(det) or not len(ref):
        return 0
    cost = np.abs(np.subtract.outer(det, ref))
    big = 1e6
    c = np.where(cost <= tol + 1e-12, cost, big)
    r, k = linear_sum_assignment(c)
    return int(np.sum(c[r, k] < big))


def _draw(rng, n, lo, hi):
    return np.cumsum(rng.uniform(lo, hi, n))


@pytest.mark.parametrize("seed", range(6))
def test_matching_equals_references_on_random_lists(seed):
    rng = np.random.default_rng(seed)
    tol = 0.05
    # dense lists (events down to 20 ms apart): exactly the greedy reference's pairs
    truth = _draw(rng, 40, 0.02, 0.15)
    keep = rng.random(truth.size) > 0.2
    det = np.sort(np.r_[truth[keep] + rng.normal(0, 0.03, keep.sum()),
                        rng.uniform(0, truth[-1], 8)])
    md, mr = match_onsets(det, truth, tol)
    assert sorted(zip(md.tolist(), mr.tolist(), strict=True)) == \
        _greedy_reference(det.tolist(), truth.tolist(), tol)
    # a greedy matching is maximal: at least half the optimum, never more than it
    opt = _optimal_reference(det, truth, tol)
    assert opt / 2 <= md.size <= opt
    # twitch-like spacing (more than twice the tolerance apart in each list): each event
    # has at most one partner in reach, so the matching is the optimal one
    truth = _draw(rng, 40, 0.11, 2.0)
    det = np.sort(np.r_[truth[keep] + rng.uniform(-0.045, 0.045, keep.sum())])
    det = det[np.r_[True, np.diff(det) > 0.105]]
    md, _ = match_onsets(det, truth, tol)
    assert md.size == _optimal_reference(det, truth, tol)


def test_agree_pairs_equal_compare_on_random_lists():
    from ltr.evaluate import compare

    rng = np.random.default_rng(7)
    lists = {f"r{i}": np.sort(rng.uniform(0, 60, rng.integers(5, 30))) for i in range(3)}
    with pytest.warns(UserWarning, match="no needle insertions"):
        res = agree(lists, tolerance=0.5)
    for a, b in itertools.combinations(lists, 2):
        row = res.pairs.set_index(["a", "b"]).loc[(a, b)]
        c = compare(lists[a], lists[b], 0.5)
        assert (row.tp, row.fp, row.fn) == (c["tp"], c["fp"], c["fn"])
        assert row.f1 == pytest.approx(c["f1"], abs=1e-12)


# -- the command line -----------------------------------------------------------------------

def test_cli_json_and_outputs(tmp_path, capsys):
    marks = _marks([0, 10, 20], [8, 18, 28])
    a = _events(tmp_path / "a.tsv", [*marks, (1.0, 0, "twitch", ""), (11.0, 0, "twitch", "")])
    b = _events(tmp_path / "b.tsv", [*marks, (1.01, 0, "twitch", ""), (21.0, 0, "twitch", "")])
    c = _events(tmp_path / "c.tsv", [*marks, (1.0, 0, "twitch", ""), (11.02, 0, "twitch", "")])
    assert main(["agree", str(a), str(b), str(c), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [tuple(p) for p in doc["pairs"]] == [PAIR_KEYS] * 3
    assert [(p["a"], p["b"]) for p in doc["pairs"]] == [("a", "b"), ("a", "c"), ("b", "c")]
    ac = doc["pairs"][1]
    assert ac["f1"] == 1.0 and ac["kappa"] == 1.0 and ac["icc"] == 1.0
    assert doc["overall"]["fleiss_kappa"] is not None
    out = tmp_path / "out"
    assert main(["agree", str(a), str(b), "-o", str(out)]) == 0
    assert "F1" in capsys.readouterr().out
    assert (out / "bland_altman_a_vs_b.png").stat().st_size > 1000
    assert json.loads((out / "agreement.json").read_text())["pairs"][0]["a"] == "a"
    assert main(["agree", str(a), str(b), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ltr agree: error: ") and "--overwrite" in err
    assert len(err.strip().splitlines()) == 1


def test_cli_errors_are_one_line(tmp_path, capsys):
    a = tmp_path / "a.tsv"
    a.write_text("start\n1\n")
    assert main(["agree", str(a), str(tmp_path / "missing.tsv")]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"ltr agree: error: {a}: an events file needs an 'onset' column, " \
        "found ['start']"


def test_cli_binary_file_is_one_line_naming_it(tmp_path, capsys):
    """A recording given where an events file belongs (``ltr agree a.tsv x.edf``,
    ``ltr calibrate REC=OTHER.edf``) is refused in one line naming it, not with a bare
    UnicodeDecodeError."""
    a = tmp_path / "a.tsv"
    a.write_text("onset\ttrial_type\n1.0\ttwitch\n")
    edf = tmp_path / "x.edf"
    edf.write_bytes(b"0       " + bytes(range(128, 256)) * 8)
    assert main(["agree", str(a), str(edf)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ltr agree: error: {edf}: is not a text table")
    assert len(err.strip().splitlines()) == 1
    with pytest.raises(ValueError, match="x.edf: is not a text table"):
        read_rater_events(edf)


def test_cli_says_why_kappa_is_undefined(tmp_path, capsys):
    """Both raters find twitches in every insertion: kappa is '-' and the text says why
    (fresh-eyes trial: a bare '-' in the kappa column)."""
    marks = _marks([0.0, 10.0], [9.0, 19.0])
    a = _events(tmp_path / "a.tsv", [*marks, (1.0, 0.05, "twitch", "n/a"),
                                     (11.0, 0.05, "twitch", "n/a")])
    b = _events(tmp_path / "b.tsv", [*marks, (1.01, 0.05, "twitch", "n/a"),
                                     (11.0, 0.05, "twitch", "n/a"),
                                     (30.0, 0.05, "twitch", "n/a")])
    assert main(["agree", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "kappa: - (every rater calls every insertion the same way, >= 1 twitch" in out
    assert "b: 1 twitch(es) outside every insertion (in precision and recall" in out


def test_reviewed_file_of_ltr_review(tmp_path):
    """The reviewed file of ``ltr review``: look-alikes and contractions are no twitch
    unless the reviewer called them one (then trial_type says twitch); pending rows
    (n/a) keep the detector's call; a reviewer's needle marks are 'added'."""
    p = tmp_path / "rec.reviewed.tsv"
    _events(p, [
        (0.5, 0, "needle in", "added"), (9.5, 0, "needle out", "added"),
        (1.0, 0.05, "twitch", "confirmed"), (2.0, 0.05, "twitch", "rejected"),
        (3.0, 0.05, "twitch", "n/a"), (4.0, 0.05, "look-alike", "confirmed"),
        (5.0, 0.05, "twitch", "added"), (6.0, 1.5, "contraction", "n/a"),
        (7.0, 0.0, "twitch", "moved"),
    ], header=("onset", "duration", "trial_type", "review_status", "reviewer"))
    ev = read_rater_events(p)
    assert ev.onsets.tolist() == [1.0, 3.0, 5.0, 7.0]
    assert ev.rejected_rows == 1 and ev.other_rows == 4
    assert ev.name == "rec.reviewed" and len(ev.epochs) == 1
    assert (ev.epochs.start[0], ev.epochs.stop[0]) == (0.5, 9.5)


def test_folders_pool_recordings(tmp_path):
    """One folder per rater, one file per recording: matches summed per recording,
    insertions stacked; the same as agree() on one recording when there is one."""
    from ltr.agreement import agree_folders

    da, db = tmp_path / "clinician", tmp_path / "detector"
    da.mkdir()
    db.mkdir()
    _events(da / "s1.tsv", [*_marks([0, 10], [8, 18]), (1.0, 0, "twitch", ""),
                            (11.0, 0, "twitch", "")])
    _events(db / "s1.tsv", [(1.01, 0, "twitch", ""), (5.0, 0, "twitch", "")],
            header=("onset", "duration", "trial_type", "review_status"))
    # the same onsets in a second recording must not match across recordings
    _events(da / "s2.tsv", [*_marks([0], [8]), (2.0, 0, "twitch", "")])
    _events(db / "s2.tsv", [(2.02, 0, "twitch", ""), (11.0, 0, "twitch", "")])
    res = agree_folders([da, db])
    row = res.pairs.iloc[0]
    assert (row.a, row.b) == ("clinician", "detector")
    assert (row.tp, row.fp, row.fn) == (2, 1, 2)  # s1: 1 tp, 1 fp, 1 fn; s2: 1, 0, 1
    assert res.counts["clinician"].tolist() == [1, 1, 1]
    assert res.counts["detector"].tolist() == [2, 0, 1]
    assert res.insertion_table["recording"].tolist() == ["s1.tsv", "s1.tsv", "s2.tsv"]
    assert row.kappa == pytest.approx(cohen_kappa([1, 1, 1], [1, 0, 1]), abs=1e-12)
    assert res.overall["n_recordings"] == 2
    one = agree([da / "s1.tsv", db / "s1.tsv"])
    (tmp_path / "only1").mkdir()
    for d in (da, db):
        (tmp_path / "only1" / d.name).mkdir()
        (tmp_path / "only1" / d.name / "s1.tsv").write_text((d / "s1.tsv").read_text())
    pooled1 = agree_folders([tmp_path / "only1" / "clinician", tmp_path / "only1" / "detector"])
    cols = ["tp", "fp", "fn", "f1", "kappa", "icc"]
    assert pooled1.pairs[cols].equals(one.pairs[cols])
    (db / "s2.tsv").unlink()
    with pytest.raises(ValueError, match="detector: has no 's2.tsv'"):
        agree_folders([da, db])
    assert main(["agree", str(da), str(tmp_path / "only1" / "detector"), "--json"]) == 1


def test_reads_what_ltr_review_writes(tmp_path):
    """A reviewed file written by ltr.review: a reject, an added twitch, a moved onset
    and every pending row; agree counts the reviewer's twitches plus the pending ones."""
    import ltr
    from ltr.review.reviewed import (
        added,
        candidates,
        decide,
        reviewed_twitches,
        write_reviewed,
    )
    from ltr.simulate import session

    rec, _ = session(duration=40, seed=4, layout="emg")
    res = ltr.detect(rec)
    rows = candidates(res)
    tw = [r for r in rows if r["trial_type"] == "twitch"]
    assert len(tw) >= 3
    decide(tw[0], "reject", reviewer="x")
    decide(tw[1], "move", reviewer="x", onset=float(tw[1]["onset"]) + 0.2)
    for r in tw[2:]:
        decide(r, "accept", reviewer="x")
    rows.append(added("twitch", 39.0, reviewer="x", index=0))
    path = write_reviewed(rows, tmp_path / "rec.reviewed.tsv")
    ev = read_rater_events(path)
    assert ev.onsets.tolist() == pytest.approx(reviewed_twitches(rows).tolist(), abs=1e-9)
    assert ev.rejected_rows == 1
    det = tmp_path / "det.tsv"
    res.to_bids_events(det)
    row = agree([path, det], epochs=res.epochs).pairs.iloc[0]
    # all but the rejected, the moved (200 ms away) and the added twitch match
    assert (row.tp, row.fp, row.fn) == (len(tw) - 2, 2, 2)


def test_agree_warns_on_a_reviewed_file_without_decisions(tmp_path):
    """``ltr review`` writes NAME.reviewed.tsv as soon as it opens, every row pending (the
    detector's own calls): agreeing the detector with it would measure the detector
    against itself, so agree says so; one decision is a review under way (no warning)."""
    import warnings

    det = tmp_path / "det.tsv"
    rev = tmp_path / "x.reviewed.tsv"
    onsets = [1.0, 2.5, 4.0]
    det.write_text("onset\tduration\ttrial_type\n"
                   + "".join(f"{t}\t0.05\ttwitch\n" for t in onsets))
    # the columns ltr review writes: the detector's call beside the reviewer's status
    rows = ["onset\tduration\ttrial_type\treview_status\treviewer\treviewed_at\tdetected_as"] + \
        [f"{t}\t0.05\ttwitch\tn/a\tn/a\tn/a\ttwitch" for t in onsets]
    rev.write_text("\n".join(rows) + "\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        agree([det, rev])
    said = [str(w.message) for w in caught if issubclass(w.category, LtrDataWarning)]
    assert any(m.startswith(f"{rev}: holds no reviewer decision yet") for m in said)
    rows[2] = rows[2].replace("n/a", "rejected")
    rev.write_text("\n".join(rows) + "\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        agree([det, rev])
    assert not [w for w in caught if "no reviewer decision" in str(w.message)]
