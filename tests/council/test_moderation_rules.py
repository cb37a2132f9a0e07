"""A guild's moderation rules: AutoMod's wildcards, the allow list, regular expressions and their
limits, and the tricks that must not get a word past them."""

# ruff: noqa: RUF001  (some texts are Cyrillic or full-width on purpose)

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench.markdown_render import REPLY, keyword_book
from bot.council.models import Moderation
from bot.council.moderation import (
    PATTERNS_MAX,
    ModerationPolicy,
    ModerationRule,
    PolicyError,
    RuleAction,
    RuleBook,
    RuleKind,
    Verdict,
    check_new_allowed,
    check_new_rule,
    checks_line,
    compile_pattern,
    stricter,
)
from bot.i18n import localize

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _rule(
    pattern: str,
    kind: RuleKind = RuleKind.KEYWORD,
    action: RuleAction = RuleAction.WITHHOLD,
    rule_id: int = 1,
    category: str | None = None,
) -> ModerationRule:
    return ModerationRule(
        id=rule_id,
        guild_id=9,
        kind=kind,
        pattern=pattern,
        action=action,
        category=category,
        created_at=NOW,
    )


def _book(*rules: ModerationRule, allowed: tuple[str, ...] = (), **options) -> RuleBook:
    return RuleBook(ModerationPolicy(rules=rules, allowed=allowed), **options)


# Discord's own examples (Keyword Matching Strategies), and what a word boundary adds to them.
WILDCARDS = [
    # prefix: the word must start with the keyword
    ("cat*", "catch", True),
    ("cat*", "Catapult", True),
    ("cat*", "CAttLE", True),
    ("cat*", "the mat of a bobcat", False),
    ("the mat*", "see the matrix", True),
    # suffix: the word must end with the keyword
    ("*cat", "wildcat", True),
    ("*cat", "copyCat", True),
    ("*cat", "catapult", False),
    ("*the mat", "breathe mat", True),
    # anywhere
    ("*cat*", "location", True),
    ("*cat*", "eduCation", True),
    ("*cat*", "a dog", False),
    ("*the mat*", "breathe matter", True),
    # whole word (or phrase)
    ("cat", "cat", True),
    ("cat", "a cat!", True),
    ("cat", "(cat)", True),
    ("cat", "catch", False),
    ("cat", "bobcat", False),
    ("the mat", "on the mat now", True),
    ("the mat", "on the   mat now", True),
    ("the mat", "on the matrix", False),
    ("c++", "I like c++ a lot", True),
    # Unicode words: a Cyrillic word is a word too
    ("кот", "Кот спит.", True),
    ("кот", "котик спит", False),
    ("кот*", "котик спит", True),
    ("*кот", "бегемоткот", True),
    ("кот", "скотина", False),
]


@pytest.mark.parametrize(("keyword", "text", "is_hit"), WILDCARDS)
def test_keywords_match_as_automods_wildcards_say(keyword, text, is_hit):
    verdict = _book(_rule(keyword)).check(text)
    assert verdict.is_withheld is is_hit, verdict


@pytest.mark.parametrize(
    "text",
    [
        "ｃａｔ",  # full-width letters
        "c\u200bat",  # a zero-width space
        "c\u00adat",  # a soft hyphen
        "c**a**t",  # Discord emphasis inside the word
        "C_A_T",
        "ＣＡＴ!",
    ],
)
def test_simple_disguises_do_not_get_a_word_past_a_rule(text):
    assert _book(_rule("cat")).check(text).is_withheld


def test_a_hit_names_its_rule_and_category_and_withholding_beats_spoilers():
    book = _book(
        _rule("dragon*", action=RuleAction.SPOILER, rule_id=1, category="finale"),
        _rule("slur", rule_id=2),
        _rule(r"\d{3}-\d{4}", RuleKind.REGEX, rule_id=3),
    )
    assert book.check("Dragons fly.") == Verdict(
        Moderation.SPOILER, "finale", "rules", "keyword #1: dragon*"
    )
    assert book.check("Dragons and a slur.") == Verdict(
        Moderation.WITHHELD, "blocked-word", "rules", "keyword #2: slur"
    )
    assert book.check("Call 555-1234.") == Verdict(
        Moderation.WITHHELD, "blocked-pattern", "rules", r"regex #3: \d{3}-\d{4}"
    )
    assert book.check("Nothing here.") == Verdict(source="rules")
    assert _book().check("slur") == Verdict()


def test_an_allowed_keyword_exempts_only_the_text_it_covers():
    book = _book(_rule("*cat*"), allowed=("location", "*scat*"))
    assert not book.check("The location is fixed.").is_withheld
    assert not book.check("Scatter them.").is_withheld
    assert book.check("The location of the cat.").is_withheld
    assert book.check("Dislocation.").is_withheld  # "location" is a whole word, not a part
    regexes = _book(_rule("c.t", RuleKind.REGEX), allowed=("city",))
    assert not regexes.check("A city.").is_withheld
    assert regexes.check("A city and a cut.").is_withheld


def test_a_pattern_that_runs_out_of_time_counts_as_a_match_and_stalls_nothing():
    # Stored rules are not probed again; this one backtracks for seconds on the text.
    slow = _rule("(a|aa)+b", RuleKind.REGEX, rule_id=7)
    book = _book(slow, timeout_s=0.02)
    verdict = book.check("a" * 40 + "!")
    # "(timed out)": the check gave up at its limit instead of backtracking on.
    assert verdict == Verdict(
        Moderation.WITHHELD, "blocked-pattern", "rules", "regex #7: (a|aa)+b (timed out)"
    )


@pytest.mark.parametrize(
    ("pattern", "refusal"),
    [
        ("(a|aa)+b", "That pattern takes too long on ordinary text"),
        ("([", "That is not a valid regular expression"),
        ("x?", "That pattern matches empty text"),
        ("a" * 261, "A pattern can be at most 260 characters long"),
    ],
)
def test_a_pattern_that_cannot_be_a_rule_is_refused_with_the_reason(pattern, refusal):
    with pytest.raises(PolicyError) as refused:
        compile_pattern(pattern)
    assert refused.value.message.startswith(refusal)


def test_a_policy_keeps_automods_limits_and_refuses_duplicates():
    patterns = ModerationPolicy(
        rules=tuple(_rule(f"p{n}", RuleKind.REGEX, rule_id=n) for n in range(PATTERNS_MAX))
    )
    with pytest.raises(PolicyError, match="already has 10 patterns"):
        check_new_rule(patterns, RuleKind.REGEX, "q")
    assert check_new_rule(patterns, RuleKind.KEYWORD, "  spam   eggs ") == "spam eggs"
    with pytest.raises(PolicyError, match="already a rule"):
        check_new_rule(ModerationPolicy(rules=(_rule("Spam"),)), RuleKind.KEYWORD, "spam")
    with pytest.raises(PolicyError, match="at most 60 characters"):
        check_new_rule(ModerationPolicy(), RuleKind.KEYWORD, "x" * 61)
    with pytest.raises(PolicyError, match="a \\* may only start or end"):
        check_new_rule(ModerationPolicy(), RuleKind.KEYWORD, "ca*t")
    with pytest.raises(PolicyError, match="more than \\*"):
        check_new_rule(ModerationPolicy(), RuleKind.KEYWORD, "**")
    with pytest.raises(PolicyError, match="already allowed"):
        check_new_allowed(ModerationPolicy(allowed=("Location",)), "location")


def test_a_thousand_keywords_let_a_long_reply_through_and_catch_the_last_one():
    # How quickly it scans is the bench's "1,000-keyword scan" figure.
    book = keyword_book()
    assert not book.check(REPLY).is_withheld
    assert book.check(REPLY + " word999.").rule == "keyword #999: word999"


def test_the_stricter_of_two_verdicts_shows_less():
    spoiler = Verdict(Moderation.SPOILER, "finale", "rules")
    withheld = Verdict(Moderation.WITHHELD, "hate", "guard")
    assert stricter(Verdict(), spoiler) is spoiler
    assert stricter(spoiler, withheld) is withheld
    assert stricter(withheld, spoiler) is withheld
    by_model = Verdict(source="omni-moderation-latest")
    assert stricter(Verdict(source="rules"), by_model) is by_model  # the later check names itself


def test_the_opening_line_names_the_checks_in_the_councils_language():
    words = ModerationPolicy(rules=(_rule("a", rule_id=1), _rule("b", rule_id=2), _rule("c")))
    both = ModerationPolicy(rules=(*words.rules, _rule("x+", RuleKind.REGEX, rule_id=4)))
    assert str(checks_line(both, "omni-moderation-latest")) == (
        "Replies are checked by: 3 blocked words and 1 pattern; "
        "the moderation model omni-moderation-latest."
    )
    assert str(checks_line(words, None)) == "Replies are checked by: 3 blocked words."
    assert str(checks_line(ModerationPolicy(), None)) == "Replies are not checked beyond mentions."
    assert localize(checks_line(both, None), "ru") == (
        "Ответы проверяются по правилам сервера: 3 запрещённых слова и 1 шаблон."
    )
