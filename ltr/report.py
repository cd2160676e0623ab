"""A self-contained HTML report (and optional PDF) of one recording's detections."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .detect.rules import describe
from .quality import assess
from .recording import Recording

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
"""


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _num(v: Any, digits: int = 2) -> str:
    if isinstance(v, float | np.floating):
        return "-" if not np.isfinite(v) else f"{v:.{digits}f}"
    return html.escape(str(v))


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]], digits: int = 2) -> str:
    if not rows:
        return "<p class='note'>none</p>"
    head = "".join(f"<th{' class=l' if i == 0 else ''}>{html.escape(label)}</th>"
                   for i, (_, label) in enumerate(columns))
    body = []
    for row in rows:
        cells = "".join(f"<td{' class=l' if i == 0 else ''}>{_num(row.get(key), digits)}</td>"
                        for i, (key, _) in enumerate(columns))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _zoom_window(results: Any, duration: float) -> tuple[float, float]:
    """A window of ~12 s around the densest run of twitches (or the start)."""
    on = results.events["onset"]
    if on.size == 0:
        return 0.0, min(duration, 12.0)
    counts = [(np.sum((on >= t) & (on < t + 10.0)), t) for t in on]
    _, t0 = max(counts)
    a = max(0.0, t0 - 1.0)
    return a, min(duration, a + 12.0)


def build_report(recording: Recording, results: Any, *, title: str | None = None) -> str:
    """The HTML text of the report (figures embedded as PNG, no network needed)."""
    from .plot import plot_detections, plot_epochs, plot_gallery, plot_overview

    quality = assess(recording)
    s = results.overview()
    name = title or Path(results.source or "recording").name
    zoom = _zoom_window(results, recording.duration)
    figs = {
        "overview": _png(plot_detections(recording, results)),
        "zoom": _png(plot_overview(recording, results, tmin=zoom[0], tmax=zoom[1])),
        "epochs": _png(plot_epochs(results)),
        "gallery": _png(plot_gallery(recording, results)),
    }
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
    ev_rows = [{"i": i + 1, "onset": ev["onset"][i], "duration": ev["duration"][i] * 1e3,
                "epoch": int(ev["epoch"][i]), "channels": ev["channels"][i],
                "modality": ev["modality"][i],
                "amplitude": ev["amplitude"][i] * (1e6 if ev["unit"][i] == "V" else 1.0),
                "unit": "µV" if ev["unit"][i] == "V" else (ev["unit"][i] or "a.u."),
                "snr": ev["snr_db"][i], "conf": ev["confidence"][i]}
               for i in range(len(results))]
    rejected = "; ".join(f"{k} ({describe(k)}): {v}" for k, v in s["rejected"].items()
                         ) or "none"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>ltr report: {html.escape(name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Local twitch responses: {html.escape(name)}</h1>",
        f"<p class='note'>{html.escape(results.source)} · {recording.duration:.1f} s at "
        f"{recording.sfreq:g} Hz · ltr {__version__} · generated "
        f"{_dt.datetime.now().strftime('%Y-%m-%d %H:%M')}</p>",
        "<div class='key'>",
        f"<div class='box'><b>{s['count']}</b>twitches</div>",
        f"<div class='box'><b>{s['rate_per_min']:.1f}</b>per minute</div>",
        f"<div class='box'><b>{len(results.epochs)}</b>needle insertions "
        f"({html.escape(results.epochs.source)})</div>",
        f"<div class='box'><b>{s['per_modality'].get('emg+acc', 0)}</b>seen on EMG and "
        "accelerometer</div>",
        f"<div class='box'><b>{sum(s['rejected'].values())}</b>look-alikes rejected</div>",
        "</div>",
        "<h2>Per needle insertion</h2>",
        _table(results.summary(by="epoch").to_dict("records"), [
            ("epoch", "epoch"), ("start_s", "start (s)"), ("stop_s", "stop (s)"),
            ("count", "twitches"), ("rate_per_min", "per min"),
            ("first_latency_s", "first after insertion (s)"),
            ("iti_median_s", "median interval (s)"),
            ("emg_amplitude_median_uV", "median EMG amplitude (µV)"),
            ("snr_median_db", "median SNR (dB)"),
            ("habituation_db_per_twitch", "habituation (dB/twitch)"),
            ("rejected", "rejected"), ("contractions", "contractions")]),
        f"<img src='{figs['epochs']}' alt='twitches per epoch and habituation'>",
        "<h2>Whole recording</h2>",
        "<p class='note'>Green: twitches (darker = more confident). Coloured and labelled: "
        "look-alikes the detector turned away. Orange: sustained contractions. Grey: needle "
        f"in. Rejected: {html.escape(rejected)}; contractions: {s['contractions']}.</p>",
        f"<img src='{figs['overview']}' alt='whole recording'>",
        f"<h2>Closer look, {zoom[0]:.1f}-{zoom[1]:.1f} s</h2>",
        "<p class='note'>Upper panels: the conditioned signal over the raw one; lower panels: "
        "the detection envelope with its running noise floor and the on/off thresholds.</p>",
        f"<img src='{figs['zoom']}' alt='zoom with envelope and thresholds'>",
        "<h2>Twitch shapes</h2>",
        f"<img src='{figs['gallery']}' alt='twitch gallery'>",
        "<h2>Per channel</h2>",
        _table(results.summary(by="channel").to_dict("records"), [
            ("channel", "channel"), ("count", "twitches"), ("rate_per_min", "per min"),
            ("snr_median_db", "median SNR (dB)"), ("rejected", "rejected"),
            ("contractions", "contractions")]),
        "<h2>Events</h2>",
        _table(ev_rows, [("i", "#"), ("onset", "onset (s)"), ("duration", "duration (ms)"),
                         ("epoch", "epoch"), ("channels", "seen on"), ("modality", "modality"),
                         ("amplitude", "amplitude"), ("unit", "unit"), ("snr", "SNR (dB)"),
                         ("conf", "confidence")], 3),
        "<h2>Recording</h2>",
        _table(ch_rows, [("name", "channel"), ("kind", "kind"), ("unit", "file unit"),
                         ("rms", "RMS"), ("rms_unit", "unit"), ("flags", "flags")]),
        "<h2>Detection settings</h2>",
        _table(proc_rows, [("channel", "channel"), ("band", "band used (Hz)"),
                           ("mains", "mains removed"), ("beats", "heartbeats removed"),
                           ("floor", "median noise floor (channel unit, SI)")], 6),
        f"<pre>{html.escape(results.config.to_toml())}</pre>",
        "</body></html>",
    ]
    return "\n".join(parts)


def write_report(
    recording: Recording, results: Any, path: str | os.PathLike[str], *,
    pdf: bool = False, overwrite: bool = False, title: str | None = None,
) -> list[Path]:
    """Write the HTML report (and, with ``pdf``, a PDF of the figures and tables).

    Parameters
    ----------
    recording : Recording
    results : TwitchResults
    path : path-like
        ``.html`` output; the PDF goes beside it with ``.pdf``.
    pdf : bool
        Also write a PDF (matplotlib's PDF backend, no extra dependency).
    overwrite : bool
        Replace existing files (default False).
    title : str | None
        Heading; the file name by default.

    Returns
    -------
    list of Path
    """
    p = Path(path)
    targets = [p] + ([p.with_suffix(".pdf")] if pdf else [])
    for q in targets:
        if q.exists() and not overwrite:
            raise FileExistsError(f"{q}: exists; pass overwrite=True to replace it")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(build_report(recording, results, title=title), encoding="utf-8")
    if pdf:
        _write_pdf(recording, results, targets[1])
    return targets


def _write_pdf(recording: Recording, results: Any, path: Path) -> None:
    from matplotlib.backends.backend_pdf import PdfPages

    from .plot import _pyplot, plot_detections, plot_epochs, plot_gallery, plot_overview

    plt = _pyplot()
    zoom = _zoom_window(results, recording.duration)
    with PdfPages(path) as pdf:
        page = plt.figure(figsize=(8.27, 11.69))
        page.text(0.05, 0.95, "Local twitch responses", fontsize=16, va="top")
        page.text(0.05, 0.91, results.source, fontsize=8, va="top")
        page.text(0.05, 0.87, results.format_summary(), fontsize=7, va="top",
                  family="monospace")
        pdf.savefig(page)
        plt.close(page)
        for fig in (plot_epochs(results), plot_detections(recording, results),
                    plot_overview(recording, results, tmin=zoom[0], tmax=zoom[1]),
                    plot_gallery(recording, results)):
            pdf.savefig(fig)
            plt.close(fig)
