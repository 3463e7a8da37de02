"""Export: every format read back with its real reader, filters, dedup, since-last, atomic output.

The archive is built through the real ingest (export_helpers.build_corpus) on
SQLite and, where the query is backend-specific, on PostgreSQL too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import query
from export_helpers import (
    CONTENT_FIELDS,
    DAY,
    READERS,
    T0,
    TEXT_A,
    TEXT_D,
    VERSION_FIELDS,
    Corpus,
    assert_versions_equal,
    build_corpus,
    read_jsonl,
    read_warc,
    typed_row,
)

from archive.errors import ExportError, NotFoundError, UsageError
from archive.export import ExportOptions, ExportResult, export
from archive.export.rows import IdWindow, snapshot, version_batches


@pytest.fixture
def corpus(tmp_path: Path) -> Iterator[Corpus]:
    c = build_corpus(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    yield c
    c.archive.close()


@pytest.fixture
def any_corpus(archive_url: str) -> Iterator[Corpus]:
    """The same corpus on SQLite and on PostgreSQL (the streaming queries must work on both)."""
    c = build_corpus(archive_url)
    yield c
    c.archive.close()


def run(corpus: Corpus, out: Path, fmt: str | None = None, **kw: object) -> ExportResult:
    return export(corpus.archive, ExportOptions.parse(format=fmt, output=str(out), **kw), tool_version="test")  # type: ignore[arg-type]


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("v.jsonl", "jsonl"),
        ("v.jsonl.gz", "jsonl"),
        ("v.jsonl.zst", "jsonl"),
        ("v.csv", "csv"),
        ("v.csv.gz", "csv"),
        ("v.parquet", "parquet"),
        ("v.parquet", "duckdb"),
    ],
)
def test_every_version_round_trips_with_text_and_metadata(
    any_corpus: Corpus, tmp_path: Path, name: str, reader: str
) -> None:
    result = run(any_corpus, tmp_path / name)
    rows = READERS[reader](tmp_path / name)
    assert result.rows == len(rows) == 4
    assert list(rows[0]) == VERSION_FIELDS
    assert {r["schema_version"] for r in rows} == {1}
    assert_versions_equal(rows, any_corpus.versions)
    assert [r["version_id"] for r in rows] == sorted(r["version_id"] for r in rows), "archive order"


def test_parquet_columns_are_typed_for_analysts(corpus: Corpus, tmp_path: Path) -> None:
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    run(corpus, tmp_path / "v.parquet")
    schema = pq.read_schema(tmp_path / "v.parquet")
    assert schema.field("captured_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("version").type == pa.int64()
    assert schema.field("category").type == pa.list_(pa.string())
    assert schema.field("outline").type == pa.list_(pa.string())
    assert schema.field("partial").type == pa.bool_()
    with duckdb.connect() as con:
        describe = "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))"
        types = dict(con.execute(describe, [str(tmp_path / "v.parquet")]).fetchall())
        partial_sites = con.execute(
            "SELECT site, gaps[1].omitted_chars FROM read_parquet(?) WHERE partial", [str(tmp_path / "v.parquet")]
        ).fetchall()
    assert types["captured_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["category"] == "VARCHAR[]"
    assert partial_sites == [("two", 778)]


def test_csv_for_excel_starts_with_a_bom_and_plain_csv_does_not(corpus: Corpus, tmp_path: Path) -> None:
    run(corpus, tmp_path / "excel.csv", excel=True)
    run(corpus, tmp_path / "plain.csv")
    excel, plain = (tmp_path / "excel.csv").read_bytes(), (tmp_path / "plain.csv").read_bytes()
    assert excel.startswith(b"\xef\xbb\xbfschema_version,site,")
    assert plain.startswith(b"schema_version,site,")
    assert excel[3:] == plain
    assert b"\r\n" in plain and "同志们".encode() in plain


# --- WARC ----------------------------------------------------------------------------------


def test_warc_holds_raw_captures_revisits_and_linked_texts(any_corpus: Corpus, tmp_path: Path) -> None:
    result = run(any_corpus, tmp_path / "a.warc.gz")
    records = read_warc(tmp_path / "a.warc.gz")
    assert {r["protocol"] for r in records} == {"WARC/1.1"}
    assert Counter(r["type"] for r in records) == {
        "warcinfo": 1,
        "response": 4,
        "revisit": 1,
        "conversion": 4,
        "metadata": 4,
    }
    assert result.counts["warc_revisit"] == 1 and result.rows == 5
    by_id = {r["warc"]["WARC-Record-ID"]: r for r in records}
    captures = [r for r in records if r["type"] in ("response", "revisit")]
    for rec, want in zip(captures, any_corpus.captures, strict=True):
        assert rec["warc"]["WARC-Target-URI"] == want["url"]
        assert dt.datetime.fromisoformat(rec["warc"]["WARC-Date"]) == want["when"]
        assert rec["http"].get_statuscode() == "200"
        assert rec["http"].get_header("ETag") == '"abc123"'
        assert rec["http"].get_header("Content-Encoding") is None, "the stored body is decoded"
        assert rec["http"].get_header("X-Archive-Orig-Content-Encoding") == "gzip"
        assert rec["http"].get_header("Content-Length") == str(len(want["body"]))
        if rec["type"] == "response":
            assert rec["body"] == want["body"]
    revisit = next(r for r in records if r["type"] == "revisit")
    original = by_id[revisit["warc"]["WARC-Refers-To"]]
    assert original["type"] == "response"
    assert revisit["warc"]["WARC-Refers-To-Target-URI"] == original["warc"]["WARC-Target-URI"]
    assert revisit["warc"]["WARC-Refers-To-Date"] == original["warc"]["WARC-Date"]
    assert revisit["warc"]["WARC-Payload-Digest"] == original["warc"]["WARC-Payload-Digest"]
    assert revisit["warc"]["WARC-Profile"] == "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    # Each version: a conversion (the text) referring to its capture, a metadata record referring to that.
    texts = {}
    for meta in (r for r in records if r["type"] == "metadata"):
        conversion = by_id[meta["warc"]["WARC-Refers-To"]]
        capture = by_id[conversion["warc"]["WARC-Refers-To"]]
        row = json.loads(meta["body"])
        assert conversion["type"] == "conversion" and capture["type"] in ("response", "revisit")
        assert conversion["warc"]["Content-Type"] == "text/plain; charset=utf-8"
        assert dt.datetime.fromisoformat(capture["warc"]["WARC-Date"]) == dt.datetime.fromisoformat(row["captured_at"])
        texts[(row["url"], row["version"])] = typed_row({**row, "text": conversion["body"].decode("utf-8")}, False)
    assert_versions_equal(list(texts.values()), any_corpus.versions)


def test_a_page_captured_twice_with_the_same_payload_is_one_response_and_one_revisit(
    corpus: Corpus, tmp_path: Path
) -> None:
    # Page one/a was fetched at T0 and T0 + 1 day with the same bytes; --until is exclusive.
    run(corpus, tmp_path / "two.warc", sites=("one",), until=(T0 + DAY + dt.timedelta(seconds=1)).isoformat())
    run(corpus, tmp_path / "one.warc", sites=("one",), until=(T0 + DAY).isoformat())
    twice = Counter(r["type"] for r in read_warc(tmp_path / "two.warc"))
    once = Counter(r["type"] for r in read_warc(tmp_path / "one.warc"))
    assert (twice["response"], twice["revisit"], twice["conversion"]) == (1, 1, 1)
    assert (once["response"], once["revisit"]) == (1, 0)


def test_a_recleaned_version_is_a_second_conversion_of_the_same_capture(corpus: Corpus, tmp_path: Path) -> None:
    from sqlalchemy import select

    from archive.cleaning.core import Extraction
    from archive.cleaning.normalize import content_hash
    from archive.storage.models import Page, Version
    from archive.storage.versions import write_version

    recleaned = "在全市安全生产工作会议上的讲话\n同志们:\n安全生产是底线,必须抓紧抓实。"
    with corpus.archive.session() as s:
        page = s.execute(select(Page).where(Page.url == B)).scalar_one()
        capture_id = s.execute(select(Version.capture_id).where(Version.page_id == page.id)).scalar_one()
        write_version(
            s,
            page_id=page.id,
            content_hash=content_hash(recleaned),
            extraction=Extraction("ok", text=recleaned, char_count=len(recleaned)),
            capture_id=capture_id,
            change="reclean",
            number=2,
        )
    run(corpus, tmp_path / "r.warc", sites=("one",), since=(T0 + 4 * DAY).isoformat())
    records = read_warc(tmp_path / "r.warc")
    assert [r["type"] for r in records] == ["warcinfo", "response", "conversion", "metadata", "conversion", "metadata"]
    response_id = records[1]["warc"]["WARC-Record-ID"]
    assert [r["warc"]["WARC-Refers-To"] for r in records if r["type"] == "conversion"] == [response_id] * 2
    assert json.loads(records[5]["body"])["change"] == "reclean" and records[4]["body"].decode() == recleaned


# --- filters -------------------------------------------------------------------------------


def urls_versions(rows: list[dict[str, object]]) -> list[tuple[object, object]]:
    return sorted((r["url"], r["version"]) for r in rows)


A, X, B = "http://127.0.0.1:1/a.html", "http://127.0.0.1:2/x.html", "http://127.0.0.1:1/b.html"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"sites": ("two",)}, [(X, 1)]),
        ({"sites": ("one", "two")}, [(A, 1), (A, 2), (B, 1), (X, 1)]),
        ({"since": (T0 + 2 * DAY).isoformat()}, [(A, 2), (B, 1), (X, 1)]),
        ({"until": "2025-01-03"}, [(A, 1), (A, 2)]),  # a bare date includes that whole day
        ({"since": "2025-01-03", "until": "2025-01-04"}, [(A, 2), (X, 1)]),
        ({"versions": "latest"}, [(A, 2), (B, 1), (X, 1)]),
        ({"versions": "latest", "until": "2025-01-01"}, [(A, 1)]),  # the archive as it was then
        ({"complete_only": True}, [(A, 1), (A, 2), (B, 1)]),
        ({"complete_only": True, "sites": ("two",)}, []),
    ],
)
def test_filters_choose_the_right_versions(
    any_corpus: Corpus, tmp_path: Path, filters: dict[str, object], expected: list[tuple[str, int]]
) -> None:
    run(any_corpus, tmp_path / "f.jsonl", **filters)
    assert urls_versions(read_jsonl(tmp_path / "f.jsonl")) == expected


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_unique_content_gives_one_row_naming_both_pages_of_a_reposted_speech(
    any_corpus: Corpus, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"u.{fmt}"
    result = run(any_corpus, out, unique_content=True)
    rows = READERS[fmt](out)
    assert list(rows[0]) == CONTENT_FIELDS
    assert result.rows == len(rows) == 3  # A (on two pages), B, C
    reposted = [r for r in rows if r["text"] == TEXT_A]
    assert len(reposted) == 1
    row = reposted[0]
    assert row["urls"] == [A, X] and row["sites"] == ["one", "two"]
    assert (row["page_count"], row["version_count"]) == (2, 2)
    assert [(o["site"], o["url"], o["version"], o["partial"]) for o in row["occurrences"]] == [
        ("one", A, 1, False),
        ("two", X, 1, True),
    ]
    assert (row["first_captured_at"], row["last_captured_at"]) == (T0, T0 + 3 * DAY)


def test_unique_content_groups_across_batch_boundaries(corpus: Corpus, tmp_path: Path) -> None:
    """With one row per database batch, the two copies of text A arrive in different batches."""
    options = ExportOptions(format="jsonl", output=tmp_path / "u.jsonl", unique_content=True, batch_size=1)
    export(corpus.archive, options)
    rows = read_jsonl(tmp_path / "u.jsonl")
    assert sorted(r["version_count"] for r in rows) == [1, 1, 2]


def test_rows_stream_in_batches_of_the_requested_size(corpus: Corpus) -> None:
    options = ExportOptions(format="jsonl", output=None, batch_size=3)
    with corpus.archive.session() as s:
        sizes = [len(b) for b in version_batches(s, options, snapshot(s))]
    assert sizes == [3, 1]


@pytest.mark.postgres
def test_on_postgresql_rows_come_from_a_server_side_cursor(postgres) -> None:  # type: ignore[no-untyped-def]
    """stream_results must hold for PostgreSQL too, or psycopg would fetch the whole result first."""
    from sqlalchemy import text

    pg = build_corpus(postgres.create_database("stream"))
    try:
        options = ExportOptions(format="jsonl", output=None, batch_size=1)
        with pg.archive.session() as s:
            batches = version_batches(s, options, snapshot(s))
            next(batches)
            open_cursors = s.execute(text("SELECT count(*) FROM pg_cursors")).scalar_one()
            assert len(list(batches)) == 3
        assert open_cursors >= 1
    finally:
        pg.archive.close()


# --- since-last ----------------------------------------------------------------------------


def test_since_last_exports_everything_then_only_what_was_archived_in_between(
    any_corpus: Corpus, tmp_path: Path
) -> None:
    first = run(any_corpus, tmp_path / "1.jsonl", since_last="nightly")
    assert first.rows == 4 and first.cursor and first.cursor["from"]["version_id"] == 0
    any_corpus.put("two", "http://127.0.0.1:2/y.html", TEXT_D, b"<html>D</html>", T0 + 5 * DAY)
    any_corpus.put("one", A, TEXT_A, b"<html>A again</html>", T0 + 6 * DAY)  # A -> B -> A: version 3
    other = run(any_corpus, tmp_path / "other.jsonl", since_last="weekly")
    run(any_corpus, tmp_path / "2.jsonl", since_last="nightly")
    third = run(any_corpus, tmp_path / "3.jsonl", since_last="nightly")
    assert other.rows == 6, "each cursor name is its own"
    assert urls_versions(read_jsonl(tmp_path / "2.jsonl")) == [(A, 3), ("http://127.0.0.1:2/y.html", 1)]
    assert third.rows == 0 and (tmp_path / "3.jsonl").read_bytes() == b""
    manifest = json.loads((tmp_path / "2.jsonl.manifest.json").read_text())
    assert manifest["since_last"]["name"] == "nightly"
    assert manifest["since_last"]["from"]["version_id"] == first.cursor["to"]["version_id"]


def test_since_last_on_warc_sends_only_new_captures(corpus: Corpus, tmp_path: Path) -> None:
    run(corpus, tmp_path / "1.warc", since_last="wa")
    corpus.put("one", B, "在全市安全生产工作会议上的讲话\n同志们:\n安全生产是底线。", b"<html>C2</html>", T0 + 9 * DAY)
    run(corpus, tmp_path / "2.warc", since_last="wa")
    records = read_warc(tmp_path / "2.warc")
    assert [(r["type"], r["warc"].get("WARC-Target-URI")) for r in records] == [
        ("warcinfo", None),
        ("response", B),
        ("conversion", B),
        ("metadata", B),
    ]


def test_the_cursor_is_kept_in_the_database(corpus: Corpus, tmp_path: Path) -> None:
    db = Path(corpus.archive.url.removeprefix("sqlite:///"))
    assert query(db, "SELECT count(*) FROM alembic_version WHERE version_num >= '0002'") == [(1,)]
    run(corpus, tmp_path / "1.csv", since_last="daily")
    run(corpus, tmp_path / "2.csv", since_last="daily")
    ((name, version_id, capture_id, exports),) = query(
        db, "SELECT name, last_version_id, last_capture_id, exports FROM export_cursors"
    )
    assert (name, exports) == ("daily", 2)
    assert (version_id, capture_id) == query(db, "SELECT max(id) FROM versions")[0] + query(
        db, "SELECT max(id) FROM captures"
    )[0]


# --- manifest and failures -----------------------------------------------------------------


def test_the_manifest_records_filters_counts_version_time_and_checksum(corpus: Corpus, tmp_path: Path) -> None:
    out = tmp_path / "m.jsonl.gz"
    result = run(corpus, out, sites=("one",), complete_only=True)
    manifest = json.loads((tmp_path / "m.jsonl.gz.manifest.json").read_text())
    assert manifest["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest() == result.sha256
    assert manifest["bytes"] == out.stat().st_size
    assert (manifest["file"], manifest["format"], manifest["compression"]) == ("m.jsonl.gz", "jsonl", "gzip")
    assert manifest["tool_version"] == "test" and manifest["schema_version"] == 1
    assert manifest["counts"]["rows"] == 3 and manifest["counts"]["by_site"] == {"one": 3}
    assert manifest["filters"]["sites"] == ["one"] and manifest["filters"]["complete_only"] is True
    assert dt.datetime.fromisoformat(manifest["started_at"]) <= dt.datetime.fromisoformat(manifest["finished_at"])


class _Interrupt:
    """A progress display whose user presses Ctrl-C after the first batch."""

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, rows: int) -> None:
        raise KeyboardInterrupt


def test_an_interrupted_export_leaves_the_old_file_and_the_cursor_alone(corpus: Corpus, tmp_path: Path) -> None:
    out = tmp_path / "e.jsonl"
    out.write_text("previous export\n")
    options = ExportOptions(format="jsonl", output=out, since_last="n", batch_size=1)
    with pytest.raises(KeyboardInterrupt):
        export(corpus.archive, options, progress=_Interrupt())
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("a.sqlite3")] == ["e.jsonl"]
    assert out.read_text() == "previous export\n"
    assert export(corpus.archive, options).rows == 4, "the cursor did not move"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"sites": ("nope",)}, NotFoundError, "unknown site 'nope'; sites in the archive or config: one, two"),
        ({"output": "missing-dir/x.jsonl"}, ExportError, "directory"),
    ],
)
def test_bad_targets_fail_before_writing_anything(
    corpus: Corpus, tmp_path: Path, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    args: dict[str, object] = {"format": "jsonl", "output": str(out / "x.jsonl"), **kwargs}
    if "output" in kwargs:
        args["output"] = str(out / str(kwargs["output"]))
    with pytest.raises(error, match=message):
        export(corpus.archive, ExportOptions.parse(**args))  # type: ignore[arg-type]
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"format": "xml", "output": "a.xml"}, "unknown export format 'xml'"),
        ({"format": None, "output": "a.txt"}, "--format"),
        ({"format": "csv", "output": "a.jsonl"}, "looks like jsonl"),
        ({"format": "jsonl", "output": "a.jsonl", "since": "2025-03-01", "until": "2025-02-01"}, "not after --since"),
        ({"format": "jsonl", "output": "a.jsonl", "since": "March 1st"}, "is not a date"),
        ({"format": "jsonl", "output": "a.jsonl", "versions": "newest"}, "'latest' or 'all'"),
        ({"format": "parquet", "output": "a.parquet.gz"}, "compresses its columns itself"),
        ({"format": "warc", "output": "a.warc.zst"}, r"\.warc\.gz"),
        ({"format": "jsonl", "output": "a.jsonl", "excel": True}, "--excel only applies"),
        ({"format": "warc", "output": "a.warc", "unique_content": True}, "per capture"),
        ({"format": "jsonl", "output": "a.jsonl", "since_last": "no spaces"}, "cursor name"),
    ],
)
def test_bad_options_are_refused_with_what_would_be_right(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        ExportOptions.parse(**kwargs)  # type: ignore[arg-type]


def test_options_infer_format_and_compression_and_read_times_as_utc() -> None:
    opts = ExportOptions.parse(
        format=None, output="out/x.jsonl.zst", since="2025-03-01T08:00+08:00", until="2025-03-01"
    )
    assert (opts.format, opts.compression) == ("jsonl", "zstd")
    assert opts.since == dt.datetime(2025, 3, 1, 0, 0, tzinfo=dt.UTC)
    assert opts.until == dt.datetime(2025, 3, 2, 0, 0, tzinfo=dt.UTC)
    assert ExportOptions.parse(format="csv", output="-").output is None
    stamp = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    default = ExportOptions.parse(format="warc", output=None, now=stamp).output
    assert str(default) == "speech-archive-20260102T030405Z.warc"
    assert IdWindow().version_upto == 0
