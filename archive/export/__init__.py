"""Export the archive for analysts (JSONL, CSV, Parquet) and web archivists (WARC).

One driver, run in order (like trafilatura's core): validated options ->
a temporary target file -> rows streamed in batches from the database ->
the format's writer -> rename into place -> manifest beside the file ->
since-last cursor moved. Each stage is one small module:

    formats.py   the table of formats: extensions, compressions, unit, writer
    options.py   ExportOptions (the validated request) and time parsing
    rows.py      the filtered, streaming queries, as plain dicts (works: archive.works.queries)
    schema.py    the columns every tabular format shares
    jsonl.py, csvfile.py, parquet.py, warc.py   one writer per format
    output.py    temporary file, compression, SHA-256, atomic rename
    manifest.py  the JSON manifest
    cursor.py    the ``--since-last`` watermark (table export_cursors)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from archive.errors import ExportError, NotFoundError
from archive.export import rows as rowsource
from archive.export.cursor import load_cursor, save_cursor
from archive.export.formats import FORMATS, WriterRequest
from archive.export.manifest import build_manifest, write_manifest
from archive.export.options import ExportOptions, parse_time
from archive.export.output import Target
from archive.export.schema import SCHEMA_VERSION, columns_for
from archive.storage.dberrors import archive_error
from archive.storage.engine import Archive
from archive.storage.models import utcnow
from archive.works.queries import count_works
from archive.works.queries import export_rows as work_rows

__all__ = ["FORMATS", "ExportOptions", "ExportResult", "Progress", "export", "parse_time"]

log = logging.getLogger(__name__)


class Progress(Protocol):
    """What the driver tells a progress display; the CLI decides how to show it."""

    def start(self, total: int) -> None: ...

    def advance(self, rows: int) -> None: ...


@dataclass(frozen=True)
class ExportResult:
    format: str
    path: Path | None
    """None when written to standard output."""
    manifest_path: Path | None
    rows: int
    """Lines/rows for JSONL, CSV and Parquet; captures for WARC."""
    counts: dict[str, Any]
    sha256: str
    size: int
    seconds: float
    cursor: dict[str, Any] | None


def _check_sites(session: Session, wanted: tuple[str, ...], configured: Collection[str]) -> None:
    """An unknown --site is a typo, not an empty export: say which names exist."""
    present = rowsource.archive_sites(session)
    for name in wanted:
        if name not in present and name not in configured:
            known = ", ".join(sorted({*present, *configured})) or "none yet (crawl first)"
            raise NotFoundError(f"unknown site {name!r}; sites in the archive or config: {known}")


def _warcinfo(options: ExportOptions, tool_version: str) -> dict[str, str]:
    """The fields of the WARC file's warcinfo record (ignored by the other formats)."""
    return {
        "software": f"speech-archive/{tool_version}",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "description": "speech-archive export of raw captures and their cleaned texts",
        "filters": json.dumps(options.filters(), ensure_ascii=False),
    }


def _work_batches(session: Session, options: ExportOptions) -> Iterator[list[Any]]:
    for batch in work_rows(session, sites=options.sites, complete_only=options.complete_only):
        for row in batch:
            row["schema_version"] = SCHEMA_VERSION
        yield batch


def _batches(session: Session, options: ExportOptions, window: rowsource.IdWindow) -> Iterator[list[Any]]:
    if options.works:
        return _work_batches(session, options)
    if options.spec.per_capture:
        return rowsource.capture_batches(session, options, window)
    if options.unique_content:
        return rowsource.content_batches(session, options, window)
    return rowsource.version_batches(session, options, window)


def _total(session: Session, options: ExportOptions, window: rowsource.IdWindow) -> int:
    if options.works:
        return count_works(session)
    if options.spec.per_capture:
        return rowsource.count_rows(session, rowsource.capture_query(options, window), "record_capture_id")
    query = rowsource.version_query(options, window)
    return rowsource.count_rows(session, query, "content_hash" if options.unique_content else None)


def _row_kind(options: ExportOptions) -> str:
    if options.works:
        return "work"
    return "capture" if options.spec.per_capture else "content" if options.unique_content else "version"


def _tally(counts: Counter[str], sites: Counter[str], options: ExportOptions, batch: list[Any]) -> None:
    """Running counts for the manifest; bounded by the number of sites, not rows."""
    if options.works:
        counts["works"] += len(batch)
        for row in batch:
            counts["copies"] += row["copy_count"]
            counts["incomplete"] += not row["complete"]
            sites.update(row["sites"])
    elif options.spec.per_capture:
        counts["captures"] += len(batch)
        for capture in batch:
            counts["versions"] += len(capture.versions)
            sites[capture.site] += 1
    elif options.unique_content:
        counts["contents"] += len(batch)
        for row in batch:
            counts["versions"] += row["version_count"]
            counts["partial"] += bool(row["partial"])
    else:
        counts["versions"] += len(batch)
        for row in batch:
            sites[row["site"]] += 1
            counts["partial"] += bool(row["partial"])


def export(
    archive: Archive,
    options: ExportOptions,
    *,
    tool_version: str = "unknown",
    configured_sites: Collection[str] = (),
    progress: Progress | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
) -> ExportResult:
    """Write one export file (and its manifest), streaming; move the since-last cursor when done.

    Nothing is left at ``options.output`` unless the whole file was written.
    """
    started = clock()
    fmt = options.spec
    target = Target(options.output, options.compression if fmt.stream_compressed else None)
    counts: Counter[str] = Counter()
    sites: Counter[str] = Counter()
    cursor_info: dict[str, Any] | None = None
    try:
        with archive.session() as session:
            _check_sites(session, options.sites, configured_sites)
            previous = load_cursor(session, options.since_last) if options.since_last else None
            window = rowsource.snapshot(session, previous)
            if options.since_last:
                cursor_info = {
                    "name": options.since_last,
                    "from": {"version_id": window.version_after, "capture_id": window.capture_after},
                    "to": {"version_id": window.version_upto, "capture_id": window.capture_upto},
                }
            if progress is not None:
                progress.start(_total(session, options, window))
            writer = fmt.open_writer(
                WriterRequest(
                    stream=target.stream,
                    columns=columns_for(options.unique_content, options.works),
                    excel=options.excel,
                    gzip=options.compression == "gzip",
                    filename=options.output.name if options.output else "-",
                    info=_warcinfo(options, tool_version),
                )
            )
            for batch in _batches(session, options, window):
                writer.write(batch)
                _tally(counts, sites, options, batch)
                if progress is not None:
                    progress.advance(len(batch))
            writer.close()
            counts.update({f"warc_{k}": v for k, v in getattr(writer, "counts", {}).items()})
        target.finish()
    except BrokenPipeError:
        target.abort()
        raise ExportError("standard output was closed before the export finished") from None
    except OSError as exc:
        target.abort()
        raise ExportError(f"cannot write {options.output or 'standard output'}: {exc.strerror or exc}") from None
    except SQLAlchemyError as exc:
        target.abort()
        raise archive_error(exc, "reading the archive for export failed") from None
    except BaseException:
        target.abort()
        raise
    finished = clock()
    if options.works:
        total_rows = counts["works"]
    else:
        total_rows = counts["captures"] if fmt.per_capture else counts["contents"] or counts["versions"]
    summary = {"rows": total_rows, **dict(sorted(counts.items())), "by_site": dict(sorted(sites.items()))}
    manifest_file = None
    if options.output is not None:
        manifest = build_manifest(
            file=options.output,
            fmt=options.format,
            compression=options.compression,
            row_kind=_row_kind(options),
            schema_version=SCHEMA_VERSION,
            sha256=target.sha256,
            size=target.size,
            counts=summary,
            filters=options.filters(),
            cursor=cursor_info,
            database=make_url(archive.url).render_as_string(hide_password=True),
            tool_version=tool_version,
            started_at=started,
            finished_at=finished,
        )
        manifest_file = write_manifest(options.output, manifest)
    if options.since_last:
        with archive.session() as session:
            save_cursor(session, options.since_last, window, finished)
    seconds = (finished - started).total_seconds()
    log.debug("exported %d rows to %s in %.1f s", total_rows, options.output or "standard output", seconds)
    return ExportResult(
        options.format,
        options.output,
        manifest_file,
        total_rows,
        summary,
        target.sha256,
        target.size,
        seconds,
        cursor_info,
    )
