"""Policy values that would make a computation undefined are refused when the policy is written
(plans/policy.py ``_check_policy``, ``POST /v1/policies`` and ``/versions``).

A simulation weighs each payment by ``monthly_retention ** months`` counted from every other
payment, negative powers included: a retention of 0 raised ``ZeroDivisionError`` in
``plans/simulation/timeline.py`` once stored. It is now a 422 naming ``positive_retention``.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.core.db import get_sessionmaker
from app.finance.models import Policy as PolicyRow
from schemas.simulations import SimulationRequest

Headers = dict[str, dict[str, str]]
PORTFOLIO: dict[str, Any] = SimulationRequest.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]
NO_RETENTION = {"survival": {"instalment": {"take_up": "0.70", "monthly_retention": "0"}}}
FIELD = "policy.survival.instalment.monthly_retention"


def policies() -> int:
    with get_sessionmaker()() as session:
        return session.scalar(select(func.count()).select_from(PolicyRow)) or 0


def assert_refused(response: Any) -> None:
    assert response.status_code == 422, response.text
    errors = [(e["field"], e["rule"]) for e in response.json()["errors"]]
    assert errors == [(FIELD, "positive_retention")]


def test_a_retention_of_zero_is_refused_when_a_policy_is_made(
    client: TestClient, auth: Headers
) -> None:
    before = policies()

    made = client.post(
        "/v1/policies", json={"name": "p-0", "body": NO_RETENTION}, headers=auth["finance"]
    )

    assert_refused(made)
    assert policies() == before


def test_a_retention_of_zero_is_refused_in_a_new_version(client: TestClient, auth: Headers) -> None:
    made = client.post("/v1/policies", json={"name": "p-1", "body": {}}, headers=auth["finance"])
    assert made.status_code == 201, made.text
    url = f"/v1/policies/{made.json()['id']}/versions"

    assert_refused(client.post(url, json={"body": NO_RETENTION}, headers=auth["finance"]))
    assert (
        client.get(f"/v1/policies/{made.json()['id']}", headers=auth["finance"]).json()["version"]
        == 1
    )


@pytest.mark.parametrize("take_up", ["0", "1"])
def test_a_simulation_runs_under_the_default_policy_and_a_take_up_of_zero(
    client: TestClient, auth: Headers, take_up: str
) -> None:
    body: dict[str, Any] = dict(PORTFOLIO)
    if take_up == "0":
        curve = {"take_up": "0", "monthly_retention": "0.9"}
        made = client.post(
            "/v1/policies",
            json={"name": "p-nobody", "body": {"survival": {"instalment": curve}}},
            headers=auth["finance"],
        )
        assert made.status_code == 201, made.text
        body["policy"] = {"id": made.json()["id"]}

    simulated = client.post("/v1/simulations", json=body, headers=auth["finance"])

    assert simulated.status_code == 200, simulated.text


def test_a_pay_link_with_an_unknown_placeholder_is_refused_with_a_422_naming_field_and_rule(
    client: TestClient, auth: Headers
) -> None:
    body = {"messages": {"pay_link": "https://pay.example.com/{debtor_name}"}}
    made = client.post("/v1/policies", json={"name": "m-1", "body": body}, headers=auth["finance"])
    assert made.status_code == 422, made.text
    errors = [(e["field"], e["rule"]) for e in made.json()["errors"]]
    assert errors == [("body.messages.pay_link", "known_placeholders")]
