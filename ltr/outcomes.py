"""Twitches and clinical outcomes: does eliciting local twitch responses go with improvement?

Hong (1994) found that patients with twitches improved more right after needling; a 2021
meta-analysis found an immediate pain reduction (MD -2.03, 95 % CI -3.77 to -0.29) and
no lasting difference; Koppenhaver (2016) split patients at ">= 1 twitch".
:func:`compare_outcomes` joins a cohort table (``ltr batch``'s ``cohort.tsv``: one row per
recording × needle insertion) with a table of outcomes per subject, session and muscle,
and reports:

- **groups**: per outcome, the change (post - pre) in the ">= 1 twitch" and "no twitch"
  groups: means, their difference with a Welch 95 % CI, and Hedges' g (bias-corrected
  standardised mean difference, pooled SD) with an analytic 95 % CI from its large-sample
  standard error (Hedges & Olkin 1985: ``se² = (n1 + n2) / (n1 n2) + g² / (2 (n1 + n2))``);
- **correlations**: Spearman's rho of the twitch count and of the twitch amplitude with
  each outcome's change, with a 95 % CI by Fisher's z with the variance ``1.06 / (n - 3)``
  of Fieller, Hartley & Pearson (1957) for rank correlations;
- **habituation**: per insertion, ``log(amplitude) = a_unit + b × insertion index`` fitted
  by least squares with one intercept per subject × session × muscle (a fixed-effects
  log-linear model: each unit's level is its own, the decline is shared), reported as
  the percent change of amplitude per insertion, ``100 (exp(b) - 1)``, with a 95 % CI
  from the t distribution; the same fit of the twitch count (twitches per insertion).

Units of analysis: subject × session × muscle. Subject, session, run and muscle come from
BIDS entities in the recording's file name (``sub-01_ses-2_acq-trapezius_run-1_emg.edf``;
``muscle-`` or else ``acq-`` names the muscle), or from columns of the same name already
in the cohort table.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Column of the cohort table used as the twitch amplitude (median per insertion, µV).
AMPLITUDE_COLUMN = "emg_amplitude_median_uV"
#: What the amplitude columns of the cohort table are a median of, for the figures.
_AMPLITUDE_LABELS = {
    "emg_amplitude_median_uV": ("EMG-led twitches", "µV"),
    "acc_amplitude_median_m_s2": ("accelerometer jolts", "m/s²"),
}


def amplitude_name(column: str) -> str:
    """The name of a cohort amplitude column in the units table, with its unit:
    ``amplitude_uV`` for ``emg_amplitude_median_uV``, ``amplitude_m_s2`` for
    ``acc_amplitude_median_m_s2``, else ``amplitude``.

    >>> amplitude_name("acc_amplitude_median_m_s2")
    'amplitude_m_s2'
    """
    for suffix in ("_uV", "_m_s2"):
        if column.endswith(suffix):
            return "amplitude" + suffix
    return "amplitude"
#: Keys of a unit of analysis, in order.
UNIT_KEYS = ("subject", "session", "muscle")
_ENTITY_RE = re.compile(r"(?:^|[_/\\])(sub|ses|run|acq|task|muscle)-([A-Za-z0-9]+)")


def parse_bids_entities(name: str | os.PathLike[str]) -> dict[str, str]:
    """BIDS entities of a file name: ``subject``, ``session``, ``run``, ``task``, ``acq``
    and ``muscle`` (``muscle-`` if present, else ``acq-``); absent ones are left out.

    Examples
    --------
    >>> parse_bids_entities("data/sub-07_ses-2_task-needling_acq-trapezius_run-3_emg.edf")
    {'subject': '07', 'session': '2', 'task': 'needling', 'acq': 'trapezius', 'run': '3', \
'muscle': 'trapezius'}
    """
    text = str(name)
    names = {"sub": "subject", "ses": "session", "run": "run", "task": "task", "acq": "acq",
             "muscle": "muscle"}
    out: dict[str, str] = {}
    for key, value in _ENTITY_RE.findall(Path(text).name):
        out[names[key]] = value
    if "muscle" not in out and "acq" in out:
        out["muscle"] = out["acq"]
    return out


def _read_table(path: str | os.PathLike[str], what: str) -> Any:
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise IsADirectoryError(f"{p}: is a directory, not a {what} table")
    sep = "," if p.suffix.lower() == ".csv" else "\t"
    try:
        return pd.read_csv(p, sep=sep, na_values=["n/a"], keep_default_na=True, dtype=str)
    except (ValueError, pd.errors.ParserError) as err:
        raise ValueError(f"{p}: cannot be read as a {what} table ({err})") from None


def _id(v: Any, prefix: str) -> str:
    s = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip()
    return s[len(prefix):] if s.lower().startswith(prefix) else s


def read_cohort(path: str | os.PathLike[str]) -> Any:
    """Read ``cohort.tsv`` and add ``subject``, ``session``, ``run``, ``muscle`` from
    each recording's file name (columns already there are kept).

    Raises
    ------
    ValueError
        Naming the file when ``recording`` or ``count`` is missing, a count is not a
        number, or a recording's name gives no subject.
    """
    import pandas as pd

    p = Path(path)
    df = _read_table(p, "cohort")
    for col in ("recording", "count"):
        if col not in df.columns:
            raise ValueError(f"{p}: a cohort table needs a {col!r} column (ltr batch writes "
                             f"cohort.tsv), found {list(df.columns)}")
    ents = [parse_bids_entities(r) for r in df["recording"].astype(str)]
    for key in ("subject", "session", "run", "muscle"):
        parsed = pd.Series([e.get(key, "") for e in ents], index=df.index, dtype=object)
        if key in df.columns:
            df[key] = df[key].fillna(parsed).map(lambda v, k=key: _id(v, k[:3] + "-"))
        else:
            df[key] = parsed
    missing = df["subject"].astype(str) == ""
    if missing.any():
        first = df.loc[missing, "recording"].iloc[0]
        raise ValueError(f"{p}: {int(missing.sum())} row(s) name no subject (no sub-ID in "
                         f"the file name, e.g. {first!r}, and no 'subject' column)")
    numeric = [c for c in df.columns if c not in ("recording", "label", "source", "subject",
                                                  "session", "run", "muscle")]
    for c in numeric:
        conv = pd.to_numeric(df[c], errors="coerce")
        bad = conv.isna() & df[c].notna()
        if c in ("count", "epoch") and bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(f"{p}: line {i + 2}: {c} {df[c].iloc[i]!r} is not a number")
        df[c] = conv
    if df["count"].isna().any():
        i = int(np.flatnonzero(df["count"].isna().to_numpy())[0])
        raise ValueError(f"{p}: line {i + 2}: count is missing")
    return df


def read_outcomes(path: str | os.PathLike[str]) -> tuple[Any, list[str]]:
    """Read an outcomes table: ``subject`` (``01`` or ``sub-01``), optional ``session`` and
    ``muscle``, and per outcome either ``NAME_pre`` and ``NAME_post`` (change = post - pre)
    or ``NAME_change``.

    Returns
    -------
    table : pandas.DataFrame
        The keys and one ``NAME_change`` column per outcome.
    outcomes : list of str
        The outcome names.

    Raises
    ------
    ValueError
        Naming the file: no ``subject`` column, no outcome columns, a value that is not a
        number, a ``_pre`` without its ``_post``, or the same unit twice.
    """
    import pandas as pd

    p = Path(path)
    df = _read_table(p, "outcomes")
    df.columns = [str(c).strip() for c in df.columns]
    if "subject" not in df.columns:
        raise ValueError(f"{p}: an outcomes table needs a 'subject' column, found "
                         f"{list(df.columns)}")
    keys = [k for k in UNIT_KEYS if k in df.columns]
    out = pd.DataFrame({k: df[k].map(lambda v, k=k: _id(v, k[:3] + "-")) for k in keys})
    names: list[str] = []
    cols = [c for c in df.columns if c not in keys]
    for c in cols:
        if c.endswith("_pre"):
            base = c[:-4]
            if f"{base}_post" not in df.columns:
                raise ValueError(f"{p}: {c!r} has no {base + '_post'!r} column")
            names.append(base)
        elif c.endswith("_change"):
            names.append(c[:-7])
        elif not c.endswith("_post"):
            raise ValueError(f"{p}: column {c!r} is neither a key ({', '.join(UNIT_KEYS)}) "
                             "nor an outcome (NAME_pre and NAME_post, or NAME_change)")
    if not names:
        raise ValueError(f"{p}: no outcome columns (NAME_pre and NAME_post, or NAME_change), "
                         f"found {list(df.columns)}")

    def num(c: str) -> Any:
        v = pd.to_numeric(df[c], errors="coerce")
        bad = v.isna() & df[c].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(f"{p}: line {i + 2}: {c} {df[c].iloc[i]!r} is not a number")
        return v

    for name in names:
        out[f"{name}_change"] = num(f"{name}_post") - num(f"{name}_pre") \
            if f"{name}_pre" in df.columns else num(f"{name}_change")
    dup = out.duplicated(subset=keys)
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValueError(f"{p}: line {i + 2}: the unit "
                         f"{', '.join(f'{k} {out[k].iloc[i]}' for k in keys)} appears twice")
    return out, names


# -- statistics -----------------------------------------------------------------------------

def hedges_g(x: Any, y: Any) -> dict[str, float]:
    """Hedges' g of ``x`` against ``y`` with an analytic 95 % CI.

    ``g = J × (mean x - mean y) / s_pooled`` with ``J = 1 - 3 / (4 (n1 + n2) - 9)``; the
    CI is ``g ± 1.96 se`` with ``se² = (n1 + n2) / (n1 n2) + g² / (2 (n1 + n2))``
    (Hedges & Olkin 1985). Also the mean difference with a Welch 95 % CI and p-value.

    Returns
    -------
    dict
        ``n1``, ``n2``, ``mean1``, ``mean2``, ``diff``, ``diff_low``, ``diff_high``,
        ``p_welch``, ``g``, ``g_low``, ``g_high``; NaN where a group has fewer than two
        values.

    Examples
    --------
    >>> r = hedges_g([1, 2, 3, 4], [3, 4, 5, 6])  # d = -2 / 1.291 = -1.549, J = 20/23
    >>> round(r["g"], 3)
    -1.347
    """
    from scipy import stats

    x = np.asarray(x, float)
    y = np.asarray(y, float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    n1, n2 = x.size, y.size
    nan = float("nan")
    out = {"n1": n1, "n2": n2, "mean1": float(x.mean()) if n1 else nan,
           "mean2": float(y.mean()) if n2 else nan}
    if n1 < 2 or n2 < 2:
        return {**out, "diff": out["mean1"] - out["mean2"], "diff_low": nan,
                "diff_high": nan, "p_welch": nan, "g": nan, "g_low": nan, "g_high": nan}
    v1, v2 = x.var(ddof=1), y.var(ddof=1)
    diff = out["mean1"] - out["mean2"]
    sp = math.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
    se_w = math.sqrt(v1 / n1 + v2 / n2)
    if se_w > 0:
        df = se_w ** 4 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
        t = float(stats.t.ppf(0.975, df))
        p = float(2 * stats.t.sf(abs(diff) / se_w, df))
    else:
        t, p = nan, nan
    if sp > 0:
        g = (1 - 3 / (4 * (n1 + n2) - 9)) * diff / sp
        se_g = math.sqrt((n1 + n2) / (n1 * n2) + g * g / (2 * (n1 + n2)))
    else:
        g, se_g = nan, nan
    return {**out, "diff": diff, "diff_low": diff - t * se_w, "diff_high": diff + t * se_w,
            "p_welch": p, "g": g, "g_low": g - 1.96 * se_g, "g_high": g + 1.96 * se_g}


def spearman_ci(x: Any, y: Any) -> dict[str, float]:
    """Spearman's rho with a 95 % CI (Fisher's z, variance 1.06 / (n - 3); Fieller,
    Hartley & Pearson 1957) and its p-value; pairs with a NaN are left out.

    Returns
    -------
    dict
        ``n``, ``rho``, ``low``, ``high``, ``p``; NaN under 4 pairs or with a constant
        variable.
    """
    from scipy import stats

    x = np.asarray(x, float)
    y = np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = int(x.size)
    nan = float("nan")
    if n < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"n": n, "rho": nan, "low": nan, "high": nan, "p": nan}
    res = stats.spearmanr(x, y)
    rho = float(res.statistic)
    z = math.atanh(min(max(rho, -0.999999), 0.999999))
    half = 1.96 * math.sqrt(1.06 / (n - 3))
    return {"n": n, "rho": rho, "low": math.tanh(z - half), "high": math.tanh(z + half),
            "p": float(res.pvalue)}


def within_unit_slope(y: Any, x: Any, unit: Any) -> dict[str, float]:
    """Least-squares slope of ``y`` on ``x`` with one intercept per unit (fixed effects).

    Returns
    -------
    dict
        ``slope``, ``low``, ``high`` (95 % CI, t with ``N - units - 1`` degrees of
        freedom), ``n`` (points), ``units`` (units with at least two points).
    """
    from scipy import stats

    y = np.asarray(y, float)
    x = np.asarray(x, float)
    u = np.asarray(unit).astype(str)
    ok = np.isfinite(y) & np.isfinite(x)
    y, x, u = y[ok], x[ok], u[ok]
    nan = float("nan")
    _codes, inv, cnt = np.unique(u, return_inverse=True, return_counts=True)
    keep = cnt[inv] >= 2  # a unit seen once says nothing about a slope within it
    y, x = y[keep], x[keep]
    inv = np.unique(inv[keep], return_inverse=True)[1].reshape(-1)
    n_units = int(np.sum(cnt >= 2))
    dof = y.size - n_units - 1
    if dof < 1:
        return {"slope": nan, "low": nan, "high": nan, "n": int(y.size), "units": n_units}
    mx = np.bincount(inv, x) / np.bincount(inv)
    my = np.bincount(inv, y) / np.bincount(inv)
    xd, yd = x - mx[inv], y - my[inv]
    sxx = float(np.sum(xd * xd))
    if sxx <= 0:
        return {"slope": nan, "low": nan, "high": nan, "n": int(y.size), "units": n_units}
    b = float(np.sum(xd * yd) / sxx)
    resid = yd - b * xd
    se = math.sqrt(float(np.sum(resid * resid)) / dof / sxx)
    t = float(stats.t.ppf(0.975, dof))
    return {"slope": b, "low": b - t * se, "high": b + t * se, "n": int(y.size),
            "units": n_units}


# -- the analysis ---------------------------------------------------------------------------

@dataclass
class OutcomeResult:
    """What :func:`compare_outcomes` found.

    Attributes
    ----------
    units : pandas.DataFrame
        One row per subject × session × muscle that joined: the keys, ``insertions``,
        ``twitches`` (count), ``twitch`` (>= 1 twitch), ``amplitude_uV`` (median over its
        insertions with twitches of :data:`AMPLITUDE_COLUMN`; named by
        :func:`amplitude_name` after the ``amplitude`` column used), and each
        ``NAME_change``.
    groups : pandas.DataFrame
        Per outcome: :func:`hedges_g` of the ">= 1 twitch" group against "no twitch".
    correlations : pandas.DataFrame
        Per outcome and predictor (``twitches``, ``amplitude_uV``): :func:`spearman_ci`.
    habituation : pandas.DataFrame
        ``amplitude`` (percent per insertion) and ``count`` (twitches per insertion) of
        :func:`within_unit_slope` on the per-insertion rows.
    outcomes : list of str
    keys : list of str
        The keys the tables were joined on.
    unmatched_outcomes, unmatched_cohort : list of str
        Units of the outcomes table with no recording, and units recorded without
        outcomes: reported, never dropped silently.
    insertions : pandas.DataFrame
        The per-insertion rows of the units that joined (for the habituation figure):
        ``amplitude`` is NaN for an insertion without twitches or whose twitches have no
        value in the amplitude column (accelerometer-only twitches, for the default EMG
        column).
    amplitude : str
        The cohort column used as the amplitude (:data:`AMPLITUDE_COLUMN` by default).
    """

    units: Any
    groups: Any
    correlations: Any
    habituation: Any
    outcomes: list[str]
    keys: list[str]
    unmatched_outcomes: list[str] = field(default_factory=list)
    unmatched_cohort: list[str] = field(default_factory=list)
    insertions: Any = None
    amplitude: str = AMPLITUDE_COLUMN

    def _amplitude_label(self) -> str:
        what, unit = _AMPLITUDE_LABELS.get(self.amplitude, (self.amplitude, ""))
        return f"median amplitude of {what}" + (f" ({unit})" if unit else "")

    def format(self) -> str:
        """A plain-text summary."""
        def f(v: Any, d: int = 2) -> str:
            return "-" if v is None or not np.isfinite(v) else f"{v:.{d}f}"

        n_tw = int(self.units["twitch"].sum())
        lines = [f"{len(self.units)} unit(s) ({' x '.join(self.keys)}) joined: {n_tw} with "
                 f">= 1 twitch, {len(self.units) - n_tw} without"]
        if self.unmatched_outcomes:
            lines.append(f"{len(self.unmatched_outcomes)} outcome row(s) did not join (no "
                         f"recording): {', '.join(self.unmatched_outcomes[:8])}")
        if self.unmatched_cohort:
            lines.append(f"{len(self.unmatched_cohort)} recorded unit(s) have no outcomes: "
                         f"{', '.join(self.unmatched_cohort[:8])}")
        lines.append("")
        lines.append(f"{'outcome change':<18} {'twitch':>8} {'none':>8} {'diff (95% CI)':>22} "
                     f"{'Hedges g (95% CI)':>24}")
        for r in self.groups.to_dict("records"):
            lines.append(f"{r['outcome']:<18} {f(r['mean1']):>8} {f(r['mean2']):>8} "
                         f"{f(r['diff']) + ' (' + f(r['diff_low']) + ', ' + f(r['diff_high']) + ')':>22} "  # noqa: E501
                         f"{f(r['g']) + ' (' + f(r['g_low']) + ', ' + f(r['g_high']) + ')':>24}")
        lines.append("")
        for r in self.correlations.to_dict("records"):
            lines.append(f"Spearman {r['predictor']} ~ {r['outcome']} change: rho "
                         f"{f(r['rho'])} ({f(r['low'])}, {f(r['high'])}), n {r['n']}")
        for r in self.habituation.to_dict("records"):
            unit = "% per insertion" if r["measure"] == "amplitude" else \
                "twitches per insertion"
            lines.append(f"habituation, {r['measure']}: {f(r['estimate'], 1 if unit[0] == '%' else 3)} "  # noqa: E501
                         f"({f(r['low'], 1 if unit[0] == '%' else 3)}, "
                         f"{f(r['high'], 1 if unit[0] == '%' else 3)}) {unit}, "
                         f"{r['units']} unit(s)")
        return "\n".join(lines)

    # -- figures and the HTML summary -------------------------------------------------------
    def plot_groups(self, outcome: str, *, ax: Any = None) -> Any:
        """Change in ``outcome`` by group (points and means). Returns the Figure."""
        from .plot import _pyplot, _text

        plt = _pyplot()
        fig, ax = (plt.subplots(figsize=(3.6, 3.2), layout="constrained") if ax is None
                   else (ax.figure, ax))
        col = f"{outcome}_change"
        rng = np.random.default_rng(0)  # a fixed jitter: the same figure every run
        for k, (flag, _label, color) in enumerate(((True, ">= 1 twitch", "#2a7"),
                                                  (False, "no twitch", "#888"))):
            v = self.units.loc[self.units["twitch"] == flag, col].to_numpy(float)
            ax.scatter(k + rng.uniform(-0.12, 0.12, v.size), v, s=14, color=color, alpha=0.7)
            if v.size:
                ax.hlines(np.nanmean(v), k - 0.25, k + 0.25, color="k", lw=2)
        ax.set_xticks([0, 1], [">= 1 twitch", "no twitch"])
        ax.set_ylabel(f"{_text(outcome)} change (post - pre)")
        ax.axhline(0, color="#ccc", lw=0.8, zorder=-1)
        return fig

    def plot_correlation(self, outcome: str, predictor: str = "twitches", *,
                         ax: Any = None) -> Any:
        """Outcome change against a predictor per unit. Returns the Figure."""
        from .plot import _pyplot, _text

        plt = _pyplot()
        fig, ax = (plt.subplots(figsize=(3.6, 3.2), layout="constrained") if ax is None
                   else (ax.figure, ax))
        ax.scatter(self.units[predictor], self.units[f"{outcome}_change"], s=14,
                   color="#2a7", alpha=0.7)
        ax.set_xlabel("twitches (count)" if predictor == "twitches" else
                      self._amplitude_label())
        ax.set_ylabel(f"{_text(outcome)} change")
        return fig

    def plot_habituation(self, *, ax: Any = None) -> Any:
        """Median twitch amplitude against insertion index, one line per unit.

        Insertions are numbered among all of the unit's insertions. An insertion without
        an amplitude (no twitch, or only twitches without a value in the amplitude
        column: accelerometer-only twitches for the default EMG column) breaks the line
        rather than being bridged, and the title says how many insertions with twitches
        were left out so.
        """
        from .plot import _pyplot

        plt = _pyplot()
        fig, ax = (plt.subplots(figsize=(4.2, 3.2), layout="constrained") if ax is None
                   else (ax.figure, ax))
        ins = self.insertions
        drawn = twitched = 0
        if ins is not None and len(ins):
            for _, g in ins.groupby("unit"):
                amp = g["amplitude"].to_numpy(float)
                ok = np.isfinite(amp) & (amp > 0)
                drawn += int(ok.sum())
                twitched += int((g["count"].to_numpy(float) > 0).sum())
                if ok.any():  # NaN breaks the line: no insertion is bridged over
                    ax.plot(g["index"], np.where(ok, amp, np.nan), "-o", ms=2, lw=0.6,
                            alpha=0.5, color="#2a7")
            if drawn:
                ax.set_yscale("log")
        left = twitched - drawn
        what = _AMPLITUDE_LABELS.get(self.amplitude, ("a value",))[0]
        ax.set_title(f"{drawn} of {twitched} insertions with twitches drawn"
                     + (f"\n{left} without {what} (not drawn)" if left else ""), fontsize=8)
        ax.set_xlabel("insertion (order within the muscle)")
        ax.set_ylabel(self._amplitude_label())
        return fig

    def write(self, out_dir: str | os.PathLike[str], *, overwrite: bool = False) -> list[Path]:
        """Write ``units.tsv``, ``groups.tsv``, ``correlations.tsv``, ``habituation.tsv``,
        a PNG per figure and ``outcomes.html`` (the figures inside) into ``out_dir``."""
        import matplotlib.pyplot as plt

        from .report import _CSS, _table
        from .results import write_table

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = [write_table(t, out / name, overwrite=overwrite) for t, name in (
            (self.units, "units.tsv"), (self.groups, "groups.tsv"),
            (self.correlations, "correlations.tsv"), (self.habituation, "habituation.tsv"))]
        figs: list[tuple[str, str, Any]] = []
        for o in self.outcomes:
            figs.append((f"groups_{o}.png", f"{o}: change by group", self.plot_groups(o)))
            figs.append((f"count_{o}.png", f"{o}: change against twitch count",
                         self.plot_correlation(o)))
        figs.append(("habituation.png", "amplitude per insertion", self.plot_habituation()))
        imgs = []
        for name, alt, fig in figs:
            p = out / name
            if p.exists() and not overwrite:
                plt.close(fig)
                raise FileExistsError(f"{p}: exists; pass overwrite=True to replace it")
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=90)
            plt.close(fig)
            p.write_bytes(buf.getvalue())
            written.append(p)
            imgs.append(f"<img src='data:image/png;base64,"
                        f"{base64.b64encode(buf.getvalue()).decode()}' alt='{html.escape(alt)}'>")
        page = out / "outcomes.html"
        if page.exists() and not overwrite:
            raise FileExistsError(f"{page}: exists; pass overwrite=True to replace it")
        g_cols = [("outcome", "outcome (change)"), ("n1", "n, >= 1 twitch"),
                  ("n2", "n, none"), ("mean1", "mean, twitch"), ("mean2", "mean, none"),
                  ("diff", "difference"), ("diff_low", "95% CI low"),
                  ("diff_high", "95% CI high"), ("p_welch", "p (Welch)"), ("g", "Hedges g"),
                  ("g_low", "g CI low"), ("g_high", "g CI high")]
        c_cols = [("outcome", "outcome (change)"), ("predictor", "predictor"), ("n", "n"),
                  ("rho", "Spearman rho"), ("low", "95% CI low"), ("high", "95% CI high"),
                  ("p", "p")]
        h_cols = [("measure", "measure"), ("estimate", "per insertion"),
                  ("low", "95% CI low"), ("high", "95% CI high"), ("unit", "unit"),
                  ("units", "units"), ("n", "insertions")]
        notes = [html.escape(t) for t in self.format().splitlines()[:3] if t]
        parts = [
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>ltr outcomes</title><style>{_CSS}</style></head><body>",
            "<h1>Twitches and outcomes</h1>",
            *(f"<p class='note'>{t}</p>" for t in notes),
            "<div class='meaning'><p>Groups: units (subject x session x muscle) with at "
            "least one twitch against those with none; change = post - pre. Hedges' g with "
            "an analytic 95 % CI (Hedges &amp; Olkin 1985); the difference of means with a "
            "Welch CI. Spearman's rho with a Fisher-z CI (variance 1.06/(n-3)). Habituation: "
            "log-linear least squares with one intercept per unit. An association is not "
            "an effect of the twitches: patients who twitch may differ in other ways.</p>"
            "</div>",
            "<h2>Change by group</h2>", _table(self.groups.to_dict("records"), g_cols, 2),
            "<h2>Correlations</h2>", _table(self.correlations.to_dict("records"), c_cols, 3),
            "<h2>Habituation over insertions</h2>",
            _table(self.habituation.to_dict("records"), h_cols, 3),
            *imgs, "</body></html>",
        ]
        page.write_text("\n".join(parts), encoding="utf-8")
        written.append(page)
        return written


def _unit_name(row: Any, keys: list[str]) -> str:
    return "_".join(f"{k[:3]}-{row[k]}" for k in keys if str(row[k]))


def compare_outcomes(cohort: Any, outcomes: Any, *,
                     amplitude: str = AMPLITUDE_COLUMN) -> OutcomeResult:
    """Relate twitch counts and amplitudes to outcome changes (see the module notes).

    Parameters
    ----------
    cohort : path | pandas.DataFrame
        ``cohort.tsv`` of ``ltr batch`` (:func:`read_cohort`), or that table with the
        ``subject`` (and ``session``, ``muscle``) columns.
    outcomes : path | (pandas.DataFrame, list of str)
        The outcomes table (:func:`read_outcomes`), or what it returns.
    amplitude : str
        Cohort column of the twitch amplitude (default :data:`AMPLITUDE_COLUMN`).

    Returns
    -------
    OutcomeResult

    Raises
    ------
    ValueError
        When the outcomes table has a key the cohort lacks (e.g. ``session`` while no
        file name has ``ses-``), or no unit joins.
    """
    import pandas as pd

    ctab = read_cohort(cohort) if isinstance(cohort, str | os.PathLike) else cohort.copy()
    cname = str(cohort) if isinstance(cohort, str | os.PathLike) else "cohort"
    if isinstance(outcomes, str | os.PathLike):
        otab, names = read_outcomes(outcomes)
        oname = str(outcomes)
    else:
        otab, names = outcomes
        oname = "outcomes"
    keys = [k for k in UNIT_KEYS if k in otab.columns]
    for k in keys:
        if k not in ctab.columns or (ctab[k].astype(str) == "").all():
            raise ValueError(f"{oname}: has a {k!r} column but {cname} gives none (no "
                             f"{k[:3]}- entity in the recordings' names); drop the column or "
                             "name the files")
    for k in keys:
        ctab[k] = ctab[k].astype(str)
        otab[k] = otab[k].astype(str)
    if amplitude not in ctab.columns:
        ctab[amplitude] = np.nan
    ctab["unit"] = ctab.apply(lambda r: _unit_name(r, keys), axis=1)
    otab = otab.copy()
    otab["unit"] = otab.apply(lambda r: _unit_name(r, keys), axis=1)
    # one unit per subject x session x muscle: its insertions in recording (run) and epoch
    # order give the insertion index
    order = [c for c in ("recording", "run", "epoch") if c in ctab.columns]
    ctab = ctab.sort_values(["unit", *order], kind="stable").reset_index(drop=True)
    ctab["index"] = ctab.groupby("unit").cumcount()
    ctab["amplitude"] = np.where(ctab["count"] > 0, ctab[amplitude], np.nan)
    amp_name = amplitude_name(amplitude)
    agg = ctab.groupby("unit", sort=True).agg(
        insertions=("count", "size"), twitches=("count", "sum"),
        **{amp_name: ("amplitude", lambda a: float(np.nanmedian(a)) if np.isfinite(a).any()
                      else float("nan"))})
    agg["twitches"] = agg["twitches"].astype(int)
    agg["twitch"] = agg["twitches"] > 0
    units = otab.merge(agg, left_on="unit", right_index=True, how="inner")
    unmatched_o = sorted(set(otab["unit"]) - set(agg.index))
    unmatched_c = sorted(set(agg.index) - set(otab["unit"]))
    if units.empty:
        raise ValueError(f"{oname}: no row joins {cname} on {', '.join(keys)} (outcomes: "
                         f"{', '.join(sorted(otab['unit'])[:4])} ...; recordings: "
                         f"{', '.join(sorted(agg.index)[:4])} ...)")
    units = units[[*keys, "unit", "insertions", "twitches", "twitch", amp_name,
                   *(f"{n}_change" for n in names)]].reset_index(drop=True)
    grows, crows = [], []
    for n in names:
        col = units[f"{n}_change"].to_numpy(float)
        tw = units["twitch"].to_numpy(bool)
        grows.append({"outcome": n, **hedges_g(col[tw], col[~tw])})
        for pred in ("twitches", amp_name):
            crows.append({"outcome": n, "predictor": pred,
                          **spearman_ci(units[pred].to_numpy(float), col)})
    ins = ctab[ctab["unit"].isin(set(units["unit"]))]
    amp = ins["amplitude"].to_numpy(float)
    logamp = np.where(np.isfinite(amp) & (amp > 0), np.log(np.where(amp > 0, amp, 1.0)),
                      np.nan)
    ha = within_unit_slope(logamp, ins["index"], ins["unit"])
    hc = within_unit_slope(ins["count"].to_numpy(float), ins["index"], ins["unit"])

    def pct(v: float) -> float:
        return 100.0 * (math.exp(v) - 1.0) if np.isfinite(v) else float("nan")

    hab = pd.DataFrame([
        {"measure": "amplitude", "estimate": pct(ha["slope"]), "low": pct(ha["low"]),
         "high": pct(ha["high"]), "unit": "% per insertion", "units": ha["units"],
         "n": ha["n"]},
        {"measure": "count", "estimate": hc["slope"], "low": hc["low"], "high": hc["high"],
         "unit": "twitches per insertion", "units": hc["units"], "n": hc["n"]},
    ])
    return OutcomeResult(
        units=units, groups=pd.DataFrame(grows), correlations=pd.DataFrame(crows),
        habituation=hab, outcomes=names, keys=keys, unmatched_outcomes=unmatched_o,
        unmatched_cohort=unmatched_c,
        insertions=ins[["unit", "index", "count", "amplitude"]].reset_index(drop=True),
        amplitude=amplitude)
