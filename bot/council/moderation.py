"""A guild's moderation rules for what the personas post, and the verdicts they give.

Webhook posts bypass Discord's AutoMod, so the bot applies rules of the same shape itself:
blocked keywords with AutoMod's wildcards, regular expressions, and an allow list. Each rule
either withholds a reply or shows it behind a spoiler with a content note.

Keyword matching follows Discord's "Keyword Matching Strategies" (docs: resources/auto-moderation,
Auto Moderation Rule Object): `cat` matches the whole word, `cat*` a word that starts with it,
`*cat` a word that ends with it, `*cat*` anywhere; keywords may be phrases, and matching ignores
case. Where AutoMod wants whitespace around a whole word, a Unicode word boundary is used here,
so punctuation ("cat!") or another script (Cyrillic, Greek) can't slip a word past it. Regular
expressions and the allow list keep AutoMod's limits (trigger metadata field limits: 60
characters a keyword, 260 a pattern, 10 patterns, 100 allowed keywords); an allowed keyword
exempts the text it covers, as AutoMod's `allow_list` does.

Text is compared after NFKC normalisation and case folding, with invisible format characters
and Discord's emphasis markers removed, so full-width letters, ligatures, zero-width
joiners or `c**a**t` don't bypass a rule. Patterns run under a time limit: one that takes too
long counts as a match, so a pathological pattern can neither stall a council nor let text
through.
"""

from __future__ import annotations

import logging
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

import regex
from pydantic import BaseModel, ConfigDict

from bot.council.models import Moderation
from bot.errors import UserFacingError
from bot.i18n import Text, t, tn

log = logging.getLogger(__name__)

KEYWORD_MAX_CHARS: Final = 60
KEYWORDS_MAX: Final = 1000
PATTERN_MAX_CHARS: Final = 260
PATTERNS_MAX: Final = 10
ALLOWED_MAX: Final = 100
CATEGORY_MAX_CHARS: Final = 60
# How long one pattern may take over one text; the text is a reply of a few thousand
# characters, which a sound pattern scans in well under a millisecond.
PATTERN_TIMEOUT_S: Final = 0.05
# A new pattern must get through these in time: texts that make the usual catastrophic
# patterns ("(a|aa)+b", "(.*?,){30}z") backtrack for seconds.
_PROBES: Final = ("a" * 40 + "!", "a," * 60, "Lorem ipsum dolor sit amet. " * 40)
WILDCARD: Final = "*"
RULES_SOURCE: Final = "rules"

# Categories the bot gives itself (a model names its own): stored as these codes, shown
# localized through `category_label`.
BLOCKED_WORD: Final = "blocked-word"
BLOCKED_PATTERN: Final = "blocked-pattern"
UNCHECKED: Final = "unchecked"
_CATEGORY_LABELS: Final = {
    BLOCKED_WORD: "council.moderation.category.blocked-word",
    BLOCKED_PATTERN: "council.moderation.category.blocked-pattern",
    UNCHECKED: "council.moderation.category.unchecked",
}

# Format characters (zero-width joiners, soft hyphens, bidi marks) and Discord's inline
# emphasis, which can split a word without changing how it reads.
_INVISIBLE = regex.compile(r"[\p{Cf}*_~|`]+")
_SPACES = regex.compile(r"\s+")


class RuleKind(StrEnum):
    """A blocked keyword (with AutoMod's wildcards) or a regular expression."""

    KEYWORD = "keyword"
    REGEX = "regex"


class RuleAction(StrEnum):
    """What a rule does to a reply it matches."""

    WITHHOLD = "withhold"
    SPOILER = "spoiler"


class ModerationRule(BaseModel):
    """One of a guild's rules, as stored."""

    model_config = ConfigDict(frozen=True)

    id: int
    guild_id: int
    kind: RuleKind
    pattern: str
    action: RuleAction = RuleAction.WITHHOLD
    # The content note shown for it ("spoilers for the finale"); None uses the kind's.
    category: str | None = None
    created_by: int | None = None
    created_at: datetime

    def describe(self) -> str:
        """The rule as hosts see it in the withheld list: kind, number and pattern."""
        return f"{self.kind} #{self.id}: {self.pattern}"


class ModerationPolicy(BaseModel):
    """A guild's rules and allow list."""

    model_config = ConfigDict(frozen=True)

    rules: tuple[ModerationRule, ...] = ()
    allowed: tuple[str, ...] = ()

    @property
    def keyword_count(self) -> int:
        """How many blocked keywords."""
        return sum(1 for r in self.rules if r.kind is RuleKind.KEYWORD)

    @property
    def pattern_count(self) -> int:
        """How many regular expressions."""
        return sum(1 for r in self.rules if r.kind is RuleKind.REGEX)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What moderation made of a text.

    `moderation` is ALLOWED, WITHHELD or SPOILER; `source` is "rules" or the moderation
    model's name (None when nothing checked it); `rule` names the guild rule that matched.
    """

    moderation: Moderation = Moderation.ALLOWED
    category: str | None = None
    source: str | None = None
    rule: str | None = None

    @property
    def is_allowed(self) -> bool:
        """True when the text may be shown as it is."""
        return self.moderation is Moderation.ALLOWED

    @property
    def is_withheld(self) -> bool:
        """True when the text must not be shown at all."""
        return self.moderation is Moderation.WITHHELD


_SEVERITY: Final = {Moderation.ALLOWED: 0, Moderation.SPOILER: 1, Moderation.WITHHELD: 2}


def stricter(first: Verdict, second: Verdict) -> Verdict:
    """The verdict that shows less of the text; the second (the later check, which names its
    source) when they are as strict."""
    return first if _SEVERITY[first.moderation] > _SEVERITY[second.moderation] else second


def fold(text: str) -> str:
    """Text as rules compare it: NFKC, invisible characters and emphasis gone, case folded."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold()


def keyword_regex(keyword: str) -> str:
    """The regular expression a keyword stands for, over `fold`ed text.

    A leading `*` lets the match start inside a word, a trailing one end inside a word;
    without them the match must start (end) at a word boundary. Spaces match any whitespace.
    """
    core = keyword.strip()
    starts_inside = core.startswith(WILDCARD)
    ends_inside = core.endswith(WILDCARD)
    words = fold(core.strip(WILDCARD)).split()
    body = r"\s+".join(regex.escape(word) for word in words)
    before = "" if starts_inside else r"(?<!\w)"
    after = "" if ends_inside else r"(?!\w)"
    return f"{before}{body}{after}"


class PolicyError(UserFacingError):
    """A rule or keyword a moderator asked for that can't be used, and why."""


def clean_keyword(keyword: str, *, what: str = "keyword") -> str:
    """A keyword as stored: trimmed, inner whitespace single spaces.

    Raises:
        PolicyError: it is too long, has nothing to match, or a `*` inside it.
    """
    cleaned = " ".join(keyword.split())
    if len(cleaned) > KEYWORD_MAX_CHARS:
        raise PolicyError(
            t("replies.moderation.keyword-too-long", keyword=cleaned[:20], limit=KEYWORD_MAX_CHARS)
        )
    core = cleaned.strip(WILDCARD)
    if WILDCARD in core:
        raise PolicyError(t("replies.moderation.keyword-inner-star", keyword=cleaned))
    if not fold(core).strip():
        raise PolicyError(t("replies.moderation.keyword-empty"))
    return cleaned


def clean_category(category: str | None) -> str | None:
    """A rule's content note, trimmed; None when empty.

    Raises:
        PolicyError: it is too long.
    """
    if category is None or not (cleaned := " ".join(category.split())):
        return None
    if len(cleaned) > CATEGORY_MAX_CHARS:
        raise PolicyError(tn("replies.moderation.category-too-long", CATEGORY_MAX_CHARS))
    return cleaned


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """A moderator's regular expression, compiled as rules run it (ignoring case).

    Raises:
        PolicyError: it is too long, invalid, matches empty text (so every reply), or is so
            slow on ordinary text that it would run out of time.
    """
    if len(pattern) > PATTERN_MAX_CHARS:
        raise PolicyError(tn("replies.moderation.pattern-too-long", PATTERN_MAX_CHARS))
    try:
        compiled = regex.compile(pattern, regex.IGNORECASE)
    except regex.error as exc:
        raise PolicyError(t("replies.moderation.pattern-invalid", error=str(exc))) from None
    if compiled.fullmatch("") is not None:
        raise PolicyError(t("replies.moderation.pattern-matches-nothing"))
    for probe in _PROBES:
        try:
            compiled.search(probe, timeout=PATTERN_TIMEOUT_S)
        except TimeoutError:
            raise PolicyError(t("replies.moderation.pattern-too-slow")) from None
    return compiled


def check_new_rule(policy: ModerationPolicy, kind: RuleKind, pattern: str) -> str:
    """The pattern of a rule to add to `policy`, cleaned; refuse what the policy can't take.

    Raises:
        PolicyError: the pattern is invalid, already a rule, or the policy is full.
    """
    if kind is RuleKind.KEYWORD:
        cleaned = clean_keyword(pattern)
        if policy.keyword_count >= KEYWORDS_MAX:
            raise PolicyError(tn("replies.moderation.too-many-keywords", KEYWORDS_MAX))
    else:
        cleaned = pattern.strip()
        compile_pattern(cleaned)
        if policy.pattern_count >= PATTERNS_MAX:
            raise PolicyError(tn("replies.moderation.too-many-patterns", PATTERNS_MAX))
    if any(r.kind is kind and r.pattern.casefold() == cleaned.casefold() for r in policy.rules):
        raise PolicyError(t("replies.moderation.already-a-rule", pattern=cleaned))
    return cleaned


def check_new_allowed(policy: ModerationPolicy, keyword: str) -> str:
    """A keyword to add to the allow list, cleaned.

    Raises:
        PolicyError: it is invalid, already allowed, or the allow list is full.
    """
    cleaned = clean_keyword(keyword)
    if any(a.casefold() == cleaned.casefold() for a in policy.allowed):
        raise PolicyError(t("replies.moderation.already-allowed", keyword=cleaned))
    if len(policy.allowed) >= ALLOWED_MAX:
        raise PolicyError(tn("replies.moderation.too-many-allowed", ALLOWED_MAX))
    return cleaned


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: ModerationRule
    pattern: regex.Pattern[str]


class RuleBook:
    """A policy compiled for checking: `check` a text against every rule at once.

    Keywords of one action are joined into one pattern, so a thousand of them cost one scan.
    """

    def __init__(
        self,
        policy: ModerationPolicy,
        *,
        timeout_s: float = PATTERN_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self._timeout_s = timeout_s
        self._clock = clock
        self._allowed = [regex.compile(keyword_regex(k)) for k in policy.allowed]
        self._keywords: dict[RuleAction, list[_Compiled]] = {a: [] for a in RuleAction}
        self._patterns: dict[RuleAction, list[_Compiled]] = {a: [] for a in RuleAction}
        for rule in policy.rules:
            try:
                if rule.kind is RuleKind.KEYWORD:
                    compiled = regex.compile(keyword_regex(rule.pattern))
                    self._keywords[rule.action].append(_Compiled(rule, compiled))
                else:
                    compiled = regex.compile(rule.pattern, regex.IGNORECASE)
                    self._patterns[rule.action].append(_Compiled(rule, compiled))
            except regex.error:
                # Validated when added; a stored rule that no longer compiles is skipped,
                # loudly, rather than stopping every council of the guild.
                log.warning(
                    "guild %d: moderation rule #%d does not compile", rule.guild_id, rule.id
                )
        self._joined = {
            action: regex.compile("|".join(f"(?:{c.pattern.pattern})" for c in rules))
            for action, rules in self._keywords.items()
            if rules
        }

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to check."""
        return not self.policy.rules

    def check(self, text: str) -> Verdict:
        """The strictest rule `text` breaks: withholding rules before spoiler rules."""
        if self.is_empty:
            return Verdict()
        folded = fold(text)
        allowed = self._allowed_spans(folded)
        for action in (RuleAction.WITHHOLD, RuleAction.SPOILER):
            hit = self._keyword_hit(action, folded, allowed) or self._pattern_hit(
                action, folded, allowed
            )
            if hit is not None:
                rule, note = hit
                default = BLOCKED_WORD if rule.kind is RuleKind.KEYWORD else BLOCKED_PATTERN
                moderation = (
                    Moderation.WITHHELD if action is RuleAction.WITHHOLD else Moderation.SPOILER
                )
                return Verdict(
                    moderation, rule.category or default, RULES_SOURCE, rule.describe() + note
                )
        return Verdict(source=RULES_SOURCE)

    def _allowed_spans(self, folded: str) -> list[tuple[int, int]]:
        return [
            m.span() for pattern in self._allowed for m in pattern.finditer(folded, overlapped=True)
        ]

    def _keyword_hit(
        self, action: RuleAction, folded: str, allowed: Sequence[tuple[int, int]]
    ) -> tuple[ModerationRule, str] | None:
        joined = self._joined.get(action)
        if joined is None:
            return None
        for match in joined.finditer(folded, overlapped=True):
            if _covered(match.span(), allowed):
                continue
            for compiled in self._keywords[action]:
                found = compiled.pattern.match(folded, match.start())
                if found is not None and found.end() == match.end():
                    return compiled.rule, ""
        return None

    def _pattern_hit(
        self, action: RuleAction, folded: str, allowed: Sequence[tuple[int, int]]
    ) -> tuple[ModerationRule, str] | None:
        for compiled in self._patterns[action]:
            try:
                for match in compiled.pattern.finditer(folded, timeout=self._timeout_s):
                    if not _covered(match.span(), allowed):
                        return compiled.rule, ""
            except TimeoutError:
                log.warning(
                    "guild %d: moderation pattern #%d took over %.3f s; treated as a match",
                    compiled.rule.guild_id,
                    compiled.rule.id,
                    self._timeout_s,
                )
                return compiled.rule, " (timed out)"
        return None


def _covered(span: tuple[int, int], allowed: Iterable[tuple[int, int]]) -> bool:
    """True when an allowed keyword's match contains the whole of `span`."""
    start, end = span
    return any(a <= start and end <= b for a, b in allowed)


def category_label(category: str | None) -> Text | str:
    """How a verdict's category reads: the bot's own codes localized, a model's as it named
    them."""
    if category is None:
        return t("council.moderation.category.unnamed")
    message_id = _CATEGORY_LABELS.get(category)
    return category if message_id is None else t(message_id)


def withheld_note(name: str, category: str | None) -> Text:
    """The line that stands in a withheld reply's place."""
    return t("council.moderation.withheld", name=name, category=category_label(category))


def content_note(category: str | None) -> Text:
    """The line above a reply shown behind spoilers."""
    return t("council.moderation.content-note", category=category_label(category))


def checks_line(policy: ModerationPolicy, model_name: str | None) -> Text:
    """What checks a council's replies, in one line, for its opening message."""
    rules: list[Text] = []
    if policy.keyword_count:
        rules.append(tn("council.moderation.checks.words", policy.keyword_count))
    if policy.pattern_count:
        rules.append(tn("council.moderation.checks.patterns", policy.pattern_count))
    if not rules and model_name is None:
        return t("council.moderation.checks.none")
    if len(rules) == 2:
        said: Text | None = t("council.moderation.checks.both", words=rules[0], patterns=rules[1])
    else:
        said = rules[0] if rules else None
    if model_name is None:
        return t("council.moderation.checks.rules", rules=said)
    if said is None:
        return t("council.moderation.checks.model", model=model_name)
    return t("council.moderation.checks.rules-and-model", rules=said, model=model_name)
