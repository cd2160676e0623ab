"""Quality flags of ltr info: clipping, flat channels, NaN gaps, mains hum."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ltr
from ltr.quality import assess, mains_peak


def _emg(n=20000, sfreq=2000.0, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 5e-6, n), sfreq


@pytest.mark.parametrize("hz", [50.0, 60.0])
def test_mains_is_found_at_its_frequency(hz):
    x, sfreq = _emg()
    t = np.arange(x.size) / sfreq
    hum = x + 4e-6 * np.sin(2 * np.pi * hz * t) + 1e-6 * np.sin(2 * np.pi * 3 * hz * t)
    found, db = mains_peak(hum, sfreq)
    assert found == hz and db > 15
    assert mains_peak(x, sfreq)[0] is None


def test_mains_needs_a_rate_above_the_hum():
    rng = np.random.default_rng(0)
    assert mains_peak(rng.normal(size=1000), 100.0) == (None, 0.0)


def test_clipping_flat_and_gaps_are_flagged():
    x, sfreq = _emg()
    clipped = x.copy()
    rail = 8e-6
    clipped = np.clip(clipped, -rail, rail)  # ~11 % of samples sit on a rail
    flat = np.zeros_like(x)
    gappy = x.copy()
    gappy[1000:1100] = np.nan
    gappy[5000] = np.nan
    rec = ltr.Recording(np.vstack([x, clipped, flat, gappy]), sfreq,
                        ["EMG ok", "EMG clip", "EMG flat", "EMG gaps"])
    report = assess(rec, block_size=3000)  # blocks smaller than the recording
    ok, clip, fl, gaps = report.channels
    assert ok.flags == [] and ok.clipped_fraction < 1e-3
    expected = np.mean(np.abs(x) >= rail)
    assert clip.clipped_fraction == pytest.approx(expected, rel=0.02)
    assert any(f.startswith("clipped") for f in clip.flags)
    assert fl.flat and "flat" in fl.flags
    assert gaps.n_nan == 101
    assert gaps.nan_gaps == [(0.5, 0.05), (2.5, 0.0005)]
    assert report.to_dict()["channels"][3]["flags"] == ["2 NaN gap(s)"]


def test_block_size_does_not_change_the_report():
    x, sfreq = _emg(n=10007)
    x = np.clip(x, -6e-6, 6e-6)
    x[3000:3010] = np.nan
    rec = ltr.Recording(np.vstack([x, x[::-1]]), sfreq, ["EMG a", "EMG b"])
    a = assess(rec, block_size=1 << 20).to_dict()
    b = assess(rec, block_size=997).to_dict()
    for ca, cb in zip(a["channels"], b["channels"], strict=True):
        assert ca["nan_gaps"] == cb["nan_gaps"]
        assert ca["clipped_fraction"] == pytest.approx(cb["clipped_fraction"], abs=1e-3)
        assert ca["rms"] == pytest.approx(cb["rms"])


def test_report_text_mentions_everything():
    from conftest import make_recording

    rec = make_recording()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = assess(rec).format()
    for needle in ("4.000 s", "1000 Hz", "EMG trapezius", "emg", "uV", " µV", " g ",
                   "'needle in' x1", "ACC: ACC X, ACC Y, ACC Z"):
        assert needle in text


def test_channel_table_columns_line_up_whatever_the_cell_widths():
    rng = np.random.default_rng(0)
    data = np.vstack([rng.normal(0, 1e-4, 2000), 12345.678 + rng.normal(0, 300, 2000),
                      rng.normal(0, 2e4, 2000)])
    rec = ltr.Recording(data, 1000, ["EMG a", "Skin conductance", "ACC X"],
                        ["emg", "misc", "acc"], units=["V", "", "m/s^2"],
                        orig_units=["mV", "microsiemen", "m/s^2"])
    lines = assess(rec).format().splitlines()
    table = lines[lines.index(next(ln for ln in lines if ln.startswith("  channel"))):][:4]
    assert "microsiemen" in table[2]
    # every column starts where its heading starts, in every row
    for heading in ("kind", "file unit", "range", "RMS", "flags"):
        col = table[0].index(heading)
        for row in table[1:]:
            assert row[col - 2 : col] == "  " and row[col] != " ", (heading, row)


def test_ultrasound_motion_channels_are_never_called_clipped():
    """Repeated (frozen) frames give exact zeros of speed and frame change: a pile-up at
    the minimum, which is no amplifier's rail (the report used to flag them clipped)."""
    pytest.importorskip("cv2")
    from ltr.simulate import cine
    from ltr.ultrasound import motion_recording

    clip, _ = cine(8.0, 20.0, (64, 96), seed=2, confounders=("freeze",))
    frames = clip.frames.copy()
    frames[40:60] = frames[40]  # a long freeze: 19 repeated frames
    clip.frames = frames
    rec = motion_recording(clip)
    zeros = int(np.sum(rec.get_data(picks=["US change"])[0] == 0))
    assert zeros >= 10  # the pile-up that looked like a rail is there
    q = ltr.assess(rec)
    assert all(c.clipped_fraction == 0 for c in q.channels)
    assert not any(f.startswith("clipped") for c in q.channels for f in c.flags)
