"""`speech-archive daemon` refuses bad input at start, in one line, before scheduling anything."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import tomli_w
from conftest import cli


def config_with(tmp_path: Path, schedule: str = "every 6h", **daemon: object) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        tomli_w.dumps(
            {
                "archive": {"database_url": f"sqlite:///{tmp_path / 'archive.sqlite3'}"},
                "daemon": daemon,
                "sites": [
                    {
                        "name": "ok",
                        "base_url": "http://127.0.0.1:9",
                        "start_urls": ["http://127.0.0.1:9/"],
                        "article_pattern": r"\d+\.html$",
                    },
                    {
                        "name": "wm114",
                        "base_url": "http://127.0.0.1:9",
                        "start_urls": ["http://127.0.0.1:9/"],
                        "article_pattern": r"\d+\.html$",
                        "schedule": schedule,
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    return path


def one_error_line(result) -> str:  # type: ignore[no-untyped-def]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("schedule", ["every 3x", "61 * * * *"])
def test_a_bad_schedule_is_rejected_naming_the_site_and_the_value(tmp_path: Path, schedule: str) -> None:
    result = cli("daemon", "--config", str(config_with(tmp_path, schedule)), timeout=60)
    assert result.returncode == 2
    line = one_error_line(result)
    assert "sites[1] (wm114).schedule" in line and repr(schedule) in line
    assert not (tmp_path / "archive.sqlite3").exists()  # rejected before the archive is touched


def test_a_bad_listen_address_is_rejected_in_one_line(tmp_path: Path) -> None:
    result = cli("daemon", "--config", str(config_with(tmp_path)), "--listen", "localhost", timeout=60)
    assert result.returncode == 2
    assert "--listen: 'localhost' is not HOST:PORT" in one_error_line(result)
    result = cli("daemon", "--config", str(config_with(tmp_path, listen="127.0.0.1:70000")), timeout=60)
    assert result.returncode == 2
    assert "daemon.listen: '127.0.0.1:70000' is not HOST:PORT" in one_error_line(result)


def test_a_busy_health_port_is_reported_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("daemon", "--config", str(config_with(tmp_path)), "--listen", f"127.0.0.1:{port}", timeout=60)
    assert result.returncode == 2
    line = one_error_line(result)
    assert f"cannot listen on 127.0.0.1:{port}" in line and "--listen" in line
