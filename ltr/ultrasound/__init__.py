"""Ultrasound cine loops: frames in, tissue motion out, the same detector.

A :class:`Clip` (from :func:`read_clip`: DICOM multi-frame, MP4/AVI, a folder of frames;
or :func:`ltr.simulate.cine`) becomes a motion :class:`~ltr.Recording`
(:func:`motion_recording`) whose channel of kind ``us`` is the tissue speed in a region
of interest (mm/s, or px/s when the pixel size is unknown), beside the context channels
the look-alike rules read (whole-field motion, motion along the needle, repeated
frames). :func:`ltr.detect` finds twitches on it like on EMG or an accelerometer.
"""

from __future__ import annotations

from . import io
from ._clip import Clip, to_grey
from .io import read_cine, read_clip, read_dicom, read_frames, read_video, write_dicom
from .motion import CHANNELS, Motion, auto_roi, estimate_motion, motion_recording

__all__ = ["CHANNELS", "Clip", "Motion", "auto_roi", "estimate_motion", "io",
           "motion_recording", "read_cine", "read_clip", "read_dicom", "read_frames",
           "read_video", "to_grey", "write_dicom"]
