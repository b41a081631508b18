"""One sentence per offer that a collector can read out or paste, in English or Chinese.

Amounts and dates are formatted by Babel (CLDR) for the locale; the sentence states the
payments (level ones as so much a period, an equal-principal plan's falling ones by the first
and the last), the interest (or that there is none) with the annual rate the debt's
jurisdiction requires, named as its law names it, what is waived and the total.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache

from babel import Locale as BabelLocale
from babel.dates import format_date
from babel.numbers import format_currency, format_percent

from app.core.i18n import Words
from plans.amortisation import Amortisation
from plans.calendar import Frequency
from plans.money import exponent, from_minor
from plans.offer import Offer
from plans.policy import OfferKind
from plans.schedule import LineKind
from schemas.common import Locale

_BABEL = {Locale.EN: BabelLocale.parse("en"), Locale.ZH_CN: BabelLocale.parse("zh_CN")}


def _babel_money(minor: int, currency: str, locale: Locale) -> str:
    return str(format_currency(from_minor(minor, currency), currency, locale=_BABEL[locale]))


@dataclass(frozen=True, slots=True)
class Written:
    """How a locale writes amounts of one currency: what comes before the digits, the
    thousands separator, the decimal point and the places after it, what comes after.

    Read from Babel's own writing of a probe amount by :func:`written`, and kept only if it
    writes every check amount exactly as Babel does.

    Examples
    --------
    >>> Written("CN¥", ",", ".", 2, "")(123456789)
    'CN¥1,234,567.89'
    >>> Written("", " ", ",", 0, " ¥")(1250)
    '1 250 ¥'
    """

    prefix: str
    group: str
    point: str
    places: int
    suffix: str

    def __call__(self, minor: int) -> str:
        whole, part = divmod(minor, 10**self.places)
        digits = f"{whole:,}" if self.group == "," else f"{whole:,}".replace(",", self.group)
        if self.places:
            digits += self.point + str(part).rjust(self.places, "0")
        return self.prefix + digits + self.suffix


# Amounts Written must write as Babel does before it stands in for it: zero, single digits,
# every length of the integer part up to 10**15, each with its own fraction.
_CHECKS = [0, 1, 7, 10, 99, 100, 101, 999, 1_000, 12_345] + [10**k + k for k in range(3, 18)]


@cache
def written(currency: str, locale: Locale) -> Written | None:
    """How ``locale`` writes non-negative amounts of ``currency``, as Babel (CLDR) does, or
    None where that is not a prefix, grouped digits and a suffix (Babel writes those).

    Babel reads the locale's pattern and works in ``Decimal`` for every amount (about 23 us);
    the words around the digits are the same for every amount of the currency, so they are
    read once here, and an amount is then written with integer arithmetic (about 1 us).

    Examples
    --------
    >>> written("CNY", Locale.ZH_CN), written("JPY", Locale.EN).places
    (Written(prefix='¥', group=',', point='.', places=2, suffix=''), 0)
    """
    places = exponent(currency)
    probe = int("1234567" + "8" * places)
    text = _babel_money(probe, currency, locale)
    digits = [i for i, char in enumerate(text) if char.isdigit()]
    if not digits:
        return None
    first, last = digits[0], digits[-1]
    inner = text[first : last + 1]
    point = inner[-places - 1] if places else ""
    made = Written(text[:first], inner[1], point, places, text[last + 1 :])
    if any(made(minor) != _babel_money(minor, currency, locale) for minor in _CHECKS):
        return None
    return made


@lru_cache(maxsize=4096)
def money(minor: int, currency: str, locale: Locale) -> str:
    """An amount as the locale writes it (a pure function of its inputs, so memoised):
    Babel's writing, by :func:`written` where that holds.

    Examples
    --------
    >>> money(125000, "CNY", Locale.ZH_CN), money(125000, "CNY", Locale.EN)
    ('¥1,250.00', 'CN¥1,250.00')
    >>> money(-5, "CNY", Locale.EN)
    '-CN¥0.05'
    """
    how = written(currency, locale) if minor >= 0 else None
    return _babel_money(minor, currency, locale) if how is None else how(minor)


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


@lru_cache(maxsize=1024)  # a pure function of its inputs; a few rates a policy
def percent(rate: Decimal, locale: Locale, places: int = 2) -> str:
    """A rate as a percentage with ``places`` decimals (two unless a method says otherwise).

    Examples
    --------
    >>> percent(Decimal("0.18"), Locale.EN), percent(Decimal("0.293"), Locale.EN, 1)
    ('18.00%', '29.3%')
    """
    pattern = "#,##0." + "0" * places + "%" if places else "#,##0%"
    return str(format_percent(rate, pattern, locale=_BABEL[locale]))


def annual_rate_name(t: Words, jurisdiction: str) -> str:
    """The short name the jurisdiction's law gives the rate an offer discloses, in running
    text: CN 年化利率 (PBOC Announcement [2021] No. 3), GB and US "APR".

    Examples
    --------
    >>> annual_rate_name(Words(Locale.ZH_CN), "CN"), annual_rate_name(Words(Locale.EN), "GB")
    ('年化利率', 'APR')
    """
    if jurisdiction == "CN":
        return t.pgettext("rate name", "annualised rate")
    return t.pgettext("rate name", "APR")


def disclosed(offer: Offer, locale: Locale) -> str:
    """The offer's jurisdiction's annual rate as disclosed: its method's places, in percent.

    Examples
    --------
    >>> from plans.debt import Debt
    >>> from plans.instalment import instalment_plan
    >>> from plans.policy import Policy
    >>> debt = Debt("GBP", 1_000_000, 0, 0, Decimal("0.12"), date(2026, 1, 15), 30, "GB")
    >>> disclosed(instalment_plan(debt, policy=Policy(plan_rate=None), term=12), Locale.EN)
    '12.7%'
    """
    rate = offer.metrics.annual_rate
    return percent(rate.disclosed_percent / 100, locale, rate.decimals)


def duration(t: Words, frequency: Frequency, count: int) -> str:
    """A number of a plan's periods: ``"3 months"``, ``"3个月"``.

    Examples
    --------
    >>> duration(Words(Locale.EN), Frequency.BIWEEKLY, 1)
    '1 fortnight'
    >>> duration(Words(Locale.ZH_CN), Frequency.MONTHLY, 8)
    '8个月'
    """
    if frequency is Frequency.MONTHLY:
        return t.ngettext("%(num)d month", "%(num)d months", count)
    if frequency is Frequency.WEEKLY:
        return t.ngettext("%(num)d week", "%(num)d weeks", count)
    if frequency is Frequency.BIWEEKLY:
        return t.ngettext("%(num)d fortnight", "%(num)d fortnights", count)
    return t.ngettext("%(num)d half-month", "%(num)d half-months", count)


def _every(t: Words, frequency: Frequency) -> str:
    # how often, after an amount: "pay CN¥1,250.00 a month" (only the one asked is translated)
    if frequency is Frequency.MONTHLY:
        return t.pgettext("summary", "a month")
    if frequency is Frequency.WEEKLY:
        return t.pgettext("summary", "a week")
    if frequency is Frequency.BIWEEKLY:
        return t.pgettext("summary", "every two weeks")
    return t.pgettext("summary", "twice a month")


def _falling(t: Words, frequency: Frequency, count: int, **fields: str) -> str:
    # "pay 12 monthly payments falling from CN¥1,100.00 to CN¥1,008.33, starting 15 Feb 2026"
    if frequency is Frequency.MONTHLY:
        return t.npgettext(
            "summary",
            "pay %(num)d monthly payment falling from %(first)s to %(last)s, starting %(start)s",
            "pay %(num)d monthly payments falling from %(first)s to %(last)s, starting %(start)s",
            count,
            **fields,
        )
    if frequency is Frequency.WEEKLY:
        return t.npgettext(
            "summary",
            "pay %(num)d weekly payment falling from %(first)s to %(last)s, starting %(start)s",
            "pay %(num)d weekly payments falling from %(first)s to %(last)s, starting %(start)s",
            count,
            **fields,
        )
    if frequency is Frequency.BIWEEKLY:
        return t.npgettext(
            "summary",
            "pay %(num)d fortnightly payment falling from %(first)s to %(last)s, starting "
            "%(start)s",
            "pay %(num)d fortnightly payments falling from %(first)s to %(last)s, starting "
            "%(start)s",
            count,
            **fields,
        )
    return t.npgettext(
        "summary",
        "pay %(num)d twice-monthly payment falling from %(first)s to %(last)s, starting %(start)s",
        "pay %(num)d twice-monthly payments falling from %(first)s to %(last)s, starting %(start)s",
        count,
        **fields,
    )


# read once: an enum member is a class attribute, its value a property (both looked up each time)
_DOWN_PAYMENT, _INSTALMENT = LineKind.DOWN_PAYMENT, LineKind.INSTALMENT
_EQUAL_PRINCIPAL = Amortisation.EQUAL_PRINCIPAL.value


def _joined(parts: list[str], join: Callable[[str, str], str]) -> str:
    text = parts[0]
    for part in parts[1:]:
        text = join(text, part)
    return text


def summary(offer: Offer, locale: Locale) -> str:
    """The offer in one sentence.

    The steps of the plan (down payment, payment break, instalments, or the settlement) come
    first, then its details (interest, what is waived, the total); each language joins them
    with its own punctuation (``pgettext`` contexts "summary: between steps" and "summary:
    between details"), and an English sentence starts with a capital.

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
    t = Words(locale)
    currency = offer.currency

    def m(minor: int) -> str:
        return money(minor, currency, locale)

    terms, metrics = offer.terms, offer.metrics
    every = _every(t, terms.frequency)
    steps: list[str] = []
    lines = offer.schedule.lines
    if offer.kind is OfferKind.SETTLEMENT:
        deadline = day(terms.settle_by or lines[0].due_date, locale)
        steps.append(
            t.gettext(
                "Pay %(amount)s by %(date)s to settle the debt in full",
                amount=m(metrics.total_paid_minor),
                date=deadline,
            )
        )
    else:
        down = [x for x in lines if x[1] is _DOWN_PAYMENT]  # (kind: the line's second column)
        if down:
            steps.append(t.gettext("Pay %(amount)s now", amount=m(down[0].payment_minor)))
        if terms.deferral_periods:
            paused = duration(t, terms.frequency, terms.deferral_periods)
            if terms.grace_interest == "interest_only":
                steps.append(t.gettext("pay only the interest for %(duration)s", duration=paused))
            elif terms.grace_interest == "interest_free":
                steps.append(
                    t.gettext("pay nothing, interest-free, for %(duration)s", duration=paused)
                )
            elif terms.deferral_payment_minor:
                steps.append(
                    t.gettext(
                        "pay %(amount)s %(every)s for %(duration)s",
                        amount=m(terms.deferral_payment_minor),
                        every=every,
                        duration=paused,
                    )
                )
            else:
                steps.append(t.gettext("pay nothing for %(duration)s", duration=paused))
        instalments = [x for x in lines if x[1] is _INSTALMENT]
        if instalments:
            n = len(instalments)
            start = day(instalments[0].due_date, locale)
            first, last = instalments[0].payment_minor, instalments[-1].payment_minor
            # equal principal: each payment is less than the one before (its interest falls)
            falling = terms.amortisation == _EQUAL_PRINCIPAL and n > 1 and first != last
            if falling:
                step = _falling(t, terms.frequency, n, first=m(first), last=m(last), start=start)
            else:
                step = t.gettext(
                    "pay %(amount)s %(every)s for %(duration)s from %(start)s",
                    amount=m(terms.instalment_minor),
                    every=every,
                    duration=duration(t, terms.frequency, n),
                    start=start,
                )
            if steps:
                step = t.gettext("then %(step)s", step=step)
            if not falling and last != terms.instalment_minor and n > 1:
                step = t.gettext("%(step)s (last payment %(amount)s)", step=step, amount=m(last))
            steps.append(step)
    sentence = _joined(
        steps, lambda a, b: t.pgettext("summary: between steps", "%(a)s; %(b)s", a=a, b=b)
    )
    # Where the script has capitals (str.upper leaves Chinese as it is).
    sentence = sentence[:1].upper() + sentence[1:]
    details = [sentence]
    if offer.metrics.finance_charge_minor == 0:
        details.append(t.gettext("no interest"))
    elif terms.flat is not None:
        details.append(
            t.gettext(
                "a flat charge of %(charge)s %(every)s (%(flat)s a year flat, APR %(apr)s)",
                charge=m(terms.flat.charge_minor),
                every=every,
                flat=percent(terms.flat.flat_annual_rate, locale),
                apr=percent(metrics.apr, locale),
            )
        )
    else:
        details.append(
            t.gettext(
                "interest %(rate)s a year (%(name)s %(annual)s)",
                rate=percent(terms.nominal_annual_rate, locale),
                name=annual_rate_name(t, metrics.jurisdiction),
                annual=disclosed(offer, locale),
            )
        )
    if metrics.total_waived_minor:
        waived = m(metrics.total_waived_minor)
        if offer.kind is OfferKind.SETTLEMENT_PLAN:
            details.append(
                t.gettext("%(amount)s waived when the last payment is made", amount=waived)
            )
        else:
            details.append(t.gettext("%(amount)s waived", amount=waived))
    details.append(t.gettext("total %(amount)s", amount=m(metrics.total_paid_minor)))
    text = _joined(
        details, lambda a, b: t.pgettext("summary: between details", "%(a)s; %(b)s", a=a, b=b)
    )
    return t.pgettext("summary: the end of the sentence", "%(sentence)s.", sentence=text)
