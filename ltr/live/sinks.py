"""Where live twitches go: an events table written as each one is decided."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..io.tables import delimiter_for, format_value
from ..results import EVENT_TABLE_COLUMNS, _event_table
from .detector import Twitch

#: Columns of the live events table: those of ``TwitchResults.write_events`` (``.csv``)
#: and when each twitch was decided (s of stream time).
LIVE_COLUMNS: tuple[str, ...] = (*EVENT_TABLE_COLUMNS, "decided_s")


class EventsWriter:
    """An events TSV/CSV that holds every twitch as soon as it is decided.

    The same conventions as every table ltr writes (:func:`ltr.io.tables.write_delimited`:
    :mod:`csv` quoting, ``n/a`` for missing values, 10 significant digits); the file is
    flushed after each row, so a reader (or a crash) sees every twitch decided so far.

    Parameters
    ----------
    path : path-like
        ``.tsv`` or ``.csv``.
    overwrite : bool
        Replace an existing file (default False: ``FileExistsError``).
    """

    def __init__(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        self.path = Path(path)
        sep = delimiter_for(self.path)
        if self.path.exists() and not overwrite:
            raise FileExistsError(f"{self.path}: exists; pass overwrite=True to replace it")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._w = csv.writer(self._fh, delimiter=sep, lineterminator="\n",
                             quoting=csv.QUOTE_MINIMAL)
        self._w.writerow(LIVE_COLUMNS)
        self._fh.flush()
        self.rows = 0

    def write(self, twitch: Twitch) -> None:
        """Append one twitch and flush."""
        one: dict[str, Any] = {k: np.asarray([v], dtype=object if isinstance(v, str)
                                             else float) for k, v in twitch.row.items()}
        table = _event_table(one)
        self._w.writerow([format_value(table[c][0]) for c in EVENT_TABLE_COLUMNS]
                         + [format_value(float(twitch.decided_at))])
        self._fh.flush()
        self.rows += 1

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            self._fh.close()

    def __enter__(self) -> EventsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
