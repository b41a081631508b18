"""The service: routers, error handling and the OpenAPI document, assembled once."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app import errors
from app.routers import (
    audit,
    change_requests,
    changes,
    contacts,
    debts,
    health,
    keys,
    links,
    offers,
    outbox,
    payments,
    plans,
    policies,
    rates,
    simulations,
)

DESCRIPTION = """
Repayment-plan negotiation for collectors, debtors and finance teams.

**Conventions.** Amounts are decimal strings in the debt's currency, never JSON numbers, with
no more decimals than the currency has (more is a 422, never a rounding). Rates are annual
fractions as decimal strings (`"0.18"` is 18 % a year). Dates are ISO 8601. APRs follow the
actuarial method of US Regulation Z Appendix J. Errors are RFC 9457 problem documents naming
the field and the rule.

**Auth.** `Authorization: Bearer <key>`; keys have a role: collector (offers, plans, rates),
finance (+ policies), admin (+ keys). Create one with `repay keys create --role collector`.
"""


def create_app() -> FastAPI:
    """A new application instance."""
    application = FastAPI(
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
    for module in (
        health,
        offers,
        plans,
        payments,
        rates,
        policies,
        keys,
        audit,
        links,
        simulations,
        debts,
        contacts,
        outbox,
        changes,
        change_requests,
    ):
        application.include_router(module.router)
    errors.install(application)

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
            application.openapi_schema = schema
        return application.openapi_schema

    application.openapi = openapi  # type: ignore[method-assign]
    return application


app = create_app()
