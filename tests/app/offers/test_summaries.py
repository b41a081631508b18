"""The one-sentence summary of an offer (``app/offers/summaries.py``), in both languages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from babel import Locale as BabelLocale
from babel.numbers import format_currency, list_currencies
from hypothesis import given, settings
from hypothesis import strategies as st

from app.offers.summaries import Written, money, summary, written
from plans.amortisation import Amortisation
from plans.calendar import Frequency
from plans.debt import Capacity, Debt
from plans.instalment import instalment_plan
from plans.money import from_minor
from plans.policy import Policy
from schemas.common import Locale

# 12,000.00 at 10 % a year, 12 monthly payments of equal principal from 15 Feb 2026: 1,000.00
# of principal each; the first's interest is 12,000.00 x 10 % / 12 = 100.00 (1,100.00), the
# last's 1,000.00 x 10 % / 12 = 8.333 -> 8.33 (1,008.33); the interest in all is 10 % / 12 x
# (12 + 11 + ... + 1) x 1,000.00 = 650.00, every month's rounding cancelling out
# (100.00 + 91.67 + 83.33 + ... + 16.67 + 8.33), so the total is 12,650.00.
DEBT = Debt("CNY", 1_200_000, 0, 0, Decimal("0.10"), date(2026, 1, 15), 40)


def equal_principal(frequency: Frequency = Frequency.MONTHLY, term: int = 12) -> tuple[str, str]:
    offer = instalment_plan(
        DEBT,
        policy=Policy(plan_rate=None),
        term=term,
        frequency=frequency,
        amortisation=Amortisation.EQUAL_PRINCIPAL,
    )
    return summary(offer, Locale.EN), summary(offer, Locale.ZH_CN)


def test_an_equal_principal_plan_says_its_first_and_last_payment() -> None:
    en, zh = equal_principal()
    assert en == (
        "Pay 12 monthly payments falling from CN¥1,100.00 to CN¥1,008.33, starting"
        " 15 Feb 2026; interest 10.00% a year (annualised rate 10.00%); total CN¥12,650.00."
    )
    assert zh == (
        "自2026年2月15日起每月还款，共12期，由¥1,100.00逐期递减至¥1,008.33；"
        "年利率10.00%（年化利率10.00%）；合计¥12,650.00。"
    )
    assert "a month" not in en


@pytest.mark.parametrize(
    ("jurisdiction", "en", "zh"),
    [
        # a CN debt: the 年化利率 of PBOC Announcement [2021] No. 3, 2 places
        ("CN", "(annualised rate 10.00%)", "（年化利率10.00%）"),
        # GB: the APR of CONC App 1.1, one place: (1 + 0.10 / 12)^12 - 1 = 10.47 % -> 10.5 %
        ("GB", "(APR 10.5%)", "（APR10.5%）"),
        # US: the APR of Regulation Z, 2 places
        ("US", "(APR 10.00%)", "（APR10.00%）"),
    ],
)
def test_the_rate_is_the_jurisdictions_named_as_its_law_names_it(
    jurisdiction: str, en: str, zh: str
) -> None:
    debt = Debt("CNY", 1_200_000, 0, 0, Decimal("0.10"), date(2026, 1, 15), 40, jurisdiction)
    offer = instalment_plan(debt, policy=Policy(plan_rate=None), term=12)
    assert en in summary(offer, Locale.EN) and zh in summary(offer, Locale.ZH_CN)


def test_a_level_plan_still_says_so_much_a_month() -> None:
    # README: 10,000.00, no interest, at most 1,250.00 a month: 8 of 1,250.00
    debt = Debt("CNY", 1_000_000, 0, 0, Decimal("0.18"), date(2026, 11, 25), 60)
    offer = instalment_plan(
        debt, policy=Policy(), capacity=Capacity(125_000, earliest_start=date(2026, 12, 15))
    )
    assert summary(offer, Locale.EN) == (
        "Pay CN¥1,250.00 a month for 8 months from 15 Dec 2026; no interest; total CN¥10,000.00."
    )


@pytest.mark.parametrize(
    ("frequency", "en", "zh"),
    [
        (Frequency.WEEKLY, "Pay 4 weekly payments falling from", "每周还款，共4期"),
        (Frequency.BIWEEKLY, "Pay 4 fortnightly payments falling from", "每两周还款，共4期"),
        (Frequency.SEMI_MONTHLY, "Pay 4 twice-monthly payments falling from", "每半月还款，共4期"),
    ],
)
def test_each_frequency_has_its_own_words(frequency: Frequency, en: str, zh: str) -> None:
    english, chinese = equal_principal(frequency, 4)
    assert english.startswith(en)
    assert zh in chinese and "逐期递减至" in chinese


def _babel(locale: Locale) -> BabelLocale:
    return BabelLocale.parse(locale.value.replace("-", "_"))


# Every currency the engine counts in (plans.money.exponent: ISO 4217 via CLDR).
_COUNTED = sorted(list_currencies())


@settings(max_examples=300, deadline=None)
@given(
    currency=st.sampled_from(_COUNTED),
    locale=st.sampled_from(list(Locale)),
    minor=st.integers(min_value=-(10**18), max_value=10**18),
)
def test_an_amount_is_written_exactly_as_babel_writes_it(
    currency: str, locale: Locale, minor: int
) -> None:
    """The rule: ``money`` writes every amount of every currency as Babel (CLDR) does, in each
    language; the words around the digits read once (``written``) instead of Babel's pattern
    and Decimal work for each amount. E.g. 1,234,567.89 CNY: "CN¥1,234,567.89" in English,
    "¥1,234,567.89" in Chinese; 1250 JPY: "¥1,250" / "JP¥1,250"."""
    expected = str(format_currency(from_minor(minor, currency), currency, locale=_babel(locale)))
    assert money(minor, currency, locale) == expected


def test_the_currencies_of_the_service_are_written_without_babel_for_each_amount() -> None:
    """The amounts a negotiation writes (CNY, USD, GBP, JPY, EUR) take the fast way."""
    for currency in ("CNY", "USD", "GBP", "JPY", "EUR", "KWD"):
        for locale in Locale:
            assert written(currency, locale) is not None
    assert written("CNY", Locale.EN) == Written("CN¥", ",", ".", 2, "")
