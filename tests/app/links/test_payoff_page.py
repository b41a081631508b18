"""What finishes the plan today on the debtor's page (the ``#payoff`` section of
``app/links/pages.py``): the README example's quote, checked by hand and against the engine,
in both languages. Its golden files are test_pages.py's."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from app.links.pages import render_offer_page
from app.links.plans import scheduled_lines
from plans.offer import Owed
from plans.payments import Payment, plan_state, standing_payoff
from plans.policy import Policy
from plans.schedule import Waiver
from schemas.common import Locale
from tests.app.links.test_pages import (
    LOCALES,
    README_PAYOFF,
    _document,
    _section,
    accepted_view,
    readme_offer,
)


def test_the_readme_payoff_is_the_engines() -> None:
    document = _document(readme_offer(), Locale.EN)
    lines = scheduled_lines(document)
    payments = [
        Payment(p.paid_on, p.amount_minor) for p in accepted_view(Locale.EN, document).payments
    ]
    policy = Policy(plan_rate=None)
    on = README_PAYOFF.on
    state = plan_state(
        lines, payments, on=on, policy=policy, owed=Owed(1_000_000, 0, 0), waiver=Waiver()
    )
    held = standing_payoff(
        lines,
        state,
        settlement=False,
        nominal_annual_rate=Decimal("0.12"),
        as_of=date(2026, 1, 15),
        on=on,
        policy=policy,
    )
    q = held.quote
    assert held.valid_until == README_PAYOFF.valid_until
    assert (q.principal_minor, q.interest_minor, q.accrued_interest_minor) == (
        900_363,
        1_184,
        1_184,
    )
    assert (q.fees_minor, q.waived_minor, q.amount_minor) == (0, 592, 900_955)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_live_plan_shows_what_finishes_it_today(locale: Locale) -> None:
    document = _document(readme_offer(), locale)
    html = render_offer_page(document, accepted_view(locale, document), locale)
    section = _section(html, "payoff")
    sentence = {
        Locale.EN: "To finish today: CN¥9,009.55, valid until 20 Mar 2026.",
        Locale.ZH_CN: "今日结清需还款¥9,009.55，有效期至2026年3月20日。",
    }
    assert sentence[locale] in section
    assert 'data-valid-until="2026-03-20"' in section
    shown = dict(re.findall(r'data-column="(payoff_\w+)" data-minor="(\d+)"', section))
    assert shown == {
        "payoff_principal": "900363",
        "payoff_interest": "1184",
        "payoff_accrued_interest": "1184",
        "payoff_fees": "0",
        "payoff_waived": "592",
        "payoff_amount": "900955",
    }
    # without a quote (offered, completed, broken: the view carries none) there is no section
    bare = replace(accepted_view(locale, document), payoff=None)
    assert 'id="payoff"' not in render_offer_page(document, bare, locale)


def test_a_payoff_whose_parts_do_not_add_up_is_refused() -> None:
    with pytest.raises(ValueError, match="must equal the amount"):
        replace(README_PAYOFF, amount_minor=900_956)
