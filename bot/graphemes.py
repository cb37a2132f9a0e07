"""Cutting text only between grapheme clusters: what a reader sees as one character.

An emoji ZWJ sequence (👨‍👩‍👧), a skin-toned emoji, a flag (two regional indicators), a letter
with combining marks (e + U+0301) or a Devanagari or Thai syllable is several code points; a cut
inside one leaves a broken glyph or a stray mark. Segmentation is the ``regex`` module's ``\\X``
(Unicode extended grapheme clusters, UAX #29).

Lengths stay counted in code points, Python's ``len``: Discord's API is written in Python and
measures its limits (2,000 for a message, the embed limits, 80 for a webhook name) the same way
(discord/discord-api-docs#1315: "the API calculates length based on the number of codepoints").
"""

from __future__ import annotations

import regex

_CLUSTER = regex.compile(r"\X")
_PREPEND = regex.compile(r"\p{Grapheme_Cluster_Break=Prepend}")


def clusters(text: str) -> list[str]:
    """The grapheme clusters of text, in order."""
    return _CLUSTER.findall(text)


def boundaries(text: str) -> set[int]:
    """Every index of text a cut may fall at: 0, the end, and each point between two clusters."""
    return {0, *(m.end() for m in _CLUSTER.finditer(text))}


def last_boundary(text: str, at_most: int) -> int:
    """The greatest cluster boundary of text at or before index ``at_most``.

    0 when the first cluster alone is longer than ``at_most``.
    """
    if at_most >= len(text):
        return len(text)
    # A boundary depends only on what comes before it and the one code point after it.
    best = 0
    for match in _CLUSTER.finditer(text, 0, at_most + 1):
        if match.end() > at_most:
            break
        best = match.end()
    return best


def clip(text: str, limit: int) -> str:
    """The longest run of whole clusters from the start of text that is at most ``limit`` long."""
    return text if len(text) <= limit else text[: last_boundary(text, limit)]


def ellipsize(text: str, limit: int, mark: str = "…") -> str:
    """Text, or as many whole clusters as fit in ``limit`` with ``mark`` after them."""
    if len(text) <= limit:
        return text
    return clip(text, max(0, limit - len(mark))).rstrip() + mark


def lstrip(text: str) -> str:
    """Text without leading whitespace, keeping a space that carries a combining mark."""
    start = 0
    for match in _CLUSTER.finditer(text):
        if not match.group().isspace():
            break
        start = match.end()
    return text[start:]


def rstrip(text: str) -> str:
    """Text without trailing whitespace, keeping whitespace that belongs to a cluster."""
    end = len(text.rstrip())
    # No whitespace extends the cluster before it, but a prepended mark (Arabic number sign and
    # the like) takes the code point after it into its own cluster.
    if 0 < end < len(text) and _PREPEND.match(text, end - 1):
        end += 1
    return text[:end]


def strip(text: str) -> str:
    """Text without surrounding whitespace, cut only between clusters."""
    return lstrip(rstrip(text))


def strip_clusters(text: str, chars: str) -> str:
    """Text without the leading and trailing clusters made only of `chars` (str.strip(chars)
    would take a space from the combining mark that rests on it)."""
    found = clusters(text)
    start, end = 0, len(found)
    while start < end and set(found[start]) <= set(chars):
        start += 1
    while end > start and set(found[end - 1]) <= set(chars):
        end -= 1
    return "".join(found[start:end])
