"""The five replica site templates, in their fixed order.

The order matters: ``ReplicaServer(port=P)`` gives the served sites ports P, P+1, ...
in this order.
"""

from __future__ import annotations

from replica.base import SiteTemplate
from replica.site_cms import Lixin, Zhongyi
from replica.site_misc import Biganzi, Sanweiyuan
from replica.site_wm114 import Wm114

SITES: dict[str, SiteTemplate] = {t.name: t for t in (Wm114(), Zhongyi(), Biganzi(), Lixin(), Sanweiyuan())}
SITE_NAMES: tuple[str, ...] = tuple(SITES)


def get_site(name: str) -> SiteTemplate:
    """The template for a site key, with a clear error for unknown keys."""
    try:
        return SITES[name]
    except KeyError:
        raise KeyError(f"unknown replica site {name!r}; choose from {', '.join(SITE_NAMES)}") from None


__all__ = ["SITES", "SITE_NAMES", "SiteTemplate", "get_site"]
