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

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.links.views import OfferView, SentMessage
from app.offers.summaries import day, money, percent
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

# ---------------------------------------------------------------------------------------------
# The words, one dict per language. Placeholders are str.format fields; values are plain text
# (the templates escape them).

MESSAGES: dict[Locale, dict[str, str]] = {
    Locale.EN: {
        "title": "Your repayment plan",
        "for": "Prepared for {name}",
        "languages": "Language",
        "badge_offered": "Offer open until {expires}",
        "badge_accepted": "Accepted on {date}",
        "badge_superseded": "Replaced by a newer offer",
        "kind_instalment": "Instalment plan",
        "kind_deferral": "Payment break, then instalments",
        "kind_settlement": "One-off settlement",
        "kind_settlement_plan": "Settlement in instalments",
        "owed_heading": "What you owe, and why",
        "owed_sentence": "This is the amount you owe on {date}: {total}. It is made up of:",
        "owed_principal": "Principal",
        "owed_principal_note": "the money lent to you that has not been repaid",
        "owed_interest": "Interest",
        "owed_interest_note": "charged under your original agreement up to {date}",
        "owed_fees": "Fees",
        "owed_fees_note": "charges added to your account, such as late fees",
        "owed_total": "Total owed",
        "offer_heading": "The offer",
        "term_kind": "Kind of plan",
        "term_down_payment": "Down payment",
        "term_break": "Payment break",
        "term_break_nothing": "{count} {unit}, paying nothing",
        "term_break_paying": "{count} {unit}, paying {amount} each",
        "term_instalments": "Number of instalments",
        "term_instalment": "Each instalment",
        "term_instalment_last": "{amount} (last one {last})",
        "term_frequency": "How often",
        "term_first_payment": "First payment due",
        "term_last_payment": "Last payment due",
        "term_settle_by": "Pay by",
        "term_rate": "Interest rate on principal",
        "term_rate_value": "{rate} a year",
        "term_rate_none": "{rate} (no interest)",
        "term_discount": "Discount",
        "term_discount_value": "{rate} of what you owe",
        "term_total": "Total you pay",
        "freq_monthly": "Every month",
        "freq_weekly": "Every week",
        "freq_biweekly": "Every two weeks",
        "freq_semi_monthly": "Twice a month",
        "unit_monthly": "month|months",
        "unit_weekly": "week|weeks",
        "unit_biweekly": "fortnight|fortnights",
        "unit_semi_monthly": "half-month|half-months",
        "schedule_heading": "Payment schedule",
        "schedule_caption": "Every payment of the plan, in {currency}.",
        "scroll_hint": "Swipe the table sideways to see every column.",
        "col_number": "No.",
        "col_due": "Due date",
        "col_payment": "Payment",
        "col_interest": "Interest",
        "col_fees": "Fees",
        "col_principal": "Principal",
        "col_waived": "Waived",
        "col_interest_accrued": "Interest added",
        "col_closing_balance": "Balance after",
        "col_status": "Status",
        "line_down_payment": "down payment",
        "line_deferral": "payment break",
        "line_instalment": "instalment",
        "line_settlement": "settlement",
        "moved": "moved to {date}",
        "totals": "Total",
        "schedule_note_moved": (
            "A due date on a weekend or public holiday moves to the next business day;"
            " the row then shows the day the payment is taken."
        ),
        "schedule_note_identity": (
            "In every row, the payment is interest + fees + principal, and the balance after"
            " is the balance before + interest added − payment − waived."
        ),
        "status_paid": "Paid",
        "status_partly_paid": "Partly paid: {paid} of {due}",
        "status_due": "Due",
        "status_late": "Late",
        "status_missed": "Missed",
        "chart_heading": "Your balance over time",
        "chart_label": (
            "Chart of the balance you owe: {start_amount} on {start}, {end_amount} on {end}."
        ),
        "chart_planned": "Planned balance",
        "chart_actual": "Balance after your payments",
        "rates_heading": "Interest rates",
        "apr": "Annual percentage rate (APR)",
        "effective_annual_rate": "Effective annual rate",
        "apr_explained": (
            "The APR is the yearly cost of the interest in this plan, worked out from the amount"
            " and the date of every payment (the method of US Regulation Z, Appendix J), so"
            " that plans of different lengths can be compared. The effective annual rate is the"
            " same cost with interest compounded over a whole year."
        ),
        "no_interest": "This plan charges no interest.",
        "waived_heading": "What is waived",
        "waived_intro": "{total} of what you owe is waived (written off):",
        "waived_when": "The “Waived” column of the schedule shows when each part is taken off.",
        "waived_conditional": "It is taken off only when the last payment is made.",
        "waived_none": "Nothing is waived: the plan repays everything you owe.",
        "waived_fees": "Fees",
        "waived_interest": "Interest",
        "waived_principal": "Principal",
        "waived_total": "Total waived",
        "missed_heading": "If you miss a payment",
        "payments_heading": "Your payments",
        "payments_none": "No payments have been confirmed yet.",
        "pay_date": "Date",
        "pay_amount": "Amount",
        "pay_principal": "Principal",
        "pay_interest": "Interest",
        "pay_fees": "Fees",
        "pay_balance": "Balance after",
        "pay_reference": "Reference",
        "balance_now": "Balance now: {amount}",
        "status_heading_offered": "Accept the plan",
        "status_heading": "Status",
        "accept_intro": (
            "If this plan works for you, accept it by {expires}. You then pay as the schedule"
            " above shows."
        ),
        "accept_button": "Accept this plan",
        "ask_for_change": "Cannot pay this? Tell us what you can afford and ask for a change",
        "accepted_on": "Accepted on {date}.",
        "plan_active": "The plan is active.",
        "plan_completed": "The plan is complete: nothing more is owed.",
        "plan_broken": (
            "The plan has ended because payments were missed; see “If you miss a payment”."
        ),
        "superseded": (
            "A newer offer has replaced this one, so it can no longer be accepted. Please use the"
            " link in the most recent message we sent you."
        ),
        "contact_heading": "Messages and how we contact you",
        "messages_heading": "Messages we sent you",
        "messages_none": "We have not sent you any messages.",
        # in running text: the list's lines start with them capitalised (_capitalised)
        "channel_email": "email",
        "channel_sms": "SMS",
        "channel_phone": "phone calls",
        "msg_reminder": "Reminder: payment {number} of {count}, {amount} due on {date}",
        "msg_missed": "Missed payment: payment {number} of {count}, {amount} due on {date}",
        "msg_confirmation": "Payment confirmed: {amount} received on {date}",
        "msg_reminder_plain": "Payment reminder",
        "msg_missed_plain": "Missed payment notice",
        "msg_confirmation_plain": "Payment confirmed",
        "prefs_heading": "How we may contact you",
        "prefs_intro": (
            "A change applies at once, also to messages already scheduled. It does not change"
            " what you owe or when it is due."
        ),
        "pref_allowed": "{channel} to {address}: allowed",
        "pref_opted_out": "{channel} to {address}: stopped at your request on {date}",
        "button_opt_out": "Stop {channel}",
        "button_opt_in": "Allow {channel} again",
        "stop_intro": "You can also ask us not to contact you at all, on any channel.",
        "stopped_since": (
            "On {date} you asked us not to contact you at all. We send you nothing while this"
            " stands."
        ),
        "button_stop": "Stop contacting me",
        "button_resume": "You may contact me again",
        "downloads_heading": "Downloads",
        "download_ics": "Payment dates for your calendar (.ics)",
        "download_csv": "Schedule as a spreadsheet (.csv)",
        "download_json": "Offer data (.json)",
        "footer": "All amounts are in {currency}. This page is private: please do not share it.",
        "not_found_title": "Page not found",
        "not_found_text": (
            "This link does not work. It may have expired or been withdrawn."
            " Please contact us and we will send you a new one."
        ),
        "ics_name": "Repayment plan",
        "ics_summary": "Payment {k} of {n}: {amount}",
        "ics_paid": " (paid)",
        "ics_description": (
            "Payment {amount}: principal {principal}, interest {interest}, fees {fees}."
            " Balance after: {balance}."
        ),
        "ics_moved": " Due {due}; taken on the next business day.",
        "ics_alarm": "Payment of {amount} due on {date}",
    },
    Locale.ZH_CN: {
        "title": "您的还款计划",
        "for": "致：{name}",
        "languages": "语言",
        "badge_offered": "方案有效期至{expires}",
        "badge_accepted": "已于{date}接受",
        "badge_superseded": "已被新方案取代",
        "kind_instalment": "分期还款",
        "kind_deferral": "暂缓还款后分期",
        "kind_settlement": "一次性结清",
        "kind_settlement_plan": "分期结清",
        "owed_heading": "您的欠款及其构成",
        "owed_sentence": "截至{date}，您的欠款金额为{total}，构成如下：",
        "owed_principal": "本金",
        "owed_principal_note": "借给您且尚未归还的款项",
        "owed_interest": "利息",
        "owed_interest_note": "按原协议计至{date}的利息",
        "owed_fees": "费用",
        "owed_fees_note": "计入您账户的费用，例如逾期费",
        "owed_total": "欠款合计",
        "offer_heading": "还款方案",
        "term_kind": "方案类型",
        "term_down_payment": "首付款",
        "term_break": "暂缓还款",
        "term_break_nothing": "{count}{unit}，期间无需还款",
        "term_break_paying": "{count}{unit}，每期还款{amount}",
        "term_instalments": "分期期数",
        "term_instalment": "每期还款",
        "term_instalment_last": "{amount}（末期{last}）",
        "term_frequency": "还款频率",
        "term_first_payment": "首次还款日",
        "term_last_payment": "末次还款日",
        "term_settle_by": "还款截止日",
        "term_rate": "本金年利率",
        "term_rate_value": "年利率{rate}",
        "term_rate_none": "{rate}（免息）",
        "term_discount": "折扣",
        "term_discount_value": "欠款的{rate}",
        "term_total": "还款总额",
        "freq_monthly": "每月",
        "freq_weekly": "每周",
        "freq_biweekly": "每两周",
        "freq_semi_monthly": "每半月",
        "unit_monthly": "个月|个月",
        "unit_weekly": "周|周",
        "unit_biweekly": "期|期",
        "unit_semi_monthly": "期|期",
        "schedule_heading": "还款计划表",
        "schedule_caption": "本计划的每一笔还款（{currency}）。",
        "scroll_hint": "左右滑动表格可查看所有列。",
        "col_number": "期数",
        "col_due": "到期日",
        "col_payment": "还款额",
        "col_interest": "利息",
        "col_fees": "费用",
        "col_principal": "本金",
        "col_waived": "减免",
        "col_interest_accrued": "新增利息",
        "col_closing_balance": "剩余欠款",
        "col_status": "状态",
        "line_down_payment": "首付",
        "line_deferral": "暂缓期",
        "line_instalment": "分期",
        "line_settlement": "结清",
        "moved": "顺延至{date}",
        "totals": "合计",
        "schedule_note_moved": (
            "到期日如逢周末或法定节假日，顺延至下一个工作日，表中同时列出实际扣款日。"
        ),
        "schedule_note_identity": (
            "每一行中：还款额 = 利息 + 费用 + 本金；"
            "剩余欠款 = 上期欠款 + 新增利息 − 还款额 − 减免。"
        ),
        "status_paid": "已还清",
        "status_partly_paid": "部分已还：已还{paid}，应还{due}",
        "status_due": "待还",
        "status_late": "逾期",
        "status_missed": "未还",
        "chart_heading": "欠款余额变化",
        "chart_label": "欠款余额图：{start}为{start_amount}，{end}为{end_amount}。",
        "chart_planned": "计划余额",
        "chart_actual": "您还款后的余额",
        "rates_heading": "利率",
        "apr": "年化利率（APR）",
        "effective_annual_rate": "实际年利率",
        "apr_explained": (
            "年化利率（APR）是本计划利息每年的成本，按每笔还款的金额和日期计算"
            "（采用美国Z条例附录J的精算方法），便于比较期限不同的方案。"
            "实际年利率是同一成本按一年复利计算的结果。"
        ),
        "no_interest": "本计划不收取利息。",
        "waived_heading": "减免内容",
        "waived_intro": "您的欠款中有{total}予以减免（免于偿还）：",
        "waived_when": "计划表中的“减免”一列显示每一部分何时减免。",
        "waived_conditional": "仅在最后一期还款完成时减免。",
        "waived_none": "无减免：本计划偿还您的全部欠款。",
        "waived_fees": "费用",
        "waived_interest": "利息",
        "waived_principal": "本金",
        "waived_total": "减免合计",
        "missed_heading": "如果未按时还款",
        "payments_heading": "您的还款记录",
        "payments_none": "暂无已确认的还款。",
        "pay_date": "日期",
        "pay_amount": "金额",
        "pay_principal": "本金",
        "pay_interest": "利息",
        "pay_fees": "费用",
        "pay_balance": "剩余欠款",
        "pay_reference": "参考号",
        "balance_now": "当前欠款：{amount}",
        "status_heading_offered": "接受方案",
        "status_heading": "状态",
        "accept_intro": "如果您同意本方案，请在{expires}前接受。接受后请按上方计划表还款。",
        "accept_button": "接受此还款计划",
        "ask_for_change": "无法按此还款？告诉我们您能负担多少，申请调整计划",
        "accepted_on": "已于{date}接受。",
        "plan_active": "计划执行中。",
        "plan_completed": "计划已完成，您已无欠款。",
        "plan_broken": "由于未按时还款，本计划已终止，详见“如果未按时还款”。",
        "superseded": "本方案已被新的方案取代，无法再接受。请使用我们最近一次发给您的链接。",
        "contact_heading": "消息与联系方式",
        "messages_heading": "我们发给您的消息",
        "messages_none": "我们尚未向您发送任何消息。",
        "channel_email": "电子邮件",
        "channel_sms": "短信",
        "channel_phone": "电话",
        "msg_reminder": "还款提醒：第{number}期（共{count}期）{amount}，{date}到期",
        "msg_missed": "逾期通知：第{number}期（共{count}期）{amount}，{date}到期，尚未收到",
        "msg_confirmation": "还款确认：已于{date}收到{amount}",
        "msg_reminder_plain": "还款提醒",
        "msg_missed_plain": "逾期通知",
        "msg_confirmation_plain": "还款确认",
        "prefs_heading": "我们可以如何联系您",
        "prefs_intro": "更改立即生效，已安排的消息同样适用。更改不影响您的欠款金额和还款日期。",
        "pref_allowed": "{channel}（{address}）：允许",
        "pref_opted_out": "{channel}（{address}）：已应您的要求于{date}停止",
        "button_opt_out": "停止{channel}",
        "button_opt_in": "恢复{channel}",
        "stop_intro": "您也可以要求我们不再以任何方式联系您。",
        "stopped_since": "您已于{date}要求我们不再联系您。在您撤回之前，我们不会向您发送任何消息。",
        "button_stop": "不要再联系我",
        "button_resume": "可以再次联系我",
        "downloads_heading": "下载",
        "download_ics": "还款日历（.ics）",
        "download_csv": "还款计划表（.csv）",
        "download_json": "方案数据（.json）",
        "footer": "所有金额均以{currency}计。本页面仅供您本人查看，请勿转发。",
        "not_found_title": "页面不存在",
        "not_found_text": "此链接无效，可能已过期或已被撤回。请联系我们，我们会为您发送新的链接。",
        "ics_name": "还款计划",
        "ics_summary": "第{k}期还款（共{n}期）：{amount}",
        "ics_paid": "（已还）",
        "ics_description": (
            "还款{amount}：本金{principal}，利息{interest}，费用{fees}。剩余欠款：{balance}。"
        ),
        "ics_moved": "到期日{due}，顺延至下一个工作日扣款。",
        "ics_alarm": "{date}应还款{amount}",
    },
}

LANGUAGE_NAMES = {Locale.EN: "English", Locale.ZH_CN: "中文"}


class Words:
    """The messages of one locale, callable from the templates as ``t("key", **fields)``."""

    def __init__(self, locale: Locale) -> None:
        self.messages = MESSAGES[locale]

    def __call__(self, key: str, **fields: object) -> str:
        return self.messages[key].format(**fields)

    def unit(self, frequency: str, count: int) -> str:
        one, many = self.messages[f"unit_{frequency}"].split("|")
        return one if count == 1 else many


# ---------------------------------------------------------------------------------------------
# Rendering helpers


TEMPLATES = Path(__file__).with_name("templates")


@cache
def page_environment(*more: Path) -> Environment:
    """The Jinja2 environment of the debtor's HTML pages (autoescaped, strict), built once.

    ``more`` are folders of templates looked up first, for pages of other rooms built on these
    (the change pages, ``app.changes.pages``): they extend the same ``base.html``."""
    return Environment(
        loader=FileSystemLoader([*more, TEMPLATES]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


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
        "label": t(
            "chart_label",
            start=day(start, locale),
            start_amount=money(opening, currency, locale),
            end=day(end_date, locale),
            end_amount=money(end_balance, currency, locale),
        ),
    }


def _terms(document: Json, locale: Locale, t: Words) -> list[Json]:
    """The offer's terms as (label, text, minor-or-None) rows, by kind."""
    currency, terms, lines = document["currency"], document["terms"], schedule_lines(document)

    def m(amount: str) -> str:
        return money(minor_of(document, amount), currency, locale)

    def row(label: str, text: str, amount: str | None = None) -> Json:
        minor = None if amount is None else str(minor_of(document, amount))
        return {"label": t(label), "text": text, "minor": minor}

    rows = [row("term_kind", t(f"kind_{document['kind']}"))]
    paying = [x for x in lines if minor_of(document, x["payment"])]
    rate = Decimal(terms["nominal_annual_rate"])
    if document["kind"] == "settlement":
        rows.append(row("term_total", m(terms["instalment"]), terms["instalment"]))
        if terms["settle_by"]:
            rows.append(row("term_settle_by", day(date.fromisoformat(terms["settle_by"]), locale)))
    else:
        if minor_of(document, terms["down_payment"]):
            rows.append(row("term_down_payment", m(terms["down_payment"]), terms["down_payment"]))
        if terms["deferral_periods"]:
            count = terms["deferral_periods"]
            unit = t.unit(terms["frequency"], count)
            if minor_of(document, terms["deferral_payment"]):
                text = t(
                    "term_break_paying", count=count, unit=unit, amount=m(terms["deferral_payment"])
                )
            else:
                text = t("term_break_nothing", count=count, unit=unit)
            rows.append(row("term_break", text))
        instalments = [x for x in lines if x["kind"] == "instalment"]
        rows.append(row("term_instalments", str(terms["instalments"])))
        level = m(terms["instalment"])
        if len(instalments) > 1 and instalments[-1]["payment"] != terms["instalment"]:
            level = t("term_instalment_last", amount=level, last=m(instalments[-1]["payment"]))
        rows.append(row("term_instalment", level, terms["instalment"]))
        rows.append(row("term_frequency", t(f"freq_{terms['frequency']}")))
        rate_text = percent(rate, locale)
        rows.append(
            row("term_rate", t("term_rate_value" if rate else "term_rate_none", rate=rate_text))
        )
        total = document["metrics"]["total_paid"]
        rows.append(row("term_total", m(total), total))
    if paying and document["kind"] != "settlement":
        rows.append(
            row("term_first_payment", day(date.fromisoformat(paying[0]["due_date"]), locale))
        )
        if len(paying) > 1:
            rows.append(
                row("term_last_payment", day(date.fromisoformat(paying[-1]["due_date"]), locale))
            )
    if terms["discount_bps"]:
        share = percent(Decimal(terms["discount_bps"]) / 10_000, locale)
        rows.append(row("term_discount", t("term_discount_value", rate=share)))
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

    rows = []
    for line in schedule_lines(document):
        due, paid_on = (
            date.fromisoformat(line["due_date"]),
            date.fromisoformat(line["payment_date"]),
        )
        status = statuses.get(line["number"])
        status_text = None
        if status is not None:
            status_text = t(
                f"status_{status.status}",
                paid=money(status.paid_minor, currency, locale),
                due=money(status.due_minor, currency, locale),
            )
        rows.append(
            {
                "number": line["number"],
                "kind": line["kind"],
                "kind_text": t(f"line_{line['kind']}"),
                "due_iso": line["due_date"],
                "payment_iso": line["payment_date"],
                "due": day(due, locale),
                "moved": None if paid_on == due else t("moved", date=day(paid_on, locale)),
                "cells": cells(line),
                "status": None if status is None else status.status,
                "status_text": status_text,
            }
        )
    return {
        "columns": [(c, t(f"col_{c}")) for c in _PAGE_COLUMNS],
        "rows": rows,
        "totals": cells(document["schedule"]["totals"]),
        "any_moved": any(r["moved"] for r in rows),
        "with_status": bool(statuses),
    }


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


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _contact(document: Json, view: OfferView, locale: Locale, t: Words) -> Json | None:
    contact = view.contact
    if contact is None:
        return None
    currency = document["currency"]

    def summary(m: SentMessage) -> str:
        if m.amount_minor is None or m.day is None:
            return t(f"msg_{m.kind}_plain")
        return t(
            f"msg_{m.kind}",
            number=m.number,
            count=m.count,
            amount=money(m.amount_minor, currency, locale),
            date=day(m.day, locale),
        )

    messages = [
        {
            "iso": m.delivered_at.isoformat(),
            "when": _moment(m.delivered_at, locale),
            "channel": m.channel,
            "channel_text": _capitalised(t(f"channel_{m.channel}")),
            "kind": m.kind,
            "summary": summary(m),
        }
        for m in contact.messages
    ]
    channels = []
    for c in contact.channels:
        name = t(f"channel_{c.channel}")
        if c.opted_out_at is None:
            text = _capitalised(t("pref_allowed", channel=name, address=c.masked))
            change, button = "opt_out", t("button_opt_out", channel=name)
        else:
            when = _moment(c.opted_out_at, locale)
            text = _capitalised(t("pref_opted_out", channel=name, address=c.masked, date=when))
            change, button = "opt_in", t("button_opt_in", channel=name)
        channels.append(
            {
                "channel": c.channel,
                "opted_out": c.opted_out_at is not None,
                "text": text,
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
        The page; sections ``#owed #offer #schedule #chart #rates #waived #missed #payments
        #status #contact #downloads``; the schedule rows carry ``data-number`` and their
        amount cells ``data-minor`` (exact minor units) for tests and scrapers.

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
    t = Words(locale)
    currency = document["currency"]
    as_of = date.fromisoformat(document["as_of"])
    owed = document["owed"]
    waiver = document["waiver"]
    metrics = document["metrics"]
    expires = _moment(view.expires_at, locale)
    accepted = None if view.accepted_at is None else day(view.accepted_at.date(), locale)
    context = {
        "t": t,
        "lang": locale.value,
        "currency": currency,
        "view": view,
        "expires": expires,
        "accepted": accepted,
        "summary": view.summary if view.summary is not None else document["summary"],
        "owed_sentence": t(
            "owed_sentence",
            date=day(as_of, locale),
            total=money(minor_of(document, owed["total"]), currency, locale),
        ),
        "owed": [
            (
                "owed_principal",
                t("owed_principal_note"),
                _amount(document, owed["principal"], locale),
            ),
            (
                "owed_interest",
                t("owed_interest_note", date=day(as_of, locale)),
                _amount(document, owed["interest"], locale),
            ),
            ("owed_fees", t("owed_fees_note"), _amount(document, owed["fees"], locale)),
        ],
        "owed_total": _amount(document, owed["total"], locale),
        "terms": _terms(document, locale, t),
        "schedule": _schedule(document, view, locale, t),
        "chart": _chart(document, view, locale, t),
        "rates": [
            ("apr", metrics["apr"], percent(Decimal(metrics["apr"]), locale)),
            (
                "effective_annual_rate",
                metrics["effective_annual_rate"],
                percent(Decimal(metrics["effective_annual_rate"]), locale),
            ),
        ],
        "no_interest": minor_of(document, metrics["finance_charge"]) == 0,
        "waived_total": _amount(document, waiver["total"], locale),
        "waived": [
            (f"waived_{part}", _amount(document, waiver[part], locale))
            for part in ("fees", "interest", "principal")
            if minor_of(document, waiver[part])
        ],
        # A settlement in instalments forgives its discount with the last payment only.
        "waived_conditional": document["kind"] == "settlement_plan",
        "payments": _payments(document, view, locale),
        "contact": _contact(document, view, locale, t),
        "balance_now": None
        if not view.payments
        else money(view.payments[-1].balance_after_minor, currency, locale),
        "languages": [
            (other.value, LANGUAGE_NAMES[other], view.lang_urls.get(other), other is locale)
            for other in Locale
            if other is locale or other in view.lang_urls
        ],
    }
    return page_environment().get_template("offer.html").render(context)


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
    return (
        page_environment().get_template("not_found.html").render(t=Words(locale), lang=locale.value)
    )
