"""``/healthz`` and ``/metrics``: routes the daemon serves beside the archive browser.

``/healthz`` answers 200 only when the scheduler thread is alive *and* a fresh
database connection can read the archive: a container orchestrator restarts a
daemon that answers 503. The database probe opens a new connection each time
(no pool), so it sees an unreachable server or a vanished SQLite file instead
of a pooled connection that still works; for SQLite it opens read-write
*without creating* the file, so a missing archive is reported, not replaced.
Its answer is kept for ``CACHE_SECONDS``, so a flood of health checks costs one
connection a second, not one each. The routes run in the daemon's uvicorn
server (archive/browse/server.py), with its connection limit and timeouts.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from archive.storage.dberrors import db_reason

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 5
CACHE_SECONDS = 1.0


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
        self._lock = threading.Lock()
        self._answer: tuple[float, str | None] | None = None

    def problem(self) -> str | None:
        """The answer of a probe at most ``CACHE_SECONDS`` old: a burst of health checks costs one connection."""
        with self._lock:  # concurrent checks wait for the one probe in flight instead of opening their own
            now = time.monotonic()
            if self._answer is not None and now - self._answer[0] < CACHE_SECONDS:
                return self._answer[1]
            result = self._probe()
            self._answer = (time.monotonic(), result)
            return result

    def _probe(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT count(*) FROM sites"))
        except Exception as exc:  # any failure at all means "not healthy"; the reason goes in the answer
            return db_reason(exc)
        return None

    def close(self) -> None:
        self.engine.dispose()


def health_routes(check: Callable[[], dict[str, str]], registry: CollectorRegistry) -> list[BaseRoute]:
    """``/healthz`` and ``/metrics`` as routes of the daemon's web application (archive.browse serves them)."""

    def healthz(_request: Request) -> Response:
        checks = check()
        healthy = all(v == "ok" for v in checks.values())
        body = json.dumps({"status": "ok" if healthy else "unhealthy", **checks}) + "\n"
        return Response(body, 200 if healthy else 503, media_type="application/json", headers=_NO_STORE)

    def metrics(_request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST, headers=_NO_STORE)

    return [Route("/healthz", healthz), Route("/metrics", metrics)]


_NO_STORE = {"cache-control": "no-store"}
