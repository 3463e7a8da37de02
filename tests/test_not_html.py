"""Only HTML becomes text: a PDF, an image or JSON at an article URL is kept raw, never as a version;
and every decompression stops at max_page_bytes of output."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from conftest import cli, crawl_ok, query, write_config

from archive.cleaning.sniff import not_html_reason
from archive.storage.rawstore import decompress

pytestmark = pytest.mark.slow

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 40
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40
JSON_BODY = json.dumps({"title": "关于加强作风建设的讲话", "body": "同志们:" * 400}, ensure_ascii=False).encode()


def test_non_html_bodies_are_raw_captures_never_versions(tmp_path: Path, replica: Any) -> None:
    config, db = tmp_path / "config.toml", tmp_path / "archive.sqlite3"
    ids = replica.article_ids("zhongyi")
    base = replica.base_url("zhongyi")
    path = lambda aid: replica.article_url("zhongyi", aid).removeprefix(base)  # noqa: E731
    served = {
        ids[0]: (PDF, "application/pdf", "a PDF document"),
        ids[1]: (PNG, "image/png", "a PNG image"),
        ids[2]: (JSON_BODY, "application/json", "JSON"),
        ids[3]: (PDF, "text/html; charset=utf-8", "a PDF document"),  # mislabelled: the bytes decide
        ids[4]: (JSON_BODY, "text/html", "JSON"),
    }
    for aid, (body, content_type, _what) in served.items():
        replica.set_fault("zhongyi", path(aid), "body", body=body, content_type=content_type)
    write_config(config, replica, db, sites=["zhongyi"])
    crawl_ok(config)
    for aid, (body, content_type, what) in served.items():
        rows = query(
            db,
            "SELECT c.outcome, c.error, r.data FROM captures c JOIN pages p ON p.id = c.page_id "
            "LEFT JOIN raw_pages r ON r.sha256 = c.raw_sha256 WHERE p.url = ?",
            replica.article_url("zhongyi", aid),
        )
        assert [(o, what in (e or "")) for o, e, _d in rows] == [("not_html", True)], (content_type, rows)
        assert decompress(rows[0][2]) == body, "the raw bytes are kept as served"
    assert query(
        db,
        "SELECT count(*) FROM versions v JOIN captures c ON c.id = v.capture_id WHERE c.outcome != 'new_version'",
    ) == [(0,)]
    assert query(db, "SELECT count(*) FROM versions") == [(12 - len(served),)]


@pytest.mark.parametrize(
    ("body", "content_type", "html"),
    [
        (b"<!DOCTYPE html><html><body><p>x</p></body></html>", "application/octet-stream", True),
        (b"\xef\xbb\xbf<html><head><meta charset=utf-8></head></html>", None, True),
        (b"  <html>", "text/plain", True),
        (b"GIF89a\x01\x00", "text/html", False),
        (b"PK\x03\x04\x14\x00", "application/msword", False),
        (b'{"a": [1, 2]}', None, False),
        (b"plain words, no markup", "text/html", True),  # the cleaner judges it
        (b"\x00\x01binary", "video/mp4", False),
    ],
)
def test_html_is_recognised_by_content_type_and_first_bytes(body: bytes, content_type: str | None, html: bool) -> None:
    assert (not_html_reason(body, content_type) is None) is html


def test_extract_stops_inflating_at_max_page_bytes(tmp_path: Path, replica: Any) -> None:
    config = write_config(tmp_path / "config.toml", replica, tmp_path / "a.sqlite3", max_page_bytes=1_000_000)
    url = replica.article_url("wm114", replica.article_ids("wm114")[0])
    replica.set_fault("wm114", url, "huge", size_mb=64)  # gzip-compressed on the wire: ~64 KB that inflates to 64 MB
    result = cli("extract", url, "--config", str(config))
    assert result.returncode == 6, result.stdout[:500] + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "max_page_bytes (1000000 bytes)" in lines[0], result.stderr


def test_inflate_is_bounded_by_its_output() -> None:
    from archive.errors import CrawlError
    from speech_archive.extract_cmd import inflate

    bomb = zlib.compress(b"\0" * 50_000_000, 9)
    assert len(bomb) < 100_000
    with pytest.raises(CrawlError, match="inflates past"):
        inflate(bomb, "deflate", 1_000_000, "http://x/")
    assert inflate(zlib.compress(b"abc"), "deflate", 10, "http://x/") == b"abc"


def test_extract_of_a_pdf_url_says_not_html(tmp_path: Path, replica: Any) -> None:
    config = write_config(tmp_path / "config.toml", replica, tmp_path / "a.sqlite3")
    url = replica.article_url("wm114", replica.article_ids("wm114")[1])
    replica.set_fault("wm114", url, "body", body=PDF, content_type="application/pdf")
    result = cli("extract", url, "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["outcome"] == "not_html" and record["text"] == "" and record["content_hash"] is None


def test_raw_deflate_is_inflated_too() -> None:
    from speech_archive.extract_cmd import inflate

    raw = zlib.compressobj(wbits=-15)
    body = raw.compress(b"<html>x</html>") + raw.flush()
    assert inflate(body, "deflate", 100, "http://x/") == b"<html>x</html>"
