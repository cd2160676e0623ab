"""ltr: find, count and describe local twitch responses in needling recordings.

The library reads EMG and accelerometer recordings into :class:`Recording` objects
(SI units, channel kinds, annotations) with :func:`read`, and writes them back with
:func:`write`, :func:`write_hdf5` and :func:`write_edf`.
"""

from ._logging import set_log_level
from ._validate import LtrDataWarning
from ._version import __version__
from .annotations import Annotations
from .io import read, read_text, write, write_csv, write_edf, write_hdf5
from .quality import QualityReport, assess
from .recording import Recording

__all__ = [
    "Annotations",
    "LtrDataWarning",
    "QualityReport",
    "Recording",
    "__version__",
    "assess",
    "read",
    "read_text",
    "set_log_level",
    "write",
    "write_csv",
    "write_edf",
    "write_hdf5",
]
