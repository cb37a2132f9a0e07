"""The bot's own words in every language it ships: catalogs, lazy messages, locale choice.

Messages live in gettext `.po` catalogs under `locales/<language>/LC_MESSAGES/<domain>.po`,
one domain per area (`commands`, `replies`, `council`), keyed by symbolic ids such as
``start.opened``. Code names a message with `t` (or `tn` when it counts something) and renders
it for a locale where it is shown: a member's own locale for private replies, the council's
language (or the server's) for what the thread shows. English is complete and is the
fallback for every locale without a catalog.
"""

from bot.i18n.catalogs import (
    DEFAULT_LOCALE,
    Catalogs,
    catalog_locale,
    catalogs,
    localize,
    shipped_locales,
)
from bot.i18n.text import Text, t, tn

__all__ = [
    "DEFAULT_LOCALE",
    "Catalogs",
    "Text",
    "catalog_locale",
    "catalogs",
    "localize",
    "shipped_locales",
    "t",
    "tn",
]
