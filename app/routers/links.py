"""The debtor's side: a shared offer behind its capability link, and its acceptance.

Unknown, revoked and expired tokens get the same 404, byte for byte: a link reveals nothing
about any other. Nothing here needs an API key; the token is the capability.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from app import sharing
from app.deps import DbSession
from app.errors import Problem, no_such_link, problem_responses
from app.pages import offer_csv, offer_ics, render_not_found, render_offer_page
from app.responses import Json
from schemas import examples
from schemas.common import Locale
from schemas.offers import OfferOut
from schemas.sharing import Acceptance

router = APIRouter(prefix="/s", tags=["links"])

HTML = "text/html; charset=utf-8"
PAGE_HEADERS = {
    # the token is in the address: it must not leak to other sites, nor be cached on the way
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}
LangQuery = Query(None, pattern="^(en|zh-CN)$", description="Page language (else Accept-Language).")

Token = Annotated[
    str,
    Path(
        min_length=16,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The capability token at the end of a saved offer's link.",
        examples=[examples.SAVED_OFFER["link"].rsplit("/", 1)[-1]],
    ),
]


class _HideTokens(logging.Filter):
    """The token is the capability: an access log line shows ``/s/…`` in its place."""

    _token = re.compile(r"/s/[A-Za-z0-9_-]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._token.sub("/s/…", a) if isinstance(a, str) else a for a in record.args
            )
        return True


logging.getLogger("uvicorn.access").addFilter(_HideTokens())


def _locale(lang: str | None, accept_language: str | None, default: str) -> Locale:
    if lang:
        return Locale(lang)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return Locale.ZH_CN
        if tag.startswith("en"):
            return Locale.EN
    return Locale(default)


def _not_found(locale: Locale) -> Response:
    return Response(
        render_not_found(locale), status_code=404, media_type=HTML, headers=PAGE_HEADERS
    )


@router.get(
    "/{token}.ics",
    response_class=Response,  # not JSON: the media type is the one documented below
    responses={
        200: {"content": {"text/calendar": {"example": examples.LINK_ICS}}},
        404: {"content": {HTML: {}}},
        **problem_responses(422, 503),
    },
)
def calendar(token: Token, db: DbSession, lang: str | None = LangQuery) -> Response:
    """Each instalment as an all-day calendar event with a reminder three days before."""
    offer = sharing.by_token(db, token)
    if offer is None:
        return _not_found(_locale(lang, None, "zh-CN"))
    locale = _locale(lang, None, offer.locale)
    sharing.viewed(db, offer, "ics", locale.value)
    view = sharing.page_view(db, offer, token, locale)
    body = offer_ics(offer.document, view, uid_base=f"{offer.id}@repay", locale=locale)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={**PAGE_HEADERS, "Content-Disposition": 'attachment; filename="plan.ics"'},
    )


@router.get(
    "/{token}.csv",
    response_class=Response,  # not JSON: the media type is the one documented below
    responses={
        200: {"content": {"text/csv": {"example": examples.LINK_CSV}}},
        404: {"content": {HTML: {}}},
        **problem_responses(422, 503),
    },
)
def spreadsheet(token: Token, db: DbSession) -> Response:
    """The schedule as CSV, amounts exactly as offered."""
    offer = sharing.by_token(db, token)
    if offer is None:
        return _not_found(Locale.ZH_CN)
    sharing.viewed(db, offer, "csv", offer.locale)
    return Response(
        offer_csv(offer.document),
        media_type="text/csv; charset=utf-8",
        headers={**PAGE_HEADERS, "Content-Disposition": 'attachment; filename="plan.csv"'},
    )


@router.get("/{token}.json", response_model=OfferOut, responses=problem_responses(404, 422, 503))
def offer_json(token: Token, db: DbSession) -> Json:
    """The offer as JSON, exactly as saved."""
    offer = _open(db, token)
    sharing.viewed(db, offer, "json", offer.locale)
    return Json(offer.document)


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
    db: DbSession,
    content_type: Annotated[str | None, Header(max_length=200)] = None,
    lang: str | None = LangQuery,
) -> Any:
    """The debtor accepts the offer: it becomes an active plan. Exactly one acceptance ever;
    a second, or an offer replaced by a newer one, is a 409 that says so. The page's form
    (a browser post) is sent back to the page instead."""
    from_page = (content_type or "").startswith("application/x-www-form-urlencoded")
    back = f"/s/{token}" + (f"?lang={lang}" if lang else "")
    try:
        accepted = sharing.accept(db, token)
    except Problem as problem:
        if from_page and problem.status == 409:
            return RedirectResponse(back, status_code=303)
        raise
    if from_page:
        return RedirectResponse(back, status_code=303)
    return accepted


def _open(db: DbSession, token: str) -> Any:
    offer = sharing.by_token(db, token)
    if offer is None:
        raise no_such_link()
    return offer


# Last: "/s/{token}" would otherwise also match "/s/<token>.ics" and the other suffixes.
@router.get(
    "/{token}",
    response_class=HTMLResponse,
    responses={
        200: {"content": {HTML: {}}},
        404: {"content": {HTML: {}}},
        **problem_responses(422, 503),
    },
)
def page(
    token: Token,
    db: DbSession,
    lang: str | None = LangQuery,
    accept_language: Annotated[str | None, Header(max_length=500)] = None,
) -> Response:
    """The debtor's page: what is owed, the offer, its schedule, rates, waivers, what a missed
    payment means, a chart of the balance, payments received; the accept button."""
    offer = sharing.by_token(db, token)
    if offer is None:
        return _not_found(_locale(lang, accept_language, "zh-CN"))
    locale = _locale(lang, accept_language, offer.locale)
    sharing.viewed(db, offer, "page", locale.value)
    html = render_offer_page(offer.document, sharing.page_view(db, offer, token, locale), locale)
    return Response(html, media_type=HTML, headers=PAGE_HEADERS)
