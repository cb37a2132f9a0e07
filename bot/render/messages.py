"""Discord-safe text from untrusted model output: splitting, truncation and defusing.

Everything here is pure string work. Sending still uses ``allowed_mentions=none``; the defusing
functions are defence in depth, so that the text also *reads* harmlessly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

import regex

from bot import graphemes

MESSAGE_LIMIT = 2000
"""Discord's limit on a message's content, in code points (see `bot.graphemes`)."""

PART_MARKER_RESERVE = 12
"""Room `mark_parts` needs at most, for up to 999 parts: len("\\n*(999/999)*")."""

WEBHOOK_NAME_MAX = 80
FALLBACK_USERNAME = "Councillor"

# Enough for a chunk that reopens a fence (at most "```" + 16-char tag + newline) and closes
# it again ("\n```") to still hold some code.
_MIN_BUDGET = 32
# Discord takes a language tag only directly after the opening ``` and before a newline; longer
# tags than this are rare enough to be treated as code, so a reopened fence stays short.
_OPENING_TAG = re.compile(r"([A-Za-z0-9_+#.\-]{0,16})\n")
_FENCE_CLOSE = "\n```"

# Scripts in which a zero-width non-joiner changes how a word is written.
_JOINING_SCRIPTS = "".join(
    rf"\p{{{script}}}"
    for script in (
        "Arabic", "Syriac", "Nko", "Mongolian", "Devanagari", "Bengali", "Gurmukhi", "Gujarati",
        "Oriya", "Tamil", "Telugu", "Kannada", "Malayalam", "Sinhala",
    )
)  # fmt: skip
_INVISIBLE = regex.compile(
    # A zero-width joiner between two emoji makes one emoji of them (👨‍👩‍👧); anywhere else it
    # only hides things, like every other zero-width character.
    r"\u200d(?!(?<=\p{Extended_Pictographic}\p{Grapheme_Cluster_Break=Extend}*\u200d)"
    r"\p{Extended_Pictographic})"
    # A zero-width non-joiner between two letters of a script that joins or forms conjuncts is
    # spelling: Persian writes می‌خواهم with one, Hindi and Bengali use it to stop a conjunct.
    rf"|\u200c(?!(?<=[{_JOINING_SCRIPTS}]\p{{M}}*\u200c)[{_JOINING_SCRIPTS}])"
    "|["
    "\x00-\x08\x0b-\x1f\x7f"  # C0 controls except \t and \n, and DEL
    "\x80-\x9f"  # C1 controls
    "\u061c\u180e"  # Arabic letter mark, Mongolian vowel separator
    "\u200b\u200e\u200f"  # zero-width space, LRM, RLM
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u2064"  # word joiner, invisible operators
    "\u2066-\u2069"  # bidi isolates
    "\ufeff"  # zero-width no-break space (BOM)
    "]"
)

# Fenced blocks (closed or running to the end) and inline code spans: Discord renders neither
# mentions nor links inside them, so the defusers leave them alone.
_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]+`", re.DOTALL)
_EVERYONE = re.compile(r"@(everyone|here)", re.IGNORECASE)
_MENTION = re.compile(r"<(?:@[!&]?|#)\d{1,20}>")
_MASKED_LINK = re.compile(
    r"\[(?P<label>[^\[\]\n]*)\]"
    r"\(\s*<?(?P<url>[A-Za-z][A-Za-z0-9+.\-]*://(?:[^\s()<>]|\([^\s()<>]*\))+)>?"
    r"(?:\s+\"[^\"\n]*\")?\s*\)"
)
_BANNED_IN_NAMES = re.compile(r"discord|clyde", re.IGNORECASE)

_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*(?=\s)")
_WHITESPACE = re.compile(r"[ \t]+")


# --------------------------------------------------------------------------- splitting


@dataclass(frozen=True, slots=True)
class _Fence:
    """A fenced block in the text being split: where it opens and closes, and its reopener."""

    start: int  # the opening ```
    body: int  # the first character of the code, after the opening ``` and its language tag
    end: int  # just after the closing ```, or the text's end
    reopen: str  # "```lang" to start the next chunk with when a split falls inside
    is_closed: bool


def split_message(text: str, limit: int = MESSAGE_LIMIT, *, reserve: int = 0) -> list[str]:
    """Split text into chunks of at most ``limit - reserve`` characters, at natural boundaries.

    Prefers paragraph, then line, then sentence, then word boundaries, and avoids cutting inside
    a fenced code block. When a cut has to fall inside one, the chunk closes the fence and the
    next chunk reopens it with the same language tag. Chunks are stripped of surrounding blank
    space (code keeps its indentation); whitespace-only text gives no chunks.

    Raises:
        ValueError: if ``limit - reserve`` leaves too little room to make progress.
    """
    budget = limit - reserve
    if budget < _MIN_BUDGET:
        msg = f"limit - reserve must be at least {_MIN_BUDGET}, got {budget}"
        raise ValueError(msg)
    chunks: list[str] = []
    rest = graphemes.strip(text)
    reopen = ""
    while rest:
        candidate = f"{reopen}\n{rest}" if reopen else rest
        if len(candidate) <= budget:
            chunks.append(candidate)
            break
        cut, fence = _choose_cut(candidate, budget, min_cut=len(reopen) + 1 if reopen else 1)
        if fence is None:
            chunk, rest = graphemes.rstrip(candidate[:cut]), graphemes.strip(candidate[cut:])
            reopen = ""
        elif candidate[cut : fence.end].strip() == "```":
            # Only the closing line was left over: this chunk's added fence stands in for it.
            chunk = candidate[:cut].rstrip("\n") + _FENCE_CLOSE
            rest, reopen = graphemes.strip(candidate[fence.end :]), ""
        else:
            chunk = candidate[:cut].rstrip("\n") + _FENCE_CLOSE
            # Only newlines are dropped: leading spaces are code indentation.
            rest, reopen = graphemes.rstrip(candidate[cut:].lstrip("\n")), fence.reopen
        if chunk.strip():
            chunks.append(chunk)
    return chunks


def _choose_cut(text: str, budget: int, min_cut: int) -> tuple[int, _Fence | None]:
    """Where to end the next chunk of ``text``, and the fence the cut falls inside, if any."""
    fences = _find_fences(text)
    # No cut falls inside a grapheme cluster (an emoji sequence, a letter and its marks).
    between = graphemes.boundaries(text[: budget + 1])

    def fence_at(i: int) -> _Fence | None:
        return next((f for f in fences if f.start < i < f.end), None)

    def fits(i: int) -> bool:
        fence = fence_at(i)
        if fence is None:
            return i <= budget
        # Leave room to close the fence, and put some code in the block before closing it.
        return i <= budget - len(_FENCE_CLOSE) and bool(text[fence.body : i].strip())

    outside = [
        _paragraph_cuts(text, budget),
        _line_cuts(text, budget),
        _sentence_cuts(text, budget),
        _word_cuts(text, budget),
    ]
    # A cut that leaves a chunk under half full is a last resort among outside-fence cuts.
    for cuts in outside:
        best = _last(i for i in cuts if i >= budget // 2 and i in between and fence_at(i) is None)
        if best is not None:
            return best, None
    for cuts in outside:
        best = _last(i for i in cuts if i >= min_cut and i in between and fence_at(i) is None)
        if best is not None:
            return best, None
    inside: tuple[Iterable[int], ...] = (
        _line_cuts(text, budget),
        _word_cuts(text, budget),
        range(budget + 1),
    )
    for fallback in inside:
        best = _last(i for i in fallback if i > min_cut and i in between and fits(i))
        if best is not None:
            return best, fence_at(best)
    # Only a fence opening line longer than the budget gets here: cut it as plain text. A single
    # cluster longer than a whole message (marks stacked by the thousand) cannot be kept whole.
    cut = graphemes.last_boundary(text, budget)
    return (cut if cut >= min_cut else budget), None


def _last(cuts: Iterable[int]) -> int | None:
    """The last of some cut positions, or None when there are none."""
    best = None
    for i in cuts:
        best = i
    return best


def _paragraph_cuts(text: str, budget: int) -> list[int]:
    return [m.start() for m in re.finditer(r"\n[ \t]*\n", text[: budget + 1])]


def _line_cuts(text: str, budget: int) -> list[int]:
    return [m.start() for m in re.finditer(r"\n", text[: budget + 1])]


def _sentence_cuts(text: str, budget: int) -> list[int]:
    return [m.end() for m in _SENTENCE_END.finditer(text[: budget + 1])]


def _word_cuts(text: str, budget: int) -> list[int]:
    return [m.start() for m in re.finditer(r"\s", text[: budget + 1])]


def _find_fences(text: str) -> list[_Fence]:
    """The fenced blocks of ``text`` as Discord reads them: ``` pairs, wherever they are.

    Discord (unlike CommonMark) opens and closes a block at any ```, even mid-line, and takes a
    language tag only when the opening ``` is directly followed by one and a newline.
    """
    fences: list[_Fence] = []
    pos = 0
    while (start := text.find("```", pos)) != -1:
        tag = _OPENING_TAG.match(text, start + 3)
        body = tag.end() if tag else start + 3
        reopen = "```" + tag.group(1) if tag else "```"
        close = text.find("```", body)
        if close == -1:
            fences.append(_Fence(start, body, len(text), reopen, is_closed=False))
            break
        fences.append(_Fence(start, body, close + 3, reopen, is_closed=True))
        pos = close + 3
    return fences


def mark_parts(chunks: Sequence[str], *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Append a " *(2/3)*" part marker to each chunk when there is more than one.

    The marker goes on its own line after a closing code fence. Split with
    ``reserve=PART_MARKER_RESERVE`` so the marked chunks stay within ``limit``.

    Raises:
        ValueError: if a marked chunk would exceed ``limit`` (the split reserved too little).
    """
    if len(chunks) <= 1:
        return list(chunks)
    marked: list[str] = []
    for number, chunk in enumerate(chunks, start=1):
        last_line = chunk.rsplit("\n", 1)[-1]
        separator = "\n" if last_line.lstrip().startswith("```") else " "
        part = f"{chunk}{separator}*({number}/{len(chunks)})*"
        if len(part) > limit:
            msg = f"part {number} is {len(part)} characters with its marker, over {limit}"
            raise ValueError(msg)
        marked.append(part)
    return marked


def split_for_discord(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split text into messages of at most ``limit`` characters, marked "(n/m)" when several."""
    return mark_parts(split_message(text, limit, reserve=PART_MARKER_RESERVE), limit=limit)


def truncate(text: str, limit: int, marker: str = "… *(truncated)*") -> str:
    """Text cut to at most ``limit`` characters, ending in ``marker`` when anything was cut.

    Cuts at a word boundary when one is near, and closes a code fence left open by the cut.

    Raises:
        ValueError: if ``limit`` cannot hold the marker and a closing fence.
    """
    if len(text) <= limit:
        return text
    room = limit - len(marker)
    if room < len(_FENCE_CLOSE) + 1:
        msg = f"limit {limit} is too small for the marker {marker!r}"
        raise ValueError(msg)
    kept = _cut_at_word(text, room)
    if _has_open_fence(kept):
        # Close the fence, and put the marker on a line of its own after it.
        kept = _cut_at_word(text, room - len(_FENCE_CLOSE) - 1)
        if _has_open_fence(kept):
            kept = kept.rstrip("\n") + _FENCE_CLOSE + "\n"
    return kept + marker


def _has_open_fence(text: str) -> bool:
    fences = _find_fences(text)
    return bool(fences) and not fences[-1].is_closed


def _cut_at_word(text: str, room: int) -> str:
    """The first ``room`` characters of text, backed off to a word boundary in its latter half."""
    head = graphemes.clip(text, room)
    if len(text) > len(head) and not text[len(head)].isspace():
        # A whole line reads better than a whole word, if it does not waste half the room.
        for separator in ("\n", " "):
            boundary = head.rfind(separator)
            if boundary >= room // 2:
                head = head[: graphemes.last_boundary(head, boundary)]
                break
    return graphemes.rstrip(head)


# --------------------------------------------------------------------------- defusing


def strip_invisible(text: str) -> str:
    """Text without zero-width, bidi-control and control characters (keeps newlines and tabs).

    Carriage returns become newlines first, so CRLF and lone CR line breaks survive.
    """
    return _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _outside_code(text: str, transform: Callable[[str], str]) -> str:
    """Apply ``transform`` to the parts of text that are not code blocks or inline code."""
    parts: list[str] = []
    pos = 0
    for match in _CODE.finditer(text):
        parts += [transform(text[pos : match.start()]), match.group(0)]
        pos = match.end()
    parts.append(transform(text[pos:]))
    return "".join(parts)


def defuse_mentions(text: str) -> str:
    """Make @everyone/@here and user, role and channel mentions read as plain text.

    @everyone and @here get a fullwidth at sign (U+FF20); ``<@id>``, ``<@!id>``,
    ``<@&id>`` and ``<#id>`` are wrapped in backticks, which Discord shows verbatim. Code is left
    as it is, since Discord renders no mentions there.
    """

    def defuse(part: str) -> str:
        part = _EVERYONE.sub(lambda m: "\uff20" + m.group(1), part)
        return _MENTION.sub(lambda m: f"`{m.group(0)}`", part)

    return _outside_code(text, defuse)


def defuse_masked_links(text: str) -> str:
    """Turn masked links ``[label](https://x)`` into ``label (https://x)``.

    A label can then never disguise where a link goes. Code is left as it is.
    """

    def unmask(match: re.Match[str]) -> str:
        label, url = match.group("label").strip(), match.group("url")
        return f"{label} ({url})" if label else url

    return _outside_code(text, lambda part: _MASKED_LINK.sub(unmask, part))


def safe_reply_text(text: str) -> str:
    """Model output made safe to post: invisible characters, mentions and masked links defused."""
    return defuse_masked_links(defuse_mentions(strip_invisible(text)))


def sanitise_username(name: str, taken: Collection[str] = ()) -> str:
    """A valid, readable webhook username for a persona.

    1 to 80 characters on one line, no invisible characters, and "discord" or "clyde" (which
    Discord rejects in any case) broken up as "Disc-ord" / "Cly-de". An empty result becomes
    "Councillor". A name equal, ignoring case, to one in ``taken`` gets " (2)", " (3)", ...
    """
    clean = graphemes.strip(_WHITESPACE.sub(" ", strip_invisible(name).replace("\n", " ")))
    # Inserting "-" cannot create a new banned word, so one pass suffices.
    clean = _BANNED_IN_NAMES.sub(_break_word, clean)
    clean = graphemes.rstrip(graphemes.clip(clean, WEBHOOK_NAME_MAX)) or FALLBACK_USERNAME
    used = {t.casefold() for t in taken}
    candidate, number = clean, 1
    while candidate.casefold() in used:
        number += 1
        suffix = f" ({number})"
        candidate = graphemes.rstrip(graphemes.clip(clean, WEBHOOK_NAME_MAX - len(suffix))) + suffix
    return candidate


def _break_word(match: re.Match[str]) -> str:
    """ "Discord" -> "Disc-ord", "Clyde" -> "Cly-de", keeping the original case."""
    word = match.group(0)
    at = 4 if len(word) == len("discord") else 3
    return f"{word[:at]}-{word[at:]}"
