"""The party reading a plan's page changes how they may be contacted: opt out of a channel or
back in, stop all contact or resume it.

Behind the page's capability link (``/s/{token}/preferences``), with the links' safeguards
(``app.links.web``): an unknown token, or a marker of no party, is the links' one 404.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from app.contacts import preferences
from app.core.contract import form_schema
from app.core.deps import DbSession
from app.core.errors import Problem, problem_responses
from app.links.web import (
    FORM,
    LangQuery,
    MarkerQuery,
    Token,
    back_to_page,
    invalid_body,
    open_link,
)
from schemas.preferences import PreferenceChange, PreferencesOut

router = APIRouter(prefix="/s", tags=["links"])


async def _preference_change(
    request: Request,
) -> tuple[PreferenceChange, bool]:
    """The change asked for, from the page's form or a JSON body; and whether from the form.
    The media type is the body's (its Content-Type), not a parameter of the operation."""
    raw = await request.body()
    from_page = (request.headers.get("content-type") or "").startswith(FORM)
    try:
        text = raw.decode()
    except UnicodeDecodeError as exc:
        raise invalid_body(f"The body is not UTF-8: {exc}") from None
    if from_page:
        # The page's forms send each field once; a repeated field counts as the first.
        fields: Any = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
    else:
        try:
            fields = json.loads(text)
        except ValueError as exc:
            raise invalid_body(f"The body is not JSON: {exc}") from None
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
                FORM: {"schema": form_schema(_CHANGE_SCHEMA), "examples": _CHANGE_EXAMPLES},
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
    offer = open_link(db, token)
    who = preferences.reader(db, offer, token, p)
    back = back_to_page(token, lang, p, "#contact")
    try:
        changed = preferences.change(db, offer, who, body)
    except Problem as problem:
        if from_page and problem.status == 409:
            return RedirectResponse(back, status_code=303)
        raise
    if from_page:
        return RedirectResponse(back, status_code=303)
    return changed
