"""Offers shared with debtors: saving an offer behind a link, the link's addresses and tokens,
revoking it, the debtor's views and acceptance, and what the debtor's page shows.

Who sees what: a collector's key sees the offers it created (others answer 404, as if they did
not exist); finance and admin keys see all (``app.core.access``). The debtor sees one offer,
through its link, and nothing else. Accepting publishes :class:`app.links.events.PlanAccepted`
in the acceptance's transaction; the plan's life after that is ``app.links.plans``'.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import trail
from app.core.access import Action, Actor, actor, can, not_visible, open_debt
from app.core.db import utcnow
from app.core.errors import conflict, no_such_link
from app.core.events import bus
from app.core.idempotency import request_fingerprint
from app.core.masking import mask_name
from app.core.models import Organisation
from app.core.settings import get_settings
from app.finance.policies import ResolvedPolicy, resolve_for_offer
from app.links.certificate import certificate_number
from app.links.events import PlanAccepted, PlanReplaced
from app.links.models import OPEN_STATES, AcceptedPlan, OfferGroup, PlanPayment, SavedOffer
from app.links.plans import (
    advance,
    balance_of,
    completed_on,
    decide,
    open_plan_of,
    resolve_version,
    standing_quote,
    state_of,
)
from app.links.views import (
    CertificateView,
    ConfirmedPayment,
    ContactView,
    InstalmentStatus,
    OfferState,
    OfferView,
    PayoffView,
    PlanStatus,
)
from app.offers import calculations
from app.offers.consolidated import affordability_of
from app.offers.summaries import summary
from plans.compare import negotiate
from plans.consolidation import ConsolidatedOffer
from plans.errors import DomainError
from plans.lifecycle import RUNNING, Decision
from plans.money import to_minor
from plans.offer import Offer, Owed, Rejection
from plans.payments import PaymentResult, StandingQuote
from plans.policy import OfferKind
from schemas.common import Locale
from schemas.sharing import SaveNegotiated, SavePlanned
from schemas.wire import amount_formatter, offer_json

Json = dict[str, Any]

TOKEN_BYTES = 24  # 192 bits from secrets: far beyond guessing, and short enough for an SMS
# A party marker is HMAC-SHA256 truncated to 128 bits (NIST SP 800-107 rev. 1 §5.3.4: a
# truncated HMAC keeps its security up to the length kept): 22 base64url characters.
MARKER_BYTES = 16
MARKER_PATTERN = r"^[A-Za-z0-9_-]{22}$"


def token_hash(token: str) -> str:
    """How a link's token is stored and looked up.

    Examples
    --------
    >>> len(token_hash("abc"))
    64
    """
    return hashlib.sha256(token.encode()).hexdigest()


def seal_token(token: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(get_settings().secret_key).encrypt(nonce, token.encode(), b"share-link")
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal_token(sealed: str) -> str:
    raw = base64.urlsafe_b64decode(sealed)
    return AESGCM(get_settings().secret_key).decrypt(raw[:12], raw[12:], b"share-link").decode()


def _marker_key(secret: bytes) -> bytes:
    # A key of its own, derived from the service secret (RFC 5869 HKDF), so the secret that
    # seals links and personal data with AES-GCM is never used directly as an HMAC key.
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"repay party link marker v1").derive(secret)


_marker_keys: dict[bytes, bytes] = {}


def party_marker(token: str, party_id: str) -> str:
    """The marker that makes a link one party's: unguessable without the service's secret.

    Anyone holding a message's link holds the token already; the marker adds which party the
    message went to, and cannot be forged for another party or another token.

    Examples
    --------
    >>> marker = party_marker("t" * 32, "a" * 32)
    >>> len(marker), marker == party_marker("t" * 32, "b" * 32)
    (22, False)
    """
    secret = get_settings().secret_key
    key = _marker_keys.get(secret)
    if key is None:
        key = _marker_keys[secret] = _marker_key(secret)
    # token and party id are base64url and hex: a NUL cannot occur in either
    digest = hmac.new(key, f"{token}\0{party_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:MARKER_BYTES]).decode().rstrip("=")


def link(token: str, party_id: str | None = None) -> str:
    """The debtor's page for a token; with ``party_id``, that party's own link to it.

    Examples
    --------
    >>> link("t" * 32).endswith("/s/" + "t" * 32)
    True
    >>> "?p=" in link("t" * 32, "a" * 32)
    True
    """
    page = f"{get_settings().base_url}/s/{token}"
    return page if party_id is None else f"{page}?p={party_marker(token, party_id)}"


def change_link(token: str, party_id: str | None = None) -> str:
    """The change page of a link; with ``party_id``, that party's own (:func:`link`).

    Examples
    --------
    >>> change_link("t" * 32).endswith("/s/" + "t" * 32 + "/change")
    True
    >>> "/change?p=" in change_link("t" * 32, "a" * 32)
    True
    """
    page = f"{get_settings().base_url}/s/{token}/change"
    return page if party_id is None else f"{page}?p={party_marker(token, party_id)}"


def certificate_link(token: str, party_id: str | None = None) -> str:
    """The settlement certificate (结清证明) of a link's plan; with ``party_id``, that
    party's own (:func:`link`).

    Examples
    --------
    >>> certificate_link("t" * 32).endswith("/s/" + "t" * 32 + "/certificate")
    True
    """
    page = f"{get_settings().base_url}/s/{token}/certificate"
    return page if party_id is None else f"{page}?p={party_marker(token, party_id)}"


def offer_for(db: Session, offer_id: str, key: Actor, action: Action = Action.READ) -> SavedOffer:
    """A saved offer whose debt the key may ``action``, or the 404 of one that does not exist."""
    offer = db.get(SavedOffer, offer_id)
    if offer is None or not can(key, action, offer.debt):
        raise not_visible("offer", offer_id)
    return offer


def is_expired(offer: SavedOffer, now: datetime | None = None) -> bool:
    """Past its link's expiry (an accepted offer's link keeps working for the debtor)."""
    return offer.status != "accepted" and (now or utcnow()) >= offer.expires_at


def _plan_id(db: Session, offer: SavedOffer) -> str | None:
    return db.scalar(select(AcceptedPlan.id).where(AcceptedPlan.offer_id == offer.id))


def saved_json(db: Session, offer: SavedOffer) -> Json:
    """A saved offer as ``schemas.sharing.SavedOfferOut``."""
    return {
        "id": offer.id,
        "debt_ref": offer.debt_ref,
        "kind": offer.kind,
        "status": offer.status,
        "expired": is_expired(offer),
        # a consolidated offer's debts share the group's link
        "link": link(token := unseal_token((offer.group or offer).token_sealed)),
        "token": token,
        "expires_at": offer.expires_at,
        "created_at": offer.created_at,
        "plan_id": _plan_id(db, offer),
        "policy": offer.document["policy"],
        "offer": offer.document,
        "statement": offer.statement,
        "consolidated": None if offer.group is None else _group_json(db, offer.group),
    }


def group_members(db: Session, group_id: str, *, lock: bool = False) -> list[SavedOffer]:
    """The debts' offers of a consolidated offer, in the request's order (the lead first)."""
    query = (
        select(SavedOffer)
        .where(SavedOffer.group_id == group_id)
        .order_by(SavedOffer.group_position)
    )
    return list(db.scalars(query.with_for_update() if lock else query))


def _group_json(db: Session, group: OfferGroup) -> Json:
    # schemas.consolidated_plans.SavedGroupOut
    members = group_members(db, group.id)
    rows = db.execute(
        select(AcceptedPlan.offer_id, AcceptedPlan.id).where(
            AcceptedPlan.offer_id.in_([m.id for m in members])
        )
    )
    plans = {offer_id: plan_id for offer_id, plan_id in rows}
    return {
        "id": group.id,
        "allocation_rule": group.allocation_rule,
        "offer": group.document,
        "debts": [
            {"debt_ref": m.debt_ref, "offer_id": m.id, "plan_id": plans.get(m.id)} for m in members
        ],
    }


def _compute(
    db: Session, request: SaveNegotiated | SavePlanned, key: Actor, jurisdiction: str | None
) -> tuple[Json, dict[str, str], ResolvedPolicy, Json | None]:
    # Recomputed here from the request, never taken from the client as a finished document;
    # with the statement the offer was negotiated from, if any (app.links.statement shows it).
    statement = None
    if request.negotiate is not None:
        asked = request.negotiate
        policy = resolve_for_offer(db, asked.policy, key, field="negotiate.policy.version")
        debt = calculations.engine_debt(asked.debt, jurisdiction)
        capacity = asked.capacity.to_engine(debt.currency, policy.engine)
        today = calculations.debt_today(policy, debt.jurisdiction)
        result = negotiate(
            debt,
            capacity,
            policy=policy.engine,
            rank_by=asked.rank_by,
            today=today,
            until=asked.until,
        )
        offer, locale = chosen(result.ranked, result.rejected, request.kind), asked.locale
        if asked.capacity.statement is not None:
            statement = {
                "given": asked.capacity.statement.model_dump(mode="json"),
                "affordability": affordability_of(
                    asked.capacity,
                    debt.currency,
                    policy,
                    [(offer.kind, offer.schedule.lines)],
                    locale,
                ),
            }
    else:
        assert request.plan is not None
        policy = resolve_for_offer(db, request.plan.policy, key, field="plan.policy.version")
        offer = calculations.plan_offer(
            request.plan, policy, prefix="plan.", jurisdiction=jurisdiction
        )
        locale = request.plan.locale
    summaries = {lang.value: summary(offer, lang) for lang in Locale}
    document = offer_json(offer, summary=summaries[locale.value], policy=policy.used)
    return document, summaries, policy, statement


def saved_before(
    db: Session, key: Actor, idempotency_key: str | None, fingerprint: str
) -> Json | None:
    """What ``key`` saved before with ``idempotency_key`` (``SavedOfferOut``), if anything:
    a retry of the same request gets it back, a different request under the same key a 409."""
    if idempotency_key is None:
        return None
    earlier = db.scalar(
        select(SavedOffer).where(
            SavedOffer.created_by == key.id, SavedOffer.idempotency_key == idempotency_key
        )
    )
    if earlier is None:
        return None
    if earlier.request_hash != fingerprint:
        raise conflict("This Idempotency-Key was used for a different request.", "idempotency-key")
    return saved_json(db, earlier)


_Kinded = TypeVar("_Kinded", Offer, ConsolidatedOffer)


def chosen(
    ranked: Sequence[_Kinded], rejected: Sequence[Rejection], kind: OfferKind | None
) -> _Kinded:
    """The offer to save of a negotiation's: the best ranked of ``kind`` (any kind: the best),
    or the 422 of none: its own reason when the request's date is it (as an explicit plan
    names it), else why the policy made none of that kind."""
    found = [o for o in ranked if kind in (None, o.kind)]
    if found:
        return found[0]
    refused = [r for r in rejected if kind in (None, r.kind)]
    dated = [r for r in refused if r.rule == "first_payment_not_in_past"]
    if dated:
        raise DomainError(f"negotiate.{dated[0].field}", dated[0].rule, dated[0].detail)
    detail = refused[0].detail if kind and refused else "the policy made no offer"
    raise DomainError("kind", "not_offered", f"no {kind} offer: {detail}")


def save_offer(
    db: Session, request: SaveNegotiated | SavePlanned, key: Actor, idempotency_key: str | None
) -> Json:
    """Save an offer for a debt and make its link; an earlier open offer for the same debt is
    superseded. With an ``Idempotency-Key`` already used by this key for the same request,
    the first result comes back and nothing new is made.

    The debt is the organisation's by its reference (``app.core.access.open_debt``): a new
    reference opens a debt for the key's team; one the key may not work is a 404."""
    fingerprint = request_fingerprint(request.model_dump(mode="json"))
    earlier = saved_before(db, key, idempotency_key, fingerprint)
    if earlier is not None:
        return earlier
    debt = open_debt(db, key, request.debt_ref)
    document, summaries, policy, statement = _compute(db, request, key, debt.jurisdiction)
    current = reschedules(
        db, debt.id, document, "negotiate.debt" if request.negotiate else "plan.debt"
    )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    offer = SavedOffer(
        id=uuid.uuid4().hex,
        debt_id=debt.id,
        debt_ref=debt.ref,
        kind=document["kind"],
        currency=document["currency"],
        policy_id=policy.id,
        policy_version=policy.version,
        document=document,
        summaries=summaries,
        statement=statement,
        debtor_name=request.debtor.name,
        locale=request.locale.value,
        token_hash=token_hash(token),
        token_sealed=seal_token(token),
        expires_at=now + timedelta(days=policy.engine.link_expiry_days),
        status="offered",
        replaces_plan_id=None if current is None else current.id,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        created_by=key.id,
        created_at=now,
    )
    try:
        with db.begin_nested():
            db.add(offer)
            db.flush()
    except IntegrityError:
        # the same key and Idempotency-Key, saved meanwhile by a concurrent retry
        return save_offer(db, request, key, idempotency_key)
    # Only offers still open when the row is written: one accepted (or revoked) meanwhile by a
    # concurrent transaction keeps its state (PostgreSQL re-checks the condition after waiting
    # for that transaction's lock on the row).
    superseded = sorted(
        db.scalars(
            update(SavedOffer)
            .where(
                SavedOffer.debt_id == debt.id,
                SavedOffer.status == "offered",
                SavedOffer.id != offer.id,
            )
            .values(status="superseded", superseded_by=offer.id)
            .returning(SavedOffer.id)
        )
    )
    trail.record(
        db,
        "offer_saved",
        actor=actor(key),
        offer_id=offer.id,
        payload={
            "debt_ref": offer.debt_ref,
            "kind": offer.kind,
            "policy": document["policy"],
            "total": document["metrics"]["total_paid"],
            "currency": offer.currency,
            "expires_at": offer.expires_at.isoformat(),
            "supersedes": superseded,
        },
    )
    return saved_json(db, offer)


def reschedules(db: Session, debt_id: str, document: Json, field: str) -> AcceptedPlan | None:
    """The debt's open plan that an offer would replace, if any: the offer must start from
    what that plan still asks today (one live arrangement per debt), or it is refused (a 422
    naming ``field``, the request's debt)."""
    current = open_plan_of(db, debt_id)
    if current is None:
        return None
    today = date.today()
    advance(db, current, today)
    if current.state not in OPEN_STATES:
        return None
    need = balance_of(db, current, today)
    currency = document["currency"]
    owed = document["owed"]
    given = Owed(*(to_minor(owed[k], currency) for k in ("principal", "interest", "fees")))
    if given != need:
        fmt = amount_formatter(currency)
        raise DomainError(
            field,
            "one_live_arrangement",
            f"the debt has an open plan ({current.id}, {current.state}): a new offer replaces it"
            f" and starts from what it still asks on {today.isoformat()}: principal"
            f" {fmt(need.principal_minor)}, interest {fmt(need.interest_minor)}, fees"
            f" {fmt(need.fees_minor)} {currency}",
        )
    return current


def revoke_offer(db: Session, offer_id: str, key: Actor) -> Json:
    """Revoke an offer's link: from now on it answers like an unknown one."""
    offer = offer_for(db, offer_id, key, Action.WORK)
    # locked: an acceptance under way commits first, and then this is the 409 below; one debt's
    # offer of a consolidated offer revokes the whole (its one link)
    if offer.group_id is None:
        db.refresh(offer, with_for_update=True)
        members = [offer]
    else:
        members = group_members(db, offer.group_id, lock=True)
    if any(member.status == "accepted" for member in members):
        raise conflict("The offer has been accepted: its plan can no longer be revoked here.")
    for member in members:
        if member.status != "revoked":
            member.status = "revoked"
            member.revoked_at = utcnow()
            trail.record(db, "link_revoked", actor=actor(key), offer_id=member.id, payload={})
    return saved_json(db, offer)


def by_token(db: Session, token: str) -> SavedOffer | None:
    """The offer a link shows, or ``None`` (unknown, revoked and expired alike): a consolidated
    offer's link gives its lead offer (:func:`shows_group`)."""
    hashed = token_hash(token)
    offer = db.scalar(select(SavedOffer).where(SavedOffer.token_hash == hashed))
    if offer is None:
        offer = db.scalar(
            select(SavedOffer)
            .join(OfferGroup, OfferGroup.id == SavedOffer.group_id)
            .where(OfferGroup.token_hash == hashed, SavedOffer.group_position == 0)
        )
    if offer is None or offer.status == "revoked" or is_expired(offer):
        return None
    return offer


def one_debts(db: Session, token: str) -> SavedOffer | None:
    """The offer of a link that shows one debt (:func:`by_token`), or ``None``: a consolidated
    offer's link has no page of one debt's (its certificate is each debt's, through that debt's
    own link; its change page is the whole group's, ``app.changes.group_changes``)."""
    offer = by_token(db, token)
    return None if offer is None or shows_group(offer, token) else offer


def shows_group(offer: SavedOffer, token: str) -> bool:
    """Whether ``token`` is the link of ``offer``'s consolidated offer (the combined page),
    rather than ``offer``'s own (one debt's page)."""
    return offer.group is not None and hmac.compare_digest(
        offer.group.token_hash, token_hash(token)
    )


def viewed(db: Session, offer: SavedOffer, what: str, locale: str) -> None:
    """The debtor opened the link (the page or a download)."""
    trail.record(
        db,
        "link_viewed",
        actor="debtor",
        offer_id=offer.id,
        payload={"what": what, "locale": locale},
    )


def _replaced_on_acceptance(
    db: Session, offer: SavedOffer, plan_id: str, today: date
) -> AcceptedPlan | None:
    """Close the debt's open plan as replaced by ``plan_id`` (the offer must have been made
    from it, with no payment since: else a 409); the plan it was, or None."""
    current = open_plan_of(db, offer.debt_id, lock=True)
    if current is None:
        return None
    advance(db, current, today)
    if current.state not in OPEN_STATES:
        return None
    moved = db.scalar(
        select(PlanPayment.id).where(
            PlanPayment.plan_id == current.id, PlanPayment.created_at > offer.created_at
        )
    )
    if offer.replaces_plan_id != current.id or moved is not None:
        raise conflict(
            "What is owed has changed since this offer was made (a payment or another plan):"
            " ask for a new offer.",
            "plan-changed",
        )
    decide(db, current, Decision.REPLACE, on=today, detail=f"replaced by plan {plan_id}")
    current.replaced_by_id = plan_id
    db.flush()
    return current


def accept(db: Session, token: str) -> Json:
    """The debtor accepts: the offer becomes a plan, exactly once. A consolidated offer
    becomes one plan per debt, all in this transaction (or none)."""
    offer = by_token(db, token)
    if offer is None:
        raise no_such_link()
    # locked (PostgreSQL): concurrent acceptances of one offer queue here, so each later one
    # reads "accepted" rather than finding the first one's plan as the debt's open plan
    if offer.group_id is None:
        db.refresh(offer, with_for_update=True)
        members = [offer]
    else:
        members = group_members(db, offer.group_id, lock=True)
    for member in members:
        if member.status == "revoked":
            raise no_such_link()
    for member in members:
        if member.status == "accepted":
            raise conflict("This offer has already been accepted.", "already-accepted")
    if any(member.status == "superseded" for member in members):
        raise conflict(
            "This offer was replaced by a newer one and can no longer be accepted.", "superseded"
        )
    today = date.today()
    accepted = [_accept_one(db, member, today) for member in members]
    plan = accepted[0]
    answer: Json = {
        "plan_id": plan.id,
        "offer_id": offer.id,
        "accepted_at": plan.accepted_at,
        "status": "accepted",
    }
    if offer.group_id is not None:
        trail.record(
            db,
            "consolidated_plan_accepted",
            actor="debtor",
            offer_id=offer.id,
            plan_id=plan.id,
            payload={
                "consolidated_plan_id": offer.group_id,
                "plans": {m.debt_ref: p.id for m, p in zip(members, accepted, strict=True)},
            },
        )
        answer["consolidated"] = {
            "consolidated_plan_id": offer.group_id,
            "plans": [
                {"debt_ref": m.debt_ref, "offer_id": m.id, "plan_id": p.id}
                for m, p in zip(members, accepted, strict=True)
            ],
        }
    return answer


def _accept_one(db: Session, offer: SavedOffer, today: date) -> AcceptedPlan:
    # one offer (one debt's) made a plan, replacing the debt's open plan if it was made from it
    plan_id = uuid.uuid4().hex
    current = _replaced_on_acceptance(db, offer, plan_id, today)
    plan = AcceptedPlan(
        id=plan_id,
        offer_id=offer.id,
        debt_id=offer.debt_id,
        accepted_at=utcnow(),
        state="active",
        state_since=today,
        reviewed_through=today,
        replaces_id=None if current is None else current.id,
    )
    try:
        with db.begin_nested():
            db.add(plan)
            db.flush()
            claimed = db.execute(
                update(SavedOffer)
                .where(SavedOffer.id == offer.id, SavedOffer.status == "offered")
                .values(status="accepted")
            )
            # Session.execute is typed as giving a Result (an ORM event hook could replace it,
            # sqlalchemy#12913); an UPDATE without RETURNING gives the cursor's, with rowcount
            if not isinstance(claimed, CursorResult):
                raise TypeError(f"UPDATE gave a {type(claimed).__name__}, not a CursorResult")
            if claimed.rowcount != 1:
                raise IntegrityError("accept", {}, Exception("offer no longer open"))
    except IntegrityError:
        raise conflict("This offer has already been accepted.", "already-accepted") from None
    db.refresh(offer)
    trail.record(db, "offer_accepted", actor="debtor", offer_id=offer.id, plan_id=plan.id)
    bus.publish(db, PlanAccepted(plan))
    advance(db, plan, today)  # a plan may be late from its first day (an as-of in the past)
    if current is not None:
        bus.publish(db, PlanReplaced(current, plan, current.state_since))
    return plan


def page_query(locale: Locale, marker: str | None = None) -> str:
    """The query string of a page address: the party's marker (if any), then the language.

    Examples
    --------
    >>> page_query(Locale.EN), page_query(Locale.ZH_CN, "m" * 22)
    ('?lang=en', '?p=mmmmmmmmmmmmmmmmmmmmmm&lang=zh-CN')
    """
    party = "" if marker is None else f"p={marker}&"
    return f"?{party}lang={locale.value}"


def _page_state(status: str) -> OfferState:
    # the page's three states; any other stored status (revoked) reads as offered
    match status:
        case "accepted" | "superseded":
            return status
    return "offered"


def page_view(
    db: Session,
    offer: SavedOffer,
    token: str,
    locale: Locale,
    *,
    marker: str | None = None,
    contact: ContactView | None = None,
) -> OfferView:
    """What the debtor's page shows besides the offer: state, payments, statuses, links, and
    the reader's messages and preferences (``contact``). With the reader's ``marker``, the
    page's own links (its languages, the accept form) keep it."""
    policy = resolve_version(db, offer)
    base = f"/s/{token}"
    accepted_at = None
    payments: list[ConfirmedPayment] = []
    instalments: list[InstalmentStatus] = []
    plan_status: PlanStatus | None = None
    certificate_url = None
    payoff: PayoffView | None = None
    plan = db.scalar(select(AcceptedPlan).where(AcceptedPlan.offer_id == offer.id))
    if plan is not None:
        accepted_at = plan.accepted_at
        state, _, plan_policy = state_of(db, plan, date.today())
        plan_status = state.status.value
        payments = [_confirmed(result) for result in state.payments]
        if completed_on(db, plan) is not None:
            certificate_url = f"{base}/certificate{page_query(locale, marker)}"
        instalments = [
            InstalmentStatus(s.number, s.payment_date, s.status.value, s.due_minor, s.paid_minor)
            for s in state.instalments
        ]
        if state.status in RUNNING and state.outstanding_minor > 0:
            payoff = _payoff_view(standing_quote(plan, state, plan_policy, state.on))
    texts = policy.body.missed_payment_text
    return OfferView(
        state=_page_state(offer.status),
        expires_at=offer.expires_at,
        masked_name=mask_name(offer.debtor_name),
        missed_payment_text=texts.get(locale) or next(iter(texts.values()), ""),
        accept_url=f"{base}/accept{page_query(locale, marker)}",
        lang_urls={lang: f"{base}{page_query(lang, marker)}" for lang in Locale},
        ics_url=f"{base}.ics?lang={locale.value}",
        csv_url=f"{base}.csv",
        json_url=f"{base}.json",
        change_url=None
        if offer.status == "superseded"
        else f"{base}/change{page_query(locale, marker)}",
        accepted_at=accepted_at,
        payments=payments,
        instalments=instalments,
        plan_status=plan_status,
        summary=offer.summaries.get(locale.value),
        contact=contact,
        certificate_url=certificate_url,
        payoff=payoff,
        statement=offer.statement,
    )


def _payoff_view(held: StandingQuote) -> PayoffView:
    q = held.quote
    return PayoffView(
        on=q.on,
        valid_until=held.valid_until,
        principal_minor=q.principal_minor,
        interest_minor=q.interest_minor,
        accrued_interest_minor=q.accrued_interest_minor,
        fees_minor=q.fees_minor,
        waived_minor=q.waived_minor,
        amount_minor=q.amount_minor,
    )


def _confirmed(result: PaymentResult) -> ConfirmedPayment:
    return ConfirmedPayment(
        paid_on=result.payment.paid_on,
        amount_minor=result.payment.amount_minor,
        reference=result.payment.reference,
        principal_minor=sum(a.principal_minor for a in result.allocations),
        interest_minor=sum(a.interest_minor for a in result.allocations),
        fees_minor=sum(a.fees_minor for a in result.allocations),
        balance_after_minor=result.balance_after_minor,
    )


def certificate_view(
    db: Session, offer: SavedOffer, token: str, locale: Locale, *, marker: str | None = None
) -> CertificateView | None:
    """What the settlement certificate of ``offer``'s plan states, or ``None`` when it has
    none: not accepted, or not completed (``app.links.plans.completed_on`` decides). With the
    reader's ``marker``, its links (the plan's page, its languages) keep it."""
    plan = db.scalar(select(AcceptedPlan).where(AcceptedPlan.offer_id == offer.id))
    if plan is None:
        return None
    completed = completed_on(db, plan)
    if completed is None:
        return None
    state, _, _ = state_of(db, plan, date.today())
    creditor = db.get_one(Organisation, offer.debt.organisation_id)
    base = f"/s/{token}"
    return CertificateView(
        number=certificate_number(plan.id),
        issued_on=date.today(),
        debt_ref=offer.debt_ref,
        creditor=creditor.name,
        debtor_name=offer.debtor_name,
        accepted_at=plan.accepted_at,
        completed_on=completed,
        payments=[_confirmed(result) for result in state.payments],
        paid_minor=state.paid_minor,
        refunded_minor=state.refunded_minor,
        page_url=f"{base}{page_query(locale, marker)}",
        lang_urls={lang: f"{base}/certificate{page_query(lang, marker)}" for lang in Locale},
    )
