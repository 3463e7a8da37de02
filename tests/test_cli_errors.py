"""User mistakes get one line and an exit code, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import tomli_w
from conftest import cli, crawl_ok, scalar, write_config


def one_line_error(result, code: int, *needles: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_bad_config_names_file_key_and_value(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        tomli_w.dumps(
            {
                "sites": [
                    {
                        "name": "x",
                        "base_url": "http://127.0.0.1:1",
                        "start_urls": ["http://127.0.0.1:1/"],
                        "article_pattern": "a",
                        "schedule": "every fortnight",
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    one_line_error(cli("status", "--config", str(config)), 2, str(config), "sites[0] (x).schedule", "every fortnight")


def test_config_from_environment_and_missing_file(tmp_path: Path) -> None:
    result = cli("status", env={"SPEECH_ARCHIVE_CONFIG": str(tmp_path / "nope.toml")})
    one_line_error(result, 2, "nope.toml", "not found")


def test_unknown_site_lists_known_ones(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db, sites=["wm114"])
    one_line_error(cli("crawl", "nosuchsite", "--config", str(config)), 3, "'nosuchsite'", "known sites: wm114")


def test_crawl_needs_sites_or_all(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db, sites=["wm114"])
    one_line_error(cli("crawl", "--config", str(config)), 2, "--all")
    one_line_error(cli("crawl", "wm114", "--all", "--config", str(config)), 2, "not both")


def test_unknown_url_and_version(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db, sites=["zhongyi"])
    crawl_ok(config)
    one_line_error(cli("show", "http://127.0.0.1:9/none.html", "--config", str(config)), 3, "no page")
    url = replica.article_url("zhongyi", replica.article_ids("zhongyi")[0])
    one_line_error(cli("show", url, "--version", "7", "--config", str(config)), 3, "versions 1..1, not 7")


def test_unreadable_database_is_one_line(tmp_path: Path, replica) -> None:
    db = tmp_path / "garbage.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    config = write_config(tmp_path / "c.toml", replica, db, sites=["wm114"])
    one_line_error(cli("status", "--config", str(config)), 4, "cannot open the archive database")
    assert db.read_bytes() == b"this is not a database" * 100


def test_a_site_that_is_down_is_a_per_site_error_and_keeps_the_archive(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db, sites=["wm114"])
    crawl_ok(config)
    versions = scalar(db, "SELECT count(*) FROM versions")
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    text = config.read_text(encoding="utf-8").replace(replica.base_url("wm114"), f"http://127.0.0.1:{dead}")
    config.write_text(text, encoding="utf-8")
    result = cli("crawl", "--all", "--config", str(config))
    assert result.returncode == 6
    assert "Traceback" not in result.stderr
    assert "wm114: failed: no list page could be fetched" in result.stderr
    assert "Connection" in result.stderr or "refused" in result.stderr.lower()
    assert scalar(db, "SELECT count(*) FROM versions") == versions
    assert scalar(db, "SELECT status FROM crawl_runs ORDER BY id DESC LIMIT 1") == "failed"


def test_an_unknown_database_driver_is_one_line(tmp_path: Path, replica) -> None:
    config = write_config(tmp_path / "c.toml", replica, tmp_path / "a.sqlite3", sites=["wm114"])
    text = config.read_text(encoding="utf-8").replace("sqlite:///", "sqlite+nosuchdriver:///")
    config.write_text(text, encoding="utf-8")
    one_line_error(cli("status", "--config", str(config)), 4, "cannot use the database URL")


def test_the_group_level_config_option_works(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db, sites=["wm114"])
    result = cli("--config", str(config), "status", "--json")
    assert result.returncode == 0, result.stderr
    assert "wm114" in result.stdout


def test_a_site_profile_naming_no_profile_fails_at_load_not_inside_the_crawl(replica, archive_paths) -> None:
    """Once, a bad `profile` raised inside the pipeline: every capture was lost and the crawl ended `finished`."""
    import tomllib

    from archive.config import load_config
    from archive.errors import ConfigError
    from crawler.run import run_crawl

    config, db = archive_paths
    write_config(config, replica, db, sites=["wm114"])
    doc = tomllib.loads(config.read_text(encoding="utf-8"))
    doc["sites"][0]["profile"] = "no-such-profile"
    config.write_text(tomli_w.dumps(doc), encoding="utf-8")
    one_line_error(cli("crawl", "--all", "--config", str(config)), 2, "sites[0] (wm114).profile", "'no-such-profile'")
    assert not db.exists() or scalar(db, "SELECT count(*) FROM crawl_runs") == 0
    # Below the command line (the daemon's crawl child receives a config object): still no crawl starts.
    loaded = load_config(config)
    with pytest.raises(ConfigError, match="no-such-profile"):
        run_crawl(loaded, list(loaded.sites))
    assert replica.requests == [], "no request may be sent by a crawl whose profile does not resolve"


def test_replica_serves_only_known_sites() -> None:
    from click.testing import CliRunner

    from speech_archive.cli import main

    result = CliRunner().invoke(main, ["replica", "--site", "nosuch", "--port", "0"])
    assert result.exit_code == 2 and "not a replica site" in result.output and "gwzj" in result.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["status", "--no-such-option"], "--no-such-option"),
        (["no-such-command"], "no-such-command"),
        (["runs", "--limit", "many"], "'many'"),
        (["show"], "URL"),
    ],
)
def test_clicks_own_usage_errors_are_one_line(args: list[str], needle: str) -> None:
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and needle in lines[0] and "--help" in lines[0], lines[0]


def test_a_read_only_archive_says_read_only(tmp_path: Path, replica) -> None:
    from services import remount, tmpfs

    with tmpfs(tmp_path / "data") as data:
        config = write_config(tmp_path / "c.toml", replica, data / "archive.sqlite3", sites=["wm114"])
        assert cli("status", "--config", str(config)).returncode == 0  # the archive exists
        remount(data, "ro")
        one_line_error(cli("status", "--config", str(config)), 4, "read-only", str(data))
        result = cli("crawl", "--all", "--config", str(config))
        one_line_error(result, 4, "read-only")
        remount(data, "rw")
