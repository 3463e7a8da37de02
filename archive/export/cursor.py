"""The since-last cursor: per name, the newest version and capture ids already exported.

Read at the start of an export, moved only after the file and its manifest
are in place, so a failed or interrupted export leaves the cursor where it
was and the next run exports the same rows again (at least once, never lost).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from archive.export.rows import IdWindow
from archive.storage.models import ExportCursor


def load_cursor(session: Session, name: str) -> IdWindow | None:
    """The window the last export named ``name`` covered, or None when there was none."""
    row = session.get(ExportCursor, name)
    if row is None:
        return None
    return IdWindow(0, row.last_version_id, 0, row.last_capture_id)


def save_cursor(session: Session, name: str, window: IdWindow, now: dt.datetime) -> None:
    """Move the cursor to the top of the window just exported."""
    row = session.get(ExportCursor, name)
    if row is None:
        row = ExportCursor(name=name, last_version_id=0, last_capture_id=0, exports=0)
        session.add(row)
    row.last_version_id = max(row.last_version_id, window.version_upto)
    row.last_capture_id = max(row.last_capture_id, window.capture_upto)
    row.exports = (row.exports or 0) + 1
    row.updated_at = now
