"""The browser's routes through Starlette's test client, over a real crawl of the replica.

JSON forms, 404s and 400s, escaping of a hostile page, the read-only
connection, the token, the works hook, the safety headers.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browse_helpers import HOSTILE_LINE, HOSTILE_TITLE, crawl_replica, store_hostile_page
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from starlette.testclient import TestClient

from archive.browse import BrowseOptions, ReadOnlyArchive, create_app
from archive.browse.guard import COOKIE
from replica import ReplicaServer
from speech_archive.cli import main

pytestmark = pytest.mark.slow

TOKEN = "a-test-token-of-some-length"
HOSTILE_URL = "http://127.0.0.1:9/hostile.html"


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Two replica sites crawled into SQLite, plus a hostile page stored by the real ingest."""
    tmp = tmp_path_factory.mktemp("browse")
    url = f"sqlite:///{tmp / 'archive.sqlite3'}"
    with ReplicaServer(articles_per_site=6, per_page=5, seed=3, sites=["wm114", "zhongyi"]) as replica:
        config = crawl_replica(tmp, replica, url)
    store_hostile_page(url, "zhongyi", HOSTILE_URL)
    yield url, config


@pytest.fixture
def client(crawled: tuple[str, Path]) -> Iterator[TestClient]:
    archive = ReadOnlyArchive(crawled[0])
    with TestClient(create_app(archive, BrowseOptions(page_size=10))) as test_client:
        yield test_client
    archive.close()


def page_id_of(client: TestClient, url: str) -> int:
    for site in ("zhongyi", "wm114"):
        after = None
        while True:
            data = client.get(f"/sites/{site}", params={"format": "json", **({"after": after} if after else {})}).json()
            for row in data["pages"]:
                if row["url"] == url:
                    return int(row["page_id"])
            after = data["next"]
            if after is None:
                break
    raise AssertionError(f"{url} not listed")


def test_every_view_has_a_json_form(client: TestClient) -> None:
    sites = client.get("/", headers={"accept": "application/json"}).json()["sites"]
    assert {s["name"] for s in sites} == {"wm114", "zhongyi"}
    wm = next(s for s in sites if s["name"] == "wm114")
    assert wm["pages"] == 6 and wm["versions"] == 6 and wm["last_run"]["status"] == "finished"
    assert 0 < wm["partial_share"] <= 1 and wm["health"]["failed_share"] == 0 and wm["versions_per_run"] == [6]
    listed = client.get("/sites/wm114?format=json").json()
    assert len(listed["pages"]) == 6 and listed["next"] is None
    pid = listed["pages"][0]["page_id"]
    page = client.get(f"/pages/{pid}?format=json").json()
    assert page["version"]["number"] == 1 and page["version"]["text"] and page["timeline"][0]["kind"] == "version"
    diff = client.get(f"/pages/{pid}/diff?a=1&b=1&format=json").json()
    assert diff["identical"] is True and diff["counts"] == {"edit": 0, "mask": 0, "space": 0}
    runs = client.get("/runs?format=json").json()
    assert {r["site"] for r in runs["runs"]} == {"wm114", "zhongyi"}
    found = client.get("/search", params={"q": "同志", "format": "json"}).json()
    assert found["results"] and all(r["pages"] for r in found["results"])


def test_keyset_pages_and_filters(client: TestClient) -> None:
    everything = client.get("/sites/zhongyi?format=json").json()  # 7 pages: the replica's six and the hostile one
    ids = [p["page_id"] for p in everything["pages"]]
    assert len(ids) == 7 and ids == sorted(ids, reverse=True)
    tiny = TestClient(create_app(client.app.state.archive, BrowseOptions(page_size=3)))
    for order in ("seen", "changed"):
        seen: list[int] = []
        after = None
        for _ in range(10):
            params = {"format": "json", "order": order, **({"after": after} if after else {})}
            data = tiny.get("/sites/zhongyi", params=params).json()
            assert len(data["pages"]) <= 3
            seen += [p["page_id"] for p in data["pages"]]
            after = data["next"]
            if after is None:
                break
        assert len(seen) == 7 and sorted(seen) == sorted(ids), order
    partial = client.get("/sites/wm114?format=json&partial=yes").json()["pages"]
    assert partial and all(p["partial"] for p in partial)
    titled = client.get("/sites/zhongyi", params={"format": "json", "title": "<script>"}).json()["pages"]
    assert [p["title"] for p in titled] == [HOSTILE_TITLE]
    assert client.get("/sites/zhongyi?format=json&changed_since=2999-01-01").json()["pages"] == []


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/sites/nosuchsite", 404),
        ("/pages/999999", 404),
        ("/pages/999999/diff", 404),
        ("/pages/1?v=99", 404),
        ("/pages/1/captures/999999/raw", 404),
        ("/pages/1/captures/999999/sandbox", 404),
        ("/runs?site=nosuchsite", 404),
        ("/search?q=x&site=nosuchsite", 404),
        ("/nothing/here", 404),
        ("/pages/1?v=abc", 400),
        ("/sites/wm114?from=yesterday", 400),
        ("/sites/wm114?after=bogus", 400),
        ("/pages/1/diff?hide=everything", 400),
    ],
)
def test_unknown_ids_are_404_and_bad_parameters_400(client: TestClient, path: str, status: int) -> None:
    response = client.get(path, headers={"accept": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["error"]
    html = client.get(path)
    assert html.status_code == status and "<h1>" in html.text


def test_a_hostile_page_is_escaped_everywhere(client: TestClient) -> None:
    pid = page_id_of(client, HOSTILE_URL)
    views = [
        client.get(f"/pages/{pid}").text,
        client.get("/sites/zhongyi").text,
        client.get("/search", params={"q": "onerror"}).text,
        client.get(f"/pages/{pid}/diff?a=1&b=1").text,
    ]
    for html in views:
        assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in views[0]
    assert "&lt;img src=x onerror=alert(&#34;text&#34;)&gt;" in views[0]
    assert HOSTILE_LINE in client.get(f"/pages/{pid}?format=json").json()["version"]["text"]
    capture = client.get(f"/pages/{pid}?format=json").json()["version"]["capture_id"]
    raw = client.get(f"/pages/{pid}/captures/{capture}/raw")
    assert raw.status_code == 200 and "&lt;script&gt;document.title" in raw.text and "<script>document" not in raw.text
    sandboxed = client.get(f"/pages/{pid}/captures/{capture}/sandbox")
    csp = sandboxed.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "default-src 'none'" in csp and "script-src" not in csp
    assert "<script>document.title" in sandboxed.text  # served as it was, but where it cannot run or load


def test_safety_headers_on_every_page(client: TestClient) -> None:
    for path in ("/", "/sites/wm114", "/search?q=x", "/runs", "/nothing"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_read_only_connection_refuses_a_write(
    backend: str, crawled: tuple[str, Path], request: pytest.FixtureRequest
) -> None:
    url = crawled[0] if backend == "sqlite" else request.getfixturevalue("archive_url_postgres")
    archive = ReadOnlyArchive(url)
    try:
        with archive.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM sites")).scalar_one() >= 0
            with pytest.raises(DBAPIError, match=r"(?i)read-?only"):
                conn.execute(
                    text("INSERT INTO sites (name, title, base_url, created_at) VALUES ('x', 'x', 'x', '2025-01-01')")
                )
    finally:
        archive.close()


@pytest.fixture
def archive_url_postgres(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    from archive.storage import Archive

    url = request.getfixturevalue("postgres").create_database()
    Archive(url).close()
    return url


def test_the_token_beyond_localhost(crawled: tuple[str, Path]) -> None:
    archive = ReadOnlyArchive(crawled[0])
    app = create_app(archive, BrowseOptions(token=TOKEN, open_paths=("/healthz",)))
    with TestClient(app, follow_redirects=False) as client:
        refused = client.get("/", headers={"accept": "application/json"})
        assert refused.status_code == 401 and "Bearer" in refused.headers["www-authenticate"]
        redirect = client.get("/sites/wm114?x=1", headers={"accept": "text/html"})
        assert redirect.status_code == 303 and redirect.headers["location"] == "/login?next=%2Fsites%2Fwm114%3Fx%3D1"
        assert client.get("/", headers={"authorization": "Bearer wrong-token-xxxxxxxx"}).status_code == 401
        assert (
            client.get("/", headers={"authorization": f"Bearer {TOKEN}", "accept": "application/json"}).status_code
            == 200
        )
        assert client.get("/static/style.css").status_code == 200 and client.get("/login").status_code == 200
        wrong = client.post(
            "/login", content="token=nope&next=/runs", headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert wrong.status_code == 401 and COOKIE not in wrong.cookies
        ok = client.post(
            "/login",
            content=f"token={TOKEN}&next=//evil.example/",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert ok.status_code == 303 and ok.headers["location"] == "/"  # never sent to another site
        cookie = ok.cookies[COOKIE]
        assert TOKEN not in cookie
        client.cookies.set(COOKIE, cookie)
        assert client.get("/runs", headers={"accept": "application/json"}).status_code == 200
    archive.close()


def test_serve_refuses_an_outside_address_without_a_token(crawled: tuple[str, Path]) -> None:
    result = CliRunner().invoke(main, ["serve", "--config", str(crawled[1]), "--listen", "0.0.0.0:0"])
    assert result.exit_code == 2
    assert "reachable beyond this machine; set [web] token" in result.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--config", str(crawled[1]), "--listen", f"127.0.0.1:{port}"])
    assert result.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in result.output


def test_the_works_hook_links_a_page_to_its_work(crawled: tuple[str, Path]) -> None:
    """The hook the works feature plugs into: given a work for a page, the page links it (HTML and JSON)."""
    archive = ReadOnlyArchive(crawled[0])

    def work_for_page(_conn: Any, page_id: int) -> dict[str, Any] | None:
        return {"url": f"/works/{page_id * 10}", "title": "<b>一篇讲话</b>", "members": 3} if page_id % 2 else None

    with TestClient(create_app(archive, BrowseOptions(work_for_page=work_for_page))) as client:
        html = client.get("/pages/1").text
        assert re.search(
            r'data-testid="work">Part of the work <a href="/works/10" lang="zh-CN">&lt;b&gt;一篇讲话', html
        )
        assert client.get("/pages/1?format=json").json()["work"] == {
            "url": "/works/10",
            "title": "<b>一篇讲话</b>",
            "members": 3,
        }
        assert 'data-testid="work"' not in client.get("/pages/2").text
    with TestClient(create_app(archive, BrowseOptions())) as client:
        assert client.get("/pages/1?format=json").json()["work"] is None
    archive.close()


def test_works_routes_answer_json_and_name_bad_ids(crawled: tuple[str, Path]) -> None:
    archive = ReadOnlyArchive(crawled[0])
    with TestClient(create_app(archive, BrowseOptions())) as client:
        listed = client.get("/works?min=1&format=json").json()
        assert listed["min"] == 1 and listed["works"], "every content is at least a work of one"
        first = listed["works"][0]
        detail = client.get(f"/works/{first['id']}?format=json").json()["work"]
        assert detail["id"] == first["id"] and detail["text"] and detail["copies"][0]["role"] == "canonical"
        assert client.get(f"/works/{first['id'][:8]}?format=json").json()["work"]["id"] == first["id"]
        missing = client.get("/works/ffffffffff")
        assert missing.status_code == 404 and "no work" in missing.text
        assert client.get("/works/not-hex").status_code == 404
        bad = client.get("/works?min=zero")
        assert bad.status_code == 400 and "whole number" in bad.text
    archive.close()
