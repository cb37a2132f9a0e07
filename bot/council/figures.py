"""Numbers, money and durations as a council's locale writes them.

Babel gives each locale its own decimal sign, grouping and percent; the catalog places the
units ("$1.50" in English, "1,50 $" in Russian). A value is first rounded as Python's format
would round it, so English reads exactly as `f"{x:.2f}"` does.
"""

from __future__ import annotations

from decimal import Decimal

from babel import Locale
from babel.numbers import format_decimal, format_percent, parse_pattern

from bot.i18n import catalog_locale, localize, t

CURRENCY = "USD"
"""Every price and budget in the bot's config is in US dollars."""


def _babel(locale: str | None) -> str:
    # Babel knows far more locales than the bot has catalogs for; numbers follow the words.
    return catalog_locale(locale)


def count(value: int, locale: str | None) -> str:
    """A whole number with the locale's grouping: "12,345" or "12 345"."""
    return format_decimal(value, locale=_babel(locale))


def decimal(value: float, locale: str | None, digits: int, *, sign: bool = False) -> str:
    """A number with `digits` decimals and no grouping: "0.0123", "0,0123"; "+0.35" with
    `sign`."""
    rounded = Decimal(f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}")
    pattern = "0." + "0" * digits if digits else "0"
    if sign:
        pattern = f"+{pattern};-{pattern}"
    return format_decimal(rounded, format=pattern, locale=_babel(locale))


def plain(value: float, locale: str | None) -> str:
    """A number as `f"{value:g}"` writes it (no trailing zeros), in the locale's digits."""
    return format_decimal(Decimal(f"{value:g}"), format="0.######", locale=_babel(locale))


def percent(share: float, locale: str | None) -> str:
    """A share of one as a whole percentage: "36%", "36 %"."""
    whole = Decimal(f"{share * 100:.0f}") / 100
    return format_percent(whole, locale=_babel(locale))


def usd(value: float, locale: str | None, digits: int = 4) -> str:
    """An amount in US dollars: "$0.0123", "0,0123 $"."""
    return localize(t("figures.usd", amount=decimal(value, locale, digits)), locale)


def duration(seconds: float, locale: str | None, *, with_hours: bool = False) -> str:
    """A duration in minutes and seconds ("3m 05s", "42s"), or hours and minutes from an hour
    when `with_hours`."""
    minutes, secs = divmod(int(seconds), 60)
    if with_hours and minutes >= 60:
        hours, minutes = divmod(minutes, 60)
        text = t("figures.hours-minutes", hours=hours, minutes=f"{minutes:02d}")
    elif minutes:
        text = t("figures.minutes-seconds", minutes=minutes, seconds=f"{secs:02d}")
    else:
        text = t("figures.seconds", seconds=secs)
    return localize(text, locale)


def money(amount: float, locale: str | None, *, digits: int = 2) -> str:
    """US dollars in the locale's own currency pattern, grouped, with exactly `digits`
    decimals ("$1,234.50"; "$0.0012" with 4; "1 234,50 $" in Russian)."""
    where = Locale.parse(_babel(locale).replace("-", "_"))
    pattern = parse_pattern(where.currency_formats["standard"].pattern)
    # Costs of single calls are fractions of a cent: the currency's own 2 decimals hide them.
    pattern.frac_prec = (digits, digits)
    return str(pattern.apply(amount, where, currency=CURRENCY, currency_digits=False))


def number(value: float, locale: str | None) -> str:
    """A number with its digits grouped and every decimal it has ("1,234", "0.25")."""
    return format_decimal(value, locale=_babel(locale), decimal_quantization=False)
