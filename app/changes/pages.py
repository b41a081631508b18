"""The debtor's "ask for a change" pages, rendered from the engine's JSON.

Pure functions of their inputs, like ``app.links.pages``: a :class:`ChangeView` (what is owed now,
what the debtor typed, the engine's answer as ``schemas.changes.Evaluation`` JSON, same-site
URLs) or a :class:`RequestView`, and a locale. No HTTP, no database, no clock: golden files pin
each page byte for byte. The pages extend ``base.html`` (its Content-Security-Policy allows no
script and forms only to this site) and work without JavaScript: a form posts the proposal,
each plan of the answer has its own small form with the proposal in hidden fields, and the
service recomputes the plan from them (never trusting a plan a form would carry).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from app.core.errors import FieldError
from app.core.i18n import Words
from app.links.pages import LANGUAGE_NAMES, page_environment, rate_rows
from app.offers.summaries import day, money
from plans.money import exponent, to_minor
from schemas.common import Locale

Json = dict[str, Any]
Notice = Literal["rate_limited", "nothing_owed", "superseded"]
_NOTICES = ("rate_limited", "nothing_owed", "superseded")
_STATUSES = ("open", "offered", "declined")
FIELDS = ("payment", "start", "lump_sum")

_SCHEDULE_COLUMNS = ("payment", "principal", "interest", "fees", "closing_balance")
_TOTAL_COLUMNS = ("payment", "principal", "interest", "fees")

# The change pages extend the debtor's pages' base (``app.links.pages``).
TEMPLATES = Path(__file__).with_name("templates")


def _check_relative(url: str, what: str) -> str:
    # Same-site paths only: the CSP's form-action 'self' would refuse anything else anyway.
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        raise ValueError(f"{what} must be a same-site path starting with '/', not {url!r}")
    return url


@dataclass(frozen=True, slots=True)
class ChangeView:
    """What the change page shows.

    ``owed`` is ``schemas.changes.OwedNowOut`` as JSON (``as_of`` a date); ``values`` what the
    debtor typed (shown again); ``errors`` the broken rules of it; ``evaluation`` the engine's
    answer (``schemas.changes.Evaluation`` JSON) when there is one. ``form_url`` and
    ``request_url`` are the POST targets of the proposal and of asking for a plan.
    ``left_each_month_minor``, for an offer negotiated from an income and expenditure
    statement, is what it left each month: the form recalls it, since this is where a figure
    of the statement that is wrong or has changed is put right.
    """

    masked_name: str
    owed: Mapping[str, Any]
    frequency: str
    plan_url: str
    form_url: str
    request_url: str
    lang_urls: Mapping[Locale, str]
    earliest_start: date
    latest_start: date
    min_payment_minor: int
    max_term_months: int
    requests_left: int
    values: Mapping[str, str] = field(default_factory=dict)
    errors: Sequence[FieldError] = ()
    evaluation: Mapping[str, Any] | None = None
    notice: Notice | None = None
    # what the income and expenditure statement the offer was made from leaves each month, in
    # minor units (``offers.statement``); None: the offer was not made from one
    left_each_month_minor: int | None = None
    # through a consolidated offer's link: what each of its debts owes now, (ref, minor units)
    debts_owed: Sequence[tuple[str, int]] = ()

    def __post_init__(self) -> None:
        if self.notice is not None and self.notice not in _NOTICES:
            raise ValueError(f"notice must be None or one of {_NOTICES}")
        for what in ("plan_url", "form_url", "request_url"):
            _check_relative(getattr(self, what), what)
        for locale, url in self.lang_urls.items():
            _check_relative(url, f"lang_urls[{locale}]")


@dataclass(frozen=True, slots=True)
class RequestView:
    """What the page of a request made shows: its plan (the offer document) and status;
    ``summary`` is the plan's sentence in the page's language."""

    masked_name: str
    status: str
    choice: str
    created_at: datetime
    document: Mapping[str, Any]
    plan_url: str
    change_url: str
    lang_urls: Mapping[Locale, str]
    summary: str | None = None  # in the page's language; None: the document's own

    def __post_init__(self) -> None:
        if self.status not in _STATUSES:
            raise ValueError(f"status must be one of {_STATUSES}, not {self.status!r}")
        for what in ("plan_url", "change_url"):
            _check_relative(getattr(self, what), what)
        for locale, url in self.lang_urls.items():
            _check_relative(url, f"lang_urls[{locale}]")


def _amount(minor: int, currency: str, locale: Locale) -> Json:
    return {"minor": str(minor), "text": money(minor, currency, locale)}


def _example(currency: str) -> str:
    places = exponent(currency)
    return "500" if places == 0 else "500." + "0" * places


def _languages(lang_urls: Mapping[Locale, str], locale: Locale) -> list[tuple[str, str, Any, bool]]:
    return [
        (other.value, LANGUAGE_NAMES[other], lang_urls.get(other), other is locale)
        for other in Locale
        if other is locale or other in lang_urls
    ]


def _terms_facts(document: Mapping[str, Any], locale: Locale, t: Words) -> list[Json]:
    """One debt's plan's terms: a down payment, a payment break, how many payments, each."""
    currency = document["currency"]
    terms = document["terms"]

    def minor(amount: str) -> int:
        return to_minor(amount, currency)

    def m(amount: str) -> str:
        return money(minor(amount), currency, locale)

    instalments = [x for x in document["schedule"]["lines"] if x["kind"] == "instalment"]
    facts: list[Json] = []
    if minor(terms["down_payment"]):
        facts.append(
            {"label": t.gettext("Down payment"), "text": m(terms["down_payment"]), "minor": None}
        )
    if terms["deferral_periods"]:
        periods = terms["deferral_periods"]
        facts.append(
            {
                "label": t.gettext("Payment break"),
                "text": t.ngettext("%(num)d period", "%(num)d periods", periods),
                "minor": None,
            }
        )
    level = m(terms["instalment"])
    if len(instalments) > 1 and instalments[-1]["payment"] != terms["instalment"]:
        last = m(instalments[-1]["payment"])
        level = t.gettext("%(amount)s (last one %(last)s)", amount=level, last=last)
    facts += [
        {
            "label": t.gettext("Number of payments"),
            "text": str(terms["instalments"]),
            "minor": None,
        },
        {
            "label": t.gettext("Each payment"),
            "text": level,
            "minor": str(minor(terms["instalment"])),
        },
    ]
    return facts


def _group_facts(document: Mapping[str, Any], locale: Locale, t: Words) -> list[Json]:
    """A consolidated plan's terms (it has no ``terms`` of one debt's): how many debts and
    payments, each payment (the most common, and the last if it differs)."""
    currency = document["currency"]

    def minor(amount: str) -> int:
        return to_minor(amount, currency)

    facts: list[Json] = [
        {
            "label": t.gettext("Debts in this plan"),
            "text": str(len(document["debts"])),
            "minor": None,
        }
    ]
    lines = document["schedule"]["lines"]
    amounts = [minor(x["payment"]) for x in lines if x["kind"] == "instalment"]
    if amounts:
        level = max(set(amounts), key=lambda a: (amounts.count(a), a))
        text = money(level, currency, locale)
        if len(amounts) > 1 and amounts[-1] != level:
            last = money(amounts[-1], currency, locale)
            text = t.gettext("%(amount)s (last one %(last)s)", amount=text, last=last)
        facts += [
            {"label": t.gettext("Number of payments"), "text": str(len(amounts)), "minor": None},
            {"label": t.gettext("Each payment"), "text": text, "minor": str(level)},
        ]
    return facts


def _plan(document: Mapping[str, Any], choice: str, locale: Locale, t: Words) -> Json:
    """One plan, line by line: its terms, its schedule with totals, its APR; a consolidated
    plan's lines each name every debt's share of the payment."""
    currency = document["currency"]
    metrics = document["metrics"]

    def minor(amount: str) -> int:
        return to_minor(amount, currency)

    def m(amount: str) -> str:
        return money(minor(amount), currency, locale)

    lines = document["schedule"]["lines"]
    paying = [x for x in lines if minor(x["payment"])]
    facts = (
        _terms_facts(document, locale, t)
        if "terms" in document
        else _group_facts(document, locale, t)
    )
    if paying:
        facts.append(
            {
                "label": t.gettext("First payment"),
                "text": day(date.fromisoformat(paying[0]["payment_date"]), locale),
                "minor": None,
            }
        )
        facts.append(
            {
                "label": t.gettext("Last payment"),
                "text": day(date.fromisoformat(paying[-1]["payment_date"]), locale),
                "minor": None,
            }
        )
    facts.append(
        {
            "label": t.gettext("Total you pay"),
            "text": m(metrics["total_paid"]),
            "minor": str(minor(metrics["total_paid"])),
        }
    )
    rows = [
        {
            "number": x["number"],
            "kind": x["kind"],
            "date_iso": x["payment_date"],
            "date": day(date.fromisoformat(x["payment_date"]), locale),
            "cells": [
                {"column": c, **_amount(minor(x[c]), currency, locale)} for c in _SCHEDULE_COLUMNS
            ],
            # a consolidated plan's line: each debt's share of its payment
            "shares": [
                (a["debt_ref"], _amount(minor(a["payment"]), currency, locale))
                for a in x.get("allocations", ())
            ],
        }
        for x in lines
    ]
    totals = document["schedule"]["totals"]
    return {
        "choice": choice,
        "heading": {
            "as_proposed": t.gettext("Your proposal"),
            "longer_term": t.gettext("A longer plan"),
            "higher_payment": t.gettext("A higher payment"),
            "later_start": t.gettext("A payment break first"),
            "earlier_start": t.gettext("An earlier start"),
        }[choice],
        "summary": document["summary"],
        # how a consolidated plan's payments are shared between the debts
        "rule_text": document.get("allocation_text"),
        "facts": facts,
        "columns": list(
            {
                "payment": t.gettext("Payment"),
                "principal": t.gettext("Principal"),
                "interest": t.gettext("Interest"),
                "fees": t.gettext("Fees"),
                "closing_balance": t.gettext("Balance after"),
            }.items()
        ),
        "rows": rows,
        "totals": [
            {"column": c, **_amount(minor(totals[c]), currency, locale)} for c in _TOTAL_COLUMNS
        ],
        "rates": rate_rows(metrics, locale, t),
    }


def _error_text(error: FieldError, view: ChangeView, locale: Locale, t: Words) -> str:
    currency = view.owed["currency"]
    example = _example(currency)
    rule = error.rule
    if rule == "required":
        return t.gettext("Please enter an amount.")
    if rule in ("number", "decimal"):
        return t.gettext("Please enter a number, such as %(example)s.", example=example)
    if rule == "non_negative":
        return t.gettext("The amount cannot be negative.")
    if rule == "positive":
        return t.gettext("The amount must be more than zero.")
    if rule == "max_decimals":
        return t.gettext(
            "Amounts in %(currency)s have at most %(places)s decimal places.",
            currency=currency,
            places=exponent(currency),
        )
    if rule == "max_amount":
        return t.gettext("That amount is too large.")
    if rule == "date":
        return t.gettext(
            "Please enter a date such as %(example_date)s.",
            example_date=view.earliest_start.isoformat(),
        )
    if rule == "not_in_past":
        return t.gettext(
            "The date cannot be before %(earliest)s.", earliest=day(view.earliest_start, locale)
        )
    if rule == "max_start_delay":
        return t.gettext(
            "The first payment can be on %(latest)s at the latest.",
            latest=day(view.latest_start, locale),
        )
    return t.gettext("This value is not accepted (%(rule)s).", rule=rule)


def _rejection_text(
    rejection: Mapping[str, Any], view: ChangeView, locale: Locale, t: Words
) -> str:
    rule = rejection["rule"]
    if rule == "min_instalment":
        currency = view.owed["currency"]
        return t.gettext(
            "The smallest payment our rules allow is %(min_payment)s a period.",
            min_payment=money(view.min_payment_minor, currency, locale),
        )
    if rule == "max_term":
        return t.gettext(
            "At that payment the plan would last longer than our rules allow (%(months)s months).",
            months=view.max_term_months,
        )
    return t.gettext("It breaks the rule “%(rule)s”.", rule=rule)


def _header(
    t: Words, locale: Locale, title: str, name: str, lang_urls: Mapping[Locale, str]
) -> Json:
    return {
        "title": title,
        "who": t.gettext("For %(name)s", name=name),
        "languages_label": t.gettext("Language"),
        "languages": _languages(lang_urls, locale),
    }


def render_change_page(view: ChangeView, locale: Locale | str) -> str:
    """The change page: what is owed now, the form, and the engine's answer if there is one.

    Returns
    -------
    str
        A complete HTML5 document; sections ``#owed #propose #result``; each plan of the answer
        is an ``article`` with ``data-choice``, its schedule rows ``data-number`` and its
        amount cells ``data-minor`` (exact minor units).

    Examples
    --------
    >>> view = ChangeView(
    ...     masked_name="J*** S****",
    ...     owed={"currency": "CNY", "as_of": date(2026, 12, 1), "principal": "2000.00",
    ...           "interest": "0.00", "fees": "0.00", "total": "2000.00"},
    ...     frequency="monthly", plan_url="/s/t", form_url="/s/t/change",
    ...     request_url="/s/t/change/requests", lang_urls={}, earliest_start=date(2026, 12, 1),
    ...     latest_start=date(2027, 1, 15), min_payment_minor=10_000, max_term_months=36,
    ...     requests_left=5)
    >>> page = render_change_page(view, "en")
    >>> page.startswith("<!DOCTYPE html>"), "CN¥2,000.00" in page, "<script" in page
    (True, True, False)
    """
    locale = Locale(locale)
    t = Words(locale)
    owed = view.owed
    currency = owed["currency"]

    def a(key: str) -> Json:
        return _amount(to_minor(owed[key], currency), currency, locale)

    messages = {e.field: _error_text(e, view, locale, t) for e in view.errors}
    result = None
    if view.evaluation is not None:
        answer = view.evaluation["result"]
        proposal = view.evaluation["proposal"]
        plans = []
        if answer["accepted"] and answer["offer"] is not None:
            plans.append(_plan(answer["offer"], "as_proposed", locale, t))
        plans += [_plan(x["offer"], x["change"], locale, t) for x in answer["alternatives"]]
        result = {
            "accepted": answer["accepted"],
            "reasons": [_rejection_text(r, view, locale, t) for r in answer["rejections"]],
            "plans": plans,
            "hidden": [
                ("payment", proposal["payment"]),
                ("start", "" if proposal["start"] is None else str(proposal["start"])),
                ("lump_sum", proposal["lump_sum"]),
            ],
        }
    title = t.gettext("Ask for a change to your plan")
    each = {
        "monthly": t.gettext("each month"),
        "weekly": t.gettext("each week"),
        "biweekly": t.gettext("every two weeks"),
        "semi_monthly": t.gettext("twice a month"),
    }[view.frequency]
    context = {
        "lang": locale.value,
        "currency": currency,
        "view": view,
        "head": _header(t, locale, title, view.masked_name, view.lang_urls),
        "notice_text": {
            None: None,
            "rate_limited": None,  # said where the form was, by the template
            "nothing_owed": t.gettext("Nothing is owed on this plan: there is nothing to change."),
            "superseded": t.gettext(
                "A newer offer has replaced this one. Please use the link in the most recent"
                " message we sent you."
            ),
        }[view.notice],
        "owed_sentence": t.gettext(
            "On %(date)s you owe %(total)s:",
            date=day(owed["as_of"], locale),
            total=money(to_minor(owed["total"], currency), currency, locale),
        ),
        "owed": [
            ("owed_principal", t.gettext("Principal"), a("principal")),
            ("owed_interest", t.gettext("Interest"), a("interest")),
            ("owed_fees", t.gettext("Fees"), a("fees")),
        ],
        "owed_total": a("total"),
        "debts_owed": [(ref, _amount(minor, currency, locale)) for ref, minor in view.debts_owed],
        "statement_sentence": None
        if view.left_each_month_minor is None
        else t.gettext(
            "You told us that %(left)s is left each month after your essential costs and"
            " priority debts. If that has changed, say here what you can pay now.",
            left=money(view.left_each_month_minor, currency, locale),
        ),
        "fields": [
            {
                "name": "payment",
                "label": t.gettext("How much can you pay %(each)s?", each=each),
                "hint": t.gettext(
                    "An amount in %(currency)s, such as %(example)s.",
                    currency=currency,
                    example=_example(currency),
                ),
                "type": "text",
                "inputmode": "decimal",
                "required": True,
            },
            {
                "name": "start",
                "label": t.gettext("From when? (optional)"),
                "hint": t.gettext(
                    "The date of your first payment, by %(latest)s at the latest.",
                    latest=day(view.latest_start, locale),
                ),
                "type": "date",
                "inputmode": None,
                "required": False,
            },
            {
                "name": "lump_sum",
                "label": t.gettext("Can you pay a lump sum now? (optional)"),
                "hint": t.gettext("Paid first, as a down payment."),
                "type": "text",
                "inputmode": "decimal",
                "required": False,
            },
        ],
        "values": {name: view.values.get(name, "") for name in FIELDS},
        "messages": messages,
        # each message's rule, as a problem document names it (data-rule on the page)
        "rules": {e.field: e.rule for e in view.errors},
        "field_names": FIELDS,
        "result": result,
    }
    environment = page_environment(TEMPLATES, locale=locale)
    return environment.get_template("change.html").render(context)


def render_request_page(view: RequestView, locale: Locale | str) -> str:
    """The page of a change request made: the plan asked for, when, and where it stands.

    Examples
    --------
    >>> from datetime import UTC
    >>> from decimal import Decimal
    >>> from plans.debt import Debt
    >>> from plans.instalment import instalment_plan
    >>> from plans.policy import Policy
    >>> from schemas.wire import offer_json
    >>> debt = Debt("CNY", 200_000, 0, 0, Decimal(0), date(2026, 12, 1), 0)
    >>> document = offer_json(instalment_plan(debt, policy=Policy(), term=4), summary="", policy={})
    >>> page = render_request_page(RequestView(
    ...     masked_name="*", status="open", choice="as_proposed",
    ...     created_at=datetime(2026, 12, 1, tzinfo=UTC), document=document, plan_url="/s/t",
    ...     change_url="/s/t/change", lang_urls={}), "en")
    >>> "We have your request" in page, page.count('data-column="payment"')
    (True, 5)
    """
    locale = Locale(locale)
    t = Words(locale)
    title = t.gettext("Your request for a change")
    context = {
        "lang": locale.value,
        "currency": view.document["currency"],
        "view": view,
        "head": _header(t, locale, title, view.masked_name, view.lang_urls),
        "sent_on": t.gettext(
            "You asked for this plan on %(date)s.", date=day(view.created_at.date(), locale)
        ),
        "status_text": {
            "open": t.gettext("We have your request and will reply to you."),
            "offered": t.gettext(
                "We have made you a new offer for this request: we will send it to you."
            ),
            "declined": t.gettext("We could not agree to this plan. You can propose another one."),
        }[view.status],
        "plan": {
            **_plan(view.document, view.choice, locale, t),
            **({} if view.summary is None else {"summary": view.summary}),
        },
    }
    environment = page_environment(TEMPLATES, locale=locale)
    return environment.get_template("change_sent.html").render(context)
