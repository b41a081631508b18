"""Offers shared with debtors: saving an offer behind an unguessable link, the link's addresses
and tokens, acceptance (``sharing``); the accepted plans, their state on a day, payments and the
payoff quote (``plans``); the debtor's page and downloads (``views``, ``pages``, ``downloads``,
``web``) with their routes (``routes``). Links publishes what happens to a plan as domain events
(``events``: ``PlanAccepted``, ``PaymentRecorded``, ``InstalmentMissed``) and never imports the
rooms that act on them; who reads a page is told by the room that knows the parties
(``readers``).
"""

from __future__ import annotations


def install() -> None:
    """Register how to find the debt of an offer or a plan (``app.core.access``), so other
    rooms (the audit trail) can check them without importing links."""
    from sqlalchemy import select

    from app.core.access import debt_finder
    from app.core.models import Debt
    from app.links.models import AcceptedPlan, SavedOffer

    debt_finder(
        "offer",
        lambda db, id_: db.scalar(
            select(Debt).join(SavedOffer, SavedOffer.debt_id == Debt.id).where(SavedOffer.id == id_)
        ),
    )
    debt_finder(
        "plan",
        lambda db, id_: db.scalar(
            select(Debt)
            .join(SavedOffer, SavedOffer.debt_id == Debt.id)
            .join(AcceptedPlan, AcceptedPlan.offer_id == SavedOffer.id)
            .where(AcceptedPlan.id == id_)
        ),
    )
