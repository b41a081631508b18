"""The party reading a plan's page: the messages delivered to them and their own preferences.

One offer has one link, but its reminders go to every obligor of the debt (debtor and
co-debtors). Each message therefore carries the party's own link: the page's address plus
``?p=<marker>``, an HMAC of the token and the party's id under a key derived from the service's
secret (``app.sharing.party_marker``). The page reads for the party whose marker it is:

* with a marker that matches a party of the debt (not removed): that party;
* without one (the link the collector shared): the debt's first party with role ``debtor``
  (the person the offer was prepared for), or nobody if none is on file;
* with a marker that matches no one: the same 404 as an unknown link. A mistyped or cut link
  then shows nothing rather than another person's messages and preferences (which is what
  falling back to the debtor would do for a co-debtor), and tells nothing about markers.

What the page lists is told from the plan's own facts (the instalment, its amount and date,
the payment confirmed), never from a message's sealed body: only messages the outbox marked
delivered to that party, in their zone, with channels masked as everywhere else.

A party's request on the page is what lifts an opt-out or a stop (a collector's key can only
add them: ``app.contacts.update_party``). Each change applies at once (the outbox re-checks a
message when a sender claims it and cancels one on an opted-out channel) and is an audit event
``contact_preference_changed`` whose actor is the party (``party:<id>``).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit, contacts, outbox
from app.db import AcceptedPlan, OutboxMessage, PlanPayment, SavedOffer, utcnow
from app.db import Party as PartyRow
from app.errors import conflict, no_such_link
from app.pages import ChannelChoice, ContactView, SentMessage
from app.sharing import party_marker, scheduled_lines
from plans.contact import Channel
from plans.payments import ScheduledLine
from schemas.preferences import PreferenceChange

Json = dict[str, Any]

# The order the page lists a party's channels in: messages first, then calls.
PAGE_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PHONE)


@dataclass(frozen=True, slots=True)
class Reader:
    """Who a page request reads for: the party, and the marker that named them (``None``: the
    shared link, read for the debtor)."""

    party: PartyRow
    marker: str | None

    @property
    def via(self) -> Literal["party_link", "shared_link"]:
        """How the party came to the page, for the audit trail."""
        return "party_link" if self.marker is not None else "shared_link"


def reader(db: Session, offer: SavedOffer, token: str, marker: str | None) -> Reader | None:
    """The party a request on ``offer``'s page acts for; ``None`` when nobody is on file.

    Raises the link's 404 (``app.errors.no_such_link``) for a marker of no party of the debt.
    """
    parties = contacts._listed(db, offer.debt_ref)
    if marker is None:
        debtor = next((row for row in parties if row.role == "debtor"), None)
        return None if debtor is None else Reader(debtor, None)
    given = marker.encode()
    for row in parties:
        # compared as bytes: compare_digest refuses a str with non-ASCII characters
        if hmac.compare_digest(party_marker(token, row.id).encode(), given):
            return Reader(row, marker)
    raise no_such_link()


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
            payment_id = outbox.confirmed_payment_id(message.kind, message.dedupe_key)
            payment = None if payment_id is None else db.get(PlanPayment, payment_id)
            if payment is not None and payment.plan_id == plan.id:
                details = {"amount_minor": payment.amount_minor, "day": payment.paid_on}
        shown.append(SentMessage(when, channel, kind, **details))
    return shown


def contact_view(db: Session, row: PartyRow, preferences_url: str) -> ContactView:
    """What the page's contact section shows ``row``: messages, channels masked, preferences."""
    zone = _zone(row)
    given = contacts._channels(row)
    masked = contacts.masked_channels(given)
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


def preferences_json(row: PartyRow, *, changed: bool) -> Json:
    """``schemas.preferences.PreferencesOut`` for ``row``."""
    document = contacts.party_json(row)
    return {
        "role": row.role,
        "masked_channels": document["masked_channels"],
        "opted_out": document["opted_out"],
        "opted_out_at": document["opted_out_at"],
        "stopped": document["stopped"],
        "stopped_at": document["stopped_at"],
        "changed": changed,
    }


def nobody_on_file() -> Exception:
    """409: the link reads for nobody (no debtor on file), so there is nothing to change."""
    return conflict(
        "No one is on file for this link, so there are no contact preferences to change.",
        "no-party",
    )


def change(db: Session, offer: SavedOffer, who: Reader | None, body: PreferenceChange) -> Json:
    """Apply the party's own change; audited when it changes anything."""
    if who is None:
        raise nobody_on_file()
    row = who.party
    # one change of a party's preferences at a time (a second click, the collector's key)
    db.refresh(row, with_for_update=True)
    now = utcnow()
    before = (dict(row.opted_out), row.stopped_at)
    channel = None if body.channel is None else body.channel.value
    if body.change == "opt_out" and channel is not None and channel not in row.opted_out:
        row.opted_out = {**row.opted_out, channel: now.isoformat()}
    elif body.change == "opt_in" and channel is not None and channel in row.opted_out:
        row.opted_out = {c: at for c, at in row.opted_out.items() if c != channel}
    elif body.change == "stop" and row.stopped_at is None:
        row.stopped_at = now
    elif body.change == "resume":
        row.stopped_at = None
    changed = (dict(row.opted_out), row.stopped_at) != before
    if changed:
        row.updated_at = now
        db.flush()
        audit.record(
            db,
            "contact_preference_changed",
            actor=f"party:{row.id}",
            offer_id=offer.id,
            payload={
                "debt_ref": row.debt_ref,
                "party_id": row.id,
                "role": row.role,
                "change": body.change,
                "channel": channel,
                "via": who.via,
                "opted_out": sorted(row.opted_out),
                "stopped": row.stopped_at is not None,
            },
        )
    return preferences_json(row, changed=changed)
