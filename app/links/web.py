"""What every route behind a share link has in common: the token, the party's marker, the
page's language, the safeguards on every answer, and the one 404.

The link's token is the capability: it is kept out of access logs (:class:`HideTokens`), out
of referrers and caches, and the page that carries the Accept button out of other sites'
frames (:data:`PAGE_HEADERS`, sent on every answer under ``/s/`` by :class:`Safeguards`, so
no route can forget them); unknown, revoked and expired tokens get the same 404 page, byte for
byte (:func:`not_found_page`). The debtor's pages (``app.links.routes.links``), the party's
preferences (``app.contacts.routes.preferences``) and the change pages
(``app.changes.routes.pages``) all use these.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path, Query, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import no_such_link, problem_responses
from app.links import sharing
from app.links.models import SavedOffer
from app.links.pages import render_not_found
from schemas import examples
from schemas.common import Locale

HTML = "text/html; charset=utf-8"
# A link's 404 is a page for the reader; a path no route takes (a token of the wrong shape) is
# refused before any route, by app.core.routing, as a problem document: both are documented.
PAGE_NOT_FOUND: dict[str, Any] = {
    "description": "No such link (a page), or no such path (a problem document).",
    "content": {HTML: {}, **problem_responses(404)[404]["content"]},
}
PREFIX = "/s/"
PAGE_HEADERS = {
    # The token is in the address: it must not leak to other sites, nor be cached on the way.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    # No other site may frame the page and trick a click on Accept (CSP Level 2 frame-ancestors;
    # X-Frame-Options for browsers without it). frame-ancestors is ignored in a <meta> policy,
    # so it must be a header; the rest repeats base.html's meta tag, whose stricter
    # default-src 'none' still applies (a browser enforces every policy it is given).
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none';"
        " frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    # A .csv or .json is never run as a script or a page, whatever a browser would guess.
    "X-Content-Type-Options": "nosniff",
    # Powers the pages never use, refused to them and to anything they might embed.
    "Permissions-Policy": (
        "accelerometer=(), browsing-topics=(), camera=(), geolocation=(), gyroscope=(),"
        " interest-cohort=(), magnetometer=(), microphone=(), payment=(), usb=()"
    ),
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


class HideTokens(logging.Filter):
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


logging.getLogger("uvicorn.access").addFilter(HideTokens())


def page_locale(lang: str | None, accept_language: str | None, default: str) -> Locale:
    if lang:
        return Locale(lang)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return Locale.ZH_CN
        if tag.startswith("en"):
            return Locale.EN
    return Locale(default)


class Safeguards:
    """ASGI middleware: :data:`PAGE_HEADERS` on every answer under ``/s/``.

    Pages, downloads, JSON, redirects, 404s, problem documents and a 500 alike: a header a
    route would have to remember is one a new route forgets. Installed by ``app.main``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        started = False

        async def safeguarded(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in PAGE_HEADERS.items():
                    headers[name] = value
            await send(message)

        try:
            await self.app(scope, receive, safeguarded)
        except Exception:
            # Starlette's ServerErrorMiddleware, outside this one, would answer the 500
            # without them; answered here, it only logs and re-raises.
            if not started:
                error = PlainTextResponse("Internal Server Error", status_code=500)
                await error(scope, receive, safeguarded)
            raise


def not_found_page(locale: Locale) -> Response:
    return Response(render_not_found(locale), status_code=404, media_type=HTML)


def back_to_page(token: str, lang: str | None, marker: str | None, section: str = "") -> str:
    # encoded: the accept form passes on a marker it does not check (the page does)
    query = urlencode([(k, v) for k, v in (("p", marker), ("lang", lang)) if v is not None])
    return f"/s/{token}" + (f"?{query}" if query else "") + section


def invalid_body(detail: str) -> RequestValidationError:
    return RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": detail}])


def open_link(db: Session, token: str) -> SavedOffer:
    """The saved offer behind a token, or the links' one 404."""
    offer = sharing.by_token(db, token)
    if offer is None:
        raise no_such_link()
    return offer
