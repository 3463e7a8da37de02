"""One progress helper for every long job (crawl, export, extract, reclean).

On a terminal: a rich live view, either a bar of items done (export, reclean,
extract) or a job's own table (crawl). Elsewhere (the daemon's children, CI,
a pipe): one structured log line every ``every`` seconds, so a log shows the
job moving without flooding it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console, RenderableType
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

log = logging.getLogger(__name__)


class Progress:
    """Progress of one job, as a context manager.

    ``advance(n)`` counts items done (a bar, or a log line when ``every`` seconds
    passed). A job that keeps its own live figures passes ``view`` (a renderable
    refreshed on a terminal) and ``describe`` (the log lines written every
    ``every`` seconds elsewhere) instead.
    """

    def __init__(
        self,
        label: str,
        console: Console,
        *,
        unit: str = "items",
        total: int | None = None,
        quiet: bool = False,
        every: float = 10.0,
        view: Callable[[], RenderableType] | None = None,
        describe: Callable[[], list[str]] | None = None,
    ) -> None:
        self.label, self.unit, self.every = label, unit, every
        self.console = console
        self.total = total
        self.done = 0
        self._started = False
        self.started = self.last = time.monotonic()
        self._view, self._describe = view, describe
        self._live: Live | None = None
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._terminal = console.is_terminal and not quiet
        self._quiet = quiet

    # --- life cycle ------------------------------------------------------------------
    def start(self, total: int | None = None) -> None:
        """Show the view (again: only sets a newly known total)."""
        self.total = total if total is not None else self.total
        if self._started:
            if self._bar is not None and self._task is not None:
                self._bar.update(self._task, total=self.total)
            return
        self._started = True
        if self._terminal and self._view is not None:
            self._live = Live(get_renderable=self._view, console=self.console, refresh_per_second=4)
            self._live.start()
        elif self._terminal:
            self._bar = RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._task = self._bar.add_task(self.label, total=self.total, rate="")
            self._bar.start()
        elif self._describe is not None and not self._quiet:
            self._thread = threading.Thread(target=self._log_loop, name=f"progress-{self.label}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._live is not None:
            self._live.stop()
            self._live = None
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def __enter__(self) -> Progress:
        self.start(self.total)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- reporting -------------------------------------------------------------------
    @property
    def rate(self) -> float:
        return self.done / max(time.monotonic() - self.started, 1e-6)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=n, rate=f"{self.rate:,.0f} {self.unit}/s")
            return
        now = time.monotonic()
        if not self._terminal and not self._quiet and now - self.last >= self.every:
            self.last = now
            total = "" if self.total is None else f" total={self.total}"
            log.info("progress job=%s done=%d%s rate=%.1f/s", self.label, self.done, total, self.rate)

    def _log_loop(self) -> None:
        assert self._describe is not None
        while not self._stop.wait(self.every):
            for line in self._describe():
                log.info("%s", line)
