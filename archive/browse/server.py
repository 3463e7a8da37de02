"""Serving the browser: uvicorn on a socket bound up front, in the foreground or on a thread.

The socket is bound before anything else starts, so a busy or forbidden
address fails at once with the address in the message, and port 0 reports the
port it got. uvicorn's own limits do the work a hand-written server would get
wrong: ``limit_concurrency`` answers 503 beyond ``[web] max_connections``,
``timeout_keep_alive`` closes idle connections, a bounded request-head size
(h11) and a backlog. Logging is left to the command line (``log_config=None``).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading

import uvicorn
from starlette.types import ASGIApp

from archive.config import WebSettings

log = logging.getLogger(__name__)

BACKLOG = 128
MAX_HEAD_BYTES = 64 * 1024
GRACEFUL_SECONDS = 5


def is_local(host: str) -> bool:
    """Whether an address is reachable only from this machine (loopback, or the name localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (OSError when the address is busy or not ours)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: a response's head and body are two writes, and Nagle would hold
        # the body until the client's delayed ACK (40 ms on every keep-alive request).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class WebServer:
    """uvicorn serving ``app`` on an already bound socket."""

    def __init__(self, app: ASGIApp, sock: socket.socket, settings: WebSettings, *, access_log: bool) -> None:
        self.sock = sock
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_config=None,
            access_log=access_log,
            http="h11",
            loop="asyncio",
            ws="none",
            limit_concurrency=settings.max_connections,
            timeout_keep_alive=settings.keep_alive_timeout,
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
            backlog=BACKLOG,
            server_header=False,
            proxy_headers=False,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.sock.getsockname()[:2]
        return str(host), int(port)

    def run(self) -> None:
        """Serve in the foreground until SIGINT/SIGTERM (uvicorn's own handlers)."""
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.sock.close()

    def start(self) -> None:
        """Serve on a thread (the daemon's); :meth:`stop` ends it."""
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name="web", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.server.should_exit = True
            self._thread.join(timeout=GRACEFUL_SECONDS + 5)
            self._thread = None
        self.sock.close()
