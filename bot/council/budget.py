"""A session's token and cost budget, checked before every model call.

Concurrent calls reserve their worst case (prompt estimate plus `max_tokens`) up front, so a
parallel round cannot overshoot; each reservation is settled with the real usage afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.council.figures import count, usd
from bot.errors import UserFacingError
from bot.i18n import t

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """A rough token count for text, for budgets when no server count is available yet."""
    return max(1, len(text) // CHARS_PER_TOKEN)


class BudgetExceeded(UserFacingError):
    """The next call would exceed the session's budget."""


@dataclass(frozen=True, slots=True)
class Reservation:
    """A call's reserved worst case."""

    tokens: int
    usd: float


class Budget:
    """Tracks what a session spent and has reserved against its limits (None = no limit).

    `locale` is the council's: the numbers in a refusal are written as it writes them.
    """

    def __init__(
        self,
        max_tokens: int | None = None,
        max_usd: float | None = None,
        *,
        locale: str | None = None,
    ) -> None:
        self.max_tokens = max_tokens
        self.max_usd = max_usd
        self.locale = locale
        self.spent_tokens = 0
        self.spent_usd = 0.0
        self._reserved_tokens = 0
        self._reserved_usd = 0.0

    def reserve(self, who: str, tokens: int, cost: float) -> Reservation:
        """Reserve a call's worst case, or raise `BudgetExceeded` saying why."""
        if self.max_tokens is not None:
            committed = self.spent_tokens + self._reserved_tokens
            if committed + tokens > self.max_tokens:
                raise BudgetExceeded(
                    t(
                        "council.stop.token-budget",
                        who=who,
                        tokens=count(tokens, self.locale),
                        budget=count(self.max_tokens, self.locale),
                        used=count(committed, self.locale),
                    )
                )
        if self.max_usd is not None:
            committed_usd = self.spent_usd + self._reserved_usd
            if committed_usd + cost > self.max_usd:
                raise BudgetExceeded(
                    t(
                        "council.stop.usd-budget",
                        who=who,
                        cost=usd(cost, self.locale),
                        budget=usd(self.max_usd, self.locale, 2),
                        spent=usd(committed_usd, self.locale),
                    )
                )
        self._reserved_tokens += tokens
        self._reserved_usd += cost
        return Reservation(tokens, cost)

    def settle(self, reservation: Reservation, tokens: int, usd: float) -> None:
        """Replace a reservation by what the call really used."""
        self._reserved_tokens -= reservation.tokens
        self._reserved_usd -= reservation.usd
        self.spent_tokens += tokens
        self.spent_usd += usd

    def record_spent(self, tokens: int, usd: float) -> None:
        """Count spending that happened before this budget existed (a resumed session)."""
        self.spent_tokens += tokens
        self.spent_usd += usd
