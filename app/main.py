"""The service: routers, error handling and the OpenAPI document, assembled once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.types import ASGIApp

from app import links, messaging
from app.audit import routes as audit
from app.changes.routes import pages as changes
from app.changes.routes import requests as change_requests
from app.contacts.routes import checks, debts, parties, preferences
from app.core import contract, errors, limits
from app.core.direct import Direct, DirectAnswers, answered_directly
from app.core.limits import MAX_BODY_BYTES, BodyLimit
from app.core.routes import health, keys
from app.core.routing import KnownRoutes
from app.core.settings import get_settings
from app.finance.routes import policies, simulations
from app.links.routes import consolidated_plans, payments
from app.links.routes import links as link_pages
from app.links.routes import offers as saved_offers
from app.links.routes import plans as accepted_plans
from app.links.web import Safeguards
from app.messaging import routes as outbox
from app.offers.routes import direct as calculated
from app.offers.routes import offers, plans, rates
from schemas.simulations import MAX_BODY_BYTES as MAX_SIMULATION_BYTES

# The operations whose documented bounds need a body over 1 MiB (app.core.limits)
LARGER_BODIES = {"/v1/simulations": MAX_SIMULATION_BYTES}

DESCRIPTION = """
Repayment-plan negotiation for collectors, debtors and finance teams.

**Conventions.** Amounts are decimal strings in the debt's currency, never JSON numbers, with
no more decimals than the currency has (more is a 422, never a rounding). Rates are annual
fractions as decimal strings (`"0.18"` is 18 % a year). Dates are ISO 8601. APRs follow the
actuarial method of US Regulation Z Appendix J. Errors are RFC 9457 problem documents naming
the field and the rule.

**Auth.** `Authorization: Bearer <key>`; keys have a role: collector (offers, plans, rates),
finance (+ policies), admin (+ keys). Create one with `repay keys create --role collector`.

**Limits.** A request body is at most 1 MiB (1,048,576 bytes; a portfolio simulation's 8 MiB).
A larger one is a 413 problem document, refused before it is parsed: by its `Content-Length`,
or, sent in chunks, at the first byte past the limit.
"""


# pydantic names a component by its Python module when two types share a name (the keys' Role
# and the contact rules' Role). Such a name is the contract's, not the layout's: moving a module
# must not rename a type that clients were generated with, so each keeps the name published.
PUBLISHED_NAMES = {"app__core__models__Role": "app__db__Role"}


def _published_names(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every component in :data:`PUBLISHED_NAMES` under its published name."""
    components = schema.get("components", {}).get("schemas", {})
    if not any(name in components for name in PUBLISHED_NAMES):
        return schema
    text = json.dumps(schema)
    for current, published in PUBLISHED_NAMES.items():
        text = text.replace(f'"{current}"', f'"{published}"')
        text = text.replace(
            f'"#/components/schemas/{current}"', f'"#/components/schemas/{published}"'
        )
    renamed: dict[str, Any] = json.loads(text)
    return renamed


class Service(FastAPI):
    """The application, its calculations answered outside its middleware stack when they can
    be (:class:`~app.core.direct.DirectAnswers`, given ``direct_answers``): every layer of the
    stack costs each request a call and a wrapped ``send``, and none of them changes such an
    answer (the middleware hands on whatever one of them would refuse)."""

    direct_answers: Mapping[str, Direct] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if not self.direct_answers:
            return stack
        return DirectAnswers(stack, answers=self.direct_answers, limit=MAX_BODY_BYTES)


def create_app(*, direct: bool = True) -> FastAPI:
    """A new application instance; without ``direct``, every calculation through FastAPI (what
    :class:`~app.core.direct.DirectAnswers` is held to).

    Reads the settings first: a malformed one (``app.core.settings.SettingsError``) stops the
    application being built, so ``uvicorn app.main:app`` fails at start, not on each request.
    """
    get_settings()
    application = Service(
        title="repay",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "offers", "description": "Every offer for a debt; counter-proposals."},
            {"name": "plans", "description": "One offer with explicit parameters; compare."},
            {"name": "rates", "description": "APR by Reg Z Appendix J."},
            {"name": "policies", "description": "The finance team's versioned parameters."},
            {"name": "payments", "description": "Payments against accepted plans."},
            {"name": "audit", "description": "The append-only, hash-chained audit trail."},
            {"name": "keys", "description": "API keys (admins)."},
            {"name": "debts", "description": "A debt's terms and jurisdiction, by reference."},
            {"name": "contacts", "description": "A debt's parties; the contact rules."},
            {"name": "outbox", "description": "Reminders and confirmations, claimed by senders."},
            {"name": "links", "description": "The debtor's shared offer page and acceptance."},
            {"name": "changes", "description": "The debtors' requests for a change to a plan."},
            {"name": "health", "description": "Probes."},
        ],
    )
    # The rooms talk through the bus and the links' reader, wired before the first request.
    links.install()
    messaging.install()
    # In this order: a route matches before those after it (the saved offers' "/{offer_id}"
    # after "/negotiate", the page's "/s/{token}" after its ".ics", ".csv" and ".json").
    for module in (
        health,
        offers,
        saved_offers,
        plans,
        accepted_plans,
        payments,
        consolidated_plans,
        rates,
        policies,
        keys,
        audit,
        link_pages,
        preferences,
        simulations,
        debts,
        parties,
        checks,
        outbox,
        changes,
        change_requests,
    ):
        application.include_router(module.router)
    errors.install(application)
    # A calculation whose key and policy version are known in memory is answered without the
    # framework's per-request work (the same functions, the same bytes); anything else goes on.
    if direct:
        application.direct_answers = answered_directly(application.routes, calculated.ANSWERS)
    # A path no route takes is a 404, a method none of its routes has a 405 naming them all,
    # before the router (which would match a template alone: "/v1/offers/negotiate" as an id).
    application.add_middleware(KnownRoutes, routes=application.routes)
    # A body over 1 MiB (8 MiB: a portfolio simulation) is a 413 before it is parsed, or read
    # past the limit.
    application.add_middleware(BodyLimit, limit=MAX_BODY_BYTES, paths=LARGER_BODIES)
    # The share links' headers (no framing, no sniffing, no referrer, no cache) on every
    # answer under /s/, errors included: set once here, not remembered by each route.
    application.add_middleware(Safeguards)

    def openapi() -> dict[str, Any]:
        if application.openapi_schema is None:
            schema = get_openapi(
                title=application.title,
                version=application.version,
                description=application.description,
                routes=application.routes,
                tags=application.openapi_tags,
            )
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                errors.PROBLEM_SCHEMA
            )
            limits.document(schema, paths=LARGER_BODIES)
            contract.document(schema)
            application.openapi_schema = _published_names(schema)
        return application.openapi_schema

    application.openapi = openapi  # type: ignore[method-assign]
    return application


app = create_app()
