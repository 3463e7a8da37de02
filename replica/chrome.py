"""Page furniture shared by the replica templates: noise, pagination and padding.

Everything here is "noise" a cleaner must ignore, and everything is a pure function
of (site, page, noise epoch) so ``bump_noise`` changes exactly these parts and nothing
else on the page.  Text stays within GB2312 so the GBK sites can encode it strictly.
"""

from __future__ import annotations

import html
import random
from collections.abc import Callable, Sequence

from replica.model import Link

AD_TEXTS: tuple[str, ...] = (
    "【广告】公文写作培训班火热报名中，资深笔杆子手把手教你写材料",
    "【广告】机关材料写作高手速成营，本周报名立减三百元",
    "【推广】年终总结模板大礼包，会员免费下载",
    "【广告】办公用品集中采购，满五百元包邮到单位",
    "【推广】讲话稿润色服务，二十四小时内交稿",
    "【广告】公务员遴选备考课程，名师直播答疑",
    "【推广】写作素材库年度会员五折优惠，仅限今日",
    "【广告】党建活动室设计施工一站式服务",
)

FRIEND_SITES: tuple[tuple[str, str], ...] = (
    ("范文中心", "http://fanwen.example.invalid/"),
    ("写作素材网", "http://sucai.example.invalid/"),
    ("公文大全", "http://gongwen.example.invalid/"),
    ("总结报告网", "http://zongjie.example.invalid/"),
    ("心得体会网", "http://xinde.example.invalid/"),
    ("演讲稿网", "http://yanjiang.example.invalid/"),
)


def esc(text: str) -> str:
    """HTML-escape text content and attribute values."""
    return html.escape(text, quote=True)


def noise_rng(site: str, key: int | str, noise: int) -> random.Random:
    """The RNG for everything that ``bump_noise`` is allowed to change."""
    return random.Random(f"noise:{site}:{key}:{noise}")


def view_count(site: str, key: int | str, noise: int) -> int:
    """A view counter that changes with every noise epoch."""
    return noise_rng(site, f"views{key}", noise).randint(120, 98765)


def ads(site: str, key: int | str, noise: int, count: int = 2) -> list[str]:
    """Text ads for one page and epoch."""
    return noise_rng(site, f"ads{key}", noise).sample(AD_TEXTS, count)


def shuffled_links(site: str, key: int | str, noise: int, links: Sequence[Link]) -> list[Link]:
    """The sidebar's link order for one epoch."""
    out = list(links)
    noise_rng(site, f"order{key}", noise).shuffle(out)
    return out


def link_list(links: Sequence[Link], css: str = "list", *, attrs: str = "") -> str:
    """A ``<ul>`` of links using the article titles as link text."""
    items = "".join(f'<li><a href="{esc(x.path)}"{attrs}>{esc(x.title)}</a></li>' for x in links)
    return f'<ul class="{css}">{items}</ul>'


def pagination(page: int, pages: int, path_of: Callable[[int], str], *, window: int = 8, sep: str = "") -> str:
    """Pagination links (首页 / 上一页 / numbers / 下一页 / 末页) like the old CMSes print."""
    parts: list[str] = [f"<span>共{pages}页</span>"]
    if page > 1:
        parts.append(f'<a href="{path_of(1)}">首页</a>')
        parts.append(f'<a href="{path_of(page - 1)}">上一页</a>')
    lo = max(1, page - window // 2)
    hi = min(pages, lo + window - 1)
    for n in range(lo, hi + 1):
        parts.append(f'<b class="cur">{n}</b>' if n == page else f'<a href="{path_of(n)}">{n}</a>')
    if page < pages:
        parts.append(f'<a href="{path_of(page + 1)}">下一页</a>')
        parts.append(f'<a href="{path_of(pages)}">末页</a>')
    return sep.join(parts)


def friend_links(site: str, noise: int) -> str:
    """Off-site 友情链接 (never articles, never pagination)."""
    picks = noise_rng(site, "friends", noise).sample(FRIEND_SITES, 4)
    return " ".join(f'<a href="{url}" target="_blank">{esc(name)}</a>' for name, url in picks)


def _make_rows(count: int = 1500) -> tuple[str, ...]:
    rng = random.Random("ad-rows")
    return tuple(
        f'{{"slot":"s{rng.randrange(16**8):08x}","w":{rng.choice((300, 250, 728, 960))},'
        f'"h":{rng.choice((90, 120, 250, 280))},"src":"//cdn.ads.example.invalid/'
        f'{rng.randrange(16**10):010x}.js","rate":{rng.random():.4f}}}'
        for _ in range(count)
    )


_ROWS = _make_rows()


def _script_filler(rng: random.Random, nbytes: int) -> str:
    """ASCII ad/tracking configuration of about ``nbytes`` bytes (dead weight for parsers).

    Rows come from a precomputed table starting at a random offset: cheap enough to pad
    every response of a benchmark run without the replica becoming the bottleneck.
    """
    rows: list[str] = []
    size = 0
    index = rng.randrange(len(_ROWS))
    while size < nbytes:
        row = _ROWS[index % len(_ROWS)]
        rows.append(row)
        size += len(row) + 1
        index += 1
    return "var __adSlots=[" + ",".join(rows) + "];"


def padding(site: str, key: int | str, noise: int, nbytes: int, *, pool: Sequence[Link], encoding: str) -> str:
    """Extra sidebar links and inline scripts adding roughly ``nbytes`` encoded bytes.

    About a third of the budget becomes a 猜你喜欢 link list (real DOM work for a
    parser), the rest a ``<script>`` blob, which is how real pages reach ~50 KB.
    """
    if nbytes <= 0:
        return ""
    rng = noise_rng(site, f"pad{key}", noise)
    parts: list[str] = []
    link_budget = nbytes // 3
    used = 0
    chosen: list[Link] = []
    for link in pool:
        cost = len(link.title.encode(encoding, "replace")) + len(link.path) + 30
        if used + cost > link_budget:
            break
        chosen.append(link)
        used += cost
    if chosen:
        parts.append('<div class="guess"><h3>猜你喜欢</h3>' + link_list(chosen, "guess-list") + "</div>")
        used = len("".join(parts).encode(encoding, "replace"))
    rest = nbytes - used - 40
    if rest > 0:
        parts.append('<script type="text/javascript">' + _script_filler(rng, rest) + "</script>")
    return "\n".join(parts)


def pad_page(page: str, marker: str, target_bytes: int, encoding: str, filler: Callable[[int], str]) -> str:
    """Replace ``marker`` by padding so the encoded page reaches about ``target_bytes``.

    ``filler`` gets the number of bytes still needed and returns the padding HTML.
    """
    current = len(page.encode(encoding, "replace")) - len(marker)
    extra = filler(target_bytes - current) if target_bytes > current else ""
    return page.replace(marker, extra, 1)
