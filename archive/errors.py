"""The one exception tree of speech-archive.

Every error a user can cause or fix derives from :class:`SpeechArchiveError`;
the command line turns each into a one-line message and the exit code below,
so inner code raises these with a message that says what is wrong *and what
would be right*, and never prints.

    SpeechArchiveError            exit 1   base
    ├── ConfigError               exit 2   bad config file, key or value
    ├── UsageError                exit 2   bad command-line argument
    ├── NotFoundError             exit 3   unknown site, URL, version
    ├── ArchiveError              exit 4   database unreachable, unreadable, too new
    │   └── LeaseHeldError        exit 5   another process is crawling that site
    ├── CrawlError                exit 6   a crawl could not be started or died
    └── ExportError               exit 7   an export could not be written
"""

from __future__ import annotations


class SpeechArchiveError(Exception):
    """Base of every error the tool reports to a user without a traceback."""

    exit_code = 1


class ConfigError(SpeechArchiveError):
    """The configuration file (or one key in it) is invalid."""

    exit_code = 2


class UsageError(SpeechArchiveError):
    """A command-line argument is invalid."""

    exit_code = 2


class NotFoundError(SpeechArchiveError):
    """A site, page or version the user named is not in the config or archive."""

    exit_code = 3


class ArchiveError(SpeechArchiveError):
    """The archive database cannot be opened, migrated or written."""

    exit_code = 4


class LeaseHeldError(ArchiveError):
    """Another process holds the crawl lease of a site."""

    exit_code = 5


class CrawlError(SpeechArchiveError):
    """A crawl could not be started or ended abnormally."""

    exit_code = 6


class ExportError(SpeechArchiveError):
    """An export could not be written."""

    exit_code = 7
