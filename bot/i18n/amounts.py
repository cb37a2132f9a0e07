"""Numbers and sums of money written the way a member's language writes them (Babel, CLDR).

Formatted in the language of the catalog the surrounding message comes from, so a reply in
English reads "$1,234.50" and one in Russian "1 234,50 $", never a mix.
"""

from __future__ import annotations

from babel import Locale
from babel.numbers import format_decimal, parse_pattern

from bot.i18n.catalogs import catalog_locale

CURRENCY = "USD"
"""Every price and budget in the bot's config is in US dollars."""


def _babel_locale(locale: str | None) -> Locale:
    return Locale.parse(catalog_locale(locale).replace("-", "_"))


def money(amount: float, locale: str | None, *, digits: int = 2) -> str:
    """An amount of US dollars with exactly `digits` decimals ("$0.0012" with 4 in English)."""
    where = _babel_locale(locale)
    standard = where.currency_formats["standard"]
    pattern = parse_pattern(standard.pattern)
    # Costs of single calls are fractions of a cent: the currency's own 2 decimals hide them.
    pattern.frac_prec = (digits, digits)
    return str(pattern.apply(amount, where, currency=CURRENCY, currency_digits=False))


def number(value: float, locale: str | None) -> str:
    """A number with its digits grouped and every decimal it has ("1,234", "0.25")."""
    return format_decimal(value, locale=_babel_locale(locale), decimal_quantization=False)
