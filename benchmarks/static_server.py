"""A cheap static file server in its own process, for the crawl benchmark: nginx when installed, else Python's.

The server must not take CPU from the crawl it serves, nor be part of the
process tree whose CPU and memory are measured: it is a child of the
benchmark's parent process, never of a crawl child. nginx (Debian's
``nginx-light``; ``make services`` installs it) runs in the foreground with
its own prefix, config and logs in a temporary directory, one worker,
``sendfile`` and no access log, on 127.0.0.1 and a free port. Without nginx,
``python -m http.server`` (threaded) runs as a separate process: dearer per
request, so the figures say which server served them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from archive.errors import CrawlError
from benchmarks import proctree

NGINX_CONF = """\
{user}worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
    }}
}}
"""


def free_port() -> int:
    """A port nothing listens on now (the server binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


class StaticServer:
    """Serve ``root`` on 127.0.0.1 from a separate process until the ``with`` block ends."""

    def __init__(self, root: Path, *, prefer_nginx: bool = True) -> None:
        self.root = root.resolve()
        self.port = free_port()
        self.kind = "nginx" if prefer_nginx and nginx_binary() else "python-http.server"
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = Path(os.devnull)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._proc is not None, "server not started"
        return self._proc.pid

    def cpu_seconds(self) -> float:
        """CPU time the server's processes (nginx master and worker) have used so far."""
        return sum(proctree.cpu_seconds(pid) for pid in proctree.tree(self.pid))

    def __enter__(self) -> StaticServer:
        self._tmp = tempfile.TemporaryDirectory(prefix="sa-static-")
        tmp = Path(self._tmp.name)
        if self.kind == "nginx":
            conf = tmp / "nginx.conf"
            # As root, nginx's worker would switch to "nobody", who cannot read a private temporary directory.
            user = "user root;\n" if os.geteuid() == 0 else ""
            conf.write_text(NGINX_CONF.format(user=user, tmp=tmp, port=self.port, root=self.root), encoding="utf-8")
            command = [str(nginx_binary()), "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")]
        else:
            command = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(self.root)]
            command.append(str(self.port))
        self._log = tmp / "server.log"
        with self._log.open("wb") as log:  # a file, not a pipe: http.server logs every request
            self._proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        self._wait_ready()
        return self

    def _messages(self) -> str:
        logs = [self._log, *([Path(self._tmp.name) / "error.log"] if self._tmp is not None else [])]
        text = " ".join(p.read_text(errors="replace").strip() for p in logs if p.exists())
        return text[-300:] or "no message"

    def _wait_ready(self, timeout: float = 10.0) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                message = self._messages()
                self.close()
                raise CrawlError(f"the benchmark's {self.kind} server exited at start: {message}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.close()
        raise CrawlError(
            f"the benchmark's {self.kind} server did not listen on port {self.port} within {timeout:.0f} s"
        )

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
