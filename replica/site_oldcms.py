"""公文之家 (gwzj): an older GBK CMS laid out in tables, added by config only (no built-in profile).

The sixth replica site, served only when asked for (``ReplicaServer(sites=[..., "gwzj"])``).
It is the template family of the 2000s ASP/PHP article systems (动易, 新云, PHPCMS 2008)
that many 公文 sites still run: everything is a table cell; a nav bar of links; a
breadcrumb ``您现在的位置：…>>正文``; an info line ``作者：… 更新时间：… 浏览次数：…``
printed above the body; the body as ``<br>``-separated paragraphs indented with
``　　`` in one cell; a font-size bar, ``上一篇/下一篇``, a 相关文章 box; a right column
of 热门文章/推荐文章 titles; a footer with the ICP number. GBK bytes, ``Content-Type:
text/html`` with no charset, ``<meta charset=gb2312>``.

The CMS writes static pages and regenerates one only when its article is edited, so
after the site's redesign some articles (``legacy``: every third id) still carry the
old article template, which printed the info line and a 本栏推荐 list of other
articles' titles (each with its date) into the body's own cell, separated from the
text by ``<br>`` only: the part of a site a single-page cleaner has the least to go
on, and what a learned site profile (lines repeating over most pages) is for.
"""

from __future__ import annotations

from datetime import datetime

from replica import chrome
from replica.base import PAD_MARKER, SiteTemplate, compile_patterns
from replica.chrome import esc
from replica.model import ArticleView, Link, ListView

INDENT = "\u3000\u3000"
AUTHORS = ("佚名", "本站编辑", "公文之家", "网友投稿", "文秘小张")
_NAV = (
    ("/Article/jianghua/Index.html", "讲话稿"),
    ("/Article/zongjie/Index.html", "工作总结"),
    ("/Article/jihua/Index.html", "工作计划"),
    ("/Article/xinde/Index.html", "心得体会"),
    ("/Article/baogao/Index.html", "报告"),
    ("/Article/yanjiang/Index.html", "演讲稿"),
    ("/User/Login.asp", "会员登录"),
)


class Gwzj(SiteTemplate):
    """公文之家: table layout, info line, sidebar of titles, 上一篇/下一篇; GBK without a charset header."""

    name = "gwzj"
    title = "公文之家"
    host = "www.gwzj.example"
    encoding = "gbk"
    content_type = "text/html"
    meta_charset = "gb2312"
    mask = "XX"
    id_start = 24510
    article_pattern = r"/Article/jianghua/\d+\.html$"
    pagination_pattern = r"/Article/jianghua/Index(?:_\d+)?\.html$"
    robots_disallow = ("/Admin/", "/User/")
    jammer = '<font style="display:none">公文之家www.gwzj.example</font>'
    body_container = '<td class="content" id="fontzoom">'
    body_container_v2 = '<td class="article_content" id="fontzoom">'
    decoys = _NAV

    def article_path(self, aid: int, published: datetime) -> str:
        return f"/Article/jianghua/{aid}.html"

    def list_path(self, page: int) -> str:
        return "/Article/jianghua/Index.html" if page <= 1 else f"/Article/jianghua/Index_{page}.html"

    @staticmethod
    def legacy(aid: int) -> bool:
        """Still rendered with the pre-redesign template (info line and 本栏推荐 inside the body table)."""
        return aid % 3 == 0

    def category(self) -> list[str]:
        return ["讲话稿"]

    def _head(self, title: str) -> str:
        return (
            '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">\n<html>\n<head>\n'
            f'<meta http-equiv="Content-Type" content="text/html; charset={self.meta_charset}">\n'
            f"<title>{esc(title)}_讲话稿_公文之家</title>\n"
            '<link href="/Skin/DefaultSkin.css" rel="stylesheet" type="text/css">\n'
            '<script language="javascript" src="/js/menu.js"></script>\n</head>\n'
            '<body leftmargin="0" topmargin="0">\n'
        )

    def _top(self) -> str:
        nav = " | ".join(f'<a href="{esc(p)}">{esc(t)}</a>' for p, t in _NAV)
        return (
            '<table width="960" border="0" align="center" cellpadding="0" cellspacing="0">'
            '<tr><td width="300"><a href="/"><img src="/Images/logo.gif" alt="公文之家" border="0"></a></td>'
            '<td align="right"><a href="/">设为首页</a> | <a href="/">加入收藏</a></td></tr></table>\n'
            '<table width="960" border="0" align="center" cellpadding="0" cellspacing="0" class="nav">'
            f'<tr><td height="30" align="center"><a href="/">首页</a> | {nav}</td></tr></table>\n'
        )

    def _info(self, view: ArticleView) -> str:
        author = AUTHORS[view.aid % len(AUTHORS)]
        views = chrome.view_count(self.name, view.aid, view.noise)
        stamp = f"{view.published:%Y-%m-%d %H:%M:%S}"
        return f"作者：{author}&nbsp;&nbsp;&nbsp;&nbsp;更新时间：{stamp}&nbsp;&nbsp;&nbsp;&nbsp;浏览次数：{views}"

    def _dated_titles(self, links: list[Link], view: ArticleView) -> str:
        """本栏推荐: other articles' titles, each with its (unlinked) date, as the old template printed them."""
        rng = chrome.noise_rng(self.name, f"dates{view.aid}", view.noise)
        return "".join(
            f'·<a href="{esc(x.path)}">{esc(x.title)}</a>&nbsp;&nbsp;'
            f"（{rng.randint(2019, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}）<br>"
            for x in links
        )

    def _side(self, view: ArticleView | ListView, key: int | str) -> str:
        related, hot = self.sidebar_links(view, key)

        def box(name: str, links: list[Link]) -> str:
            items = "".join(f'·<a href="{esc(x.path)}" title="{esc(x.title)}">{esc(x.title)}</a><br>' for x in links)
            return (
                '<table width="100%" border="0" cellpadding="0" cellspacing="0" class="side_border">'
                f'<tr><td class="side_title">{name}</td></tr><tr><td class="side_list">{items}</td></tr></table>'
            )

        boxes = box("热门文章", hot) + box("推荐文章", related)
        return f'<td width="220" valign="top" class="right">{boxes}{PAD_MARKER}</td>'

    def _foot(self) -> str:
        return (
            '<table width="960" border="0" align="center" cellpadding="0" cellspacing="0" class="foot">'
            '<tr><td align="center"><a href="/About.html">关于本站</a> | <a href="/Contact.html">联系我们</a> | '
            '<a href="/Sitemap.html">网站地图</a><br>Copyright &copy; 2006-2024 公文之家 All Rights Reserved<br>'
            '备案号：<a href="https://beian.miit.gov.cn/">京ICP备06012345号</a></td></tr></table>\n'
            "</body>\n</html>\n"
        )

    def render_article(self, view: ArticleView) -> str:
        title = view.title
        paragraphs = "<br>\n".join(self.body_paragraphs(view, INDENT))
        prev_next = "".join(
            f'<tr><td>{label}<a href="{esc(x.path)}">{esc(x.title)}</a></td></tr>'
            for label, x in (("上一篇：", view.prev), ("下一篇：", view.next))
            if x
        )
        related = list(view.related[16:22])
        legacy = self.legacy(view.aid)
        info_row = f'<tr><td align="center" class="info">{self._info(view)}</td></tr>'
        if legacy:  # the old template: info line and 本栏推荐 in the body's cell
            paragraphs = (
                f"{self._info(view)}<br><br>\n{paragraphs}<br><br>\n<b>本栏推荐：</b><br>"
                f"{self._dated_titles(list(view.related[22:28]), view)}"
            )
        main = (
            '<table width="960" border="0" align="center" cellpadding="0" cellspacing="0">'
            '<tr><td height="28" class="weizhi">您现在的位置：<a href="/">公文之家</a> &gt;&gt; '
            f'<a href="{self.list_path(1)}">讲话稿</a> &gt;&gt; 正文</td></tr></table>\n'
            '<table width="960" border="0" align="center" cellpadding="0" cellspacing="0"><tr>'
            '<td width="730" valign="top" class="left">'
            + ("" if legacy else f'<table width="100%" class="article_info">{info_row}</table>')
            + '<table width="100%" border="0" cellpadding="4" cellspacing="0" class="article">'
            f'<tr><td align="center" class="title"><font size="4"><b>{esc(title)}</b></font></td></tr>'
            + f"<tr>{self.body_container}\n{paragraphs}\n</td></tr>"
            + "</table>\n"
            '<table width="100%" class="tools"><tr><td align="right">【字体：<a href="#">大</a> <a href="#">中</a> '
            '<a href="#">小</a>】【<a href="#">打印此文</a>】【<a href="#">关闭窗口</a>】</td></tr></table>\n'
            f'<table width="100%" class="prenext">{prev_next}</table>\n'
            '<table width="100%" class="related"><tr><td class="side_title">相关文章</td></tr>'
            + "".join(f'<tr><td>·<a href="{esc(x.path)}">{esc(x.title)}</a></td></tr>' for x in related)
            + "</table></td>\n"
        )
        page = self._head(title) + self._top() + main + self._side(view, view.aid) + "</tr></table>\n" + self._foot()
        return self.finish(page, view, view.aid)

    def render_list(self, view: ListView) -> str:
        items = "".join(
            f'<tr><td>·<a href="{esc(item.link.path)}" target="_blank">{esc(item.link.title)}</a></td>'
            f'<td width="90" align="right">{item.published:%Y-%m-%d}</td></tr>'
            for item in view.items
        )
        pages = chrome.pagination(view.page, view.pages, self.list_path, sep=" ")
        key = f"list{view.page}"
        main = (
            '<table width="960" border="0" align="center" cellpadding="0" cellspacing="0"><tr>'
            f'<td width="730" valign="top"><table width="100%" class="list">{items}</table>'
            f'<div class="showpage">{pages}</div></td>\n'
        )
        page = self._head(f"讲话稿 第{view.page}页") + self._top() + main + self._side(view, key) + "</tr></table>\n"
        return self.finish(page + self._foot(), view, key)


compile_patterns(Gwzj, r"^/Article/jianghua/(?P<aid>\d+)\.html$", r"^/Article/jianghua/Index(?:_(?P<page>\d+))?\.html$")
