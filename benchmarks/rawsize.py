"""Archive size: bytes stored per raw page with the sites' dictionaries against plain zstd level 3, on real crawls.

``python -m benchmarks.rawsize [ARTICLES] [NEW] [PAGE_KB]`` serves the five
replica sites (ARTICLES articles each, pages of about PAGE_KB KB), crawls them
once with the real command (each site trains its dictionary at the end of that
crawl), adds NEW articles to every site, crawls again, and compares, for the
pages the second crawl stored, the bytes stored with those the same pages take
with plain zstd level 3. Prints one JSON object. Not a timing: the replica
runs in this process.

The replica's text comes from phrase banks, so its pages repeat more than a
real site's body text does; the figure is an upper bound for the body and a
fair one for the template around it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import tomli_w

from archive.errors import CrawlError
from archive.storage.engine import Archive
from archive.storage.rawstore import RawReader, compress


def _crawl(config: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "speech_archive", "--config", str(config), "-q", "crawl", "--all"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise CrawlError(f"crawl failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")


def measure(db: Path) -> dict[str, Any]:
    """Per site: pages stored with a dictionary, their stored bytes and their plain zstd-3 bytes."""
    sites: dict[str, dict[str, int]] = {}
    with Archive(f"sqlite:///{db}") as archive, archive.session() as session:
        reader = RawReader()
        rows = session.execute(
            sa.text(
                "SELECT DISTINCT s.name, r.data, r.compression, r.dict_id FROM raw_pages r "
                "JOIN captures c ON c.raw_sha256 = r.sha256 JOIN pages p ON p.id = c.page_id "
                "JOIN sites s ON s.id = p.site_id WHERE r.dict_id IS NOT NULL"
            )
        )
        for site, data, compression, dict_id in rows:
            body = reader.unpack(session, data, compression, dict_id)
            figures = sites.setdefault(site, {"pages": 0, "raw": 0, "stored": 0, "plain_zstd3": 0})
            figures["pages"] += 1
            figures["raw"] += len(body)
            figures["stored"] += len(data)
            figures["plain_zstd3"] += len(compress(body))
    out: dict[str, Any] = {}
    for site, f in sorted(sites.items()):
        out[site] = {
            "pages": f["pages"],
            "raw_bytes_per_page": f["raw"] // f["pages"],
            "plain_zstd3_bytes_per_page": f["plain_zstd3"] // f["pages"],
            "stored_bytes_per_page": f["stored"] // f["pages"],
            "smaller": round(f["plain_zstd3"] / f["stored"], 2),
        }
    total = {k: sum(f[k] for f in sites.values()) for k in ("pages", "raw", "stored", "plain_zstd3")}
    if total["pages"]:
        out["all"] = {
            "pages": total["pages"],
            "raw_bytes_per_page": total["raw"] // total["pages"],
            "plain_zstd3_bytes_per_page": total["plain_zstd3"] // total["pages"],
            "stored_bytes_per_page": total["stored"] // total["pages"],
            "smaller": round(total["plain_zstd3"] / total["stored"], 2),
        }
    return out


def run(articles: int, new: int, page_kb: int) -> dict[str, Any]:
    from replica import ReplicaServer, replica_config

    with (
        tempfile.TemporaryDirectory(prefix="sa-rawsize-") as tmp,
        ReplicaServer(articles_per_site=articles, per_page=50, page_kb=page_kb) as server,
    ):
        db = Path(tmp) / "archive.sqlite3"
        doc = replica_config([server.site_spec(s) for s in server.site_names()], f"sqlite:///{db}")
        doc["archive"]["dictionary_min_pages"] = min(articles, 200)
        doc["crawl"].update({"autothrottle": False, "concurrency_per_domain": 16, "retries": 0})
        for site in doc["sites"]:
            site["max_list_pages"] = articles // 50 + 5
        config = Path(tmp) / "config.toml"
        config.write_text(tomli_w.dumps(doc), encoding="utf-8")
        _crawl(config)
        with Archive(f"sqlite:///{db}") as archive, archive.session() as session:
            trained = session.execute(sa.text("SELECT count(*) FROM raw_dictionaries")).scalar_one()
        for site in server.site_names():
            server.add_articles(site, new)
        _crawl(config)
        return {"articles_per_site": articles, "new_per_site": new, "page_kb": page_kb, "dictionaries": trained,
                "sites": measure(db)}  # fmt: skip


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:4]]
    print(json.dumps(run(*(args + [300, 100, 50][len(args) :])), indent=2))
