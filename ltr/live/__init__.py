"""Live counting while the needle is in: the streaming detector, its inputs and outputs.

:class:`StreamingDetector` is :func:`ltr.detect` on a signal that is still arriving
(:mod:`ltr.live.detector`); :mod:`ltr.live.sources` feeds it from a file replayed in
real time, a file still being written or a Lab Streaming Layer stream
(:mod:`ltr.live.lsl`, extra ``ltr[live]``); :mod:`ltr.live.sinks` writes what it finds.
"""

from .config import StreamConfig
from .detector import StreamingDetector, Twitch

__all__ = ["StreamConfig", "StreamingDetector", "Twitch"]
