"""MNE-backed readers (EDF/EDF+, BDF/BDF+, GDF, BrainVision, FIF); the Raw <-> Recording bridge."""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import LtrDataWarning, ReadError, check_file
from ..annotations import Annotations
from ..channels import infer_kind, resolve_kinds
from ..recording import _META_TAG, Recording
from ..units import VOLTAGE, si_scale
from ._common import as_read_error, check_block, reader

_FIFF_UNIT_V = 107


class MneSource:
    """Block reader over an :class:`mne.io.BaseRaw` (lazy, no preload needed)."""

    def __init__(self, raw: Any, scale: np.ndarray, description: str) -> None:
        self.raw = raw
        self.scale = np.asarray(scale, float)
        self.n_samples = int(raw.n_times)
        self.description = description

    def read(self, start: int, stop: int, channels: np.ndarray) -> np.ndarray:
        try:
            data = self.raw.get_data(picks=np.asarray(channels, int), start=start, stop=stop,
                                     verbose="error")
        except (Exception, MemoryError) as err:  # a damaged file fails only when read
            raise as_read_error(self.description, "", err) from err
        data = np.asarray(data, dtype=np.float64)
        data *= self.scale[np.asarray(channels, int), np.newaxis]
        return check_block(data, self.description, self.raw.ch_names, channels, start)


def edf_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse the fixed part of an EDF/BDF header and check the file is not truncated.

    Returns
    -------
    header : dict
        ``n_records``, ``record_duration`` (s), ``labels``, ``units`` (physical dimension),
        ``samples_per_record``, ``header_bytes``, ``bytes_per_sample``.

    Raises
    ------
    ValueError
        If the header is malformed or the file holds fewer data records than it declares.
    """
    p = Path(path)
    with open(p, "rb") as fh:  # the header only: the file may be gigabytes
        raw = fh.read(256)
    if len(raw) < 256:
        raise ValueError(f"{p}: not an EDF/BDF file: only {len(raw)} bytes, a header has 256")
    bdf = raw[:1] == b"\xff"
    try:
        header_bytes = int(raw[184:192].decode("ascii").strip())
        n_records = int(raw[236:244].decode("ascii").strip())
        record_duration = float(raw[244:252].decode("ascii").strip())
        ns = int(raw[252:256].decode("ascii").strip())
    except ValueError:
        raise ValueError(f"{p}: malformed EDF/BDF header (non-numeric size fields)") from None
    with open(p, "rb") as fh:
        full = fh.read(256 + 256 * ns)
    if len(full) < 256 + 256 * ns:
        raise ValueError(
            f"{p}: truncated EDF/BDF header: {ns} signals need {256 + 256 * ns} header bytes, "
            f"the file has {len(full)}"
        )

    def field(offset: int, width: int) -> list[str]:
        return [
            full[offset + i * width : offset + (i + 1) * width].decode("latin-1").strip()
            for i in range(ns)
        ]

    o = 256
    labels = field(o, 16)
    o += 16 * ns + 80 * ns  # label, transducer
    units = field(o, 8)
    o += 8 * ns
    ranges = {}
    for key in ("physical minimum", "physical maximum", "digital minimum", "digital maximum"):
        ranges[key] = field(o, 8)
        o += 8 * ns
    o += 80 * ns  # prefilter
    try:
        spr = [int(v) for v in field(o, 8)]
    except ValueError:
        raise ValueError(f"{p}: malformed EDF/BDF header (samples per record)") from None
    if ns <= 0 or header_bytes != 256 + 256 * ns:
        raise ReadError(p, f"{p}: malformed EDF/BDF header: {ns} signals need a header of "
                        f"{256 + 256 * ns} bytes, the 'number of bytes in header' field says "
                        f"{header_bytes}")
    bytes_per_sample = 3 if bdf else 2
    _check_record_duration(p, record_duration, labels, spr)
    _check_ranges(p, labels, spr, ranges, bdf)
    record_bytes = sum(spr) * bytes_per_sample
    size = p.stat().st_size
    kind = "BDF" if bdf else "EDF"
    if n_records > 0:
        expected = header_bytes + n_records * record_bytes
        if size < expected:
            have = (size - header_bytes) / max(1, record_bytes)
            raise ValueError(
                f"{p}: truncated {kind} file: the header declares "
                f"{n_records} data records ({expected} bytes) but the file has {size} bytes "
                f"({max(have, 0):.1f} records)"
            )
        if size > expected:
            # the records would be re-cut: a samples-per-record field (or the record count)
            # disagrees with the data, and every channel would be scrambled
            raise ReadError(p, f"{p}: {kind} header and file size disagree: {n_records} data "
                            f"records of {record_bytes} bytes (the 'number of samples in each "
                            f"data record' fields, {spr}) take {expected} bytes, the file has "
                            f"{size}; a samples-per-record or record-count field is corrupt")
    elif n_records != -1:
        raise ReadError(p, f"{p}: malformed {kind} header: 'number of data records' is "
                        f"{n_records}; it must be positive (or -1 while recording)")
    elif record_bytes <= 0 or (size - header_bytes) % record_bytes:
        raise ReadError(p, f"{p}: {kind} file of unknown record count whose data "
                        f"({size - header_bytes} bytes) is not a whole number of "
                        f"{record_bytes}-byte records")
    return {
        "n_records": n_records,
        "record_duration": record_duration,
        "labels": labels,
        "units": units,
        "samples_per_record": spr,
        "header_bytes": header_bytes,
        "bytes_per_sample": bytes_per_sample,
    }


#: Highest sampling rate an EDF/BDF header may imply, Hz. Needle EMG is recorded at up to
#: 50 kHz; a higher rate comes from a corrupt record duration (1e-9 s gives 1e12 Hz, and
#: the detector then runs for hours on a few nanoseconds of "signal").
MAX_EDF_SFREQ = 1e6


#: Largest magnitude accepted in an EDF/BDF physical minimum/maximum field. The 8-character
#: field holds at most 99999999 in plain digits; an exponent beyond this (1e308) makes
#: every sample infinite or astronomically large.
MAX_EDF_PHYSICAL = 1e10


def _check_ranges(p: Path, labels: list[str], spr: list[int], ranges: dict[str, list[str]],
                  bdf: bool) -> None:
    """Refuse physical/digital ranges that give inf, NaN or constant samples."""
    lo, hi = (-(2**23), 2**23 - 1) if bdf else (-32768, 32767)
    for i, (label, n) in enumerate(zip(labels, spr, strict=True)):
        if n <= 0 or label in ("EDF Annotations", "BDF Annotations"):
            continue
        values = {}
        for key, texts in ranges.items():
            try:
                values[key] = float(texts[i])
            except ValueError:
                raise ReadError(p, f"{p}: channel {label!r}: header field {key!r} is "
                                f"{texts[i]!r}, not a number") from None
            v = values[key]
            limit = MAX_EDF_PHYSICAL if key.startswith("physical") else hi + 1
            if not np.isfinite(v) or abs(v) > limit:
                raise ReadError(p, f"{p}: channel {label!r}: header field {key!r} is "
                                f"{texts[i]!r}; it must be a finite number of magnitude at "
                                f"most {limit:g}")
        dmin, dmax = values["digital minimum"], values["digital maximum"]
        if not (lo <= dmin < dmax <= hi):
            raise ReadError(p, f"{p}: channel {label!r}: digital range {dmin:g}..{dmax:g}; "
                            f"it must satisfy {lo} <= digital minimum < digital maximum "
                            f"<= {hi}")
        if values["physical minimum"] == values["physical maximum"]:
            raise ReadError(p, f"{p}: channel {label!r}: physical minimum equals physical "
                            f"maximum ({values['physical minimum']:g}): every sample would "
                            "read as that constant")


def _check_record_duration(p: Path, duration: float, labels: list[str],
                           spr: list[int]) -> None:
    """Refuse a record duration that is not positive or implies an absurd sampling rate
    (annotation-only signals are exempt: EDF+ allows 0 s records for them)."""
    data = [(lab, n) for lab, n in zip(labels, spr, strict=True)
            if n > 0 and lab not in ("EDF Annotations", "BDF Annotations")]
    if not data:
        return
    if not np.isfinite(duration) or duration <= 0:
        raise ValueError(f"{p}: malformed EDF/BDF header: data record duration "
                         f"{duration:g} s; it must be a positive number of seconds")
    label, n = max(data, key=lambda item: item[1])
    if n / duration > MAX_EDF_SFREQ:
        raise ValueError(
            f"{p}: implausible EDF/BDF header: data records of {duration:g} s with {n} "
            f"samples give channel {label!r} a sampling rate of {n / duration:.3g} Hz "
            f"(above {MAX_EDF_SFREQ:g} Hz); the record duration field is likely corrupt")


@reader("")
def read_mne_file(
    path: str | os.PathLike[str],
    *,
    ch_kinds: Mapping[str, str] | None = None,
    bipolar: Mapping[str, tuple[str, str]] | None = None,
    preload: bool = False,
    allow_outside_paths: bool = False,
    **mne_kwargs: Any,
) -> Recording:
    """Read EDF/EDF+, BDF/BDF+, GDF, BrainVision or FIF through :mod:`mne.io`, lazily.

    A BrainVision header names its data and marker files (``DataFile=``, ``MarkerFile=``);
    a name leading outside the header's folder (``../x``, an absolute path, a symbolic
    link out) is refused unless ``allow_outside_paths=True``: a header could otherwise
    make ltr read any file as samples.
    """
    import mne

    p = check_file(path)
    suffix = p.suffix.lower()
    file_units: dict[str, str] = {}
    if suffix in (".edf", ".bdf"):
        header = edf_header(p)
        file_units = dict(zip(header["labels"], header["units"], strict=True))
        reader = mne.io.read_raw_bdf if suffix == ".bdf" else mne.io.read_raw_edf
    elif suffix == ".gdf":
        reader = mne.io.read_raw_gdf
    elif suffix == ".vhdr":
        _check_brainvision_paths(p, allow_outside_paths)
        reader = mne.io.read_raw_brainvision
    elif suffix == ".fif" or p.name.endswith((".fif.gz", "_raw.fif", "_eeg.fif")):
        reader = mne.io.read_raw_fif
    else:  # pragma: no cover - dispatcher only sends the suffixes above
        raise ValueError(f"{p}: not an MNE-readable suffix {suffix!r}")
    try:
        raw = reader(p, preload=False, verbose="error", **mne_kwargs)
    except (ValueError, OSError, RuntimeError, KeyError, IndexError) as err:
        raise ValueError(f"{p}: could not be read as {suffix[1:].upper()}: {err}") from err
    if suffix in (".edf", ".bdf") and not mne_kwargs.get("infer_types"):
        renames = _strip_type_prefixes(raw.ch_names)
        if renames:
            raw.rename_channels(renames, verbose="error")
            file_units = {renames.get(k, k): v for k, v in file_units.items()}
    rec = recording_from_raw(raw, ch_kinds=ch_kinds, bipolar=bipolar, preload=preload,
                             file_units=file_units, description=str(p))
    rec.meta.setdefault("source", str(p))
    rec.meta.setdefault("format", suffix[1:].upper())
    return rec


def _check_brainvision_paths(p: Path, allow_outside: bool) -> None:
    """Refuse ``DataFile=``/``MarkerFile=`` entries that leave the header's folder."""
    raw = p.read_bytes()[: 1 << 20]
    text = raw.decode("utf-8" if b"codepage=utf-8" in raw.lower() else "latin-1",
                      errors="replace")
    _check_brainvision_sizes(p, text)
    folder = Path(os.path.realpath(p.parent))
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep or key.strip().lower() not in ("datafile", "markerfile"):
            continue
        name = value.strip()
        if not name or allow_outside:
            continue
        target = Path(os.path.realpath(folder / name))
        if target != folder and folder not in target.parents:
            raise ReadError(p, f"{p}: BrainVision header field {key.strip()}={name!r} "
                            f"points outside the header's folder ({target}); pass "
                            "allow_outside_paths=True to read it anyway")


#: Most channels a BrainVision header may declare (high-density grids have a few hundred).
MAX_BRAINVISION_CHANNELS = 4096


def _check_brainvision_sizes(p: Path, text: str) -> None:
    """Refuse a channel count or sampling interval MNE would allocate or loop on."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields.setdefault(key.strip().lower(), value.strip())
    n_text = fields.get("numberofchannels")
    if n_text is not None:
        n = int(n_text) if n_text.isdigit() else -1
        if not 0 < n <= MAX_BRAINVISION_CHANNELS:
            raise ReadError(p, f"{p}: BrainVision header field NumberOfChannels={n_text!r}; "
                            f"it must be a whole number from 1 to {MAX_BRAINVISION_CHANNELS}")
        listed = sum(1 for k in fields if re.fullmatch(r"ch\d+", k))
        if listed < n:
            raise ReadError(p, f"{p}: BrainVision header declares NumberOfChannels={n} but "
                            f"lists {listed} channel(s) (Ch1=... in [Channel Infos])")
    interval = fields.get("samplinginterval")
    if interval is not None:
        try:
            us = float(interval)
        except ValueError:
            us = float("nan")
        if not (np.isfinite(us) and us >= 1e6 / MAX_EDF_SFREQ):
            raise ReadError(p, f"{p}: BrainVision header field SamplingInterval={interval!r} "
                            f"(microseconds); it must be at least {1e6 / MAX_EDF_SFREQ:g} "
                            f"(a rate up to {MAX_EDF_SFREQ:g} Hz)")


def recording_from_raw(
    raw: Any,
    *,
    ch_kinds: Mapping[str, str] | None = None,
    bipolar: Mapping[str, tuple[str, str]] | None = None,
    preload: bool | None = None,
    file_units: Mapping[str, str] | None = None,
    description: str = "mne.io.Raw",
) -> Recording:
    """Build a :class:`Recording` from an MNE Raw (see :meth:`Recording.from_mne`)."""
    names = list(raw.ch_names)
    types = raw.get_channel_types()
    stored = _ltr_metadata(raw)
    if stored is not None:
        kinds = stored["ch_kinds"]
        units, orig = stored["units"], stored["orig_units"]
        scale = np.ones(len(names))
        meta = dict(stored.get("meta", {}))
    else:
        orig = [_orig_unit(raw, i, name, file_units) for i, name in enumerate(names)]
        units, scale_list = [], []
        for u in orig:
            factor, si = si_scale(u)
            units.append(si)
            if si == VOLTAGE and file_units:
                # EDF/BDF: MNE scales only uV/µV and mV; 'UV', 'nV', 'kV' ... arrive as stored
                scale_list.append(factor / _mne_edf_factor(u))
            else:  # MNE already converts voltages to volts; other units arrive as stored
                scale_list.append(1.0 if si in (VOLTAGE, "") else factor)
        scale = np.asarray(scale_list)
        kinds = [infer_kind(n, u, t) for n, u, t in zip(names, orig, types, strict=True)]
        meta = {}
    kinds = resolve_kinds(names, kinds, ch_kinds, where=description)
    first_time = raw.first_samp / raw.info["sfreq"]
    annotations = Annotations.from_mne(raw.annotations, first_time=first_time)
    common = {
        "units": units,
        "orig_units": orig,
        "annotations": annotations,
        # the recording starts at its first sample, first_time after the measurement date
        "meas_date": None if raw.info["meas_date"] is None else
        raw.info["meas_date"] + _dt.timedelta(seconds=first_time),
        "meta": meta,
    }
    if preload or (preload is None and raw.preload):
        data = raw.get_data() * scale[:, np.newaxis]
        rec = Recording(data, raw.info["sfreq"], names, kinds, **common)
    else:
        source = MneSource(raw, scale, description)
        rec = Recording.from_source(source, raw.info["sfreq"], names, kinds, **common)
    if bipolar:
        rec = rec.set_bipolar(bipolar)
    return rec


#: The label prefix MNE's ``read_raw_edf(..., infer_types=True)`` reads as a channel type,
#: per ltr kind. EMG labels usually start with ``EMG`` already; MNE has no accelerometer
#: type, so acceleration (like :meth:`ltr.Recording.to_mne`) is ``misc``. Trigger
#: channels keep their label: MNE's ``stim_channel="auto"`` finds ``Status``/``Trigger``.
EDF_TYPE_PREFIX = {"emg": "EMG", "acc": "MISC", "misc": "MISC"}
_EDF_LABEL = 16


def edf_label(name: str, kind: str) -> str:
    """The EDF label of a channel: its name behind MNE's type prefix for its kind.

    Examples
    --------
    >>> edf_label("EMG trapezius", "emg"), edf_label("trapezius", "emg")
    ('EMG trapezius', 'EMG trapezius')
    >>> edf_label("ACC X", "acc"), edf_label("Trigger", "trigger")
    ('MISC ACC X', 'Trigger')
    """
    prefix = EDF_TYPE_PREFIX.get(kind)
    if prefix is None or name.split(" ", 1)[0].upper() == prefix:
        return name
    return f"{prefix} {name}"


def _strip_type_prefixes(names: list[str]) -> dict[str, str]:
    """Renames that undo the ``MISC`` prefix of :func:`edf_label` (kept on a name clash)."""
    renames = {n: n.split(" ", 1)[1] for n in names
               if n.upper().startswith("MISC ") and n.split(" ", 1)[1].strip()}
    taken = set(names) - set(renames)
    out = {}
    for old, new in renames.items():
        if new not in taken:
            out[old] = new
            taken.add(new)
    return out


def _mne_edf_factor(unit: str) -> float:
    """The factor MNE's EDF/BDF reader applies for a physical dimension (mne.io.edf)."""
    if unit in ("\u03bcV", "\u00b5V", "\x83\xcaV", "uV"):
        return 1e-6
    return 1e-3 if unit == "mV" else 1.0


def _ltr_metadata(raw: Any) -> dict[str, Any] | None:
    desc = raw.info.get("description") or ""
    if not desc.startswith(_META_TAG):
        return None
    try:
        stored = json.loads(desc[len(_META_TAG):])
    except json.JSONDecodeError:
        return None
    n = len(raw.ch_names)
    if not all(len(stored.get(k, ())) == n for k in ("ch_kinds", "units", "orig_units")):
        return None  # channels were changed in MNE after export: fall back to inference
    return stored


def _orig_unit(raw: Any, i: int, name: str, file_units: Mapping[str, str] | None) -> str:
    if file_units and name in file_units:
        return file_units[name]
    orig = getattr(raw, "_orig_units", None) or {}
    u = orig.get(name)
    if u and u != "n/a":
        return str(u)
    if raw.info["chs"][i]["unit"] == _FIFF_UNIT_V:
        return "V"
    return ""


def write_edf(
    recording: Recording, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write a recording as EDF+ (``.edf``) or BDF+ (``.bdf``) with its annotations.

    EMG is written in µV, acceleration in m/s², other channels in their unit. Each channel's
    physical range is its minimum and maximum, so the quantisation step is
    ``(max - min) / 65535`` for EDF (16 bit) and ``/ 16777215`` for BDF (24 bit).

    Labels carry the type prefix MNE's ``read_raw_edf(..., infer_types=True)`` reads
    (:data:`EDF_TYPE_PREFIX`): EMG channels start with ``EMG`` (``trapezius`` becomes
    ``EMG trapezius``), accelerometer and other channels with ``MISC`` (``MISC ACC X``),
    so MNE types them ``emg`` and ``misc``; :func:`ltr.read` takes the ``MISC`` prefix
    off again. A channel whose prefixed label would pass 16 characters keeps its bare name
    (MNE then types it ``eeg``) with a :class:`ltr.LtrDataWarning`.

    Parameters
    ----------
    recording : Recording
        What to write. Channel names must have at most 16 characters (an EDF limit) and the
        data must not contain NaN.
    path : path-like
        Output file; the suffix chooses EDF or BDF.
    overwrite : bool
        Replace an existing file (default False: raise ``FileExistsError``).

    Returns
    -------
    Path
        The written file.
    """
    import edfio

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".edf", ".bdf"):
        raise ValueError(f"{p}: write_edf writes .edf or .bdf, got suffix {suffix!r}")
    if p.exists() and not overwrite:
        raise FileExistsError(f"{p}: exists; pass overwrite=True to replace it")
    long = [n for n in recording.ch_names if len(n) > _EDF_LABEL]
    if long:
        raise ValueError(f"{p}: EDF/BDF channel labels have at most 16 characters: {long}")
    labels = [edf_label(n, k) for n, k in zip(recording.ch_names, recording.ch_kinds,
                                              strict=True)]
    bare = [n for n, lab in zip(recording.ch_names, labels, strict=True)
            if len(lab) > _EDF_LABEL]
    if bare:
        warnings.warn(f"{p}: channel(s) {bare} are too long for MNE's type prefix within "
                      "16 characters; written without it (MNE will type them eeg)",
                      LtrDataWarning, stacklevel=2)
        labels = [n if n in bare else lab for n, lab in zip(recording.ch_names, labels,
                                                            strict=True)]
    sfreq = recording.sfreq
    spr = _record_layout(recording.n_samples, sfreq)
    bdf = suffix == ".bdf"
    signal_cls = edfio.BdfSignal if bdf else edfio.EdfSignal
    digital = (-(2**23), 2**23 - 1) if bdf else (-32768, 32767)
    signals = []
    for i, name in enumerate(recording.ch_names):
        x = recording.get_data(picks=i)[0]
        if np.isnan(x).any():
            raise ValueError(
                f"{p}: channel {name!r} contains {int(np.isnan(x).sum())} NaN samples; "
                "EDF/BDF cannot store them (fill or crop the gaps first)"
            )
        unit = recording.units[i]
        if unit == "V":
            x, dim = x * 1e6, "uV"
        else:
            dim = "m/s^2" if unit == "m/s^2" else recording.orig_units[i][:8]
        lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
        integer_codes = np.all(x == np.round(x)) and digital[0] <= lo and hi <= digital[1]
        if recording.ch_kinds[i] == "trigger" and integer_codes:
            # marker codes are stored as digital values (physical == digital), which is
            # how readers (MNE, EDFbrowser) decode BioSemi-style status channels
            lo, hi = float(digital[0]), float(digital[1])
        elif hi - lo <= 1e-12 * max(1.0, abs(hi)):
            lo, hi = lo - 1.0, hi + 1.0
        signals.append(signal_cls(x, sfreq, label=labels[i], physical_dimension=dim,
                                  physical_range=(lo, hi), digital_range=digital))
    ann = [
        edfio.EdfAnnotation(float(o), float(d) if d > 0 else None, s)
        for o, d, s in recording.annotations
    ]
    rec_info = None
    start_time = None
    if recording.meas_date is not None:
        rec_info = edfio.Recording(startdate=recording.meas_date.date())
        start_time = recording.meas_date.time().replace(microsecond=0, tzinfo=None)
    edf_cls = edfio.Bdf if bdf else edfio.Edf
    edf = edf_cls(signals, recording=rec_info, starttime=start_time,
                  data_record_duration=spr / sfreq, annotations=ann)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".part")
    edf.write(tmp)
    os.replace(tmp, p)
    return p


def _record_layout(n_samples: int, sfreq: float) -> int:
    """Samples per data record: records near 1 s that tile the signal exactly, whose
    duration the header's 8 characters hold exactly."""
    if n_samples == 0:
        raise ValueError("cannot write an empty recording to EDF/BDF")

    def fits(spr: int) -> bool:
        text = f"{spr / sfreq:g}"
        return len(text) <= 8 and float(text) == spr / sfreq

    if float(sfreq).is_integer():
        target = int(sfreq)
        divisors = [d for d in range(max(1, target // 10), 10 * target + 1)
                    if n_samples % d == 0 and fits(d)]
        if divisors:
            return min(divisors, key=lambda d: abs(d - target))
    # one record holding everything
    if n_samples <= 99_999_999 and fits(n_samples):
        return n_samples
    raise ValueError(
        f"cannot tile {n_samples} samples at {sfreq} Hz into EDF data records (the header "
        "holds a record duration in 8 characters); crop the recording to a whole number "
        "of seconds, or write HDF5 (.h5) or FIF (.fif), which keep any length"
    )
