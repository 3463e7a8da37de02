"""A real browser (Debian's Chromium through Playwright) on `speech-archive serve` over a real crawl.

The replica's article is crawled three times: as published, after an edit of
one paragraph, after a masking-only change (one mask swapped for another).
The test opens the sites, a site, the page, steps through its versions, diffs
them (the edited paragraph highlighted; the masking change hidden by the
toggle), searches 1-, 2- and 4-character terms and a two-term query (exactly
the pages a LIKE scan finds), and opens the raw capture. Each view is saved as
a screenshot under test-artifacts/browse/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browse_helpers import crawl_replica, like_pages
from conftest import REPO, crawl_ok
from playwright.sync_api import expect
from services import clean_env

from replica import ReplicaServer

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts" / "browse"
SITE = "zhongyi"
ENV_REQUIRE = "SPEECH_ARCHIVE_REQUIRE_BROWSER"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = "Debian's Chromium is not installed (/usr/bin/chromium); run `make services`"
        if os.environ.get(ENV_REQUIRE):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-background-networking"]
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two sites crawled (one speech reposted on both, masked differently: a work); one article then edited,
    re-crawled, its mask changed, re-crawled."""
    tmp = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{tmp / 'archive.sqlite3'}"
    with ReplicaServer(articles_per_site=6, per_page=5, seed=5, sites=[SITE, "wm114"]) as replica:
        reposted = replica.article_ids(SITE)[-1]
        copy = replica.repost(SITE, reposted, "wm114", mask="site")
        config = crawl_replica(tmp, replica, url)
        mask = replica.site_spec(SITE)["mask"]
        aid = next(
            a for a in replica.article_ids(SITE)
            if a != reposted and any(mask in p for p in replica.paragraphs(SITE, a)[3:])
        )  # fmt: skip
        edited = replica.edit_article(SITE, aid, paragraph=2)
        new_paragraph = replica.paragraphs(SITE, aid)[edited]
        crawl_ok(config, "--all", "--full")
        paragraphs = replica.paragraphs(SITE, aid)
        masked = next(i for i, p in enumerate(paragraphs) if i > 2 and mask in p)
        other = "XX" if mask != "XX" else "**"
        paragraphs[masked] = paragraphs[masked].replace(mask, other, 1)
        replica.set_paragraphs(SITE, aid, paragraphs)
        crawl_ok(config, "--all", "--full")
        page_url = replica.article_url(SITE, aid)
        work_urls = {replica.article_url(SITE, reposted), replica.article_url("wm114", copy)}
    yield {"url": url, "config": config, "page_url": page_url, "new_paragraph": new_paragraph, "work_urls": work_urls}


@pytest.fixture(scope="module")
def server(archive: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with log.open("wb") as out:
        command = ["serve", "--config", str(archive["config"]), "--listen", "127.0.0.1:0"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "speech_archive", *command], cwd=REPO, env=clean_env(), stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not (match := re.search(r"archive browser on (http://127\.0\.0\.1:\d+)/", log.read_text())):
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            yield match.group(1)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server)
    tab = context.new_page()
    errors: list[str] = []
    tab.sandboxed = []  # what the sandboxed raw page tried and was refused

    def console(msg: Any) -> None:
        if msg.type == "error":
            (tab.sandboxed if "/sandbox" in (msg.location or {}).get("url", "") + msg.text else errors).append(msg.text)

    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", console)
    yield tab
    context.close()
    assert not errors, errors  # no script errors, no CSP violations in our own pages


def shot(tab: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def test_sites_a_site_a_page_and_its_versions(page: Any, archive: dict[str, Any]) -> None:
    page.goto("/")
    assert page.locator(f'[data-testid="site-{SITE}"]').is_visible()
    shot(page, "1-sites")
    page.locator(f'[data-testid="site-{SITE}"] h2 a').click()
    rows = page.locator('[data-testid="pages"] tbody tr')
    assert rows.count() == 6
    shot(page, "2-site")
    target = page.locator('[data-testid="pages"] tbody tr', has=page.locator("td.num", has_text=re.compile(r"^3$")))
    assert target.count() == 1
    target.locator("td.title a").click()
    assert page.locator('[data-testid="version-number"]').inner_text() == "version 3 of 3"
    assert page.locator('[data-testid="timeline"] li.version').count() == 3
    shot(page, "3-page")
    page.locator('[data-testid="prev"]').click()
    expect(page.locator('[data-testid="version-number"]')).to_contain_text("version 2")
    page.locator('[data-testid="prev"]').click()
    expect(page.locator('[data-testid="version-number"]')).to_contain_text("version 1")
    assert "v=1" in page.url
    assert archive["new_paragraph"][:20] not in page.locator('[data-testid="text"]').inner_text()
    page.locator('[data-testid="next"]').click()
    expect(page.locator('[data-testid="version-number"]')).to_contain_text("version 2")
    assert archive["new_paragraph"][:20] in page.locator('[data-testid="text"]').inner_text()


def _page_id(page: Any, archive: dict[str, Any]) -> int:
    data = page.request.get(f"/sites/{SITE}?format=json").json()
    return next(p["page_id"] for p in data["pages"] if p["url"] == archive["page_url"])


def test_diffs_highlight_the_edit_and_hide_masking(page: Any, archive: dict[str, Any]) -> None:
    pid = _page_id(page, archive)
    page.goto(f"/pages/{pid}/diff?a=1&b=2")
    inserted = "".join(page.locator('[data-testid="diff"] .row.changed .b ins').all_inner_texts())
    assert inserted and inserted in archive["new_paragraph"]
    assert "1 edit(s)" in page.locator('[data-testid="diff-summary"]').inner_text()
    shot(page, "4-diff-side")
    page.get_by_label("inline").check()
    page.wait_for_url(re.compile(r"view=inline"))
    expect(page.locator('[data-testid="diff"].diff-inline ins').first).to_be_visible()  # htmx swaps after the URL
    shot(page, "5-diff-inline")

    page.goto(f"/pages/{pid}/diff?a=2&b=3")
    summary = page.locator('[data-testid="diff-summary"]').inner_text()
    assert "0 edit(s), 1 masking-only" in summary
    assert page.locator('[data-testid="diff"] ins, [data-testid="diff"] del').count() >= 1
    page.locator('[data-testid="hide-mask"]').check()
    page.wait_for_url(re.compile(r"hide=mask"))
    expect(page.locator('[data-testid="diff-summary"]')).to_contain_text("1 hidden")
    expect(page.locator('[data-testid="diff"] ins, [data-testid="diff"] del')).to_have_count(0)
    shot(page, "6-diff-mask-hidden")


def _search(page: Any, query: str) -> set[int]:
    page.goto("/search")
    page.locator('[data-testid="q"]').fill(query)
    page.locator('[data-testid="search-button"]').click()
    page.wait_for_url(re.compile(r"/search\?q="))
    found: set[int] = set()
    while True:
        found |= {int(x) for x in page.locator("[data-page-id]").evaluate_all("els => els.map(e => e.dataset.pageId)")}
        more = page.locator('[data-testid="next"]')
        if more.count() == 0:
            return found
        more.click()
        page.wait_for_load_state()


def test_search_finds_what_a_like_scan_finds(page: Any, archive: dict[str, Any]) -> None:
    text = page.request.get(f"/pages/{_page_id(page, archive)}?format=json").json()["version"]["text"]
    body = text.split("\n")[3]
    one, two, four = body[5], body[10:12], body[20:24]
    for terms in ([one], [two], [four], [one, four]):
        expected = like_pages(archive["url"], terms)
        assert expected, terms
        assert _search(page, " ".join(terms)) == expected, terms
    assert page.locator("mark").count() >= 1
    shot(page, "7-search")


def test_raw_capture_and_runs(page: Any, archive: dict[str, Any]) -> None:
    page.goto(f"/pages/{_page_id(page, archive)}")
    page.locator("details.metadata summary").click()
    page.locator('[data-testid="raw-link"]').click()
    assert "<html" in page.locator('[data-testid="source"]').inner_text().lower()
    page.locator("details.rendered summary").click()
    frame = page.frame_locator('[data-testid="sandbox"]')
    assert frame.locator("body").inner_text()  # rendered, inside the sandbox
    page.wait_for_timeout(500)
    refused = " ".join(page.sandboxed)
    assert "sandboxed" in refused or "Content Security Policy" in refused, page.sandboxed  # its script did not run
    shot(page, "8-raw")
    page.goto("/runs")
    assert page.locator('[data-testid="runs"] tbody tr').count() >= 6
    shot(page, "9-runs")


def test_a_speech_posted_on_two_sites_is_one_work_linked_from_its_pages(page: Any, archive: dict[str, Any]) -> None:
    page.goto("/works")
    # Two works: the reposted speech, and the edited page (its versions are copies of one speech too).
    expect(page.locator('[data-testid="work-link"]')).to_have_count(2)
    shot(page, "8-works")
    across = page.locator('[data-testid="works"] tbody tr').filter(has_text="wm114").filter(has_text=SITE)
    expect(across).to_have_count(1)
    across.locator('[data-testid="work-link"]').click()
    expect(page.locator('[data-testid="copies"] tbody tr')).to_have_count(2)
    copies = set(page.locator('[data-testid="copy-page"]').all_inner_texts())
    assert copies == archive["work_urls"]
    assert len(page.locator('[data-testid="work-text"]').inner_text()) > 500
    assert "2 copies on 2 pages" in page.locator("p.lede").first.inner_text()
    shot(page, "9-work")
    page.locator('[data-testid="copy-page"]').first.click()
    work_link = page.locator('[data-testid="work"] a')
    expect(work_link).to_be_visible()
    work_link.click()
    expect(page.locator('[data-testid="copies"] tbody tr')).to_have_count(2)
