"""Serving the browser: uvicorn on a socket bound up front, in the foreground or on a thread.

The socket is bound before anything else starts, so a busy or forbidden
address fails at once with the address in the message, and port 0 reports the
port it got. uvicorn's own limits do most of the work a hand-written server
would get wrong: ``limit_concurrency`` answers 503 beyond ``[web] max_connections``,
``timeout_keep_alive`` closes idle connections, a bounded request-head size
(h11) and a backlog. One limit uvicorn lacks is added here: a connection that
has not sent a whole request head within ``[web] head_timeout`` is closed
(:class:`HeadTimeoutProtocol`), so half-open connections cannot hold the
connection slots and starve ``/healthz`` (a "slowloris"). Logging is left to the
command line (``log_config=None``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import resource
import socket
import threading
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from archive.config import WebSettings

log = logging.getLogger(__name__)

BACKLOG = 128
MAX_HEAD_BYTES = 64 * 1024
GRACEFUL_SECONDS = 5


class HeadTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head does not arrive in time.

    uvicorn times out idle keep-alive connections only after a response; a client
    that connects and sends half a head (or nothing) keeps its slot forever. The
    timer runs whenever no request is in progress and is cancelled when one starts.
    """

    head_timeout = 5.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head_timer()

    def _in_request(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_request():
            self._cancel_head_timer()
        else:  # bytes of a head that is not complete yet: the clock keeps running
            self._arm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._cancel_head_timer()  # between requests uvicorn's keep-alive timeout applies

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._in_request() and not self.transport.is_closing():
            self.transport.close()


def _protocol(head_timeout: float) -> type[H11Protocol]:
    return type("HeadTimeoutProtocol", (HeadTimeoutProtocol,), {"head_timeout": float(head_timeout)})


def _raise_file_limit(wanted: int) -> None:
    """Let the process hold ``wanted`` sockets (the soft limit is often 1,024); never above the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


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
        _raise_file_limit(settings.max_connections + 256)  # the archive, the log, a crawl's pipes beside them
        http: Any = _protocol(settings.head_timeout)
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_config=None,
            access_log=access_log,
            http=http,
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
