"""Figures, the HTML/PDF report, and exports that viewers understand."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pytest

import ltr
from ltr.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "recordings" / "sample_emg_acc.edf"


@pytest.fixture(scope="module")
def detected():
    rec = ltr.read(SAMPLE)
    return rec, ltr.detect(rec)


def test_figures_return_figures(detected):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from ltr.plot import plot_detections, plot_epochs, plot_gallery, plot_overview

    rec, res = detected
    for fig in (plot_detections(rec, res, tmin=5, tmax=15),
                plot_overview(rec, res, tmin=5, tmax=15), plot_gallery(rec, res),
                plot_epochs(res)):
        assert fig.axes and fig.get_size_inches()[0] > 5
        plt.close(fig)


def test_gallery_draws_a_subset_but_averages_all(detected):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from ltr.plot import plot_gallery

    rec, res = detected
    fig = plot_gallery(rec, res, max_drawn=3)
    titles = [ax.get_title() for ax in fig.axes]
    n_emg = int(sum("EMG trapezius" in str(c).split(",") for c in res.events["channels"]))
    assert f"EMG trapezius: {n_emg} twitches (3 drawn)" in titles
    # 3 snippets and the mean on the EMG panel
    assert len(fig.axes[0].lines) == 3 + 1 + 1  # snippets, mean, onset line
    plt.close(fig)


def test_traces_keep_only_what_is_asked(detected):
    from ltr.detect import traces

    rec, _ = detected
    tr = traces(rec, tmin=10, tmax=20, keep=["conditioned"])
    assert all(set(d) == {"conditioned", "time"} for d in tr.values())
    with pytest.raises(ValueError, match="unknown trace"):
        traces(rec, tmin=10, tmax=20, keep=["wobble"])


def test_traces_match_the_detection(detected):
    from ltr.detect import traces

    rec, res = detected
    tr = traces(rec, tmin=0, tmax=rec.duration, context=0.0)
    assert set(tr) == {"EMG trapezius", "ACC"}
    d = tr["EMG trapezius"]
    # every EMG-led twitch crosses the on threshold on the detection envelope
    for onset, offset in zip(res.channel_events["onset"][res.channel_events["channel"] ==
                                                         "EMG trapezius"],
                             res.channel_events["offset"][res.channel_events["channel"] ==
                                                          "EMG trapezius"], strict=True):
        i, j = round(onset * rec.sfreq), round(offset * rec.sfreq)
        assert np.any(d["envelope"][max(i - 100, 0):j + 100] > d["on"][max(i - 100, 0):j + 100])
    assert np.all(d["on"] >= d["off"]) and np.all(d["off"] > d["floor"])


def test_html_report_is_self_contained(detected, tmp_path):
    pytest.importorskip("matplotlib")
    from ltr.report import write_report

    rec, res = detected
    paths = write_report(rec, res, tmp_path / "report.html", pdf=True)
    text = paths[0].read_text()
    assert "<h1>Local twitch responses: sample_emg_acc.edf</h1>" in text
    assert "http://" not in text and "https://" not in text  # nothing fetched
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", text)
    # 5 figures, insertion panels on one page (the sample has 3 insertions)
    assert len(images) == 5
    assert base64.b64decode(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"<b>{len(res)}</b>twitches" in text
    assert paths[1].read_bytes()[:5] == b"%PDF-"
    with pytest.raises(FileExistsError):
        write_report(rec, res, tmp_path / "report.html")


def test_edf_export_shows_twitches_in_mne(detected, tmp_path):
    import mne

    rec, res = detected
    path = ltr.export_annotated(rec, res, tmp_path / "annotated.edf")
    raw = mne.io.read_raw_edf(path, verbose="error")
    desc = [str(d) for d in raw.annotations.description]
    twitch = raw.annotations.onset[[d == "twitch" for d in desc]]
    np.testing.assert_allclose(twitch, res.onset, atol=1e-3)
    assert sum(d.startswith("rejected: ") for d in desc) == res.rejected["onset"].size
    assert desc.count("needle in") == 3  # the original annotations are kept


def test_fif_export_and_mne_annotations(detected, tmp_path):
    import mne

    rec, res = detected
    path = ltr.export_annotated(rec, res, tmp_path / "annotated_raw.fif", with_rejected=False)
    raw = mne.io.read_raw_fif(path, verbose="error")
    ann = raw.annotations[raw.annotations.description == "twitch"]
    first = raw.first_samp / raw.info["sfreq"]
    np.testing.assert_allclose(ann.onset - first, res.onset, atol=1e-6)
    np.testing.assert_allclose(ann.duration, res.events["duration"], atol=1e-5)  # float32
    mne_ann = res.to_annotations().to_mne()
    assert len(mne_ann) == len(res)


def test_results_store_round_trip_alone_and_inside_the_recording(detected, tmp_path):
    rec, res = detected
    path = ltr.write_results(res, tmp_path / "results.h5")
    back = ltr.read_results(path)
    for table in ("events", "channel_events", "rejected", "contractions"):
        a, b = getattr(res, table), getattr(back, table)
        assert a.keys() == b.keys()
        for k in a:
            if a[k].dtype.kind == "f":
                np.testing.assert_allclose(b[k], a[k], equal_nan=True)
            else:
                assert list(map(str, b[k])) == list(map(str, a[k])), (table, k)
    assert back.config == res.config
    assert back.epochs.source == res.epochs.source
    for ra, rb in zip(res.summary(by="epoch").to_dict("records"),
                      back.summary(by="epoch").to_dict("records"), strict=True):
        assert ra.keys() == rb.keys()
        for k in ra:
            if isinstance(ra[k], float):
                assert ra[k] == pytest.approx(rb[k], nan_ok=True), k
            else:
                assert ra[k] == rb[k], k
    with pytest.raises(FileExistsError, match="already holds"):
        ltr.write_results(res, path)
    inside = ltr.export_annotated(rec, res, tmp_path / "rec.h5")
    assert len(ltr.read_results(inside)) == len(res)
    assert "twitch" in ltr.read(inside).annotations.counts()
    with pytest.raises(ValueError, match="no '/ltr_results' group"):
        ltr.read_results(ltr.write_hdf5(rec, tmp_path / "plain.h5"))


def test_report_cli(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "r.html"
    assert main(["report", str(SAMPLE), "-o", str(out), "--annotated",
                 str(tmp_path / "a.edf")]) == 0
    printed = capsys.readouterr().out
    assert "written:" in printed and out.exists() and (tmp_path / "a.edf").exists()


def test_gallery_has_panels_only_for_channels_that_saw_a_twitch():
    # fresh-eyes trial: a 38-channel C3D gave a 171-inch-wide row of mostly empty panels
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from ltr.plot import AVERAGE_COLUMNS, plot_gallery
    from ltr.simulate import session

    sim, _ = session(60, 2000, "emg", seed=4, snr_db=(10, 20))
    rng = np.random.default_rng(0)
    quiet = rng.normal(0, 3e-6, (9, sim.n_samples))
    rec = ltr.Recording(np.vstack([sim.data, quiet]), sim.sfreq,
                        [*sim.ch_names, *[f"EMG quiet {k}" for k in range(9)]],
                        ch_kinds=["emg"] * 10)
    res = ltr.detect(rec)
    seen = {u for c in res.events["channels"] for u in str(c).split(",")}
    fig = plot_gallery(rec, res, max_drawn=3)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == len(seen) >= 1
    assert fig.get_size_inches()[0] <= 4.5 * AVERAGE_COLUMNS + 1e-9  # inches, exact layout
    plt.close(fig)
