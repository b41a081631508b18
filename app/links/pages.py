"""The debtor's shared-plan page, rendered from an offer document.

Everything here is a pure function of its inputs: an offer document (``schemas.wire.offer_json``,
exactly what ``GET /s/{token}.json`` serves), an :class:`OfferView` with what the page needs
beyond it (``app.links.views``: state, masked name, confirmed payments, relative URLs), and a
locale. No HTTP, no database and no clock, so the routes stay a few lines and a golden file
pins each output byte for byte (the downloads, ``app.links.downloads``, likewise).

The page is written for a phone and for trust: server-rendered HTML with inline CSS and an inline
SVG chart, no script, no font or CDN, no absolute URL of any kind (a Content-Security-Policy
meta element makes the browser enforce that), ``noindex`` and ``no-referrer`` so the token in
the address does not travel, and the debtor's name masked (``app.core.masking.mask_name``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

from app.core.i18n import Words, environment
from app.links.statement import statement_section
from app.links.views import InstalmentStatus, OfferView, SentMessage
from app.offers.summaries import day, duration, money, percent
from plans.calendar import Frequency
from plans.money import to_minor
from schemas.common import Locale

Json = dict[str, Any]

# The schedule's amount columns, in the document's key order (also the CSV's).
AMOUNT_COLUMNS = (
    "opening_balance",
    "payment",
    "interest",
    "fees",
    "principal",
    "waived",
    "interest_accrued",
    "closing_balance",
)
# The page leaves the opening balance out: it is the previous row's balance after.
_PAGE_COLUMNS = AMOUNT_COLUMNS[1:]
CSV_COLUMNS = ("number", "kind", "due_date", "payment_date", *AMOUNT_COLUMNS)

REMINDER_BEFORE = timedelta(days=3)

# Each language's own name, the same on every page whatever its language (so not translated).
LANGUAGE_NAMES = {Locale.EN: "English", Locale.ZH_CN: "中文"}

# ---------------------------------------------------------------------------------------------
# Rendering helpers


TEMPLATES = Path(__file__).with_name("templates")


@cache
def page_environment(*more: Path, locale: Locale) -> Environment:
    """The Jinja2 environment of the debtor's HTML pages in ``locale`` (autoescaped, strict),
    built once per locale.

    The templates' words come from the locale's catalog (``app.core.i18n``) through Jinja2's
    i18n extension: ``{{ _("...") }}`` and ``{% trans %}``. ``more`` are folders of templates
    looked up first, for pages of other rooms built on these (the change pages,
    ``app.changes.pages``): they extend the same ``base.html``."""
    return environment(FileSystemLoader([*more, TEMPLATES]), locale, autoescape=True)


def _moment(value: datetime, locale: Locale) -> str:
    # A deadline needs its hour and zone, shown as given (the route picks the debtor's zone).
    text = f"{day(value.date(), locale)} {value:%H:%M}"
    offset = value.utcoffset()
    if offset is None:
        return text
    if not offset:
        return f"{text} UTC"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text} (UTC{sign}{minutes // 60:02d}:{minutes % 60:02d})"


def schedule_lines(document: Json) -> list[Json]:
    lines: list[Json] = document["schedule"]["lines"]
    return lines


def minor_of(document: Json, amount: str) -> int:
    return to_minor(amount, document["currency"])


def _chart(document: Json, view: OfferView, locale: Locale, t: Words) -> Json:
    """Geometry of the balance chart in a 320 × 200 viewBox (scaled to the screen by CSS)."""
    left, right, top, bottom = 8.0, 312.0, 30.0, 166.0
    lines = schedule_lines(document)
    start = date.fromisoformat(document["as_of"])
    opening = minor_of(document, lines[0]["opening_balance"]) if lines else 0
    planned = [(start, opening)] + [
        (date.fromisoformat(x["payment_date"]), minor_of(document, x["closing_balance"]))
        for x in lines
    ]
    actual = [(start, opening)] + [(p.paid_on, p.balance_after_minor) for p in view.payments]
    points = planned + (actual[1:] if view.payments else [])
    first = min(d for d, _ in points)
    span = max(1, (max(d for d, _ in points) - first).days)
    highest = max(1, max(b for _, b in points))

    def x(d: date) -> float:
        return left + (d - first).days / span * (right - left)

    def y(balance: int) -> float:
        return bottom - balance / highest * (bottom - top)

    def step(series: list[tuple[date, int]]) -> str:
        # A step line: the balance holds until a payment (or interest) changes it on its date.
        d0, b0 = series[0]
        path = f"M{x(d0):.1f} {y(b0):.1f}"
        for d, b in series[1:]:
            path += f"H{x(d):.1f}V{y(b):.1f}"
        return path

    def dots(series: list[tuple[date, int]]) -> list[Json]:
        return [
            {
                "x": f"{x(d):.1f}",
                "y": f"{y(b):.1f}",
                "title": f"{day(d, locale)}: {money(b, document['currency'], locale)}",
            }
            for d, b in series
        ]

    currency = document["currency"]
    end_date, end_balance = planned[-1]
    planned_path = step(planned)
    return {
        "width": 320,
        "height": 200,
        "left": left,
        "right": right,
        "top": f"{top:.1f}",
        "bottom": f"{bottom:.1f}",
        "planned": planned_path,
        "area": f"{planned_path}V{bottom:.1f}H{x(planned[0][0]):.1f}Z",
        "planned_dots": dots(planned),
        "actual": step(actual) if view.payments else None,
        "actual_dots": dots(actual[1:]),
        "y_top": money(highest, currency, locale),
        "y_zero": money(0, currency, locale),
        "x_first": day(first, locale),
        "x_last": day(first + timedelta(days=span), locale),
        "label": t.gettext(
            "Chart of the balance you owe: %(start_amount)s on %(start)s,"
            " %(end_amount)s on %(end)s.",
            start=day(start, locale),
            start_amount=money(opening, currency, locale),
            end=day(end_date, locale),
            end_amount=money(end_balance, currency, locale),
        ),
    }


def plan_kind(kind: str, t: Words) -> str:
    """The name of an offer's ``kind`` in ``t``'s language (the page and the certificate)."""
    return {
        "instalment": t.gettext("Instalment plan"),
        "deferral": t.gettext("Payment break, then instalments"),
        "settlement": t.gettext("One-off settlement"),
        "settlement_plan": t.gettext("Settlement in instalments"),
    }[kind]


def frequency_text(frequency: str, t: Words) -> str:
    """How often a plan's payments fall, in ``t``'s language.

    Examples
    --------
    >>> frequency_text("biweekly", Words(Locale.EN))
    'Every two weeks'
    """
    return {
        "monthly": t.gettext("Every month"),
        "weekly": t.gettext("Every week"),
        "biweekly": t.gettext("Every two weeks"),
        "semi_monthly": t.gettext("Twice a month"),
    }[frequency]


def _terms(document: Json, locale: Locale, t: Words) -> list[Json]:
    """The offer's terms as (label, text, minor-or-None) rows, by kind."""
    currency, terms, lines = document["currency"], document["terms"], schedule_lines(document)

    def m(amount: str) -> str:
        return money(minor_of(document, amount), currency, locale)

    def row(label: str, text: str, amount: str | None = None) -> Json:
        minor = None if amount is None else str(minor_of(document, amount))
        return {"label": label, "text": text, "minor": minor}

    rows = [row(t.gettext("Kind of plan"), plan_kind(document["kind"], t))]
    paying = [x for x in lines if minor_of(document, x["payment"])]
    rate = Decimal(terms["nominal_annual_rate"])
    if document["kind"] == "settlement":
        rows.append(row(t.gettext("Total you pay"), m(terms["instalment"]), terms["instalment"]))
        if terms["settle_by"]:
            settle_by = day(date.fromisoformat(terms["settle_by"]), locale)
            rows.append(row(t.gettext("Pay by"), settle_by))
    else:
        if minor_of(document, terms["down_payment"]):
            down = terms["down_payment"]
            rows.append(row(t.gettext("Down payment"), m(down), down))
        if terms["deferral_periods"]:
            periods = duration(t, Frequency(terms["frequency"]), terms["deferral_periods"])
            if minor_of(document, terms["deferral_payment"]):
                text = t.gettext(
                    "%(duration)s, paying %(amount)s each",
                    duration=periods,
                    amount=m(terms["deferral_payment"]),
                )
            else:
                text = t.gettext("%(duration)s, paying nothing", duration=periods)
            rows.append(row(t.gettext("Payment break"), text))
        instalments = [x for x in lines if x["kind"] == "instalment"]
        rows.append(row(t.gettext("Number of instalments"), str(terms["instalments"])))
        level = m(terms["instalment"])
        if len(instalments) > 1 and instalments[-1]["payment"] != terms["instalment"]:
            last = m(instalments[-1]["payment"])
            level = t.gettext("%(amount)s (last one %(last)s)", amount=level, last=last)
        rows.append(row(t.gettext("Each instalment"), level, terms["instalment"]))
        rows.append(row(t.gettext("How often"), frequency_text(terms["frequency"], t)))
        rate_text = percent(rate, locale)
        yearly = (
            t.gettext("%(rate)s a year", rate=rate_text)
            if rate
            else t.gettext("%(rate)s (no interest)", rate=rate_text)
        )
        rows.append(row(t.gettext("Interest rate on principal"), yearly))
        total = document["metrics"]["total_paid"]
        rows.append(row(t.gettext("Total you pay"), m(total), total))
    if paying and document["kind"] != "settlement":
        first = day(date.fromisoformat(paying[0]["due_date"]), locale)
        rows.append(row(t.gettext("First payment due"), first))
        if len(paying) > 1:
            last_due = day(date.fromisoformat(paying[-1]["due_date"]), locale)
            rows.append(row(t.gettext("Last payment due"), last_due))
    if terms["discount_bps"]:
        share = percent(Decimal(terms["discount_bps"]) / 10_000, locale)
        rows.append(row(t.gettext("Discount"), t.gettext("%(rate)s of what you owe", rate=share)))
    return rows


def _schedule(document: Json, view: OfferView, locale: Locale, t: Words) -> Json:
    currency = document["currency"]
    statuses = {s.number: s for s in view.instalments}

    def cells(source: Json) -> list[Json]:
        out = []
        for column in _PAGE_COLUMNS:
            if column not in source:
                out.append({"column": column, "minor": None, "text": ""})
                continue
            minor = minor_of(document, source[column])
            out.append(
                {"column": column, "minor": str(minor), "text": money(minor, currency, locale)}
            )
        return out

    line_kinds = {
        "down_payment": t.pgettext("schedule line", "down payment"),
        "deferral": t.pgettext("schedule line", "payment break"),
        "instalment": t.pgettext("schedule line", "instalment"),
        "settlement": t.pgettext("schedule line", "settlement"),
    }
    rows = []
    for line in schedule_lines(document):
        due, paid_on = (
            date.fromisoformat(line["due_date"]),
            date.fromisoformat(line["payment_date"]),
        )
        status = statuses.get(line["number"])
        status_text = None if status is None else _status_text(status, currency, locale, t)
        rows.append(
            {
                "number": line["number"],
                "kind": line["kind"],
                "kind_text": line_kinds[line["kind"]],
                "due_iso": line["due_date"],
                "payment_iso": line["payment_date"],
                "due": day(due, locale),
                "moved": None
                if paid_on == due
                else t.gettext("moved to %(date)s", date=day(paid_on, locale)),
                "cells": cells(line),
                "status": None if status is None else status.status,
                "status_text": status_text,
                # a consolidated line: what each debt gets of it
                "shares": [
                    (a["debt_ref"], money(minor_of(document, a["payment"]), currency, locale))
                    for a in line.get("allocations", ())
                    if minor_of(document, a["payment"])
                ],
            }
        )
    return {
        "columns": list(
            {
                "payment": t.gettext("Payment"),
                "interest": t.gettext("Interest"),
                "fees": t.gettext("Fees"),
                "principal": t.gettext("Principal"),
                "waived": t.gettext("Waived"),
                "interest_accrued": t.gettext("Interest added"),
                "closing_balance": t.gettext("Balance after"),
            }.items()
        ),
        "rows": rows,
        "totals": cells(document["schedule"]["totals"]),
        "any_moved": any(r["moved"] for r in rows),
        "with_status": bool(statuses),
    }


def _status_text(status: InstalmentStatus, currency: str, locale: Locale, t: Words) -> str:
    if status.status == "partly_paid":
        return t.pgettext(
            "instalment status",
            "Partly paid: %(paid)s of %(due)s",
            paid=money(status.paid_minor, currency, locale),
            due=money(status.due_minor, currency, locale),
        )
    return {
        "paid": t.pgettext("instalment status", "Paid"),
        "due": t.pgettext("instalment status", "Due"),
        "late": t.pgettext("instalment status", "Late"),
        "missed": t.pgettext("instalment status", "Missed"),
    }[status.status]


def rate_rows(metrics: Json, locale: Locale, t: Words) -> list[tuple[str, str, str]]:
    """The rates rows: the one the debt's jurisdiction requires, named as its law names it
    (CN 年化利率, GB "APR", US "Annual percentage rate"), and the effective annual rate. (The
    US APR of a CN or GB debt is in the offer's metrics, not on its debtor's page, where a
    second "APR" would only confuse.) An offer saved before it carried its jurisdiction's rate
    shows the US APR as it did."""
    effective = (
        t.gettext("Effective annual rate"),
        metrics["effective_annual_rate"],
        percent(Decimal(metrics["effective_annual_rate"]), locale),
    )
    annual = metrics.get("annual_rate")
    if annual is None:
        return [
            (
                t.gettext("Annual percentage rate (APR)"),
                metrics["apr"],
                percent(Decimal(metrics["apr"]), locale),
            ),
            effective,
        ]
    code = annual["jurisdiction"]
    label = {
        "CN": t.pgettext("rate label", "Annualised rate (年化利率)"),
        "GB": t.pgettext("rate label", "APR"),
        "US": t.pgettext("rate label", "Annual percentage rate"),
    }[code]
    shown = percent(Decimal(annual["rate_percent"]) / 100, locale, annual["decimals"])
    return [(label, annual["rate"], shown), effective]


def flat_rows(document: Json, locale: Locale, t: Words) -> tuple[list[tuple[str, str, str]], str]:
    """A flat contract's rate row and its sentence, or none: the flat charge is on the amount
    first owed every period, however much is left, so the annual rate the law requires (the
    row above it) is nearly twice the flat rate a year; the page says so beside both."""
    flat = document.get("terms", {}).get("flat")
    if not flat:
        return [], ""
    annual = document["metrics"].get("annual_rate")
    flat_rate = Decimal(flat["flat_annual_rate"])
    every = {
        "monthly": t.pgettext("flat charge", "a month"),
        "weekly": t.pgettext("flat charge", "a week"),
        "biweekly": t.pgettext("flat charge", "every two weeks"),
        "semi_monthly": t.pgettext("flat charge", "twice a month"),
    }[document["terms"]["frequency"]]
    row = (t.gettext("Flat rate (a year, on the amount first owed)"), flat["flat_annual_rate"],
           percent(flat_rate, locale))  # fmt: skip
    measured = (
        percent(Decimal(annual["rate_percent"]) / 100, locale, annual["decimals"])
        if annual is not None
        else percent(Decimal(document["metrics"]["apr"]), locale)
    )
    note = t.gettext(
        "This plan adds a flat charge of %(charge)s %(every)s, worked out on the amount first"
        " owed and charged in full until the end, even as you repay it: %(flat)s a year flat."
        " Measured on what you still owe, as the law requires, it costs %(annual)s a year.",
        charge=money(minor_of(document, flat["charge_per_period"]), document["currency"], locale),
        every=every,
        flat=percent(flat_rate, locale),
        annual=measured,
    )
    return [row], note


def _rate_note(metrics: Json, t: Words) -> str | None:
    """One sentence on how the jurisdiction's rate is measured, and one on the effective
    annual rate (None on an offer saved before it carried that rate)."""
    annual = metrics.get("annual_rate")
    if annual is None:
        return None
    return t.gettext(
        "%(how)s The effective annual rate is the same cost compounded over a whole year.",
        how=_measured(annual["jurisdiction"], t),
    )


def _measured(jurisdiction: str, t: Words) -> str:
    if jurisdiction == "CN":
        return t.gettext(
            "The annualised rate (年化利率) is worked out by the internal-rate-of-return method"
            " of the People's Bank of China (Announcement [2021] No. 3): the rate per period"
            " that your payments' amounts and dates imply, times the periods in a year."
        )
    if jurisdiction == "GB":
        return t.gettext(
            "The APR is worked out as the FCA's rules require (CONC App 1.1): the yearly rate,"
            " compounded, at which your payments on their dates repay what you owe."
        )
    return t.gettext(
        "The annual percentage rate is worked out as Regulation Z requires (12 CFR 1026,"
        " Appendix J): the rate per period that your payments' amounts and dates imply, times"
        " the periods in a year."
    )


def _amount(document: Json, amount: str, locale: Locale) -> Json:
    minor = minor_of(document, amount)
    return {"minor": str(minor), "text": money(minor, document["currency"], locale)}


def _payments(document: Json, view: OfferView, locale: Locale) -> list[Json]:
    currency = document["currency"]

    def a(minor: int) -> Json:
        return {"minor": str(minor), "text": money(minor, currency, locale)}

    return [
        {
            "date_iso": p.paid_on.isoformat(),
            "date": day(p.paid_on, locale),
            "reference": p.reference,
            "amounts": [
                a(p.amount_minor),
                a(p.principal_minor),
                a(p.interest_minor),
                a(p.fees_minor),
                a(p.balance_after_minor),
            ],
        }
        for p in view.payments
    ]


def _payoff(view: OfferView, currency: str, locale: Locale, t: Words) -> Json | None:
    quote = view.payoff
    if quote is None:
        return None

    def a(minor: int) -> Json:
        return {"minor": str(minor), "text": money(minor, currency, locale)}

    amount = money(quote.amount_minor, currency, locale)
    sentence = (
        t.gettext("To finish today: %(amount)s.", amount=amount)
        if quote.valid_until is None
        else t.gettext(
            "To finish today: %(amount)s, valid until %(date)s.",
            amount=amount,
            date=day(quote.valid_until, locale),
        )
    )
    return {
        "sentence": sentence,
        "valid_until_iso": None if quote.valid_until is None else quote.valid_until.isoformat(),
        "rows": [
            ("payoff_principal", t.gettext("Principal"), a(quote.principal_minor)),
            ("payoff_interest", t.gettext("Interest"), a(quote.interest_minor)),
            (
                "payoff_accrued_interest",
                t.gettext("of which accrued since the last payment date"),
                a(quote.accrued_interest_minor),
            ),
            ("payoff_fees", t.gettext("Fees"), a(quote.fees_minor)),
            ("payoff_waived", t.gettext("Waived if you finish today"), a(quote.waived_minor)),
        ],
        "amount": a(quote.amount_minor),
    }


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _contact(document: Json, view: OfferView, locale: Locale, t: Words) -> Json | None:
    contact = view.contact
    if contact is None:
        return None
    currency = document["currency"]

    # in running text ("Stop email"); a line that starts with one capitalises it (_capitalised)
    channel_names = {
        "email": t.pgettext("contact channel", "email"),
        "sms": t.pgettext("contact channel", "SMS"),
        "phone": t.pgettext("contact channel", "phone calls"),
    }

    def summary(m: SentMessage) -> str:
        if m.amount_minor is None or m.day is None:
            return {
                "reminder": t.gettext("Payment reminder"),
                "missed": t.gettext("Missed payment notice"),
                "confirmation": t.gettext("Payment confirmed"),
                "plan_broken": t.gettext("Plan ended: payments missed"),
                "plan_replaced": t.gettext("Plan replaced by a new plan"),
                "plan_completed": t.gettext("Plan paid in full"),
            }[m.kind]
        fields = {
            "number": m.number,
            "count": m.count,
            "amount": money(m.amount_minor, currency, locale),
            "date": day(m.day, locale),
        }
        if m.kind == "reminder":
            return t.gettext(
                "Reminder: payment %(number)s of %(count)s, %(amount)s due on %(date)s", **fields
            )
        if m.kind == "missed":
            return t.gettext(
                "Missed payment: payment %(number)s of %(count)s, %(amount)s due on %(date)s",
                **fields,
            )
        return t.gettext("Payment confirmed: %(amount)s received on %(date)s", **fields)

    messages = [
        {
            "iso": m.delivered_at.isoformat(),
            "when": _moment(m.delivered_at, locale),
            "channel": m.channel,
            "channel_text": _capitalised(channel_names[m.channel]),
            "kind": m.kind,
            "summary": summary(m),
        }
        for m in contact.messages
    ]
    channels = []
    for c in contact.channels:
        name = channel_names[c.channel]
        if c.opted_out_at is None:
            text = t.gettext("%(channel)s to %(address)s: allowed", channel=name, address=c.masked)
            change, button = "opt_out", t.gettext("Stop %(channel)s", channel=name)
        else:
            text = t.gettext(
                "%(channel)s to %(address)s: stopped at your request on %(date)s",
                channel=name,
                address=c.masked,
                date=_moment(c.opted_out_at, locale),
            )
            change, button = "opt_in", t.gettext("Allow %(channel)s again", channel=name)
        channels.append(
            {
                "channel": c.channel,
                "opted_out": c.opted_out_at is not None,
                "text": _capitalised(text),
                "change": change,
                "button": button,
            }
        )
    stopped = None if contact.stopped_at is None else _moment(contact.stopped_at, locale)
    return {
        "messages": messages,
        "channels": channels,
        "url": contact.preferences_url,
        "stopped": stopped,
    }


# ---------------------------------------------------------------------------------------------
# The public renderers


def render_offer_page(document: Json, view: OfferView, locale: Locale | str) -> str:
    """The debtor's page for one offer: a complete HTML5 document.

    Parameters
    ----------
    document : dict
        The offer as ``schemas.wire.offer_json`` makes it (amounts as decimal strings).
    view : OfferView
        State, masked name, payments and same-site URLs.
    locale : Locale or str
        ``"en"`` or ``"zh-CN"``; every word on the page is in it.

    Returns
    -------
    str
        The page; sections ``#offer #owed #statement #schedule #chart #rates #waived #missed
        #payments #payoff #status #contact #downloads`` (``#payoff`` only with
        ``view.payoff``, ``#statement`` only with ``view.statement``); the
        schedule rows carry ``data-number`` and their amount cells ``data-minor`` (exact minor
        units) for tests and scrapers.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from app.core.masking import mask_name
    >>> from plans.debt import Capacity, Debt
    >>> from plans.instalment import instalment_plan
    >>> from plans.policy import Policy
    >>> from schemas.wire import offer_json
    >>> debt = Debt("CNY", 1_000_000, 0, 0, Decimal("0.18"), date(2026, 11, 25), 60)
    >>> offer = instalment_plan(debt, policy=Policy(), capacity=Capacity(125_000))
    >>> document = offer_json(offer, summary="Pay CN¥1,250.00 a month.", policy={})
    >>> view = OfferView(
    ...     state="offered", expires_at=datetime(2026, 12, 9, tzinfo=timezone.utc),
    ...     masked_name=mask_name("John Smith"), missed_payment_text="...",
    ...     accept_url="/s/t/accept", lang_urls={}, ics_url="/s/t.ics", csv_url="/s/t.csv",
    ...     json_url="/s/t.json")
    >>> page = render_offer_page(document, view, "en")
    >>> page.startswith("<!DOCTYPE html>"), "J*** S****" in page, "<script" in page
    (True, True, False)
    """
    locale = Locale(locale)
    context = page_context(document, view, locale)
    return page_environment(locale=locale).get_template("offer.html").render(context)


def page_context(
    document: Json, view: OfferView, locale: Locale, *, terms: list[Json] | None = None
) -> Json:
    """What ``offer.html`` shows of ``document`` and ``view`` (:func:`render_offer_page`);
    ``terms``: the ``#offer`` rows, when not the single offer's own terms."""
    t = Words(locale)
    currency = document["currency"]
    as_of = date.fromisoformat(document["as_of"])
    owed = document["owed"]
    waiver = document["waiver"]
    metrics = document["metrics"]
    expires = _moment(view.expires_at, locale)
    accepted = None if view.accepted_at is None else day(view.accepted_at.date(), locale)
    context = {
        "lang": locale.value,
        "currency": currency,
        "view": view,
        "expires": expires,
        "accepted": accepted,
        "summary": view.summary if view.summary is not None else document["summary"],
        "owed_sentence": t.gettext(
            "This is the amount you owe on %(date)s: %(total)s. It is made up of:",
            date=day(as_of, locale),
            total=money(minor_of(document, owed["total"]), currency, locale),
        ),
        "owed": [
            (
                "owed_principal",
                t.gettext("Principal"),
                t.gettext("the money lent to you that has not been repaid"),
                _amount(document, owed["principal"], locale),
            ),
            (
                "owed_interest",
                t.gettext("Interest"),
                t.gettext(
                    "charged under your original agreement up to %(date)s", date=day(as_of, locale)
                ),
                _amount(document, owed["interest"], locale),
            ),
            (
                "owed_fees",
                t.gettext("Fees"),
                t.gettext("charges added to your account, such as late fees"),
                _amount(document, owed["fees"], locale),
            ),
        ],
        "owed_total": _amount(document, owed["total"], locale),
        "statement": statement_section(
            None if view.statement is None else dict(view.statement),
            currency=currency,
            locale=locale,
            change_url=view.change_url,
        ),
        "terms": _terms(document, locale, t) if terms is None else terms,
        "schedule": _schedule(document, view, locale, t),
        "chart": _chart(document, view, locale, t),
        "rates": rate_rows(metrics, locale, t)[:1]
        + flat_rows(document, locale, t)[0]
        + rate_rows(metrics, locale, t)[1:],
        "flat_note": flat_rows(document, locale, t)[1],
        "rate_note": _rate_note(metrics, t),
        "no_interest": minor_of(document, metrics["finance_charge"]) == 0,
        "waived_total": _amount(document, waiver["total"], locale),
        "waived": [
            (f"waived_{part}", label, _amount(document, waiver[part], locale))
            for part, label in (
                ("fees", t.gettext("Fees")),
                ("interest", t.gettext("Interest")),
                ("principal", t.gettext("Principal")),
            )
            if minor_of(document, waiver[part])
        ],
        # A settlement in instalments forgives its discount with the last payment only.
        "waived_conditional": document["kind"] == "settlement_plan",
        "payments": _payments(document, view, locale),
        "payoff": _payoff(view, currency, locale, t),
        "plan_status_text": None
        if view.plan_status is None
        else {
            "active": t.gettext("The plan is active."),
            "late": t.gettext("A payment is late: please pay it as soon as you can."),
            "missed": t.gettext(
                "A payment has been missed; see “If you miss a payment”, or ask for a change."
            ),
            "cured": t.gettext("The plan is back on track: the payments missed have been made."),
            "completed": t.gettext("The plan is complete: nothing more is owed."),
            "broken": t.gettext(
                "The plan has ended because payments were missed; see “If you miss a payment”."
            ),
            "replaced": t.gettext(
                "This plan has been replaced by a new one: only the new plan's payments are due."
            ),
            "cancelled": t.gettext("This plan has been cancelled."),
            "written_off": t.gettext("The creditor has stopped collecting what was left."),
        }[view.plan_status],
        "contact": _contact(document, view, locale, t),
        "balance_now": None
        if not view.payments
        else money(view.payments[-1].balance_after_minor, currency, locale),
        "languages": [
            (other.value, LANGUAGE_NAMES[other], view.lang_urls.get(other), other is locale)
            for other in Locale
            if other is locale or other in view.lang_urls
        ],
        "consolidated": None,
    }
    return context


@cache
def render_not_found(locale: Locale | str) -> str:
    """The one 404 page for unknown, expired and revoked links alike.

    It depends on the locale only, so it cannot tell which of the three it was, nor echo the
    token.

    Examples
    --------
    >>> render_not_found("en") == render_not_found(Locale.EN)
    True
    >>> "Page not found" in render_not_found("en")
    True
    """
    locale = Locale(locale)
    return page_environment(locale=locale).get_template("not_found.html").render(lang=locale.value)
