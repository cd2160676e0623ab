"""The report of an ultrasound clip: a motion-map thumbnail per twitch (capped), the
velocity trace under the events table, the clip read again only around the twitches."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest

import ltr
from ltr.report import build_report
from ltr.simulate import cine

pytest.importorskip("cv2")
pytest.importorskip("matplotlib")

from ltr.ultrasound import Clip, motion_recording
from ltr.ultrasound.figures import MAX_WINDOW_S, twitch_thumbnails

THUMB = re.compile(r"<figure class='usthumb' data-twitch='(\d+)'><img src='data:image/png;"
                   r"base64,([A-Za-z0-9+/=]+)'")


@pytest.fixture(scope="module")
def detected():
    """A 12-s clip without confounders whose 4 twitches are all found (seed 2)."""
    clip, truth = cine(duration=12, seed=2, twitch_rate=30, confounders=())
    rec = ltr.read(clip)
    res = ltr.detect(rec)
    assert len(res) >= 3  # the tests below need several twitches
    return clip, truth, rec, res


def test_report_has_a_thumbnail_per_twitch_and_the_velocity_trace(detected):
    _clip, _truth, rec, res = detected
    page = build_report(rec, res)  # the clip is found from the recording itself
    thumbs = THUMB.findall(page)
    assert [int(k) for k, _ in thumbs] == list(range(1, len(res) + 1))
    for _, data in thumbs:  # each a real PNG
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "left out" not in page
    # the velocity trace, under the events table
    events = page.index("<h2>Events</h2>")
    velocity = page.index("<img class='usvelocity' src='data:image/png;base64,")
    assert events < velocity < page.index("<figure class='usthumb'")
    # no EMG figures on a clip's report (they crashed on it: no EMG channel)
    assert "Twitch shapes" not in page and "Closer look" not in page
    assert "local tissue motion" in page
    assert "median EMG amplitude" not in page and "median ACC amplitude" not in page
    # what the counts are not, in ultrasound words (no EMG noise floor or accelerometer)
    assert "probe movement or a needle manipulation" in page
    assert "needle or surface EMG" not in page


def test_thumbnails_are_capped_and_the_rest_counted(detected):
    _clip, _truth, rec, res = detected
    page = build_report(rec, res, max_thumbnails=2)
    assert [int(k) for k, _ in THUMB.findall(page)] == [1, 2]
    assert f"the first 2 of the {len(res)} twitches; {len(res) - 2} left out" in page
    none = build_report(rec, res, max_thumbnails=0)
    assert not THUMB.findall(none)
    assert f"{len(res)} left out" in none
    with pytest.raises(ValueError, match="max_thumbnails must be an integer >= 0"):
        twitch_thumbnails(rec, res, max_thumbnails=-1)


def test_motion_map_peaks_at_the_twitch(detected):
    """The map's strongest point lies on the simulated twitch's patch (Gaussian, sigma
    12-30 px): within 30 px of its centre."""
    _clip, truth, rec, res = detected
    th = twitch_thumbnails(rec, res)
    assert len(th.items) == len(res)
    tw = truth.twitches
    for item in th.items:
        k = int(np.argmin(np.abs(tw["onset"] - item.onset)))
        r, c = np.unravel_index(int(np.argmax(item.motion)), item.motion.shape)
        y, x = (r + 0.5) * item.grid_factor, (c + 0.5) * item.grid_factor
        assert np.hypot(x - tw["x"][k], y - tw["y"][k]) < 30
        assert item.frames_read[0] <= item.frame < item.frames_read[1]
    assert th.unit == "mm/s" and th.vmax > 0


def test_clip_is_read_only_around_the_twitches(detected):
    """A clip read block by block: the report asks for a few frames per twitch drawn,
    never the whole clip."""
    clip, _truth, _rec, _res = detected
    asked: list[tuple[int, int]] = []

    def reader(a: int, b: int) -> np.ndarray:
        asked.append((a, b))
        return clip.frames[a:b]

    lazy = Clip(None, fps=clip.fps, spacing_mm=clip.spacing_mm, reader=reader,
                n_frames=clip.n_frames, shape=clip.shape, source="lazy")
    rec = motion_recording(lazy)
    res = ltr.detect(rec)
    asked.clear()
    page = build_report(rec, res, clip=lazy, max_thumbnails=3)
    assert len(THUMB.findall(page)) == 3
    assert len(asked) == 3
    most = round(MAX_WINDOW_S * clip.fps) + 3
    ev = res.events
    for (a, b), k in zip(asked, range(3), strict=True):
        assert b - a <= most
        # the window holds the twitch's onset
        assert a <= ev["onset"][k] * clip.fps <= b
    assert sum(b - a for a, b in asked) < clip.n_frames / 4


def test_report_says_why_without_the_clip(detected):
    _clip, _truth, rec, res = detected
    other = rec.copy()  # a copy is not remembered with the clip, and it has no file
    page = build_report(other, res)
    assert not THUMB.findall(page)
    assert "No thumbnails: the cine loop is not at hand" in page
    with pytest.raises(ValueError, match="is not the clip of this recording"):
        twitch_thumbnails(rec, res, cine(duration=2, seed=0)[0])


def test_cli_report_of_a_dicom_clip(detected, tmp_path):
    pytest.importorskip("pydicom")
    from ltr.cli import main
    from ltr.ultrasound import write_dicom

    clip, _truth, _rec, res = detected
    p = write_dicom(tmp_path / "cine.dcm", clip.frames, clip.fps, spacing_mm=clip.spacing_mm)
    out = tmp_path / "r.html"
    assert main(["report", str(p), "-o", str(out), "--thumbnails", "1", "--pdf"]) == 0
    page = out.read_text()
    assert len(THUMB.findall(page)) == 1
    assert f"{len(res) - 1} left out" in page
    assert out.with_suffix(".pdf").stat().st_size > 10_000
    with pytest.raises(SystemExit):
        main(["report", str(p), "-o", str(out), "--thumbnails", "-2"])
