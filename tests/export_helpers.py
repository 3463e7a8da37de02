"""A small archive built through the real ingest, and independent readers for every export format.

The readers use only the format libraries (json, csv, gzip/zstandard, pyarrow,
duckdb, warcio) and the documented column types, never our export code, so a
round trip checks the files against what was ingested, not against itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard
from sqlalchemy import select

from archive.cleaning.core import Extraction, Gap
from archive.cleaning.normalize import content_hash
from archive.records import Fetched, ProcessedPage
from archive.storage.engine import Archive
from archive.storage.ingest import ingest
from archive.storage.models import Site
from archive.storage.rawstore import pack_raw

T0 = dt.datetime(2025, 1, 1, 8, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
TEXT_A = "同志们:\n今天我们召开全区经济工作会议,主要任务是总结去年工作,部署今年任务。\n一要抓项目建设,二要抓改革创新。"
TEXT_B = TEXT_A.replace("二要抓改革创新", "二要抓改革创新,三要抓民生实事")
TEXT_C = "在全市安全生产工作会议上的讲话\n同志们:\n安全生产是底线,必须[……]抓紧抓实。"
TEXT_D = "在全县乡村振兴工作推进会上的讲话\n一、提高认识\n二、突出重点\n三、强化保障"
HEADERS = {
    "Content-Type": "text/html; charset=gbk",
    "Content-Encoding": "gzip",
    "Content-Length": "321",
    "ETag": '"abc123"',
    "Server": "nginx",
}
SITES = ("one", "two")

VERSION_FIELDS = [
    "schema_version",
    "site",
    "url",
    "page_id",
    "version",
    "version_id",
    "change",
    "captured_at",
    "archived_at",
    "capture_id",
    "content_hash",
    "title",
    "published_at",
    "category",
    "source",
    "outline",
    "partial",
    "gaps",
    "declared_chars",
    "shown_chars",
    "masked_count",
    "char_count",
    "speaker",
    "occasion",
    "genre",
    "extractor_version",
    "text",
]
CONTENT_FIELDS = [
    "schema_version",
    "content_hash",
    "char_count",
    "page_count",
    "version_count",
    "sites",
    "urls",
    "first_captured_at",
    "last_captured_at",
    "title",
    "published_at",
    "partial",
    "occurrences",
    "text",
]
TIMES = {"captured_at", "archived_at", "published_at", "first_captured_at", "last_captured_at"}
INTS = {
    "schema_version",
    "page_id",
    "version",
    "version_id",
    "capture_id",
    "declared_chars",
    "shown_chars",
    "masked_count",
    "char_count",
    "page_count",
    "version_count",
}
BOOLS = {"partial"}
JSON_CELLS = {"category", "outline", "gaps", "sites", "urls", "occurrences"}
COMPARED = [
    f for f in VERSION_FIELDS if f not in ("schema_version", "page_id", "version_id", "capture_id", "archived_at")
]

RICH = {
    "title": "区委书记在全区经济工作会议上的讲话",
    "published_at": dt.datetime(2025, 3, 9, 4, 57, 44, tzinfo=dt.UTC),
    "category": ["新文秘网", "公文范文", "讲话稿"],
    "source": "网友投稿",
    "outline": ["一、抓项目", "二、抓改革"],
    "masked_count": 2,
    "speaker": "区委书记",
    "occasion": "全区经济工作会议",
    "genre": "讲话",
}


@dataclass
class Corpus:
    """An archive plus the truth about it: what each version and capture should export as."""

    archive: Archive
    versions: list[dict[str, Any]] = field(default_factory=list)
    captures: list[dict[str, Any]] = field(default_factory=list)

    def put(self, site: str, url: str, text: str, body: bytes, when: dt.datetime, **meta: Any) -> str:
        ext = Extraction("ok", text=text, char_count=len(text), **meta)
        fetched = Fetched(site=site, url=url, fetched_at=when, status=200, headers=HEADERS, body=body)
        with self.archive.session() as s:
            site_row = s.execute(select(Site).where(Site.name == site)).scalar_one()
            outcome = ingest(s, site_row, fetched, ProcessedPage(ext, content_hash(text), pack_raw(body))).outcome
        self.captures.append({"url": url, "when": when, "body": body})
        if outcome == "new_version":
            number = 1 + sum(v["url"] == url for v in self.versions)
            self.versions.append(
                {
                    "site": site,
                    "url": url,
                    "version": number,
                    "change": "first" if number == 1 else "edit",
                    "captured_at": when,
                    "content_hash": content_hash(text),
                    **ext.version_fields(),
                    "text": text,
                }
            )
        return outcome


def build_corpus(url: str) -> Corpus:
    """Page one/a: A, A again (same bytes), B. Page two/x re-posts A, paywalled. Page one/b: C, bare."""
    archive = Archive(url)
    with archive.session() as s:
        s.add_all([Site(name=n, base_url=f"http://127.0.0.1:{i + 1}") for i, n in enumerate(SITES)])
    corpus = Corpus(archive)
    a, x, b = "http://127.0.0.1:1/a.html", "http://127.0.0.1:2/x.html", "http://127.0.0.1:1/b.html"
    page_a = "<html>讲话 A</html>".encode("gbk")
    assert corpus.put("one", a, TEXT_A, page_a, T0, **RICH) == "new_version"
    assert corpus.put("one", a, TEXT_A, page_a, T0 + DAY, **RICH) == "unchanged"
    assert corpus.put("one", a, TEXT_B, "<html>讲话 B</html>".encode("gbk"), T0 + 2 * DAY, **RICH) == "new_version"
    assert (
        corpus.put(
            "two",
            x,
            TEXT_A,
            "<html>转载 A</html>".encode("gbk"),
            T0 + 3 * DAY,
            **{**RICH, "title": "转载:讲话"},
            partial=True,
            gaps=[Gap(20, 778), Gap(40, None)],
            declared_chars=4149,
            shown_chars=2186,
        )
        == "new_version"
    )
    assert corpus.put("one", b, TEXT_C, b"<html>C</html>", T0 + 4 * DAY) == "new_version"
    return corpus


# --- readers: the real libraries, the documented types ----------------------------------------


def typed_row(row: dict[str, Any], from_text: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if from_text and value == "":
            value = None
        elif from_text and key in JSON_CELLS:
            value = json.loads(value)
        elif from_text and key in INTS:
            value = int(value)
        elif from_text and key in BOOLS:
            value = {"true": True, "false": False}[value]
        if key in TIMES and isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if key == "occurrences":
            value = [{**o, "captured_at": dt.datetime.fromisoformat(o["captured_at"])} for o in value]
        out[key] = value
    return out


def open_text(path: Path) -> io.TextIOBase:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    elif path.name.endswith(".zst"):
        raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
    return io.StringIO(raw.decode("utf-8-sig"), newline="")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [typed_row(json.loads(line), from_text=False) for line in open_text(path).read().splitlines()]


def read_csv(path: Path) -> list[dict[str, Any]]:
    return [typed_row(row, from_text=True) for row in csv.DictReader(open_text(path))]


def read_parquet(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def read_duckdb(path: Path) -> list[dict[str, Any]]:
    import duckdb

    with duckdb.connect() as con:
        cur = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


READERS = {"jsonl": read_jsonl, "csv": read_csv, "parquet": read_parquet, "duckdb": read_duckdb}


def read_warc(path: Path) -> list[dict[str, Any]]:
    """Every record: type, WARC headers, HTTP headers, and the payload as a replay tool would see it."""
    from warcio.archiveiterator import ArchiveIterator

    records = []
    with path.open("rb") as fh:
        for rec in ArchiveIterator(fh, check_digests="raise"):
            records.append(
                {
                    "type": rec.rec_type,
                    "protocol": rec.rec_headers.protocol,
                    "warc": dict(rec.rec_headers.headers),
                    "http": rec.http_headers,
                    "body": rec.content_stream().read(),
                }
            )
    return records


def assert_versions_equal(rows: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Every expected version is there once, with every field equal (times as instants)."""
    by_key = {(r["url"], r["version"]): r for r in rows}
    assert len(by_key) == len(rows), "a version was exported twice"
    assert set(by_key) == {(v["url"], v["version"]) for v in expected}
    for want in expected:
        got = by_key[(want["url"], want["version"])]
        for name in COMPARED:
            assert got[name] == want[name], f"{want['url']} v{want['version']} {name}: {got[name]!r} != {want[name]!r}"
