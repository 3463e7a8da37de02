"""JSON Lines: one object per row, UTF-8 (Chinese kept readable, not \\u-escaped)."""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from archive.export.formats import WriterRequest
from archive.export.schema import Column, json_row


class JsonlWriter:
    """Writes each batch as it comes; holds nothing between batches."""

    def __init__(self, stream: BinaryIO, columns: tuple[Column, ...]) -> None:
        self.stream = stream
        self.columns = columns

    def write(self, rows: list[dict[str, Any]]) -> None:
        dumps = json.dumps
        lines = [dumps(json_row(self.columns, row), ensure_ascii=False, separators=(",", ":")) for row in rows]
        if lines:
            self.stream.write(("\n".join(lines) + "\n").encode("utf-8"))

    def close(self) -> None:
        """Nothing buffered here; the target flushes and renames."""


def open_writer(request: WriterRequest) -> JsonlWriter:
    return JsonlWriter(request.stream, request.columns)
