"""The debtor's page of a consolidated offer: the combined plan, each line's share per debt,
the allocation rule in one sentence, and a table per debt (what it owed, what the plan pays
it, when it is cleared; once accepted, where its own plan stands and what it has been paid).

It is the single offer's page (``offer.html``, :func:`app.links.pages.page_context`) of the
combined document, with the ``#offer`` rows of a consolidated plan and the ``#debts`` section.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from app.core.i18n import Words
from app.links.pages import frequency_text, minor_of, page_context, page_environment, plan_kind
from app.links.views import DebtPart, OfferView
from app.offers.consolidated import allocation_text
from app.offers.summaries import day, money
from plans.allocation import AllocationRule
from schemas.common import Locale

Json = dict[str, Any]


def group_terms(
    document: Json, *, debts: int, frequency: str, locale: Locale, t: Words
) -> list[Json]:
    """The ``#offer`` rows of a consolidated offer: its kind, how many debts, its payments
    (how many, each, how often), the total and the first and last payment dates."""
    currency = document["currency"]

    def m(minor: int) -> str:
        return money(minor, currency, locale)

    def row(label: str, text: str, minor: int | None = None) -> Json:
        return {"label": label, "text": text, "minor": None if minor is None else str(minor)}

    lines = [x for x in document["schedule"]["lines"] if minor_of(document, x["payment"])]
    regular = [x for x in lines if x["kind"] in ("instalment", "deferral")]
    total = minor_of(document, document["metrics"]["total_paid"])
    rows = [
        row(t.gettext("Kind of plan"), plan_kind(document["kind"], t)),
        row(t.gettext("Debts in this plan"), str(debts)),
    ]
    if regular:
        amounts = [minor_of(document, x["payment"]) for x in regular]
        level = max(set(amounts), key=lambda a: (amounts.count(a), a))
        text = m(level)
        if len(amounts) > 1 and amounts[-1] != level:
            text = t.gettext("%(amount)s (last one %(last)s)", amount=text, last=m(amounts[-1]))
        rows.append(row(t.gettext("Number of instalments"), str(len(regular))))
        rows.append(row(t.gettext("Each instalment"), text, level))
        rows.append(row(t.gettext("How often"), frequency_text(frequency, t)))
    rows.append(row(t.gettext("Total you pay"), m(total), total))
    if lines:
        rows.append(
            row(
                t.gettext("First payment due"),
                day(date.fromisoformat(lines[0]["due_date"]), locale),
            )
        )
        if len(lines) > 1:
            last = day(date.fromisoformat(lines[-1]["due_date"]), locale)
            rows.append(row(t.gettext("Last payment due"), last))
    return rows


def _status_text(status: str, t: Words) -> str:
    return {
        "active": t.pgettext("plan status", "on track"),
        "late": t.pgettext("plan status", "a payment is late"),
        "missed": t.pgettext("plan status", "a payment was missed"),
        "cured": t.pgettext("plan status", "back on track"),
        "broken": t.pgettext("plan status", "ended: payments missed"),
        "completed": t.pgettext("plan status", "repaid"),
        "replaced": t.pgettext("plan status", "replaced by a new plan"),
        "cancelled": t.pgettext("plan status", "cancelled"),
        "written_off": t.pgettext("plan status", "no longer collected"),
    }[status]


def render_consolidated_page(
    document: Json,
    debts: Sequence[DebtPart],
    view: OfferView,
    locale: Locale | str,
    *,
    frequency: str,
) -> str:
    """The debtor's page for a consolidated offer (``schemas.wire.consolidated_json``'s
    ``document``): a complete HTML5 document, the single offer's sections (the schedule's rows
    naming each debt's share) and ``#debts``, whose lists carry ``data-debt-ref``."""
    locale = Locale(locale)
    t = Words(locale)
    currency = document["currency"]

    def amount(minor: int) -> Json:
        return {"minor": str(minor), "text": money(minor, currency, locale)}

    context = page_context(
        document,
        view,
        locale,
        terms=group_terms(document, debts=len(debts), frequency=frequency, locale=locale, t=t),
    )
    context["consolidated"] = {
        "rule_text": allocation_text(AllocationRule(document["allocation_rule"]), locale),
        "debts": [
            {
                "ref": d.debt_ref,
                "owed": amount(d.owed_minor),
                "interest_accrued": amount(d.interest_accrued_minor)
                if d.interest_accrued_minor
                else None,
                "paid": amount(d.paid_minor),
                "waived": amount(d.waived_minor) if d.waived_minor else None,
                "cleared": "" if d.cleared_on is None else day(d.cleared_on, locale),
                "cleared_iso": None if d.cleared_on is None else d.cleared_on.isoformat(),
                "status": d.plan_status,
                "status_text": None if d.plan_status is None else _status_text(d.plan_status, t),
                "paid_so_far": amount(d.paid_so_far_minor),
                "certificate_url": d.certificate_url,
            }
            for d in debts
        ],
    }
    return page_environment(locale=locale).get_template("offer.html").render(context)
