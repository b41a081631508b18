"""The debtor's downloads of a shared offer (``app/links/downloads.py``): its payments as a
calendar and its schedule as CSV, from the same documents as the page
(tests/app/links/test_pages.py) and pinned by the same golden files
(``tests/golden/pages/offer.ics``, ``offer.csv``; regenerate on purpose with REPAY_UPDATE_GOLDEN=1
and review the diff).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest

from app.links.downloads import offer_csv, offer_ics
from app.links.pages import CSV_COLUMNS
from app.offers.summaries import money
from schemas.common import Locale
from tests.app.links.test_pages import (
    OFFER_IDS,
    _document,
    _offers,
    accepted_view,
    golden,
    minor_of,
    readme_offer,
    view,
)

# --- the calendar ------------------------------------------------------------------------------

STAMP = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("index", range(len(OFFER_IDS)), ids=OFFER_IDS)
def test_one_event_per_payment_with_a_three_day_reminder(index: int) -> None:
    document = _document(_offers()[index], Locale.EN)
    ics = offer_ics(document, view(), uid_base="offer-7@repay.test", stamp=STAMP)
    calendar = icalendar.Calendar.from_ical(ics)
    events = list(calendar.walk("VEVENT"))
    paying = [x for x in document["schedule"]["lines"] if minor_of(document, x["payment"])]
    assert len(events) == len(paying)
    for k, (event, line) in enumerate(zip(events, paying, strict=True), start=1):
        taken = date.fromisoformat(line["payment_date"])
        assert event.decoded("dtstart") == taken
        assert event.decoded("dtend") == taken + timedelta(days=1)
        assert str(event["uid"]) == f"offer-7@repay.test-{line['number']}"
        assert event.decoded("dtstamp") == STAMP
        assert str(event["status"]) == "TENTATIVE"
        amount = money(minor_of(document, line["payment"]), document["currency"], Locale.EN)
        assert str(event["summary"]) == f"Payment {k} of {len(paying)}: {amount}"
        (alarm,) = event.walk("VALARM")
        assert str(alarm["action"]) == "DISPLAY"
        assert alarm.decoded("trigger") == timedelta(days=-3)
    assert b"TRIGGER:-P3D" in ics
    assert b"J*** S****" not in ics and b"John" not in ics


def test_the_calendar_follows_the_plan() -> None:
    document = _document(readme_offer(), Locale.ZH_CN)
    accepted = accepted_view(Locale.ZH_CN, document)
    events = icalendar.Calendar.from_ical(
        offer_ics(document, accepted, uid_base="o", locale=Locale.ZH_CN, stamp=STAMP)
    ).walk("VEVENT")
    assert {str(e["status"]) for e in events} == {"CONFIRMED"}
    assert str(events[0]["summary"]) == "第1期还款（共12期）：¥888.49（已还）"
    assert events[0].walk("VALARM") == []  # paid: no reminder
    assert len(events[1].walk("VALARM")) == 1  # partly paid: still reminded
    replaced = offer_ics(document, view(state="superseded"), uid_base="o", stamp=STAMP)
    cancelled = icalendar.Calendar.from_ical(replaced).walk("VEVENT")
    assert {str(e["status"]) for e in cancelled} == {"CANCELLED"}
    assert b"BEGIN:VALARM" not in replaced


# --- the CSV -----------------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(OFFER_IDS)), ids=OFFER_IDS)
def test_csv_rows_are_the_documents_lines(index: int) -> None:
    document = _document(_offers()[index], Locale.EN)
    text = offer_csv(document)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    lines = document["schedule"]["lines"]
    assert len(rows) == len(lines) + 1
    for row, line in zip(rows, lines, strict=False):
        assert row == {c: str(line[c]) for c in CSV_COLUMNS}
    totals = rows[-1]
    assert totals["number"] == "total"
    assert {c: totals[c] for c in document["schedule"]["totals"]} == document["schedule"]["totals"]
    assert text.count("\r\n") == len(lines) + 2  # RFC 4180 line breaks: header, lines, totals


def test_golden_calendar_and_csv() -> None:
    en = _document(readme_offer(), Locale.EN)
    ics = offer_ics(en, accepted_view(Locale.EN, en), uid_base="offer-1@repay.test", stamp=STAMP)
    golden("offer.ics", ics)
    golden("offer.csv", offer_csv(en).encode())
