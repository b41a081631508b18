"""Free text refuses control characters: a 422 naming the field and ``no_control_characters``,
and nothing written (schemas/common.py ``OneLine``/``MultiLine``, app/core/errors.py).

PostgreSQL refuses NUL in text: before these patterns a NUL in a name or a reference reached
the database and came back a 500 ``text/plain``. Each case feeds a NUL to one field, on SQLite
and on PostgreSQL, and counts every table's rows before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.core.db import Base, get_sessionmaker
from schemas.contact_rules import shipped_contact_rules
from schemas.contacts import PartyIn
from schemas.simulations import SimulationRequest
from tests.app.links.test_sharing import SMALL, accepted_plan, saved

Headers = dict[str, dict[str, str]]
NUL = "a\x00b"
NOBODY = "0" * 32
PARTY: dict[str, Any] = PartyIn.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]
PORTFOLIO: dict[str, Any] = SimulationRequest.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]


def rows() -> dict[str, int]:
    with get_sessionmaker()() as session:
        return {
            t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


def contact_with(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    contact = shipped_contact_rules().model_dump(mode="json")
    change(contact)
    return contact


def _edition(contact: dict[str, Any]) -> None:
    contact["edition"] = NUL


def _rule_text(contact: dict[str, Any]) -> None:
    contact["jurisdictions"][0]["hours"][0]["text"] = NUL


def _rule_source(contact: dict[str, Any]) -> None:
    contact["jurisdictions"][0]["hours"][0]["source"] = "line\nbreak"


# (caller, method, path, body, the field the 422 names); ``{plan}``/``{party}`` are filled in
CASES: list[tuple[str, str, str, dict[str, Any], str]] = [
    ("admin", "post", "/v1/keys", {"role": "collector", "name": NUL}, "name"),
    ("admin", "post", "/v1/keys", {"role": "collector", "name": "two\nlines"}, "name"),
    (
        "collector",
        "post",
        "/v1/offers",
        {"debt_ref": "CARD-2", "debtor": {"name": NUL}, "locale": "en", "plan": SMALL},
        "debtor.name",
    ),
    (
        "collector",
        "post",
        "/v1/plans/{plan}/payments",
        {"amount": "10.00", "date": "2026-12-01", "reference": NUL},
        "reference",
    ),
    ("collector", "post", "/v1/debts/CARD-1/parties", {**PARTY, "name": NUL}, "name"),
    ("collector", "post", "/v1/debts/CARD-1/parties", {**PARTY, "time_zone": NUL}, "time_zone"),
    ("collector", "patch", "/v1/debts/CARD-1/parties/{party}", {"name": NUL}, "name"),
    (
        "finance",
        "post",
        "/v1/policies",
        {"name": "p-nul", "body": {"missed_payment_text": {"en": NUL}}},
        "body.missed_payment_text.en",
    ),
    (
        "finance",
        "post",
        "/v1/policies",
        {"name": "p-nul", "body": {"contact": contact_with(_edition)}},
        "body.contact.edition",
    ),
    (
        "finance",
        "post",
        "/v1/policies",
        {"name": "p-nul", "body": {"contact": contact_with(_rule_text)}},
        "body.contact.jurisdictions.0.hours.0.text",
    ),
    (
        "finance",
        "post",
        "/v1/policies",
        {"name": "p-nul", "body": {"contact": contact_with(_rule_source)}},
        "body.contact.jurisdictions.0.hours.0.source",
    ),
    (
        "finance",
        "post",
        "/v1/simulations",
        {**PORTFOLIO, "debts": [{**PORTFOLIO["debts"][0], "id": NUL}]},
        "debts.0.id",
    ),
    (
        "collector",
        "post",
        f"/v1/change-requests/{NOBODY}/decision",
        {"decision": "declined", "reason": NUL},
        "reason",
    ),
]


@pytest.mark.parametrize(("caller", "method", "path", "body", "field"), CASES)
def test_a_control_character_is_a_422_naming_the_field_and_writes_nothing(
    client: TestClient,
    auth: Headers,
    caller: str,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    offer = saved(client, auth["collector"])
    plan = accepted_plan(client, offer)
    party = client.post("/v1/debts/CARD-1/parties", json=PARTY, headers=auth["collector"])
    assert party.status_code == 201, party.text
    before = rows()

    url = path.format(plan=plan, party=party.json()["id"])
    response = client.request(method, url, json=body, headers=auth[caller])

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert {"field": field, "rule": "no_control_characters"} in [
        {"field": e["field"], "rule": e["rule"]} for e in errors
    ]
    assert rows() == before


def test_multi_line_text_keeps_its_line_feeds_and_tabs(client: TestClient, auth: Headers) -> None:
    text = "If a payment is missed:\n\t1. we write to you;\n\t2. we call."
    body = {"name": "p-lines", "body": {"missed_payment_text": {"en": text}}}

    made = client.post("/v1/policies", json=body, headers=auth["finance"])

    assert made.status_code == 201, made.text
