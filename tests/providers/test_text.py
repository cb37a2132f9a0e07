"""Reasoning is split from the visible text, and stop strings cut it, across any deltas."""

from __future__ import annotations

import pytest

from bot.providers.text import StopScanner, ThinkTagSplitter


def split(pieces: list[str]) -> tuple[str, str]:
    splitter = ThinkTagSplitter()
    visible, reasoning = [], []
    for piece in pieces:
        shown, thought = splitter.feed(piece)
        visible.append(shown)
        reasoning.append(thought)
    shown, thought = splitter.flush()
    return "".join([*visible, shown]), "".join([*reasoning, thought])


def pieces_of(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 4, 100])
def test_think_block_goes_to_reasoning_even_with_tags_split_across_deltas(size: int) -> None:
    text = "<think>Weigh both sides.</think>\n\nCars should go."
    assert split(pieces_of(text, size)) == ("Cars should go.", "Weigh both sides.")


def test_an_unclosed_think_at_the_start_keeps_everything_as_reasoning() -> None:
    assert split(["<thi", "nk>still thinking"]) == ("", "still thinking")


def test_text_that_only_looks_like_the_start_of_a_tag_is_released_at_the_end() -> None:
    assert split(["Compare a <", "b and a <th"]) == ("Compare a <b and a <th", "")


def test_think_blocks_later_in_the_text_are_also_removed() -> None:
    assert split(["Yes. <think>sure?</think> Yes."]) == ("Yes.  Yes.", "sure?")


def scan(stops: list[str], pieces: list[str]) -> tuple[str, bool]:
    scanner = StopScanner(stops)
    out = "".join(scanner.feed(piece) for piece in pieces) + scanner.flush()
    return out, scanner.is_stopped


@pytest.mark.parametrize("size", [1, 2, 5, 100])
def test_text_is_cut_before_a_stop_string_split_across_deltas(size: int) -> None:
    assert scan(["\nUser:"], pieces_of("I agree.\nUser: more", size)) == ("I agree.", True)


def test_the_earliest_of_several_stop_strings_wins() -> None:
    assert scan(["END", "##"], ["one ## two END"]) == ("one ", True)


def test_a_partial_stop_string_at_the_end_is_released() -> None:
    assert scan(["END"], ["the EN"]) == ("the EN", False)


def test_no_stop_strings_pass_everything_through() -> None:
    assert scan([], ["a", "b"]) == ("ab", False)
