"""CSV: the JSONL columns as cells, for spreadsheets.

Excel on Chinese Windows reads a CSV without a byte-order mark as GBK and
shows UTF-8 as mojibake; ``--excel`` writes the UTF-8 BOM that makes it pick
UTF-8. List columns (category, outline, gaps, …) are JSON text in one cell, so
nothing is lost and any reader can split them again; an empty cell is null.
Rows end in CRLF, as RFC 4180 and Excel expect; texts keep their line breaks
inside quoted cells.
"""

from __future__ import annotations

import csv
import io
from typing import Any, BinaryIO

from archive.export.formats import WriterRequest
from archive.export.schema import Column, csv_cell


class CsvWriter:
    def __init__(self, stream: BinaryIO, columns: tuple[Column, ...], *, excel: bool = False) -> None:
        self.columns = columns
        # newline="" hands line endings to the csv module (CRLF), as its docs require.
        self.text = io.TextIOWrapper(stream, encoding="utf-8-sig" if excel else "utf-8", newline="")  # type: ignore[arg-type]
        self.writer = csv.writer(self.text)
        self.writer.writerow([c.name for c in columns])

    def write(self, rows: list[dict[str, Any]]) -> None:
        cols = self.columns
        self.writer.writerows([[csv_cell(c, row[c.name]) for c in cols] for row in rows])

    def close(self) -> None:
        """Flush the text layer and let go of the byte stream without closing it (the target owns it)."""
        self.text.flush()
        self.text.detach()


def open_writer(request: WriterRequest) -> CsvWriter:
    return CsvWriter(request.stream, request.columns, excel=request.excel)
