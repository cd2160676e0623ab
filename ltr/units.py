"""Physical units: parse the unit strings vendors write and convert them to SI.

EMG is held in volts and acceleration in m/s² inside ltr. Readers call
:func:`si_scale` once per channel and record the original unit.
"""

from __future__ import annotations

import re

#: Standard gravity in m/s², used to convert accelerations given in g.
STANDARD_GRAVITY = 9.80665

_VOLT_PREFIX = {"": 1.0, "m": 1e-3, "u": 1e-6, "µ": 1e-6, "μ": 1e-6, "n": 1e-9, "k": 1e3}

_ACC_UNITS = {
    "m/s^2": 1.0,
    "m/s²": 1.0,
    "m/s2": 1.0,
    "m/s/s": 1.0,
    "ms^-2": 1.0,
    "ms-2": 1.0,
    "m*s^-2": 1.0,
    "mps2": 1.0,
    "g": STANDARD_GRAVITY,
    "mg": 1e-3 * STANDARD_GRAVITY,
    "cm/s^2": 1e-2,
    "cm/s²": 1e-2,
    "mm/s^2": 1e-3,
    "mm/s²": 1e-3,
}

# prefixes are case-sensitive except "U" (seen for micro); "M" (mega) is never meant
_VOLT_RE = re.compile(r"^([munkµμU]?)[vV]$")

#: Unit kinds returned by :func:`si_scale`.
VOLTAGE, ACCELERATION, UNKNOWN = "V", "m/s^2", ""

# units spelled out, as Lab Streaming Layer / XDF metadata write them
_WORD_UNITS = {
    "volts": (1.0, VOLTAGE), "volt": (1.0, VOLTAGE), "millivolts": (1e-3, VOLTAGE),
    "microvolts": (1e-6, VOLTAGE), "nanovolts": (1e-9, VOLTAGE),
}


def normalize_unit(unit: str | None) -> str:
    """Return ``unit`` stripped of brackets and surrounding space (``"[uV]"`` -> ``"uV"``)."""
    if unit is None:
        return ""
    u = str(unit).strip()
    while len(u) >= 2 and u[0] + u[-1] in ("[]", "()", "{}"):
        u = u[1:-1].strip()
    return u


def si_scale(unit: str | None) -> tuple[float, str]:
    """Return the factor to SI and the SI unit for a unit string.

    Parameters
    ----------
    unit : str | None
        A unit as written by a vendor: ``"uV"``, ``"µV"``, ``"mV"``, ``"V"``, ``"g"``,
        ``"mg"``, ``"m/s^2"``, ``"m/s²"`` ... Case matters only to tell ``mV`` from ``MV``
        (which is not accepted); brackets are ignored.

    Returns
    -------
    scale : float
        Multiply values in ``unit`` by this to get SI values.
    si_unit : str
        ``"V"``, ``"m/s^2"``, or ``""`` when the unit is not a voltage or an acceleration
        (ADC counts, unitless, unknown); the scale is then 1.

    Examples
    --------
    >>> si_scale("uV")
    (1e-06, 'V')
    >>> si_scale("g")
    (9.80665, 'm/s^2')
    """
    u = normalize_unit(unit)
    if not u:
        return 1.0, UNKNOWN
    word = _WORD_UNITS.get(u.lower())
    if word is not None:
        return word
    m = _VOLT_RE.match(u)
    if m:
        return _VOLT_PREFIX[m.group(1).replace("U", "u")], VOLTAGE
    key = u.replace(" ", "")
    if key in _ACC_UNITS:
        return _ACC_UNITS[key], ACCELERATION
    if key.lower() in _ACC_UNITS:
        return _ACC_UNITS[key.lower()], ACCELERATION
    return 1.0, UNKNOWN


def is_voltage(unit: str | None) -> bool:
    """Whether ``unit`` is a voltage unit (V with an SI prefix)."""
    return si_scale(unit)[1] == VOLTAGE


def is_acceleration(unit: str | None) -> bool:
    """Whether ``unit`` is an acceleration unit (g, m/s² and relatives)."""
    return si_scale(unit)[1] == ACCELERATION


def split_label_unit(header: str) -> tuple[str, str]:
    """Split a column header like ``"EMG trapezius [uV]"`` into ``("EMG trapezius", "uV")``.

    Anything in square brackets at the end is a unit. Round brackets hold a unit only when
    it is one ltr knows (``"ACC X (g)"``, ``"time (ms)"``), so ``"Digital Channel (D11)"``
    keeps its name whole.

    Examples
    --------
    >>> split_label_unit("EMG trapezius [uV]")
    ('EMG trapezius', 'uV')
    >>> split_label_unit("Digital Channel 0 (D11)")
    ('Digital Channel 0 (D11)', '')
    """
    h = header.strip()
    m = re.match(r"^(.*?)\s*\[([^\[\]]*)\]\s*$", h)
    if m and m.group(1):
        return m.group(1).strip(), m.group(2).strip()
    m = re.match(r"^(.*?)\s*\(([^()]*)\)\s*$", h)
    if m and m.group(1):
        unit = m.group(2).strip()
        if si_scale(unit)[1] != UNKNOWN or unit in _TIME_UNITS:
            return m.group(1).strip(), unit
    return h, ""


_TIME_UNITS = {"s", "sec", "ms", "us", "µs", "ns", "min"}
