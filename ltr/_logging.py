"""The package logger and the ``verbose`` keyword shared by the public API."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

logger = logging.getLogger("ltr")
logger.addHandler(logging.NullHandler())

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}

F = TypeVar("F", bound=Callable[..., Any])


def _to_level(verbose: bool | str | int | None) -> int | None:
    if verbose is None:
        return None
    if isinstance(verbose, bool):
        return logging.INFO if verbose else logging.WARNING
    if isinstance(verbose, int):
        return verbose
    if isinstance(verbose, str) and verbose.lower() in _LEVELS:
        return _LEVELS[verbose.lower()]
    raise ValueError(
        f"verbose must be None, a bool, an int or one of {sorted(_LEVELS)}, got {verbose!r}"
    )


def set_log_level(verbose: bool | str | int | None) -> None:
    """Set the level of the ``ltr`` logger.

    Parameters
    ----------
    verbose : bool | str | int | None
        ``True`` means ``"info"``, ``False`` means ``"warning"``; a level name
        (``"debug"``, ``"info"``, ``"warning"``, ``"error"``) or a :mod:`logging` level.
        ``None`` leaves the level unchanged.
    """
    level = _to_level(verbose)
    if level is not None:
        logger.setLevel(level)


@contextlib.contextmanager
def use_log_level(verbose: bool | str | int | None) -> Iterator[None]:
    """Temporarily set the ``ltr`` logger level (no-op for ``None``)."""
    level = _to_level(verbose)
    if level is None:
        yield
        return
    old = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(old)


def verbose(func: F) -> F:
    """Decorate a function that takes a ``verbose=`` keyword."""
    sig = inspect.signature(func)
    if "verbose" not in sig.parameters:
        raise TypeError(f"{func.__name__} has no 'verbose' parameter")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        bound = sig.bind_partial(*args, **kwargs)
        with use_log_level(bound.arguments.get("verbose")):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


#: Called as ``hook(done, total)`` (samples) while a long recording is processed in pieces.
_PROGRESS: contextvars.ContextVar[Callable[[int, int], None] | None] = contextvars.ContextVar(
    "ltr_progress", default=None)


@contextlib.contextmanager
def progress_hook(callback: Callable[[int, int], None] | None) -> Iterator[None]:
    """Call ``callback(done, total)`` as long work advances (pieces of a streamed file).

    The command line feeds a progress bar with it; the library itself never prints.
    """
    token = _PROGRESS.set(callback)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def report_progress(done: int, total: int) -> None:
    """Tell the active :func:`progress_hook` (if any) that ``done`` of ``total`` are done."""
    hook = _PROGRESS.get()
    if hook is not None:
        hook(done, total)
