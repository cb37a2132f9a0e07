"""Telling a PostgreSQL URL from a SQLite path, and showing one without its password.

Kept out of `bot.store` so that reading the settings loads no database driver.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

URL_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(location: object) -> bool:
    """Whether `location` names a PostgreSQL database rather than a SQLite file."""
    return isinstance(location, str) and location.startswith(URL_SCHEMES)


def redact(url: str) -> str:
    """`url` with its password shown as ***, for messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.rsplit("@", maxsplit=1)[-1]
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))
