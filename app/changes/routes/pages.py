"""The debtor's side of a change: propose what they can afford, see what fits, ask for it.

Behind the same capability link as the offer page (``/s/{token}``), with its safeguards:
unknown, revoked and expired tokens get the links' one 404 page, pages are ``noindex``,
``no-referrer`` and ``no-store``, the access log shows ``/s/…`` for the token
(``app.links.routes.links``). A browser's form post is answered by a redirect to a page (303) or,
for input that breaks a rule, the form again with the message (422); a JSON client gets JSON
and problem documents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from app.changes import change_requests
from app.changes.group_changes import (
    GroupStanding,
    group_evaluation_json,
    group_standing,
    request_group_change,
)
from app.changes.pages import (
    ChangeView,
    Notice,
    RequestView,
    render_change_page,
    render_request_page,
)
from app.contacts import preferences
from app.core.contract import form_schema
from app.core.db import utcnow
from app.core.deps import DbSession
from app.core.errors import (
    PROBLEM_JSON,
    FieldError,
    Problem,
    field_error,
    invalid,
    no_such_link,
    problem_responses,
)
from app.core.masking import mask_name
from app.core.responses import Json
from app.links import sharing
from app.links.models import SavedOffer
from app.links.web import (
    HTML,
    PAGE_NOT_FOUND,
    LangQuery,
    MarkerQuery,
    Token,
    not_found_page,
    page_locale,
)
from plans.errors import DomainError
from plans.money import to_minor
from schemas.changes import (
    DAY_PATTERN,
    LUMP_SUM_PATTERN,
    NUMBER_PATTERN,
    ChoiceIn,
    Evaluation,
    ProposalIn,
    Receipt,
)
from schemas.common import Locale

router = APIRouter(prefix="/s", tags=["links"])

FORM = "application/x-www-form-urlencoded"
Model = TypeVar("Model", bound=BaseModel)
AcceptLanguage = Annotated[str | None, Header(max_length=500)]
AmountQuery = Query(
    None,
    max_length=40,
    pattern=NUMBER_PATTERN,
    description="Shows the answer to this proposal.",
)
RequestId = Path(pattern=r"^[0-9a-f]{32}$", description="A change request's id.")


def _body_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                FORM: {"schema": form_schema(schema)},
            },
        }
    }


def _html_and_problem(status: int, description: str) -> dict[str, Any]:
    entry = problem_responses(status)[status]
    return {
        "description": description,
        "content": {HTML: {}, PROBLEM_JSON: entry["content"][PROBLEM_JSON]},
    }


def _field_errors(error: ValidationError) -> list[FieldError]:
    return [
        FieldError(".".join(str(p) for p in e["loc"]) or "body", e["type"], e["msg"])
        for e in error.errors()
    ]


async def _read(request: Request, model: type[Model]) -> tuple[bool, dict[str, str | None]]:
    """Whether the body is a browser's form, and its fields checked against ``model``.

    A JSON body that breaks the model is the usual 422; a form's broken fields are left for
    :func:`app.changes.read_proposal` to name again (the page shows them by field).
    """
    raw = await request.body()
    if (request.headers.get("content-type") or "").startswith(FORM):
        try:
            pairs = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
        except (UnicodeDecodeError, ValueError):
            raise invalid([FieldError("body", "form_invalid", "is not a UTF-8 form")]) from None
        fields = {name: values[0] for name, values in pairs.items()}
        known = {name: fields[name] for name in model.model_fields if name in fields}
        try:
            model.model_validate(known)
        except ValidationError as error:
            # too long, or a choice that is none: the page says which field
            raise invalid(_field_errors(error)) from None
        return True, dict(known)
    try:
        parsed = model.model_validate_json(raw)
    except ValidationError as error:
        raise invalid([field_error(e) for e in error.errors()]) from None
    return False, parsed.model_dump()


@dataclass(frozen=True, slots=True)
class _Link:
    """The link a request came by: its token, the party's marker, the page's language, the
    offer (``None``: the links' one 404; a consolidated offer's lead) and whether it is a
    consolidated offer's link (its change is the whole group's)."""

    token: str
    marker: str | None
    locale: Locale
    offer: SavedOffer | None
    group: bool = False

    def url(
        self,
        path: str = "",
        query: Mapping[str, str] | None = None,
        *,
        locale: Locale | None = None,
    ) -> str:
        """A same-site address under the link, keeping the marker, in ``locale``."""
        pairs = [("p", self.marker)] if self.marker is not None else []
        pairs += [*(query or {}).items(), ("lang", (locale or self.locale).value)]
        return f"/s/{self.token}{path}?{urlencode(pairs)}"

    def not_found(self) -> Response:
        return not_found_page(self.locale)


def _open(
    db: Session, token: str, marker: str | None, lang: str | None, accept_language: str | None
) -> _Link:
    # As the offer page: a marker of no party of the debt is the link's 404, and a party's
    # own link opens in the language of their messages. A consolidated offer's link changes
    # the whole group (its lead's debt's parties read it, as its page).
    offer = sharing.by_token(db, token)
    if offer is None:
        return _Link(token, marker, page_locale(lang, accept_language, "zh-CN"), None)
    try:
        who = preferences.reader(db, offer, token, marker)
    except Problem:
        return _Link(token, marker, page_locale(lang, accept_language, offer.locale), None)
    default = who.party.locale if who is not None and marker else offer.locale
    group = sharing.shows_group(offer, token)
    return _Link(token, marker, page_locale(lang, accept_language, default), offer, group)


Standing = change_requests.Standing | GroupStanding


def _view(
    db: Session,
    standing: Standing,
    at: _Link,
    *,
    values: Mapping[str, str | None] | None = None,
    errors: list[FieldError] | None = None,
    evaluation: dict[str, Any] | None = None,
    notice: Notice | None = None,
) -> ChangeView:
    offer = standing.offer
    policy = standing.policy.engine
    # the answer's own language switch keeps the proposal
    keep: dict[str, str] = {}
    if values and not errors and evaluation is not None:
        keep = {k: v for k, v in values.items() if v}
    return ChangeView(
        masked_name=mask_name(offer.debtor_name),
        owed=standing.owed,
        frequency=standing.frequency.value,
        plan_url=at.url(),
        form_url=at.url("/change"),
        request_url=at.url("/change/requests"),
        lang_urls={lang: at.url("/change", keep, locale=lang) for lang in Locale},
        earliest_start=standing.today,
        latest_start=standing.latest_start,
        min_payment_minor=policy.min_instalment_minor(offer.currency),
        max_term_months=policy.max_term_months,
        requests_left=change_requests.requests_left(db, offer),
        values={k: v or "" for k, v in (values or {}).items()},
        errors=errors or [],
        evaluation=evaluation,
        notice=_closed(standing) or notice,
        left_each_month_minor=None
        if offer.statement is None
        else to_minor(offer.statement["affordability"]["disposable"], offer.currency),
        debts_owed=_debts_owed(standing),
    )


def _debts_owed(standing: Standing) -> list[tuple[str, int]]:
    # a consolidated offer's page says what each of its debts owes now
    if not isinstance(standing, GroupStanding):
        return []
    return [
        (m.offer.debt_ref, to_minor(m.owed["total"], standing.currency)) for m in standing.members
    ]


def _closed(standing: Standing) -> Notice | None:
    """Why there is nothing to propose here, if so."""
    if isinstance(standing, GroupStanding):
        if standing.superseded:
            return "superseded"
        return None if standing.owes else "nothing_owed"
    if standing.offer.status == "superseded":
        return "superseded"
    return "nothing_owed" if standing.debt is None else None


def _page(view: ChangeView, locale: Locale, status: int = 200) -> Response:
    return Response(render_change_page(view, locale), status_code=status, media_type=HTML)


def _standing(db: Session, at: _Link) -> Standing:
    assert at.offer is not None
    if at.group:
        return group_standing(db, at.offer, utcnow().date())
    return change_requests.standing(db, at.offer, utcnow().date())


def _evaluate(
    db: Session,
    standing: Standing,
    fields: Mapping[str, str | None],
    locale: Locale,
) -> dict[str, Any]:
    if isinstance(standing, GroupStanding):
        return group_evaluation_json(db, standing, standing.read(fields), locale)
    return change_requests.evaluation_json(db, standing, standing.read(fields), locale)


def _proposal_page(
    db: Session,
    at: _Link,
    fields: Mapping[str, str | None] | None,
    *,
    notice: Notice | None = None,
    status: int = 200,
) -> Response:
    """The change page, with the answer to ``fields`` if given; the form again if they break
    a rule (422)."""
    standing = _standing(db, at)
    if fields is None or _closed(standing):
        # a form answered 409 (nothing owed, superseded) shows why, with that status
        return _page(_view(db, standing, at), at.locale, status)
    try:
        evaluation = _evaluate(db, standing, fields, at.locale)
    except Problem as problem:
        if problem.status != 422:
            raise
        return _page(_view(db, standing, at, values=fields, errors=problem.errors), at.locale, 422)
    view = _view(db, standing, at, values=fields, evaluation=evaluation, notice=notice)
    return _page(view, at.locale, status)


def _private(function: Callable[..., Any], *args: Any) -> Any:
    # The path holds the token: a problem document must not echo it as its `instance`.
    try:
        return function(*args)
    except Problem as problem:
        problem.echo_path = False
        raise
    except DomainError as error:
        refused = invalid([FieldError(error.field, error.rule, error.detail)])
        refused.echo_path = False
        raise refused from None


async def _threaded(function: Callable[..., Any], *args: Any) -> Any:
    return await run_in_threadpool(_private, function, *args)


@router.get(
    "/{token}/change",
    response_class=HTMLResponse,
    responses={
        200: {"content": {HTML: {}}},
        404: PAGE_NOT_FOUND,
        422: _html_and_problem(422, "A proposal in the query that breaks a rule: the form again."),
        **problem_responses(503),
    },
)
def change_page(
    token: Token,
    db: DbSession,
    lang: str | None = LangQuery,
    p: str | None = MarkerQuery,
    accept_language: AcceptLanguage = None,
    payment: str | None = AmountQuery,
    start: str | None = Query(
        None, max_length=40, pattern=DAY_PATTERN, description="The proposal's first payment."
    ),
    lump_sum: str | None = Query(
        None, max_length=40, pattern=LUMP_SUM_PATTERN, description="The proposal's lump sum."
    ),
) -> Response:
    """The debtor's change page: what is owed now and a form for what they can afford; with a
    proposal in the query, the engine's answer (the plan as proposed, or the nearest plans
    the rules allow), each plan line by line with its APR and a button to ask for it."""
    at = _open(db, token, p, lang, accept_language)
    if at.offer is None:
        return at.not_found()
    fields = None
    if payment is not None:
        fields = {"payment": payment, "start": start, "lump_sum": lump_sum}
    sharing.viewed(db, at.offer, "change", at.locale.value)
    return _proposal_page(db, at, fields)


def _propose(db: Session, at: _Link, from_form: bool, fields: dict[str, str | None]) -> Any:
    if at.offer is None:
        if from_form:
            return at.not_found()
        raise no_such_link()
    standing = _standing(db, at)
    if not from_form:
        return Json(_evaluate(db, standing, fields, at.locale))
    if _closed(standing):
        return _page(_view(db, standing, at), at.locale, 409)
    try:
        standing.read(fields)
    except Problem as problem:
        return _page(_view(db, standing, at, values=fields, errors=problem.errors), at.locale, 422)
    query = {k: v for k, v in fields.items() if v is not None and v}
    return RedirectResponse(at.url("/change", query), status_code=303)


@router.post(
    "/{token}/change",
    response_model=Evaluation,
    openapi_extra=_body_schema(ProposalIn),
    responses={
        303: {"description": "From the page's form: to the page with the answer."},
        404: _html_and_problem(404, "No such link (the links' one 404)."),
        409: _html_and_problem(409, "Nothing is owed, or a newer offer replaced this one."),
        422: _html_and_problem(422, "The proposal breaks a rule: the field and the rule."),
        **problem_responses(503),
    },
)
async def propose(
    token: Token,
    request: Request,
    db: DbSession,
    lang: str | None = LangQuery,
    p: str | None = MarkerQuery,
    accept_language: AcceptLanguage = None,
) -> Any:
    """The debtor proposes a payment a period (optionally a start and a lump sum now); the
    counter-offer engine answers on what is owed now, under the offer's policy version: the
    plan as proposed, or why not and the nearest plans that fit. A browser's form is sent to
    the page that shows the answer."""
    return await _answer(request, db, token, p, lang, accept_language, ProposalIn, _propose)


async def _answer(
    request: Request,
    db: Session,
    token: str,
    marker: str | None,
    lang: str | None,
    accept_language: str | None,
    model: type[BaseModel],
    then: Callable[[Session, _Link, bool, dict[str, str | None]], Any],
) -> Any:
    """Open the link, read the body against ``model`` and hand it to ``then``; a browser's
    form that breaks the model gets the form again with the messages (422)."""
    at = await run_in_threadpool(_open, db, token, marker, lang, accept_language)
    try:
        from_form, fields = await _read(request, model)
    except Problem as problem:
        problem.echo_path = False
        if problem.status != 422 or not _is_form(request):
            raise
        return await _threaded(_form_errors, db, at, problem)
    return await _threaded(then, db, at, from_form, fields)


def _is_form(request: Request) -> bool:
    return (request.headers.get("content-type") or "").startswith(FORM)


def _form_errors(db: Session, at: _Link, problem: Problem) -> Response:
    if at.offer is None:
        return at.not_found()
    return _page(_view(db, _standing(db, at), at, errors=problem.errors), at.locale, 422)


def _ask(db: Session, at: _Link, from_form: bool, fields: dict[str, str | None]) -> Any:
    if at.offer is None:
        if from_form:
            return at.not_found()
        raise no_such_link()
    try:
        request = request_group_change if at.group else change_requests.request_change
        row, _new = request(db, at.token, fields, at.locale)
    except Problem as problem:
        if not from_form or problem.status not in (409, 422, 429):
            raise
        if problem.status == 422:
            view = _view(db, _standing(db, at), at, values=fields, errors=problem.errors)
            return _page(view, at.locale, 422)
        notice: Notice | None = "rate_limited" if problem.status == 429 else None
        return _proposal_page(db, at, fields, notice=notice, status=problem.status)
    if from_form:
        where = at.url(f"/change/requests/{row.id}")
        return RedirectResponse(where, status_code=303)
    return Json(change_requests.receipt_json(row), status_code=201)


@router.post(
    "/{token}/change/requests",
    response_model=Receipt,
    status_code=201,
    openapi_extra=_body_schema(ChoiceIn),
    responses={
        303: {"description": "From the page's form: to the page of the request."},
        404: _html_and_problem(404, "No such link (the links' one 404)."),
        409: _html_and_problem(409, "Nothing is owed, or a newer offer replaced this one."),
        422: _html_and_problem(422, "The proposal or the choice breaks a rule."),
        429: _html_and_problem(
            429, f"The link made {change_requests.MAX_REQUESTS_PER_DAY} requests in 24 hours."
        ),
        **problem_responses(503),
    },
)
async def ask(
    token: Token,
    request: Request,
    db: DbSession,
    lang: str | None = LangQuery,
    p: str | None = MarkerQuery,
    accept_language: AcceptLanguage = None,
) -> Any:
    """The debtor asks for one plan of the answer to their proposal (``as_proposed``, or an
    alternative's change): it is recomputed from the proposal and recorded as a change
    request for the collectors, audited. The same proposal and choice again that day is the
    same request; a link may make at most five requests in 24 hours (then 429)."""
    return await _answer(request, db, token, p, lang, accept_language, ChoiceIn, _ask)


@router.get(
    "/{token}/change/requests/{request_id}",
    response_class=HTMLResponse,
    responses={
        200: {"content": {HTML: {}}},
        404: PAGE_NOT_FOUND,
        **problem_responses(422, 503),
    },
)
def request_page(
    token: Token,
    db: DbSession,
    request_id: str = RequestId,
    lang: str | None = LangQuery,
    p: str | None = MarkerQuery,
    accept_language: AcceptLanguage = None,
) -> Response:
    """A change request the debtor made: the plan asked for, when, and where it stands."""
    at = _open(db, token, p, lang, accept_language)
    row = (
        None
        if at.offer is None
        else change_requests.debtor_request(db, at.offer, request_id, consolidated=at.group)
    )
    if at.offer is None or row is None:
        return at.not_found()
    view = RequestView(
        masked_name=mask_name(at.offer.debtor_name),
        status=row.status,
        choice=row.choice,
        created_at=row.created_at,
        document=row.document,
        plan_url=at.url(),
        change_url=at.url("/change"),
        lang_urls={lang: at.url(f"/change/requests/{row.id}", locale=lang) for lang in Locale},
        summary=row.summaries.get(at.locale.value),
    )
    return Response(render_request_page(view, at.locale), media_type=HTML)
