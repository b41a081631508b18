"""The party reading a plan's page, and the contact preferences they set there.

One offer has one link, but its reminders go to every obligor of the debt (debtor and
co-debtors). Each message therefore carries the party's own link: the page's address plus
``?p=<marker>``, an HMAC of the token and the party's id under a key derived from the service's
secret (``app.links.sharing.party_marker``). The page reads for the party whose marker it is:

* with a marker that matches a party of the debt (not removed): that party;
* without one (the link the collector shared): the debt's first party with role ``debtor``
  (the person the offer was prepared for), or nobody if none is on file;
* with a marker that matches no one: the same 404 as an unknown link. A mistyped or cut link
  then shows nothing rather than another person's messages and preferences (which is what
  falling back to the debtor would do for a co-debtor), and tells nothing about markers.

The messages the page lists for the party are messaging's (``app.messaging.deliveries``).

A party may also opt out of a channel by replying to one of our messages with a keyword (回T退订,
Reply STOP: :func:`opt_out_by_reply`, called by ``app.messaging.replies``).

A party's request on the page is what lifts an opt-out or a stop (a collector's key can only
add them: ``app.contacts.parties.update_party``). Each change applies at once (the outbox
re-checks a message when a sender claims it and cancels one on an opted-out channel) and is an
audit event ``contact_preference_changed`` whose actor is the party (``party:<id>``).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from app.audit import trail
from app.contacts import parties
from app.contacts.models import Party as PartyRow
from app.core.db import utcnow
from app.core.errors import conflict, no_such_link
from app.links.models import SavedOffer
from app.links.sharing import party_marker
from schemas.preferences import PreferenceChange

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reader:
    """Who a page request reads for: the party, and the marker that named them (``None``: the
    shared link, read for the debtor)."""

    party: PartyRow
    marker: str | None

    @property
    def locale(self) -> str:
        """The language of the party's messages (their own link opens in it)."""
        return self.party.locale

    @property
    def via(self) -> Literal["party_link", "shared_link"]:
        """How the party came to the page, for the audit trail."""
        return "party_link" if self.marker is not None else "shared_link"


def reader(db: Session, offer: SavedOffer, token: str, marker: str | None) -> Reader | None:
    """The party a request on ``offer``'s page acts for; ``None`` when nobody is on file.

    Raises the link's 404 (``app.core.errors.no_such_link``) for a marker of no party of the debt.
    """
    on_file = parties.listed(db, offer.debt_id)
    if marker is None:
        debtor = next((row for row in on_file if row.role == "debtor"), None)
        return None if debtor is None else Reader(debtor, None)
    given = marker.encode()
    for row in on_file:
        # compared as bytes: compare_digest refuses a str with non-ASCII characters
        if hmac.compare_digest(party_marker(token, row.id).encode(), given):
            return Reader(row, marker)
    raise no_such_link()


def preferences_json(row: PartyRow, *, changed: bool) -> Json:
    """``schemas.preferences.PreferencesOut`` for ``row``."""
    document = parties.party_json(row)
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
        _record(db, row, body.change, channel, who.via, now, offer_id=offer.id)
    return preferences_json(row, changed=changed)


def _record(
    db: Session,
    row: PartyRow,
    change: str,
    channel: str | None,
    via: str,
    now: datetime,
    *,
    offer_id: str | None = None,
) -> None:
    row.updated_at = now
    db.flush()
    trail.record(
        db,
        "contact_preference_changed",
        actor=f"party:{row.id}",
        offer_id=offer_id,
        organisation_id=None if offer_id else row.debt.organisation_id,
        payload={
            "debt_ref": row.debt_ref,
            "party_id": row.id,
            "role": row.role,
            "change": change,
            "channel": channel,
            "via": via,
            "opted_out": sorted(row.opted_out),
            "stopped": row.stopped_at is not None,
        },
    )


def opt_out_by_reply(db: Session, row: PartyRow, channel: str) -> bool:
    """The party replied to one of our messages on ``channel`` asking to stop them (回T退订,
    Reply STOP): opt them out of it, as their own request (audited, ``via`` ``reply``).
    Whether it changed anything."""
    db.refresh(row, with_for_update=True)
    if channel in row.opted_out:
        return False
    now = utcnow()
    row.opted_out = {**row.opted_out, channel: now.isoformat()}
    _record(db, row, "opt_out", channel, "reply", now)
    return True
