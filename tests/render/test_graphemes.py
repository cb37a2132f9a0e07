"""Splitting and truncation never cut inside a grapheme cluster, and stay within their limits."""

from __future__ import annotations

import regex
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.council.stance import CLAIM_MAX, LABEL_MAX, parse_footer
from bot.discord_ui.live import THREAD_NAME_MAX, thread_name
from bot.render.messages import (
    PART_MARKER_RESERVE,
    WEBHOOK_NAME_MAX,
    sanitise_username,
    split_for_discord,
    split_message,
    truncate,
)
from bot.render.summary import (
    DESCRIPTION_MAX,
    FIELD_NAME_MAX,
    FIELD_VALUE_MAX,
    Field,
    SummaryDoc,
    fit,
)

# Pieces that are one cluster of several code points, and plain text to put between them.
CLUSTERS = [
    "👨\u200d👩\u200d👧\u200d👦",  # family: emoji joined by ZWJ
    "🏳\ufe0f\u200d🌈",  # rainbow flag: variation selector and ZWJ
    "👍🏽",  # skin-tone modifier
    "🧑🏿\u200d🚀",  # skin tone inside a ZWJ sequence
    "🇫🇷",  # regional-indicator flags
    "🇯🇵",
    "e\u0301",  # e + combining acute
    "a\u0308\u0323",  # two combining marks
    "क्षि",  # Devanagari conjunct with a vowel sign
    "น้ำ",  # Thai
    "\u1100\u1161\u11a8",  # Hangul jamo syllable
    " \u0301",  # a combining mark on a space
]
PLAIN = ["word", "漢字", "и", " ", "  ", "\n", "\n\n", ". ", "! ", "x"]
SETTINGS = settings(max_examples=200, deadline=None)


def texts(*, extra: tuple[str, ...] = (), max_size: int = 300) -> st.SearchStrategy[str]:
    """Text mixing clusters and plain words; sometimes with no spaces to cut at (as in CJK)."""
    spaced = st.sampled_from([*CLUSTERS, *PLAIN, *extra])
    dense = st.sampled_from([*CLUSTERS[:-1], "漢字", "x", *extra])
    return st.one_of(st.lists(spaced, max_size=max_size), st.lists(dense, max_size=max_size)).map(
        "".join
    )


def clusters(text: str) -> list[str]:
    return regex.findall(r"\X", text)


def boundaries(text: str) -> set[int]:
    return {0, *(m.end() for m in regex.finditer(r"\X", text))}


def assert_whole_clusters(part: str, source: str, added: str = "") -> None:
    """Every cluster of ``part`` is one of ``source``'s, or made only of characters in ``added``."""
    known = set(clusters(source))
    for cluster in clusters(part):
        assert cluster in known or set(cluster) <= set(added), (cluster, part)


@SETTINGS
@given(texts(), st.integers(min_value=32, max_value=150))
@example("🇫🇷" * 40, 33)
@example("x" * 40 + " \u0301" + "x" * 40, 41)
def test_split_message_cuts_only_between_clusters_and_loses_nothing(text: str, limit: int) -> None:
    parts = split_message(text, limit)
    cuts = boundaries(text)
    pos = 0
    for part in parts:
        assert 0 < len(part) <= limit
        start = text.index(part, pos)
        # Only blank space lies between one part and the next.
        assert not text[pos:start].strip()
        assert start in cuts, (part, text)
        assert start + len(part) in cuts, (part, text)
        pos = start + len(part)
    assert not text[pos:].strip()
    assert "".join(text.split()) == "".join("".join(p.split()) for p in parts)


@SETTINGS
@given(texts(extra=("```", "```py\n", "`")), st.integers(min_value=60, max_value=200))
@example("👨\u200d👩\u200d👧\u200d👦" * 40, 60)
@example("```py\n" + "e\u0301" * 100 + "```", 61)
def test_split_for_discord_with_fences_and_markers_keeps_clusters_and_limits(
    text: str, limit: int
) -> None:
    parts = split_for_discord(text, limit)
    for part in parts:
        assert len(part) <= limit
        assert_whole_clusters(part, text, added="`py\n*()/0123456789 ")
    assert len(parts) == len(split_message(text, limit, reserve=PART_MARKER_RESERVE))


@SETTINGS
@given(texts(extra=("```",)), st.integers(min_value=20, max_value=200))
@example("👍🏽" * 40, 30)
def test_truncate_stays_within_its_limit_and_keeps_clusters(text: str, limit: int) -> None:
    marker = "… *(truncated)*"
    result = truncate(text, limit, marker)
    assert len(result) <= limit
    if result == text:
        return
    assert result.endswith(marker)
    kept = result[: -len(marker)]
    assert_whole_clusters(kept, text, added="`\n")
    if "`" not in text:
        assert text.startswith(kept)
        assert len(kept) in boundaries(text)


@SETTINGS
@given(texts(max_size=80), st.lists(texts(max_size=40), max_size=3))
@example("न्ना" * 30, [])
def test_sanitise_username_stays_within_1_to_80_and_keeps_clusters(
    name: str, taken: list[str]
) -> None:
    first = sanitise_username(name)
    result = sanitise_username(name, taken=[first, *taken])
    for username in (first, result):
        assert 1 <= len(username) <= WEBHOOK_NAME_MAX
        assert "\n" not in username
        assert_whole_clusters(username, name, added="Councillor (0123456789)-")


def test_sanitise_username_keeps_emoji_joined_by_zwj() -> None:
    family = "👨\u200d👩\u200d👧\u200d👦"
    assert sanitise_username(f"{family} Family") == f"{family} Family"
    # Outside an emoji sequence a zero-width joiner only hides things, and still goes.
    assert sanitise_username("Dis\u200dcord") == "Disc-ord"


@SETTINGS
@given(texts(max_size=150))
@example("👨\u200d👩\u200d👧\u200d👦" * 30)
def test_thread_name_stays_within_100_and_keeps_clusters(topic: str) -> None:
    name = thread_name(topic)
    assert 1 <= len(name) <= THREAD_NAME_MAX
    assert_whole_clusters(name, topic, added="Council… ")


@SETTINGS
@given(texts(max_size=120), texts(max_size=900), texts(max_size=1500))
@example("e\u0301" * 50, "🇫🇷" * 400, "x")
def test_summary_fit_clips_every_part_between_clusters(
    name: str, value: str, description: str
) -> None:
    doc = SummaryDoc("Council #1: summary", description * 4, [Field(name * 3, value * 2)] * 6)
    fitted = fit(doc)
    assert len(fitted.description) <= DESCRIPTION_MAX
    assert_whole_clusters(fitted.description, doc.description, added="…")
    for f in fitted.fields:
        assert len(f.name) <= FIELD_NAME_MAX
        assert len(f.value) <= FIELD_VALUE_MAX
        assert_whole_clusters(f.name, name * 3, added="…")
        assert_whole_clusters(f.value, value * 2, added="…")


def _one_line(text: str) -> str:
    return " ".join(text.split())


@given(texts(max_size=120).map(_one_line).filter(lambda t: t.strip(" .")), texts(max_size=400))
@example(". \u0301", "")  # the space under the accent is one cluster with it: kept whole
@SETTINGS
def test_a_stance_footer_is_clipped_between_clusters(label: str, claim: str) -> None:
    claim = _one_line(claim)
    footer = parse_footer(f"An answer.\n[stance: {label} | claim: {claim} | changed: no]")
    assert footer is not None
    assert len(footer.label) <= LABEL_MAX
    assert len(footer.claim) <= CLAIM_MAX
    assert_whole_clusters(footer.label, label.lower())
    assert_whole_clusters(footer.claim, claim)
