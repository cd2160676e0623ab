"""The report at clinic scale: many insertions, visible marks, a real PDF, safe labels."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

import ltr
from ltr.cli import main
from ltr.plot import _rows

pytest.importorskip("matplotlib")

SAMPLE = Path(__file__).resolve().parents[1] / "recordings" / "sample_emg_acc.edf"


def pdf_text(data: bytes) -> str:
    """The text a matplotlib PDF shows in the standard fonts: the strings of its ``Tj``
    and ``TJ`` operators, one per line (a small parser, no PDF library needed)."""
    def unescape(s: bytes) -> bytes:
        return re.sub(rb"\\([0-7]{1,3}|.)", lambda m: (
            bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit()
            else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(m.group(1), m.group(1))), s)

    lines = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            content = zlib.decompress(m.group(1))
        except zlib.error:
            continue
        for t in re.finditer(rb"\[((?:\\.|[^\]\\])*)\]\s*TJ|\(((?:\\.|[^\\)])*)\)\s*Tj",
                             content, re.S):
            parts = (re.findall(rb"\(((?:\\.|[^\\)])*)\)", t.group(1))
                     if t.group(1) is not None else [t.group(2)])
            lines.append(b"".join(unescape(p) for p in parts).decode("latin-1"))
    return "\n".join(lines)


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", data))


@pytest.fixture(scope="module")
def sample():
    rec = ltr.read(SAMPLE)
    return rec, ltr.detect(rec)


@pytest.fixture
def no_figures(monkeypatch):
    """Tests of the report's text skip drawing its figures (they have their own tests)."""
    import ltr.report

    monkeypatch.setattr(ltr.report, "_figures", lambda *args: [], raising=False)


@pytest.fixture(scope="module")
def many():
    """A 4-minute session with 44 short needle insertions (the clinic's scale of
    insertions at a fraction of the length)."""
    from ltr.simulate import session

    rec, _ = session(duration=240, sfreq=1000, layout="emg", seed=5,
                     epoch_duration=(3, 5), gap_duration=(1, 2))
    return rec, ltr.detect(rec)


# -- figures --------------------------------------------------------------------------
def test_habituation_plot_does_not_grow_with_insertions(many):
    import matplotlib.pyplot as plt

    from ltr.plot import plot_epochs

    _rec, res = many
    assert len(res.epochs) >= 30  # the point of the fixture
    fig = plot_epochs(res)
    ax_n, ax_h, ax_s = fig.axes
    assert len(ax_n.patches) == len(res.epochs)  # one bar per insertion
    for ax in fig.axes:  # a legend of a few entries, not one per epoch
        legend = ax.get_legend()
        assert legend is None or len(legend.get_texts()) <= 3
    # dots + median line + zero line on the habituation panel, whatever the epoch count
    assert len(ax_h.lines) <= 3
    assert len(ax_s.lines) <= 3
    plt.close(fig)


def test_twitch_marks_stay_visible_on_the_whole_recording(sample):
    import matplotlib.pyplot as plt

    from ltr.plot import plot_detections

    rec, res = sample
    fig = plot_detections(rec, res)
    ax = fig.axes[0]  # EMG trapezius
    rugs = [c for c in ax.collections if c.get_gid() == "rug-twitch"]
    n_marks = sum(len(c.get_offsets()) for c in rugs)
    assert n_marks == len(res)  # every twitch has a marker (hollow if seen elsewhere)
    # a marker has a size in points, not in seconds: >= 3 px at the report's 80 dpi
    # whatever the recording's length (s is the area in points^2)
    assert all(np.sqrt(c.get_sizes()).min() * 80 / 72 >= 3 for c in rugs)
    np.testing.assert_allclose(np.sort(np.concatenate([c.get_offsets()[:, 0] for c in rugs])),
                               np.sort(res.onset), atol=1e-9)  # exactly at the onsets
    rej = [c for c in ax.collections if c.get_gid() == "rug-rejected"]
    mine = int(np.sum(res.rejected["channel"] == "EMG trapezius"))
    assert sum(len(c.get_offsets()) for c in rej) == mine
    plt.close(fig)


def test_insertion_panels_read_only_the_insertions(sample):
    import matplotlib.pyplot as plt

    from ltr.plot import plot_insertions

    rec, res = sample
    read = []
    original = rec.get_data

    def spy(start=0, stop=None, *args, **kwargs):
        read.append((start, rec.n_samples if stop is None else stop))
        return original(start, stop, *args, **kwargs)

    rec.get_data = spy
    try:
        fig = plot_insertions(rec, res, margin=1.0)
    finally:
        del rec.get_data
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == len(res.epochs)
    counts = [int(r["count"]) for r in _rows(res.summary(by="epoch"))]
    for ax, k, n in zip(shown, range(len(counts)), counts, strict=True):
        assert ax.get_title(loc="left").startswith(f"#{k}")
        assert f": {n} twitch" in ax.get_title(loc="left")
    # one span per insertion: the epoch, 1 s margin and 2 s of filter context each side
    spans = np.asarray(res.epochs.stop) - np.asarray(res.epochs.start)
    limit = (spans.sum() + len(spans) * (2 * 1.0 + 2 * 2.0)) * rec.sfreq + len(spans)
    assert len(read) == len(res.epochs)
    assert sum(b - a for a, b in read) <= limit
    assert sum(b - a for a, b in read) < rec.n_samples  # not the whole recording
    ylims = {ax.get_ylim() for ax in shown}
    assert len(ylims) == 1  # one scale for all panels
    plt.close(fig)


@pytest.mark.parametrize("label", ["EMG $left$", "ACC_$x^{$", "EMG $\\frac$"])
def test_mathtext_labels_are_shown_literally(sample, label):
    import matplotlib.pyplot as plt

    from ltr import plot

    rec, _ = sample
    data = rec.get_data()
    names = [label if n == "EMG trapezius" else n for n in rec.ch_names]
    odd = ltr.Recording(data, rec.sfreq, names, rec.ch_kinds, units=rec.units,
                        annotations=rec.annotations, meas_date=rec.meas_date,
                        meta={"source": f"{label}.edf"})
    res = ltr.detect(odd)
    for make in (lambda: plot.plot_detections(odd, res, tmin=5, tmax=25),
                 lambda: plot.plot_overview(odd, res, tmin=5, tmax=15),
                 lambda: plot.plot_gallery(odd, res),
                 lambda: plot.plot_insertions(odd, res, [0])):
        fig = make()
        fig.canvas.draw()  # mathtext parses at draw time: this raised ValueError
        texts = [t.get_text() for ax in fig.axes for t in
                 (ax.yaxis.label, ax.title)] + [fig.get_suptitle()]
        assert any(label.replace("$", r"\$") in t for t in texts)
        plt.close(fig)


def test_cli_report_with_a_mathtext_label(sample, tmp_path, capsys):
    rec, _ = sample
    names = ["EMG $x_{$" if n == "EMG trapezius" else n for n in rec.ch_names]
    odd = ltr.Recording(rec.get_data(), rec.sfreq, names, rec.ch_kinds, units=rec.units,
                        annotations=rec.annotations, meas_date=rec.meas_date)
    path = ltr.write_edf(odd, tmp_path / "odd.edf")
    assert main(["report", str(path), "-o", str(tmp_path / "r.html"), "--pdf"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    text = (tmp_path / "r.html").read_text()
    assert "EMG $x_{$" in text and text.count("data:image/png") == 5
    assert "EMG $x_{$" in pdf_text((tmp_path / "r.pdf").read_bytes())


def test_report_of_a_recording_without_twitches_or_insertions(tmp_path, capsys):
    from ltr.report import write_report

    rng = np.random.default_rng(0)
    rec = ltr.Recording(rng.normal(0, 5e-6, (1, 20_000)), 2000.0, ["EMG quiet"], ["emg"])
    res = ltr.detect(rec)
    assert len(res) == 0 and len(res.epochs) == 0
    html_path, pdf_path = write_report(rec, res, tmp_path / "q.html", pdf=True)
    text = html_path.read_text()
    assert "<b>0</b>twitches" in text and "No needle insertions were found." in text
    assert "Per needle insertion" in pdf_text(pdf_path.read_bytes())
    # a second run names the flag that replaces the outputs
    assert main(["report", str(ltr.write_hdf5(rec, tmp_path / "q.h5")), "-o",
                 str(html_path)]) == 1
    assert "--overwrite" in capsys.readouterr().err


# -- content ---------------------------------------------------------------------------
def test_report_header_rejected_table_and_meaning(sample, no_figures):
    from ltr.report import build_report

    rec, res = sample
    text = build_report(rec, res, subject="P-12", muscle="upper trapezius", side="left")
    for field in ("<th>subject</th><td>P-12</td>", "<th>muscle</th><td>upper trapezius</td>",
                  "<th>side</th><td>left</td>",
                  "<th>recorded</th><td>2026-01-01 09:00:00 UTC</td>"):
        assert field in text
    # the rejected look-alikes by reason, with count and times (clock from meas_date)
    n_mov = int(np.sum(res.rejected["reason"] == "movement"))
    assert n_mov > 12  # more than are listed, so the remainder is counted
    first = float(np.sort(res.rejected["onset"][res.rejected["reason"] == "movement"])[0])
    clock = f"09:00:{int(first):02d}"  # the sample starts at 09:00:00 and is 90 s long
    assert re.search(rf"<td class=l>movement</td><td>{n_mov}</td>", text)
    assert f"{first:.1f} ({clock})" in text
    assert f"and {n_mov - 12} more" in text
    # clock times for insertions and events
    start = float(res.epochs.start[0])
    assert f"<td class=l>09:00:{int(start):02d}</td>" in text
    assert "What they are not: a count is not a diagnosis" in text


def test_insertion_panels_are_limited_to_the_busiest(sample, monkeypatch, no_figures):
    import ltr.report
    from ltr.report import _insertion_pages, build_report

    rec, res = sample
    counts = [int(r["count"]) for r in _rows(res.summary(by="epoch"))]
    monkeypatch.setattr(ltr.report, "MAX_INSERTION_PANELS", 2)
    monkeypatch.setattr("ltr.plot.INSERTIONS_PER_PAGE", 1)
    pages = _insertion_pages(res)
    busiest = sorted(np.argsort(-np.asarray(counts), kind="stable")[:2].tolist())
    assert pages == [[busiest[0]], [busiest[1]]]  # in time order, a page each
    assert "2 of the 3 insertions are drawn" in build_report(rec, res)


def test_header_falls_back_to_bids_name_and_metadata(sample, tmp_path, no_figures):
    from ltr.report import build_report

    rec, res = sample
    bids = tmp_path / "sub-07_ses-02_task-needling_side-right_emg.edf"
    shutil.copy(SAMPLE, bids)
    rec2 = ltr.read(bids)
    rec2.meta["muscle"] = "infraspinatus"
    res2 = ltr.detect(rec2)
    text = build_report(rec2, res2)
    assert "<th>subject</th><td>07</td>" in text
    assert "<th>session</th><td>02</td>" in text
    assert "<th>side</th><td>right</td>" in text
    assert "<th>muscle</th><td>infraspinatus</td>" in text
    # an option wins over the metadata; nothing known says so
    assert "<th>muscle</th><td>deltoid</td>" in build_report(rec2, res2, muscle="deltoid")
    text = build_report(rec, res)
    assert "<th>subject</th><td>not given</td>" in text


def test_no_start_time_gives_seconds_only(sample, no_figures):
    from ltr.report import build_report

    rec, _res = sample
    bare = ltr.Recording(rec.get_data(), rec.sfreq, rec.ch_names, rec.ch_kinds,
                         units=rec.units, annotations=rec.annotations)
    text = build_report(bare, ltr.detect(bare))
    assert "start time unknown" in text
    assert not re.search(r"\d\d:\d\d:\d\d\)", text)  # no clock beside the times


def test_report_reads_tables_as_data_frames(sample, monkeypatch, no_figures):
    """Summary tables may come as pandas DataFrames: the report reads them either way."""
    pd = pytest.importorskip("pandas")
    from ltr.report import build_report
    from ltr.results import TwitchResults

    rec, res = sample
    as_list = build_report(rec, res)
    tables = {by: pd.DataFrame(res.summary(by=by)) for by in ("epoch", "channel")}

    def summary(self, by=None):
        return tables[by]

    monkeypatch.setattr(TwitchResults, "summary", summary)
    as_frame = build_report(rec, res)
    strip = re.compile(r"generated [0-9: -]+")
    assert strip.sub("", as_frame) == strip.sub("", as_list)


# -- PDF ---------------------------------------------------------------------------------
def test_pdf_output_is_a_real_pdf_with_the_tables(sample, tmp_path):
    _rec, res = sample
    out = tmp_path / "r.pdf"
    assert main(["report", str(SAMPLE), "-o", str(out), "--subject", "P-3",
                 "--muscle", "trapezius", "--side", "left"]) == 0
    data = out.read_bytes()
    assert data[:5] == b"%PDF-" and b"<html" not in data.lower()
    assert not (tmp_path / "r.html").exists()
    text = pdf_text(data)
    for needle in ("Local twitch responses: sample_emg_acc.edf", "Per needle insertion",
                   "Rejected look-alikes", "Per channel", "Events", "P-3", "trapezius",
                   "What they are not", "Detector configuration"):
        assert needle in text, needle
    # the events table holds every onset (3 decimals, as printed)
    for onset in res.onset:
        assert f"{onset:.3f}" in text
    assert pdf_pages(data) >= 8  # title, tables, figures, events


def test_html_with_pdf_flag_writes_both(sample, tmp_path):
    from ltr.report import write_report

    rec, res = sample
    paths = write_report(rec, res, tmp_path / "r.html", pdf=True)
    assert [p.suffix for p in paths] == [".html", ".pdf"]
    assert paths[1].read_bytes()[:5] == b"%PDF-"
    assert "Per needle insertion" in pdf_text(paths[1].read_bytes())
    assert paths[0].read_text().startswith("<!DOCTYPE html>")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler's pdftotext absent")
def test_pdf_text_as_poppler_reads_it(sample, tmp_path):
    from ltr.report import write_report

    rec, res = sample
    (path,) = write_report(rec, res, tmp_path / "r.pdf")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Rejected look-alikes" in text and "movement" in text


# -- the clinic's scale ---------------------------------------------------------------
@pytest.mark.slow
def test_thirty_minute_session(tmp_path):
    """30 minutes, ~50 insertions and ~250 twitches: pages of insertion panels, legends
    of a few entries, a PDF with the whole events table."""
    from ltr.plot import INSERTIONS_PER_PAGE
    from ltr.report import write_report
    from ltr.simulate import session

    rec, truth = session(duration=1800, sfreq=2000, layout="emg+acc", seed=3)
    assert len(truth.epochs["start"]) >= 40 and truth.twitches["onset"].size >= 150
    path = ltr.write_edf(rec, tmp_path / "sub-01_task-needling_emg.edf")
    rec = ltr.read(path)
    res = ltr.detect(rec)
    html_path, pdf_path = write_report(rec, res, tmp_path / "r.html", pdf=True)
    text = html_path.read_text()
    pages = -(-len(res.epochs) // INSERTIONS_PER_PAGE)
    assert text.count("alt='needle insertions, page") == pages
    pdf = pdf_text(pdf_path.read_bytes())
    assert all(f"{t:.3f}" in pdf for t in res.onset)
    assert sys.getsizeof(text) < 20e6  # a report one can e-mail


def test_rejected_labels_do_not_pile_up(sample):
    import matplotlib.pyplot as plt

    from ltr import plot

    rec, _ = sample
    res = ltr.detect(rec)
    tmin, tmax = 0.0, rec.duration
    fig = plot.plot_detections(rec, res, tmin=tmin, tmax=tmax)
    reasons = set(map(str, res.rejected["reason"]))
    gap = plot.LABEL_GAP * (tmax - tmin)
    for ax in fig.axes:
        xs = sorted(t.get_position()[0] for t in ax.texts if t.get_text() in reasons)
        assert np.all(np.diff(xs) >= gap - 1e-9), xs
    drawn = sum(t.get_text() in reasons for ax in fig.axes for t in ax.texts)
    assert drawn > 0  # the sample's movements are labelled, fewer where they crowd
    plt.close(fig)
    np.testing.assert_array_equal(plot._spaced(np.array([5.0, 1.0, 1.5, 3.0, 1.1]), 1.0),
                                  [1, 3, 0])
