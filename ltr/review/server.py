"""``ltr review``: the review page, served on 127.0.0.1 by the standard library.

:class:`ReviewSession` holds the recording and the reviewed rows and answers the page's
JSON requests; :class:`ReviewServer` serves it (:class:`http.server.ThreadingHTTPServer`)
and stops by itself after an idle time or a fixed duration. The page (``static/``:
HTML, CSS and a few hundred lines of JavaScript drawing on ``<canvas>``) needs no
internet. Samples are sent on demand, decimated to the pixels they fill (the minimum and
maximum of each column), so a 1-hour recording opens as fast as a 1-minute one.

Endpoints (all JSON):

``GET /api/session``
    file, duration, rate, channels, epochs, reviewer, where the review is saved, the rows.
``GET /api/trace?t0=S&t1=S&n=PX[&ch=NAME,NAME]``
    the conditioned signals of ``[t0, t1]`` s: per channel ``min``/``max`` of ``n`` columns
    (EMG band-passed, in µV; an accelerometer sensor as the magnitude of its high-passed
    axes, in m/s²); ``ch`` picks channels (a snippet shows the candidate's own).
``POST /api/decide`` ``{"id", "action": accept|reject|move|reset, "onset"}``
``POST /api/add`` ``{"trial_type": twitch|needle in|needle out, "onset"}``
``POST /api/delete`` ``{"id"}`` (an added row only)
    each saves the review at once and answers ``{"row", "counts", "saved_at"}``.
``GET /api/ping``
    keeps the server alive while the page is open.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np

from ..detect.rules import REASONS
from . import reviewed as rv

logger = logging.getLogger("ltr")

#: Longest window one trace request may ask for, s (a request past it is refused).
MAX_WINDOW = 600.0
#: Most columns one trace request may ask for.
MAX_COLUMNS = 4000
#: Padding read on each side of a window so the filters' edge transients fall outside, s.
PAD = 0.5
_STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
           "/review.js": ("review.js", "text/javascript; charset=utf-8"),
           "/review.css": ("review.css", "text/css; charset=utf-8")}


def _clean(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return float(v) if np.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


class ReviewSession:
    """A recording under review: its rows, their decisions, and decimated trace windows.

    Parameters
    ----------
    recording : Recording
        The recording (lazy is fine: windows are read on demand).
    rows : list of dict
        Review rows (:func:`ltr.review.reviewed.candidates`, or read back from a reviewed
        file to resume).
    path : path-like
        The reviewed events file, saved after every decision.
    reviewer : str
        Name written in the ``reviewer`` column.
    emg_band : (float, float)
        Band-pass of the EMG traces shown, Hz (capped at 0.45 × the rate).
    acc_highpass : float
        High-pass of the accelerometer axes before their magnitude is shown, Hz.
    """

    def __init__(self, recording: Any, rows: list[dict[str, Any]],
                 path: str | os.PathLike[str], *, reviewer: str,
                 emg_band: tuple[float, float] = (20.0, 450.0),
                 acc_highpass: float = 1.0) -> None:
        from ..preprocess import band_edges

        if not reviewer or not str(reviewer).strip():
            raise ValueError("reviewer must be a name, got an empty one")
        self.recording = recording
        self.rows = {str(r["candidate"]): dict(r) for r in rows}
        if len(self.rows) != len(rows):
            raise ValueError(f"{path}: candidate ids repeat; the reviewed file is damaged")
        self.path = Path(path)
        self.reviewer = str(reviewer).strip()
        self.emg_band = band_edges(emg_band, recording.sfreq)
        self.acc_highpass = float(acc_highpass)
        self.saved_at: str | None = None
        self._lock = threading.Lock()
        self._read_lock = threading.Lock()  # one reader at a time on a lazy file
        kinds = recording.ch_kinds
        sensors = recording.sensors()
        in_sensor = {i for idx in sensors.values() for i in idx}
        self.channels: list[dict[str, Any]] = [
            {"name": n, "kind": "emg", "unit": "µV", "index": [i]}
            for i, (n, k) in enumerate(zip(recording.ch_names, kinds, strict=True))
            if k == "emg"]
        self.channels += [{"name": s, "kind": "acc", "unit": "m/s²", "index": list(idx)}
                          for s, idx in sensors.items()]
        self.channels += [{"name": recording.ch_names[i], "kind": "acc", "unit": "m/s²",
                           "index": [i]} for i, k in enumerate(kinds)
                          if k == "acc" and i not in in_sensor]
        self.mains = self._find_mains()
        if not self.channels:
            raise ValueError(f"{recording.meta.get('source', 'recording')}: no EMG or "
                             "accelerometer channel to review; set kinds with --kind CH=emg")

    def _find_mains(self) -> dict[str, Any]:
        """Mains hum per EMG channel (first minute), removed from the traces shown."""
        from ..preprocess import find_mains

        rec, out = self.recording, {}
        for c in self.channels:
            if c["kind"] == "emg":
                x = rec.get_data(0, round(60 * rec.sfreq), picks=c["index"])[0]
                info = find_mains(np.nan_to_num(x), rec.sfreq)
                if info.frequency is not None and info.harmonics:
                    out[c["name"]] = info
        return out

    # -- state --------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Rows reviewed, pending, and per review status."""
        out = {s: 0 for s in rv.STATUSES}
        pending = 0
        for r in self.rows.values():
            if r["review_status"] is None:
                pending += 1
            else:
                out[r["review_status"]] += 1
        return {"total": len(self.rows), "pending": pending,
                "reviewed": len(self.rows) - pending, **out}

    def info(self) -> dict[str, Any]:
        """What the page needs to start: the recording, the channels and every row."""
        rec = self.recording
        ann = rec.annotations
        epochs = [{"onset": float(o), "duration": float(d), "label": str(s)}
                  for o, d, s in zip(ann.onset, ann.duration, ann.description, strict=True)]
        return {"file": str(rec.meta.get("source") or ""), "name":
                Path(str(rec.meta.get("source") or "recording")).name,
                "duration": float(rec.duration), "sfreq": float(rec.sfreq),
                "channels": [{k: c[k] for k in ("name", "kind", "unit")}
                             for c in self.channels],
                "annotations": epochs, "reviewer": self.reviewer, "saved_to": str(self.path),
                "saved_at": self.saved_at, "counts": self.counts(),
                "emg_band": list(self.emg_band), "acc_highpass": self.acc_highpass,
                "reasons": {k: r.description for k, r in REASONS.items()},
                "rows": [self._public(r) for r in self._sorted()]}

    def _sorted(self) -> list[dict[str, Any]]:
        return sorted(self.rows.values(), key=lambda r: (float(r["onset"]),
                                                         str(r["candidate"])))

    @staticmethod
    def _public(row: dict[str, Any]) -> dict[str, Any]:
        return {k: _clean(v) for k, v in row.items()}

    def save(self) -> None:
        """Write the reviewed file now (atomically)."""
        rv.write_reviewed(self.rows.values(), self.path)
        self.saved_at = rv.now_utc()

    def _answer(self, row: dict[str, Any] | None) -> dict[str, Any]:
        return {"row": None if row is None else self._public(row), "counts": self.counts(),
                "saved_at": self.saved_at}

    def decide(self, cid: str, action: str, onset: float | None = None) -> dict[str, Any]:
        """Apply a decision to row ``cid`` and save; see :func:`ltr.review.reviewed.decide`."""
        with self._lock:
            row = self._get(cid)
            if onset is not None and not 0 <= float(onset) <= self.recording.duration:
                raise ValueError(f"onset {onset} s is outside the recording "
                                 f"(0-{self.recording.duration:g} s)")
            before = dict(row)
            rv.decide(row, action, reviewer=self.reviewer, onset=onset)
            try:
                self.save()
            except BaseException:
                row.clear()
                row.update(before)
                raise
            return self._answer(row)

    def add(self, kind: str, onset: float) -> dict[str, Any]:
        """Add a missed twitch or a needle mark at ``onset`` s and save."""
        with self._lock:
            if not 0 <= float(onset) <= self.recording.duration:
                raise ValueError(f"onset {onset} s is outside the recording "
                                 f"(0-{self.recording.duration:g} s)")
            used = [int(k[1:]) for k in self.rows if k.startswith("a") and k[1:].isdigit()]
            row = rv.added(kind, onset, reviewer=self.reviewer,
                           index=max(used, default=-1) + 1)
            self.rows[row["candidate"]] = row
            try:
                self.save()
            except BaseException:
                del self.rows[row["candidate"]]
                raise
            return self._answer(row)

    def delete(self, cid: str) -> dict[str, Any]:
        """Remove a row the reviewer added (detector rows are rejected, never deleted)."""
        with self._lock:
            row = self._get(cid)
            if row.get("detected_as") is not None:
                raise ValueError(f"{cid} was found by the detector: reject it instead of "
                                 "deleting it")
            del self.rows[cid]
            try:
                self.save()
            except BaseException:
                self.rows[cid] = row
                raise
            return self._answer(None)

    def _get(self, cid: str) -> dict[str, Any]:
        try:
            return self.rows[str(cid)]
        except KeyError:
            raise KeyError(f"no row {cid!r} in this review") from None

    # -- traces -------------------------------------------------------------------------
    def trace(self, t0: float, t1: float, n: int = 800,
              picks: list[str] | None = None) -> dict[str, Any]:
        """The conditioned signals of ``[t0, t1]`` s as ``n`` min/max columns per channel.

        Parameters
        ----------
        t0, t1 : float
            Window, s (clipped to the recording; at most :data:`MAX_WINDOW` long).
        n : int
            Columns (pixels); when the window holds fewer samples than that, the samples
            themselves are sent (``min == max``).
        picks : list of str | None
            Names of the channels (EMG channels, accelerometer sensors) to send; all by
            default.

        Returns
        -------
        dict
            ``t0``, ``t1`` (as clipped), ``step`` (s per column) and ``channels``: name,
            kind, unit, ``min``, ``max`` (lists of floats, None where no sample is finite).
        """
        from ..preprocess import bandpass, highpass, remove_mains

        rec = self.recording
        if not (np.isfinite(t0) and np.isfinite(t1)) or t1 <= t0:
            raise ValueError(f"trace window needs t0 < t1 (s), got t0={t0}, t1={t1}")
        if t1 - t0 > MAX_WINDOW:
            raise ValueError(f"trace window of {t1 - t0:g} s is longer than {MAX_WINDOW:g} s")
        n = int(min(max(n, 10), MAX_COLUMNS))
        t0, t1 = max(0.0, float(t0)), min(float(rec.duration), float(t1))
        fs = rec.sfreq
        a, b = round(t0 * fs), round(t1 * fs)
        pa, pb = max(0, a - round(PAD * fs)), min(rec.n_samples, b + round(PAD * fs))
        if b <= a:
            return {"t0": t0, "t1": t1, "step": 0.0, "channels": []}
        shown = self.channels
        if picks:
            wanted = set(picks)
            unknown = wanted - {c["name"] for c in self.channels}
            if unknown:
                raise ValueError(f"no channel {sorted(unknown)} to show; channels: "
                                 f"{[c['name'] for c in self.channels]}")
            shown = [c for c in self.channels if c["name"] in wanted]
        idx = sorted({i for c in shown for i in c["index"]})
        with self._read_lock:
            block = rec.get_data(pa, pb, picks=idx)
        row_of = {ch: j for j, ch in enumerate(idx)}
        out = []
        for c in shown:
            x = block[[row_of[i] for i in c["index"]]]
            with np.errstate(invalid="ignore"):
                if c["kind"] == "emg":
                    hum = self.mains.get(c["name"])
                    if hum is not None and np.isfinite(x).all():
                        x = remove_mains(x[0], fs, hum.frequency, hum.harmonics)[None]
                    y = bandpass(x, fs, self.emg_band)[0][0] * 1e6
                else:
                    y = np.sqrt(np.sum(highpass(x, fs, self.acc_highpass) ** 2, axis=0))
            y = y[a - pa:b - pa]
            lo, hi = _columns(y, n)
            out.append({"name": c["name"], "kind": c["kind"], "unit": c["unit"],
                        "min": lo, "max": hi})
        m = max(1, len(out[0]["min"]) if out else 1)
        return {"t0": a / fs, "t1": b / fs, "step": (b - a) / fs / m, "channels": out}


def _columns(y: np.ndarray, n: int) -> tuple[list[Any], list[Any]]:
    """Min and max of ``n`` equal columns of ``y`` (the samples when fewer than ``n``)."""
    if y.size <= n:
        vals = [None if not np.isfinite(v) else round(float(v), 6) for v in y]
        return vals, vals
    edges = np.linspace(0, y.size, n + 1).astype(int)
    with np.errstate(invalid="ignore"), contextlib.suppress(RuntimeWarning):
        finite = np.where(np.isfinite(y), y, np.nan)
        lo = np.fmin.reduceat(finite, edges[:-1])
        hi = np.fmax.reduceat(finite, edges[:-1])

    def as_list(v: np.ndarray) -> list[Any]:
        return [None if not np.isfinite(x) else round(float(x), 6) for x in v]

    return as_list(lo), as_list(hi)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("review %s: " + format, self.address_string(), *args)

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, obj: Any, status: int = 200) -> None:
        self._send(status, json.dumps(obj, allow_nan=False).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json({"error": message}, status)

    def _foreign(self) -> bool:
        """A request not addressed to this server by name (DNS rebinding), refused."""
        port = self.server.server_address[1]
        host = (self.headers.get("Host") or "").lower()
        if host in (f"127.0.0.1:{port}", f"localhost:{port}"):
            return False
        self._error(HTTPStatus.FORBIDDEN, f"this server answers 127.0.0.1:{port} only")
        return True

    def do_GET(self) -> None:
        if self._foreign():
            return
        self.server.touch()
        url = urlparse(self.path)
        try:
            if url.path in _STATIC:
                name, ctype = _STATIC[url.path]
                body = resources.files("ltr.review").joinpath("static", name).read_bytes()
                self._send(200, body, ctype)
            elif url.path == "/api/session":
                self._json(self.server.session.info())
            elif url.path == "/api/trace":
                q = {k: v[-1] for k, v in parse_qs(url.query).items()}
                picks = [c for c in q.get("ch", "").split(",") if c] or None
                self._json(self.server.session.trace(float(q.get("t0", "nan")),
                                                     float(q.get("t1", "nan")),
                                                     int(float(q.get("n", 800))), picks))
            elif url.path == "/api/ping":
                self._json({"ok": True})
            else:
                self._error(HTTPStatus.NOT_FOUND, f"no page {url.path}")
        except (ValueError, KeyError) as err:
            self._error(HTTPStatus.BAD_REQUEST, str(err).strip("'\""))

    def do_POST(self) -> None:
        if self._foreign():
            return
        # JSON only: another web page cannot send it without a CORS preflight, which this
        # server never grants, so only its own page can change the review
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != \
                "application/json":
            self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "decisions are sent as JSON")
            return
        self.server.touch()
        url = urlparse(self.path)
        s = self.server.session
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length > 1 << 16:
                raise ValueError("request too large")
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            if url.path == "/api/decide":
                onset = body.get("onset")
                self._json(s.decide(str(body.get("id")), str(body.get("action")),
                                    None if onset is None else float(onset)))
            elif url.path == "/api/add":
                self._json(s.add(str(body.get("trial_type", "twitch")),
                                 float(body.get("onset"))))
            elif url.path == "/api/delete":
                self._json(s.delete(str(body.get("id"))))
            else:
                self._error(HTTPStatus.NOT_FOUND, f"no endpoint {url.path}")
        except (ValueError, KeyError, TypeError) as err:
            self._error(HTTPStatus.BAD_REQUEST, str(err).strip("'\""))
        except OSError as err:  # the save failed: say so on the page, keep serving
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"not saved: {err}")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    session: ReviewSession
    last_request: float

    def touch(self) -> None:
        self.last_request = time.monotonic()


class ReviewServer:
    """Serve a :class:`ReviewSession` on ``127.0.0.1``; stops by itself.

    Parameters
    ----------
    session : ReviewSession
    port : int
        0 (default) picks a free port.
    idle_timeout : float | None
        Stop after this many seconds without a request, s (the open page pings every
        20 s, so this only ends a server whose tab was closed). None: never.
    duration : float | None
        Stop after this many seconds whatever happens, s. None: never.

    Examples
    --------
    ``with ReviewServer(session) as srv: ...`` starts it in a thread and stops it on exit;
    :meth:`serve` blocks until a timeout or Ctrl-C.
    """

    def __init__(self, session: ReviewSession, *, port: int = 0,
                 idle_timeout: float | None = 1800.0, duration: float | None = None) -> None:
        for name, v in (("idle_timeout", idle_timeout), ("duration", duration)):
            if v is not None and not v > 0:
                raise ValueError(f"{name} must be seconds > 0 or None, got {v!r}")
        if not 0 <= int(port) <= 65535:
            raise ValueError(f"port must be 0-65535, got {port}")
        self.httpd = _HTTPServer(("127.0.0.1", int(port)), _Handler)
        self.httpd.session = session
        self.httpd.touch()
        self.session = session
        self.idle_timeout = idle_timeout
        self.duration = duration
        self.stopped_because = ""
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/``."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def _expired(self) -> str:
        now = time.monotonic()
        if self.duration is not None and now - self._started >= self.duration:
            return f"--duration {self.duration:g} s reached"
        if self.idle_timeout is not None and now - self.httpd.last_request >= self.idle_timeout:
            return f"no request for {self.idle_timeout:g} s"
        return ""

    def serve(self, poll: float = 0.25) -> str:
        """Serve until a timeout (returns why it stopped) or Ctrl-C (KeyboardInterrupt)."""
        self._started = time.monotonic()
        self.start()
        try:
            while not (why := self._expired()):
                time.sleep(poll)
            self.stopped_because = why
            return why
        finally:
            self.stop()

    def start(self) -> ReviewServer:
        """Serve in a background thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.httpd.serve_forever,
                                            kwargs={"poll_interval": 0.1}, daemon=True,
                                            name="ltr-review")
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.httpd.server_close()

    def __enter__(self) -> ReviewServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def open_review(path: str | os.PathLike[str], *, events: str | os.PathLike[str] | None = None,
                output: str | os.PathLike[str] | None = None, reviewer: str | None = None,
                config: Any = None, read_options: dict[str, Any] | None = None
                ) -> ReviewSession:
    """Start or resume the review of a recording.

    Parameters
    ----------
    path : path-like
        The recording.
    events : path-like | None
        Events to review instead of running :func:`ltr.detect`: an ``events.tsv`` (each
        row a pending twitch) or a reviewed file (resumed).
    output : path-like | None
        The reviewed file (default ``NAME.reviewed.tsv`` beside the recording). When it
        exists it is resumed: its rows and decisions are kept and nothing is detected
        again. A file there that is not a reviewed file is refused, never overwritten.
    reviewer : str | None
        Name for the ``reviewer`` column (default: the login name).
    config : DetectorConfig | None
        Detector settings when detecting.
    read_options : dict | None
        Passed to :func:`ltr.read`.

    Returns
    -------
    ReviewSession
        Saved once already, so the reviewed file exists from the start, with its BIDS
        ``.json`` sidecar (written once, never replaced).
    """
    from ..io import read

    rec = read(path, **(read_options or {}))
    out = Path(output) if output is not None else rv.default_path(path)
    if out.suffix.lower() != ".tsv":
        raise ValueError(f"{out}: the reviewed events file is a .tsv (BIDS events)")
    if events is not None and Path(events).resolve() == Path(path).resolve():
        raise ValueError(f"{events}: --events is the recording itself")
    if out.exists():
        try:
            rows = rv.read_reviewed(out)
        except ValueError as err:
            raise ValueError(f"{out}: exists and is not a reviewed events file; give "
                             f"another -o ({err})") from None
        logger.info("resuming the review in %s", out)
    elif events is not None:
        rows = rv.candidates_from_events(events)
    else:
        from ..detect import detect

        rows = rv.candidates(detect(rec, config=config))
    session = ReviewSession(rec, rows, out, reviewer=reviewer or _login())
    session.save()
    rv.write_sidecar(out)
    return session


@contextlib.contextmanager
def review_lock(path: str | os.PathLike[str]) -> Any:
    """Hold ``PATH.lock`` while one ``ltr review`` works on the reviewed file ``path``.

    A second review of the same file would overwrite the first one's decisions; it is
    refused while the process that holds the lock is alive (a lock left by a killed
    process is taken over).

    Raises
    ------
    RuntimeError
        Naming the file and the process that holds it.
    """
    lock = Path(str(path) + ".lock")
    if not lock.parent.is_dir():
        raise FileNotFoundError(f"{path}: its folder {lock.parent} does not exist; create it "
                                "or give another -o")
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                pid = int(lock.read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid > 0 and _alive(pid):
                raise RuntimeError(f"{path}: is open in another ltr review (process {pid}); "
                                   "stop that one first") from None
            lock.unlink(missing_ok=True)  # left by a process that is gone
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        break
    else:  # pragma: no cover - a race with another process taking it over
        raise RuntimeError(f"{path}: could not lock it ({lock})")
    try:
        yield lock
    finally:
        lock.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _login() -> str:
    import getpass

    try:
        return getpass.getuser() or "reviewer"
    except (OSError, KeyError, ImportError):
        return "reviewer"
