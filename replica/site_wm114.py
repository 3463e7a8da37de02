"""新文秘网 (wm114): old table-layout ASP CMS, GBK bytes declared as gb2312, paywall.

What it exercises: a mislabelled charset (``Content-Type: text/html`` without charset,
``<meta ... charset=gb2312>``, GBK-only characters in the text), a breadcrumb, an
``发表时间`` line, an outline block inside the body and a member paywall whose printed
character counts are true.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from replica import chrome
from replica.base import PAD_MARKER, SiteTemplate, compile_patterns
from replica.chrome import esc
from replica.model import ArticleView, BodyPlan, ListView
from replica.paywall import full_plan, paywall_plan

CAT = 125
CATEGORY = "党委/党务讲话/会议致辞/会议发言/开幕闭幕"
GAP_MARKER = "……(新文秘网http://www.wm114.cn省略{n}字,正式会员可完整阅读)…… "
TAIL_MARKER = " ……(未完,全文共{full}字,当前仅显示{shown}字,请阅读下面提示信息。"

_CSS = (
    ".nav a{margin:0 6px}.weizhi{height:28px}.content p{text-indent:2em;line-height:190%;"
    "font-size:14px}.side h3{background:#eee}.ad{border:1px dashed #c00;margin:6px 0}"
)


class Wm114(SiteTemplate):
    """新文秘网: about half the articles are paywall-truncated."""

    name = "wm114"
    title = "新文秘网"
    host = "www.wm114.cn"
    encoding = "gbk"
    content_type = "text/html"
    meta_charset = "gb2312"
    mask = "**_"
    id_start = 180350
    article_pattern = rf"/wen/{CAT}/\d+\.html$"
    pagination_pattern = rf"/wen/{CAT}/(?:list_{CAT}_\d+\.html)?$"
    robots_disallow = ("/admin/", "/e/member/", "/e/search/")
    jammer = '<span style="display:none">wm114版权所有</span>'
    body_container = '<div class="content" id="content">'
    body_container_v2 = '<div class="text" id="text">'
    decoys = (
        ("/wen/126/", "工作总结"),
        ("/wen/131/", "心得体会"),
        ("/wen/131/179977.html", "精选心得体会范文"),
        ("/e/member/login.php", "会员登录"),
        ("/e/member/register/", "注册会员"),
        ("/e/search/", "高级搜索"),
        ("/html/help.html", "帮助中心"),
    )

    def article_path(self, aid: int, published: datetime) -> str:
        return f"/wen/{CAT}/{aid}.html"

    def list_path(self, page: int) -> str:
        return f"/wen/{CAT}/" if page <= 1 else f"/wen/{CAT}/list_{CAT}_{page}.html"

    def plan(self, aid: int, paragraphs: Sequence[str]) -> BodyPlan:
        if self.rng("paywall", aid).random() < 0.5:
            return paywall_plan(paragraphs, self.rng("plan", aid))
        return full_plan(paragraphs)

    def category(self) -> list[str]:
        return [CATEGORY]

    def outline(self, outline: Sequence[str]) -> list[str]:
        return list(outline)

    def date_text(self, when: datetime) -> str:
        return f"{when.year}/{when.month}/{when.day} {when.hour}:{when:%M:%S}"

    # --- page parts ---------------------------------------------------------------------
    def _head(self, title: str, description: str) -> str:
        return (
            '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
            '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
            '<html xmlns="http://www.w3.org/1999/xhtml">\n<head>\n'
            f'<meta http-equiv="Content-Type" content="text/html; charset={self.meta_charset}" />\n'
            f"<title>{esc(title)}_新文秘网</title>\n"
            f'<meta name="keywords" content="{esc(title)},讲话稿,发言稿" />\n'
            f'<meta name="description" content="{esc(description)}" />\n'
            '<link href="/skin/css/style.css" rel="stylesheet" type="text/css" />\n'
            f'<style type="text/css">{_CSS}</style>\n'
            '<script type="text/javascript">function AddFavorite(u,t){try{window.external.addFavorite(u,t);}'
            'catch(e){alert("请使用Ctrl+D加入收藏");}}</script>\n</head>\n<body>\n'
        )

    def _top(self) -> str:
        return (
            '<div id="top"><a href="/" onclick="this.style.behavior=\'url(#default#homepage)\'">设为首页</a> '
            '<a href="javascript:AddFavorite(location.href,document.title)">加入收藏</a> '
            '<a href="/e/member/login.php">会员登录</a> <a href="/e/member/register/">免费注册</a></div>\n'
            '<table width="960" border="0" align="center" cellpadding="0" cellspacing="0" class="nav"><tr><td>'
            f'<a href="/">首页</a><a href="/wen/{CAT}/">讲话致辞</a><a href="/wen/126/">工作总结</a>'
            '<a href="/wen/127/">工作计划</a><a href="/wen/131/">心得体会</a><a href="/wen/140/">调研报告</a>'
            "</td></tr></table>\n"
        )

    def _side(self, view: ArticleView | ListView, key: int | str) -> str:
        related, hot = self.sidebar_links(view, key)
        return (
            '<td width="250" valign="top" class="side">'
            f'<div class="box"><h3>相关文章</h3>{chrome.link_list(related, "rel")}</div>'
            f"{self.ads_html(view, key)}"
            f'<div class="box"><h3>热门文章</h3>{chrome.link_list(hot, "hot")}</div>'
            f'<div class="box"><h3>网站导航</h3>{self.decoy_html("<br />")}</div>'
            f"{PAD_MARKER}</td>"
        )

    def _foot(self, view: ArticleView | ListView) -> str:
        return (
            '<table width="960" align="center" class="foot"><tr><td>'
            f"友情链接:{chrome.friend_links(self.name, view.noise)}<br />"
            "Copyright (C) 新文秘网 www.wm114.cn All Rights Reserved 联系QQ:12345678"
            '<script type="text/javascript">var _hmt=_hmt||[];</script>'
            "</td></tr></table>\n</body>\n</html>\n"
        )

    def render_article(self, view: ArticleView) -> str:
        plan = view.plan
        title = view.title
        body = self.body_paragraphs(view)
        gap_values = iter(plan.gaps)
        blocks: list[str] = []
        if view.outline:
            lines = "<br />\n".join(esc(x) for x in view.outline)
            blocks.append(f"<p>目录/提纲:……<br />\n{lines}<br />\n……</p>")
        blocks.append(f'<p align="center"><strong>{esc(title)}</strong></p>')
        for index, html in enumerate(body):
            if html == "\0gap":
                blocks.append("<p>" + esc(GAP_MARKER.format(n=next(gap_values))) + "</p>")
            elif plan.partial and index == len(body) - 1:
                blocks.append("<p>" + html + esc(TAIL_MARKER.format(full=plan.declared, shown=plan.shown)) + "</p>")
            else:
                blocks.append(f"<p>{html}</p>")
        prompt = ""
        if plan.partial:
            prompt = (
                f'<div class="vip"><a href="javascript:AddFavorite(location.href,document.title)">'
                f"收藏《{esc(title)}》</a><br />温馨提示:你目前还不是正式会员,成为正式会员后即可阅读全文、"
                "复制文字并下载WORD文档。<br />如何成为正式会员:请点击"
                '<a href="/e/member/register/">会员注册</a>,按提示开通。</div>'
            )
        prev_next = ""
        if view.prev:
            prev_next += f'上一篇:<a href="{esc(view.prev.path)}">{esc(view.prev.title)}</a><br />'
        if view.next:
            prev_next += f'下一篇:<a href="{esc(view.next.path)}">{esc(view.next.title)}</a>'
        views = chrome.view_count(self.name, view.aid, view.noise)
        main = (
            '<table width="960" border="0" align="center"><tr><td width="700" valign="top" class="main">'
            f'<div class="weizhi">您的位置:<a href="/">新文秘网</a>&gt;&gt;'
            f'<a href="/wen/{CAT}/">{esc(CATEGORY)}</a>&gt;&gt;正文</div>\n'
            f'<div class="article"><h1>{esc(title)}</h1>\n'
            f'<div class="info">发表时间:{self.date_text(view.published)} &nbsp; 浏览次数:{views}</div>\n'
            f'<div class="content" id="content">\n' + "\n".join(blocks) + "\n</div>\n"
            f"{prompt}</div>\n{self.ads_html(view, f'in{view.aid}', 'ad2')}"
            f'<div class="prenext">{prev_next}</div></td>'
        )
        description = "".join(p for _, p in plan.blocks)[:80]
        page = self._head(title, description) + self._top() + main + self._side(view, view.aid) + "</tr></table>\n"
        return self.finish(page + self._foot(view), view, view.aid)

    def render_list(self, view: ListView) -> str:
        items = "\n".join(
            f'<li><span class="date">{item.published:%Y-%m-%d}</span>'
            f'<a href="{esc(item.link.path)}" target="_blank">{esc(item.link.title)}</a>'
            f'<p class="intro">{esc(item.summary)}</p></li>'
            for item in view.items
        )
        pages = chrome.pagination(view.page, view.pages, self.list_path, sep=" ")
        main = (
            '<table width="960" border="0" align="center"><tr><td width="700" valign="top" class="main">'
            f'<div class="weizhi">您的位置:<a href="/">新文秘网</a>&gt;&gt;{esc(CATEGORY)}</div>\n'
            f'<ul class="list">\n{items}\n</ul>\n<div class="pages">{pages}</div></td>'
        )
        page = self._head(f"{CATEGORY}_第{view.page}页", CATEGORY) + self._top() + main
        page += self._side(view, f"list{view.page}") + "</tr></table>\n" + self._foot(view)
        return self.finish(page, view, f"list{view.page}")


compile_patterns(Wm114, rf"^/wen/{CAT}/(?P<aid>\d+)\.html$", rf"^/wen/{CAT}/(?:list_{CAT}_(?P<page>\d+)\.html)?$")
