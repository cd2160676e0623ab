"""A BrainVision header may not point ltr at files outside its folder (issue 14)."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from hostile_files import brainvision

import ltr


def _outside(tmp_path, data_file):
    inner = tmp_path / "session"
    inner.mkdir()
    brainvision(inner)  # a valid recording, then its data moved out of the folder
    shutil.move(inner / "rec.eeg", tmp_path / "elsewhere.eeg")
    reference = tmp_path / "ref"
    reference.mkdir()
    expected = ltr.read(brainvision(reference)).get_data()
    brainvision(inner, data_file=data_file.format(tmp=tmp_path))
    (inner / "rec.eeg").unlink()
    (inner / "raw").mkdir()  # for raw/../..: the system resolves through existing folders
    return inner / "rec.vhdr", expected


def test_data_file_in_the_folder_reads(tmp_path):
    rec = ltr.read(brainvision(tmp_path))
    assert rec.ch_names == ("EMG a", "ACC x") and rec.n_samples == 4000


def test_data_file_in_a_subfolder_reads(tmp_path):
    brainvision(tmp_path, data_file="raw/rec.eeg")
    (tmp_path / "raw").mkdir()
    shutil.move(tmp_path / "rec.eeg", tmp_path / "raw" / "rec.eeg")
    assert ltr.read(tmp_path / "rec.vhdr").n_samples == 4000


@pytest.mark.parametrize("data_file", ["../elsewhere.eeg", "{tmp}/elsewhere.eeg",
                                       "raw/../../elsewhere.eeg"])
def test_data_file_outside_the_folder_is_refused(tmp_path, data_file):
    path, expected = _outside(tmp_path, data_file)
    with pytest.raises(ltr.ReadError, match=r"rec.vhdr: BrainVision header field "
                                            r"DataFile=.* points outside the header's folder"):
        ltr.read(path)
    # the user may allow it: then the samples are those of the file named
    got = ltr.read(path, allow_outside_paths=True).get_data()
    np.testing.assert_array_equal(got, expected)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_symbolic_link_out_of_the_folder_is_refused(tmp_path):
    path, _ = _outside(tmp_path, "rec.eeg")
    (path.parent / "rec.eeg").symlink_to(tmp_path / "elsewhere.eeg")
    with pytest.raises(ltr.ReadError, match="points outside"):
        ltr.read(path)


def test_marker_file_outside_the_folder_is_refused(tmp_path):
    path = brainvision(tmp_path)
    text = path.read_text(encoding="utf-8").replace("MarkerFile=rec.vmrk",
                                                    "MarkerFile=/etc/hostname")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ltr.ReadError, match="MarkerFile='/etc/hostname' points outside"):
        ltr.read(path)
