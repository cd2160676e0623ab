"""Reading cine loops: DICOM multi-frame (pydicom), video (imageio), folders of frames.

Every reader returns a :class:`~ltr.ultrasound.Clip` whose frames are read block by block
on demand (:meth:`Clip.blocks`), never the whole clip at once; :func:`read_cine` turns
it into the motion :class:`~ltr.Recording` that :func:`ltr.read` returns for ``.dcm``,
``.mp4``, ``.avi``, ``.mov``, ``.mkv`` files and folders of frames.

Optional dependencies (extra ``ltr[ultrasound]``): ``pydicom`` for DICOM,
``imageio`` with ``imageio-ffmpeg`` (or ``av``) for video, ``opencv-python-headless``
and ``scikit-image`` for the motion.
"""

from __future__ import annotations

import datetime as _dt
import importlib.util
import os
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..recording import Recording
from ._clip import Clip

#: Video suffixes read through imageio.
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".wmv", ".mpg", ".mpeg")
#: Image suffixes of a folder of frames.
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")

#: DICOM compressed transfer syntaxes and the decoder plugins pydicom needs for them.
DICOM_PLUGINS = {
    "1.2.840.10008.1.2.4.50": "JPEG Baseline: pip install pylibjpeg pylibjpeg-libjpeg "
                              "(or Pillow)",
    "1.2.840.10008.1.2.4.51": "JPEG Extended: pip install pylibjpeg pylibjpeg-libjpeg "
                              "(or Pillow)",
    "1.2.840.10008.1.2.4.57": "JPEG Lossless: pip install pylibjpeg pylibjpeg-libjpeg "
                              "(or python-gdcm)",
    "1.2.840.10008.1.2.4.70": "JPEG Lossless SV1: pip install pylibjpeg pylibjpeg-libjpeg "
                              "(or python-gdcm)",
    "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless: pip install pyjpegls (or pylibjpeg "
                              "pylibjpeg-libjpeg)",
    "1.2.840.10008.1.2.4.81": "JPEG-LS Near-lossless: pip install pyjpegls (or pylibjpeg "
                              "pylibjpeg-libjpeg)",
    "1.2.840.10008.1.2.4.90": "JPEG 2000 Lossless: pip install pylibjpeg "
                              "pylibjpeg-openjpeg (or Pillow with OpenJPEG)",
    "1.2.840.10008.1.2.4.91": "JPEG 2000: pip install pylibjpeg pylibjpeg-openjpeg (or "
                              "Pillow with OpenJPEG)",
    "1.2.840.10008.1.2.4.201": "HTJ2K: pip install pylibjpeg pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.100": "MPEG2 video in DICOM: not decodable by pydicom; export the "
                               "cine as MP4 or uncompressed DICOM",
    "1.2.840.10008.1.2.4.102": "MPEG-4 video in DICOM: not decodable by pydicom; export "
                               "the cine as MP4 or uncompressed DICOM",
}


def _need(module: str, package: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"reading this file needs {package}: pip install "
                          f"'ltr[ultrasound]' (or pip install {package})") from err


# -- DICOM -------------------------------------------------------------------------------
def _dicom_fps(ds: Any, src: str) -> tuple[float, np.ndarray | None]:
    """Frame rate (frames/s) and frame times (s from the first, when uneven)."""
    n = int(getattr(ds, "NumberOfFrames", 1) or 1)
    ftv = ds.get("FrameTimeVector")
    if ftv is not None and len(ftv) >= 2:
        dt = np.asarray([float(v) for v in ftv], float) / 1e3  # ms between frames
        times = np.cumsum(np.r_[0.0, dt[1:]]) if dt[0] == 0 else np.cumsum(dt) - dt[0]
        step = float(np.median(np.diff(times)))
        if step > 0:
            even = np.allclose(np.diff(times), step, rtol=0.02)
            return 1.0 / step, (None if even else times[:n])
    for key, to_fps in (("FrameTime", lambda v: 1e3 / v), ("CineRate", float),
                        ("RecommendedDisplayFrameRate", float)):
        v = ds.get(key)
        if v not in (None, "") and float(v) > 0:
            return float(to_fps(float(v))), None
    raise ValueError(f"{src}: no frame rate in the file (FrameTime, FrameTimeVector, "
                     f"CineRate); pass fps= (frames/s)")


def _dicom_spacing(ds: Any) -> float | None:
    """Pixel size (mm) from the ultrasound regions (PhysicalDeltaX/Y in cm when the
    physical units are cm, code 3), else PixelSpacing (mm); None when neither is there."""
    regions = ds.get("SequenceOfUltrasoundRegions")
    if regions:
        for r in regions:  # a loop over the few regions: the first 2-D tissue one
            ux, uy = r.get("PhysicalUnitsXDirection"), r.get("PhysicalUnitsYDirection")
            dx, dy = r.get("PhysicalDeltaX"), r.get("PhysicalDeltaY")
            if ux == 3 and uy == 3 and dx and dy:
                return 10.0 * (abs(float(dx)) + abs(float(dy))) / 2
    ps = ds.get("PixelSpacing")
    if ps and len(ps) == 2 and float(ps[0]) > 0:
        return (float(ps[0]) + float(ps[1])) / 2
    return None


def _dicom_date(ds: Any) -> _dt.datetime | None:
    for d, t in (("AcquisitionDate", "AcquisitionTime"), ("ContentDate", "ContentTime"),
                 ("SeriesDate", "SeriesTime"), ("StudyDate", "StudyTime")):
        dv, tv = ds.get(d), ds.get(t)
        if dv:
            try:
                whole, _, frac = str(tv or "000000").partition(".")
                t = _dt.datetime.strptime(f"{dv}{whole.ljust(6, '0')}", "%Y%m%d%H%M%S")
                # DICOM TM may carry up to 6 digits of a second: a clip is synchronised
                # with EMG from it
                micro = int(frac[:6].ljust(6, "0")) if frac.isdigit() else 0
                return t.replace(microsecond=micro, tzinfo=_dt.timezone.utc)
            except ValueError:
                continue
    return None


#: DICOM ``Modality`` values read as ultrasound: US, intravascular US, and "other" (OT:
#: secondary captures of an ultrasound screen, as some scanners export cine loops); a
#: file without the attribute is read too. Any other modality (MR, CT...) is refused.
US_MODALITIES: tuple[str, ...] = ("US", "IVUS", "OT")


def read_dicom(path: str | os.PathLike[str], *, fps: float | None = None) -> Clip:
    """A DICOM (multi-frame) ultrasound cine loop as a :class:`Clip`.

    Parameters
    ----------
    path : path-like
        The ``.dcm`` file.
    fps : float | None
        Frame rate; by default from ``FrameTimeVector``, ``FrameTime`` (ms) or
        ``CineRate`` (in that order).

    Returns
    -------
    Clip
        Frames are decoded block by block (``pydicom.pixels.iter_pixels``); palette
        colour and RGB/YBR frames are reduced to grey. ``spacing_mm`` from the
        ultrasound regions (``SequenceOfUltrasoundRegions``) or ``PixelSpacing``.

    Raises
    ------
    ValueError
        A modality other than ultrasound (:data:`US_MODALITIES`), no pixel data, no frame
        rate, or a compressed transfer syntax whose decoder plugin is not installed (the
        message names the plugin).
    """
    pydicom = _need("pydicom", "pydicom")
    p = Path(path)
    try:
        ds = pydicom.dcmread(p, stop_before_pixels=True)
    except Exception as err:  # pydicom raises several types for a non-DICOM file
        raise ValueError(f"{p}: not a readable DICOM file ({err})") from err
    src = str(p)
    modality = str(ds.get("Modality", "") or "")
    if modality and modality not in US_MODALITIES:
        raise ValueError(f"{p}: a DICOM of modality {modality}, not an ultrasound cine loop "
                         f"(Modality US)")
    if "Rows" not in ds or "Columns" not in ds:
        raise ValueError(f"{p}: no image in this DICOM file (no Rows/Columns)")
    n = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if fps is None:
        rate, times = _dicom_fps(ds, src) if n > 1 or "FrameTime" in ds else (1.0, None)
    else:
        rate, times = float(fps), None
    tsuid = str(ds.file_meta.get("TransferSyntaxUID", ""))
    palette = str(ds.get("PhotometricInterpretation", "")) == "PALETTE COLOR"
    full = pydicom.dcmread(p, defer_size="1 KB") if palette else None

    def decode(it: Iterator[np.ndarray], k: int) -> list[np.ndarray]:
        out = []
        for _ in range(k):
            f = next(it)
            if palette:
                from pydicom.pixels import apply_color_lut

                f = apply_color_lut(f, full)
            out.append(f)
        return out

    state: dict[str, Any] = {"it": None, "pos": 0}

    def frames_iter() -> Iterator[np.ndarray]:
        from pydicom.pixels import iter_pixels

        try:
            yield from iter_pixels(p)
        except (RuntimeError, NotImplementedError, ValueError, ImportError) as err:
            hint = DICOM_PLUGINS.get(tsuid)
            if hint:
                raise ValueError(f"{p}: pixel data compressed as {hint.split(':')[0]} "
                                 f"(transfer syntax {tsuid}), and no decoder for it is "
                                 f"installed: {hint.split(': ', 1)[1]} ({err})") from err
            raise ValueError(f"{p}: cannot decode the pixel data (transfer syntax "
                             f"{tsuid}): {err}") from err

    def reader(start: int, stop: int) -> np.ndarray:
        if state["it"] is None or state["pos"] > start:
            state["it"], state["pos"] = frames_iter(), 0
        it = state["it"]
        decode(it, start - state["pos"])  # skip forward
        block = decode(it, stop - start)
        state["pos"] = stop
        return np.stack(block)

    clip = Clip(None, fps=rate, spacing_mm=_dicom_spacing(ds), source=src, reader=reader,
                n_frames=n, shape=(int(ds.Rows), int(ds.Columns)), meas_date=_dicom_date(ds),
                times=times,
                meta={"format": "DICOM", "transfer_syntax": tsuid,
                      "modality": str(ds.get("Modality", "")),
                      "manufacturer": str(ds.get("Manufacturer", "")),
                      "photometric": str(ds.get("PhotometricInterpretation", ""))})
    clip.read(0, 1)  # decode the first frame now: a missing plugin is said at once
    return clip


def write_dicom(path: str | os.PathLike[str], frames: np.ndarray, fps: float, *,
                spacing_mm: float | None = None,
                meas_date: _dt.datetime | None = None) -> Path:
    """Write grey ``frames`` (n × rows × columns, uint8) as an uncompressed multi-frame
    Ultrasound Multi-frame Image (FrameTime, CineRate and, with ``spacing_mm``, one
    ultrasound region in cm). For tests and for exporting simulated clips."""
    pydicom = _need("pydicom", "pydicom")
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    a = np.ascontiguousarray(np.asarray(frames, dtype=np.uint8))
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.Rows, ds.Columns = int(a.shape[1]), int(a.shape[2])
    ds.NumberOfFrames = int(a.shape[0])
    ds.FrameTime = f"{1e3 / fps:.6g}"
    ds.CineRate = round(fps)
    ds.FrameIncrementPointer = 0x00181063
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.PixelRepresentation = 0
    if meas_date is not None:
        ds.AcquisitionDate = meas_date.strftime("%Y%m%d")
        ds.AcquisitionTime = meas_date.strftime("%H%M%S.%f")
    if spacing_mm:
        r = Dataset()
        r.RegionSpatialFormat = 1
        r.RegionDataType = 1
        r.RegionLocationMinX0, r.RegionLocationMinY0 = 0, 0
        r.RegionLocationMaxX1, r.RegionLocationMaxY1 = ds.Columns - 1, ds.Rows - 1
        r.PhysicalUnitsXDirection = 3
        r.PhysicalUnitsYDirection = 3
        r.PhysicalDeltaX = spacing_mm / 10.0
        r.PhysicalDeltaY = spacing_mm / 10.0
        ds.SequenceOfUltrasoundRegions = [r]
    ds.PixelData = a.tobytes()
    p = Path(path)
    pydicom.dcmwrite(p, ds, enforce_file_format=True)
    return p


# -- video ---------------------------------------------------------------------------------
def _open_video(iio: Any, p: Path) -> tuple[Any, Any]:
    """An imageio ffmpeg reader, and the ffmpeg process behind it (None when the
    installed versions do not keep it where :func:`_close_video` looks)."""
    rdr = iio.get_reader(p, format="FFMPEG")
    frame = getattr(getattr(rdr, "_read_gen", None), "gi_frame", None)
    return rdr, (frame.f_locals.get("process") if frame is not None else None)


def _close_video(rdr: Any, proc: Any) -> None:
    """Close an imageio ffmpeg reader and the pipes of its ffmpeg process.

    imageio-ffmpeg closes ffmpeg's stdin/stdout only when the process is still running
    when its frame generator ends; once ffmpeg has exited by itself (a short clip read
    to its end) the pipes are left to garbage collection, one pair per clip (a
    ResourceWarning, and file handles held through a batch). Holding the process from
    :func:`_open_video` on keeps them until they are closed here.
    """
    rdr.close()
    if proc is None:
        return
    for pipe in (getattr(proc, "stdout", None), getattr(proc, "stdin", None)):
        if pipe is not None and not pipe.closed:
            pipe.close()
    try:
        proc.wait(timeout=5)  # reaped: no zombie left behind
    except Exception:
        proc.kill()


def read_video(path: str | os.PathLike[str], *, fps: float | None = None,
               spacing_mm: float | None = None) -> Clip:
    """A video file (MP4, AVI ...) as a :class:`Clip`, through imageio's ffmpeg plugin
    (``imageio-ffmpeg``). The frame rate comes from the container unless ``fps`` is
    given; a video has no pixel size unless ``spacing_mm`` says it (motion in px/s)."""
    iio = _need("imageio.v2", "imageio imageio-ffmpeg")
    p = Path(path)
    try:
        rdr, proc = _open_video(iio, p)
    except Exception as err:  # imageio raises several types
        # ffmpeg's answer is its whole banner (version, build flags, libraries): keep
        # its last line, which says what is wrong with the file
        lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
        why = lines[-1] if lines else type(err).__name__
        hint = "" if importlib.util.find_spec("imageio_ffmpeg") else \
            "; reading video needs imageio-ffmpeg: pip install 'ltr[ultrasound]'"
        raise ValueError(f"{p}: cannot open as video ({why}){hint}") from err
    meta = rdr.get_meta_data()
    rate = float(fps) if fps is not None else float(meta.get("fps") or 0)
    if not rate > 0:
        raise ValueError(f"{p}: no frame rate in the video; pass fps= (frames/s)")
    n = int(rdr.count_frames())
    _close_video(rdr, proc)
    w, h = meta.get("size", (0, 0))
    state: dict[str, Any] = {"rdr": None, "proc": None, "it": None, "pos": 0}

    def close() -> None:
        if state["rdr"] is not None:
            _close_video(state["rdr"], state["proc"])
        state["rdr"] = state["proc"] = state["it"] = None

    def reader(start: int, stop: int) -> np.ndarray:
        if state["rdr"] is None or state["pos"] > start:
            close()
            state["rdr"], state["proc"] = _open_video(iio, p)
            state["it"], state["pos"] = iter(state["rdr"]), 0
        it = state["it"]
        out = []
        for i in range(state["pos"], stop):
            try:
                f = next(it)
            except StopIteration:
                break
            if i >= start:
                out.append(np.asarray(f))
        state["pos"] = start + len(out) if out else stop
        if stop >= n or len(out) < stop - start:
            close()  # the end: the ffmpeg process is not left running
        if not out:
            raise ValueError(f"{p}: frames {start}-{stop} could not be read (truncated "
                             f"video?)")
        return np.stack(out)

    clip = Clip(None, fps=rate, spacing_mm=spacing_mm, source=str(p), reader=reader,
                n_frames=n, shape=(int(h), int(w)),
                meta={"format": "video", "codec": str(meta.get("codec", ""))})
    weakref.finalize(clip, close)
    return clip


# -- folders of frames -------------------------------------------------------------------
def frame_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The image files of a folder of frames, in name order."""
    return sorted(q for q in Path(folder).iterdir()
                  if q.is_file() and q.suffix.lower() in FRAME_SUFFIXES)


def read_frames(folder: str | os.PathLike[str], *, fps: float | None = None,
                spacing_mm: float | None = None) -> Clip:
    """A folder of image frames (PNG, JPEG, TIFF, BMP; in name order) at ``fps``."""
    p = Path(folder)
    files = frame_files(p)
    if not files:
        raise ValueError(f"{p}: no image frames ({', '.join(FRAME_SUFFIXES)}) in this "
                         f"folder")
    if fps is None:
        raise ValueError(f"{p}: a folder of frames has no frame rate; pass fps= "
                         f"(frames/s)")
    from PIL import Image

    def load(q: Path) -> np.ndarray:
        with Image.open(q) as im:
            return np.asarray(im.convert("L"))

    first = load(files[0])

    def reader(start: int, stop: int) -> np.ndarray:
        block = [load(q) for q in files[start:stop]]
        bad = [str(files[start + i]) for i, b in enumerate(block) if b.shape != first.shape]
        if bad:
            raise ValueError(f"{bad[0]}: frame size differs from the first frame's "
                             f"{first.shape[1]} x {first.shape[0]}")
        return np.stack(block)

    return Clip(None, fps=float(fps), spacing_mm=spacing_mm, source=str(p), reader=reader,
                n_frames=len(files), shape=(int(first.shape[0]), int(first.shape[1])),
                meta={"format": "frames"})


# -- dispatch ----------------------------------------------------------------------------
def read_clip(path: str | os.PathLike[str], *, fps: float | None = None,
              spacing_mm: float | None = None) -> Clip:
    """A cine loop from a DICOM file, a video file or a folder of frames."""
    p = Path(path)
    if p.is_dir():
        return read_frames(p, fps=fps, spacing_mm=spacing_mm)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.suffix.lower() in VIDEO_SUFFIXES:
        return read_video(p, fps=fps, spacing_mm=spacing_mm)
    clip = read_dicom(p, fps=fps)
    if spacing_mm is not None:
        clip.spacing_mm = float(spacing_mm)
    return clip


def read_cine(path: str | os.PathLike[str], *, fps: float | None = None,
              sfreq: float | None = None, spacing_mm: float | None = None,
              roi: tuple[int, int, int, int] | None = None, method: str = "farneback",
              ch_kinds: Any = None) -> Recording:
    """A cine loop read and turned into its motion :class:`~ltr.Recording`
    (:func:`ltr.ultrasound.motion_recording`); what :func:`ltr.read` does for cine
    files. ``sfreq`` is another name for ``fps`` (the CLI's ``--sfreq``)."""
    from .motion import motion_recording

    if fps is None:
        fps = sfreq
    clip = read_clip(path, fps=fps, spacing_mm=spacing_mm)
    rec = motion_recording(clip, roi=roi, method=method)
    assert isinstance(rec, Recording)
    if ch_kinds:
        rec.set_channel_kinds(dict(ch_kinds))
    return rec


def is_frame_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder holding image frames."""
    p = Path(path)
    return p.is_dir() and any(q.suffix.lower() in FRAME_SUFFIXES for q in p.iterdir())


