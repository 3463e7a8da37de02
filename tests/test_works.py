"""Works on a real archive (SQLite and PostgreSQL, the same tests): matching, canonical choice, stars, rebuild."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select
from works_helpers import HOUR, T0, add_sites, put, speech, truncated

from archive.config import WorksSettings
from archive.errors import LeaseHeldError
from archive.storage.engine import Archive
from archive.storage.leases import Holder, acquire_lease
from archive.storage.models import Base, Work, WorkBucket, WorkContent, WorkMember
from archive.storage.schema import include_object
from archive.works import match_pending, rebuild
from archive.works.cluster import Node, stars
from archive.works.match import LEASE
from archive.works.textform import PLACEHOLDER, matching_form

SETTINGS = WorksSettings()


@pytest.fixture
def archive(archive_url: str) -> Iterator[Archive]:
    with Archive(archive_url) as arch:
        add_sites(arch)
        yield arch


def members(archive: Archive) -> dict[str, tuple[str, str, float]]:
    """content hash -> (work id, role, containment)."""
    with archive.session() as s:
        rows = s.execute(
            select(WorkContent.content_hash, WorkMember.work_id, WorkMember.role, WorkMember.containment).join(
                WorkMember, WorkMember.content_id == WorkContent.id
            )
        ).all()
    return {h: (w, r, c) for h, w, r, c in rows}


def hard_negative(seed: int, other: int) -> str:
    """A different speech that takes two whole paragraphs (the opening among them) from speech ``other``."""
    mine = speech(seed).split("\n")
    theirs = speech(other).split("\n")
    mine[1], mine[3] = theirs[1], theirs[4]
    return "\n".join(mine)


def test_the_schema_from_migrations_matches_the_models(archive: Archive) -> None:
    with archive.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        assert compare_metadata(context, Base.metadata) == []


def test_matching_form_reads_every_masking_and_traditional_characters_alike() -> None:
    a = matching_form("以**同志为核心，XX县要完成投资12亿元。")
    b = matching_form("以×××同志為核心,某某縣要完成投資３４億元[……]")
    assert a.split(PLACEHOLDER)[0] == b.split(PLACEHOLDER)[0] == "以"
    assert a.replace(PLACEHOLDER, "") == b.replace(PLACEHOLDER, "").rstrip("\ue001")


def test_copies_on_three_sites_are_one_work_and_lookalikes_are_not(archive: Archive) -> None:
    masked = put(archive, "one", "http://127.0.0.1:1/a", speech(21, "XX"), T0)
    paywalled = put(archive, "two", "http://127.0.0.1:2/b", truncated(speech(21, "**"), 0.35), T0 + HOUR)
    named = put(archive, "three", "http://127.0.0.1:3/c", speech(21, ""), T0 + 2 * HOUR)
    other = put(archive, "one", "http://127.0.0.1:1/d", speech(22), T0 + 3 * HOUR)
    lookalike = put(archive, "two", "http://127.0.0.1:2/e", hard_negative(23, 21), T0 + 4 * HOUR)
    report = match_pending(archive, SETTINGS)
    assert report.contents == 5
    m = members(archive)
    assert m[masked][0] == m[paywalled][0] == m[named][0] == masked, "the id is the earliest member's hash"
    assert m[named][1] == "canonical", "complete, longest (names spelled out) and unmasked"
    assert m[masked][1] == "full copy" and m[masked][2] > 0.95
    assert m[paywalled][1] == "partial copy" and m[paywalled][2] > 0.95
    assert len({m[masked][0], m[other][0], m[lookalike][0]}) == 3
    with archive.session() as s:
        work = s.get(Work, masked)
        assert work is not None and work.copies == 3 and work.complete
        filled = [f for f in work.fills if f["content"] == masked]
    assert filled and all(any(b["content"] == named for b in f["filled_by"]) for f in filled)


def test_a_work_known_from_a_partial_copy_takes_a_later_complete_copy_as_canonical(archive: Archive) -> None:
    first = put(archive, "one", "http://127.0.0.1:1/p", truncated(speech(31, "**"), 0.5), T0)
    second = put(archive, "two", "http://127.0.0.1:2/p", truncated(speech(31, "XX"), 0.3), T0 + HOUR)
    match_pending(archive, SETTINGS)
    m = members(archive)
    assert m[first] == (first, "canonical", 1.0) and m[second][0] == first
    with archive.session() as s:
        assert s.get(Work, first).complete is False  # type: ignore[union-attr]
    complete = put(archive, "three", "http://127.0.0.1:3/p", speech(31, "*"), T0 + 5 * HOUR)
    report = match_pending(archive, SETTINGS)
    assert report.contents == 1, "only the new content is sketched"
    m = members(archive)
    assert m[complete][:2] == (first, "canonical")
    assert m[first][1] == m[second][1] == "partial copy"
    with archive.session() as s:
        assert s.get(Work, first).complete is True  # type: ignore[union-attr]


def test_buckets_live_in_the_database_so_a_new_process_matches_against_old_contents(archive_url: str) -> None:
    with Archive(archive_url) as arch:
        add_sites(arch)
        old = put(arch, "one", "http://127.0.0.1:1/x", speech(41), T0)
        match_pending(arch, SETTINGS)
        with arch.session() as s:
            assert s.execute(select(WorkBucket).limit(1)).first() is not None
    with Archive(archive_url) as reopened:
        copy = put(reopened, "two", "http://127.0.0.1:2/x", truncated(speech(41, "XX"), 0.6), T0 + HOUR)
        report = match_pending(reopened, SETTINGS)
        assert report.links == 1
        assert members(reopened)[copy][0] == old


def test_stars_never_chain() -> None:
    """A~B and B~C, A≁C: C does not join A's work; it is a work of its own."""
    when = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    nodes = {
        1: Node(1, "a", 1000, 1000, 0, False, when),
        2: Node(2, "b", 800, 800, 0, False, when),
        3: Node(3, "c", 700, 700, 0, False, when),
    }
    result = stars(nodes, {(1, 2): 790, (2, 3): 600}, join=0.8, full=0.9)
    assert sorted(sorted(m.node.id for m in star.members) for star in result) == [[1, 2], [3]]


def test_rebuild_reports_no_change_then_the_effect_of_a_stricter_setting(archive: Archive) -> None:
    full = put(archive, "one", "http://127.0.0.1:1/r", speech(51, "**"), T0)
    part = put(archive, "two", "http://127.0.0.1:2/r", truncated(speech(51, "XX"), 0.4), T0 + HOUR)
    match_pending(archive, SETTINGS)
    same = rebuild(archive, SETTINGS)
    assert (same.unchanged, same.changed, same.dissolved, same.moved_contents) == (1, 0, 0, 0)
    assert members(archive)[part][0] == full
    strict = rebuild(archive, SETTINGS.model_copy(update={"min_shingles": 5000}))
    assert (strict.works_before, strict.works_after, strict.dissolved, strict.moved_contents) == (1, 0, 1, 2)
    m = members(archive)
    assert m[part][0] == part and m[full][0] == full


def test_one_process_matches_at_a_time(archive: Archive) -> None:
    put(archive, "one", "http://127.0.0.1:1/l", speech(61), T0)
    with archive.session() as s:
        acquire_lease(s, LEASE, Holder("someone else", None, None), 60)
    with pytest.raises(LeaseHeldError, match="another process is matching works"):
        match_pending(archive, SETTINGS, wait=0)
