"""ltr outcomes: a planted effect is recovered, a null cohort finds nothing; the CIs hold
their coverage; joins, BIDS names and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltr.cli import main
from ltr.outcomes import (
    compare_outcomes,
    hedges_g,
    parse_bids_entities,
    read_cohort,
    spearman_ci,
    within_unit_slope,
)

OUTCOMES = ("vas", "ppt", "rom")


def simulate_cohort(seed, n_subjects=60, effect=0.0, decay=0.1, sessions=1):
    """A cohort.tsv-like table and an outcomes table.

    Half the subjects are twitch-prone (Poisson counts of mean 2 per insertion, 3-6
    insertions), half never twitch. Twitch amplitudes fall by ``decay`` per insertion
    (median 50 µV at the first). VAS falls by 1 point after needling, by ``effect`` more
    with twitches; the other outcomes (pressure pain threshold, range of motion) change
    without regard to twitches. SD of every change: 1.5.
    """
    rng = np.random.default_rng(seed)
    rows, orows = [], []
    for s in range(n_subjects):
        prone = s % 2 == 0
        for ses in range(1, sessions + 1):
            n_ins = int(rng.integers(3, 7))
            counts = rng.poisson(2.0, n_ins) if prone else np.zeros(n_ins, int)
            total = int(counts.sum())
            name = f"/data/sub-{s:02d}/sub-{s:02d}_ses-{ses}_acq-trapezius_emg.edf"
            for k, c in enumerate(counts):
                amp = 50.0 * (1 - decay) ** k * float(np.exp(rng.normal(0, 0.2)))
                rows.append({"recording": name, "epoch": k, "label": "needle in",
                             "source": "annotations", "start_s": 20.0 * k,
                             "stop_s": 20.0 * k + 15, "count": int(c),
                             "emg_amplitude_median_uV": amp if c else np.nan})
            pre = rng.normal(6, 1, 3)
            change = rng.normal(0, 1.5, 3) + np.array([-1.0 - effect * (total > 0), 0.5,
                                                       3.0])
            orows.append({"subject": f"sub-{s:02d}", "session": str(ses),
                          "muscle": "trapezius",
                          **{f"{o}_pre": p for o, p in zip(OUTCOMES, pre, strict=True)},
                          **{f"{o}_post": p + c for o, p, c in
                             zip(OUTCOMES, pre, change, strict=True)}})
    return pd.DataFrame(rows), pd.DataFrame(orows)


def _write(tmp_path, cohort, outcomes):
    c, o = tmp_path / "cohort.tsv", tmp_path / "outcomes.csv"
    cohort.to_csv(c, sep="\t", index=False, na_rep="n/a")
    outcomes.to_csv(o, index=False)
    return c, o


def test_planted_effect_is_recovered(tmp_path):
    # twitches lower VAS by 2 more points (SD 1.5): true g = -2 / 1.5 = -1.33
    c, o = _write(tmp_path, *simulate_cohort(seed=1, effect=2.0))
    res = compare_outcomes(c, o)
    g = res.groups.set_index("outcome")
    assert g.loc["vas", "g_high"] < 0  # the CI excludes no effect
    # 30 per group: the SE of g is about 0.29, so the estimate is within 0.6 (2 SE)
    assert g.loc["vas", "g"] == pytest.approx(-2 / 1.5, abs=0.6)
    assert g.loc["vas", "diff"] == pytest.approx(-2.0, abs=0.8)  # SE ~0.39, 2 SE
    for other in ("ppt", "rom"):  # changes unrelated to twitches stay unrelated
        assert g.loc[other, "g_low"] < 0 < g.loc[other, "g_high"], other
    rho = res.correlations.set_index(["outcome", "predictor"])
    assert rho.loc[("vas", "twitches"), "high"] < 0  # more twitches, more relief
    # habituation: amplitude falls 10 % per insertion; with ~100 twitching insertions of
    # log-SD 0.2 the slope's SE is about 2 % (a 4 % band is 2 SE)
    h = res.habituation.set_index("measure")
    assert h.loc["amplitude", "estimate"] == pytest.approx(-10.0, abs=4.0)
    assert h.loc["amplitude", "high"] < 0
    assert res.unmatched_outcomes == [] and res.unmatched_cohort == []
    assert len(res.units) == 60 and res.units["twitch"].sum() == pytest.approx(30, abs=2)


def test_null_cohort_finds_nothing(tmp_path):
    c, o = _write(tmp_path, *simulate_cohort(seed=2, effect=0.0, decay=0.0))
    res = compare_outcomes(c, o)
    for r in res.groups.to_dict("records"):
        assert r["g_low"] < 0 < r["g_high"], r["outcome"]
        assert abs(r["g"]) < 0.6  # 2 SE of g at 30 per group
    # amplitude does not depend on the insertion: no habituation found
    h = res.habituation.set_index("measure")
    assert h.loc["amplitude", "low"] < 0 < h.loc["amplitude", "high"]


def test_interval_coverage_on_many_null_cohorts():
    """Under no effect, each 95 % CI excludes 0 in about 5 % of cohorts: over 200 cohorts
    the binomial SD of that share is 1.5 %, so 1-10 % holds unless the CIs are wrong."""
    rng = np.random.default_rng(5)
    g_miss = rho_miss = 0
    n = 200
    for _ in range(n):
        x, y = rng.normal(0, 1, 25), rng.normal(0, 1, 30)
        r = hedges_g(x, y)
        g_miss += not (r["g_low"] < 0 < r["g_high"])
        s = spearman_ci(rng.poisson(2, 40), rng.normal(0, 1, 40))
        rho_miss += not (s["low"] < 0 < s["high"])
    assert 0.01 <= g_miss / n <= 0.10
    assert 0.01 <= rho_miss / n <= 0.10


def test_statistics_hand_cases():
    r = hedges_g([1, 2, 3, 4], [3, 4, 5, 6])
    # pooled SD sqrt(5/3); d = -2 / 1.2910 = -1.5492; J = 1 - 3 / 23
    assert r["g"] == pytest.approx(-2 / np.sqrt(5 / 3) * (1 - 3 / 23), abs=1e-12)
    se = np.sqrt(8 / 16 + r["g"] ** 2 / 16)
    assert r["g_high"] - r["g_low"] == pytest.approx(2 * 1.96 * se, abs=1e-12)
    s = spearman_ci([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5])  # d² = 6: rho = 1 - 36/210
    assert s["rho"] == pytest.approx(1 - 6 * 6 / (6 * 35), abs=1e-12)
    w = within_unit_slope([1, 2, 3, 10, 12, 14], [0, 1, 2, 0, 1, 2], list("aaabbb"))
    # unit a slope 1, unit b slope 2, equal x spread: the pooled within slope is 1.5
    assert w["slope"] == pytest.approx(1.5, abs=1e-12) and w["units"] == 2


def test_bids_entities_and_cohort_reading(tmp_path):
    e = parse_bids_entities("/x/sub-03/sub-03_ses-pre_task-dn_run-2_muscle-ut_emg.edf")
    assert e == {"subject": "03", "session": "pre", "task": "dn", "run": "2", "muscle": "ut"}
    assert parse_bids_entities("patient7.edf") == {}
    cohort, _ = simulate_cohort(seed=3, n_subjects=4)
    c = tmp_path / "cohort.tsv"
    cohort.to_csv(c, sep="\t", index=False, na_rep="n/a")
    df = read_cohort(c)
    assert set(df["subject"]) == {"00", "01", "02", "03"} and set(df["session"]) == {"1"}
    assert set(df["muscle"]) == {"trapezius"}
    cohort.assign(recording="rec.edf").to_csv(c, sep="\t", index=False)
    with pytest.raises(ValueError, match="cohort.tsv: .* row\\(s\\) name no subject"):
        read_cohort(c)
    cohort.drop(columns="count").to_csv(c, sep="\t", index=False)
    with pytest.raises(ValueError, match="cohort.tsv: a cohort table needs a 'count'"):
        read_cohort(c)


def test_joins_report_what_did_not_join(tmp_path):
    cohort, outcomes = simulate_cohort(seed=4, n_subjects=10)
    extra = outcomes.iloc[:2].assign(subject=["sub-90", "sub-91"])
    outcomes = pd.concat([outcomes.iloc[1:], extra])  # sub-00 has no outcomes
    c, o = _write(tmp_path, cohort, outcomes)
    res = compare_outcomes(c, o)
    assert res.unmatched_outcomes == ["sub-90_ses-1_mus-trapezius",
                                      "sub-91_ses-1_mus-trapezius"]
    assert res.unmatched_cohort == ["sub-00_ses-1_mus-trapezius"]
    assert len(res.units) == 9
    assert "2 outcome row(s) did not join" in res.format()
    assert "1 recorded unit(s) have no outcomes" in res.format()


@pytest.mark.parametrize(("edit", "match"), [
    (lambda o: o.drop(columns="subject"), "needs a 'subject' column"),
    (lambda o: o.drop(columns="vas_post"), "'vas_pre' has no 'vas_post' column"),
    (lambda o: o.assign(vas_pre=["x"] + [1.0] * (len(o) - 1)), "line 2: vas_pre 'x' is not"),
    (lambda o: o.assign(notes="a"), "column 'notes' is neither a key"),
    (lambda o: pd.concat([o, o.iloc[:1]]), "appears twice"),
    (lambda o: o.assign(subject=[f"sub-{i + 50}" for i in range(len(o))]),
     "no row joins"),
])
def test_outcome_errors(tmp_path, edit, match):
    cohort, outcomes = simulate_cohort(seed=6, n_subjects=6)
    c, o = _write(tmp_path, cohort, edit(outcomes))
    with pytest.raises(ValueError, match=match):
        compare_outcomes(c, o)


def test_session_key_without_ses_in_names(tmp_path):
    cohort, outcomes = simulate_cohort(seed=7, n_subjects=6)
    cohort["recording"] = cohort["recording"].str.replace("_ses-1", "")
    c, o = _write(tmp_path, cohort, outcomes)
    with pytest.raises(ValueError, match="outcomes.csv: has a 'session' column but .*"
                                         "cohort.tsv gives none"):
        compare_outcomes(c, o)
    # without the session column, the join is on subject and muscle
    c, o = _write(tmp_path, cohort, outcomes.drop(columns="session"))
    assert compare_outcomes(c, o).keys == ["subject", "muscle"]


def test_cli_writes_figures_and_html(tmp_path, capsys):
    c, o = _write(tmp_path, *simulate_cohort(seed=8, n_subjects=20, effect=2.0))
    out = tmp_path / "out"
    assert main(["outcomes", str(c), str(o), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Hedges g" in text and "20 unit(s)" in text
    page = (out / "outcomes.html").read_text()
    assert page.count("data:image/png;base64,") == 7  # 2 per outcome + habituation
    assert (out / "groups_vas.png").stat().st_size > 1000
    assert pd.read_csv(out / "groups.tsv", sep="\t")["outcome"].tolist() == list(OUTCOMES)
    assert main(["outcomes", str(c), str(o), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ltr outcomes: error: ") and "--overwrite" in err
    assert main(["outcomes", str(c), str(tmp_path / "none.csv"), "-o", str(out)]) == 1
    assert capsys.readouterr().err.strip() == \
        f"ltr outcomes: error: {tmp_path / 'none.csv'}: no such file"


def test_habituation_figure_says_what_it_draws(tmp_path):
    """An insertion whose twitches were all accelerometer-only has a count but no EMG
    amplitude: the figure breaks the unit's line there instead of joining its neighbours,
    and says how many insertions with twitches it left out. The jolt column gives its
    own units column and label."""
    import matplotlib.pyplot as plt

    cohort, outcomes = simulate_cohort(seed=3)
    cohort["acc_amplitude_median_m_s2"] = np.where(cohort["count"] > 0, 0.2, np.nan)
    twitched = np.flatnonzero(cohort["count"].to_numpy() > 0)
    acc_only = twitched[::5]  # every 5th insertion with twitches: no EMG-led twitch
    cohort.loc[acc_only, "emg_amplitude_median_uV"] = np.nan
    c, o = _write(tmp_path, cohort, outcomes)
    res = compare_outcomes(c, o)
    fig = res.plot_habituation()
    ax = fig.axes[0]
    assert ax.get_title() == (f"{twitched.size - acc_only.size} of {twitched.size} "
                              f"insertions with twitches drawn\n{acc_only.size} without "
                              "EMG-led twitches (not drawn)")
    assert ax.get_ylabel() == "median amplitude of EMG-led twitches (µV)"
    # each unit's line spans its insertions, NaN where nothing is drawn: never bridged
    assert sum(np.isnan(line.get_ydata()).sum() for line in ax.lines) >= acc_only.size
    plt.close(fig)
    jolt = compare_outcomes(c, o, amplitude="acc_amplitude_median_m_s2")
    assert "amplitude_m_s2" in jolt.units and "amplitude_uV" not in jolt.units
    assert set(jolt.correlations["predictor"]) == {"twitches", "amplitude_m_s2"}
    fig = jolt.plot_correlation("vas", "amplitude_m_s2")
    assert fig.axes[0].get_xlabel() == "median amplitude of accelerometer jolts (m/s²)"
    plt.close(fig)
