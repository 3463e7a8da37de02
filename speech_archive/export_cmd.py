"""`speech-archive export`.

The edge of the export: strings from the command line become one validated
ExportOptions, the terminal gets a progress bar (a log line every few seconds
elsewhere), and the result is one summary line on stderr, so ``-o -`` can pipe
the data itself to another program.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from archive.errors import UsageError
from archive.export import FORMATS, ExportOptions, ExportResult, export
from archive.storage import Archive
from speech_archive import __version__
from speech_archive.console import config_option, err_console, get_config, out_console
from speech_archive.progress import Progress

log = logging.getLogger(__name__)


def _summary(result: ExportResult) -> str:
    where = str(result.path) if result.path else "standard output"
    unit = (
        "works"
        if result.counts.get("works") is not None and "versions" not in result.counts
        else ("captures" if FORMATS[result.format].per_capture else "rows")
    )
    text = f"wrote {result.rows:,} {unit} to {where} ({result.size / 1e6:,.1f} MB, {result.seconds:.1f} s)"
    if result.manifest_path:
        text += f"; manifest {result.manifest_path}"
    if result.cursor:
        text += f"; cursor {result.cursor['name']!r} now at version {result.cursor['to']['version_id']}"
    return text


@click.command("export")
@click.option(
    "--format", "fmt", metavar="{jsonl,csv,parquet,warc}", help="Output format (default: from the -o extension)."
)
@click.option(
    "-o",
    "--output",
    metavar="PATH|-",
    help="File to write; .gz/.zst compress JSONL/CSV, .warc.gz WARC; '-' = stdout. "
    "Default: speech-archive-<time>.<format> here.",
)
@click.option("--site", "sites", multiple=True, metavar="NAME", help="Only this site (repeatable).")
@click.option("--since", metavar="DATE", help="Captured at or after DATE (YYYY-MM-DD or ISO time; UTC unless offset).")
@click.option("--until", metavar="DATE", help="Captured before DATE (a bare date includes that whole day).")
@click.option(
    "--versions",
    default="all",
    show_default=True,
    metavar="{latest,all}",
    help="Every version, or only each page's newest.",
)
@click.option("--unique-content", is_flag=True, help="One row per content hash, listing every page and site.")
@click.option("--complete-only", is_flag=True, help="Drop partial (paywalled/truncated) texts.")
@click.option(
    "--works", "works", is_flag=True, help="One row per work: canonical text and metadata, its copies as a list."
)
@click.option("--excel", is_flag=True, help="CSV with a UTF-8 BOM so Excel (Chinese Windows) reads it right.")
@click.option("--since-last", metavar="NAME", help="Only what is new since the last export with this cursor name.")
@click.option("--json", "as_json", is_flag=True, help="Print the result (counts, sha256, paths) as JSON on stdout.")
@config_option
def export_command(
    *,
    fmt: str | None,
    output: str | None,
    sites: tuple[str, ...],
    since: str | None,
    until: str | None,
    versions: str,
    unique_content: bool,
    complete_only: bool,
    works: bool,
    excel: bool,
    since_last: str | None,
    as_json: bool,
    config_path: Path | None,
) -> None:
    """Export the archive as JSONL, CSV, Parquet or WARC, with a manifest beside the file."""
    config = get_config(config_path)
    options = ExportOptions.parse(
        format=fmt,
        output=output,
        sites=sites,
        since=since,
        until=until,
        versions=versions.lower(),
        unique_content=unique_content,
        complete_only=complete_only,
        works=works,
        excel=excel,
        since_last=since_last,
    )
    if as_json and options.output is None:
        raise UsageError("--json prints to stdout, which -o - already uses for the data; drop one of them")
    progress = Progress(f"export {options.format}", err_console, unit="rows")
    try:
        with Archive(config.archive.database_url) as archive:
            result = export(
                archive,
                options,
                tool_version=__version__,
                configured_sites=[s.name for s in config.sites],
                progress=progress,
            )
    finally:
        progress.stop()
    if as_json:
        out_console.print_json(
            json.dumps(
                {
                    "format": result.format,
                    "path": str(result.path) if result.path else None,
                    "manifest": str(result.manifest_path) if result.manifest_path else None,
                    "rows": result.rows,
                    "counts": result.counts,
                    "bytes": result.size,
                    "sha256": result.sha256,
                    "seconds": round(result.seconds, 3),
                    "cursor": result.cursor,
                },
                ensure_ascii=False,
            )
        )
    err_console.print(_summary(result), highlight=False, markup=False, soft_wrap=True)


COMMANDS = (export_command,)
