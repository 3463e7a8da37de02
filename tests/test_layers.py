"""Dependencies point one way: archive <- crawler <- scheduler; the CLI sits on top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# package -> top-level imports it must never make
FORBIDDEN = {
    "archive": {"scrapy", "twisted", "crawler", "scheduler", "speech_archive", "replica"},
    "crawler": {"scheduler", "speech_archive", "replica"},
    "scheduler": {"speech_archive", "replica"},
    "replica": {"archive", "crawler", "scheduler", "speech_archive", "scrapy"},
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_point_one_way(package: str) -> None:
    bad = {
        f"{path.relative_to(REPO)} imports {name}"
        for path in (REPO / package).rglob("*.py")
        for name in imports_of(path) & FORBIDDEN[package]
    }
    assert not bad, sorted(bad)


def test_inner_packages_read_no_environment() -> None:
    """Config is read once at the edge (speech_archive); inner modules get typed objects."""
    offenders = [
        str(path.relative_to(REPO))
        for package in ("archive", "crawler", "scheduler")
        for path in (REPO / package).rglob("*.py")
        if "os.environ" in path.read_text(encoding="utf-8") or "getenv(" in path.read_text(encoding="utf-8")
    ]
    assert not offenders, offenders
