"""Export options: one small frozen value, validated once where it is built.

The command line turns its strings into :class:`ExportOptions` with
:meth:`ExportOptions.parse`; everything below receives a value that is known
to be consistent (a format that exists, a time window that is not empty, a
compression the format can carry), so writers never re-check arguments.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from archive.errors import UsageError
from archive.export.formats import FORMATS, Format

COMPRESSIONS = {".gz": "gzip", ".zst": "zstd"}
_CURSOR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")

Versions = Literal["latest", "all"]


def parse_time(text: str, option: str, *, end_of_day: bool = False) -> dt.datetime:
    """A date or ISO 8601 time; no offset means UTC.

    A bare date given to ``--until`` means the end of that day (so
    ``--since 2025-03-01 --until 2025-03-01`` is that whole day): the window
    is ``since <= captured_at < until``.
    """
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = dt.date.fromisoformat(value)
            moment = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
            return moment + dt.timedelta(days=1) if end_of_day else moment
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a date; use YYYY-MM-DD or an ISO 8601 time such as "
            "2025-03-01T08:00+08:00 (no offset means UTC)"
        ) from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def split_suffix(name: str) -> tuple[str | None, str | None]:
    """(format, compression) an output name implies, e.g. ``a.jsonl.zst`` -> (jsonl, zstd)."""
    lower = name.lower()
    compression = None
    for ext, comp in COMPRESSIONS.items():
        if lower.endswith(ext):
            compression, lower = comp, lower[: -len(ext)]
    for fmt in FORMATS.values():
        if lower.endswith(fmt.extensions):
            return fmt.name, compression
    return None, compression


@dataclass(frozen=True)
class ExportOptions:
    """What to export and where; ``output=None`` means standard output."""

    format: str
    output: Path | None
    sites: tuple[str, ...] = ()
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    versions: Versions = "all"
    unique_content: bool = False
    complete_only: bool = False
    excel: bool = False
    since_last: str | None = None
    compression: str | None = None
    batch_size: int = 1000
    works: bool = False
    """One row per work (canonical text, copies as a list) instead of one per version."""

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise UsageError(f"unknown export format {self.format!r}; use one of {', '.join(FORMATS)}")
        if self.versions not in ("latest", "all"):
            raise UsageError(f"--versions {self.versions!r} is not valid; use 'latest' or 'all'")
        for moment in (self.since, self.until):
            if moment is not None and moment.tzinfo is None:
                raise UsageError("export times must carry a time zone; parse them with parse_time")
        if self.since and self.until and self.until <= self.since:
            raise UsageError(
                f"--until {self.until.isoformat()} is not after --since {self.since.isoformat()}; "
                "give an --until later than --since"
            )
        fmt = self.spec
        if self.compression is not None and self.compression not in fmt.compressions:
            allowed = ", ".join(f"{fmt.extension}{e}" for e, c in COMPRESSIONS.items() if c in fmt.compressions)
            raise UsageError(
                f"{self.format} cannot be written {self.compression}-compressed; "
                + (
                    f"name the file {fmt.extension} or {allowed}"
                    if allowed
                    else f"name it {fmt.extension} ({fmt.note})"
                )
            )
        if self.excel and self.format != "csv":
            raise UsageError("--excel only applies to --format csv (it adds a UTF-8 BOM for Excel)")
        if self.unique_content and fmt.per_capture:
            raise UsageError(
                "--unique-content does not apply to WARC, whose records are per capture; use jsonl, csv or parquet"
            )
        if self.works:
            self._check_works(fmt)
        if self.since_last is not None and not _CURSOR_NAME.match(self.since_last):
            raise UsageError(
                f"--since-last {self.since_last!r} is not a valid cursor name; use up to 100 letters, "
                "digits, '.', '_' or '-'"
            )
        if self.batch_size < 1:
            raise UsageError("batch size must be at least 1")

    def _check_works(self, fmt: Format) -> None:
        if not fmt.works:
            raise UsageError(
                f"--works does not apply to {fmt.name.upper()}, whose records are raw captures; "
                "use --format jsonl, csv or parquet"
            )
        clashing = [
            name
            for name, on in (
                ("--unique-content", self.unique_content),
                ("--since-last", self.since_last is not None),
                ("--since", self.since is not None),
                ("--until", self.until is not None),
                ("--versions latest", self.versions == "latest"),
            )
            if on
        ]
        if clashing:
            raise UsageError(
                f"--works exports one row per work and does not combine with {', '.join(clashing)}; "
                "drop them (--site and --complete-only do apply)"
            )

    @classmethod
    def parse(
        cls,
        *,
        format: str | None,
        output: str | None,
        sites: tuple[str, ...] = (),
        since: str | None = None,
        until: str | None = None,
        versions: str = "all",
        unique_content: bool = False,
        complete_only: bool = False,
        excel: bool = False,
        since_last: str | None = None,
        works: bool = False,
        now: dt.datetime | None = None,
    ) -> ExportOptions:
        """Build options from command-line strings; infer the format from ``-o`` when not given."""
        fmt = format.lower() if format else None
        implied, compression = split_suffix(output) if output and output != "-" else (None, None)
        if fmt is None:
            if implied is None:
                raise UsageError(
                    "say what to write: --format {jsonl,csv,parquet,warc}, or an -o name ending in "
                    ".jsonl, .csv, .parquet or .warc (optionally .gz/.zst)"
                )
            fmt = implied
        elif fmt in FORMATS and implied is not None and implied != fmt:
            raise UsageError(f"-o {output} looks like {implied}, but --format is {fmt}; make them agree")
        if fmt not in FORMATS:
            raise UsageError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
        if output is None:
            stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
            path: Path | None = Path(f"speech-archive-{stamp}{FORMATS[fmt].extension}")
        else:
            path = None if output == "-" else Path(output)
        return cls(
            format=fmt,
            output=path,
            sites=tuple(dict.fromkeys(sites)),
            since=parse_time(since, "--since") if since else None,
            until=parse_time(until, "--until", end_of_day=True) if until else None,
            versions=versions,  # type: ignore[arg-type]  # checked in __post_init__
            unique_content=unique_content,
            complete_only=complete_only,
            excel=excel,
            since_last=since_last,
            compression=compression,
            works=works,
        )

    @property
    def spec(self) -> Format:
        """This export's row of the format table."""
        return FORMATS[self.format]

    def filters(self) -> dict[str, Any]:
        """The filters as the manifest records them."""
        data = asdict(self)
        return {
            "sites": list(self.sites),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "versions": data["versions"],
            "unique_content": self.unique_content,
            "complete_only": self.complete_only,
            "since_last": self.since_last,
            "works": self.works,
        }
