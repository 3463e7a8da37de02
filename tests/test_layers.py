"""Dependencies point one way, stage by stage; docs/ARCHITECTURE.md draws the same table.

archive.config, archive.errors   <- every layer (they import no storage)
archive.cleaning                 <- archive.storage <- archive.works <- archive.export, archive.browse
archive  <- crawler  <- scheduler  <- speech_archive (the command line, on top)
benchmarks sit beside the command line; replica depends on nothing of ours.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
OURS = ("archive", "crawler", "scheduler", "speech_archive", "replica", "benchmarks")
THIRD_PARTY_CRAWL = ("scrapy", "twisted")

# module prefix -> module prefixes it must never import (a prefix matches itself and its children)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "archive.config": ("archive.storage", "archive.cleaning", "archive.export", "sqlalchemy", *THIRD_PARTY_CRAWL),
    "archive.errors": ("archive", "sqlalchemy", *THIRD_PARTY_CRAWL),
    "archive.records": ("archive.storage", "archive.export", "sqlalchemy", *THIRD_PARTY_CRAWL),
    "archive.cleaning": (
        "archive.storage",
        "archive.works",
        "archive.export",
        "archive.browse",
        "archive.records",
        "sqlalchemy",
        *THIRD_PARTY_CRAWL,
    ),
    "archive.storage": ("archive.works", "archive.export", "archive.browse", *THIRD_PARTY_CRAWL),
    "archive.works": ("archive.export", "archive.browse", "archive.records", *THIRD_PARTY_CRAWL),
    "archive.export": ("archive.browse",),
    "archive.browse": ("archive.export", "archive.records", *THIRD_PARTY_CRAWL),
    "archive": ("crawler", "scheduler", "speech_archive", "replica", "benchmarks", *THIRD_PARTY_CRAWL),
    "crawler": ("scheduler", "speech_archive", "replica", "benchmarks"),
    "scheduler": ("speech_archive", "replica", "benchmarks"),
    "benchmarks": ("speech_archive",),
    "replica": ("archive", "crawler", "scheduler", "speech_archive", "benchmarks", *THIRD_PARTY_CRAWL),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports (absolute names), at any depth of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def rules_for(module: str) -> tuple[str, ...]:
    """Every rule whose prefix covers the module (archive.cleaning.core gets archive.cleaning's and archive's)."""
    return tuple(bad for prefix, forbidden in FORBIDDEN.items() if _under(module, prefix) for bad in forbidden)


def all_modules() -> list[Path]:
    return [p for package in OURS for p in (REPO / package).rglob("*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize("package", OURS)
def test_imports_point_one_way(package: str) -> None:
    bad = sorted(
        f"{module_name(path)} imports {name}"
        for path in (REPO / package).rglob("*.py")
        if "migrations" not in path.parts
        for name in imports_of(path)
        for forbidden in rules_for(module_name(path))
        if _under(name, forbidden) and not _under(module_name(path), forbidden)
    )
    assert not bad, bad


def test_nothing_imports_the_command_line() -> None:
    """speech_archive is the top: only its own modules (and tests) import it."""
    bad = sorted(
        f"{module_name(p)} imports {name}"
        for p in all_modules()
        if not module_name(p).startswith("speech_archive")
        for name in imports_of(p)
        if _under(name, "speech_archive")
    )
    assert not bad, bad


def test_the_rules_catch_a_violation(tmp_path: Path) -> None:
    """The checker itself: a cleaning module that reached into storage would be reported."""
    assert any(_under("archive.storage.models", bad) for bad in rules_for("archive.cleaning.core"))
    assert not any(_under("archive.cleaning", bad) for bad in rules_for("archive.storage.ingest"))
    assert any(_under("scrapy.http", bad) for bad in rules_for("archive.storage.ingest"))
    assert any(_under("speech_archive.cli", bad) for bad in rules_for("scheduler.daemon"))
    assert any(_under("archive.export.rows", bad) for bad in rules_for("archive.works.match"))
    assert any(_under("crawler.run", bad) for bad in rules_for("archive.works.queries"))
    assert any(_under("archive.works.match", bad) for bad in rules_for("archive.storage.models"))
    assert not any(_under("archive.works.queries", bad) for bad in rules_for("archive.export.rows"))
    assert any(_under("scheduler.jobstore", bad) for bad in rules_for("archive.browse.views"))
    assert any(_under("crawler.run", bad) for bad in rules_for("archive.browse.app"))


def test_inner_packages_read_no_environment() -> None:
    """Config is read once at the edge (speech_archive); inner modules get typed objects."""
    offenders = [
        str(path.relative_to(REPO))
        for package in ("archive", "crawler", "scheduler")
        for path in (REPO / package).rglob("*.py")
        if "os.environ" in path.read_text(encoding="utf-8") or "getenv(" in path.read_text(encoding="utf-8")
    ]
    assert not offenders, offenders


def test_the_architecture_doc_names_every_package() -> None:
    """docs/ARCHITECTURE.md's layout table lists each sub-package that exists."""
    doc = (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    packages = sorted(
        str(p.parent.relative_to(REPO)) + "/"
        for p in REPO.glob("*/**/__init__.py")
        if p.parent.name not in ("tests", "fixtures") and p.parent.parts[len(REPO.parts)] in OURS
    )
    missing = [p for p in packages if f"`{p}`" not in doc]
    assert not missing, f"docs/ARCHITECTURE.md does not list {missing}"
