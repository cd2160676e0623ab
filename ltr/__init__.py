"""ltr: find, count and describe local twitch responses in needling recordings.

The library reads EMG and accelerometer recordings into :class:`Recording` objects
(SI units, channel kinds, annotations) with :func:`read`, and writes them back with
:func:`write`, :func:`write_hdf5` and :func:`write_edf`.

Submodules (``ltr.simulate``, ``ltr.segment``, ``ltr.plot`` ...) and the names below are
loaded on first use (``lazy_loader``, as in MNE, SciPy and scikit-image): ``import ltr`` is
cheap, and ``import ltr; ltr.simulate.session(...)`` works without importing the submodule.
"""

import copyreg as _copyreg
import importlib as _importlib
import sys as _sys
import types as _types
from typing import TYPE_CHECKING

import lazy_loader as _lazy

from ._logging import set_log_level
from ._validate import LtrDataWarning, ReadError
from ._version import __version__

#: Submodules reached as attributes (``ltr.simulate``); ``ltr.detect`` is the function.
_SUBMODULES = [
    "agreement", "annotations", "batch", "calibration", "channels", "envelope", "evaluate",
    "export", "io", "live", "outcomes", "plot", "preprocess", "quality", "recording",
    "report", "results", "review", "segment", "simulate", "sync", "ultrasound", "units",
]

_ATTRS = {
    "agreement": ["agree"],
    "annotations": ["Annotations"],
    "calibration": ["calibrate"],
    "detect": ["DetectorConfig", "detect"],
    "export": ["annotate", "export_annotated"],
    "io": ["read", "read_text", "write", "write_csv", "write_edf", "write_hdf5"],
    "io.results_store": ["read_results", "write_results"],
    "live": ["StreamConfig", "StreamingDetector"],
    "outcomes": ["compare_outcomes"],
    "quality": ["QualityReport", "assess"],
    "recording": ["Recording"],
    "results": ["TwitchResults", "cohort_table", "write_table"],
    "sync": ["clip_offset", "fuse_clip"],
}

__getattr__, _lazy_dir, _lazy_all = _lazy.attach(__name__, _SUBMODULES, _ATTRS)


def _module_by_name(module: _types.ModuleType) -> tuple:
    return _importlib.import_module, (module.__name__,)


# lazy_loader gives this package its own module class (so that importing the submodule
# ltr.detect never hides the function ltr.detect); pickle it by name as a plain module
# is, or joblib/loky could not send a function that refers to ltr to a worker process
if type(_sys.modules[__name__]) is not _types.ModuleType:
    _copyreg.pickle(type(_sys.modules[__name__]), _module_by_name)


def __dir__() -> list[str]:
    """Public names and submodules, for completion (lazy_loader's own misses eager names)."""
    return sorted({*__all__, *_SUBMODULES})


__all__ = [  # the eager names and every name of _ATTRS (a test checks they agree)
    "Annotations",
    "DetectorConfig",
    "LtrDataWarning",
    "QualityReport",
    "ReadError",
    "Recording",
    "StreamConfig",
    "StreamingDetector",
    "TwitchResults",
    "__version__",
    "agree",
    "annotate",
    "assess",
    "calibrate",
    "clip_offset",
    "cohort_table",
    "compare_outcomes",
    "detect",
    "export_annotated",
    "fuse_clip",
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

if TYPE_CHECKING:  # static analysers see the eager imports
    from . import (  # noqa: F401
        agreement,
        annotations,
        batch,
        calibration,
        channels,
        envelope,
        evaluate,
        export,
        io,
        live,
        outcomes,
        plot,
        preprocess,
        quality,
        recording,
        report,
        results,
        segment,
        simulate,
        sync,
        ultrasound,
        units,
    )
    from .agreement import agree
    from .annotations import Annotations
    from .calibration import calibrate
    from .detect import DetectorConfig, detect
    from .export import annotate, export_annotated
    from .io import read, read_text, write, write_csv, write_edf, write_hdf5
    from .io.results_store import read_results, write_results
    from .live import StreamConfig, StreamingDetector
    from .outcomes import compare_outcomes
    from .quality import QualityReport, assess
    from .recording import Recording
    from .results import TwitchResults, cohort_table, write_table
    from .sync import clip_offset, fuse_clip
