"""What the party reading a plan's page has been sent: the messages delivered to them, and
the contact section of their page.

What the page lists is told from the plan's own facts (the instalment, its amount and date,
the payment confirmed), never from a message's sealed body: only messages the outbox marked
delivered to that party, in their zone, with channels masked as everywhere else. The reader
is found by ``app.contacts.preferences.reader``; :func:`page_reader` is what the page asks
(``app.links.readers``), provided by ``app.messaging.install``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.contacts import parties, preferences
from app.contacts.models import Party as PartyRow
from app.core.masking import masked_channels
from app.links.models import AcceptedPlan, PlanPayment, SavedOffer
from app.links.plans import scheduled_lines
from app.links.readers import PageReader
from app.links.views import ChannelChoice, ContactView, SentMessage
from app.messaging.models import OutboxMessage
from app.messaging.notices import confirmed_payment_id
from plans.contact import Channel
from plans.payments import ScheduledLine

Json = dict[str, Any]

# The order the page lists a party's channels in: messages first, then calls.
PAGE_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PHONE)


def _zone(row: PartyRow) -> ZoneInfo:
    return ZoneInfo(row.time_zone)


def sent_messages(db: Session, row: PartyRow) -> list[SentMessage]:
    """Every message delivered to ``row``, newest first, told from the plans' facts."""
    zone = _zone(row)
    # the columns the page tells a message by: not its sealed content, not even loaded
    found = db.execute(
        select(
            OutboxMessage.delivered_at,
            OutboxMessage.channel,
            OutboxMessage.kind,
            OutboxMessage.plan_id,
            OutboxMessage.instalment,
            OutboxMessage.dedupe_key,
        )
        .where(OutboxMessage.party_id == row.id, OutboxMessage.status == "delivered")
        .order_by(OutboxMessage.delivered_at.desc(), OutboxMessage.id)
    )
    plans: dict[str, AcceptedPlan | None] = {}
    lines_of: dict[str, list[ScheduledLine]] = {}
    shown = []
    for message in found:
        assert message.delivered_at is not None  # delivered messages have the time set
        when = message.delivered_at.astimezone(zone)
        channel: Any = message.channel
        kind: Any = message.kind
        plan = None
        if message.plan_id is not None:
            if message.plan_id not in plans:
                plans[message.plan_id] = db.get(AcceptedPlan, message.plan_id)
            plan = plans[message.plan_id]
        details: Json = {}
        if plan is not None and message.kind in ("reminder", "missed"):
            if plan.id not in lines_of:
                lines_of[plan.id] = scheduled_lines(plan.offer.document)
            lines = lines_of[plan.id]
            for k, line in enumerate(lines, start=1):
                if line.number == message.instalment:
                    details = {
                        "amount_minor": line.payment_minor,
                        "day": line.payment_date,
                        "number": k,
                        "count": len(lines),
                    }
        elif plan is not None and message.kind == "confirmation":
            payment_id = confirmed_payment_id(message.kind, message.dedupe_key)
            payment = None if payment_id is None else db.get(PlanPayment, payment_id)
            if payment is not None and payment.plan_id == plan.id:
                details = {"amount_minor": payment.amount_minor, "day": payment.paid_on}
        shown.append(SentMessage(when, channel, kind, **details))
    return shown


def contact_view(db: Session, row: PartyRow, preferences_url: str) -> ContactView:
    """What the page's contact section shows ``row``: messages, channels masked, preferences."""
    zone = _zone(row)
    given = parties.channels_of(row)
    masked = masked_channels(given)
    choices = []
    for channel in PAGE_CHANNELS:
        address = masked.get(channel.value)
        if address is None:
            continue
        since = row.opted_out.get(channel.value)
        choices.append(
            ChannelChoice(
                channel.value,
                address,
                None if since is None else datetime.fromisoformat(since).astimezone(zone),
            )
        )
    return ContactView(
        messages=sent_messages(db, row),
        channels=choices,
        preferences_url=preferences_url,
        stopped_at=None if row.stopped_at is None else row.stopped_at.astimezone(zone),
    )


def page_reader(
    db: Session, offer: SavedOffer, token: str, marker: str | None
) -> PageReader | None:
    """The reader of ``offer``'s page (``app.links.readers``): the party the marker names, or
    the debtor for the shared link; ``None`` when nobody is on file."""
    who = preferences.reader(db, offer, token, marker)
    if who is None:
        return None
    row = who.party
    return PageReader(row.locale, lambda url: contact_view(db, row, url))
