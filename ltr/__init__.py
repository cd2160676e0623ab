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
from .export import annotate, export_annotated
from .io import read, read_text, write, write_csv, write_edf, write_hdf5
from .io.results_store import read_results, write_results
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
    "annotate",
    "assess",
    "cohort_table",
    "detect",
    "export_annotated",
    "read",
    "read_results",
    "read_text",
    "set_log_level",
    "write",
    "write_csv",
    "write_edf",
    "write_hdf5",
    "write_results",
    "write_table",
]
