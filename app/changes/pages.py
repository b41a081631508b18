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
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from app.core.errors import FieldError
from app.links.pages import LANGUAGE_NAMES, page_environment
from app.offers.summaries import day, money, percent
from plans.money import exponent, to_minor
from schemas.common import Locale

Json = dict[str, Any]
Notice = Literal["rate_limited", "nothing_owed", "superseded"]
_NOTICES = ("rate_limited", "nothing_owed", "superseded")
_STATUSES = ("open", "offered", "declined")
FIELDS = ("payment", "start", "lump_sum")

WORDS: dict[Locale, dict[str, str]] = {
    Locale.EN: {
        "title": "Ask for a change to your plan",
        "sent_title": "Your request for a change",
        "for": "For {name}",
        "languages": "Language",
        "back": "Back to your plan",
        "owed_heading": "What you owe now",
        "owed_sentence": "On {date} you owe {total}:",
        "owed_principal": "Principal",
        "owed_interest": "Interest",
        "owed_fees": "Fees",
        "owed_total": "Total owed",
        "nothing_owed": "Nothing is owed on this plan: there is nothing to change.",
        "superseded": (
            "A newer offer has replaced this one. Please use the link in the most recent"
            " message we sent you."
        ),
        "form_heading": "What can you afford?",
        "form_intro": (
            "Tell us what you can pay and we will show you, at once, the plans our rules allow."
            " Nothing changes until we confirm a new plan with you."
        ),
        "errors_heading": "Please check what you entered:",
        "payment_label": "How much can you pay {each}?",
        "payment_hint": "An amount in {currency}, such as {example}.",
        "start_label": "From when? (optional)",
        "start_hint": "The date of your first payment, by {latest} at the latest.",
        "lump_sum_label": "Can you pay a lump sum now? (optional)",
        "lump_sum_hint": "Paid first, as a down payment.",
        "submit": "See which plans fit",
        "each_monthly": "each month",
        "each_weekly": "each week",
        "each_biweekly": "every two weeks",
        "each_semi_monthly": "twice a month",
        "rule_required": "Please enter an amount.",
        "rule_number": "Please enter a number, such as {example}.",
        "rule_non_negative": "The amount cannot be negative.",
        "rule_positive": "The amount must be more than zero.",
        "rule_max_decimals": "Amounts in {currency} have at most {places} decimal places.",
        "rule_max_amount": "That amount is too large.",
        "rule_decimal": "Please enter a number, such as {example}.",
        "rule_date": "Please enter a date such as {example_date}.",
        "rule_not_in_past": "The date cannot be before {earliest}.",
        "rule_max_start_delay": "The first payment can be on {latest} at the latest.",
        "rule_other": "This value is not accepted ({rule}).",
        "result_heading": "What our rules allow",
        "fits": "Your proposal fits our rules.",
        "does_not_fit": "Your proposal does not fit our rules:",
        "reject_min_instalment": "The smallest payment our rules allow is {min_payment} a period.",
        "reject_max_term": (
            "At that payment the plan would last longer than our rules allow ({months} months)."
        ),
        "reject_other": "It breaks the rule “{rule}”.",
        "nearest": "These are the nearest plans that do:",
        "none_near": (
            "No plan near your proposal fits our rules. Please try a higher payment, or contact us."
        ),
        "choice_as_proposed": "Your proposal",
        "choice_longer_term": "A longer plan",
        "choice_higher_payment": "A higher payment",
        "choice_later_start": "A payment break first",
        "choice_earlier_start": "An earlier start",
        "term_instalments": "Number of payments",
        "term_instalment": "Each payment",
        "term_instalment_last": "{amount} (last one {last})",
        "term_down_payment": "Down payment",
        "term_break": "Payment break",
        "term_break_value": "{count} periods",
        "term_first": "First payment",
        "term_last": "Last payment",
        "term_total": "Total you pay",
        "apr": "Annual percentage rate (APR)",
        "effective_annual_rate": "Effective annual rate",
        "schedule_caption": "Every payment of this plan, in {currency}.",
        "scroll_hint": "Swipe the table sideways to see every column.",
        "col_number": "No.",
        "col_due": "Date",
        "col_payment": "Payment",
        "col_principal": "Principal",
        "col_interest": "Interest",
        "col_fees": "Fees",
        "col_closing_balance": "Balance after",
        "totals": "Total",
        "ask_button": "Ask for this plan",
        "ask_note": "We will look at your request and reply. Your current plan stays as it is.",
        "left_today": "You can send {count} more requests today.",
        "rate_limited": (
            "You have sent as many requests as one link may send in a day. Please try again"
            " tomorrow, or contact us."
        ),
        "sent_on": "You asked for this plan on {date}.",
        "status_open": "We have your request and will reply to you.",
        "status_offered": "We have made you a new offer for this request: we will send it to you.",
        "status_declined": ("We could not agree to this plan. You can propose another one."),
        "another": "Propose another plan",
        "footer": "All amounts are in {currency}. This page is private: please do not share it.",
    },
    Locale.ZH_CN: {
        "title": "申请调整还款计划",
        "sent_title": "您的调整申请",
        "for": "致：{name}",
        "languages": "语言",
        "back": "返回您的还款计划",
        "owed_heading": "您当前的欠款",
        "owed_sentence": "截至{date}，您的欠款为{total}：",
        "owed_principal": "本金",
        "owed_interest": "利息",
        "owed_fees": "费用",
        "owed_total": "欠款合计",
        "nothing_owed": "本计划已无欠款，无需调整。",
        "superseded": "本方案已被新的方案取代。请使用我们最近一次发给您的链接。",
        "form_heading": "您能承担多少？",
        "form_intro": (
            "请告诉我们您能还多少，我们会立即列出规则允许的方案。"
            "在我们与您确认新计划之前，现有计划不变。"
        ),
        "errors_heading": "请检查您填写的内容：",
        "payment_label": "您{each}能还多少？",
        "payment_hint": "以{currency}计的金额，例如{example}。",
        "start_label": "从何时开始？（选填）",
        "start_hint": "首次还款日期，最晚为{latest}。",
        "lump_sum_label": "您现在能一次性支付一笔款项吗？（选填）",
        "lump_sum_hint": "作为首付款先行支付。",
        "submit": "查看可行方案",
        "each_monthly": "每月",
        "each_weekly": "每周",
        "each_biweekly": "每两周",
        "each_semi_monthly": "每半月",
        "rule_required": "请填写金额。",
        "rule_number": "请填写数字，例如{example}。",
        "rule_non_negative": "金额不能为负数。",
        "rule_positive": "金额必须大于零。",
        "rule_max_decimals": "{currency}金额最多保留{places}位小数。",
        "rule_max_amount": "金额过大。",
        "rule_decimal": "请填写数字，例如{example}。",
        "rule_date": "请按{example_date}的格式填写日期。",
        "rule_not_in_past": "日期不能早于{earliest}。",
        "rule_max_start_delay": "首次还款日期最晚为{latest}。",
        "rule_other": "该值无法接受（{rule}）。",
        "result_heading": "规则允许的方案",
        "fits": "您提出的方案符合我们的规则。",
        "does_not_fit": "您提出的方案不符合我们的规则：",
        "reject_min_instalment": "规则允许的最低每期还款额为{min_payment}。",
        "reject_max_term": "按此金额还款，期限将超过规则允许的最长期限（{months}个月）。",
        "reject_other": "不符合规则“{rule}”。",
        "nearest": "以下是最接近且符合规则的方案：",
        "none_near": "没有与您的提议相近且符合规则的方案。请尝试提高还款额，或与我们联系。",
        "choice_as_proposed": "您提出的方案",
        "choice_longer_term": "延长期限",
        "choice_higher_payment": "提高每期还款",
        "choice_later_start": "先暂缓还款",
        "choice_earlier_start": "提前开始",
        "term_instalments": "还款期数",
        "term_instalment": "每期还款",
        "term_instalment_last": "{amount}（末期{last}）",
        "term_down_payment": "首付款",
        "term_break": "暂缓还款",
        "term_break_value": "{count}期",
        "term_first": "首次还款",
        "term_last": "末次还款",
        "term_total": "还款总额",
        "apr": "年化利率（APR）",
        "effective_annual_rate": "实际年利率",
        "schedule_caption": "本方案的每一笔还款（{currency}）。",
        "scroll_hint": "左右滑动表格可查看所有列。",
        "col_number": "期数",
        "col_due": "日期",
        "col_payment": "还款额",
        "col_principal": "本金",
        "col_interest": "利息",
        "col_fees": "费用",
        "col_closing_balance": "剩余欠款",
        "totals": "合计",
        "ask_button": "申请此方案",
        "ask_note": "我们会审核您的申请并答复您。在此之前，现有计划保持不变。",
        "left_today": "今天您还可以提交{count}次申请。",
        "rate_limited": "此链接今天的申请次数已用完。请明天再试，或与我们联系。",
        "sent_on": "您于{date}申请了此方案。",
        "status_open": "我们已收到您的申请，会尽快答复您。",
        "status_offered": "我们已根据您的申请制定了新方案，将发送给您。",
        "status_declined": "我们无法同意此方案。您可以提出其他方案。",
        "another": "提出其他方案",
        "footer": "所有金额均以{currency}计。本页面仅供您本人查看，请勿转发。",
    },
}

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


class _Words:
    def __init__(self, locale: Locale) -> None:
        self.messages = WORDS[locale]

    def __call__(self, key: str, **fields: object) -> str:
        return self.messages[key].format(**fields)

    def has(self, key: str) -> bool:
        return key in self.messages


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


def _plan(document: Mapping[str, Any], choice: str, locale: Locale, t: _Words) -> Json:
    """One plan, line by line: its terms, its schedule with totals, its APR."""
    currency = document["currency"]
    terms, metrics = document["terms"], document["metrics"]

    def minor(amount: str) -> int:
        return to_minor(amount, currency)

    def m(amount: str) -> str:
        return money(minor(amount), currency, locale)

    lines = document["schedule"]["lines"]
    paying = [x for x in lines if minor(x["payment"])]
    instalments = [x for x in lines if x["kind"] == "instalment"]
    facts: list[Json] = []
    if minor(terms["down_payment"]):
        facts.append(
            {"label": t("term_down_payment"), "text": m(terms["down_payment"]), "minor": None}
        )
    if terms["deferral_periods"]:
        facts.append(
            {
                "label": t("term_break"),
                "text": t("term_break_value", count=terms["deferral_periods"]),
                "minor": None,
            }
        )
    level = m(terms["instalment"])
    if len(instalments) > 1 and instalments[-1]["payment"] != terms["instalment"]:
        level = t("term_instalment_last", amount=level, last=m(instalments[-1]["payment"]))
    facts += [
        {"label": t("term_instalments"), "text": str(terms["instalments"]), "minor": None},
        {
            "label": t("term_instalment"),
            "text": level,
            "minor": str(minor(terms["instalment"])),
        },
    ]
    if paying:
        facts.append(
            {
                "label": t("term_first"),
                "text": day(date.fromisoformat(paying[0]["payment_date"]), locale),
                "minor": None,
            }
        )
        facts.append(
            {
                "label": t("term_last"),
                "text": day(date.fromisoformat(paying[-1]["payment_date"]), locale),
                "minor": None,
            }
        )
    facts.append(
        {
            "label": t("term_total"),
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
        }
        for x in lines
    ]
    totals = document["schedule"]["totals"]
    return {
        "choice": choice,
        "heading": t(f"choice_{choice}"),
        "summary": document["summary"],
        "facts": facts,
        "columns": [(c, t(f"col_{c}")) for c in _SCHEDULE_COLUMNS],
        "rows": rows,
        "totals": [
            {"column": c, **_amount(minor(totals[c]), currency, locale)} for c in _TOTAL_COLUMNS
        ],
        "rates": [
            (key, metrics[key], percent(Decimal(metrics[key]), locale))
            for key in ("apr", "effective_annual_rate")
        ],
    }


def _error_text(error: FieldError, view: ChangeView, locale: Locale, t: _Words) -> str:
    currency = view.owed["currency"]
    key = f"rule_{error.rule}"
    if not t.has(key):
        return t("rule_other", rule=error.rule)
    return t(
        key,
        currency=currency,
        places=exponent(currency),
        example=_example(currency),
        example_date=view.earliest_start.isoformat(),
        earliest=day(view.earliest_start, locale),
        latest=day(view.latest_start, locale),
    )


def _rejection_text(
    rejection: Mapping[str, Any], view: ChangeView, locale: Locale, t: _Words
) -> str:
    rule = rejection["rule"]
    if rule == "min_instalment":
        currency = view.owed["currency"]
        return t(
            "reject_min_instalment", min_payment=money(view.min_payment_minor, currency, locale)
        )
    if rule == "max_term":
        return t("reject_max_term", months=view.max_term_months)
    return t("reject_other", rule=rule)


def _header(
    t: _Words, locale: Locale, title: str, name: str, lang_urls: Mapping[Locale, str]
) -> Json:
    return {
        "title": title,
        "who": t("for", name=name),
        "languages_label": t("languages"),
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
    t = _Words(locale)
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
    context = {
        "t": t,
        "lang": locale.value,
        "currency": currency,
        "view": view,
        "head": _header(t, locale, t("title"), view.masked_name, view.lang_urls),
        "owed_sentence": t(
            "owed_sentence",
            date=day(owed["as_of"], locale),
            total=money(to_minor(owed["total"], currency), currency, locale),
        ),
        "owed": [(f"owed_{k}", a(k)) for k in ("principal", "interest", "fees")],
        "owed_total": a("total"),
        "fields": [
            {
                "name": "payment",
                "label": t("payment_label", each=t(f"each_{view.frequency}")),
                "hint": t("payment_hint", currency=currency, example=_example(currency)),
                "type": "text",
                "inputmode": "decimal",
                "required": True,
            },
            {
                "name": "start",
                "label": t("start_label"),
                "hint": t("start_hint", latest=day(view.latest_start, locale)),
                "type": "date",
                "inputmode": None,
                "required": False,
            },
            {
                "name": "lump_sum",
                "label": t("lump_sum_label"),
                "hint": t("lump_sum_hint"),
                "type": "text",
                "inputmode": "decimal",
                "required": False,
            },
        ],
        "values": {name: view.values.get(name, "") for name in FIELDS},
        "messages": messages,
        "field_names": FIELDS,
        "result": result,
    }
    return page_environment(TEMPLATES).get_template("change.html").render(context)


def render_request_page(view: RequestView, locale: Locale | str) -> str:
    """The page of a change request made: the plan asked for, when, and where it stands.

    Examples
    --------
    >>> from datetime import UTC
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
    t = _Words(locale)
    context = {
        "t": t,
        "lang": locale.value,
        "currency": view.document["currency"],
        "view": view,
        "head": _header(t, locale, t("sent_title"), view.masked_name, view.lang_urls),
        "sent_on": t("sent_on", date=day(view.created_at.date(), locale)),
        "plan": {
            **_plan(view.document, view.choice, locale, t),
            **({} if view.summary is None else {"summary": view.summary}),
        },
    }
    return page_environment(TEMPLATES).get_template("change_sent.html").render(context)
