"""Template filters: times in Beijing time, shares, counts, a sparkline's points; all return plain text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def when(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) time as Beijing time, the sites' own clock."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(BEIJING).strftime(fmt)


def day(value: dt.datetime | None) -> str:
    return when(value, "%Y-%m-%d")


def share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def num(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def spark_points(values: Sequence[int], width: int = 120, height: int = 24) -> str:
    """The ``points`` of an SVG polyline drawing ``values`` left (oldest) to right (newest)."""
    if not values:
        return ""
    top = max(values) or 1
    step = width / max(1, len(values) - 1)
    return " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values))


def outcome_label(value: str) -> str:
    return value.replace("_", " ")


def chars(value: Any) -> str:
    return "?" if value is None else f"{int(value):,}"


FILTERS = {
    "when": when,
    "day": day,
    "share": share,
    "num": num,
    "spark_points": spark_points,
    "outcome": outcome_label,
    "chars": chars,
}
