"""Agreement between raters of twitches: people, the detector, or both.

No public needling recording has labelled twitches, and people disagree on them (kappa
0.05-0.57; Lim 2004 found that the twitches a clinician sees, a patient feels and a
surface EMG records disagree widely), so a study that uses ltr shows how its counts agree
with a person's. :func:`agree` compares every pair of raters:

- **events**: one-to-one onset matching within a tolerance
  (:func:`ltr.evaluate.match_onsets`, closest pairs first), precision, recall and F1 of
  rater *a* against rater *b* taken as the reference, and the onset differences of the
  matched pairs (*a* - *b*, ms: median, interquartile range, mean and SD);
- **insertions** (needle-in epochs): Cohen's kappa of "at least one twitch" per insertion
  for each pair, Fleiss' kappa over all raters when there are three or more; ICC(2,1) and
  Bland-Altman limits of agreement of the twitch counts per insertion (ICC with its 95 %
  CI, :func:`icc_ci`).

Events files are BIDS ``events.tsv`` (or ``.csv``) tables: ``onset`` (s), optionally
``duration``, ``trial_type`` and ``review_status``. A row is a twitch when it has no
``trial_type`` or one of ``twitch``/``ltr``, and its ``review_status`` (the reviewed
events file of ``ltr review``: ``confirmed``, ``rejected``, ``added``, ``moved``) is not
``rejected``. Rows ``needle in`` / ``needle out`` mark the insertions
(:func:`ltr.segment.epochs_from_annotations`). A per-insertion yes/no table (a
clinician's "seen", a patient's "felt") adds raters that take part in the kappas only.
"""

from __future__ import annotations

import csv
import itertools
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._validate import LtrDataWarning, check_positive
from .evaluate import match_onsets
from .segment import Epochs

#: ``review_status`` values of a reviewed events file; ``rejected`` rows are no twitch.
REVIEW_STATUSES = ("confirmed", "rejected", "added", "moved")
_TWITCH_TYPES = {"twitch", "ltr", "local twitch response"}
_NEEDLE_IN, _NEEDLE_OUT = "needle in", "needle out"
_YES = {"yes", "y", "1", "true", "t", "seen", "felt"}
_NO = {"no", "n", "0", "false", "f", "none"}

#: The keys of each entry of ``AgreementResult.to_dict()["pairs"]``.
PAIR_KEYS = ("a", "b", "precision", "recall", "f1", "kappa", "icc")


# -- statistics on arrays -------------------------------------------------------------------

def cohen_kappa(a: Any, b: Any) -> float:
    """Cohen's kappa of two raters' categorical ratings of the same subjects.

    ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_o`` the share of subjects rated alike
    and ``p_e`` the agreement expected from each rater's own category shares
    (Cohen 1960).

    Parameters
    ----------
    a, b : array_like
        One rating per subject (booleans, integers or labels), same length.

    Returns
    -------
    float
        NaN when it is undefined: no subjects, or ``p_e = 1`` (both raters gave every
        subject the same one category).

    Examples
    --------
    50 applications, both say yes to 20 and no to 15, A alone yes to 5, B alone to 10
    (``p_o = 0.7``, ``p_e = 0.5``):

    >>> a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    >>> b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    >>> round(cohen_kappa(a, b), 3)
    0.4
    """
    a, b = np.asarray(a).reshape(-1), np.asarray(b).reshape(-1)
    if a.size != b.size:
        raise ValueError(f"cohen_kappa needs ratings of the same subjects, got {a.size} and "
                         f"{b.size}")
    if a.size == 0:
        return float("nan")
    cats, codes = np.unique(np.concatenate([a, b]), return_inverse=True)
    ca, cb = codes[:a.size], codes[a.size:]
    po = float(np.mean(ca == cb))
    pa = np.bincount(ca, minlength=cats.size) / a.size
    pb = np.bincount(cb, minlength=cats.size) / b.size
    pe = float(np.sum(pa * pb))
    if pe >= 1 - 1e-12:
        return float("nan")
    return (po - pe) / (1 - pe)


def fleiss_kappa(ratings: Any, *, counts: bool = False) -> float:
    """Fleiss' kappa of several raters' categorical ratings (Fleiss 1971).

    Parameters
    ----------
    ratings : array_like, shape (n_subjects, n_raters)
        One rating per subject and rater; or, with ``counts=True``, shape
        (n_subjects, n_categories): how many raters put each subject in each category
        (every row summing to the same number of raters).
    counts : bool
        Whether ``ratings`` is already the table of counts.

    Returns
    -------
    float
        ``(P_bar - P_e) / (1 - P_e)``: ``P_bar`` the mean over subjects of the share of
        rater pairs that agree, ``P_e`` the sum of squared category shares. NaN when
        undefined (no subjects, fewer than two raters, or a single category used).

    Examples
    --------
    Three raters, four subjects, yes (1) or no (0):

    >>> round(fleiss_kappa([[1, 1, 1], [0, 0, 0], [1, 1, 0], [0, 0, 1]]), 3)
    0.333
    """
    x = np.asarray(ratings)
    if x.ndim != 2:
        raise ValueError(f"fleiss_kappa needs a 2-D table, got shape {x.shape}")
    if counts:
        table = x.astype(float)
        if np.any(table < 0):
            raise ValueError("fleiss_kappa: counts must be >= 0")
    else:
        _, codes = np.unique(x, return_inverse=True)
        codes = codes.reshape(x.shape)
        n_cat = int(codes.max()) + 1 if codes.size else 0
        table = np.stack([(codes == k).sum(axis=1) for k in range(n_cat)], axis=1) \
            .astype(float) if n_cat else np.zeros((x.shape[0], 0))
    if table.shape[0] == 0 or table.shape[1] == 0:
        return float("nan")
    m = table.sum(axis=1)
    if np.any(m != m[0]):
        raise ValueError("fleiss_kappa: every subject needs the same number of ratings")
    m0 = float(m[0])
    if m0 < 2:
        return float("nan")
    n = table.shape[0]
    p_i = (np.sum(table * table, axis=1) - m0) / (m0 * (m0 - 1))
    p_bar = float(np.mean(p_i))
    pj = table.sum(axis=0) / (n * m0)
    pe = float(np.sum(pj * pj))
    if pe >= 1 - 1e-12:
        return float("nan")
    return (p_bar - pe) / (1 - pe)


#: The ICC forms :func:`icc` computes (Shrout & Fleiss 1979; McGraw & Wong 1996).
ICC_FORMS = ("1,1", "2,1", "3,1")


def icc(ratings: Any, form: str = "2,1") -> float:
    """Intraclass correlation of several raters' numbers for the same subjects.

    From the two-way ANOVA mean squares of subjects (``MSR``), raters (``MSC``) and the
    residual (``MSE``), ``n`` subjects and ``k`` raters:

    - ``"2,1"`` (default): two-way random effects, absolute agreement, single rater
      (ICC(A,1) of McGraw & Wong): ``(MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE) / n)``.
      The form for twitch counts: the raters (the detector, any clinician) stand for
      raters in general, and a rater who counts two more per insertion than another
      disagrees with it even when the two rank insertions alike, so rater bias lowers it.
    - ``"3,1"``: two-way mixed, consistency: ``(MSR - MSE) / (MSR + (k-1) MSE)`` (bias
      between raters ignored).
    - ``"1,1"``: one-way random: ``(MSR - MSW) / (MSR + (k-1) MSW)``.

    Parameters
    ----------
    ratings : array_like, shape (n_subjects, n_raters)
        No missing values.
    form : {"2,1", "3,1", "1,1"}

    Returns
    -------
    float
        NaN with fewer than two subjects or raters, or when every number is the same.

    Examples
    --------
    The six targets and four judges of Shrout & Fleiss (1979, Table 2), whose ICC(2,1)
    they give as 0.29:

    >>> x = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9],
    ...      [6, 2, 4, 7]]
    >>> round(icc(x), 2), round(icc(x, "3,1"), 2), round(icc(x, "1,1"), 2)
    (0.29, 0.71, 0.17)
    """
    if form not in ICC_FORMS:
        raise ValueError(f"form must be one of {', '.join(ICC_FORMS)}, got {form!r}")
    x = np.asarray(ratings, float)
    if x.ndim != 2:
        raise ValueError(f"icc needs a 2-D table (subjects x raters), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("icc: ratings must be finite (no missing values)")
    n, k = x.shape
    if n < 2 or k < 2:
        return float("nan")
    grand = x.mean()
    ss_rows = k * float(np.sum((x.mean(axis=1) - grand) ** 2))
    ss_cols = n * float(np.sum((x.mean(axis=0) - grand) ** 2))
    ss_tot = float(np.sum((x - grand) ** 2))
    if ss_tot <= 0:
        return float("nan")
    msr = ss_rows / (n - 1)

    def ratio(num: float, den: float) -> float:
        # the denominator is >= 0; it is 0 (undefined ICC) e.g. for two subjects whose
        # raters disagree in opposite directions, [[0, 1], [1, 0]]
        return num / den if den > 1e-12 * ss_tot else float("nan")

    if form == "1,1":
        msw = (ss_tot - ss_rows) / (n * (k - 1))
        return ratio(msr - msw, msr + (k - 1) * msw)
    mse = (ss_tot - ss_rows - ss_cols) / ((n - 1) * (k - 1))
    if form == "3,1":
        return ratio(msr - mse, msr + (k - 1) * mse)
    msc = ss_cols / (k - 1)
    return ratio(msr - mse, msr + (k - 1) * mse + k * (msc - mse) / n)


def icc_ci(ratings: Any, form: str = "2,1", level: float = 0.95) -> tuple[float, float]:
    """Confidence interval of :func:`icc` from the F distribution.

    ``"2,1"``: McGraw & Wong (1996, case 2A, absolute agreement), with Satterthwaite's
    degrees of freedom for the mix of rater and residual mean squares; ``"3,1"`` and
    ``"1,1"``: the exact F intervals of Shrout & Fleiss (1979).

    Returns
    -------
    (float, float)
        Lower and upper bound; NaN where :func:`icc` is NaN.
    """
    from scipy import stats

    value = icc(ratings, form)
    x = np.asarray(ratings, float)
    nan = (float("nan"), float("nan"))
    if not np.isfinite(value):
        return nan
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * float(np.sum((x.mean(axis=1) - grand) ** 2))
    ss_cols = n * float(np.sum((x.mean(axis=0) - grand) ** 2))
    ss_tot = float(np.sum((x - grand) ** 2))
    msr = ss_rows / (n - 1)
    q = 1 - (1 - level) / 2
    if form == "1,1":
        msw = (ss_tot - ss_rows) / (n * (k - 1))
        if msw <= 0:
            return nan
        f = msr / msw
        fl = f / stats.f.ppf(q, n - 1, n * (k - 1))
        fu = f * stats.f.ppf(q, n * (k - 1), n - 1)
        return float((fl - 1) / (fl + k - 1)), float((fu - 1) / (fu + k - 1))
    mse = (ss_tot - ss_rows - ss_cols) / ((n - 1) * (k - 1))
    if mse <= 0:
        return nan
    if form == "3,1":
        f = msr / mse
        fl = f / stats.f.ppf(q, n - 1, (n - 1) * (k - 1))
        fu = f * stats.f.ppf(q, (n - 1) * (k - 1), n - 1)
        return float((fl - 1) / (fl + k - 1)), float((fu - 1) / (fu + k - 1))
    msc = ss_cols / (k - 1)
    if value >= 1:
        return nan
    a = k * value / (n * (1 - value))
    b = 1 + k * value * (n - 1) / (n * (1 - value))
    v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) +
                                     (b * mse) ** 2 / ((n - 1) * (k - 1)))
    f_hi = stats.f.ppf(q, n - 1, v)
    f_lo = stats.f.ppf(q, v, n - 1)
    low = n * (msr - f_hi * mse) / (f_hi * (k * msc + (k * n - k - n) * mse) + n * msr)
    high = n * (f_lo * msr - mse) / (k * msc + (k * n - k - n) * mse + n * f_lo * msr)
    return float(low), float(high)


def bland_altman(a: Any, b: Any) -> dict[str, float]:
    """Bland-Altman bias and 95 % limits of agreement of paired numbers.

    Parameters
    ----------
    a, b : array_like
        Paired numbers (e.g. two raters' twitch counts per insertion).

    Returns
    -------
    dict
        ``n``; ``bias`` (mean of ``a - b``), ``sd`` (its SD, ddof 1), ``loa_low`` and
        ``loa_high`` (``bias -/+ 1.96 sd``; Bland & Altman 1986). NaN under two pairs.
    """
    a, b = np.asarray(a, float).reshape(-1), np.asarray(b, float).reshape(-1)
    if a.size != b.size:
        raise ValueError(f"bland_altman needs paired numbers, got {a.size} and {b.size}")
    d = a - b
    bias = float(d.mean()) if d.size else float("nan")
    sd = float(d.std(ddof=1)) if d.size > 1 else float("nan")
    return {"n": int(d.size), "bias": bias, "sd": sd,
            "loa_low": bias - 1.96 * sd, "loa_high": bias + 1.96 * sd}


def onset_differences(diff_ms: Any) -> dict[str, float]:
    """Median, quartiles, mean and SD of onset differences (ms); NaN without any."""
    d = np.asarray(diff_ms, float).reshape(-1)
    if d.size == 0:
        nan = float("nan")
        return {"n": 0, "median": nan, "q25": nan, "q75": nan, "mean": nan, "sd": nan}
    q25, med, q75 = np.percentile(d, [25, 50, 75])
    return {"n": int(d.size), "median": float(med), "q25": float(q25), "q75": float(q75),
            "mean": float(d.mean()), "sd": float(d.std(ddof=1)) if d.size > 1 else 0.0}


# -- reading raters -------------------------------------------------------------------------

@dataclass
class RaterEvents:
    """One rater's twitches (and insertion marks) from an events file.

    Attributes
    ----------
    name : str
        How the rater is named in tables (the file's stem unless given).
    onsets : ndarray
        Twitch onsets, s, sorted.
    epochs : Epochs | None
        Insertions from the file's ``needle in``/``needle out`` rows (None without any).
    source : str
        The file read ('' for onsets given in memory).
    rejected_rows : int
        Twitch rows a reviewer rejected (``review_status == rejected``): not twitches.
    other_rows : int
        Rows of other types (confounders, marks), not twitches.
    """

    name: str
    onsets: np.ndarray
    epochs: Epochs | None = None
    source: str = ""
    rejected_rows: int = 0
    other_rows: int = 0


def _delimiter(p: Path) -> str:
    return "," if p.suffix.lower() == ".csv" else "\t"


def _rows_of(p: Path) -> tuple[list[str], list[dict[str, str]]]:
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise IsADirectoryError(f"{p}: is a directory, not a table")
    try:
        with open(p, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh, delimiter=_delimiter(p))
            fields = [f.strip() for f in (reader.fieldnames or [])]
            rows = [{(k or "").strip(): (v or "").strip() if isinstance(v, str) else v
                     for k, v in row.items()} for row in reader]
    except UnicodeDecodeError as exc:
        raise ValueError(f"{p}: is not a text table (an events file is UTF-8 TSV/CSV; "
                         f"byte {exc.start} cannot be decoded)") from None
    return fields, rows


def _number(p: Path, lineno: int, column: str, text: str) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{p}: line {lineno}: {column} {text!r} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{p}: line {lineno}: {column} {text!r} is not a finite number")
    return v


def read_rater_events(path: str | os.PathLike[str], *, name: str | None = None) -> RaterEvents:
    """Read one rater's twitches from a (reviewed) BIDS events file.

    Parameters
    ----------
    path : path-like
        ``.tsv`` (tab-separated) or ``.csv`` with an ``onset`` column (s); optional
        ``duration``, ``trial_type`` and ``review_status`` (see the module notes).
    name : str | None
        The rater's name; default the file's stem.

    Returns
    -------
    RaterEvents

    Raises
    ------
    ValueError
        Naming the file (and line) when the ``onset`` column is missing, an onset is not a
        number, or a ``review_status`` is not one of :data:`REVIEW_STATUSES`.
    """
    from .annotations import Annotations
    from .segment import epochs_from_annotations

    p = Path(path)
    fields, rows = _rows_of(p)
    if "onset" not in fields:
        raise ValueError(f"{p}: an events file needs an 'onset' column, found {fields}")
    onsets: list[float] = []
    marks: list[tuple[float, float, str]] = []
    rejected = other = 0
    for lineno, row in enumerate(rows, start=2):
        kind = (row.get("trial_type") or "twitch").lower()
        status = (row.get("review_status") or "").lower()
        if status in ("n/a", "na"):
            status = ""
        if status and status not in REVIEW_STATUSES:
            raise ValueError(f"{p}: line {lineno}: review_status {row['review_status']!r} is "
                             f"not one of {', '.join(REVIEW_STATUSES)}")
        if kind in (_NEEDLE_IN, _NEEDLE_OUT):
            if status != "rejected":
                dur = row.get("duration") or "0"
                marks.append((_number(p, lineno, "onset", row["onset"]),
                              0.0 if dur.lower() in ("n/a", "") else
                              _number(p, lineno, "duration", dur), kind))
            other += 1
            continue
        if kind not in _TWITCH_TYPES:
            other += 1
            continue
        if status == "rejected":
            rejected += 1
            continue
        onsets.append(_number(p, lineno, "onset", row["onset"]))
    epochs = None
    if marks:
        t, d, desc = zip(*marks, strict=True)
        s, e = epochs_from_annotations(Annotations(np.asarray(t), np.asarray(d), list(desc)))
        if s.size:
            epochs = Epochs(s, e, "annotations")
    return RaterEvents(name or _stem(p), np.sort(np.asarray(onsets, float)), epochs, str(p),
                       rejected, other)


def _stem(p: Path) -> str:
    name = p.name
    for suffix in (".tsv", ".csv", ".txt"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def read_epochs(path: str | os.PathLike[str]) -> Epochs:
    """Needle insertions from a table: ``start_s``/``stop_s`` (the ``epochs.tsv`` of
    ``ltr batch``), ``start``/``stop``, ``onset``/``duration``, or an events file's
    ``needle in``/``needle out`` rows.

    Raises
    ------
    ValueError
        Naming the file when none of those columns is there or a value is no number.
    """
    p = Path(path)
    fields, rows = _rows_of(p)
    if "trial_type" in fields:
        ep = read_rater_events(p).epochs
        if ep is None:
            raise ValueError(f"{p}: no 'needle in'/'needle out' rows to take insertions from")
        return ep
    for lo, hi in (("start_s", "stop_s"), ("start", "stop"), ("onset", "duration")):
        if lo in fields and hi in fields:
            a = np.array([_number(p, i, lo, r[lo]) for i, r in enumerate(rows, 2)])
            b = np.array([_number(p, i, hi, r[hi]) for i, r in enumerate(rows, 2)])
            if hi == "duration":
                b = a + b
            try:
                return Epochs(a, b, "file")
            except ValueError as err:
                raise ValueError(f"{p}: {err}") from None
    raise ValueError(f"{p}: an epochs table needs columns start_s and stop_s (or start/stop, "
                     f"onset/duration), found {fields}")


def read_insertion_table(path: str | os.PathLike[str], n_insertions: int | None = None
                         ) -> dict[str, np.ndarray]:
    """Per-insertion yes/no ratings (a clinician's "seen", a patient's "felt").

    One row per needle insertion, in order, or with an ``epoch`` column (0-based index as
    in ltr's tables) or an ``insertion`` column (1-based). Every other column is a rater;
    values are yes/no, y/n, 1/0 or true/false (any case).

    Parameters
    ----------
    path : path-like
        ``.csv`` or ``.tsv``.
    n_insertions : int | None
        The number of insertions the events define; the table must cover each exactly once.

    Returns
    -------
    dict
        Rater name -> boolean array, one entry per insertion in order.
    """
    p = Path(path)
    fields, rows = _rows_of(p)
    key = next((k for k in ("epoch", "insertion") if k in fields), None)
    raters = [f for f in fields if f and f != key]
    if not raters:
        raise ValueError(f"{p}: a per-insertion table needs at least one yes/no column, "
                         f"found {fields}")
    if key is None:
        index = np.arange(len(rows))
    else:
        index = np.array([int(_number(p, i, key, r[key])) for i, r in enumerate(rows, 2)])
        if key == "insertion":
            index = index - 1
    n = len(rows) if n_insertions is None else n_insertions
    if len(rows) != n or sorted(index.tolist()) != list(range(n)):
        raise ValueError(f"{p}: {len(rows)} row(s) for {n} needle insertion(s); the table "
                         f"needs one row per insertion"
                         + (f" ({key} {', '.join(map(str, sorted(set(index.tolist()))))})"
                            if key else ""))
    out: dict[str, np.ndarray] = {}
    for col in raters:
        vals = np.zeros(n, bool)
        for i, (row, k) in enumerate(zip(rows, index, strict=True), start=2):
            text = (row.get(col) or "").lower()
            if text in _YES:
                vals[k] = True
            elif text not in _NO:
                raise ValueError(f"{p}: line {i}: {col} {row.get(col)!r} is not yes or no "
                                 "(missing answers are not dropped silently)")
        out[col] = vals
    return out


# -- the comparison -------------------------------------------------------------------------

@dataclass
class AgreementResult:
    """What :func:`agree` found.

    Attributes
    ----------
    pairs : pandas.DataFrame
        One row per pair of raters (``a``, ``b``): ``precision``, ``recall``, ``f1`` of
        ``a``'s twitches against ``b``'s (``b`` the reference; NaN for raters of the
        yes/no table), ``tp``, ``fp``, ``fn``; ``kappa`` (Cohen, "at least one twitch"
        per insertion), ``icc`` (ICC(2,1) of the counts per insertion) and ``icc_low``,
        ``icc_high`` (its 95 % CI, :func:`icc_ci`); ``ba_bias``,
        ``ba_loa_low``, ``ba_loa_high`` (Bland-Altman of the counts ``a - b``, twitches);
        ``onset_diff_median_ms``, ``onset_diff_q25_ms``, ``onset_diff_q75_ms``,
        ``onset_diff_mean_ms``, ``onset_diff_sd_ms`` (matched onsets ``a - b``, ms);
        ``n_matched``, ``n_insertions``.
    raters : pandas.DataFrame
        One row per rater: ``rater``, ``source`` (file or table), ``twitches`` (count;
        NaN for table raters), ``rejected_rows`` (rows a reviewer rejected, not counted),
        ``outside_insertions`` (twitches with the needle out, in no insertion's count),
        ``positive_insertions`` and ``positive_share`` (insertions with at least one
        twitch).
    counts : pandas.DataFrame
        Twitch count per insertion (rows) and events rater (columns).
    positive : pandas.DataFrame
        "At least one twitch" per insertion and rater (the table raters included).
    overall : dict
        ``fleiss_kappa`` (all raters, three or more; NaN otherwise), ``icc`` (ICC(2,1)
        over all events raters' counts), ``n_raters``, ``n_insertions``.
    epochs : Epochs
        The insertions used (``source`` says where they came from; ``"none"`` when no
        file marked any: then kappa and ICC are NaN).
    epochs_from : str
        The file the insertions were taken from.
    tolerance : float
        Matching tolerance, s.
    insertion_table : pandas.DataFrame
        One row per insertion, in the order of :attr:`counts`: ``recording`` (the events
        file's name when pooled over recordings, else empty), ``epoch``, ``start_s``,
        ``stop_s``.
    notes : list of str
        What a reader should know (insertion marks that differ between files ...).
    """

    pairs: Any
    raters: Any
    counts: Any
    positive: Any
    overall: dict[str, Any]
    epochs: Epochs
    epochs_from: str
    tolerance: float
    notes: list[str] = field(default_factory=list)
    _onset_diffs: dict[tuple[str, str], np.ndarray] = field(default_factory=dict, repr=False)
    insertion_table: Any = None

    def __post_init__(self) -> None:
        if self.insertion_table is None:
            import pandas as pd

            self.insertion_table = pd.DataFrame({
                "recording": "", "epoch": np.arange(len(self.epochs)),
                "start_s": self.epochs.start, "stop_s": self.epochs.stop})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``pairs`` (each with exactly :data:`PAIR_KEYS`), ``pair_details``
        (every column of :attr:`pairs`), ``raters``, ``overall``, ``epochs``; NaN as None."""
        def clean(v: Any) -> Any:
            if isinstance(v, float | np.floating):
                return float(v) if np.isfinite(v) else None
            if isinstance(v, np.integer):
                return int(v)
            if isinstance(v, np.bool_):
                return bool(v)
            if isinstance(v, list | tuple):
                return [clean(x) for x in v]
            return v

        def records(df: Any) -> list[dict[str, Any]]:
            return [{k: clean(v) for k, v in r.items()} for r in df.to_dict("records")]

        details = records(self.pairs)
        return {
            "pairs": [{k: r[k] for k in PAIR_KEYS} for r in details],
            "pair_details": details,
            "raters": records(self.raters),
            "overall": {k: clean(v) for k, v in self.overall.items()},
            "epochs": {"n": len(self.insertion_table), "source": self.epochs.source,
                       "from": self.epochs_from,
                       "recording": self.insertion_table["recording"].astype(str).tolist(),
                       "start_s": self.insertion_table["start_s"].astype(float).tolist(),
                       "stop_s": self.insertion_table["stop_s"].astype(float).tolist()},
            "counts_per_insertion": {c: [int(v) for v in self.counts[c]]
                                     for c in self.counts.columns},
            "tolerance_s": self.tolerance,
            "notes": list(self.notes),
        }

    def format(self) -> str:
        """A plain-text summary."""
        def f(v: Any, d: int = 3) -> str:
            return "-" if v is None or (isinstance(v, float) and not np.isfinite(v)) \
                else f"{v:.{d}f}"

        n_ep = len(self.insertion_table)
        lines = [f"raters       {', '.join(self.raters['rater'])}",
                 f"insertions   {n_ep}" + (f" (from {self.epochs_from})" if n_ep else
                                           " (none marked: no kappa or ICC)"),
                 f"tolerance    {self.tolerance * 1e3:.0f} ms", ""]
        lines.append(f"{'a':<18} {'b':<18} {'prec':>6} {'rec':>6} {'F1':>6} {'kappa':>6} "
                     f"{'ICC':>6}  {'bias':>6} {'onset a-b ms (median, IQR)':>28}")
        for r in self.pairs.to_dict("records"):
            od = "-" if not np.isfinite(r["onset_diff_median_ms"]) else \
                f"{r['onset_diff_median_ms']:.1f} ({r['onset_diff_q25_ms']:.1f}.." \
                f"{r['onset_diff_q75_ms']:.1f})"
            lines.append(f"{str(r['a'])[:18]:<18} {str(r['b'])[:18]:<18} "
                         f"{f(r['precision']):>6} {f(r['recall']):>6} {f(r['f1']):>6} "
                         f"{f(r['kappa']):>6} {f(r['icc']):>6}  {f(r['ba_bias'], 2):>6} "
                         f"{od:>28}")
        if self.overall.get("n_raters", 0) >= 3:
            lines.append("")
            lines.append(f"Fleiss' kappa (all {self.overall['n_raters']} raters): "
                         f"{f(self.overall['fleiss_kappa'])}")
        if n_ep:
            lines.append("")
            lines.append("insertions with >= 1 twitch: " + ", ".join(
                f"{r['rater']} {r['positive_insertions']}/{n_ep}"
                for r in self.raters.to_dict("records")))
            pos = {int(r["positive_insertions"]) for r in self.raters.to_dict("records")}
            if pos <= {0, n_ep} and len(pos) == 1:
                lines.append("kappa: - (every rater calls every insertion the same way, "
                             f"{'>= 1 twitch' if n_ep in pos else 'no twitch'}: chance "
                             "agreement is 1 and kappa is undefined)")
        for r in self.raters.to_dict("records"):
            if r["rejected_rows"]:
                lines.append(f"{r['rater']}: {r['rejected_rows']} row(s) rejected by review, "
                             "not counted")
            if r["outside_insertions"]:
                lines.append(f"{r['rater']}: {r['outside_insertions']} twitch(es) outside "
                             "every insertion (in precision and recall, not in the per-insertion "
                             "counts)")
        lines += self.notes
        return "\n".join(ln for ln in lines).rstrip()

    def plot_bland_altman(self, a: str, b: str, *, ax: Any = None) -> Any:
        """Bland-Altman plot of two events raters' counts per insertion.

        Mean of the two counts against their difference ``a - b``, with the bias and the
        95 % limits of agreement. Returns the Figure.
        """
        from .plot import _pyplot, _text

        for r in (a, b):
            if r not in self.counts.columns:
                raise ValueError(f"{r!r} is not an events rater; events raters: "
                                 f"{list(self.counts.columns)}")
        plt = _pyplot()
        if ax is None:
            fig, ax = plt.subplots(figsize=(5, 3.6), layout="constrained")
        else:
            fig = ax.figure
        ca = self.counts[a].to_numpy(float)
        cb = self.counts[b].to_numpy(float)
        ba = bland_altman(ca, cb)
        mean, diff = (ca + cb) / 2, ca - cb
        # several insertions share a point when counts are small: jitter nothing, size by n
        pts, n = np.unique(np.stack([mean, diff], 1), axis=0, return_counts=True) \
            if mean.size else (np.zeros((0, 2)), np.zeros(0))
        ax.scatter(pts[:, 0], pts[:, 1], s=18 * n, color="#2a7", alpha=0.7,
                   label="insertions (size: how many)")
        for y, style, label in ((ba["bias"], "-", f"bias {ba['bias']:.2f}"),
                                (ba["loa_low"], "--", f"-1.96 SD {ba['loa_low']:.2f}"),
                                (ba["loa_high"], "--", f"+1.96 SD {ba['loa_high']:.2f}")):
            if np.isfinite(y):
                ax.axhline(y, color="#555", ls=style, lw=1, label=label)
        ax.set_xlabel("mean count per insertion (twitches)")
        ax.set_ylabel(f"{_text(a)} - {_text(b)} (twitches)")
        ax.set_title(f"Bland-Altman: {_text(a)} vs {_text(b)}", fontsize=10)
        ax.legend(fontsize=7, loc="best")
        return fig

    def write(self, out_dir: str | os.PathLike[str], *, overwrite: bool = False,
              figures: bool = True) -> list[Path]:
        """Write ``pairs.tsv``, ``raters.tsv``, ``counts.tsv``, ``agreement.json`` and a
        Bland-Altman PNG per pair of events raters into ``out_dir``."""
        import json

        from .results import write_table

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = [write_table(self.pairs, out / "pairs.tsv", overwrite=overwrite),
                   write_table(self.raters, out / "raters.tsv", overwrite=overwrite)]
        counts = self.counts.copy()
        for i, col in enumerate(("recording", "epoch", "start_s", "stop_s")):
            counts.insert(i, col, self.insertion_table[col].to_numpy())
        for c in self.positive.columns:
            if c not in self.counts.columns:
                counts[c] = np.where(self.positive[c], "yes", "no")
        written.append(write_table(counts, out / "counts.tsv", overwrite=overwrite))
        js = out / "agreement.json"
        if js.exists() and not overwrite:
            raise FileExistsError(f"{js}: exists; pass overwrite=True to replace it")
        js.write_text(json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n")
        written.append(js)
        if figures and len(self.insertion_table):
            import matplotlib.pyplot as plt

            for a, b in itertools.combinations(self.counts.columns, 2):
                png = out / f"bland_altman_{_safe(a)}_vs_{_safe(b)}.png"
                if png.exists() and not overwrite:
                    raise FileExistsError(f"{png}: exists; pass overwrite=True to replace it")
                fig = self.plot_bland_altman(a, b)
                fig.savefig(png, dpi=100)
                plt.close(fig)
                written.append(png)
        return written


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name))


def unreviewed(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a reviewed file written by ``ltr review`` (``review_status``
    beside the detector's ``detected_as`` or the ``reviewed_at`` stamp) in which no row
    has been decided yet: its twitches are then the detector's own calls (``ltr review``
    writes the file as soon as it opens)."""
    fields, rows = _rows_of(Path(path))
    if "review_status" not in fields or not {"detected_as", "reviewed_at"} & set(fields):
        return False
    return all((r.get("review_status") or "").lower() in ("", "n/a", "na") for r in rows)


def _warn_unreviewed(path: str | os.PathLike[str], use: str) -> None:
    if unreviewed(path):
        warnings.warn(
            f"{path}: holds no reviewer decision yet (every review_status is n/a): its "
            f"twitches are the detector's own calls, so {use} measures the detector "
            "against itself; review it first (ltr review)", LtrDataWarning, stacklevel=3)


def _as_rater(x: Any, i: int) -> RaterEvents:
    if isinstance(x, RaterEvents):
        return x
    if isinstance(x, str | os.PathLike):
        _warn_unreviewed(x, "agreement with it")
        return read_rater_events(x)
    return RaterEvents(f"rater {i + 1}", np.sort(np.asarray(
        x.onset if hasattr(x, "onset") else x, float).reshape(-1)))


def _assemble(counts: dict[str, np.ndarray], positive: dict[str, np.ndarray],
              matches: dict[tuple[str, str], tuple[int, int, int]],
              diffs: dict[tuple[str, str], np.ndarray], n_ep: int) -> tuple[Any, dict]:
    """The pair table and the overall statistics from counts per insertion, yes/no per
    insertion, matched event counts and onset differences (ms) of every events pair."""
    import pandas as pd

    rows = []
    nan = float("nan")
    for a, b in itertools.combinations(list(positive), 2):
        row: dict[str, Any] = {"a": a, "b": b}
        if (a, b) in matches:
            tp, fp, fn = matches[(a, b)]
            od = onset_differences(diffs[(a, b)])
            ba = bland_altman(counts[a], counts[b]) if n_ep else bland_altman([], [])
            row.update({
                "precision": tp / (tp + fp) if tp + fp else nan,
                "recall": tp / (tp + fn) if tp + fn else nan,
                "f1": 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn),
                "tp": tp, "fp": fp, "fn": fn,
                "icc": icc(np.stack([counts[a], counts[b]], 1)) if n_ep else nan,
                **dict(zip(("icc_low", "icc_high"),
                           icc_ci(np.stack([counts[a], counts[b]], 1)) if n_ep
                           else (nan, nan), strict=True)),
                "ba_bias": ba["bias"], "ba_loa_low": ba["loa_low"],
                "ba_loa_high": ba["loa_high"],
                "onset_diff_median_ms": od["median"], "onset_diff_q25_ms": od["q25"],
                "onset_diff_q75_ms": od["q75"], "onset_diff_mean_ms": od["mean"],
                "onset_diff_sd_ms": od["sd"], "n_matched": tp,
            })
        else:
            row.update({k: nan for k in ("precision", "recall", "f1", "tp", "fp", "fn", "icc",
                                         "icc_low", "icc_high",
                                         "ba_bias", "ba_loa_low", "ba_loa_high",
                                         "onset_diff_median_ms", "onset_diff_q25_ms",
                                         "onset_diff_q75_ms", "onset_diff_mean_ms",
                                         "onset_diff_sd_ms", "n_matched")})
        row["kappa"] = cohen_kappa(positive[a], positive[b]) if n_ep else nan
        row["n_insertions"] = n_ep
        rows.append(row)
    cols = ["a", "b", "precision", "recall", "f1", "kappa", "icc", "icc_low", "icc_high",
            "tp", "fp", "fn",
            "ba_bias", "ba_loa_low", "ba_loa_high", "onset_diff_median_ms",
            "onset_diff_q25_ms", "onset_diff_q75_ms", "onset_diff_mean_ms",
            "onset_diff_sd_ms", "n_matched", "n_insertions"]
    pairs = pd.DataFrame(rows, columns=cols)
    all_pos = np.stack([positive[k] for k in positive], 1) if n_ep else np.zeros((0, 0))
    count_mat = np.stack([counts[k] for k in counts], 1) if n_ep and counts else \
        np.zeros((0, 0))
    many = count_mat.ndim == 2 and count_mat.shape[1] >= 2
    overall = {
        "n_raters": len(positive), "n_insertions": n_ep,
        "fleiss_kappa": fleiss_kappa(all_pos) if n_ep and len(positive) >= 3 else nan,
        "icc": icc(count_mat) if many else nan,
        "icc_ci": list(icc_ci(count_mat)) if many else [nan, nan],
        "icc_form": "ICC(2,1): two-way random effects, absolute agreement, single rater",
    }
    return pairs, overall


def agree(
    raters: Sequence[Any] | Mapping[str, Any],
    *,
    tolerance: float = 0.05,
    epochs: Epochs | str | os.PathLike[str] | None = None,
    insertions: str | os.PathLike[str] | Mapping[str, Any] | None = None,
) -> AgreementResult:
    """Agreement between every pair of raters of twitches (see the module notes).

    Parameters
    ----------
    raters : sequence of (path | RaterEvents | array_like) | mapping name -> those
        Events files (reviewed or not, see :func:`read_rater_events`), readers' results,
        or onsets in seconds (a :class:`~ltr.TwitchResults` works too).
    tolerance : float
        Largest onset difference of a match, s (default 0.05, the EMG convention; 0.1 for
        accelerometer events).
    epochs : Epochs | path | None
        The needle insertions. Default: the ``needle in``/``needle out`` rows of the first
        events file that has them (files whose marks differ are named in ``notes``).
    insertions : path | mapping name -> array_like of bool | None
        Per-insertion yes/no raters (:func:`read_insertion_table`): a clinician's seen and
        a patient's felt twitches, for the three-way comparison of Lim (2004).

    Returns
    -------
    AgreementResult

    Raises
    ------
    ValueError
        Fewer than two raters; a yes/no table without insertions to lay it on, or with
        the wrong number of rows.
    """
    import pandas as pd

    tol = check_positive("tolerance", tolerance, allow_zero=True)
    items = list(raters.items()) if isinstance(raters, Mapping) else \
        [(None, r) for r in raters]
    rs: list[RaterEvents] = []
    for i, (name, r) in enumerate(items):
        rr = _as_rater(r, i)
        if name is not None:
            rr.name = str(name)
        rs.append(rr)
    names = [r.name for r in rs]
    if len(set(names)) < len(names):  # same stems in different folders: the paths then
        for r in rs:
            r.name = r.source or r.name
        names = [r.name for r in rs]
        if len(set(names)) < len(names):
            raise ValueError(f"raters need distinct names, got {names}")

    notes: list[str] = []
    epochs_from = ""
    if epochs is None:
        marked = [r for r in rs if r.epochs is not None]
        ep = marked[0].epochs if marked and marked[0].epochs is not None else \
            Epochs(source="none")
        epochs_from = (marked[0].source or marked[0].name) if marked else ""
        for r in marked[1:]:
            other = r.epochs
            same = other is not None and len(other) == len(ep) and \
                np.allclose(other.start, ep.start, atol=1e-3) and \
                np.allclose(other.stop, ep.stop, atol=1e-3)
            if other is not None and not same:
                notes.append(f"note: {r.source or r.name} marks {len(other)} insertion(s) that "
                             f"differ from those of {epochs_from} ({len(ep)}), which are used")
    elif isinstance(epochs, Epochs):
        ep, epochs_from = epochs, "epochs given"
    else:
        ep, epochs_from = read_epochs(epochs), str(epochs)
    n_ep = len(ep)

    table: dict[str, np.ndarray] = {}
    table_source = ""
    if insertions is not None:
        if n_ep == 0:
            raise ValueError("a per-insertion yes/no table needs needle insertions: give "
                             "epochs= or mark 'needle in'/'needle out' in an events file")
        if isinstance(insertions, Mapping):
            table = {str(k): np.asarray(v, bool).reshape(-1) for k, v in insertions.items()}
            for k, v in table.items():
                if v.size != n_ep:
                    raise ValueError(f"insertions: {k} has {v.size} answer(s) for {n_ep} "
                                     "needle insertion(s)")
            table_source = "table"
        else:
            table = read_insertion_table(insertions, n_ep)
            table_source = str(insertions)
        clash = sorted(set(table) & set(names))
        if clash:
            raise ValueError(f"{table_source}: column(s) {clash} have the name of an events "
                             "rater; rename them")
    if len(rs) + len(table) < 2:
        raise ValueError(f"agreement needs at least two raters, got {len(rs) + len(table)}")

    counts = {}
    rater_rows = []
    for r in rs:
        idx = ep.assign(r.onsets) if n_ep else np.full(r.onsets.size, -1)
        c = np.bincount(idx[idx >= 0], minlength=n_ep)[:n_ep]
        counts[r.name] = c
        rater_rows.append({"rater": r.name, "source": r.source or "onsets",
                           "twitches": int(r.onsets.size), "rejected_rows": r.rejected_rows,
                           "outside_insertions": int(np.sum(idx < 0)) if n_ep else 0,
                           "positive_insertions": int(np.sum(c > 0)),
                           "positive_share": float(np.mean(c > 0)) if n_ep else float("nan")})
    for k, v in table.items():
        rater_rows.append({"rater": k, "source": table_source, "twitches": float("nan"),
                           "rejected_rows": 0, "outside_insertions": 0,
                           "positive_insertions": int(v.sum()),
                           "positive_share": float(v.mean())})
    positive = {**{k: v > 0 for k, v in counts.items()}, **table}

    by_name = {r.name: r for r in rs}
    matches: dict[tuple[str, str], tuple[int, int, int]] = {}
    diffs: dict[tuple[str, str], np.ndarray] = {}
    for a, b in itertools.combinations(list(counts), 2):
        ra, rb = by_name[a], by_name[b]
        md, mr = match_onsets(ra.onsets, rb.onsets, tol)
        matches[(a, b)] = (int(md.size), int(ra.onsets.size - md.size),
                           int(rb.onsets.size - md.size))
        diffs[(a, b)] = (ra.onsets[md] - rb.onsets[mr]) * 1e3
    pairs, overall = _assemble(counts, positive, matches, diffs, n_ep)
    if n_ep == 0:
        warnings.warn("no needle insertions are marked (no 'needle in'/'needle out' rows "
                      "and no epochs given): kappa and ICC need them and are left out",
                      LtrDataWarning, stacklevel=2)
    return AgreementResult(
        pairs=pairs, raters=pd.DataFrame(rater_rows), counts=pd.DataFrame(counts),
        positive=pd.DataFrame(positive), overall=overall, epochs=ep,
        epochs_from=epochs_from, tolerance=tol, notes=notes, _onset_diffs=diffs)


def agree_folders(folders: Sequence[str | os.PathLike[str]], *,
                  tolerance: float = 0.05) -> AgreementResult:
    """Agreement pooled over many recordings: one folder per rater, one events file per
    recording in each, paired by file name.

    Events are matched within each recording and the matches summed; the insertions of
    every recording (from its files' ``needle in``/``needle out`` rows, as in
    :func:`agree`) are stacked, so kappa, ICC and Bland-Altman are over all insertions.

    Parameters
    ----------
    folders : sequence of path
        One folder per rater (its name names the rater), holding ``.tsv``/``.csv``
        events files.
    tolerance : float
        Onset matching tolerance, s.

    Returns
    -------
    AgreementResult
        With :attr:`~AgreementResult.insertion_table` naming each insertion's recording.

    Raises
    ------
    ValueError
        Naming the folder when it misses a recording another folder has (nothing is
        dropped silently), or holds no events file.
    """
    import pandas as pd

    dirs = [Path(f) for f in folders]
    files: list[dict[str, Path]] = []
    for d in dirs:
        if not d.is_dir():
            raise NotADirectoryError(f"{d}: not a folder")
        found = {p.name: p for p in sorted(d.iterdir())
                 if p.is_file() and p.suffix.lower() in (".tsv", ".csv")}
        if not found:
            raise ValueError(f"{d}: holds no events file (.tsv, .csv)")
        files.append(found)
    if len(dirs) < 2:
        raise ValueError(f"agreement over folders needs at least two, got {len(dirs)}")
    names = [d.name or str(d) for d in dirs]
    if len(set(names)) < len(names):
        names = [str(d) for d in dirs]
    keys = sorted(set().union(*files))
    for d, f in zip(dirs, files, strict=True):
        missing = [k for k in keys if k not in f]
        if missing:
            raise ValueError(f"{d}: has no {missing[0]!r} (another folder has it; "
                             f"{len(missing)} recording(s) missing in all); each folder needs "
                             "one events file per recording, named alike")
    counts: dict[str, list[np.ndarray]] = {n: [] for n in names}
    matches: dict[tuple[str, str], np.ndarray] = {}
    diffs: dict[tuple[str, str], list[np.ndarray]] = {}
    ins_rows: list[Any] = []
    rater_rows = {n: {"rater": n, "source": str(d), "twitches": 0, "rejected_rows": 0,
                      "outside_insertions": 0} for n, d in zip(names, dirs, strict=True)}
    notes: list[str] = []
    unmarked = []
    for key in keys:
        for f in files:
            _warn_unreviewed(f[key], "agreement with it")
        rs = [read_rater_events(f[key], name=n) for f, n in zip(files, names, strict=True)]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", LtrDataWarning)
            one = agree(rs, tolerance=tolerance)
        for w in caught:  # the 'no insertions' warning becomes one note; others pass on
            if issubclass(w.category, LtrDataWarning) and "no needle insertions" in \
                    str(w.message):
                unmarked.append(key)
            else:
                warnings.warn(f"{key}: {w.message}", w.category, stacklevel=2)
        notes += [f"{key}: {n.removeprefix('note: ')}" for n in one.notes]
        for n in names:
            counts[n].append(one.counts[n].to_numpy())
        for r in one.raters.to_dict("records"):
            for c in ("twitches", "rejected_rows", "outside_insertions"):
                rater_rows[r["rater"]][c] += int(r[c])
        for r in one.pairs.to_dict("records"):
            k = (r["a"], r["b"])
            matches[k] = matches.get(k, np.zeros(3, int)) + \
                np.array([r["tp"], r["fp"], r["fn"]], int)
            diffs.setdefault(k, []).append(one._onset_diffs[k])
        t = one.insertion_table.copy()
        t["recording"] = key
        ins_rows.append(t)
    if unmarked:
        notes.append(f"note: {len(unmarked)} recording(s) mark no needle insertion and add "
                     f"none to kappa and ICC (e.g. {unmarked[0]})")
    cat = {n: np.concatenate(v).astype(int) for n, v in counts.items()}
    n_ep = int(next(iter(cat.values())).size)
    positive = {n: v > 0 for n, v in cat.items()}
    for n in names:
        rater_rows[n]["positive_insertions"] = int(positive[n].sum())
        rater_rows[n]["positive_share"] = float(positive[n].mean()) if n_ep else float("nan")
    pairs, overall = _assemble(cat, positive,
                               {k: tuple(int(x) for x in v) for k, v in matches.items()},
                               {k: np.concatenate(v) for k, v in diffs.items()}, n_ep)
    overall["n_recordings"] = len(keys)
    return AgreementResult(
        pairs=pairs, raters=pd.DataFrame(list(rater_rows.values())),
        counts=pd.DataFrame(cat), positive=pd.DataFrame(positive), overall=overall,
        epochs=Epochs(source="pooled"), epochs_from=f"{len(keys)} recording(s)",
        tolerance=check_positive("tolerance", tolerance, allow_zero=True), notes=notes,
        _onset_diffs={k: np.concatenate(v) for k, v in diffs.items()},
        insertion_table=pd.concat(ins_rows, ignore_index=True) if ins_rows else None)
