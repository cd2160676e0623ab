"""ltr: find, count and describe local twitch responses in needling recordings.

The library reads EMG and accelerometer recordings into :class:`Recording` objects
(SI units, channel kinds, annotations) with :func:`read`, and writes them back with
:func:`write`, :func:`write_hdf5` and :func:`write_edf`.
"""

from ._logging import set_log_level
from ._validate import LtrDataWarning
from ._version import __version__
from .annotations import Annotations
from .detect import DetectorConfig, detect
from .io import read, read_text, write, write_csv, write_edf, write_hdf5
from .quality import QualityReport, assess
from .recording import Recording
from .results import TwitchResults, cohort_table, write_table

__all__ = [
    "Annotations",
    "DetectorConfig",
    "LtrDataWarning",
    "QualityReport",
    "Recording",
    "TwitchResults",
    "__version__",
    "assess",
    "cohort_table",
    "detect",
    "read",
    "read_text",
    "set_log_level",
    "write",
    "write_csv",
    "write_edf",
    "write_hdf5",
    "write_table",
]
