"""众一秘书网 (zhongyi) and 力信秘书网 (lixin): one DedeCMS-style template family.

The two real sites run the same template, so they share this code and differ only in
class variables: the date label, breadcrumb, source line, intro paragraph, footer
brand/ICP number and URL scheme.  Both plant a ``<font class="jammer">`` hidden by CSS.
"""

from __future__ import annotations

import re
from datetime import datetime

from replica import chrome
from replica.base import PAD_MARKER, SiteTemplate, compile_patterns
from replica.chrome import esc
from replica.model import ArticleView, ListView

INTRO = "下面是小编为大家整理的{title},供大家参考。"
_CSS = (
    ".jammer{display:none}.header .nav a{padding:0 10px}.article .content p{text-indent:2em;"
    "line-height:2}.sidebar li{height:26px;overflow:hidden}.ad{background:#fffbe6;padding:6px}"
)
_CUT = re.compile(r"[，。；：！？]")


class CmsTemplate(SiteTemplate):
    """Shared DedeCMS-like template; subclasses only set class variables and URLs."""

    brand_years = "2005-2024"
    icp = ""
    icp_sep = ": "
    date_label = "发布时间:"
    jammer = '<font class="jammer">{text}</font>'
    body_container = '<div class="content">'
    body_container_v2 = '<div class="article-text">'
    list_heading = "公文范文"

    def intro(self, view: ArticleView) -> str:
        return INTRO.format(title=view.title)

    def info_line(self, view: ArticleView) -> str:
        return f"{self.date_label}{self.date_text(view.published)}"

    def breadcrumb(self, view: ArticleView) -> str:
        return ""

    def tags(self, title: str) -> list[str]:
        """推荐访问 tag words derived from the title (like the CMS keyword field)."""
        words = [w for w in re.split(r"[在上的时年]", title) if 1 < len(w) < 12]
        return [*words[:3], title.split("在", 1)[-1]] if words else [title]

    def _head(self, title: str, description: str) -> str:
        return (
            "<!DOCTYPE html>\n<html>\n<head>\n"
            f'<meta charset="{self.meta_charset}">\n<meta name="viewport" content="width=device-width">\n'
            f"<title>{esc(title)}-{self.title}</title>\n"
            f'<meta name="description" content="{esc(description)}">\n'
            f'<link rel="stylesheet" href="/static/css/main.css">\n<style>{_CSS}</style>\n'
            '<script src="/static/js/jquery.min.js"></script>\n</head>\n<body>\n'
        )

    def _header(self) -> str:
        nav = "".join(f'<a href="{esc(p)}">{esc(t)}</a>' for p, t in self.decoys)
        return (
            f'<div class="header"><div class="logo"><a href="/">{self.title}</a></div>'
            f'<div class="nav"><a href="/">首页</a><a href="{self.list_path(1)}">{self.list_heading}</a>{nav}</div>'
            '<form class="search" action="/plus/search.php"><input name="q"><button>搜索</button></form></div>\n'
        )

    def _sidebar(self, view: ArticleView | ListView, key: int | str) -> str:
        related, hot = self.sidebar_links(view, key)
        return (
            f'<div class="sidebar right">{self.ads_html(view, key)}'
            f'<div class="box"><h3>相关文章</h3>{chrome.link_list(related, "rel")}</div>'
            f'<div class="box"><h3>热门文章</h3>{chrome.link_list(hot, "hot")}</div>{PAD_MARKER}</div>\n'
        )

    def _footer(self, view: ArticleView | ListView) -> str:
        return (
            f'<div class="footer"><p class="links">友情链接:{chrome.friend_links(self.name, view.noise)}</p>'
            f"<p>版权所有:{self.title} {self.brand_years} "
            f"未经授权禁止复制或建立镜像[{self.title}]所有资源完全免费共享</p>"
            f"<p>Powered by {self.title} © All Rights Reserved.。备案号{self.icp_sep}"
            f'<a href="https://beian.miit.gov.cn/" rel="nofollow">{self.icp}</a></p></div>\n'
            '<script>var _hmt=_hmt||[];(function(){var hm=document.createElement("script");})();</script>\n'
            "</body>\n</html>\n"
        )

    def render_article(self, view: ArticleView) -> str:
        title = view.title
        paragraphs = "\n".join(f"<p>{p}</p>" for p in self.body_paragraphs(view))
        tags = " ".join(f'<a href="/tags/{i}.html">{esc(t)}</a>' for i, t in enumerate(self.tags(title), 1))
        views = chrome.view_count(self.name, view.aid, view.noise)
        prev_next = "".join(
            f'<li>{label}<a href="{esc(link.path)}">{esc(link.title)}</a></li>'
            for label, link in (("上一篇:", view.prev), ("下一篇:", view.next))
            if link
        )
        main = (
            f'<div class="wrap"><div class="left">{self.breadcrumb(view)}<div class="article">\n'
            f'<h1>{esc(title)}</h1>\n<div class="info">{self.info_line(view)}</div>\n'
            f'<div class="hits">阅读:{views}次</div>\n'
            f'<div class="content">\n<p>{esc(self.intro(view))}</p>\n'
            f'<p style="text-align:center"><strong>{esc(title)}</strong></p>\n{paragraphs}\n</div>\n'
            f'<div class="tags">推荐访问:{tags}</div>\n</div>\n'
            f"{self.ads_html(view, f'in{view.aid}', 'ad wide')}"
            f'<ul class="prenext">{prev_next}</ul></div>\n'
        )
        page = self._head(title, self.intro(view)) + self._header() + main + self._sidebar(view, view.aid)
        return self.finish(page + "</div>\n" + self._footer(view), view, view.aid)

    def render_list(self, view: ListView) -> str:
        items = "\n".join(
            f'<li><h3><a href="{esc(item.link.path)}" title="{esc(item.link.title)}">{esc(item.link.title)}</a></h3>'
            f'<p>{esc(item.summary)}</p><span class="time">{item.published:%Y-%m-%d}</span></li>'
            for item in view.items
        )
        pages = chrome.pagination(view.page, view.pages, self.list_path)
        main = (
            f'<div class="wrap"><div class="left"><div class="listbox"><h2>{self.list_heading}</h2>\n'
            f'<ul class="e2">\n{items}\n</ul>\n<div class="pagelist">{pages}</div></div></div>\n'
        )
        key = f"list{view.page}"
        page = self._head(f"{self.list_heading}_第{view.page}页", self.list_heading) + self._header()
        page += main + self._sidebar(view, key) + "</div>\n" + self._footer(view)
        return self.finish(page, view, key)


class Zhongyi(CmsTemplate):
    """众一秘书网: 发布时间 line, plain intro boilerplate, ``*`` masks."""

    name = "zhongyi"
    title = "众一秘书网"
    host = "www.zhongyi.example"
    mask = "*"
    id_start = 52110
    icp = "辽ICP备05005627号-1"
    article_pattern = r"/fanwen/gongwen/\d+\.html$"
    pagination_pattern = r"/fanwen/gongwen/(?:list_\d+\.html)?$"
    robots_disallow = ("/admin/", "/plus/", "/member/")
    jammer_text = "本文来自众一秘书网"
    decoys = (
        ("/fanwen/zongjie/", "工作总结"),
        ("/fanwen/xinde/", "心得体会"),
        ("/fanwen/zongjie/88231.html", "年度总结范文"),
        ("/member/login.php", "登录"),
        ("/tags.html", "标签"),
    )

    def article_path(self, aid: int, published: datetime) -> str:
        return f"/fanwen/gongwen/{aid}.html"

    def list_path(self, page: int) -> str:
        return "/fanwen/gongwen/" if page <= 1 else f"/fanwen/gongwen/list_{page}.html"


class Lixin(CmsTemplate):
    """力信秘书网: breadcrumb, 时间/来源 line, intro = first words of the body + boilerplate."""

    name = "lixin"
    title = "力信秘书网"
    host = "www.lixin.example"
    mask = "**"
    id_start = 371400
    brand_years = "2015-2024"
    icp = "闽ICP备15025815号-1"
    icp_sep = ":"
    date_label = "时间:"
    article_pattern = r"/gongwen/\d{6}/\d+\.html$"
    pagination_pattern = r"/gongwen/(?:index_\d+\.html)?$"
    robots_disallow = ("/admin/", "/e/", "/d/")
    jammer_text = "力信秘书网www.lixin.example"
    decoys = (
        ("/fanwen/", "范文大全"),
        ("/zongjie/", "工作总结"),
        ("/zongjie/202305/371377.html", "上半年工作总结"),
        ("/e/member/login.php", "登录"),
        ("/sitemap.html", "网站地图"),
    )

    def article_path(self, aid: int, published: datetime) -> str:
        return f"/gongwen/{published:%Y%m}/{aid}.html"

    def list_path(self, page: int) -> str:
        return "/gongwen/" if page <= 1 else f"/gongwen/index_{page}.html"

    def category(self) -> list[str]:
        return ["范文大全", "公文范文"]

    def source(self) -> str | None:
        return "网友投稿"

    def info_line(self, view: ArticleView) -> str:
        return (
            f'时间:{self.date_text(view.published)} <a href="{self.list_path(1)}">公文范文</a> '
            f'<span class="source">来源:网友投稿</span>'
        )

    def breadcrumb(self, view: ArticleView) -> str:
        return (
            f'<div class="position">当前位置:<a href="/">力信秘书网</a>&gt;<a href="/fanwen/">范文大全</a> &gt; '
            f'<a href="{self.list_path(1)}">公文范文</a> &gt; {esc(view.title)}</div>\n'
        )

    def intro(self, view: ArticleView) -> str:
        """The CMS description: the body's first ~100 characters cut before a comma."""
        text = "".join(p for kind, p in view.plan.blocks if kind == "p")[:110]
        cuts = [m.start() for m in _CUT.finditer(text) if m.start() > 20]
        excerpt = text[: cuts[-1]] if cuts else text
        return excerpt + INTRO.format(title=view.title)


compile_patterns(Zhongyi, r"^/fanwen/gongwen/(?P<aid>\d+)\.html$", r"^/fanwen/gongwen/(?:list_(?P<page>\d+)\.html)?$")
compile_patterns(Lixin, r"^/gongwen/\d{6}/(?P<aid>\d+)\.html$", r"^/gongwen/(?:index_(?P<page>\d+)\.html)?$")
