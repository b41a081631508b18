"""Every operation of the OpenAPI document against every kind of caller, on SQLite and
PostgreSQL: the expected status of each pair is written down here, in :data:`EXPECTED`, never
computed by the code under test.

The world: organisation ``acme`` with teams ``north`` and ``south``, and organisation
``globex``. ``north``'s collector (the owner, who is not one of the callers) made everything
the operations act on: per caller, a debt with a party, an accepted plan with a payment and a
change request, an open offer, a claimed message; so each caller acts on things of their own
and no caller's request changes what another's meets. The callers:

``same_team``   another collector of ``north``
``other_team``  a collector of ``south``
``supervisor``  ``north``'s supervisor
``finance``     ``acme``'s finance member
``other_org``   ``globex``'s admin (the highest role, of another organisation)
``revoked``     a collector of ``north`` whose key was revoked
``no_key``      no ``Authorization`` header

A caller who may not touch a thing gets the 404 of a thing that does not exist; one whose role
is too low for the operation, a 403; a missing or revoked key, a 401. A new operation without
its row fails :func:`test_every_operation_has_its_row`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.db import get_sessionmaker
from app.core.keys import create_key, revoke_key
from app.main import create_app
from schemas.simulations import SimulationRequest
from tests.app.links.test_sharing import SMALL, token_of
from tests.app.outbox_clock import claimable_now

RESCHEDULE = {**SMALL, "debt": {**SMALL["debt"], "principal": "2000.00"}}  # type: ignore[dict-item]
CALLERS = ("same_team", "other_team", "supervisor", "finance", "other_org", "revoked", "no_key")

# (status for same_team, other_team, supervisor, finance, other_org); revoked and no_key: 401
TEAM_READ = (200, 404, 200, 200, 404)
TEAM_WORK_201 = (201, 404, 201, 201, 404)
OPEN_201 = (201, 404, 201, 201, 201)  # another organisation's reference is a debt of its own
COMPUTE = (200, 200, 200, 200, 200)
LISTING = (200, 200, 200, 200, 200)  # lists what the caller may see, perhaps nothing
FINANCE_ORG = (403, 403, 403, 200, 404)  # finance's, of acme: globex's admin finds nothing
FINANCE_OWN = (403, 403, 403, 200, 200)  # finance's, each of its own organisation
FINANCE_OWN_201 = (403, 403, 403, 201, 201)
ADMIN_OWN = (403, 403, 403, 403, 200)
ADMIN_OWN_201 = (403, 403, 403, 403, 201)
ADMIN_ORG = (403, 403, 403, 403, 404)
ASSIGN = (403, 403, 200, 403, 404)  # supervisors and admins reassign; finance sees, may not


def keyed(statuses: tuple[int, int, int, int, int]) -> dict[str, int]:
    return {**dict(zip(CALLERS[:5], statuses, strict=True)), "revoked": 401, "no_key": 401}


def public(status: int) -> dict[str, int]:
    """A route behind a share link: no key is read, every caller gets the same."""
    return dict.fromkeys(CALLERS, status)


EXPECTED: dict[str, dict[str, int]] = {
    "GET /healthz": public(200),
    "GET /readyz": public(200),
    "POST /v1/offers/negotiate": keyed(COMPUTE),
    "POST /v1/offers/counter": keyed(COMPUTE),
    "POST /v1/offers": keyed(OPEN_201),
    "GET /v1/offers/{offer_id}": keyed(TEAM_READ),
    "POST /v1/offers/{offer_id}/revoke": keyed(TEAM_READ),
    "POST /v1/plans/instalment": keyed(COMPUTE),
    "POST /v1/plans/deferral": keyed(COMPUTE),
    "POST /v1/plans/settlement": keyed(COMPUTE),
    "POST /v1/plans/compare": keyed(COMPUTE),
    "GET /v1/plans/{plan_id}": keyed(TEAM_READ),
    "GET /v1/plans/{plan_id}/payoff": keyed(TEAM_READ),
    "POST /v1/plans/{plan_id}/payments": keyed(TEAM_WORK_201),
    "GET /v1/consolidated-plans/{consolidated_plan_id}": keyed(TEAM_READ),
    "POST /v1/consolidated-plans/{consolidated_plan_id}/payments": keyed(TEAM_WORK_201),
    "POST /v1/rates/apr": keyed(COMPUTE),
    "POST /v1/rates/annual": keyed(COMPUTE),
    "GET /v1/policies": keyed(FINANCE_OWN),
    "POST /v1/policies": keyed(FINANCE_OWN_201),
    "GET /v1/policies/{policy_id}": keyed(FINANCE_ORG),
    "POST /v1/policies/{policy_id}/versions": keyed((403, 403, 403, 201, 404)),
    "GET /v1/policies/{policy_id}/versions/{version}": keyed(FINANCE_ORG),
    "GET /v1/keys": keyed(ADMIN_OWN),
    "POST /v1/keys": keyed(ADMIN_OWN_201),
    "POST /v1/keys/{prefix}/revoke": keyed(ADMIN_ORG),
    "GET /v1/audit": keyed(TEAM_READ),
    "GET /v1/audit/verify": keyed(FINANCE_OWN),
    "GET /s/{token}.ics": public(200),
    "GET /s/{token}.csv": public(200),
    "GET /s/{token}.json": public(200),
    "POST /s/{token}/accept": public(201),
    "GET /s/{token}": public(200),
    # the matrix's plans are not completed: no certificate, whoever asks (a completed plan's
    # 200 is tests/app/links/test_certificate.py)
    "GET /s/{token}/certificate": public(404),
    "POST /s/{token}/preferences": public(200),
    "POST /v1/simulations": keyed(FINANCE_OWN),
    "PUT /v1/debts/{ref}": keyed(OPEN_201),
    "GET /v1/debts/{ref}": keyed(TEAM_READ),
    "POST /v1/debts/{ref}/assignment": keyed(ASSIGN),
    "POST /v1/debts/{ref}/parties": keyed(OPEN_201),
    "GET /v1/debts/{ref}/parties": keyed(TEAM_READ),
    "GET /v1/debts/{ref}/parties/{party_id}": keyed(TEAM_READ),
    "PATCH /v1/debts/{ref}/parties/{party_id}": keyed(TEAM_READ),
    "DELETE /v1/debts/{ref}/parties/{party_id}": keyed((204, 404, 204, 204, 404)),
    "POST /v1/debts/{ref}/parties/{party_id}/reveal": keyed(TEAM_READ),
    "POST /v1/contact-checks": keyed(TEAM_READ),
    "POST /v1/contact-attempts": keyed(TEAM_WORK_201),
    "GET /v1/outbox": keyed(FINANCE_OWN),
    "POST /v1/outbox/{message_id}/ack": keyed(FINANCE_ORG),
    "POST /v1/outbox/{message_id}/replies": keyed(FINANCE_ORG),
    "GET /s/{token}/change": public(200),
    "POST /s/{token}/change": public(200),
    "POST /s/{token}/change/requests": public(201),
    "GET /s/{token}/change/requests/{request_id}": public(200),
    "GET /v1/change-requests": keyed(LISTING),
    "GET /v1/change-requests/{request_id}": keyed(TEAM_READ),
    "POST /v1/change-requests/{request_id}/decision": keyed(TEAM_READ),
    # last: it closes the slot's plan (a cancellation), which every check above needs open
    "POST /v1/plans/{plan_id}/decisions": keyed(TEAM_READ),
}

DEBT = SMALL["debt"]
PARTY = {
    "role": "debtor",
    "name": "张小明",
    "channels": {"phone": "+8613800138000", "sms": "+8613800138000"},
    "locale": "zh-CN",
    "time_zone": "Asia/Shanghai",
    "jurisdiction": "CN",
}


@dataclass
class Slot:
    """What one caller acts on: all made by ``north``'s owner."""

    ref: str
    party_id: str = ""
    offer: dict[str, Any] = field(default_factory=dict)  # accepted
    plan_id: str = ""
    open_offer: dict[str, Any] = field(default_factory=dict)
    request_id: str = ""
    message: dict[str, Any] = field(default_factory=dict)
    consolidated_plan_id: str = ""  # two debts' plans accepted as one


@dataclass
class World:
    client: TestClient
    headers: dict[str, dict[str, str]]
    slots: dict[str, Slot]
    policy_id: int
    acme_key_prefix: str


def _key(role: str, name: str, **where: Any) -> tuple[str, str]:
    with get_sessionmaker().begin() as session:
        plaintext, row = create_key(session, role, name, **where)
        return plaintext, row.prefix


def _bearer(plaintext: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plaintext}"}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def build(client: TestClient) -> World:
    owner, _ = _key("collector", "owner", organisation="acme", team="north")
    acme_finance, _ = _key("finance", "acme finance", organisation="acme")
    plaintexts = {
        "same_team": _key("collector", "teammate", organisation="acme", team="north")[0],
        "other_team": _key("collector", "south", organisation="acme", team="south")[0],
        "supervisor": _key("supervisor", "north lead", organisation="acme", team="north")[0],
        "finance": acme_finance,
        "other_org": _key("admin", "globex admin", organisation="globex")[0],
    }
    revoked, prefix = _key("collector", "leaver", organisation="acme", team="north")
    with get_sessionmaker().begin() as session:
        revoke_key(session, prefix)
    headers = {name: _bearer(key) for name, key in plaintexts.items()}
    headers["revoked"] = _bearer(revoked)
    headers["no_key"] = {}
    mine = _bearer(owner)
    slots = {}
    for n, caller in enumerate(CALLERS):
        slot = Slot(ref=f"DEBT-{n}")
        slot.party_id = ok(
            client.post(f"/v1/debts/{slot.ref}/parties", json=PARTY, headers=mine), 201
        )["id"]
        body = {"debt_ref": slot.ref, "debtor": {"name": "张小明"}, "locale": "en", "plan": SMALL}
        slot.offer = ok(client.post("/v1/offers", json=body, headers=mine), 201)
        slot.plan_id = ok(client.post(f"/s/{token_of(slot.offer)}/accept"), 201)["plan_id"]
        paid = {"amount": "1000.00", "date": date.today().isoformat(), "reference": f"P{n}"}
        ok(
            client.post(
                f"/v1/plans/{slot.plan_id}/payments",
                json=paid,
                headers={**mine, "Idempotency-Key": f"pay-{n}"},
            ),
            201,
        )
        slot.request_id = ok(
            client.post(
                f"/s/{token_of(slot.offer)}/change/requests",
                json={"payment": "500.00", "choice": "as_proposed"},
            ),
            201,
        )["id"]
        together = {
            "debtor": {"name": "张小明"},
            "negotiate": {
                "debts": [{"ref": f"GROUP-{n}-{x}", **DEBT} for x in "AB"],
                "capacity": {"payment": "2000.00"},
            },
        }
        grouped = ok(client.post("/v1/offers", json=together, headers=mine), 201)
        accepted = ok(client.post(f"/s/{token_of(grouped)}/accept"), 201)
        slot.consolidated_plan_id = accepted["consolidated"]["consolidated_plan_id"]
        open_body = {**body, "debt_ref": f"OPEN-{n}"}
        slot.open_offer = ok(client.post("/v1/offers", json=open_body, headers=mine), 201)
        slots[caller] = slot
    with claimable_now():  # at night in Shanghai the confirmations are due in the morning
        claimed = ok(client.get("/v1/outbox?limit=500", headers=_bearer(acme_finance)))["messages"]
    for caller, message in zip(CALLERS, claimed, strict=False):
        slots[caller].message = message
    policies = ok(client.get("/v1/policies", headers=_bearer(acme_finance)))["policies"]
    return World(client, headers, slots, policies[0]["id"], prefix)


def _requests(world: World, s: Slot, n: int) -> dict[str, tuple[str, str, Any]]:
    """For each operation: (method, path, JSON body) on slot ``s``."""
    plan, offer, token = s.plan_id, s.offer["id"], token_of(s.offer)
    open_token = token_of(s.open_offer)
    today = date.today()
    return {
        "GET /healthz": ("get", "/healthz", None),
        "GET /readyz": ("get", "/readyz", None),
        "POST /v1/offers/negotiate": (
            "post",
            "/v1/offers/negotiate",
            {"debt": DEBT, "capacity": {"payment": "1000.00"}},
        ),
        "POST /v1/offers/counter": (
            "post",
            "/v1/offers/counter",
            {"debt": DEBT, "proposal": {"payment": "900.00"}},
        ),
        "POST /v1/offers": (
            "post",
            "/v1/offers",
            # the debt's plan still asks 2,000.00 (1,000.00 of 3,000.00 paid): a new offer for
            # it starts there (one live arrangement per debt)
            {"debt_ref": s.ref, "debtor": {"name": "张小明"}, "locale": "en", "plan": RESCHEDULE},
        ),
        "GET /v1/offers/{offer_id}": ("get", f"/v1/offers/{offer}", None),
        "POST /v1/offers/{offer_id}/revoke": (
            "post",
            f"/v1/offers/{s.open_offer['id']}/revoke",
            None,
        ),
        "POST /v1/plans/instalment": ("post", "/v1/plans/instalment", {"debt": DEBT, "term": 3}),
        "POST /v1/plans/deferral": (
            "post",
            "/v1/plans/deferral",
            {"debt": DEBT, "periods": 1, "term": 3},
        ),
        "POST /v1/plans/settlement": (
            "post",
            "/v1/plans/settlement",
            {"debt": {**DEBT, "days_past_due": 95}, "kind": "settlement_plan"},
        ),
        "POST /v1/plans/compare": (
            "post",
            "/v1/plans/compare",
            {"debt": DEBT, "offers": [{"kind": "instalment", "term": 3}]},
        ),
        "GET /v1/plans/{plan_id}": ("get", f"/v1/plans/{plan}", None),
        "GET /v1/plans/{plan_id}/payoff": ("get", f"/v1/plans/{plan}/payoff", None),
        "POST /v1/plans/{plan_id}/payments": (
            "post",
            f"/v1/plans/{plan}/payments",
            {"amount": "10.00", "date": today.isoformat(), "reference": f"M{n}"},
        ),
        "GET /v1/consolidated-plans/{consolidated_plan_id}": (
            "get",
            f"/v1/consolidated-plans/{s.consolidated_plan_id}",
            None,
        ),
        "POST /v1/consolidated-plans/{consolidated_plan_id}/payments": (
            "post",
            f"/v1/consolidated-plans/{s.consolidated_plan_id}/payments",
            {"amount": "10.00", "date": today.isoformat(), "reference": f"G{n}"},
        ),
        "POST /v1/rates/apr": (
            "post",
            "/v1/rates/apr",
            {
                "currency": "USD",
                "advances": [{"date": "2026-01-10", "amount": "1000.00"}],
                "payments": [{"date": "2026-02-10", "amount": "1010.00"}],
            },
        ),
        "POST /v1/rates/annual": (
            "post",
            "/v1/rates/annual",
            {
                "currency": "CNY",
                "advances": [{"date": "2026-01-10", "amount": "1000.00"}],
                "payments": [{"date": "2026-02-10", "amount": "1010.00"}],
                "method": "cn_irr",
            },
        ),
        "GET /v1/policies": ("get", "/v1/policies", None),
        "POST /v1/policies": ("post", "/v1/policies", {"name": f"p-{n}", "body": {}}),
        "GET /v1/policies/{policy_id}": ("get", f"/v1/policies/{world.policy_id}", None),
        "POST /v1/policies/{policy_id}/versions": (
            "post",
            f"/v1/policies/{world.policy_id}/versions",
            {"body": {"max_term_months": 12}},
        ),
        "GET /v1/policies/{policy_id}/versions/{version}": (
            "get",
            f"/v1/policies/{world.policy_id}/versions/1",
            None,
        ),
        "GET /v1/keys": ("get", "/v1/keys", None),
        "POST /v1/keys": ("post", "/v1/keys", {"role": "collector", "name": f"k{n}"}),
        "POST /v1/keys/{prefix}/revoke": (
            "post",
            f"/v1/keys/{world.acme_key_prefix}/revoke",
            None,
        ),
        "GET /v1/audit": ("get", f"/v1/audit?plan_id={plan}", None),
        "GET /v1/audit/verify": ("get", "/v1/audit/verify", None),
        "GET /s/{token}.ics": ("get", f"/s/{token}.ics", None),
        "GET /s/{token}.csv": ("get", f"/s/{token}.csv", None),
        "GET /s/{token}.json": ("get", f"/s/{token}.json", None),
        "POST /s/{token}/accept": ("post", f"/s/{open_token}/accept", None),
        "GET /s/{token}": ("get", f"/s/{token}", None),
        "GET /s/{token}/certificate": ("get", f"/s/{token}/certificate", None),
        "POST /s/{token}/preferences": (
            "post",
            f"/s/{token}/preferences",
            {"change": "opt_out", "channel": "sms"},
        ),
        "POST /v1/simulations": (
            "post",
            "/v1/simulations",
            SimulationRequest.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
        ),
        "PUT /v1/debts/{ref}": (
            "put",
            f"/v1/debts/{s.ref}",
            {"jurisdiction": "CN", "terms": DEBT},
        ),
        "GET /v1/debts/{ref}": ("get", f"/v1/debts/{s.ref}", None),
        "POST /v1/debts/{ref}/assignment": (
            "post",
            f"/v1/debts/{s.ref}/assignment",
            {"team": "north", "member_id": None},
        ),
        "POST /v1/debts/{ref}/parties": ("post", f"/v1/debts/{s.ref}/parties", PARTY),
        "GET /v1/debts/{ref}/parties": ("get", f"/v1/debts/{s.ref}/parties", None),
        "GET /v1/debts/{ref}/parties/{party_id}": (
            "get",
            f"/v1/debts/{s.ref}/parties/{s.party_id}",
            None,
        ),
        "PATCH /v1/debts/{ref}/parties/{party_id}": (
            "patch",
            f"/v1/debts/{s.ref}/parties/{s.party_id}",
            {"locale": "en"},
        ),
        "DELETE /v1/debts/{ref}/parties/{party_id}": (
            "delete",
            f"/v1/debts/{s.ref}/parties/{s.party_id}",
            None,
        ),
        "POST /v1/debts/{ref}/parties/{party_id}/reveal": (
            "post",
            f"/v1/debts/{s.ref}/parties/{s.party_id}/reveal",
            None,
        ),
        "POST /v1/contact-checks": (
            "post",
            "/v1/contact-checks",
            {"debt_ref": s.ref, "party_id": s.party_id, "channel": "phone"},
        ),
        "POST /v1/contact-attempts": (
            "post",
            "/v1/contact-attempts",
            {
                "debt_ref": s.ref,
                "party_id": s.party_id,
                "channel": "phone",
                # a Thursday morning in Shanghai, no holiday: within every rule of CN
                "at": "2026-11-26T10:00:00+08:00",
                "outcome": "no_answer",
            },
        ),
        "GET /v1/outbox": ("get", "/v1/outbox", None),
        "POST /v1/outbox/{message_id}/ack": (
            "post",
            f"/v1/outbox/{s.message['id']}/ack",
            {"claim_token": s.message["claim_token"]},
        ),
        "POST /v1/outbox/{message_id}/replies": (
            "post",
            f"/v1/outbox/{s.message['id']}/replies",
            # not an opt-out: the matrix changes nothing for the rows after it
            {"sender": s.message["to"], "text": "I will pay on Friday"},
        ),
        "GET /s/{token}/change": ("get", f"/s/{token}/change", None),
        "POST /s/{token}/change": ("post", f"/s/{token}/change", {"payment": "400.00"}),
        "POST /s/{token}/change/requests": (
            "post",
            f"/s/{token}/change/requests",
            {"payment": "400.00", "choice": "as_proposed"},
        ),
        "GET /s/{token}/change/requests/{request_id}": (
            "get",
            f"/s/{token}/change/requests/{s.request_id}",
            None,
        ),
        "GET /v1/change-requests": ("get", "/v1/change-requests", None),
        "GET /v1/change-requests/{request_id}": (
            "get",
            f"/v1/change-requests/{s.request_id}",
            None,
        ),
        "POST /v1/change-requests/{request_id}/decision": (
            "post",
            f"/v1/change-requests/{s.request_id}/decision",
            {"decision": "declined"},
        ),
        "POST /v1/plans/{plan_id}/decisions": (
            "post",
            f"/v1/plans/{plan}/decisions",
            {"decision": "cancel", "reason": "matrix"},
        ),
    }


def operations() -> list[str]:
    document = create_app().openapi()
    return sorted(
        f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method in methods
    )


def test_every_operation_has_its_row() -> None:
    assert sorted(EXPECTED) == operations()


@pytest.mark.parametrize("operation", sorted(EXPECTED))
def test_each_caller_gets_the_status_written_down(client: TestClient, operation: str) -> None:
    world = build(client)
    got = {}
    for n, caller in enumerate(CALLERS):
        method, path, body = _requests(world, world.slots[caller], n)[operation]
        extra = {"Idempotency-Key": f"{operation}-{caller}"} if "payments" in path else {}
        response = client.request(
            method, path, json=body, headers={**world.headers[caller], **extra}
        )
        got[caller] = response.status_code
    assert got == EXPECTED[operation]


def test_a_revoked_key_and_no_key_are_told_the_same(client: TestClient) -> None:
    world = build(client)
    for caller in ("revoked", "no_key"):
        answer = client.get(
            "/v1/plans/" + world.slots[caller].plan_id, headers=world.headers[caller]
        )
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
