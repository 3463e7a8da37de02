"""What the code that starts the browser hands it: settings and the few things only it can provide."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from starlette.routing import BaseRoute

NextRuns = Callable[[Connection], Mapping[str, dt.datetime | None]]
WorkForPage = Callable[[Connection, int], Mapping[str, Any] | None]


@dataclass(frozen=True)
class BrowseOptions:
    page_size: int = 50
    token: str | None = None
    """When set, every path but the login page, static files and ``open_paths`` needs it."""
    next_runs: NextRuns | None = None
    """Each site's next scheduled run: the daemon's job store (``serve``) or the live scheduler (the daemon)."""
    work_for_page: WorkForPage | None = None
    """Replaces how a page's work is found (default: archive/works through browse/works.py): given a page id,
    a mapping with at least ``url`` and ``title`` (optionally ``members``), or None."""
    extra_routes: Sequence[BaseRoute] = field(default_factory=tuple)
    """Routes served beside the browser (the daemon's ``/healthz`` and ``/metrics``)."""
    open_paths: Sequence[str] = field(default_factory=tuple)
    """Path prefixes that never need the token (the daemon's health endpoints on localhost)."""
    loopback_paths: Sequence[str] = field(default_factory=tuple)
    """Path prefixes that need no token from a client on this machine (the daemon's health endpoints when
    bound beyond localhost: a container's own health check)."""
    public: bool = False
    """Bound beyond localhost: with no token, only clients on this machine are answered."""
    browse: bool = True
    """False: serve only ``extra_routes`` (the daemon bound beyond localhost without a token)."""
