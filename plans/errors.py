"""The engine's own errors: each names the offending field and the rule it breaks.

The web layer turns them into RFC 9457 problem documents in one place (``app/core/errors.py``);
nothing in between rewords them.
"""

from __future__ import annotations


class DomainError(ValueError):
    """Input the engine cannot turn into an offer.

    ``field`` is a dotted path into the input (``debt.principal``); ``rule`` is a short stable
    identifier a client can switch on (``max_decimals``); ``detail`` is a sentence for people.

    Examples
    --------
    >>> e = InvalidAmount("debt.principal", "non_negative", "must not be negative")
    >>> (e.field, e.rule)
    ('debt.principal', 'non_negative')
    """

    rule_default = "invalid"

    def __init__(self, field: str, rule: str | None = None, detail: str = "") -> None:
        self.field = field
        self.rule = rule or self.rule_default
        self.detail = detail or self.rule
        super().__init__(f"{field}: {self.detail} [{self.rule}]")


class InvalidAmount(DomainError):
    """An amount that is negative, too precise for its currency, or otherwise malformed."""

    rule_default = "invalid_amount"


class UnknownCurrency(DomainError):
    """A currency code that is not an ISO 4217 code known to CLDR."""

    rule_default = "iso4217"


class InvalidRate(DomainError):
    """A rate that is negative or more precise than the engine carries."""

    rule_default = "invalid_rate"


class RateAboveCap(DomainError):
    """A rate, or an offer's APR, above the policy's legal cap."""

    rule_default = "rate_cap"


class TermBeyondMax(DomainError):
    """A term longer than the policy allows."""

    rule_default = "max_term"


class BelowMinInstalment(DomainError):
    """An instalment smaller than the policy's minimum."""

    rule_default = "min_instalment"


class ExceedsCapacity(DomainError):
    """A payment larger than what the debtor said they can pay."""

    rule_default = "capacity"


class LumpSumNotAvailable(DomainError):
    """A settlement needs more cash now than the debtor has."""

    rule_default = "lump_sum"


class InvalidDate(DomainError):
    """A date out of order: a start before the as-of date, a payoff before the plan."""

    rule_default = "date_order"


class NotAllowed(DomainError):
    """Something the policy does not permit at all (a deferral longer than allowed, ...)."""

    rule_default = "policy"
