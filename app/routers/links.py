"""The debtor's side: a shared offer behind its capability link, and its acceptance.

Unknown, revoked and expired tokens get the same 404, byte for byte: a link reveals nothing
about any other. Nothing here needs an API key; the token is the capability.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from app import preferences, sharing
from app.deps import DbSession
from app.errors import Problem, no_such_link, problem_responses
from app.pages import offer_csv, offer_ics, render_not_found, render_offer_page
from app.responses import Json
from schemas import examples
from schemas.common import Locale
from schemas.offers import OfferOut
from schemas.preferences import PreferenceChange, PreferencesOut
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
FORM = "application/x-www-form-urlencoded"
EXAMPLE_MARKER = "Xq3vJ0c1mS8yRk2PbT4nWg"
# No pattern: a marker that matches no party is the link's 404, whatever it looks like.
MarkerQuery = Query(
    None,
    max_length=64,
    description=(
        "The party a message went to (the link in each message carries theirs). Without it,"
        " the page reads for the debt's debtor; one that matches no party is a 404."
    ),
    examples=[EXAMPLE_MARKER],
)

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
    """The token is the capability: an access log line shows ``/s/…`` in its place, and
    ``p=…`` for a party's marker (which names who the link was sent to)."""

    _token = re.compile(r"/s/[A-Za-z0-9_-]+")
    _marker = re.compile(r"([?&]p=)[^&#\s]*")

    def _hide(self, text: str) -> str:
        if "/s/" not in text:
            return text
        return self._marker.sub(r"\1…", self._token.sub("/s/…", text))

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._hide(a) if isinstance(a, str) else a for a in record.args)
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
    p: str | None = MarkerQuery,
) -> Any:
    """The debtor accepts the offer: it becomes an active plan. Exactly one acceptance ever;
    a second, or an offer replaced by a newer one, is a 409 that says so. The page's form
    (a browser post) is sent back to the page instead."""
    from_page = (content_type or "").startswith(FORM)
    back = _back(token, lang, p)
    try:
        accepted = sharing.accept(db, token)
    except Problem as problem:
        if from_page and problem.status == 409:
            return RedirectResponse(back, status_code=303)
        raise
    if from_page:
        return RedirectResponse(back, status_code=303)
    return accepted


def _back(token: str, lang: str | None, marker: str | None, section: str = "") -> str:
    # encoded: the accept form passes on a marker it does not check (the page does)
    query = urlencode([(k, v) for k, v in (("p", marker), ("lang", lang)) if v is not None])
    return f"/s/{token}" + (f"?{query}" if query else "") + section


def _invalid_body(detail: str) -> RequestValidationError:
    return RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": detail}])


async def _preference_change(
    request: Request, content_type: Annotated[str | None, Header(max_length=200)] = None
) -> tuple[PreferenceChange, bool]:
    """The change asked for, from the page's form or a JSON body; and whether from the form."""
    raw = await request.body()
    from_page = (content_type or "").startswith(FORM)
    try:
        text = raw.decode()
    except UnicodeDecodeError as exc:
        raise _invalid_body(f"The body is not UTF-8: {exc}") from None
    if from_page:
        # The page's forms send each field once; a repeated field counts as the first.
        fields: Any = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
    else:
        try:
            fields = json.loads(text)
        except ValueError as exc:
            raise _invalid_body(f"The body is not JSON: {exc}") from None
    try:
        return PreferenceChange.model_validate(fields), from_page
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


# Inline: the body is read by hand (a form or JSON), so FastAPI does not list the model; its
# one reference, Channel, is a component already (PartyPatch uses it).
_CHANGE_SCHEMA = {
    name: value
    for name, value in PreferenceChange.model_json_schema(
        ref_template="#/components/schemas/{model}"
    ).items()
    if name != "$defs"
}
_CHANGE_EXAMPLES = {
    "opt_out": {
        "summary": "No more text messages",
        "value": {"change": "opt_out", "channel": "sms"},
    },
    "opt_in": {"summary": "Text messages again", "value": {"change": "opt_in", "channel": "sms"}},
    "stop": {"summary": "Contact me no more", "value": {"change": "stop"}},
    "resume": {"summary": "You may contact me again", "value": {"change": "resume"}},
}


@router.post(
    "/{token}/preferences",
    response_model=PreferencesOut,
    responses={
        303: {"description": "From the page's form: back to the page, which shows the result."},
        **problem_responses(404, 409, 422, 503),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _CHANGE_SCHEMA, "examples": _CHANGE_EXAMPLES},
                FORM: {"schema": _CHANGE_SCHEMA, "examples": _CHANGE_EXAMPLES},
            },
        }
    },
)
def change_preferences(
    token: Token,
    db: DbSession,
    asked: Annotated[tuple[PreferenceChange, bool], Depends(_preference_change)],
    lang: str | None = LangQuery,
    p: str | None = MarkerQuery,
) -> Any:
    """The party reading the page (see ``p``) opts out of a channel or back in, or asks not to
    be contacted at all, or lifts that. It applies at once, to messages already queued too;
    only this, the party's own request, lifts an opt-out or a stop. A link that reads for
    nobody (no debtor on file, no ``p``) is a 409. The page's form (a browser post) is sent
    back to the page."""
    body, from_page = asked
    offer = _open(db, token)
    who = preferences.reader(db, offer, token, p)
    back = _back(token, lang, p, "#contact")
    try:
        changed = preferences.change(db, offer, who, body)
    except Problem as problem:
        if from_page and problem.status == 409:
            return RedirectResponse(back, status_code=303)
        raise
    if from_page:
        return RedirectResponse(back, status_code=303)
    return changed


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
    p: str | None = MarkerQuery,
    accept_language: Annotated[str | None, Header(max_length=500)] = None,
) -> Response:
    """The debtor's page: what is owed, the offer, its schedule, rates, waivers, what a missed
    payment means, a chart of the balance, payments received; the accept button; the messages
    sent to the reader (see ``p``) and the forms that change how they may be contacted."""
    offer = sharing.by_token(db, token)
    if offer is None:
        return _not_found(_locale(lang, accept_language, "zh-CN"))
    try:
        who = preferences.reader(db, offer, token, p)
    except Problem:
        return _not_found(_locale(lang, accept_language, offer.locale))
    # a party's own link opens in the language their messages were in
    locale = _locale(lang, accept_language, who.party.locale if who and p else offer.locale)
    sharing.viewed(db, offer, "page", locale.value)
    contact = None
    if who is not None:
        url = f"/s/{token}/preferences{sharing.page_query(locale, p)}"
        contact = preferences.contact_view(db, who.party, url)
    view = sharing.page_view(db, offer, token, locale, marker=p, contact=contact)
    html = render_offer_page(offer.document, view, locale)
    return Response(html, media_type=HTML, headers=PAGE_HEADERS)
