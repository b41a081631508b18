"""Responses of the service to the contract's own request examples, for the OpenAPI document.

Each is what the service answered (default policy, version 1; as of 2026-11-25) when the
request examples were sent in order, so /docs shows a request and its real response side by
side. They are data, not expectations: the engine's tests pin the numbers, and
``tests/app/test_openapi.py`` checks every example still validates against its model.

The answers live next to this module as data, one file each (``offer_set.json``,
``link.ics``, ...), shipped in the wheel with the package. ``make examples`` writes them
(``tests/examples_writer.py``, which says how ids, tokens, hashes and times are pinned) and
``tests/schemas/test_examples.py`` checks the service still gives them. Where one answer holds
another whole, its file says so once, as ``{"$ref": "<file>#<JSON pointer>"}``: the plan holds
the saved offer's offer and its payment; the policy list, the policy created; the key list,
the key revoked.

Examples
--------
>>> PLAN["offer"] is SAVED_OFFER["offer"]
True
>>> LINK_CSV.splitlines()[1]
'1,down_payment,2026-11-25,2026-11-25,10500.00,2000.00,350.00,150.00,1500.00,0.00,0.00,8500.00'
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

REF = "$ref"


@cache
def load(name: str) -> Any:
    """The answer in file ``name`` of this package, its ``$ref`` objects replaced by what they
    point at. Loaded once: every use shares the one object, as references to it do.

    Examples
    --------
    >>> load("health.json")
    {'status': 'ready'}
    """
    raw = files(__name__).joinpath(name).read_bytes().decode("utf-8")  # CRLF kept as sent
    return _resolved(json.loads(raw)) if name.endswith(".json") else raw


def resolve(ref: str) -> Any:
    """What ``"<file>#<JSON pointer>"`` (RFC 6901) points at, in this package's files.

    Examples
    --------
    >>> resolve("saved_offer.json#/offer/schedule/lines/0/kind")
    'down_payment'
    >>> resolve("policy_version.json#/body/waterfall/0")
    'fees'
    """
    name, _, pointer = ref.partition("#")
    value = load(name)
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


def _resolved(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {REF}:
            return resolve(value[REF])
        return {key: _resolved(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolved(item) for item in value]
    return value


# One per answer, read from the file named like it in lower case.
# GET /readyz
HEALTH: dict[str, Any] = load("health.json")
# POST /v1/plans/instalment with InstalmentRequest's example
INSTALMENT_OFFER: dict[str, Any] = load("instalment_offer.json")
# POST /v1/plans/deferral with DeferralRequest's example
DEFERRAL_OFFER: dict[str, Any] = load("deferral_offer.json")
# POST /v1/plans/settlement with SettlementRequest's first example
SETTLEMENT_OFFER: dict[str, Any] = load("settlement_offer.json")
# POST /v1/plans/settlement with SettlementRequest's second example
SETTLEMENT_PLAN_OFFER: dict[str, Any] = load("settlement_plan_offer.json")
# POST /v1/offers/negotiate with NegotiateRequest's example
OFFER_SET: dict[str, Any] = load("offer_set.json")
# POST /v1/offers/negotiate with ConsolidatedNegotiateRequest's first example (two debts)
CONSOLIDATED_OFFER_SET: dict[str, Any] = load("consolidated_offer_set.json")
# POST /v1/offers/counter with CounterRequest's example
COUNTER_RESULT: dict[str, Any] = load("counter_result.json")
# POST /v1/offers/counter with ConsolidatedCounterRequest's example (two debts)
CONSOLIDATED_COUNTER_RESULT: dict[str, Any] = load("consolidated_counter_result.json")
# POST /v1/rates/apr with AprRequest's example
APR_RESULT: dict[str, Any] = load("apr_result.json")
# POST /v1/policies with PolicyCreate's example (answered before PolicyBody had max_parties,
# reminder_days_before and contact: see NOT_YET_IN in tests/schemas/test_examples.py)
POLICY_VERSION: dict[str, Any] = load("policy_version.json")
# GET /v1/policies after that
POLICY_LIST: dict[str, Any] = load("policy_list.json")
# POST /v1/keys with KeyCreate's example (the secret replaced)
KEY_CREATED: dict[str, Any] = load("key_created.json")
# POST /v1/keys/{prefix}/revoke
KEY_REVOKED: dict[str, Any] = load("key_revoked.json")
# GET /v1/keys
KEY_LIST: dict[str, Any] = load("key_list.json")
# POST /v1/offers with SaveOffer's first example
SAVED_OFFER: dict[str, Any] = load("saved_offer.json")
# GET /s/{token}.csv
LINK_CSV: str = load("link.csv")
# GET /s/{token}.ics (before the offer is accepted: its events are still tentative)
LINK_ICS: str = load("link.ics")
# POST /s/{token}/accept
ACCEPTANCE: dict[str, Any] = load("acceptance.json")
# POST /v1/plans/{plan_id}/payments (PaymentIn's example, paid on the as-of date)
PAYMENT: dict[str, Any] = load("payment.json")
# GET /v1/plans/{plan_id}?on=2026-11-25
PLAN: dict[str, Any] = load("plan.json")
# GET /v1/plans/{plan_id}/payoff?on=2026-11-25
PAYOFF: dict[str, Any] = load("payoff.json")
# GET /v1/audit?plan_id=...
AUDIT_LIST: dict[str, Any] = load("audit_list.json")
# GET /v1/audit/verify
AUDIT_VERIFICATION: dict[str, Any] = load("audit_verification.json")
