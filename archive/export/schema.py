"""The export schema: every column once, with its kind, shared by all writers.

JSONL, CSV and Parquet write the same columns in the same order, and
docs/EXPORT.md documents each one (a test checks that), so the columns are
data here rather than repeated in each writer. A writer maps a column's
*kind* to its own encoding: JSON value, CSV cell, Arrow type.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Literal

SCHEMA_VERSION = 1
"""Bumped when a column is renamed, removed or changes meaning; adding a column does not bump it."""

Kind = Literal["str", "int", "float", "bool", "ts", "list_str", "gaps", "occurrences", "copies"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    nullable: bool = True


VERSION_COLUMNS: tuple[Column, ...] = (
    Column("schema_version", "int", nullable=False),
    Column("site", "str", nullable=False),
    Column("url", "str", nullable=False),
    Column("page_id", "int", nullable=False),
    Column("version", "int", nullable=False),
    Column("version_id", "int", nullable=False),
    Column("change", "str", nullable=False),
    Column("captured_at", "ts", nullable=False),
    Column("archived_at", "ts", nullable=False),
    Column("capture_id", "int"),
    Column("content_hash", "str", nullable=False),
    Column("title", "str"),
    Column("published_at", "ts"),
    Column("category", "list_str", nullable=False),
    Column("source", "str"),
    Column("outline", "list_str", nullable=False),
    Column("partial", "bool", nullable=False),
    Column("gaps", "gaps", nullable=False),
    Column("declared_chars", "int"),
    Column("shown_chars", "int"),
    Column("masked_count", "int", nullable=False),
    Column("char_count", "int", nullable=False),
    Column("speaker", "str"),
    Column("occasion", "str"),
    Column("genre", "str"),
    Column("extractor_version", "str", nullable=False),
    Column("text", "str", nullable=False),
)
"""One row per version (the default)."""

CONTENT_COLUMNS: tuple[Column, ...] = (
    Column("schema_version", "int", nullable=False),
    Column("content_hash", "str", nullable=False),
    Column("char_count", "int", nullable=False),
    Column("page_count", "int", nullable=False),
    Column("version_count", "int", nullable=False),
    Column("sites", "list_str", nullable=False),
    Column("urls", "list_str", nullable=False),
    Column("first_captured_at", "ts", nullable=False),
    Column("last_captured_at", "ts", nullable=False),
    Column("title", "str"),
    Column("published_at", "ts"),
    Column("partial", "bool", nullable=False),
    Column("occurrences", "occurrences", nullable=False),
    Column("text", "str", nullable=False),
)
"""One row per content hash (``--unique-content``)."""

OCCURRENCE_FIELDS: tuple[Column, ...] = (
    Column("site", "str", nullable=False),
    Column("url", "str", nullable=False),
    Column("version", "int", nullable=False),
    Column("version_id", "int", nullable=False),
    Column("captured_at", "ts", nullable=False),
    Column("title", "str"),
    Column("partial", "bool", nullable=False),
)
"""The fields of one entry of a content row's ``occurrences`` list."""

GAP_FIELDS: tuple[Column, ...] = (Column("offset", "int", nullable=False), Column("omitted_chars", "int"))

WORK_COLUMNS: tuple[Column, ...] = (
    Column("schema_version", "int", nullable=False),
    Column("work_id", "str", nullable=False),
    Column("copy_count", "int", nullable=False),
    Column("page_count", "int", nullable=False),
    Column("sites", "list_str", nullable=False),
    Column("complete", "bool", nullable=False),
    Column("canonical_hash", "str", nullable=False),
    Column("canonical_url", "str"),
    Column("title", "str"),
    Column("published_at", "ts"),
    Column("speaker", "str"),
    Column("occasion", "str"),
    Column("genre", "str"),
    Column("char_count", "int", nullable=False),
    Column("masked_count", "int", nullable=False),
    Column("first_captured_at", "ts"),
    Column("last_captured_at", "ts"),
    Column("copies", "copies", nullable=False),
    Column("fills", "int", nullable=False),
    Column("text", "str", nullable=False),
)
"""One row per work (``--works``): the canonical copy's text and metadata, every copy in ``copies``."""

COPY_FIELDS: tuple[Column, ...] = (
    Column("content_hash", "str", nullable=False),
    Column("role", "str", nullable=False),
    Column("containment", "float", nullable=False),
    Column("similarity", "float", nullable=False),
    Column("partial", "bool", nullable=False),
    Column("masks", "int", nullable=False),
    Column("char_count", "int", nullable=False),
    Column("sites", "list_str", nullable=False),
    Column("urls", "list_str", nullable=False),
    Column("first_captured_at", "ts"),
)
"""The fields of one entry of a work row's ``copies`` list."""


def columns_for(unique_content: bool, works: bool = False) -> tuple[Column, ...]:
    if works:
        return WORK_COLUMNS
    return CONTENT_COLUMNS if unique_content else VERSION_COLUMNS


def iso(value: dt.datetime | None) -> str | None:
    """UTC ISO 8601 with offset: what JSON and CSV carry for a timestamp."""
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def _occurrence_json(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "captured_at": iso(item["captured_at"])}


def _copy_json(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "first_captured_at": iso(item["first_captured_at"])}


def json_value(column: Column, value: Any) -> Any:
    """The JSON form of one cell (timestamps as ISO strings, the rest as they are)."""
    if column.kind == "ts":
        return iso(value)
    if column.kind == "occurrences":
        return [_occurrence_json(item) for item in value]
    if column.kind == "copies":
        return [_copy_json(item) for item in value]
    return value


def json_row(columns: tuple[Column, ...], row: dict[str, Any]) -> dict[str, Any]:
    return {c.name: json_value(c, row[c.name]) for c in columns}


def csv_cell(column: Column, value: Any) -> str:
    """One CSV cell: lists as JSON text (reversible), booleans as true/false, null as empty."""
    if value is None:
        return ""
    if column.kind == "bool":
        return "true" if value else "false"
    if column.kind in ("list_str", "gaps", "occurrences", "copies"):
        return json.dumps(json_value(column, value), ensure_ascii=False, separators=(",", ":"))
    if column.kind == "ts":
        return iso(value) or ""
    return str(value)
