"""The fuzz suite's worker process: reads (then detects on) one file per request, under
an address-space limit and an alarm, and says how each case ended (one JSON line each).

Run by tests/test_fuzz_readers.py as ``python fuzz_worker.py LIMIT_BYTES ALARM_S``; it is a
separate process so that a hang, a blow-up or a crash in a reader is counted, not fatal.
"""

from __future__ import annotations

import json
import resource
import signal
import sys
import time
import warnings


class Alarm(BaseException):
    """The case ran past its time bound (a BaseException: readers must not catch it)."""


def _on_alarm(signum: int, frame: object) -> None:
    raise Alarm


def _chain(err: BaseException | None) -> list[BaseException]:
    out = []
    while err is not None and len(out) < 20:
        out.append(err)
        err = err.__cause__ or err.__context__
    return out


def run_case(path: str, where: str, detect: bool, alarm: int) -> dict:
    """How reading (and detecting on) ``path`` ended: ok, ltr_error, other, hang, memory
    or detect_crash, with the exception's type and message."""
    import ltr

    stage = "read"
    t0 = time.perf_counter()
    signal.alarm(alarm)
    try:
        out = ltr.read(path)
        recs = out if isinstance(out, list) else [out]
        for rec in recs:  # lazy readers fail when the samples are read
            rec.get_data(0, min(rec.n_samples, int(rec.sfreq * 5) + 1))
        if detect:
            stage = "detect"
            rec = recs[0]
            ltr.detect(rec.crop(0.0, min(5.0, rec.duration)) if rec.duration > 5 else rec)
        result = {"outcome": "ok"}
    except Alarm:
        result = {"outcome": "hang"}
    except BaseException as err:
        text = str(err)
        result = {"type": type(err).__name__, "message": text[:300]}
        if any(isinstance(e, MemoryError) for e in _chain(err)):
            result["outcome"] = "memory"
        elif stage == "read":
            named = where in text
            result["outcome"] = "ltr_error" if isinstance(err, ltr.ReadError) and named \
                else "other"
        else:  # the detector may refuse a recording (no EMG channel ...) with a ValueError
            result["outcome"] = "ltr_error" if isinstance(err, ValueError) else "detect_crash"
    finally:
        signal.alarm(0)
    result["stage"] = stage
    result["seconds"] = round(time.perf_counter() - t0, 3)
    return result


def main() -> None:
    limit, alarm = int(sys.argv[1]), int(sys.argv[2])
    warnings.simplefilter("ignore")  # this process only: the data warnings are expected
    import ltr
    import ltr.detect  # noqa: F401

    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _on_alarm)
    print("ready", flush=True)
    for line in sys.stdin:
        case = json.loads(line)
        result = run_case(case["path"], case["where"], case["detect"], alarm)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
