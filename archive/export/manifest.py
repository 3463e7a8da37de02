"""The manifest beside every export file: what was asked, what was written, how to check it.

Plain JSON so a shell script, a data catalogue or a web archivist's ingest
tool can read it without our code. ``sha256`` is over the file exactly as
stored (compressed bytes when compressed), so ``sha256sum`` checks it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from archive.export.output import manifest_path, write_atomic

MANIFEST_VERSION = 1


def build_manifest(
    *,
    file: Path,
    fmt: str,
    compression: str | None,
    row_kind: str,
    schema_version: int,
    sha256: str,
    size: int,
    counts: dict[str, Any],
    filters: dict[str, Any],
    cursor: dict[str, Any] | None,
    database: str,
    tool_version: str,
    started_at: dt.datetime,
    finished_at: dt.datetime,
) -> dict[str, Any]:
    return {
        "manifest_version": MANIFEST_VERSION,
        "tool": "speech-archive",
        "tool_version": tool_version,
        "file": file.name,
        "format": fmt,
        "compression": compression,
        "row_kind": row_kind,
        "schema_version": schema_version,
        "bytes": size,
        "sha256": sha256,
        "counts": counts,
        "filters": filters,
        "since_last": cursor,
        "database": database,
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "seconds": round((finished_at - started_at).total_seconds(), 3),
    }


def write_manifest(file: Path, manifest: dict[str, Any]) -> Path:
    path = manifest_path(file)
    write_atomic(path, (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8"))
    return path
