"""A completed plan's settlement certificate (结清证明), rendered from its offer document.

Like the plan's page (``app.links.pages``), a pure function of its inputs: the offer document,
a :class:`app.links.views.CertificateView` (the debt's reference, creditor and debtor, the
payments received, the day the plan was completed) and a locale; no HTTP, no database, no
clock, so a golden file pins each language byte for byte. It is made to be printed: one A4
page, nothing to press (``page.css``'s print rules), and what it certifies in one sentence.
Whether a plan has one is decided elsewhere (``app.links.plans.completed_on``).
"""

from __future__ import annotations

from typing import Any

from app.core.i18n import Words
from app.links.pages import LANGUAGE_NAMES, page_environment, plan_kind
from app.links.views import CertificateView
from app.offers.summaries import day, money
from schemas.common import Locale

Json = dict[str, Any]


def certificate_number(plan_id: str) -> str:
    """The number of a plan's certificate: the same every time it is shown, and the plan's.

    The first 64 bits of the plan's id (a random UUID's hex), in groups of four, so that it
    can be read out on the phone and the creditor finds the plan by it.

    Examples
    --------
    >>> certificate_number("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    'SC-0F1E-2D3C-4B5A-6978'
    """
    head = plan_id[:16].upper()
    return "SC-" + "-".join(head[k : k + 4] for k in range(0, 16, 4))


def render_certificate(document: Json, view: CertificateView, locale: Locale | str) -> str:
    """The settlement certificate of a completed plan: a complete HTML5 document.

    Parameters
    ----------
    document : dict
        The plan's offer as ``schemas.wire.offer_json`` made it (its currency and kind).
    view : CertificateView
        The debt, the payments, the day the plan was completed, the certificate's number.
    locale : Locale or str
        ``"en"`` or ``"zh-CN"``; every word on the certificate is in it.

    Returns
    -------
    str
        The certificate; sections ``#debt #plan #paid #settled``; each payment's amount cell
        carries ``data-minor`` (exact minor units), the totals row ``data-totals``.

    Examples
    --------
    >>> from datetime import date, datetime, timezone
    >>> from app.links.views import ConfirmedPayment
    >>> paid = ConfirmedPayment(date(2027, 1, 15), 300_000, "WX-1", 300_000, 0, 0, 0)
    >>> view = CertificateView(
    ...     number="SC-0F1E-2D3C-4B5A-6978", issued_on=date(2027, 1, 20), debt_ref="CARD-1",
    ...     creditor="Acme Finance", debtor_name="John Smith",
    ...     accepted_at=datetime(2026, 12, 1, tzinfo=timezone.utc),
    ...     completed_on=date(2027, 1, 15), payments=(paid,), paid_minor=300_000,
    ...     refunded_minor=0, page_url="/s/t", lang_urls={})
    >>> page = render_certificate({"currency": "CNY", "kind": "instalment"}, view, "en")
    >>> "Nothing more is owed on this debt under this plan." in page, "CN¥3,000.00" in page
    (True, True)
    """
    locale = Locale(locale)
    t = Words(locale)
    currency = document["currency"]

    def amount(minor: int) -> Json:
        return {"minor": str(minor), "text": money(minor, currency, locale)}

    accepted = day(view.accepted_at.date(), locale)
    completed = day(view.completed_on, locale)
    context = {
        "lang": locale.value,
        "currency": currency,
        "view": view,
        "kind": plan_kind(document["kind"], t),
        "issued": day(view.issued_on, locale),
        "accepted": accepted,
        "completed": completed,
        "payments": [
            {
                "date_iso": p.paid_on.isoformat(),
                "date": day(p.paid_on, locale),
                "amount": amount(p.amount_minor),
                "reference": p.reference,
            }
            for p in view.payments
        ],
        "refunded": amount(view.refunded_minor) if view.refunded_minor else None,
        "paid": amount(view.paid_minor),
        "statement": t.gettext(
            "%(creditor)s confirms that the repayment plan for debt %(ref)s, accepted on"
            " %(accepted)s, was paid in full on %(completed)s: %(paid)s in all.",
            creditor=view.creditor,
            ref=view.debt_ref,
            accepted=accepted,
            completed=completed,
            paid=money(view.paid_minor, currency, locale),
        ),
        "languages": [
            (other.value, LANGUAGE_NAMES[other], view.lang_urls.get(other), other is locale)
            for other in Locale
            if other is locale or other in view.lang_urls
        ],
    }
    return page_environment(locale=locale).get_template("certificate.html").render(context)
