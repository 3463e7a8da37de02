"""The export formats, as one table: each format's file names, compressions, unit and writer.

Everything that differs between formats is a field here, so the driver,
the option checks and the command line ask the table instead of testing a
format's name. Writers are imported on demand: a JSONL export should not load
pyarrow (~50 MB).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from archive.export.schema import Column


class Writer(Protocol):
    def write(self, rows: list[Any]) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class WriterRequest:
    """What a writer may need to know about its export."""

    stream: BinaryIO
    columns: tuple[Column, ...]
    excel: bool
    gzip: bool
    filename: str
    info: dict[str, str]


@dataclass(frozen=True)
class Format:
    name: str
    extensions: tuple[str, ...]
    """File name endings, the first one the default."""
    compressions: tuple[str, ...]
    """Compressions a file of this format may carry (from its name: .gz, .zst)."""
    stream_compressed: bool
    """True when the whole byte stream is compressed (JSONL, CSV); WARC gzips each record itself."""
    per_capture: bool
    """One record per capture (WARC) rather than one row per version or content."""
    writer_module: str
    """Module with ``open_writer(request) -> Writer``."""
    note: str = ""
    """Why a format takes no compression suffix, for the error message."""
    works: bool = True
    """Can carry one row per work (``--works``); WARC's records are raw captures, not works."""

    @property
    def extension(self) -> str:
        return self.extensions[0]

    def open_writer(self, request: WriterRequest) -> Writer:
        opener: Callable[[WriterRequest], Writer] = importlib.import_module(self.writer_module).open_writer
        return opener(request)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("jsonl", (".jsonl", ".ndjson"), ("gzip", "zstd"), True, False, "archive.export.jsonl"),
        Format("csv", (".csv",), ("gzip", "zstd"), True, False, "archive.export.csvfile"),
        Format(
            "parquet", (".parquet",), (), False, False, "archive.export.parquet",
            note="Parquet compresses its columns itself",
        ),
        Format("warc", (".warc",), ("gzip",), False, True, "archive.export.warc", works=False),
    )
}  # fmt: skip
