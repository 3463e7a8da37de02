"""``/healthz`` and ``/metrics`` over plain HTTP, on a thread beside the scheduler.

``/healthz`` answers 200 only when the scheduler thread is alive *and* a fresh
database connection can read the archive: a container orchestrator restarts a
daemon that answers 503. The database probe opens a new connection each time
(no pool), so it sees an unreachable server or a vanished SQLite file instead
of a pooled connection that still works; for SQLite it opens read-write
*without creating* the file, so a missing archive is reported, not replaced.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from archive.storage.dberrors import db_reason

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 5


class DatabaseProbe:
    """Answers 'can a new connection read the archive now?' with None (yes) or the reason."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            path = Path(parsed.database or "").resolve()
            target = f"sqlite:///file:{urllib.parse.quote(str(path))}?mode=rw&uri=true"
            self.engine: Engine = create_engine(target, poolclass=NullPool, connect_args={"timeout": PROBE_TIMEOUT})
        else:
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            self.engine = create_engine(parsed, poolclass=NullPool, connect_args={"connect_timeout": PROBE_TIMEOUT})

    def problem(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT count(*) FROM sites"))
        except Exception as exc:  # any failure at all means "not healthy"; the reason goes in the answer
            return db_reason(exc)
        return None

    def close(self) -> None:
        self.engine.dispose()


class HealthServer:
    """A tiny threaded HTTP server; binds in the constructor so a busy port fails at start."""

    def __init__(
        self,
        host: str,
        port: int,
        check: Callable[[], dict[str, str]],
        registry: CollectorRegistry,
    ) -> None:
        handler = _handler(check, registry)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.5}, name="health-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()


def _handler(check: Callable[[], dict[str, str]], registry: CollectorRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "speech-archive"

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("health http: " + format, *args)

        def do_GET(self) -> None:
            path = urllib.parse.urlsplit(self.path).path
            if path == "/healthz":
                checks = check()
                healthy = all(v == "ok" for v in checks.values())
                body = json.dumps({"status": "ok" if healthy else "unhealthy", **checks}).encode() + b"\n"
                self._send(200 if healthy else 503, "application/json", body)
            elif path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(registry))
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found; try /healthz or /metrics\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

    return Handler
