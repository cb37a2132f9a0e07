"""The store's parameter styles (`?` and `:name`, as sqlite3 takes them) as PostgreSQL's `$n`.

Only placeholders in SQL proper are converted: quoted strings (`E'...'` with its backslash
escapes and `$tag$...$tag$` dollar quoting included), quoted identifiers, comments and `::` casts
are left as they are. A statement uses one style; a `:name` used twice becomes one
`$n`. Conversions are cached, since the store sends the same few statements again and again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from bot.store.db import Params, SqlValue

# The opening of a dollar-quoted string: $$ or $tag$ (a tag is an identifier without `$`).
_DOLLAR_QUOTE = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")


@dataclass(frozen=True, slots=True)
class Numbered:
    """A statement with `$n` placeholders, and how to order its parameters.

    `names` lists the `:name` of each `$n` in order; `count` is the number of `?` (or of names).
    """

    sql: str
    names: tuple[str, ...]
    count: int

    def arguments(self, params: Params) -> list[SqlValue]:
        """`params` as the positional list the `$n` placeholders take.

        Raises:
            ValueError: the parameters do not fit the statement's placeholders.
        """
        if isinstance(params, Mapping):
            if not self.names and self.count:
                raise ValueError(f"named parameters for a statement with `?`: {self.sql}")
            missing = [name for name in self.names if name not in params]
            if missing:
                raise ValueError(f"no value for :{', :'.join(missing)} in {self.sql}")
            return [params[name] for name in self.names]
        if self.names:
            raise ValueError(f"positional parameters for a statement with `:name`: {self.sql}")
        values = list(params)
        if len(values) != self.count:
            raise ValueError(f"{len(values)} parameters for {self.count} placeholders: {self.sql}")
        return values


@lru_cache(maxsize=1024)
def numbered(sql: str) -> Numbered:
    """Convert `sql` from `?` or `:name` placeholders to `$1, $2, ...`.

    Raises:
        ValueError: the statement mixes `?` and `:name`, or a quote or comment is not closed.
    """
    out: list[str] = []
    names: list[str] = []
    positional = 0
    i, end = 0, len(sql)
    while i < end:
        char = sql[i]
        if (skip := _literal_end(sql, i)) is not None:
            out.append(sql[i:skip])
            i = skip
        elif char == "?":
            positional += 1
            out.append(f"${positional}")
            i += 1
        elif char == ":" and i + 1 < end and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            stop = i + 1
            while stop < end and (sql[stop].isalnum() or sql[stop] == "_"):
                stop += 1
            name = sql[i + 1 : stop]
            if name not in names:
                names.append(name)
            out.append(f"${names.index(name) + 1}")
            i = stop
        else:
            out.append(char)
            i += 1
    if positional and names:
        raise ValueError(f"a statement mixes `?` and `:name` placeholders: {sql!r}")
    return Numbered("".join(out), tuple(names), positional or len(names))


def _literal_end(sql: str, i: int) -> int | None:
    """Where the string, quoted identifier, comment or `::` starting at `i` ends (the index
    after it), or None if none starts there.

    Raises:
        ValueError: it is not closed.
    """
    char = sql[i]
    # A letter or `$` before a quote or `$` belongs to an identifier (`e'`, `a$b`), except for
    # the E of an escape string.
    after_word = i > 0 and (sql[i - 1].isalnum() or sql[i - 1] in "_$")
    if char in "Ee" and sql.startswith("'", i + 1) and not after_word:
        return _closing_quote(sql, i + 1, backslash=True) + 1
    if char in "'\"":
        return _closing_quote(sql, i) + 1
    if char == "$" and not after_word and (tag := _DOLLAR_QUOTE.match(sql, i)):
        close = sql.find(tag.group(), tag.end())
        if close == -1:
            raise ValueError(f"unclosed {tag.group()} in {sql!r}")
        return close + len(tag.group())
    if sql.startswith("--", i):
        newline = sql.find("\n", i)
        return len(sql) if newline == -1 else newline
    if sql.startswith("/*", i):
        close = sql.find("*/", i + 2)
        if close == -1:
            raise ValueError(f"unclosed comment in {sql!r}")
        return close + 2
    if sql.startswith("::", i):
        return i + 2
    return None


def _closing_quote(sql: str, start: int, *, backslash: bool = False) -> int:
    """The index of the quote closing the one at `start` (a doubled quote is an escape; so is a
    backslash before any character, in an `E'...'` string)."""
    quote = sql[start]
    i = start + 1
    while True:
        close = sql.find(quote, i)
        if close == -1:
            raise ValueError(f"unclosed {quote} in {sql!r}")
        if backslash and (escape := sql.find("\\", i, close)) != -1:
            i = escape + 2
            continue
        if sql.startswith(quote * 2, close):
            i = close + 2
            continue
        return close
