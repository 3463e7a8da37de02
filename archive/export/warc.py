"""WARC/1.1 for web archivists: the raw captures as replayable records.

Per export: one ``warcinfo`` record. Per stored capture: a ``response``
record with the original status and headers, the target URI and the capture
date; when an earlier record in the same file carries the identical payload
(same SHA-256), a ``revisit`` record with the identical-payload-digest
profile instead (the standard WARC dedup, which replay tools follow through
``WARC-Refers-To``). Per version cleaned from a capture: a ``conversion``
record with the text (``WARC-Refers-To`` the capture's record) and a
``metadata`` record with the version's fields as JSON (``WARC-Refers-To``
the conversion).

Scrapy stored the body already decoded, so the HTTP headers are adjusted to
match what the record holds: ``Content-Encoding`` and ``Transfer-Encoding``
are dropped, ``Content-Length`` is the stored length, and each original value
is kept as ``X-Archive-Orig-<Name>``. Digests are SHA-256 (base32), which lets
the payload digest come from the archive's raw-page key without rehashing.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections import Counter
from http import HTTPStatus
from io import BytesIO
from typing import Any, BinaryIO

from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from archive.export.formats import WriterRequest
from archive.export.rows import CaptureRecord
from archive.export.schema import VERSION_COLUMNS, json_row

_ADJUSTED = ("content-encoding", "transfer-encoding", "content-length")
_METADATA_COLUMNS = tuple(c for c in VERSION_COLUMNS if c.name != "text")


class _Sha256WARCWriter(WARCWriter):
    """warcio's writer with SHA-256 block digests (WARC/1.1 allows any algorithm; SHA-1 is weak)."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


def warc_date(moment: dt.datetime) -> str:
    """W3C date-time in UTC, with microseconds when there are any (WARC/1.1 §5.4)."""
    moment = moment.astimezone(dt.UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return moment.strftime(fmt)


def sha256_digest(hex_digest: str) -> str:
    """A hex SHA-256 (the raw-page key) in WARC's ``sha256:BASE32`` form."""
    return "sha256:" + base64.b32encode(bytes.fromhex(hex_digest)).decode("ascii")


def http_headers(record: CaptureRecord, body_length: int) -> StatusAndHeaders:
    """The original status line and headers, made consistent with the decoded body stored."""
    try:
        reason = HTTPStatus(record.status_code).phrase
    except ValueError:
        reason = "Unknown"
    headers: list[tuple[str, str]] = []
    for name, value in record.headers.items():
        text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        if name.lower() in _ADJUSTED:
            headers.append((f"X-Archive-Orig-{name}", text))
        else:
            headers.append((name, text))
    headers.append(("Content-Length", str(body_length)))
    return StatusAndHeaders(f"{record.status_code} {reason}", headers, protocol="HTTP/1.1")


class WarcExportWriter:
    """Writes capture records as they stream; remembers only counts."""

    def __init__(self, stream: BinaryIO, *, gzip: bool, filename: str, info: dict[str, Any]) -> None:
        self.writer = _Sha256WARCWriter(stream, gzip=gzip, warc_version="1.1")
        self.namespace = uuid.uuid4()
        """Record ids are uuid5(namespace, capture/version id): unique per export, yet known in
        advance, so a revisit can name its original's id without a lookup table."""
        self.counts: Counter[str] = Counter()
        warcinfo = self.writer.create_warcinfo_record(filename, info)
        self.info_id = warcinfo.rec_headers.get_header("WARC-Record-ID")
        self._write(warcinfo)

    def _id(self, kind: str, key: int) -> str:
        return f"<urn:uuid:{uuid.uuid5(self.namespace, f'{kind}/{key}')}>"

    def _write(self, record: Any) -> None:
        self.writer.write_record(record)
        self.counts[record.rec_type] += 1

    def _headers(self, record_id: str, date: dt.datetime, **extra: str) -> dict[str, str]:
        return {"WARC-Record-ID": record_id, "WARC-Date": warc_date(date), "WARC-Warcinfo-ID": self.info_id, **extra}

    def write(self, captures: list[CaptureRecord]) -> None:
        for capture in captures:
            self.write_capture(capture)

    def write_capture(self, capture: CaptureRecord) -> None:
        record_id = self._id("capture", capture.capture_id)
        digest = sha256_digest(capture.raw_sha256)
        if capture.is_revisit or capture.body is None:
            headers = self._headers(
                record_id, capture.fetched_at, **{"WARC-Refers-To": self._id("capture", capture.original_capture_id)}
            )
            record = self.writer.create_revisit_record(
                capture.url,
                digest,
                capture.original_url,
                warc_date(capture.original_fetched_at),
                http_headers=http_headers(capture, capture.raw_size),
                warc_headers_dict=headers,
            )
        else:
            headers = self._headers(record_id, capture.fetched_at, **{"WARC-Payload-Digest": digest})
            record = self.writer.create_warc_record(
                capture.url,
                "response",
                payload=BytesIO(capture.body),
                length=len(capture.body),
                http_headers=http_headers(capture, len(capture.body)),
                warc_headers_dict=headers,
            )
        self._write(record)
        for version in capture.versions:
            self.write_version(version, refers_to=record_id)

    def write_version(self, version: dict[str, Any], *, refers_to: str) -> None:
        """The cleaned text as a ``conversion`` record, its fields as a JSON ``metadata`` record."""
        conversion_id = self._id("version", version["version_id"])
        text = version["text"].encode("utf-8")
        self._write_payload(
            version, "conversion", conversion_id, text, content_type="text/plain; charset=utf-8", refers_to=refers_to
        )
        meta = json.dumps(json_row(_METADATA_COLUMNS, version), ensure_ascii=False).encode("utf-8")
        metadata_id = self._id("metadata", version["version_id"])
        self._write_payload(
            version, "metadata", metadata_id, meta, content_type="application/json", refers_to=conversion_id
        )

    def _write_payload(
        self, version: dict[str, Any], kind: str, record_id: str, payload: bytes, *, content_type: str, refers_to: str
    ) -> None:
        """One record derived from a version, linked to its source record by WARC-Refers-To."""
        self._write(
            self.writer.create_warc_record(
                version["url"],
                kind,
                payload=BytesIO(payload),
                length=len(payload),
                warc_content_type=content_type,
                warc_headers_dict=self._headers(record_id, version["archived_at"], **{"WARC-Refers-To": refers_to}),
            )
        )

    def close(self) -> None:
        """warcio flushes each record as it writes it; nothing is left to do."""


def open_writer(request: WriterRequest) -> WarcExportWriter:
    return WarcExportWriter(request.stream, gzip=request.gzip, filename=request.filename, info=request.info)
