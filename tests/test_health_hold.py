"""The daemon's /healthz and /metrics hold: half-open floods, who may ask, and what the answer tells.

A real daemon (its uvicorn server) and real sockets: 300 and 1,000 connections that
send half a request head once left /healthz unanswerable for minutes and leaked
file descriptors; beyond localhost anyone could read the site names and the
database's error text.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import write_config
from services import DaemonProcess, wait_until
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from archive.browse.guard import Guard

pytestmark = [pytest.mark.slow, pytest.mark.serial]


@pytest.fixture
def daemon(tmp_path: Path, replica: Any) -> Iterator[DaemonProcess]:
    config = write_config(tmp_path / "config.toml", replica, tmp_path / "archive.sqlite3", sites=["wm114"])
    config.write_text(
        config.read_text(encoding="utf-8") + "\n[web]\nhead_timeout = 2\nmax_connections = 600\n", encoding="utf-8"
    )
    proc = DaemonProcess(config, tmp_path / "daemon.log")
    try:
        proc.wait_for_log(r"crawl ended site=wm114 .*outcome=finished", timeout=60)
        yield proc
    finally:
        proc.stop(timeout=40)


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def half_open(port: int, n: int) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
        socks.append(sock)
    return socks


def test_half_open_connections_never_starve_healthz_nor_leak_descriptors(daemon: DaemonProcess) -> None:
    port, pid = daemon.port, daemon.proc.pid
    assert daemon.get("/healthz")[0] == 200
    baseline = open_fds(pid)
    socks = half_open(port, 300)
    try:
        started = time.monotonic()
        assert daemon.get("/healthz")[0] == 200, "300 half-open connections are well within the limit"
        assert time.monotonic() - started < 2
    finally:
        for sock in socks:
            sock.close()
    socks = half_open(port, 700)  # beyond [web] max_connections = 600
    try:
        # Connections past the limit are refused at once (503); the half-open ones are closed after
        # head_timeout (2 s), and /healthz answers again while the flood's sockets are still open here.
        status, _ = wait_until("an answer during the flood", lambda: (r := daemon.get("/healthz"))[0] == 200 and r, 10)
        assert status == 200
    finally:
        for sock in socks:
            sock.close()
    wait_until("descriptors back to the baseline", lambda: open_fds(pid) <= baseline + 2, timeout=10)
    assert "Traceback" not in daemon.text()


def test_healthz_is_degraded_not_unhealthy_when_a_site_lost_pages(daemon: DaemonProcess, tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "archive.sqlite3"
    with sqlite3.connect(db) as conn:
        (site_id,) = conn.execute("SELECT id FROM sites WHERE name = 'wm114'").fetchone()
        conn.execute(
            "INSERT INTO crawl_runs (site_id, trigger, status, started_at, finished_at, pid, host, stats, error) "
            "VALUES (?, 'manual', 'failed', '2099-01-01 00:00:00', '2099-01-01 00:01:00', 1, 'h', ?, ?)",
            (site_id, json.dumps({"lost": 3, "pages": 10}), "the archive could not be written: disk full"),
        )

    def degraded() -> dict[str, Any] | None:
        status, body = daemon.get("/healthz")
        answer = json.loads(body)
        return answer if status == 200 and answer["status"] == "degraded" else None

    answer = wait_until("a degraded answer", degraded, timeout=15)
    assert "lost 3 page(s)" in answer["sites_behind"]["wm114"]


def app_behind(guard: dict[str, Any]) -> Callable[[tuple[str, int]], TestClient]:
    routes = [Route(p, lambda _r: PlainTextResponse("ok")) for p in ("/healthz", "/metrics", "/sites")]
    from starlette.applications import Starlette
    from starlette.middleware import Middleware

    app = Starlette(routes=routes, middleware=[Middleware(Guard, **guard)])
    return lambda client: TestClient(app, client=client)


LOCAL, REMOTE = ("127.0.0.1", 40000), ("203.0.113.9", 40000)


def test_beyond_localhost_the_health_endpoints_need_the_token_except_from_this_machine() -> None:
    token = "t" * 24
    make = app_behind({"token": token, "loopback_paths": ("/healthz", "/metrics"), "public": True})
    assert make(LOCAL).get("/healthz").status_code == 200  # a container's own HEALTHCHECK
    assert make(REMOTE).get("/healthz").status_code == 401
    assert make(REMOTE).get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert make(LOCAL).get("/sites").status_code == 401, "the browser needs the token even locally once it has one"


def test_beyond_localhost_without_a_token_only_this_machine_is_answered() -> None:
    make = app_behind({"token": None, "loopback_paths": ("/healthz", "/metrics"), "public": True})
    assert make(LOCAL).get("/metrics").status_code == 200
    refused = make(REMOTE).get("/metrics")
    assert refused.status_code == 403 and "set [web] token" in refused.json()["error"]
    assert make(REMOTE).get("/healthz").status_code == 403


def test_on_localhost_the_health_endpoints_are_open() -> None:
    make = app_behind({"token": None, "open_paths": ("/healthz", "/metrics")})
    assert make(LOCAL).get("/healthz").status_code == 200 and make(LOCAL).get("/sites").status_code == 200
