"""How a process edge (the command line, a crawl child) sets up logging: one filter, one line format.

Inner modules only log through ``logging.getLogger(__name__)``; the process that
runs them decides where records go. Both edges share this, so the daemon's log
reads the same whether a line came from it or from one of its crawl children.
"""

from __future__ import annotations

import logging
import sys

STRUCTURED_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"
"""One record per line, key=value: what a daemon's log, journald or a container log keeps."""

LIBRARY_LOGGERS = ("scrapy", "twisted", "filelock", "trafilatura", "htmldate", "alembic", "py.warnings", "asyncio")


class LibraryFilter(logging.Filter):
    """Keep libraries' records at WARNING and above unless -vv; Scrapy resets its loggers' levels, so a filter."""

    def __init__(self, verbose: int = 0) -> None:
        super().__init__()
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        if self.verbose == 0 and record.exc_info and record.exc_info[1] is not None:
            # A network fault is data (it is recorded in the archive), not a traceback in a log.
            record.msg, record.args = record.getMessage(), None
            record.exc_info, record.exc_text = None, None
        if self.verbose > 1 or record.levelno >= logging.WARNING:
            return True
        return not record.name.startswith(LIBRARY_LOGGERS)


def structured_handler(verbose: int = 0) -> logging.Handler:
    """A stderr handler writing one structured line per record, libraries filtered."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(STRUCTURED_FORMAT))
    handler.addFilter(LibraryFilter(verbose))
    return handler


def install(handler: logging.Handler, level: int = logging.INFO) -> None:
    """Make ``handler`` the root logger's only handler."""
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)
