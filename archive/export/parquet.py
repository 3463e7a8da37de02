"""Parquet: typed columns for pandas, DuckDB and Spark.

Timestamps are ``timestamp[us, tz=UTC]``, counts are ``int64``, breadcrumb and
outline are ``list<string>``, gaps and occurrences are lists of structs. Rows
are gathered into row groups of :data:`ROW_GROUP_ROWS` and each group is
written as soon as it is full, so memory holds one row group, not the file.
Columns are zstd-compressed inside the file (the file name stays .parquet).
"""

from __future__ import annotations

from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from archive.export.formats import WriterRequest
from archive.export.schema import COPY_FIELDS, GAP_FIELDS, OCCURRENCE_FIELDS, SCHEMA_VERSION, Column

ROW_GROUP_ROWS = 4096
"""About 25 MB of Chinese text per group: big enough for fast scans, small enough for flat memory."""

_SCALARS: dict[str, pa.DataType] = {
    "str": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "ts": pa.timestamp("us", tz="UTC"),
    "list_str": pa.list_(pa.string()),
}


def _struct(fields: tuple[Column, ...]) -> pa.DataType:
    return pa.struct([pa.field(f.name, _SCALARS[f.kind], nullable=f.nullable) for f in fields])


def arrow_type(column: Column) -> pa.DataType:
    if column.kind == "gaps":
        return pa.list_(_struct(GAP_FIELDS))
    if column.kind == "occurrences":
        return pa.list_(_struct(OCCURRENCE_FIELDS))
    if column.kind == "copies":
        return pa.list_(_struct(COPY_FIELDS))
    return _SCALARS[column.kind]


def arrow_schema(columns: tuple[Column, ...]) -> pa.Schema:
    fields = [pa.field(c.name, arrow_type(c), nullable=c.nullable) for c in columns]
    return pa.schema(fields, metadata={b"speech_archive.schema_version": str(SCHEMA_VERSION).encode()})


class ParquetWriter:
    def __init__(self, stream: BinaryIO, columns: tuple[Column, ...], *, row_group_rows: int = ROW_GROUP_ROWS) -> None:
        self.schema = arrow_schema(columns)
        self.row_group_rows = row_group_rows
        self.sink = pa.PythonFile(stream, mode="w")
        self.writer = pq.ParquetWriter(self.sink, self.schema, compression="zstd", write_statistics=True)
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = 0

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        self.pending.append(pa.RecordBatch.from_pylist(rows, schema=self.schema))
        self.pending_rows += len(rows)
        if self.pending_rows >= self.row_group_rows:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            table = pa.Table.from_batches(self.pending, schema=self.schema)
            self.writer.write_table(table, row_group_size=max(self.row_group_rows, table.num_rows))
        self.pending, self.pending_rows = [], 0

    def close(self) -> None:
        self._flush()
        self.writer.close()


def open_writer(request: WriterRequest) -> ParquetWriter:
    return ParquetWriter(request.stream, request.columns)
