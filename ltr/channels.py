"""Channel kinds: inference from labels and units, tri-axial sensor grouping.

ltr knows four channel kinds:

``emg``
    surface or needle electromyogram, in volts;
``acc``
    one axis of a skin accelerometer, in m/s²;
``trigger``
    a marker, status or stimulus channel;
``misc``
    anything else (kept, never analysed as EMG or acceleration).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from ._validate import LtrDataWarning
from .units import is_acceleration, is_voltage

#: The channel kinds ltr knows (``us``: tissue speed from an ultrasound cine loop,
#: :mod:`ltr.ultrasound`).
KINDS = ("emg", "acc", "trigger", "misc", "us")

#: EMG sampled below this rate (Hz) loses most of a twitch's spectrum (surface EMG holds
#: power up to 400-500 Hz; the band-pass then stops at 0.45 x the rate).
MIN_EMG_SFREQ = 500.0

_TOKEN = r"(?:^|[^a-z])"  # a kind keyword starts at the label start or after a non-letter

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("trigger", re.compile(_TOKEN + r"(status|trigger|trig|stim|sti\s*\d*|marker|markers|event)s?"
                           r"(?:$|[^a-z])", re.IGNORECASE)),
    ("acc", re.compile(_TOKEN + r"(acc|accel|accelerometer|acceleration|accl|mmg)"
                       r"(?:$|[^a-z])", re.IGNORECASE)),
    ("emg", re.compile(_TOKEN + r"(emg|semg|nemg|exg_?emg)(?:$|[^a-z])", re.IGNORECASE)),
)

_MNE_TYPES = {"emg": "emg", "stim": "trigger", "misc": "misc", "eeg": "misc", "ecg": "misc",
              "eog": "misc", "resp": "misc", "bio": "misc", "syst": "misc", "gsr": "misc"}

_AXIS_RE = re.compile(r"^(?P<stem>.*?)[\s_.\-:]*(?P<axis>[xyzXYZ])(?P<tail>[\s_.\-:]*\d*)$")
_AXIS_FIRST_RE = re.compile(r"^(?P<axis>[xyzXYZ])[\s_.\-:]+(?P<stem>.+)$")


def infer_kind(label: str, unit: str = "", mne_type: str | None = None) -> str:
    """Guess the kind of a channel from its label, unit and (optionally) MNE type.

    Parameters
    ----------
    label : str
        The channel label, e.g. ``"EMG trapezius"``, ``"ACC X"``, ``"Accel_Y"``, ``"Status"``.
    unit : str
        The unit as written in the file; an acceleration unit (``g``, ``m/s^2``) makes an
        unlabelled channel ``acc``.
    mne_type : str | None
        The channel type MNE gave the channel (``"emg"``, ``"stim"``, ...), used when the
        label says nothing.

    Returns
    -------
    kind : str
        One of :data:`KINDS`. ``misc`` when nothing points to another kind: ltr never
        analyses a channel it is not sure about; pass ``ch_kinds=`` to the reader to say.

    Examples
    --------
    >>> infer_kind("EMG trapezius"), infer_kind("Accel_Y"), infer_kind("Status")
    ('emg', 'acc', 'trigger')
    >>> infer_kind("EXG1"), infer_kind("sensor 3", unit="g")
    ('misc', 'acc')
    """
    for kind, pattern in _PATTERNS:
        if pattern.search(label):
            return kind
    if unit and is_acceleration(unit):
        return "acc"
    if mne_type is not None:
        return _MNE_TYPES.get(mne_type, "misc")
    return "misc"


def resolve_kinds(
    ch_names: Sequence[str],
    inferred: Sequence[str],
    overrides: Mapping[str, str] | Sequence[str] | None,
    *,
    where: str = "",
) -> list[str]:
    """Apply user overrides (a mapping name -> kind, or one kind per channel) to inferred kinds."""
    prefix = f"{where}: " if where else ""
    kinds = list(inferred)
    if overrides is None:
        return kinds
    if isinstance(overrides, Mapping):
        unknown = [k for k in overrides if k not in ch_names]
        if unknown:
            raise ValueError(
                f"{prefix}ch_kinds names channel(s) {unknown} that are not in the recording; "
                f"channels are {list(ch_names)}"
            )
        for name, kind in overrides.items():
            kinds[list(ch_names).index(name)] = _check_kind(kind, name, prefix)
        return kinds
    if isinstance(overrides, str) or len(overrides) != len(ch_names):
        raise ValueError(
            f"{prefix}ch_kinds must be a mapping or a sequence of {len(ch_names)} kinds, "
            f"got {overrides!r}"
        )
    return [_check_kind(k, n, prefix) for k, n in zip(overrides, ch_names, strict=True)]


def _check_kind(kind: str, name: str, prefix: str = "") -> str:
    if kind not in KINDS:
        raise ValueError(
            f"{prefix}channel {name!r}: kind must be one of {list(KINDS)}, got {kind!r}"
        )
    return kind


def split_axis(label: str) -> tuple[str, str] | None:
    """Split ``"ACC X"`` / ``"Accel_Y"`` / ``"Trigno 1 ACC.Z 10"`` into (sensor, axis).

    Returns ``None`` when the label carries no trailing or leading X/Y/Z axis.
    """
    m = _AXIS_RE.match(label.strip())
    if m and m.group("stem"):
        tail = m.group("tail").strip(" _.-:")
        stem = m.group("stem").strip()
        return (f"{stem} {tail}".strip(), m.group("axis").lower())
    # Delsys-style "ACC.X 10" is caught above; "X ACC" style:
    m = _AXIS_FIRST_RE.match(label.strip())
    if m:
        return m.group("stem").strip(), m.group("axis").lower()
    return None


def group_sensors(ch_names: Sequence[str], ch_kinds: Sequence[str]) -> dict[str, list[int]]:
    """Group the axes of tri-axial (or bi-axial) accelerometers.

    Acceleration channels whose labels differ only by an X/Y/Z axis token (``ACC X``,
    ``Accel_Y``, ``Sensor 1: ACC.Z 1``) or, failing that, by a trailing axis number 0-2 or
    1-3 (``Accel Channel 0``) form one sensor; any other ``acc`` channel is its own sensor.

    Returns
    -------
    groups : dict
        Sensor name -> channel indices ordered x, y, z.

    Examples
    --------
    >>> group_sensors(["EMG", "ACC X", "ACC Y", "ACC Z"], ["emg", "acc", "acc", "acc"])
    {'ACC': [1, 2, 3]}
    """
    members: dict[str, list[tuple[str, int]]] = {}
    for i, (name, kind) in enumerate(zip(ch_names, ch_kinds, strict=True)):
        if kind != "acc":
            continue
        split = split_axis(name) or _split_axis_number(name)
        sensor, axis = split if split is not None else (name, "")
        members.setdefault(sensor, []).append((axis, i))
    out: dict[str, list[int]] = {}
    for sensor, group in members.items():
        axes = [a for a, _ in group]
        if len(group) > 1 and all(axes) and len(set(axes)) == len(axes):
            out[sensor] = [i for _, i in sorted(group)]
        else:  # missing or repeated axis tokens: do not guess, one sensor per channel
            for _, i in group:
                out[ch_names[i]] = [i]
    return out


def _split_axis_number(label: str) -> tuple[str, str] | None:
    m = re.match(r"^(.*?\D)\s*([0-3])$", label.strip())
    if m is None:
        return None
    return m.group(1).strip(), m.group(2)


def check_setup(
    recording: Any,
    emg: Sequence[str] | None = None,
    acc: Sequence[str] | None = None,
) -> list[str]:
    """Warn about setups that are readable but implausible, before detection.

    - a channel analysed as EMG whose unit is an acceleration (``emg=["ACC X"]`` on a
      channel in m/s²), or analysed as acceleration whose unit is a voltage while its label
      says EMG;
    - EMG sampled below :data:`MIN_EMG_SFREQ`.

    Parameters
    ----------
    recording : Recording
    emg, acc : sequence of str | None
        The channels that will be analysed as EMG and as acceleration (default: the
        channels of those kinds), as passed to :func:`ltr.detect`.

    Returns
    -------
    messages : list of str
        The warnings issued (:class:`ltr.LtrDataWarning`), empty when all is plausible.
    """
    names = list(recording.ch_names)
    kinds = list(recording.ch_kinds)
    units = list(recording.units)
    where = recording.meta.get("source", "recording")
    emg_names = list(emg) if emg is not None else [n for n, k in zip(names, kinds,
                                                                      strict=True) if k == "emg"]
    acc_names = list(acc) if acc is not None else [n for n, k in zip(names, kinds,
                                                                      strict=True) if k == "acc"]
    how = "emg=" if emg is not None else "its kind"
    messages = []
    for name in emg_names:
        unit = units[names.index(name)] if name in names else ""
        if is_acceleration(unit):
            messages.append(f"{where}: channel {name!r} is analysed as EMG ({how}) but its "
                            f"unit is {unit}, an acceleration; pass it with acc= instead")
    for name in acc_names:
        unit = units[names.index(name)] if name in names else ""
        if is_voltage(unit) and infer_kind(name) == "emg":
            messages.append(f"{where}: channel {name!r} is analysed as acceleration but its "
                            f"label says EMG and its unit is {unit}; pass it with emg= instead")
    if emg_names and recording.sfreq < MIN_EMG_SFREQ:
        messages.append(f"{where}: EMG sampled at {recording.sfreq:g} Hz, below "
                        f"{MIN_EMG_SFREQ:g} Hz: most of a twitch's EMG spectrum is lost and "
                        "twitches may be missed or misjudged")
    for m in messages:
        warnings.warn(m, LtrDataWarning, stacklevel=2)
    return messages
