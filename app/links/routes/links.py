"""The debtor's side: a shared offer behind its capability link, and its acceptance.

Unknown, revoked and expired tokens get the same 404, byte for byte: a link reveals nothing
about any other. Nothing here needs an API key; the token is the capability.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from app.core.deps import DbSession
from app.core.errors import Problem, no_such_link, problem_responses
from app.core.responses import Json
from app.links import groups, sharing
from app.links.certificate import render_certificate
from app.links.consolidated_page import render_consolidated_page
from app.links.downloads import offer_csv, offer_ics
from app.links.models import SavedOffer
from app.links.pages import render_offer_page
from app.links.readers import PageReader, page_reader
from app.links.web import (
    FORM,
    HTML,
    PAGE_NOT_FOUND,
    LangQuery,
    MarkerQuery,
    Token,
    back_to_page,
    not_found_page,
    open_link,
    page_locale,
)
from schemas import examples
from schemas.common import Locale
from schemas.offer_answers import ConsolidatedOfferOut, OfferOut
from schemas.sharing import Acceptance

router = APIRouter(prefix="/s", tags=["links"])


def _marks_nobody(db: Session, offer: SavedOffer, token: str, marker: str | None) -> bool:
    """Whether ``marker`` names no party of the offer's debt: every variant of the link then
    answers the links' one 404, as the page does (it would otherwise ignore the marker)."""
    try:
        page_reader(db, offer, token, marker)
    except Problem:
        return True
    return False


@router.get(
    "/{token}.ics",
    response_class=Response,  # not JSON: the media type is the one documented below
    responses={
        200: {"content": {"text/calendar": {"example": examples.LINK_ICS}}},
        404: PAGE_NOT_FOUND,
        **problem_responses(422, 503),
    },
)
def calendar(
    token: Token, db: DbSession, lang: str | None = LangQuery, p: str | None = MarkerQuery
) -> Response:
    """Each instalment as an all-day calendar event with a reminder three days before."""
    offer = sharing.by_token(db, token)
    if offer is None:
        return not_found_page(page_locale(lang, None, "zh-CN"))
    if _marks_nobody(db, offer, token, p):
        return not_found_page(page_locale(lang, None, offer.locale))
    locale = page_locale(lang, None, offer.locale)
    sharing.viewed(db, offer, "ics", locale.value)
    if sharing.shows_group(offer, token):
        view, _ = groups.group_page(db, offer, token, locale)
    else:
        view = sharing.page_view(db, offer, token, locale)
    uid = offer.group_id if sharing.shows_group(offer, token) else offer.id
    body = offer_ics(shown(offer, token), view, uid_base=f"{uid}@repay", locale=locale)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="plan.ics"'},
    )


@router.get(
    "/{token}.csv",
    response_class=Response,  # not JSON: the media type is the one documented below
    responses={
        200: {"content": {"text/csv": {"example": examples.LINK_CSV}}},
        404: PAGE_NOT_FOUND,
        **problem_responses(422, 503),
    },
)
def spreadsheet(token: Token, db: DbSession, p: str | None = MarkerQuery) -> Response:
    """The schedule as CSV, amounts exactly as offered."""
    offer = sharing.by_token(db, token)
    if offer is None or _marks_nobody(db, offer, token, p):
        return not_found_page(Locale.ZH_CN)
    sharing.viewed(db, offer, "csv", offer.locale)
    return Response(
        offer_csv(shown(offer, token)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="plan.csv"'},
    )


@router.get(
    "/{token}.json",
    response_model=OfferOut | ConsolidatedOfferOut,
    responses=problem_responses(404, 422, 503),
)
def offer_json(token: Token, db: DbSession, p: str | None = MarkerQuery) -> Json:
    """The offer as JSON, exactly as saved: a consolidated offer's combined document (each
    line allocated to the debts)."""
    offer = open_link(db, token)
    if _marks_nobody(db, offer, token, p):
        raise no_such_link()
    sharing.viewed(db, offer, "json", offer.locale)
    return Json(shown(offer, token))  # the stored document: validated when it was made


def shown(offer: SavedOffer, token: str) -> dict[str, Any]:
    """The document a link shows: the offer's, or (its consolidated offer's link) the
    combined one."""
    if offer.group is not None and sharing.shows_group(offer, token):  # (narrows the type)
        return offer.group.document
    return offer.document


@router.post(
    "/{token}/accept",
    response_model=Acceptance,
    status_code=201,
    responses={
        303: {"description": "From the page's form: back to the page, which shows the result."},
        **problem_responses(404, 409, 422, 503),
    },
)
def accept(
    token: Token,
    request: Request,
    db: DbSession,
    lang: str | None = LangQuery,
    p: str | None = MarkerQuery,
) -> Any:
    """The debtor accepts the offer: it becomes an active plan. Exactly one acceptance ever;
    a second, or an offer replaced by a newer one, is a 409 that says so. The page's form
    (a browser post) is sent back to the page instead."""
    from_page = (request.headers.get("content-type") or "").startswith(FORM)
    back = back_to_page(token, lang, p)
    try:
        accepted = sharing.accept(db, token)
    except Problem as problem:
        if from_page and problem.status == 409:
            return RedirectResponse(back, status_code=303)
        raise
    if from_page:
        return RedirectResponse(back, status_code=303)
    return accepted


def _open(
    db: Session, token: str, lang: str | None, p: str | None, accept_language: str | None
) -> tuple[SavedOffer, PageReader | None, Locale] | Response:
    """A link's offer, its reader and the page's language; or the links' one 404 page (an
    unknown, revoked or expired token, or a party marker of nobody)."""
    offer = sharing.by_token(db, token)
    if offer is None:
        return not_found_page(page_locale(lang, accept_language, "zh-CN"))
    try:
        who = page_reader(db, offer, token, p)
    except Problem:
        return not_found_page(page_locale(lang, accept_language, offer.locale))
    # a party's own link opens in the language their messages were in
    return offer, who, page_locale(lang, accept_language, who.locale if who and p else offer.locale)


@router.get(
    "/{token}/certificate",
    response_class=HTMLResponse,
    responses={
        200: {"content": {HTML: {}}},
        404: PAGE_NOT_FOUND,
        **problem_responses(422, 503),
    },
)
def certificate(
    token: Token,
    db: DbSession,
    lang: str | None = LangQuery,
    p: str | None = MarkerQuery,
    accept_language: Annotated[str | None, Header(max_length=500)] = None,
) -> Response:
    """The settlement certificate (结清证明) of a completed plan, to print: the debt, the
    plan, every payment and its total, the day the plan was completed, and that nothing more
    is owed on the debt under it. Any other plan's link answers as an unknown link does."""
    opened = _open(db, token, lang, p, accept_language)
    if isinstance(opened, Response):
        return opened
    offer, _, locale = opened
    # a consolidated plan's certificates are each debt's, through that debt's own link
    group = sharing.shows_group(offer, token)
    view = None if group else sharing.certificate_view(db, offer, token, locale, marker=p)
    if view is None:
        # a plan not (yet) completed has no certificate: its link is as good as unknown here
        return not_found_page(page_locale(lang, accept_language, "zh-CN"))
    sharing.viewed(db, offer, "certificate", locale.value)
    return Response(render_certificate(offer.document, view, locale), media_type=HTML)


# Last: "/s/{token}" would otherwise also match "/s/<token>.ics" and the other suffixes.
@router.get(
    "/{token}",
    response_class=HTMLResponse,
    responses={
        200: {"content": {HTML: {}}},
        404: PAGE_NOT_FOUND,
        **problem_responses(422, 503),
    },
)
def page(
    token: Token,
    db: DbSession,
    lang: str | None = LangQuery,
    p: str | None = MarkerQuery,
    accept_language: Annotated[str | None, Header(max_length=500)] = None,
) -> Response:
    """The debtor's page: what is owed, the offer, its schedule, rates, waivers, what a missed
    payment means, a chart of the balance, payments received; the accept button; the messages
    sent to the reader (see ``p``) and the forms that change how they may be contacted."""
    opened = _open(db, token, lang, p, accept_language)
    if isinstance(opened, Response):
        return opened
    offer, who, locale = opened
    sharing.viewed(db, offer, "page", locale.value)
    contact = None
    if who is not None:
        contact = who.contact_view(f"/s/{token}/preferences{sharing.page_query(locale, p)}")
    if offer.group is not None and sharing.shows_group(offer, token):
        group_view, parts = groups.group_page(db, offer, token, locale, marker=p, contact=contact)
        html = render_consolidated_page(
            offer.group.document,
            parts,
            group_view,
            locale,
            frequency=offer.document["terms"]["frequency"],
        )
        return Response(html, media_type=HTML)
    view = sharing.page_view(db, offer, token, locale, marker=p, contact=contact)
    html = render_offer_page(offer.document, view, locale)
    return Response(html, media_type=HTML)
