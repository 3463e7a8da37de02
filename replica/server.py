"""A local, threaded HTTP replica of the five seed sites (like Scrapy's tests/mockserver).

Each site gets its own ``ThreadingHTTPServer`` on its own port (one daemon thread per
site, one daemon thread per connection) so crawlers see five distinct hosts, with their
own robots.txt, charsets and URL schemes, all on 127.0.0.1.  Tests drive the content
through the methods below (edit, add, repost, remove, bump noise) and read the ground
truth back with ``expected``.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import socket
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from replica.base import LAYOUTS
from replica.catalogue import ANCHOR, Catalogue
from replica.faults import CHALLENGE_PAGE, Fault, broken_gbk
from replica.model import ExpectedArticle
from replica.sites import ALL_SITE_NAMES, SITE_NAMES, SITES, get_site
from replica.textgen import MASK_STYLES


class RequestRecord(NamedTuple):
    """One request the replica answered (a plain tuple: site, method, path, status)."""

    site: str
    method: str
    path: str
    status: int


class _Response(NamedTuple):
    status: int
    content_type: str
    body: bytes
    location: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    declared_length: int | None = None
    """A Content-Length larger than the body: the connection closes early (a truncated response)."""
    delay: float = 0.0


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], replica: ReplicaServer, site: str) -> None:
        self.replica = replica
        self.site = site
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that hang up; report real bugs on stderr."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ReplicaHTTP/1.0"
    sys_version = ""
    timeout = 30
    server: _SiteServer

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.replica.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        replica, site = self.server.replica, self.server.site
        response = replica._respond(site, self.path)
        if response.delay:
            time.sleep(response.delay)
        body, status = response.body, response.status
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        if status == 200 and etag in self.headers.get("If-None-Match", ""):
            status = 304
        replica._record(RequestRecord(site, self.command, self.path, status))
        self.send_response(status)
        if status == 304:
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_header("Content-Type", response.content_type)
        for name, value in response.headers:
            self.send_header(name, value)
        if response.declared_length is not None:
            self.send_header("Content-Length", str(response.declared_length))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
        if response.location:
            self.send_header("Location", response.location)
        if status == 200:
            self.send_header("ETag", etag)
        if replica.gzip and len(body) > 256 and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, compresslevel=5, mtime=0)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


class ReplicaServer:
    """Serve replicas of the seed sites on 127.0.0.1, one port per site.

    ``port=0`` picks free ports; ``port=P`` binds the served sites to P, P+1, ... in
    ``ALL_SITE_NAMES`` order (restricted to ``sites``; by default the five seed sites).  Servers start in the
    constructor (so a busy port raises ``OSError`` right away); use it as a context manager or call
    ``close()``.  ``page_kb`` pads every page toward that size; ``gzip`` compresses
    responses for clients that accept it, like the real sites.
    """

    def __init__(
        self,
        articles_per_site: int = 12,
        per_page: int = 10,
        seed: int = 0,
        port: int = 0,
        page_kb: int = 20,
        *,
        sites: Sequence[str] | None = None,
        host: str = "127.0.0.1",
        gzip: bool = True,
        verbose: bool = False,
    ) -> None:
        if articles_per_site < 0 or per_page < 1 or page_kb < 0 or port < 0:
            raise ValueError("articles_per_site and page_kb must be >= 0, per_page >= 1, port >= 0")
        wanted = list(SITE_NAMES) if sites is None else [get_site(s).name for s in sites]
        self._names = [name for name in ALL_SITE_NAMES if name in wanted]
        self.per_page = per_page
        self.page_kb = page_kb
        self.gzip = gzip
        self.verbose = verbose
        self.host = host
        self._catalogues = {
            name: Catalogue(SITES[name], articles_per_site, seed, ALL_SITE_NAMES.index(name)) for name in self._names
        }
        self._robots: dict[str, str] = {}
        self._failures: dict[tuple[str, str], list[int]] = {}
        self._faults: dict[tuple[str, str], Fault] = {}
        self._layouts: dict[str, str] = {}
        self._extra_links: dict[str, list[str]] = {}
        self._requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._servers: dict[str, _SiteServer] = {}
        self._ports: dict[str, int] = {}
        self._threads: list[threading.Thread] = []
        try:
            for offset, name in enumerate(self._names):
                server = _SiteServer((host, port + offset if port else 0), self, name)
                self._servers[name] = server
                self._ports[name] = int(server.server_address[1])
        except OSError:
            self.close()
            raise
        for name, server in self._servers.items():
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.2}, name=f"replica-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    # --- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> ReplicaServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop every site server (idempotent)."""
        servers, self._servers = self._servers, {}
        for server in servers.values():
            if any(t.is_alive() for t in self._threads):
                server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    # --- discovery ----------------------------------------------------------------------
    def site_names(self) -> list[str]:
        return list(self._names)

    def _catalogue(self, site: str) -> Catalogue:
        try:
            return self._catalogues[site]
        except KeyError:
            raise KeyError(f"replica site {site!r} is not served here; served: {', '.join(self._names)}") from None

    def base_url(self, site: str) -> str:
        """``http://127.0.0.1:PORT`` of one site (no trailing slash)."""
        self._catalogue(site)
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self._ports[site]}"

    def url(self, site: str, path: str) -> str:
        return self.base_url(site) + path

    def list_url(self, site: str, page: int = 1) -> str:
        return self.url(site, SITES[site].list_path(page))

    def site_spec(self, site: str) -> dict[str, Any]:
        """What a crawler config needs; patterns are for ``re.search`` on the full URL."""
        template = SITES[site]
        return {
            "name": site,
            "title": template.title,
            "base_url": self.base_url(site),
            "start_urls": [self.list_url(site, 1)],
            "article_pattern": template.article_pattern,
            "pagination_pattern": template.pagination_pattern,
            "encoding": template.encoding,
            "declared_charset": template.meta_charset,
            "content_type": template.content_type,
            "mask": template.mask,
        }

    def article_ids(self, site: str) -> list[int]:
        """Ids of the articles currently listed, newest first."""
        return self._catalogue(site).ids()

    def article_url(self, site: str, aid: int) -> str:
        return self.base_url(site) + self._catalogue(site).path(aid)

    def expected(self, site: str, aid: int) -> ExpectedArticle:
        return self._catalogue(site).expected(aid, self.base_url(site))

    def paragraphs(self, site: str, aid: int) -> list[str]:
        """The article's full current body (salutation, heads, paragraphs), shown or not."""
        return self._catalogue(site).paragraphs(aid)

    # --- changing the sites -------------------------------------------------------------
    def edit_article(self, site: str, aid: int, paragraph: int | None = None) -> int:
        """Visibly change one paragraph (default: the opening one, shown on every site).

        Returns the index into ``paragraphs(site, aid)`` that changed.
        """
        return self._catalogue(site).edit(aid, paragraph)

    def set_paragraphs(self, site: str, aid: int, paragraphs: Sequence[str]) -> None:
        """Replace the body (e.g. to revert an edit; the page is then byte-identical)."""
        self._catalogue(site).set_paragraphs(aid, paragraphs)

    def bump_noise(self, site: str) -> None:
        """Change only sidebars, ads, view counters and padding; the content stays put."""
        self._catalogue(site).bump_noise()

    def add_articles(self, site: str, n: int = 1) -> list[int]:
        """Publish ``n`` new articles at the top of list page 1; ids newest first."""
        return self._catalogue(site).add(n)

    def repost(self, src_site: str, aid: int, dst_site: str, *, mask: str | None = None) -> int:
        """Publish the source's title and body on ``dst_site``; the new article's id.

        ``mask=None`` copies the body as the source shows it (same masks: the same
        cleaned text, one content). ``mask="site"`` re-renders the speech with the
        destination's masking, any key of ``replica.textgen.MASK_STYLES`` with that
        style (``""`` spells the names out): another content of the same work. The
        destination shows the copy its own way (wm114 may paywall it, biganzi
        previews it). Either way the copy belongs to the source's work
        (:meth:`true_works`).
        """
        source, target = self._catalogue(src_site), self._catalogue(dst_site)
        title, body, source_mask = source.title_and_body(aid)
        origin = source.origin(aid)
        if mask is None:
            return target.add_copy(title, body, source_mask, origin=origin)
        style = SITES[dst_site].mask if mask == "site" else mask
        if style not in MASK_STYLES:
            raise ValueError(f"unknown mask style {mask!r}; use 'site' or one of {sorted(MASK_STYLES)}")
        seed, edited = source.seed_of(aid)
        if edited:
            raise ValueError(f"{src_site} article {aid} was edited; re-post it with mask=None")
        return target.add_copy(title, None, style, origin=origin, speech_seed=seed)

    def true_works(self) -> list[set[str]]:
        """The replica's works: the URLs of each original article and all its re-posts (live articles only)."""
        groups: dict[tuple[str, int], set[str]] = {}
        for site in self._names:
            catalogue = self._catalogues[site]
            for aid, origin in catalogue.origins():
                groups.setdefault(origin, set()).add(self.article_url(site, aid))
        return sorted(groups.values(), key=sorted)

    def remove_article(self, site: str, aid: int, status: int = 404) -> None:
        """Take an article down: unlisted, its URL answers ``status`` (404 or 410)."""
        self._catalogue(site).remove(aid, status)

    def restore_article(self, site: str, aid: int) -> None:
        self._catalogue(site).restore(aid)

    def fail(self, site: str, path: str, status: int = 500, times: int = 1) -> None:
        """Answer the next ``times`` requests for ``path`` (or a full URL) with ``status``."""
        key = (site, urlsplit(path).path or path)
        with self._lock:
            self._failures[key] = [status, times]

    def set_fault(self, site: str, path: str, kind: str, times: int | None = None, **params: Any) -> None:
        """Serve a fault on ``path`` (or a full URL): see replica.faults.FAULT_KINDS.

        ``status`` takes ``status`` and ``headers`` (e.g. 429 with Retry-After);
        ``huge`` takes ``size_mb``; ``slow`` takes ``delay``; ``redirect`` takes ``location``;
        ``body`` takes ``body`` and ``content_type``; ``link_flood`` (on a list page) takes ``count``.
        """
        key = (site, urlsplit(path).path or path)
        with self._lock:
            self._faults[key] = Fault(kind, times, **params)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._failures.clear()

    def set_layout(self, site: str, layout: str = "v2") -> None:
        """Redesign a site's article pages: ``v2`` moves the body to another container, ``v1`` restores it.

        The text is unchanged (``expected`` stays true); a cleaner pinned to the old
        container must notice instead of storing an empty or truncated text.
        """
        self._catalogue(site)
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")
        with self._lock:
            self._layouts[site] = layout

    def add_links(self, site: str, hrefs: Sequence[str]) -> None:
        """Put these links (any href: another host, ``//host/…``, ``user:pw@``) on every list page of ``site``."""
        self._catalogue(site)
        with self._lock:
            self._extra_links.setdefault(site, []).extend(hrefs)

    def set_robots(self, site: str, text: str | None) -> None:
        """Serve ``text`` as the site's robots.txt (None restores the default)."""
        self._catalogue(site)
        if text is None:
            self._robots.pop(site, None)
        else:
            self._robots[site] = text

    # --- request log --------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of the requests answered so far: (site, method, path, status)."""
        with self._lock:
            return list(self._requests)

    def reset_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)

    # --- serving --------------------------------------------------------------------------
    def _forced(self, site: str, path: str) -> int | None:
        with self._lock:
            entry = self._failures.get((site, path))
            if entry is None:
                return None
            entry[1] -= 1
            if entry[1] <= 0:
                del self._failures[(site, path)]
            return entry[0]

    def _respond(self, site: str, raw_path: str) -> _Response:
        path = urlsplit(raw_path).path
        forced = self._forced(site, path)
        if forced is not None:
            return _error(forced)
        with self._lock:
            fault = self._faults.get((site, path))
            active = fault is not None and fault.use()
        if fault is not None and active:
            served = _fault_response(self, site, path, fault)
            if served is not None:
                return served
        return self._respond_normal(site, path)

    def _respond_normal(self, site: str, path: str) -> _Response:
        template, catalogue = SITES[site], self._catalogues[site]
        if path == "/":  # the home page: send browsers to the first list page
            first = self.list_url(site, 1)
            return _Response(302, "text/html; charset=utf-8", f'<a href="{first}">{first}</a>'.encode(), first)
        if path == "/robots.txt":
            return _Response(200, "text/plain; charset=utf-8", self._robots.get(site, template.robots()).encode())
        route = template.route(path)
        if route is None:
            return _error(404)
        kind, number = route
        base = self.base_url(site)
        if kind == "list":
            view = catalogue.list_view(number, self.per_page, base, self.page_kb)
            if view is None:
                return _error(404)
            page = template.render_list(view)
            with self._lock:
                extra = list(self._extra_links.get(site, ()))
            if extra:
                anchors = "".join(f'<a href="{html.escape(h)}">外链{i}</a>' for i, h in enumerate(extra))
                page = page.replace("</body>", f'<div class="extra">{anchors}</div></body>', 1)
            return _Response(200, template.content_type, template.encode(page))
        try:
            canonical, gone = catalogue.path(number), catalogue.status(number)
        except KeyError:
            return _error(404)
        if canonical != path:
            return _error(404)
        if gone is not None:
            return _error(gone)
        article = catalogue.article_view(number, base, self.page_kb)
        page = template.relayout(template.render_article(article), self._layouts.get(site, "v1"))
        return _Response(200, template.content_type, template.encode(page))


def _fault_response(self: ReplicaServer, site: str, path: str, fault: Fault) -> _Response | None:
    """The response a fault serves; None lets the normal page through (``slow`` delays it)."""
    template = SITES[site]
    if fault.kind == "status":
        body = _error(fault.status).body
        return _Response(fault.status, "text/html; charset=utf-8", body, headers=tuple(fault.headers.items()))
    if fault.kind == "redirect_loop":
        return _Response(302, "text/html; charset=utf-8", b"moved", location=self.url(site, path))
    if fault.kind == "redirect":
        return _Response(302, "text/html; charset=utf-8", b"moved", location=fault.location)
    if fault.kind == "body":
        return _Response(200, fault.content_type, fault.body)
    if fault.kind == "link_flood":
        first = template.id_start + 10_000_000  # past any catalogue: every link answers 404
        links = "".join(
            f'<a href="{template.article_path(aid, ANCHOR)}">{aid}</a>\n' for aid in range(first, first + fault.count)
        )
        return _Response(200, "text/html; charset=utf-8", f"<html><body>{links}</body></html>".encode())
    if fault.kind == "huge":
        return _Response(200, template.content_type, b"<html><body><p>" + b"x" * (fault.size_mb << 20))
    if fault.kind == "challenge":
        return _Response(200, "text/html; charset=utf-8", CHALLENGE_PAGE.encode())
    normal = self._respond_normal(site, path)
    if fault.kind == "bad_bytes":
        return _Response(200, "text/html; charset=gbk", broken_gbk(normal.body.decode("gb18030", "replace")))
    if fault.kind == "truncated":
        return normal._replace(declared_length=len(normal.body) * 2, body=normal.body[: len(normal.body) // 2])
    if fault.kind == "slow":
        return normal._replace(delay=fault.delay)
    return None


def _error(status: int) -> _Response:
    body = f"<html><head><title>{status}</title></head><body><h1>{status}</h1></body></html>"
    return _Response(status, "text/html; charset=utf-8", body.encode())


def serve(
    port: int = 8800,
    articles_per_site: int = 30,
    *,
    per_page: int = 10,
    seed: int = 0,
    page_kb: int = 20,
    sites: Sequence[str] | None = None,
    host: str = "127.0.0.1",
    out: Any = None,
) -> None:
    """Serve until Ctrl-C (KeyboardInterrupt), printing each site's start URL first."""
    stream = out if out is not None else sys.stderr
    with ReplicaServer(
        articles_per_site=articles_per_site,
        per_page=per_page,
        seed=seed,
        port=port,
        page_kb=page_kb,
        sites=sites,
        host=host,
    ) as server:
        for name in server.site_names():
            spec = server.site_spec(name)
            print(f"{name:<11} {spec['title']:<7} {spec['start_urls'][0]}", file=stream, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopped", file=stream)


def free_port_block(count: int = len(SITE_NAMES), host: str = "127.0.0.1") -> int:
    """A first port P such that P..P+count-1 look free (for subprocess tests)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((host, 0))
            first = int(probe.getsockname()[1])
        if first + count >= 65535:
            continue
        ok = True
        for p in range(first, first + count):
            with socket.socket() as s:
                try:
                    s.bind((host, p))
                except OSError:
                    ok = False
                    break
        if ok:
            return first
    raise OSError("no block of free ports found")
