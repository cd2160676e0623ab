"""Ultrasound cine loops: frames in, tissue motion out, the same detector.

A :class:`Clip` (from :func:`read_clip`: DICOM multi-frame, MP4/AVI, a folder of frames;
or :func:`ltr.simulate.cine`) becomes a motion :class:`~ltr.Recording`
(:func:`motion_recording`) whose channel of kind ``us`` is the tissue speed in a region
of interest (mm/s, or px/s when the pixel size is unknown), beside the context channels
the look-alike rules read (whole-field motion, motion along the needle, repeated
frames). :func:`ltr.detect` finds twitches on it like on EMG or an accelerometer.
"""

from __future__ import annotations

from ._clip import Clip, to_grey

__all__ = ["Clip", "to_grey"]
