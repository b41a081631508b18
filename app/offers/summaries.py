"""One sentence per offer that a collector can read out or paste, in English or Chinese.

Amounts and dates are formatted by Babel (CLDR) for the locale; the sentence states the
payments, the interest (or that there is none), what is waived and the total.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel import Locale as BabelLocale
from babel.dates import format_date
from babel.numbers import format_currency, format_percent

from plans.calendar import Frequency
from plans.money import from_minor
from plans.offer import Offer
from plans.policy import OfferKind
from plans.schedule import LineKind
from schemas.common import Locale

_BABEL = {Locale.EN: BabelLocale.parse("en"), Locale.ZH_CN: BabelLocale.parse("zh_CN")}

_EVERY = {
    Locale.EN: {
        Frequency.MONTHLY: ("a month", "month", "months"),
        Frequency.WEEKLY: ("a week", "week", "weeks"),
        Frequency.BIWEEKLY: ("every two weeks", "fortnight", "fortnights"),
        Frequency.SEMI_MONTHLY: ("twice a month", "half-month", "half-months"),
    },
    Locale.ZH_CN: {
        Frequency.MONTHLY: ("每月", "个月", "个月"),
        Frequency.WEEKLY: ("每周", "周", "周"),
        Frequency.BIWEEKLY: ("每两周", "期", "期"),
        Frequency.SEMI_MONTHLY: ("每半月", "期", "期"),
    },
}


@lru_cache(maxsize=4096)
def money(minor: int, currency: str, locale: Locale) -> str:
    """An amount as the locale writes it (a pure function of its inputs, so memoised).

    Examples
    --------
    >>> money(125000, "CNY", Locale.ZH_CN), money(125000, "CNY", Locale.EN)
    ('¥1,250.00', 'CN¥1,250.00')
    """
    return str(format_currency(from_minor(minor, currency), currency, locale=_BABEL[locale]))


@lru_cache(maxsize=1024)
def day(value: date, locale: Locale) -> str:
    """A date as the locale writes it in running text.

    Examples
    --------
    >>> day(date(2026, 12, 15), Locale.EN), day(date(2026, 12, 15), Locale.ZH_CN)
    ('15 Dec 2026', '2026年12月15日')
    """
    pattern = "d MMM y" if locale is Locale.EN else "long"
    return str(format_date(value, format=pattern, locale=_BABEL[locale]))


def percent(rate: Decimal, locale: Locale) -> str:
    """A rate as a percentage with two decimals.

    Examples
    --------
    >>> percent(Decimal("0.18"), Locale.EN)
    '18.00%'
    """
    return str(format_percent(rate, "#,##0.00%", locale=_BABEL[locale]))


def summary(offer: Offer, locale: Locale) -> str:
    """The offer in one sentence.

    Examples
    --------
    >>> from plans.debt import Capacity, Debt
    >>> from plans.instalment import instalment_plan
    >>> from plans.policy import Policy
    >>> debt = Debt("CNY", 1_000_000, 0, 0, Decimal("0.18"), date(2026, 11, 25), 60)
    >>> offer = instalment_plan(
    ...     debt, policy=Policy(), capacity=Capacity(125_000, earliest_start=date(2026, 12, 15))
    ... )
    >>> summary(offer, Locale.EN)
    'Pay CN¥1,250.00 a month for 8 months from 15 Dec 2026; no interest; total CN¥10,000.00.'
    >>> summary(offer, Locale.ZH_CN)
    '自2026年12月15日起每月还款¥1,250.00，共8个月；免息；合计¥10,000.00。'
    """
    en = locale is Locale.EN
    currency = offer.currency

    def m(minor: int) -> str:
        return money(minor, currency, locale)

    terms, metrics = offer.terms, offer.metrics
    every, one, many = _EVERY[locale][terms.frequency]
    parts: list[str] = []
    lines = offer.schedule.lines
    if offer.kind is OfferKind.SETTLEMENT:
        deadline = day(terms.settle_by or lines[0].due_date, locale)
        parts.append(
            f"Pay {m(metrics.total_paid_minor)} by {deadline} to settle the debt in full"
            if en
            else f"于{deadline}前一次性还款{m(metrics.total_paid_minor)}即可结清全部欠款"
        )
    else:
        down = [x for x in lines if x.kind is LineKind.DOWN_PAYMENT]
        if down:
            parts.append(
                f"Pay {m(down[0].payment_minor)} now"
                if en
                else f"立即支付首付款{m(down[0].payment_minor)}"
            )
        if terms.deferral_periods:
            paused = terms.deferral_periods
            pause_unit = many if paused > 1 else one
            if terms.deferral_payment_minor:
                token = m(terms.deferral_payment_minor)
                parts.append(
                    f"pay {token} {every} for {paused} {pause_unit}"
                    if en
                    else f"前{paused}{many}{every}仅还{token}"
                )
            else:
                parts.append(
                    f"pay nothing for {paused} {pause_unit}" if en else f"前{paused}{many}暂停还款"
                )
        instalments = [x for x in lines if x.kind is LineKind.INSTALMENT]
        if instalments:
            first = instalments[0]
            n = len(instalments)
            start = day(first.due_date, locale)
            level = m(terms.instalment_minor)
            unit = one if n == 1 else many
            parts.append(
                f"{'then ' if parts else ''}pay {level} {every} for {n} {unit} from {start}"
                if en
                else f"{'随后' if parts else ''}自{start}起{every}还款{level}，共{n}{unit}"
            )
            if instalments[-1].payment_minor != terms.instalment_minor and n > 1:
                last = m(instalments[-1].payment_minor)
                parts[-1] += f" (last payment {last})" if en else f"（末期{last}）"
    sentence = ("; " if en else "，").join(parts)
    sentence = sentence[0].upper() + sentence[1:] if en else sentence
    details: list[str] = []
    if offer.metrics.finance_charge_minor == 0:
        details.append("no interest" if en else "免息")
    else:
        rate = percent(terms.nominal_annual_rate, locale)
        apr = percent(metrics.apr, locale)
        details.append(
            f"interest {rate} a year (APR {apr})" if en else f"年利率{rate}（APR {apr}）"
        )
    if metrics.total_waived_minor:
        waived = m(metrics.total_waived_minor)
        conditional = offer.kind is OfferKind.SETTLEMENT_PLAN
        if en:
            details.append(
                f"{waived} waived" + (" when the last payment is made" if conditional else "")
            )
        else:
            details.append(("还清最后一期后" if conditional else "") + f"减免{waived}")
    details.append(
        f"total {m(metrics.total_paid_minor)}" if en else f"合计{m(metrics.total_paid_minor)}"
    )
    joiner = "; " if en else "；"
    return sentence + joiner + joiner.join(details) + ("." if en else "。")
