"""Human review of ltr's detections: the review page and the reviewed events file.

:func:`open_review` starts (or resumes) a review and :class:`ReviewServer` serves its page
on 127.0.0.1 (``ltr review FILE``); :mod:`ltr.review.reviewed` reads and writes the
reviewed events file and turns it into annotations (:func:`export_reviewed`) or into
corrected results (:func:`apply_review`) for reports and exports.
"""

from .reviewed import (
    REVIEWED_COLUMNS,
    apply_review,
    candidates,
    default_path,
    export_reviewed,
    read_reviewed,
    reviewed_twitches,
    to_annotations,
    write_reviewed,
)
from .server import ReviewServer, ReviewSession, open_review

__all__ = [
    "REVIEWED_COLUMNS",
    "ReviewServer",
    "ReviewSession",
    "apply_review",
    "candidates",
    "default_path",
    "export_reviewed",
    "open_review",
    "read_reviewed",
    "reviewed_twitches",
    "to_annotations",
    "write_reviewed",
]
