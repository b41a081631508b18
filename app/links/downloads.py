"""The debtor's downloads of a shared offer: its payments as a calendar, its schedule as CSV.

Pure functions of the offer document (and, for the calendar, the locale and a timestamp), like
the page (``app.links.pages``), so a golden file pins each byte for byte.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar

from app.core.i18n import Words
from app.links.pages import AMOUNT_COLUMNS, CSV_COLUMNS, REMINDER_BEFORE, minor_of, schedule_lines
from app.links.views import OfferView
from app.offers.summaries import day, money
from schemas.common import Locale

Json = dict[str, Any]


def offer_ics(
    document: Json,
    view: OfferView,
    *,
    uid_base: str,
    locale: Locale | str = Locale.EN,
    stamp: datetime | None = None,
) -> bytes:
    """The plan's payments as an iCalendar file (RFC 5545), one all-day event per payment.

    Each event falls on the day the payment is taken (the business day), carries the UID
    ``f"{uid_base}-{number}"`` (stable, so re-importing updates rather than duplicates) and a
    display alarm three days before. Events are TENTATIVE while the offer is open, CONFIRMED
    once accepted, CANCELLED if it was replaced or the plan broke; a paid instalment keeps its
    event but loses its reminder. No name, not even masked, goes into the calendar.

    Parameters
    ----------
    document : dict
        The offer document.
    view : OfferView
        For the offer's state and the instalments' statuses.
    uid_base : str
        A globally unique prefix for this offer, e.g. ``"offer-42@repay.example"``.
    locale : Locale or str
        The language of the events' text.
    stamp : datetime, optional
        DTSTAMP (when the file was made); now, in UTC, if omitted.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from decimal import Decimal
    >>> from plans.debt import Debt
    >>> from plans.settlement import settlement
    >>> from plans.policy import Policy
    >>> from schemas.wire import offer_json
    >>> debt = Debt("CNY", 1_000_000, 0, 0, Decimal("0.18"), date(2026, 11, 25), 200)
    >>> document = offer_json(settlement(debt, policy=Policy()), summary="", policy={})
    >>> view = OfferView(
    ...     state="offered", expires_at=datetime(2026, 12, 9, tzinfo=timezone.utc),
    ...     masked_name="*", missed_payment_text="", accept_url="/a", lang_urls={},
    ...     ics_url="/i", csv_url="/c", json_url="/j")
    >>> calendar = icalendar.Calendar.from_ical(offer_ics(document, view, uid_base="o-1"))
    >>> [str(e["summary"]) for e in calendar.walk("VEVENT")]
    ['Payment 1 of 1: CN¥8,000.00']
    """
    locale = Locale(locale)
    t = Words(locale)
    currency = document["currency"]
    stamp = stamp or datetime.now(UTC)
    statuses = {s.number: s.status for s in view.instalments}
    if view.state == "superseded" or view.plan_status in (
        "broken",
        "replaced",
        "cancelled",
        "written_off",
    ):
        event_status = "CANCELLED"
    elif view.state == "accepted":
        event_status = "CONFIRMED"
    else:
        event_status = "TENTATIVE"

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//repay//shared plan//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", t.gettext("Repayment plan"))
    paying = [x for x in schedule_lines(document) if minor_of(document, x["payment"])]
    for k, line in enumerate(paying, start=1):

        def m(column: str, line: Json = line) -> str:
            return money(minor_of(document, line[column]), currency, locale)

        due = date.fromisoformat(line["due_date"])
        taken = date.fromisoformat(line["payment_date"])
        paid = statuses.get(line["number"]) == "paid"
        title = t.gettext(
            "Payment %(k)s of %(n)s: %(amount)s", k=k, n=len(paying), amount=m("payment")
        )
        if paid:
            title = t.gettext("%(title)s (paid)", title=title)
        description = t.gettext(
            "Payment %(amount)s: principal %(principal)s, interest %(interest)s, fees %(fees)s."
            " Balance after: %(balance)s.",
            amount=m("payment"),
            principal=m("principal"),
            interest=m("interest"),
            fees=m("fees"),
            balance=m("closing_balance"),
        )
        if taken != due:
            description = t.gettext(
                "%(description)s Due %(due)s; taken on the next business day.",
                description=description,
                due=day(due, locale),
            )
        event = icalendar.Event()
        event.add("uid", f"{uid_base}-{line['number']}")
        event.add("dtstamp", stamp)
        event.add("dtstart", taken)
        event.add("dtend", taken + timedelta(days=1))  # all-day: DTEND is exclusive
        event.add("summary", title)
        event.add("description", description)
        event.add("status", event_status)
        event.add("transp", "TRANSPARENT")  # a reminder, not a busy block in the day
        if not paid and event_status != "CANCELLED":
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            reminder = t.gettext(
                "Payment of %(amount)s due on %(date)s",
                amount=m("payment"),
                date=day(taken, locale),
            )
            alarm.add("description", reminder)
            alarm.add("trigger", -REMINDER_BEFORE)
            event.add_component(alarm)
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def offer_csv(document: Json) -> str:
    """The schedule as CSV: a header, one row per line, a totals row (RFC 4180, CRLF).

    Dates are ISO 8601 and amounts the document's own decimal strings, unformatted, so a
    spreadsheet reads them as numbers and they match the JSON exactly.

    Examples
    --------
    >>> from decimal import Decimal
    >>> from plans.debt import Debt
    >>> from plans.settlement import settlement
    >>> from plans.policy import Policy
    >>> from schemas.wire import offer_json
    >>> debt = Debt("CNY", 1_000_000, 0, 0, Decimal("0.18"), date(2026, 11, 25), 200)
    >>> text = offer_csv(offer_json(settlement(debt, policy=Policy()), summary="", policy={}))
    >>> header, line, totals = text.splitlines()
    >>> header.split(",")[:6]
    ['number', 'kind', 'due_date', 'payment_date', 'opening_balance', 'payment']
    >>> line
    '1,settlement,2026-12-09,2026-12-09,10000.00,8000.00,0.00,0.00,8000.00,2000.00,0.00,0.00'
    >>> totals
    'total,,,,,8000.00,0.00,0.00,8000.00,2000.00,0.00,'
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in schedule_lines(document):
        writer.writerow([line[c] for c in CSV_COLUMNS])
    totals = document["schedule"]["totals"]
    writer.writerow(["total", "", "", "", *(totals.get(c, "") for c in AMOUNT_COLUMNS)])
    return out.getvalue()
