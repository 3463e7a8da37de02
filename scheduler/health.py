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
from typing import Any, Generic, TypeVar

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
HEALTH_PATHS = ("/healthz", "/metrics")

T = TypeVar("T")


class Cached(Generic[T]):
    """A value recomputed at most every ``seconds``; concurrent callers wait for the one computation."""

    def __init__(self, compute: Callable[[], T], seconds: float = CACHE_SECONDS) -> None:
        self._compute = compute
        self._seconds = seconds
        self._lock = threading.Lock()
        self._answer: tuple[float, T] | None = None

    def value(self) -> T:
        with self._lock:
            if self._answer is not None and time.monotonic() - self._answer[0] < self._seconds:
                return self._answer[1]
            result = self._compute()
            self._answer = (time.monotonic(), result)
            return result


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
        self._cached = Cached(self._probe)
        self._last: str | None = None

    def problem(self) -> str | None:
        """The answer of a probe at most ``CACHE_SECONDS`` old: a burst of health checks costs one connection."""
        return self._cached.value()

    def _probe(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT count(*) FROM sites"))
        except Exception as exc:  # any failure at all means "not healthy"; the reason goes to the log
            reason: str | None = db_reason(exc)
        else:
            reason = None
        if reason != self._last:  # once per change, not once per health check
            if reason is None:
                log.info("health: the archive database is reachable again")
            else:
                log.warning("health: the archive database is unreachable: %s", reason)
        self._last = reason
        return reason

    def close(self) -> None:
        self.engine.dispose()


def health_routes(
    check: Callable[[], dict[str, str]],
    registry: CollectorRegistry,
    notes: Callable[[], dict[str, Any]] | None = None,
) -> list[BaseRoute]:
    """``/healthz`` and ``/metrics`` as routes of the daemon's web application (archive.browse serves them).

    ``check`` decides 200 or 503 (what a restart can fix: the scheduler, the database); ``notes``
    are reported beside it as ``degraded`` with 200 (sites whose last run lost pages, a config reload
    that failed), so an orchestrator does not restart a daemon for what a restart cannot fix.
    """

    def healthz(_request: Request) -> Response:
        checks = check()
        healthy = all(v == "ok" for v in checks.values())
        extra = notes() if notes is not None and healthy else {}
        status = "unhealthy" if not healthy else "degraded" if extra else "ok"
        body = json.dumps({"status": status, **checks, **extra}, ensure_ascii=False) + "\n"
        return Response(body, 200 if healthy else 503, media_type="application/json", headers=_NO_STORE)

    def metrics(_request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST, headers=_NO_STORE)

    return [Route("/healthz", healthz), Route("/metrics", metrics)]


_NO_STORE = {"cache-control": "no-store"}
