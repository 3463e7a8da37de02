"""笔杆子家园网 (biganzi, a .docx preview page) and 三维园 (sanweiyuan, GBK div.content).

biganzi exercises a body that is one run-on paragraph with the title glued in front,
cut mid-sentence with ``...``, buried between desktop-shortcut chrome and a paid-download
disclaimer.  sanweiyuan exercises a correctly declared GBK page with ``XX`` masks,
full-width indentation and a footer that repeats the title and the page's own URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from replica import chrome
from replica.base import PAD_MARKER, SiteTemplate, compile_patterns
from replica.chrome import esc
from replica.model import ArticleView, BodyPlan, ListView
from replica.paywall import preview_plan

DISCLAIMER = (
    "1、当您付费下载文档后,仅获得该文档的个人使用权,不代表取得版权,请勿转售或用于其他商业用途。",
    "2、本站所有内容均由合作方或网友上传,我们无法保证文档内容的完整性和准确性,付费前请先预览确认。",
    "3、如文档内容存在违规,或涉及侵权等问题,可通过页面上的举报入口反馈,我们会尽快核实处理。",
)
INDENT = "\u3000\u3000"
SOURCE_NOTE = "《{title}》由互联网用户分享整理。文章地址:{url}"


class Biganzi(SiteTemplate):
    """笔杆子家园网: every article is a truncated .docx preview."""

    name = "biganzi"
    title = "笔杆子家园网"
    host = "www.biganzi.example"
    mask = "**"
    id_start = 1830400
    article_pattern = r"/p-\d+\.html$"
    pagination_pattern = r"/doc/jianghua/(?:\d+\.html)?$"
    robots_disallow = ("/admin/", "/user/", "/pay/")
    jammer = '<span style="display: none;">笔杆子家园网</span>'
    body_container = '<div class="doc-text">'
    body_container_v2 = '<div class="doc-body">'
    decoys = (
        ("/doc/zongjie/", "工作总结"),
        ("/doc/xinde/", "心得体会"),
        ("/user/login.html", "登录"),
        ("/user/vip.html", "开通VIP"),
        ("/doc/zongjie/2.html", "总结第2页"),
        ("/help/", "帮助"),
    )

    def article_path(self, aid: int, published: datetime) -> str:
        return f"/p-{aid}.html"

    def list_path(self, page: int) -> str:
        return "/doc/jianghua/" if page <= 1 else f"/doc/jianghua/{page}.html"

    def plan(self, aid: int, paragraphs: Sequence[str]) -> BodyPlan:
        return preview_plan(paragraphs, self.rng("preview", aid))

    def published_at(self, published: datetime) -> datetime | None:
        return None

    def _head(self, title: str) -> str:
        return (
            '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{esc(title)} - 笔杆子家园网</title>\n"
            "<style>.doc-title .vip{color:#f60}.page-img{border:1px solid #ddd;margin:8px 0}"
            ".notice li{list-style:none}.fixed-tools{position:fixed;right:0}</style>\n"
            '<script src="/js/common.js"></script>\n</head>\n<body>\n'
            '<div class="desk-tip"><p>电脑桌面</p><p>添加笔杆子家园网到电脑桌面</p>'
            '<p>安装后可在桌面一键打开</p><a href="/desktop.php">添加</a></div>\n'
            '<div class="header"><a class="logo" href="/">笔杆子家园网</a><div class="nav"><a href="/">首页</a>'
            f'<a href="{self.list_path(1)}">讲话发言</a>{self.decoy_html("")}</div></div>\n'
        )

    def _side(self, view: ArticleView | ListView, key: int | str) -> str:
        related, hot = self.sidebar_links(view, key)
        return (
            f'<aside class="side">{self.ads_html(view, key)}'
            f'<div class="box"><h3>相关文章</h3>{chrome.link_list(related, "rel")}</div>'
            f'<div class="box"><h3>热门文章</h3>{chrome.link_list(hot, "hot")}</div>{PAD_MARKER}</aside>\n'
        )

    def _tail(self, view: ArticleView | ListView) -> str:
        return (
            f'<div class="friend">友情链接:{chrome.friend_links(self.name, view.noise)}</div>\n'
            '<div class="fixed-tools"><div class="frag">碎片内容</div><div class="confirm">确认删除?</div>'
            '<div class="qq">QQ<ul><li>QQ点击这里给我发消息</li></ul></div><a href="#top">回到顶部</a></div>\n'
            "</body>\n</html>\n"
        )

    def render_article(self, view: ArticleView) -> str:
        title = view.title
        name = f"{title}.docx"
        pages = "\n".join(f'<div class="page-img"><p>{esc(name)}_第{n}页</p></div>' for n in (1, 2, 3))
        (body,) = self.body_paragraphs(view)
        notice = "".join(f"<li>{esc(x)}</li>" for x in DISCLAIMER)
        views = chrome.view_count(self.name, view.aid, view.noise)
        main = (
            '<div class="main"><div class="doc-main">\n'
            f'<h1 class="doc-title">{esc(name)}<span class="vip">VIP专享</span><span class="free">VIP免费</span></h1>\n'
            f'<div class="doc-meta">浏览次数:{views} 页数:3 格式:docx</div>\n'
            f'<div class="doc-pages">\n{pages}\n</div>\n'
            f'<div class="doc-text"><p>{esc(title)}{body}...</p></div>\n'
            f'<div class="notice"><ol>{notice}</ol></div>\n'
            f"{self.ads_html(view, f'in{view.aid}', 'ad')}</div>\n"
        )
        page = self._head(name) + main + self._side(view, view.aid) + "</div>\n" + self._tail(view)
        return self.finish(page, view, view.aid)

    def render_list(self, view: ListView) -> str:
        items = "\n".join(
            f'<li><a href="{esc(item.link.path)}" target="_blank">{esc(item.link.title)}</a>'
            f'<span class="fmt">docx</span><span class="pages">3页</span></li>'
            for item in view.items
        )
        pages = chrome.pagination(view.page, view.pages, self.list_path)
        key = f"list{view.page}"
        page = self._head(f"讲话发言 第{view.page}页")
        page += (
            f'<div class="main"><div class="doc-list"><h2>讲话发言</h2><ul>\n{items}\n</ul>'
            f'<div class="pager">{pages}</div></div>\n'
        )
        page += self._side(view, key) + "</div>\n" + self._tail(view)
        return self.finish(page, view, key)


class Sanweiyuan(SiteTemplate):
    """三维园: GBK, no date, ``XX``/``×××`` masks, ``　　`` indentation, source footer."""

    name = "sanweiyuan"
    title = "三维园"
    host = "www.sanweiyuan.com"
    encoding = "gbk"
    content_type = "text/html; charset=gbk"
    meta_charset = "gbk"
    mask = "XX"
    id_start = 65120
    article_pattern = r"/news/\d+\.html$"
    pagination_pattern = r"/news/(?:list_\d+\.html)?$"
    robots_disallow = ("/admin/", "/search/")
    jammer = '<i style="display:none">三维园</i>'
    body_container = '<div class="content">'
    body_container_v2 = '<div class="text">'
    decoys = (
        ("/zuowen/", "作文"),
        ("/zuowen/30211.html", "优秀作文"),
        ("/news/hot.html", "排行榜"),
        ("/search/", "搜索"),
        ("/about.html", "关于我们"),
    )

    def article_path(self, aid: int, published: datetime) -> str:
        return f"/news/{aid}.html"

    def list_path(self, page: int) -> str:
        return "/news/" if page <= 1 else f"/news/list_{page}.html"

    def published_at(self, published: datetime) -> datetime | None:
        return None

    def _head(self, title: str) -> str:
        return (
            "<!DOCTYPE html>\n<html>\n<head>\n"
            f'<meta http-equiv="Content-Type" content="text/html; charset={self.meta_charset}">\n'
            f"<title>{esc(title)}_三维园</title>\n"
            "<style>.content p{line-height:2;margin:0 0 10px}.right .box{margin-bottom:10px}</style>\n"
            '<script type="text/javascript">var site="sanweiyuan";</script>\n</head>\n<body>\n'
            f'<div class="top"><div class="logo"><a href="/">三维园</a></div><div class="nav"><a href="/">首页</a>'
            f'<a href="{self.list_path(1)}">讲话稿</a>{self.decoy_html("")}</div></div>\n'
        )

    def _right(self, view: ArticleView | ListView, key: int | str) -> str:
        related, hot = self.sidebar_links(view, key)
        return (
            f'<div class="right">{self.ads_html(view, key)}'
            f'<div class="box"><h3>相关文章</h3>{chrome.link_list(related, "rel")}</div>'
            f'<div class="box"><h3>热门文章</h3>{chrome.link_list(hot, "hot")}</div>{PAD_MARKER}</div>\n'
        )

    def _foot(self, view: ArticleView | ListView) -> str:
        return (
            f'<div class="foot">友情链接:{chrome.friend_links(self.name, view.noise)}<br>'
            "Copyright 三维园 www.sanweiyuan.com</div>\n</body>\n</html>\n"
        )

    def render_article(self, view: ArticleView) -> str:
        title = view.title
        paragraphs = "\n".join(f"<p>{p}</p>" for p in self.body_paragraphs(view, INDENT))
        note = SOURCE_NOTE.format(title=title, url=view.base_url + view.path)
        views = chrome.view_count(self.name, view.aid, view.noise)
        links = "".join(
            f'<a href="{esc(x.path)}">{label}{esc(x.title)}</a><br>'
            for label, x in (("上一篇:", view.prev), ("下一篇:", view.next))
            if x
        )
        main = (
            f'<div class="main"><div class="left"><h1>{esc(title)}</h1>\n'
            f'<div class="info">阅读:{views}次</div>\n'
            f'<div class="content">\n{paragraphs}\n<p class="from">{esc(note)}</p>\n</div>\n'
            f'<div class="page-link">{links}</div></div>\n'
        )
        page = self._head(title) + main + self._right(view, view.aid) + "</div>\n" + self._foot(view)
        return self.finish(page, view, view.aid)

    def render_list(self, view: ListView) -> str:
        items = "\n".join(
            f'<dl><dt><a href="{esc(item.link.path)}">{esc(item.link.title)}</a></dt><dd>{esc(item.summary)}</dd></dl>'
            for item in view.items
        )
        pages = chrome.pagination(view.page, view.pages, self.list_path)
        key = f"list{view.page}"
        page = self._head(f"讲话稿_第{view.page}页")
        page += f'<div class="main"><div class="left"><div class="list">\n{items}\n</div>'
        page += f'<div class="pages">{pages}</div></div>\n' + self._right(view, key) + "</div>\n" + self._foot(view)
        return self.finish(page, view, key)


compile_patterns(Biganzi, r"^/p-(?P<aid>\d+)\.html$", r"^/doc/jianghua/(?:(?P<page>\d+)\.html)?$")
compile_patterns(Sanweiyuan, r"^/news/(?P<aid>\d+)\.html$", r"^/news/(?:list_(?P<page>\d+)\.html)?$")
