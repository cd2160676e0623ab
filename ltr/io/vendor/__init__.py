"""Readers for vendor formats: Delsys EMGworks CSV, OpenBCI GUI text, BIOPAC AcqKnowledge,
C3D analog channels, XDF (Lab Streaming Layer) and WFDB (PhysioNet).

Formats that need a third-party package keep it optional: the reader raises an
ImportError that names the extra to install (``pip install "ltr[biopac]"`` ...).
"""

from __future__ import annotations

import contextlib
import importlib
import warnings
from collections.abc import Iterator
from types import ModuleType


@contextlib.contextmanager
def quiet_third_party() -> Iterator[None]:
    """Hide deprecation warnings raised inside a vendor package (wfdb under pandas 3 ...):
    they concern that package, not the user's data."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import an optional dependency or raise an ImportError naming the extra.

    Deprecation warnings raised while the third-party package imports (wfdb under
    pandas 3, for one) concern that package, not the user's data, and are not shown.
    """
    try:
        with quiet_third_party():
            return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"reading {what} needs the '{module}' package: pip install \"ltr[{extra}]\""
        ) from err
