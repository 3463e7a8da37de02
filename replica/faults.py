"""Fault modes of the replica: what small, flaky, defensive servers really do.

A fault is set on one path of one site (``ReplicaServer.set_fault``) and is
served ``times`` times (``None``: until cleared). The crawler must record each
as data and go on with the rest of the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FAULT_KINDS = (
    "status",
    "redirect_loop",
    "redirect",
    "huge",
    "bad_bytes",
    "challenge",
    "truncated",
    "slow",
    "body",
    "link_flood",
)

CHALLENGE_PAGE = (
    "<html><head><meta charset='utf-8'><title>安全验证</title></head><body>"
    "<div class='verify'><h2>安全验证</h2><p>您的访问过于频繁,请完成验证后继续访问。</p>"
    "<p><img src='/captcha.png'> 请输入验证码:<input name='code'></p></div></body></html>"
)


@dataclass
class Fault:
    """One configured fault; ``times`` counts down, ``None`` never does."""

    kind: str
    times: int | None = None
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    size_mb: int = 20
    delay: float = 0.0
    location: str = ""
    """``redirect``: where the 302 points (any URL, another host too)."""
    body: bytes = b""
    content_type: str = "application/octet-stream"
    """``body``: a fixed body and Content-Type (a PDF, an image, JSON at an article URL)."""
    count: int = 0
    """``link_flood``: a list page holding this many article links (ids past the catalogue: they answer 404)."""

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {', '.join(FAULT_KINDS)}")

    def use(self) -> bool:
        """Count one use; False once the fault is spent."""
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


def broken_gbk(text: str) -> bytes:
    """A GBK page with runs of bytes that are not GBK at all (lead bytes with invalid trails)."""
    good = text.encode("gbk", errors="replace")
    junk = b"\x81\x20\xfe\x7f\xff\xff\x80\x80" * 400
    middle = len(good) // 2
    return good[:middle] + junk + good[middle:]
