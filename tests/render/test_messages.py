"""Splitting, truncating and defusing untrusted model output for Discord."""

from __future__ import annotations

import random
import re

import pytest

from bot.render.messages import (
    PART_MARKER_RESERVE,
    defuse_masked_links,
    defuse_mentions,
    mark_parts,
    safe_reply_text,
    sanitise_username,
    split_for_discord,
    split_message,
    strip_invisible,
    truncate,
)

# --------------------------------------------------------------------------- split_message


def _code_free(text: str) -> str:
    """Text without fences, opening language tags and whitespace, for comparing content.

    Fences pair up as Discord reads them: every ``` toggles, wherever it is, and only an
    opening one takes a language tag (when a newline follows the tag directly).
    """
    parts: list[str] = []
    position, is_opening = 0, True
    for fence in re.finditer("```", text):
        parts.append(text[position : fence.start()])
        position = fence.end()
        tag = re.match(r"[A-Za-z0-9_+#.\-]*\n", text[position:]) if is_opening else None
        position += len(tag.group()) if tag else 0
        is_opening = not is_opening
    parts.append(text[position:])
    return "".join("".join(parts).split())


def test_short_text_is_one_chunk_stripped_of_surrounding_blank_space() -> None:
    assert split_message("  \n Hello there.\n\n ") == ["Hello there."]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t \n"])
def test_empty_or_whitespace_only_text_gives_no_chunks(text: str) -> None:
    assert split_message(text) == []


def test_splits_at_the_paragraph_break_rather_than_mid_paragraph() -> None:
    first = "First paragraph. " * 3
    second = "Second paragraph goes on. " * 3
    chunks = split_message(f"{first.strip()}\n\n{second.strip()}", 100)
    assert chunks == [first.strip(), second.strip()]


def test_falls_back_to_a_line_break_when_no_paragraph_break_fits() -> None:
    lines = [f"line number {i} of the list" for i in range(10)]
    chunks = split_message("\n".join(lines), 100)
    assert all(len(c) <= 100 for c in chunks)
    assert all(c.split("\n")[-1] in lines for c in chunks), "every chunk ends on a whole line"
    assert "\n".join(chunks) == "\n".join(lines)


def test_falls_back_to_a_sentence_end_when_no_line_break_fits() -> None:
    text = "The first sentence is here. The second one follows it! Is the third a question? Yes."
    chunks = split_message(text, 60)
    assert chunks[0].endswith(("here.", "it!"))
    assert " ".join(chunks) == text


def test_falls_back_to_a_word_boundary_inside_a_long_sentence() -> None:
    text = " ".join(f"word{i}" for i in range(40))
    chunks = split_message(text, 50)
    words = set(text.split())
    assert all(set(c.split()) <= words for c in chunks), "no word is cut in two"
    assert " ".join(chunks) == text


def test_cuts_a_word_longer_than_the_limit_hard() -> None:
    text = "x" * 250
    chunks = split_message(text, 100)
    assert chunks == ["x" * 100, "x" * 100, "x" * 50]


def test_every_chunk_fits_the_limit_minus_the_reserve() -> None:
    text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 100
    chunks = split_message(text, 300, reserve=40)
    assert len(chunks) > 1
    assert all(len(c) <= 260 for c in chunks)


def test_moves_a_code_block_whole_to_the_next_chunk_rather_than_cutting_it() -> None:
    code = "```py\n" + "\n".join(f"x{i} = {i}" for i in range(8)) + "\n```"
    text = "Some introduction that takes room.\n\n" + code
    chunks = split_message(text, len(code) + 10)
    assert chunks == ["Some introduction that takes room.", code]


def test_a_code_block_longer_than_the_limit_is_closed_and_reopened_with_its_language() -> None:
    body = "\n".join(f"value_{i} = compute({i})" for i in range(40))
    chunks = split_message(f"Here:\n```python\n{body}\n```\nDone.", 200)
    code_chunks = [c for c in chunks if "value_" in c]
    assert len(code_chunks) > 2
    for chunk in code_chunks:
        assert chunk.count("```") == 2, chunk
    for chunk in code_chunks[1:]:
        assert chunk.startswith("```python\n")
    for chunk in code_chunks[:-1]:
        assert chunk.endswith("\n```")
    assert "".join(map(_code_free, chunks)) == _code_free(f"Here:{body}Done.")


def test_a_code_block_without_language_is_reopened_with_a_bare_fence() -> None:
    body = "\n".join(f"step {i}" for i in range(60))
    chunks = split_message(f"```\n{body}\n```", 120)
    assert len(chunks) > 1
    assert all(c.startswith("```\n") and c.endswith("```") for c in chunks)


def test_code_indentation_survives_a_split_inside_a_code_block() -> None:
    body = "\n".join(f"    indented_{i}()" for i in range(30))
    chunks = split_message(f"```py\n{body}\n```", 150)
    assert chunks[1].startswith("```py\n    indented_")


def test_a_mid_line_fence_counts_as_a_code_block_as_in_discord() -> None:
    text = "Run ```" + " ".join(f"arg{i}" for i in range(40)) + "``` now."
    chunks = split_message(text, 80)
    assert all(c.count("```") % 2 == 0 for c in chunks)


def test_a_limit_without_room_for_a_fence_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        split_message("text", 40, reserve=20)


def test_random_markdown_splits_keep_content_limits_and_balanced_fences() -> None:
    pieces = ["alpha", "beta.", "Gamma!", "delta?", "\n", "\n\n", "```py\n", "\n```\n", "```"]
    pieces += ["  indented", "x" * 70, "é", "😀"]
    rng = random.Random(7)
    for _ in range(300):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 200)))
        budget = rng.choice([32, 50, 100, 400])
        chunks = split_message(text, budget)
        assert all(c.strip() and len(c) <= budget for c in chunks)
        assert "".join(map(_code_free, chunks)) == _code_free(text.strip())
        if text.count("```") % 2 == 0:
            assert all(c.count("```") % 2 == 0 for c in chunks), (text, budget)


# --------------------------------------------------------------------------- mark_parts


def test_a_single_chunk_gets_no_part_marker() -> None:
    assert mark_parts(["only"]) == ["only"]
    assert mark_parts([]) == []


def test_several_chunks_are_numbered() -> None:
    assert mark_parts(["a", "b", "c"]) == ["a *(1/3)*", "b *(2/3)*", "c *(3/3)*"]


def test_the_marker_goes_on_its_own_line_after_a_closing_fence() -> None:
    assert mark_parts(["```py\nx = 1\n```", "y"])[0] == "```py\nx = 1\n```\n*(1/2)*"


def test_marking_a_chunk_past_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="over 2000"):
        mark_parts(["x" * 1995, "y"])


def test_split_for_discord_reserves_room_for_markers_within_2000() -> None:
    text = ("A sentence of some length, repeated. " * 60 + "\n\n") * 5
    messages = split_for_discord(text)
    assert len(messages) > 2
    assert all(len(m) <= 2000 for m in messages)
    assert messages[-1].endswith(f"*({len(messages)}/{len(messages)})*")


def test_the_marker_reserve_covers_the_widest_marker_up_to_999_parts() -> None:
    widest = mark_parts(["```\nx\n```"] * 999)[-1].removeprefix("```\nx\n```")
    assert len(widest) == PART_MARKER_RESERVE


# --------------------------------------------------------------------------- truncate


def test_text_within_the_limit_is_not_truncated() -> None:
    assert truncate("short", 10) == "short"


def test_truncation_is_visible_and_within_the_limit() -> None:
    result = truncate("word " * 100, 60)
    assert len(result) <= 60
    assert result.endswith("… *(truncated)*")
    assert result.removesuffix("… *(truncated)*").split() == ["word"] * 9


def test_truncation_closes_a_code_fence_it_cuts_into() -> None:
    result = truncate("```py\n" + "a = 1\n" * 50 + "```", 80)
    assert len(result) <= 80
    assert result.count("```") == 2
    assert result.endswith("```\n… *(truncated)*")


def test_truncation_with_a_custom_marker() -> None:
    assert truncate("abcdefghijklmnop", 12, marker="[…]") == "abcdefghi[…]"


def test_a_limit_too_small_for_the_marker_is_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        truncate("x" * 100, 10)


# --------------------------------------------------------------------------- strip_invisible


@pytest.mark.parametrize(
    "char",
    [
        *map(chr, range(0x200B, 0x2010)),
        *map(chr, range(0x202A, 0x202F)),
        *map(chr, range(0x2060, 0x2065)),
        *map(chr, range(0x2066, 0x206A)),
        "\ufeff",
        "\x00",
        "\x07",
        "\x1b",
        "\x7f",
    ],
)
def test_invisible_and_control_characters_are_removed(char: str) -> None:
    assert strip_invisible(f"a{char}b") == "ab"


@pytest.mark.parametrize(
    "word",
    [
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian "I want": می‌خواهم
        "\u0915\u094d\u200c\u0937",  # Hindi: a half ka before ssa, not the conjunct क्ष
    ],
)
def test_a_non_joiner_inside_a_joining_scripts_word_is_spelling_and_kept(word: str) -> None:
    assert strip_invisible(word) == word


@pytest.mark.parametrize("text", ["a\u200cb", "\u0645\u200c b", "\u200c\u0645", "x\u200c\u0645"])
def test_a_non_joiner_anywhere_else_is_removed(text: str) -> None:
    assert "\u200c" not in strip_invisible(text)


def test_newlines_tabs_and_visible_unicode_are_kept() -> None:
    assert strip_invisible("a\tb\nc é 😀 中文") == "a\tb\nc é 😀 中文"


def test_carriage_returns_become_newlines() -> None:
    assert strip_invisible("one\r\ntwo\rthree") == "one\ntwo\nthree"


# --------------------------------------------------------------------------- defusing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi @everyone!", "hi \uff20everyone!"),
        ("@here look", "\uff20here look"),
        ("@Everyone", "\uff20Everyone"),
        ("ping <@123456789012345678>", "ping `<@123456789012345678>`"),
        ("nick <@!42>", "nick `<@!42>`"),
        ("role <@&42>", "role `<@&42>`"),
        ("channel <#42>", "channel `<#42>`"),
        ("mail me@example.org", "mail me@example.org"),
    ],
)
def test_mentions_are_defused(text: str, expected: str) -> None:
    assert defuse_mentions(text) == expected


def test_mentions_inside_code_are_left_alone() -> None:
    text = "`@everyone` and ```\n<@123> @here\n```"
    assert defuse_mentions(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[docs](https://example.org/a)", "docs (https://example.org/a)"),
        ("see [here](<https://evil.test/x>) now", "see here (https://evil.test/x) now"),
        ('[t](https://example.org "Title")', "t (https://example.org)"),
        (
            "[wiki](https://en.wikipedia.org/wiki/Foo_(bar))",
            "wiki (https://en.wikipedia.org/wiki/Foo_(bar))",
        ),
        ("[](https://example.org)", "https://example.org"),
        ("[https://bank.example](https://evil.test)", "https://bank.example (https://evil.test)"),
        ("plain https://example.org stays", "plain https://example.org stays"),
        ("a list [1] (see above)", "a list [1] (see above)"),
    ],
)
def test_masked_links_show_their_target(text: str, expected: str) -> None:
    assert defuse_masked_links(text) == expected


def test_masked_links_inside_code_are_left_alone() -> None:
    text = "```md\n[x](https://example.org)\n```"
    assert defuse_masked_links(text) == text


def test_safe_reply_text_strips_invisibles_before_defusing_what_they_hid() -> None:
    text = "@every\u200bone [click](https://evil.test) <@\u200b1>"
    assert safe_reply_text(text) == "\uff20everyone click (https://evil.test) `<@1>`"


# --------------------------------------------------------------------------- sanitise_username


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Claude", "Claude"),
        ("Discord Bot", "Disc-ord Bot"),
        ("CLYDE", "CLY-DE"),
        ("myclydediscord", "mycly-dedisc-ord"),
        ("  Gem\u200bini \n Pro  ", "Gemini Pro"),
        ("", "Councillor"),
        ("\u200b \u202e", "Councillor"),
    ],
)
def test_usernames_are_made_valid_and_stay_readable(name: str, expected: str) -> None:
    assert sanitise_username(name) == expected


def test_a_long_username_is_cut_to_80_characters() -> None:
    result = sanitise_username("Discord " * 20)
    assert 1 <= len(result) <= 80
    assert "discord" not in result.lower()


def test_a_taken_username_is_numbered_ignoring_case() -> None:
    assert sanitise_username("Claude", ["claude"]) == "Claude (2)"
    assert sanitise_username("Claude", ["CLAUDE", "claude (2)"]) == "Claude (3)"


def test_a_numbered_long_username_still_fits_80_characters() -> None:
    name = "N" * 80
    result = sanitise_username(name, [name])
    assert result == "N" * 76 + " (2)"
