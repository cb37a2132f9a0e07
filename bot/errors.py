"""One error vocabulary for the whole bot.

Services raise these; the Discord command tree and the CLI each translate them in one place.
A `UserFacingError` carries a message a server member or operator can act on as it stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.i18n import Text, localize, t


class CouncilError(Exception):
    """Base of every error the bot raises on purpose."""


class UserFacingError(CouncilError):
    """An error whose message is safe and useful to show to the person who caused it.

    The message is a catalog `Text` (shown in each member's language) or, for words that are
    not the bot's own (an operator's config problem, a provider's error), a plain string.
    `message` is the English, for logs and the terminal.
    """

    def __init__(self, message: str | Text) -> None:
        super().__init__(str(message))
        self.text = message
        self.message = str(message)

    def localized(self, locale: str | None) -> str:
        """The message in `locale`'s language (English where there is no catalog for it)."""
        return localize(self.text, locale)


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in the operator's configuration: where it is and how to fix it."""

    file: str
    key: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.problem} — {self.fix}"


class ConfigError(CouncilError):
    """The operator's configuration is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} configuration problem(s):\n{lines}")


@dataclass(frozen=True)
class SeatProblem:
    """Why a configured persona can't take a seat in this process, and what the operator must do.

    `reason` and `fix` may be shown to whoever asked for the persona in Discord: they name a
    variable or a key path, never a URL or a value. `detail`, the config problem behind it
    with its own fix, is for the operator's eyes only. `said` is the whole refusal as a
    catalog message, for hosts in every language; without it, `reason` and `fix` are shown
    as they are.
    """

    persona: str
    reason: str
    fix: str
    detail: str = ""
    said: Text | None = None

    @classmethod
    def missing_key(cls, persona: str, variable: str) -> SeatProblem:
        """The persona's provider needs an API key, and `variable` is not set."""
        return cls(
            persona,
            f"{variable} is not set",
            f"set {variable} in .env or the environment",
            said=t("replies.seat.missing-key", persona=persona, variable=variable),
        )

    @classmethod
    def mistake(cls, persona: str, file: str, key: str, detail: str) -> SeatProblem:
        """A mistake at `key` in `file` (its entry, its model's or its provider's) keeps it out."""
        return cls(
            persona,
            f"{file} has a mistake at {key}",
            "correct it (`council-bot check` lists every mistake)",
            detail=detail,
            said=t("replies.seat.mistake", persona=persona, file=file, key=key),
        )

    def operator_line(self) -> str:
        """One line for the operator's terminal or log."""
        why = self.detail or f"{self.reason} — {self.fix}"
        return f"Persona {self.persona} can't be seated: {why}."

    def refusal_text(self) -> Text:
        """What a host who asked for the persona is told, in any language."""
        if self.said is not None:
            return self.said
        return t("replies.seat.refusal", persona=self.persona, reason=self.reason, fix=self.fix)

    def refusal(self) -> str:
        """What a host who asked for the persona is told, in English."""
        return str(self.refusal_text())


class UnseatedError(UserFacingError):
    """A council asked for personas this process can't seat (no key, or a broken config entry)."""

    def __init__(self, problems: list[SeatProblem]) -> None:
        super().__init__("\n".join(problem.refusal() for problem in problems))
        self.problems = problems

    def localized(self, locale: str | None) -> str:
        """Every persona's refusal, one a line, in `locale`'s language."""
        return "\n".join(localize(problem.refusal_text(), locale) for problem in self.problems)


class ProviderErrorKind(StrEnum):
    """The small family every provider failure is mapped into."""

    AUTH = "auth"
    MODEL_NOT_FOUND = "model_not_found"
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    OVERLOADED = "overloaded"
    UNREACHABLE = "unreachable"
    BAD_RESPONSE = "bad_response"
    REFUSED = "refused"


class ProviderError(UserFacingError):
    """A model call failed. The message names the model and never contains a key."""

    kind: ProviderErrorKind = ProviderErrorKind.BAD_RESPONSE
    # Whether asking again, before the model has said anything, may succeed.
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        model: str = "",
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.model = model
        self.status = status
        self.retry_after_s = retry_after_s


class ProviderAuthError(ProviderError):
    """The provider rejected the API key (401/403)."""

    kind = ProviderErrorKind.AUTH


class ModelNotFoundError(ProviderError):
    """The provider does not know the configured model name (404)."""

    kind = ProviderErrorKind.MODEL_NOT_FOUND


class RateLimitedError(ProviderError):
    """The provider asked us to slow down (429)."""

    kind = ProviderErrorKind.RATE_LIMITED
    retryable = True


class ProviderTimeoutError(ProviderError):
    """The provider did not answer (or stream the first token) in time."""

    kind = ProviderErrorKind.TIMEOUT
    # Not retried: the wait has already spent the member's time.


class OverloadedError(ProviderError):
    """The provider failed on its side (5xx, Anthropic 529)."""

    kind = ProviderErrorKind.OVERLOADED
    retryable = True


class ProviderUnreachableError(ProviderError):
    """The connection to the provider failed (refused, reset, DNS)."""

    kind = ProviderErrorKind.UNREACHABLE
    retryable = True


class UntrustedServerError(ProviderUnreachableError):
    """The provider's TLS certificate failed verification (another host's, unknown issuer)."""

    # Every retry meets the same certificate.
    retryable = False


class BadResponseError(ProviderError):
    """The provider answered with something we could not read (malformed JSON, cut stream)."""

    kind = ProviderErrorKind.BAD_RESPONSE


class CutOffError(BadResponseError):
    """The connection closed in the middle of the reply's body."""

    retryable = True


class RefusedError(ProviderError):
    """The provider refused the request (content filter, safety block, 400)."""

    kind = ProviderErrorKind.REFUSED
