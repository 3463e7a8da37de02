"""`works`, `work`, `history`/`show` and `export --works` through the command line (CliRunner, in process)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from works_helpers import HOUR, T0, add_sites, put, speech, truncated

from archive.storage.engine import Archive
from speech_archive.cli import main

URL_FULL = "http://127.0.0.1:1/full.html"
URL_PART = "http://127.0.0.1:2/part.html"
URL_NAMED = "http://127.0.0.1:3/named.html"
URL_ALONE = "http://127.0.0.1:1/alone.html"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of one speech in three copies and one speech alone, matched by `works update`."""
    root = tmp_path_factory.mktemp("works-cli")
    db = root / "a.sqlite3"
    with Archive(f"sqlite:///{db}") as archive:
        add_sites(archive)
        put(archive, "two", URL_PART, truncated(speech(71, "**"), 0.4), T0)
        put(archive, "one", URL_FULL, speech(71, "XX"), T0 + HOUR)
        put(archive, "three", URL_NAMED, speech(71, ""), T0 + 2 * HOUR, title="县长在全县工作会议上的讲话")
        put(archive, "one", URL_ALONE, speech(72), T0 + 3 * HOUR)
    path = root / "config.toml"
    path.write_text(f'[archive]\ndatabase_url = "sqlite:///{db}"\n', encoding="utf-8")
    result = invoke("works", "update", "--config", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["contents"] == 4
    return path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_works_lists_the_work_with_its_copies_and_sites(config: Path) -> None:
    result = invoke("works", "--config", str(config), "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 1
    assert rows[0]["copies"] == 3 and rows[0]["sites"] == ["one", "three", "two"] and rows[0]["complete"] is True
    assert rows[0]["title"] == "县长在全县工作会议上的讲话", "the canonical copy's title"
    every = invoke("works", "--config", str(config), "--json", "--min-copies", "1")
    assert len(every.stdout.splitlines()) == 2
    assert invoke("works", "--config", str(config), "--json", "--site", "three").stdout.strip()
    assert invoke("works", "--config", str(config), "--json", "--min-copies", "4").stdout.strip() == ""
    table = invoke("works", "--config", str(config))
    assert rows[0]["id"][:12] in table.stdout and "one,three,two" in table.stdout


def test_work_by_id_prefix_or_url_shows_the_canonical_text_and_every_copy(config: Path) -> None:
    listing = json.loads(invoke("works", "--config", str(config), "--json").stdout.splitlines()[0])
    by_id = invoke("work", "--config", str(config), "--json", listing["id"][:8])
    by_url = invoke("work", "--config", str(config), "--json", URL_PART)
    assert by_id.exit_code == 0 and by_url.exit_code == 0, by_id.output + by_url.output
    detail = json.loads(by_id.stdout)
    assert detail == json.loads(by_url.stdout)
    assert detail["text"] == speech(71, "")
    roles = {p["url"]: (c["role"], c["partial"]) for c in detail["copies"] for p in c["pages"]}
    assert roles == {
        URL_NAMED: ("canonical", False),
        URL_FULL: ("full copy", False),
        URL_PART: ("partial copy", True),
    }
    assert any(f["filled_by"] for f in detail["fills"])
    text = invoke("work", "--config", str(config), URL_FULL)
    assert "canonical text" in text.stdout and URL_PART in text.stdout


@pytest.mark.parametrize(
    ("key", "code", "message"),
    [
        ("0000000000", 3, "no work '0000000000'"),
        ("not-an-id", 2, "neither a work id"),
        ("http://127.0.0.1:9/none.html", 3, "no page"),
    ],
)
def test_work_names_what_is_wrong_in_one_line(config: Path, key: str, code: int, message: str) -> None:
    result = CliRunner().invoke(main, ["work", "--config", str(config), key])
    assert result.exit_code == code
    assert message in result.output and "Traceback" not in result.output


def test_history_and_show_name_the_pages_work(config: Path) -> None:
    history = invoke("history", "--config", str(config), URL_PART)
    assert "3 copies, this page is the partial copy; canonical copy: " + URL_NAMED in history.stdout
    show = invoke("show", "--config", str(config), URL_FULL)
    assert show.stdout == speech(71, "XX") + "\n", "stdout stays exactly the text"
    assert "this page is the full copy" in show.stderr


def test_export_works_writes_one_row_per_work_in_every_tabular_format(config: Path, tmp_path: Path) -> None:
    jsonl, table, parquet = tmp_path / "w.jsonl", tmp_path / "w.csv", tmp_path / "w.parquet"
    for out in (jsonl, table, parquet):
        result = invoke("export", "--config", str(config), "--works", "-o", str(out))
        assert result.exit_code == 0, result.output
        assert "wrote 2 works" in result.stderr
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    work = next(r for r in rows if r["copy_count"] == 3)
    assert work["canonical_url"] == URL_NAMED and work["text"] == speech(71, "")
    assert {c["role"] for c in work["copies"]} == {"canonical", "full copy", "partial copy"}
    with table.open(encoding="utf-8", newline="") as fh:
        cells = list(csv.DictReader(fh))
    assert sorted(int(r["copy_count"]) for r in cells) == [1, 3]
    assert {c["content_hash"] for c in json.loads(next(r for r in cells if r["copy_count"] == "3")["copies"])} == {
        c["content_hash"] for c in work["copies"]
    }
    frame = pq.read_table(parquet).to_pylist()
    assert sorted(r["copy_count"] for r in frame) == [1, 3]
    assert all(isinstance(c["containment"], float) for r in frame for c in r["copies"])
    manifest = json.loads((tmp_path / "w.parquet.manifest.json").read_text())
    assert manifest["row_kind"] == "work" and manifest["counts"]["copies"] == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "warc", "-o", "x.warc"], "--works does not apply to WARC"),
        (["-o", "x.jsonl", "--unique-content"], "does not combine with --unique-content"),
    ],
)
def test_export_works_refuses_what_does_not_apply(config: Path, tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["export", "--config", str(config), "--works", *args])
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_works_rebuild_reports_an_unchanged_archive(config: Path) -> None:
    result = invoke("works", "rebuild", "--config", str(config), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["contents"], report["unchanged"], report["new_or_changed"], report["moved_contents"]) == (4, 1, 0, 0)
