"""What the OpenAPI document says beyond the models: the rules no schema can state, and the
links from what one operation makes to the operations that take it.

**Rules.** A model declares what JSON Schema can say (types, ranges, lengths, patterns, the
two shapes of a request as ``oneOf``). What it cannot say (a rule across fields, a rule on the
stored state, a rule of the engine's arithmetic) is declared here, once per rule, and named on
each operation that enforces it: in its description and in the ``x-rules`` extension, a list
of ``{"rule", "description"}``. A request that breaks one is a 422 whose ``errors[].rule`` is
that name, every time. ``tests/app/test_schemathesis.py`` holds the service to it: a request
valid by the schema may be refused only with a 422 naming rules its operation declares.

**Links.** OpenAPI ``links`` on a response name the operations that take what it made (a saved
offer's id and token, an accepted plan's id, a party's id, a policy's id), so a client (or a
stateful test) can follow them from one operation to the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# ---- rules -------------------------------------------------------------------------------

RULES: dict[str, str] = {
    # dates
    "max_start_delay": "A start (capacity.earliest_start, first_due, a proposal's start) at most"
    " 365 days after the debt's as-of date, and within the policy's max_start_delay_days.",
    "not_before_as_of": "A date of the plan (a start, a due date, a settle-by date, a payoff's"
    " day) not before the debt's as-of date.",
    "first_payment_not_in_past": "An offer's first payment (besides a down payment) not before"
    " today in the debt's time zone.",
    "not_in_past": "A proposal's start not before today.",
    "date": "A proposal's start is a day of the calendar (not 2027-02-30).",
    "not_in_future": "A payment not dated after today.",
    "not_before_acceptance": "A payment not dated before the plan was accepted.",
    "range": "An instant's day, as written, from 1900-01-01 to 2199-12-31; a policy's decimal"
    " within its documented bounds (a percentage from 0 to 100, a rate from 0 to 1).",
    "date_order": "No payment dated before the first advance.",
    # money
    "iso4217": "The currency is an ISO 4217 code.",
    "max_decimals": "No more decimals than the currency has (CNY 2, JPY 0, KWD 3).",
    "positive": "The debt owes something; a payment or a proposal's amount is above zero.",
    "max_amount": "An amount the engine can hold: at most 10^15 minor units.",
    "no_solution": "Dated flows that some annual rate balances (the payments can repay the"
    " advances at a rate above -99 %).",
    "too_large": "A rate the flows imply that a decimal can hold.",
    "unit_period": "A schedule whose most common period is whole weeks, a semimonth or whole"
    " months (Regulation Z, Appendix J (b)(4)).",
    # the policy's limits on a plan
    "max_term": "A plan the capacity or payment repays within the policy's max_term_months.",
    "min_term": "A plan of at least one payment.",
    "min_instalment": "Each instalment at least the policy's min_instalment for the currency.",
    "max_discount": "A discount within the policy's discount bands and max_discount_bps.",
    "min_settlement_pct": "A settlement leaving at least the policy's min_settlement_pct.",
    "min_down_payment_pct": "A down payment at least the policy's min_down_payment_pct.",
    "lump_sum": "A settlement or down payment the debtor's lump sum can pay at once.",
    "max_rate": "A rate the engine takes: at most 10 (1,000 %) a year.",
    "rate_cap": "A plan's rate within the policy's rate_cap.",
    # the shapes of a plan
    "semi_monthly_days": "Two pay days in order, each 1 to 28 or last, not both the 28th.",
    "semi_monthly_only": "Pay days only with a semi-monthly frequency.",
    "requires_payment": "until: repaid pays a payment (or the capacity's): one is given.",
    "until_without_term": "until: repaid solves the term: no term beside it.",
    "until_equal_instalment": "until: repaid with equal instalments only.",
    "flat_charge_required": "A flat contract states its rate or its charge per period.",
    "one_flat_charge": "A flat contract states its rate or its charge, not both.",
    "flat_only": "A flat rate or charge only with interest_method flat.",
    "term_only": "A flat or grace plan is asked for by its term, not a payment.",
    "flat_no_nominal_rate": "A flat contract has no nominal annual rate beside its flat one.",
    "flat_equal_instalment": "A flat contract repays in equal instalments.",
    "grace_not_flat": "Grace periods are not part of a flat contract.",
    "min_grace": "At least one grace period.",
    "plain_plan_only": "Pay days (days) only for a plain instalment plan, not flat or grace.",
    "max_grace": "Grace periods within the policy's deferral_max_periods.",
    "payment_or_statement": "A capacity gives a payment, an income and expenditure statement,"
    " or both.",
    "no_disposable_income": "An income and expenditure statement leaves a disposable income"
    " above zero (income less expenditure less priority debts): no plan that cannot be paid.",
    "one_currency": "The debts negotiated (or countered) as one plan are all in one currency.",
    "unique_ref": "Each debt of a consolidated negotiation or counter-proposal has its own ref.",
    "unique_kind": "A comparison of several debts' offers lists each kind once.",
    "not_offered": "A kind of offer the policy makes for this debt and capacity.",
    "current_policy_version": "An offer saved under the policy's current version.",
    "one_live_arrangement": "A new offer for a debt with an open plan starts from what that"
    " plan still asks today (it replaces the plan when accepted).",
    "new_offer": "A decision ``offered`` names an offer for the same debt made after the request.",
    "required": "A decision ``offered`` names the new saved offer (``offer_id``).",
    "same_debt": "A decision ``offered`` names an offer of the request's own debt.",
    "not_with_declined": "A decision ``declined`` names no offer.",
    # the policy document
    "every_jurisdiction": "Contact rules and messages for each of CN, US and GB, once each.",
    "order": "A contact rule's hours start before they end.",
    "positive_retention": "A survival curve's monthly_retention above 0 (a simulation raises"
    " it to negative powers).",
    "probability": "A take-up or retention from 0 to 1.",
    "bps_range": "Discount bands of 0 to 10,000 basis points from 0 days past due.",
    "permutation": "A waterfall of fees, interest and principal, once each.",
    "non_negative": "An amount or a count that is 0 or more.",
    # the contact rules document
    "one_kind": "A contact cap's window is exactly one of rolling_hours, local_days, ever.",
    "unique_code": "Each jurisdiction's code once.",
    "unique_id": "Each rule's id once within its jurisdiction.",
    "purposes": "A rule names purposes the service knows, each once.",
    "choice": "A value among the rule's documented choices (a role, a channel, a weekday).",
    "ever": "A window of ever is true.",
    "integer": "A count or a number of hours or days as a whole number.",
    "invalid": "A rule document that reads as the contact rules schema says.",
    "keys": "A rule with only its documented keys, each required one given.",
    "list": "A list where the contact rules take a list.",
    "object": "An object where the contact rules take an object.",
    "text": "Text where the contact rules take text, not empty.",
    "time": "An hour as HH:MM.",
    "holidays": "A calendar country the holidays package knows.",
    "needs_down_payment": "A policy with a min_down_payment_pct above 0 allows a down payment.",
    "max": "A policy's default within its own maximum (deferral_periods at most"
    " deferral_max_periods).",
    "exclusive": "A simulation grid gives discount_scale or discount_bps, not both.",
    "known_placeholders": "A message template uses only the placeholders its kind has.",
    "https": "A pay link is an https:// address.",
    "names_the_plan": "A pay link names the debt's reference or the plan.",
    "names_opt_out_keyword": "A text message's opt-out sentence names the opt-out keyword.",
    "cn_signature": "A text message to China is signed 【name】.",
    "supported_country": "A calendar country the service has holidays for.",
    "max_deferral": "A pause within the policy's deferral_max_periods.",
    "collector_of_team": "A debt is assigned to a collector of its team.",
    "not_allowed": "stop and resume name no channel; opt_out and opt_in name one.",
    # a request too large to compute (413 problem, with the rule): repay simulate runs it
    "max_debts": "A simulation of at most 10,000 debts.",
    "max_grid_points": "A simulation grid of at most 64 points.",
    "max_debt_policies": "At most 200,000 debts × grid points.",
    "max_offer_rows": "At most 40,000 offers returned with include_offers.",
    "instalment_only": "A compared flat contract or grace plan is an instalment plan.",
    "max_debts_per_debtor": "With consolidate, at most 10 debts per debtor_id.",
    "one_per_debtor": (
        "With consolidate, one debtor's debts state one currency, one capacity and one lump sum."
    ),
    # people and the stored state
    "iana_zone": "A time zone from the IANA database (Asia/Shanghai).",
    "guarantor_only": "Only a guarantor's party has ``guaranteed`` (a change keeps the role).",
    "one_channel": "A party gives at least one of phone, email, sms.",
    "exists": "A team or an offer the request names exists in the organisation.",
    "max_parties": "At most 10 parties to a debt.",
    "unknown": "A policy, version or name that exists.",
}


def rules(*names: str) -> tuple[str, ...]:
    """``names``, each checked to be a rule declared in :data:`RULES`.

    Examples
    --------
    >>> rules("max_start_delay")
    ('max_start_delay',)
    >>> rules("nonsense")
    Traceback (most recent call last):
    KeyError: "undeclared rule 'nonsense'"
    """
    for name in names:
        if name not in RULES:
            raise KeyError(f"undeclared rule {name!r}")
    return names


MONEY = rules("iso4217", "max_decimals", "max_amount")
# A policy's contact rules document (plans/contact_rules.py reads it, field by field).
CONTACT_RULES = rules(
    "one_kind",
    "unique_code",
    "unique_id",
    "purposes",
    "choice",
    "ever",
    "integer",
    "invalid",
    "keys",
    "list",
    "object",
    "text",
    "time",
    "unknown",
    "positive",
)
# The engine's rules, met by any operation that computes an offer or a plan from a debt.
ENGINE = MONEY + rules(
    "positive",
    "not_before_as_of",
    "max_start_delay",
    "first_payment_not_in_past",
    "max_term",
    "min_term",
    "min_instalment",
    "max_discount",
    "min_settlement_pct",
    "min_down_payment_pct",
    "lump_sum",
    "max_rate",
    "max_deferral",
    "rate_cap",
    "semi_monthly_days",
    "semi_monthly_only",
    "requires_payment",
    "until_without_term",
    "until_equal_instalment",
    "flat_charge_required",
    "one_flat_charge",
    "flat_only",
    "term_only",
    "flat_no_nominal_rate",
    "flat_equal_instalment",
    "grace_not_flat",
    "min_grace",
    "max_grace",
    "plain_plan_only",
    "payment_or_statement",
    "no_disposable_income",
)
POLICY = rules(
    *CONTACT_RULES,
    "positive_retention",
    "probability",
    "bps_range",
    "permutation",
    "non_negative",
    "max",
    "order",
    "max_rate",
    "holidays",
    "needs_down_payment",
    "range",
    "every_jurisdiction",
    "known_placeholders",
    "https",
    "names_the_plan",
    "names_opt_out_keyword",
    "cn_signature",
    "supported_country",
    *MONEY,
)
PROPOSAL = rules("positive", "max_decimals", "max_amount", "not_in_past", "max_start_delay", "date")
# a change asked for names a plan the engine answered the proposal with
ASKED = (*PROPOSAL, *rules("not_offered"))

# (method, path) -> the rules across fields it enforces
OPERATION_RULES: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "/v1/offers/negotiate"): (*ENGINE, *rules("one_currency", "unique_ref")),
    ("POST", "/v1/offers/counter"): (*ENGINE, *rules("one_currency", "unique_ref")),
    ("POST", "/v1/offers"): (
        *ENGINE,
        *rules("not_offered", "current_policy_version", "one_live_arrangement"),
        *rules("one_currency", "unique_ref"),
    ),
    ("POST", "/v1/plans/instalment"): ENGINE,
    ("POST", "/v1/plans/deferral"): ENGINE,
    ("POST", "/v1/plans/settlement"): ENGINE,
    ("POST", "/v1/plans/compare"): (
        *ENGINE,
        *rules("one_currency", "unique_ref", "unique_kind", "instalment_only"),
    ),
    ("GET", "/v1/plans/{plan_id}/payoff"): rules("not_before_as_of"),
    ("POST", "/v1/plans/{plan_id}/payments"): (
        *MONEY,
        *rules("positive", "not_in_future", "not_before_acceptance"),
    ),
    ("POST", "/v1/consolidated-plans/{consolidated_plan_id}/payments"): (
        *MONEY,
        *rules("positive", "not_in_future", "not_before_acceptance"),
    ),
    ("POST", "/v1/rates/apr"): (
        *MONEY,
        *rules("date_order", "no_solution", "too_large", "unit_period"),
    ),
    ("POST", "/v1/rates/annual"): (
        *MONEY,
        *rules("date_order", "no_solution", "too_large", "unit_period"),
    ),
    ("POST", "/v1/policies"): POLICY,
    ("POST", "/v1/policies/{policy_id}/versions"): POLICY,
    ("POST", "/v1/simulations"): (
        *MONEY,
        *rules("exclusive", "unknown", "max_rate", "positive", "max_debts", "max_grid_points"),
        *rules("max_debt_policies", "max_offer_rows", "max_debts_per_debtor", "one_per_debtor"),
    ),
    ("PUT", "/v1/debts/{ref}"): (*MONEY, *rules("exists", "max_rate", "positive")),
    ("POST", "/v1/debts/{ref}/assignment"): rules("exists", "collector_of_team"),
    ("POST", "/s/{token}/preferences"): rules("not_allowed"),
    ("POST", "/v1/debts/{ref}/parties"): (
        *MONEY,
        *rules("iana_zone", "one_channel", "max_parties"),
    ),
    ("PATCH", "/v1/debts/{ref}/parties/{party_id}"): (
        *MONEY,
        *rules("iana_zone", "guarantor_only"),
    ),
    ("POST", "/v1/contact-checks"): rules("range"),
    ("POST", "/v1/contact-attempts"): rules("range"),
    ("POST", "/s/{token}/change"): PROPOSAL,
    ("POST", "/s/{token}/change/requests"): ASKED,
    ("GET", "/s/{token}/change"): PROPOSAL,
    ("POST", "/v1/change-requests/{request_id}/decision"): rules(
        "exists", "new_offer", "required", "same_debt", "not_with_declined"
    ),
}


def form_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` as a form (``application/x-www-form-urlencoded``) carries it: a form has no
    null, so a field that may be null in JSON is, in a form, only omitted.

    Examples
    --------
    >>> form_schema({"properties": {"a": {"anyOf": [{"type": "string"}, {"type": "null"}]}}})
    {'properties': {'a': {'type': 'string'}}}
    """
    properties = {}
    for name, field_schema in schema.get("properties", {}).items():
        branches = [b for b in field_schema.get("anyOf", ()) if b != {"type": "null"}]
        if len(branches) == 1:
            field_schema = {k: v for k, v in field_schema.items() if k != "anyOf"} | branches[0]
        properties[name] = field_schema
    return {**schema, "properties": properties}


# ---- links -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    """From a response of ``source`` (``"METHOD /path"``) with ``status`` to ``target``,
    with the target's ``parameters`` (and body fields) as runtime expressions."""

    name: str
    source: str
    status: int
    target: str
    parameters: Mapping[str, str]
    body: Mapping[str, str] = field(default_factory=dict)


OFFER = "$response.body#/id"
TOKEN = "$response.body#/token"
PAGES = (
    "GET /s/{token}",
    "GET /s/{token}.json",
    "GET /s/{token}.csv",
    "GET /s/{token}.ics",
    "GET /s/{token}/certificate",
    "GET /s/{token}/change",
    "POST /s/{token}/accept",
    "POST /s/{token}/change",
    "POST /s/{token}/change/requests",
    "POST /s/{token}/preferences",
)
PLAN_OPERATIONS = (
    "GET /v1/plans/{plan_id}",
    "GET /v1/plans/{plan_id}/payoff",
    "POST /v1/plans/{plan_id}/payments",
    "POST /v1/plans/{plan_id}/decisions",
)
CONSOLIDATED_PLAN_OPERATIONS = (
    "GET /v1/consolidated-plans/{consolidated_plan_id}",
    "POST /v1/consolidated-plans/{consolidated_plan_id}/payments",
)
PARTY_OPERATIONS = (
    "GET /v1/debts/{ref}/parties/{party_id}",
    "PATCH /v1/debts/{ref}/parties/{party_id}",
    "DELETE /v1/debts/{ref}/parties/{party_id}",
    "POST /v1/debts/{ref}/parties/{party_id}/reveal",
)
DEBT_OPERATIONS = (
    "GET /v1/debts/{ref}",
    "POST /v1/debts/{ref}/assignment",
    "POST /v1/debts/{ref}/parties",
    "GET /v1/debts/{ref}/parties",
)
POLICY_OPERATIONS = (
    "GET /v1/policies/{policy_id}",
    "POST /v1/policies/{policy_id}/versions",
)
CHANGE_REQUEST = (
    "GET /v1/change-requests/{request_id}",
    "POST /v1/change-requests/{request_id}/decision",
)


def _links() -> Iterable[Link]:
    for target in ("GET /v1/offers/{offer_id}", "POST /v1/offers/{offer_id}/revoke"):
        yield Link("offer", "POST /v1/offers", 201, target, {"offer_id": OFFER})
    for target in PAGES:
        yield Link("page", "POST /v1/offers", 201, target, {"token": TOKEN})
        yield Link("page", "GET /v1/offers/{offer_id}", 200, target, {"token": TOKEN})
    consolidated = {"consolidated_plan_id": "$response.body#/consolidated/consolidated_plan_id"}
    for target in CONSOLIDATED_PLAN_OPERATIONS:
        yield Link("consolidated", "POST /s/{token}/accept", 201, target, consolidated)
    for target in PLAN_OPERATIONS:
        yield Link(
            "plan", "POST /s/{token}/accept", 201, target, {"plan_id": "$response.body#/plan_id"}
        )
        yield Link(
            "plan", "GET /v1/offers/{offer_id}", 200, target, {"plan_id": "$response.body#/plan_id"}
        )
    asked = {"request_id": "$response.body#/id"}
    yield Link(
        "request",
        "POST /s/{token}/change/requests",
        201,
        "GET /s/{token}/change/requests/{request_id}",
        {"token": "$request.path.token", **asked},
    )
    for target in CHANGE_REQUEST:
        yield Link("request", "POST /s/{token}/change/requests", 201, target, asked)
        yield Link(
            "request",
            "GET /v1/change-requests",
            200,
            target,
            {"request_id": "$response.body#/requests/0/id"},
        )
    for status in (200, 201):
        for target in DEBT_OPERATIONS:
            yield Link("debt", "PUT /v1/debts/{ref}", status, target, {"ref": "$request.path.ref"})
    party = {"ref": "$request.path.ref", "party_id": "$response.body#/id"}
    for target in PARTY_OPERATIONS:
        yield Link("party", "POST /v1/debts/{ref}/parties", 201, target, party)
    for target in ("POST /v1/contact-checks", "POST /v1/contact-attempts"):
        yield Link(
            "contact",
            "POST /v1/debts/{ref}/parties",
            201,
            target,
            {},
            {"debt_ref": "$request.path.ref", "party_id": "$response.body#/id"},
        )
    message = {"message_id": "$response.body#/messages/0/id"}
    claim = {"claim_token": "$response.body#/messages/0/claim_token"}
    yield Link("message", "GET /v1/outbox", 200, "POST /v1/outbox/{message_id}/ack", message, claim)
    yield Link("message", "GET /v1/outbox", 200, "POST /v1/outbox/{message_id}/replies", message)
    for target in POLICY_OPERATIONS:
        yield Link("policy", "POST /v1/policies", 201, target, {"policy_id": "$response.body#/id"})
    yield Link(
        "version",
        "POST /v1/policies/{policy_id}/versions",
        201,
        "GET /v1/policies/{policy_id}/versions/{version}",
        {"policy_id": "$request.path.policy_id", "version": "$response.body#/version"},
    )
    yield Link(
        "revoke",
        "POST /v1/keys",
        201,
        "POST /v1/keys/{prefix}/revoke",
        {"prefix": "$response.body#/prefix"},
    )


LINKS: tuple[Link, ...] = tuple(_links())


# ---- the document ------------------------------------------------------------------------


def _operation(schema: Mapping[str, Any], label: str) -> dict[str, Any]:
    method, path = label.split(" ", 1)
    operation: dict[str, Any] = schema["paths"][path][method.lower()]
    return operation


def document(schema: dict[str, Any]) -> None:
    """Name each operation's rules (description and ``x-rules``) and add the links."""
    for (method, path), named in OPERATION_RULES.items():
        operation = _operation(schema, f"{method} {path}")
        names = tuple(dict.fromkeys(named))
        operation["x-rules"] = [{"rule": name, "description": RULES[name]} for name in names]
        listed = "\n".join(f"- `{name}`: {RULES[name]}" for name in names)
        operation["description"] = (
            operation.get("description", "").rstrip()
            + "\n\nRules the schema cannot state (a 422 names the rule):\n"
            + listed
        ).lstrip()
    for link in LINKS:
        source = _operation(schema, link.source)
        target = _operation(schema, link.target)
        response = source["responses"][str(link.status)]
        name = target["operationId"]
        definition: dict[str, Any] = {
            "operationId": target["operationId"],
            "parameters": dict(link.parameters),
        }
        if link.body:
            definition["requestBody"] = dict(link.body)
        response.setdefault("links", {})[name] = definition
