"""A self-contained HTML report (and optional PDF) of one recording's detections."""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import html
import io
import os
import re
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .detect.rules import describe
from .quality import assess
from .recording import Recording
from .results import jolt_amplitude, us_amplitude

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1150px;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.2em;border-bottom:1px solid #ccc;
padding-bottom:.2em;margin-top:1.6em}
.key{display:flex;gap:1em;flex-wrap:wrap;margin:1em 0}
.box{background:#f4f7f4;border:1px solid #cdd;border-radius:6px;padding:.6em 1em;min-width:9em}
.box b{display:block;font-size:1.6em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#eef} td.l,th.l{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}
pre{background:#f7f7f7;padding:.8em;font-size:.8em;overflow-x:auto}
.note{color:#555;font-size:.85em}
.fields{border:none;font-size:.95em} .fields td,.fields th{border:none;text-align:left;
padding:.1em 1.2em .1em 0} .fields th{background:none;color:#555;font-weight:normal}
.meaning{background:#fbfaf2;border-left:4px solid #cc9;padding:.5em 1em;font-size:.9em}
.meaning p{margin:.3em 0}
.thumbs{display:flex;flex-wrap:wrap;gap:.6em} .thumbs figure{margin:0;font-size:.8em}
.thumbs img{margin:0;width:272px}
"""


def _num(v: Any, digits: int = 2) -> str:
    if isinstance(v, float | np.floating):
        return "-" if not np.isfinite(v) else f"{v:.{digits}f}"
    if v is None:
        return "-"
    return str(v)


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]], digits: int = 2) -> str:
    if not rows:
        return "<p class='note'>none</p>"
    left = [i == 0 or isinstance(rows[0].get(key), str) for i, (key, _) in enumerate(columns)]
    head = "".join(f"<th{' class=l' if left[i] else ''}>{html.escape(label)}</th>"
                   for i, (_, label) in enumerate(columns))
    body = []
    for row in rows:
        cells = "".join(f"<td{' class=l' if left[i] else ''}>"
                        f"{html.escape(_num(row.get(key), digits))}</td>"
                        for i, (key, _) in enumerate(columns))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _rows(table: Any) -> list[dict[str, Any]]:
    """Rows of a summary table, a list of dicts or a :class:`pandas.DataFrame`."""
    from .plot import _rows as rows

    return rows(table)


def _zoom_window(results: Any, duration: float) -> tuple[float, float]:
    """A window of ~12 s around the densest run of twitches (or the start)."""
    on = results.events["onset"]
    if on.size == 0:
        return 0.0, min(duration, 12.0)
    counts = [(np.sum((on >= t) & (on < t + 10.0)), t) for t in on]
    _, t0 = max(counts)
    a = max(0.0, t0 - 1.0)
    return a, min(duration, a + 12.0)


#: Times listed per rejection reason in the report (the count is always complete).
MAX_REJECTED_TIMES = 12

_BIDS_ENTITY = re.compile(r"(?:^|_)([A-Za-z]+)-([A-Za-z0-9]+)")


def _clock(meas_date: _dt.datetime | None) -> Any:
    """``clock(t)``: the wall-clock time ``t`` s into the recording, or None."""
    if meas_date is None:
        return None

    def clock(t: float) -> str:
        return (meas_date + _dt.timedelta(seconds=float(t))).strftime("%H:%M:%S")

    return clock


def _fields(recording: Recording, results: Any, subject: str | None, muscle: str | None,
            side: str | None) -> dict[str, str]:
    """Subject, muscle and side: the options, else the recording's metadata, else the
    entities of a BIDS-like file name (``sub-07_ses-01_..._emg.edf``; ``muscle-`` and
    ``side-`` entities are read too); "not given" when none says."""
    meta = recording.meta
    info = meta.get("subject_info") if isinstance(meta.get("subject_info"), dict) else {}
    stem = Path(str(results.source or meta.get("source", ""))).name
    ent = {k.lower(): v for k, v in _BIDS_ENTITY.findall(stem.split(".")[0])}
    out: dict[str, str] = {}
    for key, given, meta_keys in (
            ("subject", subject, ("subject", "subject_id", "his_id")),
            ("session", None, ("session",)),
            ("muscle", muscle, ("muscle",)),
            ("side", side, ("side", "laterality"))):
        value = given
        for mk in meta_keys:
            if value is None:
                value = meta.get(mk) or info.get(mk)
        if value is None:
            value = ent.get({"subject": "sub", "session": "ses"}.get(key, key))
        if value is not None or key != "session":
            out[key] = str(value) if value not in (None, "") else "not given"
    if recording.meas_date is not None:
        out["recorded"] = recording.meas_date.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    else:
        out["recorded"] = "start time unknown (times are seconds from the start)"
    return out


def _meaning(results: Any, clock: Any, ultrasound: bool = False) -> list[str]:
    """A short plain statement of what the counts mean and do not mean."""
    src = results.epochs.source
    where = {"annotations": "from the needle in/out marks in the file",
             "trigger": "from the trigger channel",
             "activity": "guessed from clusters of needling activity (no marks in the "
                         "file): their start is the first activity, so no latency is "
                         "given"}.get(src, "not found: the whole recording is one span")
    what = ("a twitch is a brief (50-300 ms) local tissue motion that the detector found "
            "in the ultrasound clip's region of interest and that passed its checks against "
            "look-alikes (probe or patient movement, needle manipulation, frozen frames, "
            "breathing, pulsation)" if ultrasound else
            "a twitch is a short burst that the detector found on the EMG "
            "and/or the skin accelerometer and that passed its checks against look-alikes "
            "(needle-contact spikes, electrode pops, cable motion, heartbeats, lone motor "
            "units, movements)")
    if "clip" in results.meta and not ultrasound:
        from .results import clip_position

        c = results.meta["clip"]
        what += (". An ultrasound clip of the same needling was fused in: a clip twitch "
                 "next to one of the recording's joins it (emg+us, acc+us), the others are "
                 "counted as ultrasound twitches (us); the clip's first frame is at "
                 + clip_position(c)
                 + ("" if c.get("checked") else " — not confirmed by the twitches both "
                    "saw, so a twitch may be counted twice"))
    amps = ([] if ultrasound or not results.meta.get("acc") else [
        "Amplitudes: a twitch led by EMG has its EMG peak in µV; the accelerometer's jolt "
        "(m/s², its peak on the conditioned signal) is given for every twitch the "
        "accelerometer saw, with or without EMG, and the median ACC jolt per insertion is "
        "over all of those."])
    return [
        f"What the counts are: {what}. Needle insertions are {where}. Times are seconds "
        "from the "
        "start of the recording" + (", with the clock time where the file has a start "
        "time." if clock is not None else "."),
        "What they are not: a count is not a diagnosis, and neither a high nor a zero "
        "count proves that a trigger point was or was not reached. " + (
            "Motions smaller than the clip's noise are missed, a twitch during a probe "
            "movement or a needle manipulation is turned away with it, and a look-alike "
            "can still be counted now and then; the confidence of ultrasound twitches is "
            "not calibrated yet. Look at the velocity trace and at the rejected "
            "look-alikes before relying on a number; counts from different probes, "
            "depths or frame rates are not directly comparable." if ultrasound else
            "Twitches smaller than the noise floor are missed, twitches inside a "
            "stronger sustained contraction are not counted (the contraction is listed "
            "instead), and a look-alike can still be counted now and then. Look at the "
            "traces and at the rejected look-alikes before relying on a number; counts "
            "from different recording set-ups (needle or surface EMG, accelerometer or "
            "not) are not directly comparable."),
        *amps,
    ]


def _rejected_rows(results: Any, clock: Any) -> list[dict[str, Any]]:
    """One row per rejection reason: count, channels and the times."""
    rj = results.rejected
    reasons = rj["reason"].astype(str)
    rows = []
    for reason in sorted(set(reasons.tolist()), key=lambda r: (-np.sum(reasons == r), r)):
        sel = np.flatnonzero(reasons == reason)
        on = np.sort(rj["onset"][sel])
        shown = on[:MAX_REJECTED_TIMES]
        times = ", ".join(f"{t:.1f}" + (f" ({clock(t)})" if clock is not None else "")
                          for t in shown)
        if on.size > shown.size:
            times += f" ... and {on.size - shown.size} more"
        rows.append({"reason": reason, "meaning": describe(reason),
                     "count": int(sel.size),
                     "channels": ", ".join(sorted(set(rj["channel"][sel].astype(str)))),
                     "times": times})
    return rows


def _content(recording: Recording, results: Any, *, title: str | None,
             subject: str | None, muscle: str | None, side: str | None,
             clip: Any = None, max_thumbnails: int | None = None,
             clip_recording: Recording | None = None) -> dict[str, Any]:
    """What the HTML and the PDF report both show: header, key numbers, tables.

    Summary columns read: epoch table ``epoch``, ``start_s``, ``stop_s``, ``count``,
    ``rate_per_min``, ``first_latency_s``, ``iti_median_s``, ``emg_amplitude_median_uV``,
    ``acc_amplitude_median_m_s2`` (the jolt of every twitch the accelerometer saw, with or
    without EMG; shown as "-" when absent),
    ``snr_median_db``, ``habituation_db_per_twitch``, ``rejected``, ``contractions``;
    channel table ``channel``, ``count``, ``rate_per_min``, ``snr_median_db``,
    ``rejected``, ``contractions``.
    """
    quality = assess(recording)
    us = _ultrasound(recording, results, clip, max_thumbnails, clip_recording)
    reasons, n_reason = np.unique(results.rejected["reason"].astype(str), return_counts=True)
    s = {"count": len(results), "rate_per_min": results.rate_per_min,
         "both": int(sum({"emg", "acc"} <= set(m.split("+"))
                         for m in results.events["modality"].astype(str))),
         "rejected": {str(r): int(n) for r, n in zip(reasons, n_reason, strict=True)},
         "contractions": int(results.contractions["onset"].size)}
    clock = _clock(recording.meas_date)
    name = title or Path(results.source or "recording").name
    by_epoch = _rows(results.summary(by="epoch"))
    for r in by_epoch:
        r["clock"] = clock(r["start_s"]) if clock is not None else "-"
    ch_rows = [{"name": c.name, "kind": c.kind, "unit": c.orig_unit or "-",
                "rms": c.rms * (1e6 if c.unit == "V" else 1.0),
                "rms_unit": "µV" if c.unit == "V" else (c.unit or "-"),
                "flags": ", ".join(c.flags) or "ok"} for c in quality.channels]
    proc_rows = [{"channel": ch, "band": "-".join(f"{b:g}" for b in p.get("band_hz", [])),
                  "mains": (f"{p['mains_hz']:.2f} Hz, harmonics {p['mains_harmonics']}"
                            if p.get("mains_hz") else "none found"),
                  "beats": p.get("heartbeats", "-"),
                  "floor": results.noise_floor.get(ch, float("nan"))}
                 for ch, p in results.processing.items()]
    ev = results.events
    jolt = jolt_amplitude(ev)
    us_amp, us_unit = us_amplitude(ev)
    ev_rows = [{"i": i + 1, "onset": ev["onset"][i],
                "clock": clock(ev["onset"][i]) if clock is not None else "-",
                "duration": ev["duration"][i] * 1e3,
                "epoch": int(ev["epoch"][i]), "channels": str(ev["channels"][i]),
                "modality": str(ev["modality"][i]),
                "amplitude": ev["amplitude"][i] * (1e6 if ev["unit"][i] == "V" else 1.0),
                "unit": "µV" if ev["unit"][i] == "V" else (str(ev["unit"][i]) or "a.u."),
                "jolt": jolt[i], "us_amp": us_amp[i],
                "snr": ev["snr_db"][i], "conf": ev["confidence"][i]}
               for i in range(len(results))]
    ep_cols = [("epoch", "epoch"), ("clock", "clock"), ("start_s", "start (s)"),
               ("stop_s", "stop (s)"), ("count", "twitches"), ("rate_per_min", "per min"),
               ("first_latency_s", "first after insertion (s)"),
               ("iti_median_s", "median interval (s)"),
               ("emg_amplitude_median_uV", "median EMG amplitude (µV)"),
               ("acc_amplitude_median_m_s2", "median ACC jolt, every twitch it saw (m/s²)"),
               ("snr_median_db", "median SNR (dB)"),
               ("habituation_db_per_twitch", "habituation (dB/twitch)"),
               ("rejected", "rejected"), ("contractions", "contractions")]
    if clock is None:
        ep_cols.pop(1)
    if not _has_emg_acc(results):  # a clip's report: no EMG or ACC amplitudes to show
        ep_cols = [c for c in ep_cols if c[0] not in ("emg_amplitude_median_uV",
                                                      "acc_amplitude_median_m_s2")]
    ev_cols = [("i", "#"), ("onset", "onset (s)"), ("clock", "clock"),
               ("duration", "duration (ms)"), ("epoch", "epoch"), ("channels", "seen on"),
               ("modality", "modality"), ("amplitude", "amplitude"), ("unit", "unit"),
               ("jolt", "ACC jolt (m/s²)"), ("us_amp", "clip speed"), ("snr", "SNR (dB)"),
               ("conf", "confidence")]
    if clock is None:
        ev_cols.pop(2)
    if not results.meta.get("acc"):  # no accelerometer: no jolts
        ev_cols = [c for c in ev_cols if c[0] != "jolt"]
    units = "/".join(sorted(set(us_unit[us_unit != ""].tolist())))
    if "clip" in results.meta:  # a fused clip: its twitch's speed on every row it saw
        ev_cols = [(k, "clip speed" + (f" ({units})" if units else "") if k == "us_amp"
                    else v) for k, v in ev_cols]
    else:  # a clip's own report has it as the amplitude already
        ev_cols = [c for c in ev_cols if c[0] != "us_amp"]
    return {
        "name": name, "clock": clock, "summary": s,
        "zoom": _zoom_window(results, recording.duration),
        "fields": _fields(recording, results, subject, muscle, side),
        "meaning": _meaning(results, clock, ultrasound=us is not None
                            and not _has_emg_acc(results)),
        "us": us, "us_fused": us is not None and "clip" in results.meta,
        "keys": [(str(s["count"]), "twitches"), (f"{s['rate_per_min']:.1f}", "per minute"),
                 (str(len(results.epochs)), f"needle insertions ({results.epochs.source})"),
                 *([(str(s["both"]), "seen on EMG and accelerometer")]
                   if results.meta.get("emg") and results.meta.get("acc") else []),
                 *([(str(results.meta["clip"]["fused"]), "also seen on the ultrasound clip"),
                    (str(results.meta["clip"]["us_only"]), "on the clip alone")]
                   if "clip" in results.meta else []),
                 (str(sum(s["rejected"].values())), "look-alikes rejected")],
        "tables": {
            "epochs": ("Per needle insertion", ep_cols, by_epoch, 2),
            "rejected": ("Rejected look-alikes", [
                ("reason", "reason"), ("count", "count"), ("channels", "channels"),
                ("meaning", "what it is"),
                ("times", "times (s" + (", clock" if clock is not None else "") + ")")],
                _rejected_rows(results, clock), 2),
            "channels": ("Per channel", [
                ("channel", "channel"), ("count", "twitches"), ("rate_per_min", "per min"),
                ("snr_median_db", "median SNR (dB)"), ("rejected", "rejected"),
                ("contractions", "contractions")], _rows(results.summary(by="channel")), 2),
            "events": ("Events", ev_cols, ev_rows, 3),
            "recording": ("Recording", [
                ("name", "channel"), ("kind", "kind"), ("unit", "file unit"),
                ("rms", "RMS"), ("rms_unit", "unit"), ("flags", "flags")], ch_rows, 2),
            "settings": ("Detection settings", [
                ("channel", "channel"), ("band", "band used (Hz)"),
                ("mains", "mains removed"), ("beats", "heartbeats removed"),
                ("floor", "median noise floor (channel unit, SI)")], proc_rows, 6),
        },
    }


def _has_emg_acc(results: Any) -> bool:
    """Whether EMG channels or accelerometers were analysed."""
    return bool(results.meta.get("emg") or results.meta.get("acc"))


def _ultrasound(recording: Recording, results: Any, clip: Any,
                max_thumbnails: int | None, clip_recording: Recording | None = None) -> Any:
    """The twitches' thumbnails (:mod:`ltr.ultrasound.figures`) of a cine loop's motion
    recording (:func:`~ltr.ultrasound.figures.twitch_thumbnails`), or of the rows a fused
    clip saw when its motion recording is given
    (:func:`~ltr.ultrasound.figures.fused_thumbnails`); None for any other recording."""
    if clip_recording is not None and "clip" not in results.meta:
        raise ValueError("clip_recording is the motion recording of a clip fused in "
                         "(ltr.fuse_clip); these results hold no fused clip")
    fused = clip_recording is not None
    if not ("us" in recording.ch_kinds and isinstance(recording.meta.get("ultrasound"),
                                                       dict)) and not fused:
        return None
    from .ultrasound.figures import MAX_THUMBNAILS, fused_thumbnails, twitch_thumbnails

    n = MAX_THUMBNAILS if max_thumbnails is None else max_thumbnails
    if fused:
        return fused_thumbnails(clip_recording, results, clip, max_thumbnails=n)
    return twitch_thumbnails(recording, results, clip, max_thumbnails=n)


#: Needle insertions drawn as panels at most; beyond, those with the most twitches.
MAX_INSERTION_PANELS = 100


def _insertions_drawn(results: Any) -> list[int]:
    """The epochs drawn as panels, in time order: all of them up to
    :data:`MAX_INSERTION_PANELS`, else the ones with the most twitches."""
    n = len(results.epochs)
    if n <= MAX_INSERTION_PANELS:
        return list(range(n))
    counts = np.bincount(results.events["epoch"][results.events["epoch"] >= 0].astype(int),
                         minlength=n)[:n]
    order = np.argsort(-counts, kind="stable")[:MAX_INSERTION_PANELS]
    return sorted(int(k) for k in order)


def _insertion_pages(results: Any) -> list[list[int]]:
    """Epoch indices per page of insertion panels."""
    from .plot import INSERTIONS_PER_PAGE

    drawn = _insertions_drawn(results)
    return [drawn[a: a + INSERTIONS_PER_PAGE] for a in range(0, len(drawn), INSERTIONS_PER_PAGE)]


#: Thumbnails per page of the PDF report.
THUMBNAILS_PER_PAGE = 16


def _figures(recording: Recording, results: Any, c: dict[str, Any],
             ) -> list[tuple[str, Any, str]]:
    """The report's figures in order, as (key, function making the figure, where: "both",
    "html" or "pdf"). The EMG/accelerometer figures are drawn when such channels were
    analysed; a cine loop's recording gets its velocity trace and a thumbnail per twitch
    (one image each in the HTML, pages of them in the PDF)."""
    from . import plot

    zoom = c["zoom"]
    emg_acc = _has_emg_acc(results)
    figs: list[tuple[str, Any, str]] = [("epochs", lambda: plot.plot_epochs(results), "both")]
    if emg_acc:
        figs.append(("overview", lambda: plot.plot_detections(recording, results), "both"))
    figs += [("insertions", lambda page=page: plot.plot_insertions(
        recording, results, page, clock=c["clock"]), "both")
        for page in _insertion_pages(results)]
    if emg_acc:
        figs += [("zoom", lambda: plot.plot_overview(recording, results, tmin=zoom[0],
                                                     tmax=zoom[1]), "both"),
                 ("gallery", lambda: plot.plot_gallery(recording, results), "both")]
    us = c.get("us")
    if us is not None:
        from .ultrasound import figures as usf

        if not c.get("us_fused"):  # a fused clip's trace is on its own clock: not drawn
            figs.append(("us_velocity", lambda: usf.plot_velocity(recording, results),
                         "both"))
        figs += [("us_thumb", lambda th=th: usf.plot_thumbnail(th, us), "html")
                 for th in us.items]
        figs += [("us_thumbs", lambda a=a: usf.plot_thumbnails(
            us, us.items[a: a + THUMBNAILS_PER_PAGE]), "pdf")
            for a in range(0, len(us.items), THUMBNAILS_PER_PAGE)]
    return figs


def _render(recording: Recording, results: Any, c: dict[str, Any], pdf_path: Path | None,
            png: bool) -> dict[str, list[str]]:
    """Make each figure once, one at a time: into the PDF at ``pdf_path`` (with the text
    pages) and/or as PNG data URIs for the HTML (returned by figure key)."""
    plt = _pyplot()
    pngs: dict[str, list[str]] = {}
    pdf = None
    with contextlib.ExitStack() as stack:
        if pdf_path is not None:
            from matplotlib.backends.backend_pdf import PdfPages

            pdf = stack.enter_context(PdfPages(pdf_path))
            info = pdf.infodict()
            info["Title"] = f"Local twitch responses: {c['name']}"
            info["Creator"] = f"ltr {__version__}"
            _pdf_front(pdf, recording, results, c)
        for key, make, where in _figures(recording, results, c):  # a loop over figures
            if (where == "pdf" and pdf is None) or (where == "html" and not png):
                continue
            fig = make()
            try:
                if pdf is not None and where != "html":
                    pdf.savefig(fig)
                if png and where != "pdf":
                    buf = io.BytesIO()
                    fig.savefig(buf, format="png", dpi=80)
                    pngs.setdefault(key, []).append(
                        "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode())
            finally:
                plt.close(fig)
        if pdf is not None:
            _pdf_back(pdf, results, c)
    return pngs


def _pyplot() -> Any:
    from .plot import _pyplot as pyplot

    return pyplot()


def build_report(recording: Recording, results: Any, *, title: str | None = None,
                 subject: str | None = None, muscle: str | None = None,
                 side: str | None = None, clip: Any = None,
                 max_thumbnails: int | None = None,
                 clip_recording: Recording | None = None) -> str:
    """The HTML text of the report (figures embedded as PNG, no network needed).

    Parameters
    ----------
    recording : Recording
        The recording that was analysed (read piece by piece for the figures).
    results : TwitchResults
        What :func:`ltr.detect` returned for it.
    title : str | None
        Heading; the file name by default.
    subject, muscle, side : str | None
        Shown in the header; by default taken from the recording's metadata or from a
        BIDS-like file name (``sub-07_..._emg.edf``), else "not given".
    clip : ltr.ultrasound.Clip | None
        For a cine loop's motion recording (or ``clip_recording``): the clip, whose
        frames around each twitch are drawn as thumbnails with the motion map. By
        default the in-memory clip the recording was made from, else the file in
        ``recording.meta["source"]``, read again only around each twitch.
    max_thumbnails : int | None
        Thumbnails drawn at most, the first twitches in time (default
        :data:`ltr.ultrasound.figures.MAX_THUMBNAILS`, 24; 0: none); the report says
        how many were left out.
    clip_recording : Recording | None
        For results fused with a clip (:func:`ltr.fuse_clip`): the clip's motion
        recording (``ltr.read`` of the clip file, or
        :func:`ltr.ultrasound.motion_recording`), to draw the thumbnails of the twitches
        the clip saw (:func:`ltr.ultrasound.figures.fused_thumbnails`); without it the
        report of a fused result has no thumbnails. The clip's velocity trace is not
        drawn (it is on the clip's clock).

    Returns
    -------
    str
    """
    c = _content(recording, results, title=title, subject=subject, muscle=muscle, side=side,
                 clip=clip, max_thumbnails=max_thumbnails, clip_recording=clip_recording)
    return _html(recording, results, c, _render(recording, results, c, None, png=True))


def _drawn_note(results: Any) -> str:
    n, shown = len(results.epochs), len(_insertions_drawn(results))
    if shown == n:
        return ""
    return (f" {shown} of the {n} insertions are drawn: those with the most twitches "
            "(every insertion is in the table).")


def _first(figs: dict[str, list[str]], key: str) -> str:
    return figs.get(key, [""])[0]


def _html(recording: Recording, results: Any, c: dict[str, Any],
          figs: dict[str, list[str]]) -> str:
    s, name, tables, zoom = c["summary"], c["name"], c["tables"], c["zoom"]
    rejected = ", ".join(f"{k}: {v}" for k, v in s["rejected"].items()) or "none"

    def table(key: str) -> str:
        heading, cols, rows, digits = tables[key]
        return f"<h2>{html.escape(heading)}</h2>" + _table(rows, cols, digits)

    fields = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                     for k, v in c["fields"].items())
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>ltr report: {html.escape(name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Local twitch responses: {html.escape(name)}</h1>",
        f"<table class='fields'>{fields}</table>",
        f"<p class='note'>{html.escape(results.source)} · {recording.duration:.1f} s at "
        f"{recording.sfreq:g} Hz · ltr {__version__} · generated "
        f"{_dt.datetime.now().strftime('%Y-%m-%d %H:%M')}</p>",
        "<div class='key'>",
        *(f"<div class='box'><b>{html.escape(v)}</b>{html.escape(k)}</div>"
          for v, k in c["keys"]),
        "</div>",
        "<div class='meaning'>", *(f"<p>{html.escape(t)}</p>" for t in c["meaning"]),
        "</div>",
        table("epochs"),
        f"<img src='{_first(figs, 'epochs')}' alt='twitches per insertion and habituation'>",
        *(["<h2>Whole recording</h2>",
           "<p class='note'>Green bands and triangles: twitches (darker = more confident; "
           "hollow = seen on another channel). Crosses and labels: look-alikes the "
           "detector turned away. Orange: sustained contractions. Grey: needle in. "
           f"Rejected: {html.escape(rejected)}; contractions: {s['contractions']}.</p>",
           f"<img src='{_first(figs, 'overview')}' alt='whole recording'>"]
          if "overview" in figs else []),
        "<h2>Each needle insertion</h2>",
        "<p class='note'>One panel per insertion, from 1 s before the needle went in to 1 s "
        "after it came out, all on one amplitude scale."
        f"{_drawn_note(results)}</p>" if len(results.epochs) else
        "<p class='note'>No needle insertions were found.</p>",
        *(f"<img src='{png}' alt='needle insertions, page {k + 1}'>"
          for k, png in enumerate(figs.get("insertions", []))),
        table("rejected"),
        *([f"<h2>Closer look, {zoom[0]:.1f}-{zoom[1]:.1f} s</h2>",
           "<p class='note'>Upper panels: the conditioned signal over the raw one; lower "
           "panels: the detection envelope with its running noise floor and the on/off "
           "thresholds.</p>",
           f"<img src='{_first(figs, 'zoom')}' alt='zoom with envelope and thresholds'>"]
          if "zoom" in figs else []),
        *(["<h2>Twitch shapes</h2>",
           f"<img src='{_first(figs, 'gallery')}' alt='twitch gallery'>"]
          if "gallery" in figs else []),
        table("channels"),
        table("events"),
        *_us_html(c.get("us"), figs, rejected, fused=c.get("us_fused", False)),
        table("recording"),
        table("settings"),
        f"<pre>{html.escape(results.config.to_toml())}</pre>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _us_html(us: Any, figs: dict[str, list[str]], rejected: str,
             fused: bool = False) -> list[str]:
    """The ultrasound section: the velocity trace (a clip's own report), then a
    thumbnail per twitch drawn and how many were left out (nothing for another
    recording)."""
    if us is None:
        return []
    if fused:  # the clip's velocity trace is on its own clock: not drawn here
        out = ["<h2>Twitches on the fused ultrasound clip</h2>",
               "<p class='note'>The twitches the clip saw (us, emg+us, acc+us, emg+acc+us), "
               "numbered as in the events table, at their times on the recording's clock; "
               "the frames are the clip's own.</p>"]
    else:
        out = ["<h2>Tissue velocity</h2>",
               "<p class='note'>Upper panel: tissue speed in the region of interest "
               "relative to the whole field (the channel the twitches were found on); green "
               "bands: twitches, numbered as in the events table; crosses and labels: "
               f"look-alikes turned away ({html.escape(rejected)}). Lower panel: speed of "
               "the whole field (probe or patient movement, breathing) and along the "
               "needle's shaft, which the look-alike rules read.</p>",
               f"<img class='usvelocity' src='{_first(figs, 'us_velocity')}' "
               "alt='tissue velocity'>",
               "<h2>Twitches on the ultrasound clip</h2>"]
    items = us.items
    if us.note:
        out.append(f"<p class='note'>No thumbnails: {html.escape(us.note)}.</p>")
    elif us.n_twitches == 0:
        out.append("<p class='note'>No twitch was found on the clip.</p>")
    else:
        shown = (f"all {len(items)} twitches" if not us.n_left_out else
                 f"the first {len(items)} of the {us.n_twitches} twitches; "
                 f"{us.n_left_out} left out (raise the cap with --thumbnails N, or "
                 "max_thumbnails=)")
        out.append(
            "<p class='note'>The frame at each twitch's peak with its motion map: "
            "the largest local tissue speed of each point over the twitch (the whole "
            "field's motion taken out; colour from a fifth of the scale up, one scale "
            f"for all, {us.vmax:.3g} {html.escape(us.unit)} at the top), the region of "
            f"interest dashed. Shown: {shown}.</p>")
        out.append("<div class='thumbs'>")
        for th, png in zip(items, figs.get("us_thumb", []), strict=False):
            out.append(f"<figure class='usthumb' data-twitch='{th.index + 1}'>"
                       f"<img src='{png}' alt='twitch {th.index + 1}: frame and motion "
                       f"map'><figcaption>#{th.index + 1} at {th.onset:.2f} s, frames "
                       f"{th.frames_read[0]}-{th.frames_read[1] - 1}</figcaption></figure>")
        out.append("</div>")
    return out


def write_report(
    recording: Recording, results: Any, path: str | os.PathLike[str], *,
    pdf: bool = False, overwrite: bool = False, title: str | None = None,
    subject: str | None = None, muscle: str | None = None, side: str | None = None,
    clip: Any = None, max_thumbnails: int | None = None,
    clip_recording: Recording | None = None,
) -> list[Path]:
    """Write the HTML report, a PDF report, or both.

    Parameters
    ----------
    recording : Recording
    results : TwitchResults
    path : path-like
        ``.pdf``: a PDF report only. Any other suffix (``.html``): the HTML report, and
        with ``pdf`` the PDF beside it with ``.pdf``.
    pdf : bool
        Also write a PDF (matplotlib's PDF backend, no extra dependency): the header,
        tables as text pages and the figures.
    overwrite : bool
        Replace existing files (default False).
    title : str | None
        Heading; the file name by default.
    subject, muscle, side : str | None
        Header fields (see :func:`build_report`).
    clip, max_thumbnails, clip_recording
        The thumbnails of a cine loop's twitches, or of a fused clip's (see
        :func:`build_report`).

    Returns
    -------
    list of Path
        The files written.
    """
    p = Path(path)
    as_pdf = p.suffix.lower() == ".pdf"
    targets = [p] if as_pdf else [p] + ([p.with_suffix(".pdf")] if pdf else [])
    for q in targets:
        if q.exists() and not overwrite:
            raise FileExistsError(f"{q}: exists; pass overwrite=True to replace it")
    p.parent.mkdir(parents=True, exist_ok=True)
    c = _content(recording, results, title=title, subject=subject, muscle=muscle, side=side,
                 clip=clip, max_thumbnails=max_thumbnails, clip_recording=clip_recording)
    figs = _render(recording, results, c, targets[-1] if (as_pdf or pdf) else None,
                   png=not as_pdf)
    if not as_pdf:
        p.write_text(_html(recording, results, c, figs), encoding="utf-8")
    return targets


def _text_table(rows: list[dict[str, Any]], columns: list[tuple[str, str]],
                digits: int) -> list[str]:
    """A table as monospaced lines, each column as wide as its widest cell (<= 60)."""
    cells = [[_num(r.get(k), digits) for k, _ in columns] for r in rows]
    width, heads = [], []
    for j, (_, label) in enumerate(columns):  # headings on up to two lines
        w = min(60, max([0] + [len(c[j]) for c in cells]))
        w = max(w, *(len(x) for x in label.split()), -(-len(label) // 2))
        while len(textwrap.wrap(label, w)) > 2:
            w += 1
        width.append(w)
        heads.append(textwrap.wrap(label, w))
    top = [h[0] if len(h) == 2 else "" for h in heads]
    bottom = [h[-1] for h in heads]

    right = [j > 0 and bool(cells) and all(_numeric(c[j]) for c in cells)
             for j in range(len(columns))]

    def line(vals: list[str]) -> str:
        out = []
        for j, v in enumerate(vals):
            v = v if len(v) <= width[j] else v[: width[j] - 3] + "..."
            out.append(v.rjust(width[j]) if right[j] else v.ljust(width[j]))
        return "  ".join(out).rstrip()

    head = [line(top)] if any(top) else []
    return [*head, line(bottom), "  ".join("-" * w for w in width)] + [line(c) for c in cells]


def _head_lines(lines: list[str]) -> int:
    """Lines of a :func:`_text_table`'s heading (through its dashed rule)."""
    for k, x in enumerate(lines[:3]):
        if x and set(x) <= {"-", " "}:
            return k + 1
    return 0


def _numeric(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return v == "-"
    return True


#: The PDF's text pages use the standard PDF fonts: real, searchable text, no font
#: embedded (and only characters of the Latin-1 range).
_PDF_TEXT_RC = {"pdf.use14corefonts": True, "axes.unicode_minus": False,
                "font.family": "monospace", "font.monospace": ["Courier"],
                "font.weight": "medium"}  # the weight of the standard Courier

_A4 = (8.27, 11.69)


def _text_pages(pdf: Any, heading: str, lines: list[str], size: float = 7.0,
                head: int = 0) -> None:
    """Monospaced lines on as many A4 pages as they need: landscape when a line is too
    long for portrait, and a smaller font (down to 5 pt) when it is too long for that.
    The first ``head`` lines (a table's heading) are repeated on every page."""
    import matplotlib

    from .plot import _text

    plt = _pyplot()
    width = max([len(x) for x in lines] + [1])
    fits = [pt for pt in (size, 6.0, 5.0) if pt <= size]
    shape = _A4
    for pt in fits:  # portrait, then landscape, at falling font sizes
        if width * _COURIER_EM * pt <= 0.9 * _A4[0] * 72:
            size = pt
            break
        if width * _COURIER_EM * pt <= 0.9 * _A4[1] * 72:
            size, shape = pt, (_A4[1], _A4[0])
            break
    else:
        size, shape = fits[-1], (_A4[1], _A4[0])
    per_page = max(10, int(0.86 * shape[1] * 72 / (_LINE_HEIGHT * size))) - head
    top, body = lines[:head], lines[head:]
    with matplotlib.rc_context(_PDF_TEXT_RC):
        for start in range(0, max(1, len(body)), per_page):  # a loop over pages
            page = plt.figure(figsize=shape)
            more = " (continued)" if start else ""
            page.text(0.05, 0.965, _text(heading + more), fontsize=12, va="top")
            text = "\n".join(_text(x) for x in top + body[start: start + per_page])
            page.text(0.05, 0.93, text, fontsize=size, va="top", linespacing=1.25)
            pdf.savefig(page)
            plt.close(page)


#: Width of a Courier character and height of a text line, in units of the font size.
_COURIER_EM, _LINE_HEIGHT = 0.6, 1.0


def _pdf_front(pdf: Any, recording: Recording, results: Any, c: dict[str, Any]) -> None:
    """The title page (header fields, key numbers, what the counts mean), then the
    tables a reader looks at first."""
    lines = [f"{k:<10} {v}" for k, v in c["fields"].items()]
    lines += ["", f"source     {results.source}",
              f"length     {recording.duration:.1f} s at {recording.sfreq:g} Hz",
              f"ltr        {__version__}", ""]
    lines += [f"{v:>8}  {k}" for v, k in c["keys"]]
    lines.append("")
    for para in c["meaning"]:
        lines += [*textwrap.wrap(para, 100), ""]
    if _drawn_note(results):
        lines += textwrap.wrap(_drawn_note(results).strip(), 100)
    _text_pages(pdf, f"Local twitch responses: {c['name']}", lines, 8.0)
    for key in ("epochs", "rejected", "channels"):
        heading, cols, rows, digits = c["tables"][key]
        if key == "rejected":  # the explanation and times would be too wide
            lines = [*_text_table(rows, cols[:3], digits), ""] if rows else ["none"]
            for r in rows:
                lines += [f"{r['reason']}: {r['meaning']}"]
                lines += ["    " + x for x in textwrap.wrap(r["times"], 100)]
        else:
            lines = _text_table(rows, cols, digits) if rows else ["none"]
        _text_pages(pdf, heading, lines, 6.5 if key == "epochs" else 7.0,
                    head=_head_lines(lines) if key != "rejected" else 0)


def _pdf_back(pdf: Any, results: Any, c: dict[str, Any]) -> None:
    """The long tables after the figures: events, channels, settings, configuration."""
    for key in ("events", "recording", "settings"):
        heading, cols, rows, digits = c["tables"][key]
        lines = _text_table(rows, cols, digits) if rows else ["none"]
        _text_pages(pdf, heading, lines, head=_head_lines(lines))
    _text_pages(pdf, "Detector configuration", results.config.to_toml().splitlines())
