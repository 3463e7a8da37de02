"""A new configuration for a running daemon (SIGHUP): what changed, in words, and what cannot change live.

The daemon validates the file exactly as at start (the command line's loader);
an invalid file changes nothing. Sites added, removed, disabled, enabled or
rescheduled take effect at once (their jobs are reconciled); crawl settings and
profiles reach the next crawl child, which always receives the configuration
the daemon validated. The archive's database URL and the health address are
bound at start: a change to them is logged and kept for the next start.
"""

from __future__ import annotations

import logging
from typing import Any

from archive.config import Config, SiteConfig

log = logging.getLogger(__name__)


def _site_line(site: SiteConfig) -> str:
    return f"{site.schedule.expression}, jitter {site.jitter}s{'' if site.enabled else ', disabled'}"


def _flat(model: Any, prefix: str) -> dict[str, Any]:
    return {f"{prefix}.{key}": value for key, value in model.model_dump(mode="json").items()}


def config_changes(old: Config, new: Config) -> list[str]:
    """One line per change that matters to a running daemon, sites first."""
    lines: list[str] = []
    before = {s.name: s for s in old.sites}
    after = {s.name: s for s in new.sites}
    for name in sorted(after.keys() - before.keys()):
        lines.append(f"site {name} added ({_site_line(after[name])})")
    for name in sorted(before.keys() - after.keys()):
        lines.append(f"site {name} removed")
    for name in sorted(before.keys() & after.keys()):
        a, b = before[name], after[name]
        if a.enabled != b.enabled:
            lines.append(f"site {name} {'enabled' if b.enabled else 'disabled'}")
        if (a.schedule.expression, a.jitter) != (b.schedule.expression, b.jitter):
            lines.append(f"site {name} schedule {_site_line(a)} -> {_site_line(b)}")
        other = {
            key
            for key in SiteConfig.model_fields
            if key not in ("enabled", "schedule", "jitter") and getattr(a, key) != getattr(b, key)
        }
        if other:
            lines.append(f"site {name} settings changed: {', '.join(sorted(other))}")
    for section in ("archive", "crawl", "daemon"):
        was, now = _flat(getattr(old, section), section), _flat(getattr(new, section), section)
        lines += [f"{key}: {was[key]!r} -> {now[key]!r}" for key in sorted(was) if was[key] != now[key]]
    if old.profiles != new.profiles:
        lines.append("profiles changed (the next crawl cleans with them)")
    return lines


def keep_fixed(old: Config, new: Config) -> tuple[Config, list[str]]:
    """The new configuration with what is bound at start kept as it runs, and a line for each such change."""
    notes: list[str] = []
    archive, daemon = new.archive, new.daemon
    if new.archive.database_url != old.archive.database_url:
        notes.append("[archive] database_url changed: restart the daemon to use the new database; keeping the old")
        archive = new.archive.model_copy(update={"database_url": old.archive.database_url})
    if new.daemon.listen != old.daemon.listen:
        notes.append("[daemon] listen changed: restart the daemon to move /healthz; keeping the old address")
        daemon = new.daemon.model_copy(update={"listen": old.daemon.listen})
    return new.model_copy(update={"archive": archive, "daemon": daemon}), notes
