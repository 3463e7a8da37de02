"""The replica site templates, in their fixed order.

The five seed sites are served by default (``SITE_NAMES``); opt-in sites
(``OPT_IN``: the sixth, an older table-layout CMS added by config only) are
served when asked for by name. The order matters: ``ReplicaServer(port=P)``
gives the served sites ports P, P+1, ... in ``ALL_SITE_NAMES`` order, and each
site's catalogue is seeded by its position there.
"""

from __future__ import annotations

from replica.base import SiteTemplate
from replica.site_cms import Lixin, Zhongyi
from replica.site_misc import Biganzi, Sanweiyuan
from replica.site_oldcms import Gwzj
from replica.site_wm114 import Wm114

_SEED = (Wm114(), Zhongyi(), Biganzi(), Lixin(), Sanweiyuan())
_OPT_IN = (Gwzj(),)
SITES: dict[str, SiteTemplate] = {t.name: t for t in (*_SEED, *_OPT_IN)}
SITE_NAMES: tuple[str, ...] = tuple(t.name for t in _SEED)
"""The five seed sites: served by default."""
OPT_IN: tuple[str, ...] = tuple(t.name for t in _OPT_IN)
"""Sites served only when named (``sites=[...]``)."""
ALL_SITE_NAMES: tuple[str, ...] = (*SITE_NAMES, *OPT_IN)


def get_site(name: str) -> SiteTemplate:
    """The template for a site key, with a clear error for unknown keys."""
    try:
        return SITES[name]
    except KeyError:
        raise KeyError(f"unknown replica site {name!r}; choose from {', '.join(ALL_SITE_NAMES)}") from None


__all__ = ["ALL_SITE_NAMES", "OPT_IN", "SITES", "SITE_NAMES", "SiteTemplate", "get_site"]
