"""The income and expenditure statement an offer was negotiated from, shown back to the debtor.

A collector who negotiates from a statement (``capacity.statement``: the Standard Financial
Statement's groups, CONC 7.3) saves it with the offer (``offers.statement``); the debtor's page
shows it back, line by line in the page's language: the income by source, the expenditure by
group (an amount above the policy's guideline for the household is marked, as given, never
changed), the priority debts, what is left each month, the share of it a plan may ask, and how
this offer fits. A figure that is wrong is put right through the change page, whose link the
section carries. Like the page, a pure function of its inputs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.core.i18n import Words
from app.offers.summaries import money, percent
from plans.affordability import Group, PriorityDebt
from plans.money import to_minor
from schemas.common import Locale

Json = dict[str, Any]


def group_name(group: Group, t: Words) -> str:
    """A Standard Financial Statement group's name, in the locale.

    Examples
    --------
    >>> group_name(Group.FOOD_AND_HOUSEKEEPING, Words(Locale.ZH_CN))
    '食品和家务开支'
    """
    return {
        Group.HOME_AND_CONTENTS: t.gettext("Home and contents"),
        Group.TRAVEL: t.gettext("Travel"),
        Group.FOOD_AND_HOUSEKEEPING: t.gettext("Food and housekeeping"),
        Group.PERSONAL_COSTS: t.gettext("Personal costs"),
        Group.COMMUNICATIONS_AND_LEISURE: t.gettext("Communications and leisure"),
        Group.OTHER_ESSENTIAL_COSTS: t.gettext("Other essential costs"),
    }[group]


def priority_name(kind: PriorityDebt, t: Words) -> str:
    """A priority debt's name, in the locale."""
    return {
        PriorityDebt.RENT_OR_MORTGAGE_ARREARS: t.gettext("Rent or mortgage arrears"),
        PriorityDebt.COUNCIL_TAX: t.gettext("Council tax"),
        PriorityDebt.UTILITIES: t.gettext("Gas, electricity and water"),
        PriorityDebt.OTHER_PRIORITY: t.gettext("Other priority debts"),
    }[kind]


def income_name(source: str, t: Words) -> str:
    """An income source's name: the usual ones in the locale, any other as it was given
    (``"child_maintenance"`` reads "child maintenance").

    Examples
    --------
    >>> income_name("salary", Words(Locale.EN)), income_name("side_job", Words(Locale.EN))
    ('Salary', 'side job')
    """
    known = {
        "salary": t.gettext("Salary"),
        "wages": t.gettext("Wages"),
        "benefits": t.gettext("Benefits"),
        "pension": t.gettext("Pension"),
    }
    return known.get(source, source.replace("_", " "))


def _amount(amount: str, currency: str, locale: Locale) -> Json:
    minor = to_minor(amount, currency)
    return {"minor": str(minor), "text": money(minor, currency, locale)}


def statement_section(
    stored: Json | None, *, currency: str, locale: Locale, change_url: str | None
) -> Json | None:
    """What the page's ``#statement`` section shows of a saved statement (None: the offer was
    not negotiated from one).

    Examples
    --------
    >>> stored = {"given": {"income": {"salary": "6000.00"}, "expenditure": {"travel": "400.00"},
    ...                     "priority_debts": {}, "adults": 1, "children": 0},
    ...           "affordability": {"income": "6000.00", "expenditure": "400.00",
    ...                             "priority_debts": "0.00", "disposable": "5600.00",
    ...                             "share_bps": 5000, "available": "2800.00", "flags": [],
    ...                             "fits": [{"kind": "instalment", "monthly": "1400.00",
    ...                                       "share": "0.2500", "sentence": "..."}]}}
    >>> section = statement_section(stored, currency="CNY", locale=Locale.EN, change_url=None)
    >>> section["disposable"]["text"], section["fit"]
    ('CN¥5,600.00', 'This plan asks at most CN¥1,400.00 a month of CN¥5,600.00 disposable (25%).')
    """
    if stored is None:
        return None
    t = Words(locale)
    given, afford = stored["given"], stored["affordability"]
    flagged = {flag["group"]: flag["guideline"] for flag in afford["flags"]}

    def row(label: str, amount: str, guideline: str | None = None) -> Json:
        return {
            "label": label,
            "amount": _amount(amount, currency, locale),
            "flag": None
            if guideline is None
            else t.gettext(
                "above the usual %(guideline)s for a household like yours: kept as you gave it",
                guideline=money(to_minor(guideline, currency), currency, locale),
            ),
        }

    groups = [
        {
            "key": "income",
            "title": t.gettext("Income each month"),
            # largest first (a stored statement's keys come back in the database's order)
            "rows": [
                row(income_name(name, t), a)
                for name, a in sorted(
                    given["income"].items(), key=lambda item: (-Decimal(item[1]), item[0])
                )
            ],
            "total": _amount(afford["income"], currency, locale),
        },
        {
            "key": "expenditure",
            "title": t.gettext("Essential costs each month"),
            "rows": [  # in the Standard Financial Statement's order
                row(group_name(group, t), given["expenditure"][group], flagged.get(group))
                for group in Group
                if group in given["expenditure"]
            ],
            "total": _amount(afford["expenditure"], currency, locale),
        },
        {
            "key": "priority_debts",
            "title": t.gettext("Priority debts each month"),
            "rows": [
                row(priority_name(kind, t), given["priority_debts"][kind])
                for kind in PriorityDebt
                if kind in given["priority_debts"]
            ],
            "total": _amount(afford["priority_debts"], currency, locale),
        },
    ]
    disposable = _amount(afford["disposable"], currency, locale)
    share = Decimal(afford["share_bps"]) / 10_000
    fits = afford["fits"]
    return {
        "groups": [g for g in groups if g["rows"]],
        "household": t.ngettext(
            "%(num)d adult", "%(num)d adults", given["adults"], num=given["adults"]
        )
        + t.gettext(", ")
        + t.ngettext("%(num)d child", "%(num)d children", given["children"], num=given["children"]),
        "disposable": disposable,
        "available": None
        if afford["share_bps"] == 10_000
        else t.gettext(
            "A plan may ask at most %(share)s of it: %(available)s a month.",
            share=percent(share, locale, 0),
            available=money(to_minor(afford["available"], currency), currency, locale),
        ),
        "fit": None
        if not fits
        else t.gettext(
            "This plan asks at most %(payment)s a month of %(disposable)s disposable (%(share)s).",
            payment=money(to_minor(fits[0]["monthly"], currency), currency, locale),
            disposable=disposable["text"],
            share=percent(Decimal(fits[0]["share"]), locale, 0),
        ),
        "change_url": change_url,
    }
