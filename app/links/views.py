"""What the debtor's page needs beyond the offer document: the plan's state, the payments
confirmed, each instalment's status, the reader's messages and preferences, same-site URLs.

Plain values, checked when built (a URL must be relative, a state one of its names), so the
renderers (``app.links.pages``) stay pure functions of the document, a view and a locale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, get_args

from schemas.common import Locale

OfferState = Literal["offered", "accepted", "superseded"]
PlanStatus = Literal[
    "active",
    "late",
    "missed",
    "broken",
    "cured",
    "completed",
    "replaced",
    "cancelled",
    "written_off",
]
InstalmentState = Literal["paid", "partly_paid", "due", "late", "missed"]

_OFFER_STATES = ("offered", "accepted", "superseded")
_PLAN_STATUSES = get_args(PlanStatus)
_INSTALMENT_STATES = ("paid", "partly_paid", "due", "late", "missed")


@dataclass(frozen=True, slots=True)
class ConfirmedPayment:
    """A payment the creditor has confirmed, and how it was allocated (minor units)."""

    paid_on: date
    amount_minor: int
    reference: str
    principal_minor: int
    interest_minor: int
    fees_minor: int
    balance_after_minor: int


@dataclass(frozen=True, slots=True)
class InstalmentStatus:
    """Where one schedule line stands; ``number`` is the line's ``number`` in the document."""

    number: int
    due_date: date
    status: InstalmentState
    due_minor: int
    paid_minor: int

    def __post_init__(self) -> None:
        if self.status not in _INSTALMENT_STATES:
            raise ValueError(f"status must be one of {_INSTALMENT_STATES}, not {self.status!r}")


@dataclass(frozen=True, slots=True)
class PayoffView:
    """What closes the plan today and the last day that amount holds (minor units; from
    ``plans.payments.standing_payoff``): principal + interest + fees - waived = amount, the
    accrued interest being part of the interest. ``valid_until`` None: until a payment."""

    on: date
    valid_until: date | None
    principal_minor: int
    interest_minor: int
    accrued_interest_minor: int
    fees_minor: int
    waived_minor: int
    amount_minor: int

    def __post_init__(self) -> None:
        parts = self.principal_minor + self.interest_minor + self.fees_minor - self.waived_minor
        if parts != self.amount_minor:
            raise ValueError("principal + interest + fees - waived must equal the amount")


def _check_relative(url: str, what: str) -> str:
    # The page must not link anywhere else: a same-site absolute path only (no scheme, no
    # protocol-relative "//host", no backslash that some browsers read as a slash).
    if (
        not url.startswith("/")
        or url.startswith("//")
        or "\\" in url
        or any(c.isspace() or ord(c) < 0x20 for c in url)
    ):
        raise ValueError(f"{what} must be a same-site path starting with '/', not {url!r}")
    return url


MessageKind = Literal[
    "reminder", "confirmation", "missed", "plan_broken", "plan_replaced", "plan_completed"
]
ContactChannel = Literal["email", "sms", "phone"]
_MESSAGE_KINDS = ("reminder", "confirmation", "missed")
_CONTACT_CHANNELS = ("email", "sms", "phone")


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message delivered to the reader, told from the plan's facts, never from its body.

    ``delivered_at`` is in the reader's own zone. A reminder or missed notice names the
    ``number``-th of ``count`` payments, its ``amount_minor`` and ``day`` (its payment date);
    a confirmation the payment's ``amount_minor`` and ``day`` (when it was paid). Without an
    amount (``None``), the kind alone is shown.
    """

    delivered_at: datetime
    channel: ContactChannel
    kind: MessageKind
    amount_minor: int | None = None
    day: date | None = None
    number: int | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in _MESSAGE_KINDS:
            raise ValueError(f"kind must be one of {_MESSAGE_KINDS}, not {self.kind!r}")
        if self.channel not in _CONTACT_CHANNELS:
            raise ValueError(f"channel must be one of {_CONTACT_CHANNELS}, not {self.channel!r}")


@dataclass(frozen=True, slots=True)
class ChannelChoice:
    """One channel the reader gave: its address masked, and since when it is opted out."""

    channel: ContactChannel
    masked: str
    opted_out_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.channel not in _CONTACT_CHANNELS:
            raise ValueError(f"channel must be one of {_CONTACT_CHANNELS}, not {self.channel!r}")


@dataclass(frozen=True, slots=True)
class ContactView:
    """The reader of the page (one party of the debt): the messages delivered to them, newest
    first, and their contact preferences, changed by forms posted to ``preferences_url``."""

    messages: Sequence[SentMessage]
    channels: Sequence[ChannelChoice]
    preferences_url: str
    stopped_at: datetime | None = None

    def __post_init__(self) -> None:
        _check_relative(self.preferences_url, "preferences_url")


@dataclass(frozen=True, slots=True)
class OfferView:
    """What the shared page shows besides the offer document.

    ``missed_payment_text`` and ``summary`` are already in the page's language (the policy's
    ``missed_payment_text[locale]``; ``app.offers.summaries.summary(offer, locale)``; ``None``
    uses the document's own sentence). URLs are same-site paths: ``accept_url`` is the accept form's
    POST target, ``lang_urls`` maps each locale to this page in that language.
    ``instalments``, when given, adds a status column to the schedule, matched by line number.
    ``change_url``, when given, links to the page where the debtor proposes what they can
    afford (``app.changes.pages``). ``payoff``, when given, is what finishes the plan today
    (a live accepted plan with something outstanding). ``contact`` is the reader's messages
    and preferences; ``None`` when nobody is on file for the link (the section then says no
    messages were sent, and offers no forms). ``statement``, when given, is the income and
    expenditure statement the offer was negotiated from, as saved (``offers.statement``:
    ``schemas.sharing.SavedStatementOut``), shown back in ``#statement``.
    """

    state: OfferState
    expires_at: datetime
    masked_name: str
    missed_payment_text: str
    accept_url: str
    lang_urls: Mapping[Locale, str]
    ics_url: str
    csv_url: str
    json_url: str
    accepted_at: datetime | None = None
    payments: Sequence[ConfirmedPayment] = ()
    instalments: Sequence[InstalmentStatus] = ()
    plan_status: PlanStatus | None = None
    summary: str | None = None
    contact: ContactView | None = None
    change_url: str | None = None
    certificate_url: str | None = None
    payoff: PayoffView | None = None
    statement: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.state not in _OFFER_STATES:
            raise ValueError(f"state must be one of {_OFFER_STATES}, not {self.state!r}")
        if self.plan_status is not None and self.plan_status not in _PLAN_STATUSES:
            raise ValueError(f"plan_status must be None or one of {_PLAN_STATUSES}")
        if self.state == "accepted" and self.accepted_at is None:
            raise ValueError("an accepted offer needs accepted_at")
        for what in ("accept_url", "ics_url", "csv_url", "json_url"):
            _check_relative(getattr(self, what), what)
        for what in ("change_url", "certificate_url"):
            if getattr(self, what) is not None:
                _check_relative(getattr(self, what), what)
        for locale, url in self.lang_urls.items():
            _check_relative(url, f"lang_urls[{locale}]")


@dataclass(frozen=True, slots=True)
class CertificateView:
    """What a completed plan's settlement certificate states besides the offer document.

    ``number`` is the certificate's (stable: from the plan's id), ``issued_on`` the day it is
    shown. ``creditor`` is the organisation's name and ``debtor_name`` the name the offer was
    made out to, unmasked: the certificate is for the debtor to show to others. ``payments``
    are every payment received, in date order; ``refunded_minor`` what was handed back (paid
    beyond the plan), so ``paid_minor`` is their sum less it. ``page_url`` is the plan's page,
    ``lang_urls`` this certificate in each language (same-site paths).
    """

    number: str
    issued_on: date
    debt_ref: str
    creditor: str
    debtor_name: str
    accepted_at: datetime
    completed_on: date
    payments: Sequence[ConfirmedPayment]
    paid_minor: int
    refunded_minor: int
    page_url: str
    lang_urls: Mapping[Locale, str]

    def __post_init__(self) -> None:
        if self.paid_minor != sum(p.amount_minor for p in self.payments) - self.refunded_minor:
            raise ValueError("paid_minor must be the payments less what was refunded")
        _check_relative(self.page_url, "page_url")
        for locale, url in self.lang_urls.items():
            _check_relative(url, f"lang_urls[{locale}]")


@dataclass(frozen=True, slots=True)
class DebtPart:
    """One debt of a consolidated offer on its page: what it owed, what the plan pays it (and
    the interest it adds, what it waives), the day it is cleared; once accepted, its own plan's
    status and what has been paid to it, and once repaid its settlement certificate (through
    the debt's own link: a certificate is one debt's)."""

    debt_ref: str
    owed_minor: int
    interest_accrued_minor: int
    paid_minor: int
    waived_minor: int
    cleared_on: date | None
    plan_status: PlanStatus | None = None
    paid_so_far_minor: int = 0
    certificate_url: str | None = None  # its settlement certificate, once repaid

    def __post_init__(self) -> None:
        if self.plan_status is not None and self.plan_status not in _PLAN_STATUSES:
            raise ValueError(f"plan_status must be None or one of {_PLAN_STATUSES}")
        if self.certificate_url is not None:
            _check_relative(self.certificate_url, "certificate_url")
