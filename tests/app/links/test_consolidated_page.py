"""The debtor's page of a consolidated offer (``app/links/consolidated_page.py``), pinned by
golden files in both languages, before and after acceptance (issue 19: "The debtor's page
shows: the combined plan; a table per debt (what it owed, what it gets, when it is cleared);
the allocation rule in one sentence").

The offer is the contract's two-debt example (``schemas.offers.DEBTS_EXAMPLE``): 10,500.00
(10,000.00 principal, 350.00 interest, 150.00 fees) and 5,000.00 CNY, 900.00 a month, shared pro
rata by balance under the default policy (interest frozen): 10,500 : 5,000 of 900.00 is
609.677... and 290.322..., and each debt's shortest level plan within its share is 18 payments:
10,500.00 / 18 = 583.33 (17 times, and a last of 583.39) and 5,000.00 / 18 = 277.78 (17 times,
and a last of 277.74); 861.11 a month together, 861.13 the last. The first payment pays the
card's fees (150.00) and interest (350.00) first, then 83.33 of its principal.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import markupsafe
import pytest

from app.links.consolidated_page import render_consolidated_page
from app.links.views import ConfirmedPayment, DebtPart, InstalmentStatus
from app.offers.consolidated import allocation_text, consolidated_summary
from plans.allocation import AllocationRule, NamedDebt
from plans.consolidation import consolidated_instalment
from plans.debt import Capacity, Debt
from plans.policy import Policy
from schemas.common import Locale
from schemas.wire import consolidated_json
from tests.app.links.test_pages import POLICY_USED, SHANGHAI, golden, view

DEBTS = [
    NamedDebt(
        "card-0412", Debt("CNY", 1_000_000, 35_000, 15_000, Decimal("0.18"), date(2026, 11, 25), 95)
    ),
    NamedDebt("loan-2291", Debt("CNY", 500_000, 0, 0, Decimal("0.24"), date(2026, 11, 25), 200)),
]
OFFER = consolidated_instalment(DEBTS, Capacity(90_000), policy=Policy())


def document(locale: Locale) -> dict[str, object]:
    return consolidated_json(
        OFFER,
        summary=consolidated_summary(OFFER, locale),
        allocation_text=allocation_text(AllocationRule.PRO_RATA, locale),
        policy=POLICY_USED,
    )


def parts(accepted: bool) -> list[DebtPart]:
    return [
        DebtPart(
            p.named.ref,
            p.outcome.owed_minor,
            p.outcome.interest_accrued_minor,
            p.outcome.paid_minor,
            p.outcome.waived_minor,
            p.outcome.cleared_on,
            "active" if accepted else None,
            p.offer.schedule.lines[0].payment_minor if accepted else 0,
        )
        for p in OFFER.debts
    ]


def test_the_offer_shares_the_capacity_as_worked_by_hand() -> None:
    lines = OFFER.schedule.lines
    assert [x.payment_minor for x in lines] == [86_111] * 17 + [86_113]
    shares = [[a.payment_minor for a in shared] for shared in OFFER.allocations]
    assert shares == [[58_333, 27_778]] * 17 + [[58_339, 27_774]]


@pytest.mark.parametrize("locale", list(Locale))
def test_golden_consolidated_pages(locale: Locale) -> None:
    page = render_consolidated_page(
        document(locale), parts(False), view(locale), locale, frequency="monthly"
    )
    golden(f"consolidated_offer.{locale.value}.html", page.encode())
    # every debt's table and every line's shares, in exact minor units
    for p in OFFER.debts:
        assert f'<dl class="facts" data-debt-ref="{p.named.ref}">' in page
    assert page.count('class="share"') == 2 * len(OFFER.schedule.lines)
    assert str(markupsafe.escape(allocation_text(AllocationRule.PRO_RATA, locale))) in page


def test_golden_consolidated_page_accepted_and_paid() -> None:
    first = OFFER.schedule.lines[0]
    accepted = replace(
        view(Locale.EN),
        state="accepted",
        accepted_at=datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI),
        plan_status="active",
        payments=[
            ConfirmedPayment(first.payment_date, 86_111, "WX-1", 36_111, 35_000, 15_000, 1_463_889)
        ],
        instalments=[
            InstalmentStatus(
                x.number,
                x.payment_date,
                "paid" if x.number == 1 else "due",
                x.payment_minor,
                x.payment_minor if x.number == 1 else 0,
            )
            for x in OFFER.schedule.lines
        ],
    )
    page = render_consolidated_page(
        document(Locale.EN), parts(True), accepted, Locale.EN, frequency="monthly"
    )
    golden("consolidated_offer_accepted.en.html", page.encode())
    paid = re.findall(r'data-column="paid_so_far" data-minor="(\d+)"', page)
    assert paid == ["58333", "27778"]
