"""The :class:`Recording`: multichannel signals in SI units with channel kinds and annotations."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from ._validate import check_sfreq
from .annotations import Annotations
from .channels import KINDS, group_sensors, infer_kind, resolve_kinds

_SI_UNIT = {"emg": "V", "acc": "m/s^2", "trigger": "", "misc": "", "us": "mm/s"}
_MNE_TYPE = {"emg": "emg", "acc": "misc", "trigger": "stim", "misc": "misc", "us": "misc"}
_META_TAG = "ltr-metadata:"

Picks = str | int | Sequence[str] | Sequence[int] | slice | None


class BlockSource(Protocol):
    """What a lazy reader provides: blocks of samples of chosen channels, in SI units."""

    n_samples: int
    description: str

    def read(self, start: int, stop: int, channels: np.ndarray) -> np.ndarray:
        """Return samples ``start:stop`` of source channels ``channels`` as float64."""
        ...


class Recording:
    """A multichannel recording of EMG, acceleration and marker channels.

    Parameters
    ----------
    data : array_like, shape (n_channels, n_samples) | pandas.DataFrame | pandas.Series
        Samples in SI units: volts for EMG, m/s² for acceleration. A 1-D array is one
        channel. Stored as C-contiguous float64, or float32 when given float32 (half the
        memory; the detector then filters in float32, see :func:`ltr.detect`). NaN marks
        missing samples; ±inf is refused. A DataFrame has the pandas layout instead:
        samples in rows, one named column per channel (a Series is one channel); the
        column names become the channel names, and the index may give the sampling
        rate (see ``sfreq``). An array whose first axis is more than
        :data:`TALL_RATIO` times longer than its second (and longer than
        :data:`TALL_MIN_ROWS`) looks like samples in rows and is refused with a message
        saying how to pass it.
    sfreq : float | None
        Sampling frequency in Hz, finite and > 0. None only for a DataFrame or Series
        whose index holds the sample times: a ``DatetimeIndex`` (its first time also
        becomes ``meas_date``), a ``TimedeltaIndex`` or a float index in seconds.
    ch_names : sequence of str | None
        Unique channel names. Defaults to ``"ch1"``, ``"ch2"``, ... (the column names
        for a DataFrame).
    ch_kinds : sequence of str | mapping | None
        Kind of each channel (``"emg"``, ``"acc"``, ``"trigger"``, ``"misc"``), or a mapping
        name -> kind overriding the kinds inferred from the names
        (:func:`ltr.channels.infer_kind`).
    units : sequence of str | None
        The unit of each row of ``data`` (``"V"``, ``"m/s^2"`` or ``""``). Defaults to the
        SI unit of the kind.
    orig_units : sequence of str | None
        The unit the source file stored the channel in (``"uV"``, ``"g"`` ...); defaults to
        ``units``.
    annotations : Annotations | None
        Timed labels, onsets in seconds from the first sample.
    meas_date : datetime.datetime | None
        Start of the recording (timezone-aware, UTC if naive).
    meta : dict | None
        Free metadata (source file, device, subject ...). Keep it JSON-serialisable: it is
        written to HDF5/FIF as JSON, and copies (``pick``, ``crop``, ``copy``) go through
        JSON too, turning other values into strings.

    Notes
    -----
    A recording read from a file by :func:`ltr.read` may be *lazy*: ``data`` is then read
    on first access, while :meth:`get_data` reads only the block asked for, so long files
    can be processed block by block.

    Examples
    --------
    >>> import numpy as np
    >>> rec = Recording(np.zeros((2, 1000)), 1000.0, ["EMG trapezius", "ACC X"])
    >>> rec.ch_kinds, rec.duration
    (('emg', 'acc'), 1.0)
    """

    def __init__(
        self,
        data: Any,
        sfreq: float | None = None,
        ch_names: Sequence[str] | None = None,
        ch_kinds: Sequence[str] | Mapping[str, str] | None = None,
        *,
        units: Sequence[str] | None = None,
        orig_units: Sequence[str] | None = None,
        annotations: Annotations | None = None,
        meas_date: _dt.datetime | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        if _is_pandas(data):
            arr, sfreq, names, start = _from_pandas(data, sfreq)
            ch_names = names if ch_names is None else ch_names
            meas_date = start if meas_date is None else meas_date
        else:
            arr = np.asarray(data)
            if arr.ndim == 1:
                arr = arr[np.newaxis]
            if arr.ndim != 2:
                raise ValueError(
                    "data must have shape (n_channels, n_samples), got an array of shape "
                    f"{arr.shape}"
                )
            _check_not_tall(arr.shape)
            if sfreq is None:
                raise TypeError("Recording needs sfreq= (Hz) for array data")
        if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
            raise TypeError(f"data must hold real numbers, got dtype {arr.dtype}")
        # float32 stays float32 (half the memory; the detector filters it in float32),
        # everything else becomes float64
        arr = np.ascontiguousarray(arr, dtype=np.float32 if arr.dtype == np.float32
                                   else np.float64)
        _check_no_inf(arr, ch_names)
        self._data: np.ndarray | None = arr
        self._source: BlockSource | None = None
        self._init_meta(arr.shape[0], arr.shape[1], sfreq, ch_names, ch_kinds, units,
                        orig_units, annotations, meas_date, meta)

    # -- construction helpers -------------------------------------------------------------
    def _init_meta(
        self,
        n_channels: int,
        n_samples: int,
        sfreq: float,
        ch_names: Sequence[str] | None,
        ch_kinds: Sequence[str] | Mapping[str, str] | None,
        units: Sequence[str] | None,
        orig_units: Sequence[str] | None,
        annotations: Annotations | None,
        meas_date: _dt.datetime | None,
        meta: dict[str, Any] | None,
    ) -> None:
        self._sfreq = check_sfreq(sfreq)
        self._n_samples = int(n_samples)
        if ch_names is None:
            ch_names = [f"ch{i + 1}" for i in range(n_channels)]
        names = tuple(str(n) for n in ch_names)
        if len(names) != n_channels:
            raise ValueError(f"got {len(names)} channel names for {n_channels} channels")
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"channel names must be unique, repeated: {dupes}")
        self._ch_names = names
        if ch_kinds is None or isinstance(ch_kinds, Mapping):
            inferred = [infer_kind(n, u) for n, u in zip(names, orig_units or [""] * len(names),
                                                          strict=True)]
            self._ch_kinds = tuple(resolve_kinds(names, inferred, ch_kinds))
        else:
            self._ch_kinds = tuple(resolve_kinds(names, ["misc"] * len(names), list(ch_kinds)))
        self._units = tuple(_per_channel(units, names, "units",
                                         [_SI_UNIT[k] for k in self._ch_kinds]))
        self._orig_units = tuple(_per_channel(orig_units, names, "orig_units", self._units))
        if annotations is None:
            annotations = Annotations()
        if not isinstance(annotations, Annotations):
            raise TypeError(f"annotations must be ltr.Annotations, got {type(annotations)}")
        self.annotations = annotations
        self.meas_date = _check_meas_date(meas_date)
        self.meta: dict[str, Any] = dict(meta or {})
        self._anode = np.arange(n_channels)
        self._cathode = np.full(n_channels, -1)
        self._first = 0

    @classmethod
    def from_source(
        cls,
        source: BlockSource,
        sfreq: float,
        ch_names: Sequence[str],
        ch_kinds: Sequence[str] | Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Recording:
        """A lazy recording whose samples are read from ``source`` block by block."""
        self = cls.__new__(cls)
        self._data = None
        self._source = source
        self._init_meta(len(ch_names), source.n_samples, sfreq, ch_names, ch_kinds,
                        kwargs.pop("units", None), kwargs.pop("orig_units", None), **kwargs)
        return self

    # -- basic properties -----------------------------------------------------------------
    @property
    def sfreq(self) -> float:
        """Sampling frequency in Hz."""
        return self._sfreq

    @property
    def ch_names(self) -> tuple[str, ...]:
        """Channel names."""
        return self._ch_names

    @property
    def ch_kinds(self) -> tuple[str, ...]:
        """Channel kinds: ``"emg"``, ``"acc"``, ``"trigger"`` or ``"misc"``."""
        return self._ch_kinds

    @property
    def units(self) -> tuple[str, ...]:
        """Unit of each channel as held in :attr:`data` (SI: ``"V"``, ``"m/s^2"``, or ``""``)."""
        return self._units

    @property
    def orig_units(self) -> tuple[str, ...]:
        """Unit of each channel in the source file."""
        return self._orig_units

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return len(self._ch_names)

    @property
    def n_samples(self) -> int:
        """Number of samples per channel."""
        return self._n_samples

    @property
    def duration(self) -> float:
        """Duration in seconds (``n_samples / sfreq``)."""
        return self._n_samples / self._sfreq

    @property
    def times(self) -> np.ndarray:
        """Sample times in seconds from the first sample."""
        return np.arange(self._n_samples) / self._sfreq

    @property
    def preloaded(self) -> bool:
        """Whether the samples are in memory."""
        return self._data is not None

    @property
    def data(self) -> np.ndarray:
        """The samples, shape ``(n_channels, n_samples)``, float64 (or float32), SI units.

        Reading this on a lazy recording loads the whole recording into memory.
        """
        if self._data is None:
            self._data = self.get_data()
            self._source = None
            self._anode = np.arange(self.n_channels)
            self._cathode = np.full(self.n_channels, -1)
            self._first = 0
        return self._data

    def load_data(self) -> Recording:
        """Read all samples into memory (no-op when preloaded); returns ``self``."""
        _ = self.data
        return self

    def get_data(
        self, start: int = 0, stop: int | None = None, picks: Picks = None
    ) -> np.ndarray:
        """Samples ``start:stop`` of the picked channels, read without loading the rest.

        Parameters
        ----------
        start, stop : int
            Sample range (Python slice semantics, clipped to the recording).
        picks : str | int | sequence | slice | None
            Channel names, indices or a kind (``"emg"``, ``"acc"`` ...); all by default.

        Returns
        -------
        data : ndarray, shape (n_picked, stop - start)
            A new array in SI units (float64, or float32 for a float32 recording in
            memory).
        """
        idx = self._pick_indices(picks)
        start, stop, _ = slice(start, stop).indices(self._n_samples)
        stop = max(start, stop)
        if self._data is not None:
            return self._data[idx, start:stop].copy()
        if self._source is None:  # pragma: no cover - internal invariant
            raise RuntimeError("lazy recording without a source")
        anode, cathode = self._anode[idx], self._cathode[idx]
        needed = np.unique(np.concatenate([anode, cathode[cathode >= 0]]))
        block = self._source.read(self._first + start, self._first + stop, needed)
        pos = np.searchsorted(needed, anode)
        out = block[pos]
        has_ref = cathode >= 0
        if has_ref.any():
            out[has_ref] -= block[np.searchsorted(needed, cathode[has_ref])]
        return out

    # -- channel handling -----------------------------------------------------------------
    def _pick_indices(self, picks: Picks) -> np.ndarray:
        n = self.n_channels
        if picks is None:
            return np.arange(n)
        if isinstance(picks, slice):
            return np.arange(n)[picks]
        if isinstance(picks, str | int | np.integer):
            picks = [picks]  # type: ignore[list-item]
        out: list[int] = []
        for p in picks:  # type: ignore[union-attr]
            if isinstance(p, str):
                if p in self._ch_names:
                    out.append(self._ch_names.index(p))
                elif p in KINDS:
                    out.extend(i for i, k in enumerate(self._ch_kinds) if k == p)
                else:
                    raise ValueError(
                        f"pick {p!r} is neither a channel name nor a kind {list(KINDS)}; "
                        f"channels are {list(self._ch_names)}"
                    )
            elif isinstance(p, int | np.integer) and not isinstance(p, bool):
                if not -n <= p < n:
                    raise IndexError(f"channel index {p} out of range for {n} channels")
                out.append(int(p) % n)
            else:
                raise TypeError(f"picks must be names, indices or kinds, got {p!r}")
        return np.asarray(out, dtype=int)

    def pick(self, picks: Picks) -> Recording:
        """A new recording with the picked channels, in the order given.

        Parameters
        ----------
        picks : str | int | sequence | slice
            Channel names, indices, or kinds (``"emg"`` picks every EMG channel).
        """
        idx = self._pick_indices(picks)
        new = self._shallow()
        new._ch_names = tuple(self._ch_names[i] for i in idx)
        new._ch_kinds = tuple(self._ch_kinds[i] for i in idx)
        new._units = tuple(self._units[i] for i in idx)
        new._orig_units = tuple(self._orig_units[i] for i in idx)
        if self._data is not None:
            new._data = self._data[idx].copy()
        new._anode, new._cathode = self._anode[idx], self._cathode[idx]
        return new

    def crop(self, tmin: float = 0.0, tmax: float | None = None) -> Recording:
        """A new recording limited to ``[tmin, tmax)`` seconds; annotations follow.

        Times are rounded to the nearest sample; ``tmax=None`` means the end.
        """
        if tmax is None:
            tmax = self.duration
        if not 0 <= tmin < tmax <= self.duration + 0.5 / self._sfreq:
            raise ValueError(
                f"crop needs 0 <= tmin < tmax <= duration ({self.duration:g} s), "
                f"got tmin={tmin!r}, tmax={tmax!r}"
            )
        start = round(tmin * self._sfreq)
        stop = min(round(tmax * self._sfreq), self._n_samples)
        new = self._shallow()
        if self._data is not None:
            new._data = self._data[:, start:stop].copy()
        new._first = self._first + start
        new._n_samples = stop - start
        new.annotations = self.annotations.crop(start / self._sfreq, stop / self._sfreq)
        if self.meas_date is not None:
            new.meas_date = self.meas_date + _dt.timedelta(seconds=start / self._sfreq)
        return new

    def copy(self) -> Recording:
        """A deep copy (a lazy recording stays lazy and shares its file source)."""
        new = self._shallow()
        if self._data is not None:
            new._data = self._data.copy()
        return new

    def _shallow(self) -> Recording:
        new = Recording.__new__(Recording)
        new.__dict__.update(self.__dict__)
        new.annotations = self.annotations.copy()
        new.meta = json.loads(json.dumps(self.meta, default=str))
        return new

    def set_channel_kinds(self, ch_kinds: Mapping[str, str]) -> Recording:
        """Set the kind of named channels in place; returns ``self``."""
        kinds = resolve_kinds(self._ch_names, self._ch_kinds, ch_kinds)
        self._ch_kinds = tuple(kinds)
        return self

    def set_bipolar(
        self,
        bipolar: Mapping[str, tuple[str, str]],
        *,
        drop: bool = True,
        kind: str = "emg",
    ) -> Recording:
        """A new recording with bipolar derivations ``anode - cathode``.

        Parameters
        ----------
        bipolar : mapping
            New channel name -> ``(anode, cathode)`` names, e.g.
            ``{"EMG left": ("EXG1", "EXG2")}`` for BioSemi-style monopolar inputs.
        drop : bool
            Drop the channels used as anode or cathode (default True).
        kind : str
            Kind of the derived channels (default ``"emg"``).

        Returns
        -------
        Recording
            Derived channels first, then the remaining channels.
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
        used: set[str] = set()
        names, anodes, cathodes, units, origs = [], [], [], [], []
        for name, pair in bipolar.items():
            if not (isinstance(pair, tuple | list) and len(pair) == 2):
                raise ValueError(
                    f"bipolar[{name!r}] must be an (anode, cathode) pair, got {pair!r}"
                )
            a, c = (self._pick_indices(str(p))[0] for p in pair)
            if self._units[a] != self._units[c]:
                raise ValueError(
                    f"bipolar[{name!r}]: {pair[0]!r} is in {self._units[a]!r} but {pair[1]!r} "
                    f"is in {self._units[c]!r}"
                )
            names.append(str(name))
            anodes.append(a)
            cathodes.append(c)
            units.append(self._units[a])
            origs.append(self._orig_units[a])
            used.update(pair)
        keep = [i for i, n in enumerate(self._ch_names) if not (drop and n in used)]
        clash = sorted(set(names) & {self._ch_names[i] for i in keep})
        if clash:
            raise ValueError(f"bipolar channel names {clash} already exist in the recording")
        new = self._shallow()
        new._ch_names = tuple(names) + tuple(self._ch_names[i] for i in keep)
        new._ch_kinds = (kind,) * len(names) + tuple(self._ch_kinds[i] for i in keep)
        new._units = tuple(units) + tuple(self._units[i] for i in keep)
        new._orig_units = tuple(origs) + tuple(self._orig_units[i] for i in keep)
        an, ca = np.asarray(anodes, int), np.asarray(cathodes, int)
        if self._data is not None:
            derived = self._data[an] - self._data[ca]
            new._data = np.concatenate([derived, self._data[keep]])
        elif np.any(self._cathode[np.concatenate([an, ca])] >= 0):
            raise ValueError("a bipolar derivation cannot use a channel that is already bipolar")
        else:
            new._anode = np.concatenate([self._anode[an], self._anode[keep]])
            new._cathode = np.concatenate([self._anode[ca], self._cathode[keep]])
        return new

    def sensors(self) -> dict[str, list[int]]:
        """Accelerometer sensors: name -> channel indices of its X/Y/Z axes.

        See :func:`ltr.channels.group_sensors`.
        """
        return group_sensors(self._ch_names, self._ch_kinds)

    # -- MNE ------------------------------------------------------------------------------
    def to_mne(self) -> Any:
        """An :class:`mne.io.RawArray` with the same samples (SI), names and annotations.

        EMG channels become MNE ``emg``, triggers ``stim``; acceleration and other channels
        become ``misc`` because MNE has no accelerometer type. The ltr kinds and units are
        kept as JSON in ``info["description"]`` so :meth:`from_mne` (and a FIF round trip)
        restores them.
        """
        import mne

        info = mne.create_info(
            list(self._ch_names), self._sfreq, [_MNE_TYPE[k] for k in self._ch_kinds]
        )
        info["description"] = _META_TAG + json.dumps(
            {
                "ch_kinds": list(self._ch_kinds),
                "units": list(self._units),
                "orig_units": list(self._orig_units),
                "meta": self.meta,
            },
            default=str,
        )
        raw = mne.io.RawArray(self.data, info, verbose="error")
        if self.meas_date is not None:
            raw.set_meas_date(self.meas_date)
        if len(self.annotations):
            # onsets count from the first sample, which is the measurement date here
            ann = self.annotations.copy()
            ann.orig_time = None
            raw.set_annotations(ann.to_mne(orig_time=raw.info["meas_date"]))
        return raw

    def to_data_frame(self) -> Any:
        """The samples as a :class:`pandas.DataFrame` in the pandas layout.

        Returns
        -------
        pandas.DataFrame
            One row per sample, one column per channel (SI units: V, m/s²), indexed by
            ``time_s`` (seconds from the first sample). ``Recording(df)`` reads it back.
        """
        import pandas as pd

        index = pd.Index(self.times, name="time_s")
        return pd.DataFrame(self.data.T, index=index, columns=list(self._ch_names))

    @classmethod
    def from_mne(
        cls,
        raw: Any,
        *,
        ch_kinds: Mapping[str, str] | None = None,
        bipolar: Mapping[str, tuple[str, str]] | None = None,
        preload: bool | None = None,
    ) -> Recording:
        """Wrap an :class:`mne.io.BaseRaw`; lazily unless the Raw is preloaded.

        Parameters
        ----------
        raw : mne.io.BaseRaw
            The raw recording. Its data are in SI units for channels MNE knows; channels in
            acceleration units (``g``) are converted using the file's original units.
        ch_kinds : mapping | None
            Overrides of the inferred kinds, e.g. ``{"EXG1": "emg"}``.
        bipolar : mapping | None
            Bipolar derivations, see :meth:`set_bipolar`.
        preload : bool | None
            Force loading (True) or lazy access (False); default follows the Raw.
        """
        from .io._mne import recording_from_raw

        return recording_from_raw(raw, ch_kinds=ch_kinds, bipolar=bipolar, preload=preload)

    # -- dunder ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        kinds = ", ".join(f"{k}: {self._ch_kinds.count(k)}" for k in KINDS if k in self._ch_kinds)
        lazy = "" if self.preloaded else ", lazy"
        return (
            f"<Recording | {self.n_channels} channels ({kinds}), {self._sfreq:g} Hz, "
            f"{self.duration:.3f} s, {len(self.annotations)} annotations{lazy}>"
        )

    def __len__(self) -> int:
        return self._n_samples


#: An array with more rows than this many times its columns (and more than
#: :data:`TALL_MIN_ROWS` rows) is taken for samples in rows and refused: no recording has
#: ten times more channels than samples, while a (samples, channels) array always does.
TALL_RATIO = 10
#: Arrays with at most this many rows are never refused (tiny test arrays, many-channel
#: grids): 256-channel high-density EMG is the largest layout in use.
TALL_MIN_ROWS = 512


def _check_not_tall(shape: tuple[int, ...]) -> None:
    rows, cols = shape
    if rows > TALL_MIN_ROWS and rows > TALL_RATIO * cols:
        raise ValueError(
            f"data of shape {shape} would be {rows} channels of {cols} samples each; ltr "
            "wants (n_channels, n_samples). For samples in rows pass data.T, or a "
            "pandas.DataFrame with one named column per channel"
        )


def _is_pandas(obj: Any) -> bool:
    mod = type(obj).__module__
    if not mod.startswith("pandas"):
        return False
    import pandas as pd

    return isinstance(obj, pd.DataFrame | pd.Series)


#: Largest spread of the sample intervals in a time index, relative to the mean interval,
#: that still counts as regular sampling (timestamps rounded to a clock tick jitter a bit).
INDEX_JITTER = 0.01


def _from_pandas(obj: Any, sfreq: float | None) -> tuple[np.ndarray, float, list[str],
                                                         _dt.datetime | None]:
    """(data (n_channels, n_samples), sfreq, channel names, start time) of a DataFrame/Series.

    Samples are rows, channels are columns; the sampling rate comes from ``sfreq`` or from
    a time index (DatetimeIndex, TimedeltaIndex, float seconds).
    """
    import pandas as pd

    frame = obj.to_frame(name=obj.name if obj.name is not None else "ch1") \
        if isinstance(obj, pd.Series) else obj
    rows, cols = frame.shape
    if cols > TALL_MIN_ROWS and cols > TALL_RATIO * rows:
        # the transposed mistake: channels in rows would make thousands of channels of a
        # few samples each (minutes of work, GBs of memory, before any error)
        raise ValueError(
            f"a DataFrame of shape {frame.shape} would be {cols} channels of {rows} samples "
            "each; ltr wants samples in rows and one column per channel: pass df.T")
    names = [str(c) for c in frame.columns]
    bad = [n for n, dt in zip(names, frame.dtypes, strict=True)
           if not (pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_bool_dtype(dt))]
    if bad:
        raise TypeError(f"DataFrame columns {bad} are not numeric; ltr wants one numeric "
                        "column per channel (drop or set_index the others)")
    index = frame.index
    start: _dt.datetime | None = None
    times: np.ndarray | None = None
    if isinstance(index, pd.DatetimeIndex):
        stamp = index[0] if len(index) else None
        if stamp is not None:
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
            start = stamp.to_pydatetime()
        times = (index - index[0]).total_seconds().to_numpy() if len(index) else None
    elif isinstance(index, pd.TimedeltaIndex):
        times = index.total_seconds().to_numpy()
    elif pd.api.types.is_float_dtype(index.dtype):
        times = index.to_numpy(dtype=float)
    from_index = None
    if times is not None and times.size > 1:
        step = np.diff(times)
        mean = (times[-1] - times[0]) / (times.size - 1)
        if not mean > 0 or np.max(np.abs(step - mean)) > INDEX_JITTER * mean:
            raise ValueError(
                f"the DataFrame index is not regularly sampled (intervals from "
                f"{np.min(step):.6g} to {np.max(step):.6g} s); resample it, or pass sfreq= "
                "to use the rows as they are")
        from_index = 1.0 / mean
        # the index times are exact to ~1e-9 relative (ns clock ticks, float rounding):
        # a rate within 1e-6 relative of a whole number of Hz is that whole number
        if abs(from_index - round(from_index)) < 1e-6 * from_index:
            from_index = float(round(from_index))
    if sfreq is None:
        if from_index is None:
            raise TypeError("pass sfreq= (Hz): the DataFrame index does not hold the sample "
                            "times (a DatetimeIndex, TimedeltaIndex or float seconds would)")
        sfreq = from_index
    elif from_index is not None and abs(from_index - sfreq) > INDEX_JITTER * sfreq:
        raise ValueError(f"sfreq={sfreq} Hz given, but the DataFrame index is sampled at "
                         f"{from_index:.6g} Hz")
    values = frame.to_numpy()
    dtype = np.float32 if all(dt == np.float32 for dt in frame.dtypes) else np.float64
    return np.ascontiguousarray(values.T, dtype=dtype), float(sfreq), names, start


def _per_channel(values: Sequence[str] | None, names: tuple[str, ...], what: str,
                 default: list[str] | tuple[str, ...]) -> list[str]:
    if values is None:
        return list(default)
    if isinstance(values, str) or len(values) != len(names):
        raise ValueError(f"{what} must give one entry per channel ({len(names)}), got {values!r}")
    return [str(v) for v in values]


def _check_no_inf(arr: np.ndarray, ch_names: Sequence[str] | None) -> None:
    bad = np.isinf(arr)
    if bad.any():
        ch, sample = (int(v[0]) for v in np.nonzero(bad))
        name = ch_names[ch] if ch_names is not None and ch < len(ch_names) else f"#{ch}"
        raise ValueError(
            f"data contain infinite values ({int(bad.sum())} samples), first in channel "
            f"{name!r} at sample {sample}"
        )


def _check_meas_date(meas_date: Any) -> _dt.datetime | None:
    if meas_date is None:
        return None
    if isinstance(meas_date, tuple):  # MNE's (seconds, microseconds)
        meas_date = _dt.datetime.fromtimestamp(meas_date[0] + meas_date[1] * 1e-6, _dt.timezone.utc)
    if not isinstance(meas_date, _dt.datetime):
        raise TypeError(f"meas_date must be a datetime or None, got {meas_date!r}")
    if meas_date.tzinfo is None:
        meas_date = meas_date.replace(tzinfo=_dt.timezone.utc)
    return meas_date
