"""`speech-archive export` and `bench-export` through the real command, and the export docs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import REPO, cli
from export_helpers import VERSION_FIELDS, build_corpus, read_csv, read_jsonl

from archive.export.schema import (
    CONTENT_COLUMNS,
    COPY_FIELDS,
    GAP_FIELDS,
    OCCURRENCE_FIELDS,
    VERSION_COLUMNS,
    WORK_COLUMNS,
)
from speech_archive.export_cmd import export_command


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose archive holds the export corpus (built once for the module)."""
    root = tmp_path_factory.mktemp("export-cli")
    db = root / "a.sqlite3"
    build_corpus(f"sqlite:///{db}").archive.close()
    path = root / "config.toml"
    path.write_text(f'[archive]\ndatabase_url = "sqlite:///{db}"\n', encoding="utf-8")
    return path


def test_export_writes_the_file_and_its_manifest_and_prints_one_summary_line(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    result = cli("export", "--config", str(config), "-o", str(out), "--excel", "--site", "one", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["rows"] == 3 and report["path"] == str(out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert len(read_csv(out)) == 3
    manifest = json.loads((tmp_path / "x.csv.manifest.json").read_text())
    assert manifest["sha256"] == report["sha256"] and manifest["tool_version"] == "0.1.0"
    assert [line for line in result.stderr.splitlines() if line.startswith("wrote ")] == [
        f"wrote 3 rows to {out} ({out.stat().st_size / 1e6:,.1f} MB, {report['seconds']:.1f} s); "
        f"manifest {tmp_path / 'x.csv.manifest.json'}"
    ]


def test_export_to_stdout_streams_the_data_and_leaves_no_file(config: Path, tmp_path: Path) -> None:
    result = cli(
        "export", "--config", str(config), "--format", "jsonl", "-o", "-", "--versions", "latest", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [list(row) for row in lines[:1]] == [VERSION_FIELDS]
    assert sorted((r["url"], r["version"]) for r in lines) == [
        ("http://127.0.0.1:1/a.html", 2),
        ("http://127.0.0.1:1/b.html", 1),
        ("http://127.0.0.1:2/x.html", 1),
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--site", "nope"], 3, "error: unknown site 'nope'; sites in the archive or config: one, two"),
        (["--since", "2025-03-01", "--until", "2025-02-01"], 2, "error: --until 2025-02-02T00:00:00+00:00 is not"),
        (["--format", "xml"], 2, "error: unknown export format 'xml'; use one of jsonl, csv, parquet, warc"),
        (["--since", "yesterday"], 2, "error: --since 'yesterday' is not a date"),
        (["-o", "{tmp}/no/such/dir/x.jsonl"], 7, "error: cannot write {tmp}/no/such/dir/x.jsonl: directory"),
        (["-o", "{tmp}/file.txt/x.jsonl"], 7, "error: cannot write {tmp}/file.txt/x.jsonl: {tmp}/file.txt is not a"),
        (["--format", "jsonl", "-o", "{tmp}"], 7, "error: -o {tmp} is a directory; give a file name"),
    ],
)
def test_bad_arguments_get_one_line_and_leave_no_file(
    config: Path, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    (tmp_path / "file.txt").write_text("not a directory")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "-o" not in args:
        args += ["-o", str(tmp_path / "x.jsonl")]
    result = cli("export", "--config", str(config), *args)
    assert result.returncode == code, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(message.replace("{tmp}", str(tmp_path)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_since_last_through_the_cli_exports_nothing_the_second_time(config: Path, tmp_path: Path) -> None:
    first = cli("export", "--config", str(config), "-o", str(tmp_path / "1.jsonl"), "--since-last", "cli-test")
    second = cli("export", "--config", str(config), "-o", str(tmp_path / "2.jsonl"), "--since-last", "cli-test")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert len(read_jsonl(tmp_path / "1.jsonl")) == 4
    assert (tmp_path / "2.jsonl").read_bytes() == b""


def test_bench_export_reports_rows_per_second_and_peak_rss_for_each_format(tmp_path: Path) -> None:
    result = cli("bench-export", "--rows", "500", "--workdir", str(tmp_path), "--json", timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["rows"] == 500
    assert [r["format"] for r in report["results"]] == ["jsonl", "csv", "parquet", "warc"]
    for r in report["results"]:
        assert r["rows"] == 500, r
        assert r["rows_per_s"] > 0 and 0 < r["baseline_rss_mb"] <= r["peak_rss_mb"] < 300, r
    warc = report["results"][-1]
    assert warc["captures"] == 525, "every 10th of the 250 pages is re-fetched unchanged: 500 + 25 captures"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench-500.sqlite3"], "outputs are removed"


# --- docs ----------------------------------------------------------------------------------


def test_every_column_option_and_format_is_documented() -> None:
    doc = (REPO / "docs" / "EXPORT.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)`", doc, flags=re.MULTILINE))
    columns = {
        c.name
        for c in (*VERSION_COLUMNS, *CONTENT_COLUMNS, *OCCURRENCE_FIELDS, *GAP_FIELDS, *WORK_COLUMNS, *COPY_FIELDS)
    }
    assert columns <= documented, f"undocumented columns: {sorted(columns - documented)}"
    options = {opt for p in export_command.params for opt in p.opts if opt.startswith("--")}
    missing = sorted(o for o in options if f"`{o}" not in doc)
    assert not missing, f"undocumented export options: {missing}"
    for needle in ("bench-export", "revisit", "conversion", "X-Archive-Orig-", "export_cursors", "manifest.json"):
        assert needle in doc
