"""Messages to a debt's parties: reminders, payment confirmations, missed-payment notices, and
the notices of a plan broken, replaced or paid in full.

Each is one plain-text Jinja2 template (``app/messaging/templates/messages/<kind>.txt``) whose
sentences are ``{% trans %}`` blocks, one a line, translated by the locale's gettext catalog
(``app.core.i18n``): the first line is the email's subject, the rest after a blank line the body
(a text message sends the body alone). Amounts and dates are formatted by Babel
(``app.offers.summaries``).

What a message may say follows ``plans.contact.disclosure``: the template receives only the
details the recipient's role may learn. A debtor or co-debtor gets amounts, the schedule's
dates and the link to their plan; a guarantor the amount they guaranteed (at most what is
owed) and the due date, from a template of its own with no link; a third party gets no message
at all. A guarantor also hears that the plan of the debt they guaranteed broke (with the amount
they guaranteed, and no link): the creditor may now turn to them, and a surety is owed a copy
of a default notice (Consumer Credit Act 1974 s.111).

Who a message is from and how to pay follow the policy's ``messages`` section
(``schemas.message_rules``, as a :class:`Sender`): every message names the creditor; a text
message starts with the jurisdiction's signature (CN: ``【某某银行】``) and ends with its
opt-out instruction (``回T退订``, ``Reply STOP to opt out``); a message to an obligor about
money still owed says how to pay (the bank account and the reference to quote, the pay link
with the plan's reference). A guarantor is told the creditor, the signature and the opt-out,
never how to pay the debtor's plan. Every email carries the opt-out line where the
jurisdiction's rules require one (an obligation whose id ends in ``OPT-OUT-NOTICE``, e.g.
``US-OPT-OUT-NOTICE``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

from app.core.i18n import environment
from app.offers.summaries import day, money
from plans.contact import Channel, Detail, Party, Role, disclosed_amount_minor, disclosure
from plans.contact_rules import Jurisdiction
from schemas.common import Locale
from schemas.message_rules import MessagesBody


class Kind(enum.StrEnum):
    """What a message is about."""

    REMINDER = "reminder"  # a payment date is near
    CONFIRMATION = "confirmation"  # a payment was received
    MISSED = "missed"  # an instalment is missed
    PLAN_BROKEN = "plan_broken"  # the plan broke: its discount is withdrawn
    PLAN_REPLACED = "plan_replaced"  # a new plan replaced it
    PLAN_COMPLETED = "plan_completed"  # paid in full


# What is still owed after these: a message about it says how to pay.
_OWING = frozenset({Kind.REMINDER, Kind.MISSED, Kind.PLAN_BROKEN, Kind.PLAN_REPLACED})


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything a message about a plan might state, in minor units of ``currency``.

    The renderer picks what the recipient may learn; nothing else reaches a template.
    """

    currency: str
    link: str
    missed_text: str = ""
    owed_minor: int = 0  # the plan's outstanding balance
    instalment: int | None = None
    due_date: date | None = None
    amount_minor: int = 0  # the instalment's amount, or the payment's
    remaining_minor: int = 0  # of a missed instalment
    paid_on: date | None = None
    principal_minor: int = 0
    interest_minor: int = 0
    fees_minor: int = 0
    refunded_minor: int = 0
    next_due_date: date | None = None
    next_due_minor: int = 0
    reference: str = ""  # the debt's, quoted when paying
    plan_id: str = ""
    revoked_minor: int = 0  # a broken plan's discount withdrawn
    paid_minor: int = 0  # everything paid under the plan
    happened_on: date | None = None  # the day a plan broke or was paid in full


@dataclass(frozen=True, slots=True)
class Sender:
    """Who a message to a party of jurisdiction ``code`` is from and how to pay them: the
    policy's messages section, and the organisation's name for a creditor it does not name."""

    code: str
    rules: MessagesBody
    organisation: str


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered message: ``subject`` for email (None for a text message) and ``body``."""

    subject: str | None
    body: str


_OPT_OUT_SUFFIX = "OPT-OUT-NOTICE"


@cache
def _environment(locale: Locale) -> Environment:
    # Plain text, not HTML: nothing to escape; StrictUndefined makes a template that names a
    # detail its role was not given fail loudly instead of printing nothing. A line ends with
    # `{% endtrans +%}`: the plus keeps the line break that trim_blocks would take.
    return environment(
        FileSystemLoader(Path(__file__).with_name("templates")), locale, autoescape=False
    )


def needs_opt_out(rules: Jurisdiction, channel: Channel, role: Role) -> bool:
    """Whether a message on ``channel`` to ``role`` must say how to opt out.

    Examples
    --------
    >>> from plans.contact import jurisdiction
    >>> needs_opt_out(jurisdiction("US"), Channel.SMS, Role.DEBTOR)
    True
    >>> needs_opt_out(jurisdiction("CN"), Channel.SMS, Role.DEBTOR)
    False
    """
    return any(r.id.endswith(_OPT_OUT_SUFFIX) for r in rules.obligations_for(channel, role))


def _obligor_context(kind: Kind, facts: Facts, locale: Locale) -> dict[str, Any]:
    def m(minor: int) -> str:
        return money(minor, facts.currency, locale)

    def d(value: date | None) -> str:
        return "" if value is None else day(value, locale)

    context: dict[str, Any] = {"link": facts.link, "missed_text": facts.missed_text}
    if kind is Kind.PLAN_BROKEN:
        context |= {
            "ended_on": d(facts.happened_on),
            "revoked": m(facts.revoked_minor) if facts.revoked_minor else "",
            "paid": m(facts.paid_minor),
            "owed": m(facts.owed_minor),
        }
    elif kind is Kind.PLAN_REPLACED:
        context |= {"amount": m(facts.amount_minor), "due_date": d(facts.due_date)}
    elif kind is Kind.PLAN_COMPLETED:
        context |= {"paid": m(facts.paid_minor), "paid_on": d(facts.happened_on)}
    elif kind is Kind.REMINDER:
        context |= {
            "instalment": facts.instalment,
            "amount": m(facts.amount_minor),
            "due_date": d(facts.due_date),
            "owed": m(facts.owed_minor),
        }
    elif kind is Kind.MISSED:
        context |= {
            "instalment": facts.instalment,
            "amount": m(facts.amount_minor),
            "due_date": d(facts.due_date),
            "remaining": m(facts.remaining_minor),
        }
    else:  # a confirmation
        context |= {
            "amount": m(facts.amount_minor),
            "paid_on": d(facts.paid_on),
            "principal": m(facts.principal_minor),
            "interest": m(facts.interest_minor),
            "fees": m(facts.fees_minor),
            "refunded": m(facts.refunded_minor) if facts.refunded_minor else "",
            "balance": m(facts.owed_minor),
            "next_due_date": d(facts.next_due_date),
            "next_due_amount": m(facts.next_due_minor),
        }
    return context


def _how_to_pay(kind: Kind, facts: Facts, sender: Sender) -> dict[str, Any]:
    """The payment instructions of a message to an obligor (empty: nothing to pay)."""
    rules = sender.rules
    owing = kind in _OWING or (kind is Kind.CONFIRMATION and facts.next_due_date is not None)
    bank = rules.bank_account if owing else None
    return {
        "pay_link": (rules.pay_link_for(reference=facts.reference, plan=facts.plan_id) or "")
        if owing
        else "",
        "bank_name": "" if bank is None else bank.bank_name,
        "account_name": "" if bank is None else bank.account_name,
        "account_number": "" if bank is None else bank.account_number,
        "reference": facts.reference,
    }


def compose(
    kind: Kind,
    party: Party,
    channel: Channel,
    facts: Facts,
    *,
    rules: Jurisdiction,
    sender: Sender,
) -> Message | None:
    """The message of ``kind`` for ``party`` on ``channel``, or None if it gets none.

    A guarantor gets only reminders (its guaranteed amount and the due date) and the notice
    that the plan broke (its guaranteed amount); a third party nothing; the other messages go
    to obligors only. A text message starts with the ``sender``'s signature and ends with its
    opt-out instruction.

    Examples
    --------
    >>> from plans.contact import jurisdiction
    >>> from schemas.message_rules import shipped_message_rules
    >>> g = Party("g1", Role.GUARANTOR, "America/New_York", locale="en", guaranteed_minor=50_000)
    >>> facts = Facts("USD", "https://x/s/t", owed_minor=80_000, due_date=date(2026, 12, 15))
    >>> us = Sender("US", shipped_message_rules(), "Example Bank")
    >>> rules = jurisdiction("US")
    >>> print(compose(Kind.REMINDER, g, Channel.SMS, facts, rules=rules, sender=us).body)
    A payment on the debt you guaranteed to Example Bank is due on 15 Dec 2026.
    Your guarantee covers up to $500.00.
    To talk to us about it, reply to this message.
    Reply STOP to opt out
    <BLANKLINE>
    """
    allowed = disclosure(party.role)
    locale = Locale(party.locale)
    guaranteed = allowed.allows(Detail.GUARANTEED_AMOUNT)
    if party.role.is_obligor:
        template = kind.value
        context = _obligor_context(kind, facts, locale) | _how_to_pay(kind, facts, sender)
    elif kind in (Kind.REMINDER, Kind.PLAN_BROKEN) and guaranteed:
        template = f"{kind.value}_guarantor"
        shown = disclosed_amount_minor(party, owed_minor=facts.owed_minor) or 0
        context = {"guaranteed": money(shown, facts.currency, locale)}
        if allowed.allows(Detail.DUE_DATE):
            context["due_date"] = "" if facts.due_date is None else day(facts.due_date, locale)
    else:
        return None
    jurisdiction_sender = sender.rules.sender(sender.code)
    creditor = sender.rules.creditor_for(locale, sender.organisation)
    context |= {
        "channel": channel.value,
        "creditor": creditor,
        "opt_out": needs_opt_out(rules, channel, party.role),
        "sms_opt_out": jurisdiction_sender.opt_out_for(locale),
    }
    text = _environment(locale).get_template(f"messages/{template}.txt").render(context)
    subject, _, body = text.partition("\n\n")
    if channel is Channel.EMAIL:
        return Message(subject.strip(), body)
    return Message(None, sender.rules.signature_for(sender.code, sender.organisation) + body)


def as_text(message: Message) -> str:
    """A message as one text: the subject line (for email), a blank line, the body."""
    return message.body if message.subject is None else f"{message.subject}\n\n{message.body}"
