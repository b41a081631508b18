"""Strict wire types: a date, an amount, an enum, a whole number or a flag of the wrong JSON
type is a 422 naming the field, never read as something else (``"date": 0`` once became
1970-01-01, ``include_offers: 0`` false), and nothing is stored.

The table gives, per kind of field, a field of a request that stores something (a saved offer)
or computes (a simulation), and every JSON type it must refuse.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.core.db import get_sessionmaker
from app.links.models import SavedOffer
from schemas.simulations import DEBT_EXAMPLE
from tests.app.links.test_sharing import SMALL

OFFER = {"debt_ref": "WIRE-1", "debtor": {"name": "John Smith"}, "locale": "en", "plan": SMALL}
SIMULATION = {"as_of": "2026-11-25", "debts": [DEBT_EXAMPLE]}

# JSON values of every type, by name
JSON: dict[str, Any] = {
    "zero": 0,
    "number": 20261125,
    "float": 1.5,
    "true": True,
    "false": False,
    "null": None,
    "object": {},
    "array": [],
    "digits": "0",
}
# kind -> (path, body, where in it, names of the JSON values it refuses)
FIELDS: dict[str, tuple[str, dict[str, Any], tuple[str, ...], tuple[str, ...]]] = {
    "date": (
        "/v1/offers",
        OFFER,
        ("plan", "debt", "as_of"),
        ("zero", "number", "float", "true", "null", "object", "array", "digits"),
    ),
    "amount": (
        "/v1/offers",
        OFFER,
        ("plan", "debt", "principal"),
        ("zero", "number", "float", "true", "null", "object", "array"),
    ),
    "enum": (
        "/v1/offers",
        OFFER,
        ("locale",),
        ("zero", "number", "float", "true", "object", "array", "digits"),
    ),
    "whole number": (
        "/v1/offers",
        OFFER,
        ("plan", "term"),
        ("float", "true", "false", "object", "array", "digits"),
    ),
    "flag": (
        "/v1/simulations",
        {**SIMULATION, "include_offers": False},
        ("include_offers",),
        ("zero", "number", "float", "null", "object", "array", "digits"),
    ),
}
CASES = [(kind, value) for kind, (*_, refused) in FIELDS.items() for value in refused]


def _with(body: dict[str, Any], where: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    inner = changed
    for key in where[:-1]:
        inner = inner[key]
    inner[where[-1]] = value
    return changed


def saved_offers() -> int:
    with get_sessionmaker()() as session:
        return int(session.scalar(select(func.count()).select_from(SavedOffer)) or 0)


def test_the_table_s_bodies_are_valid(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    for path, body, _, _ in FIELDS.values():
        response = client.post(path, json=body, headers=auth["admin"])
        assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize(("kind", "value"), CASES)
def test_a_field_of_the_wrong_json_type_is_a_422_naming_it(
    client: TestClient, auth: dict[str, dict[str, str]], kind: str, value: str
) -> None:
    path, body, where, _ = FIELDS[kind]
    response = client.post(path, json=_with(body, where, JSON[value]), headers=auth["admin"])
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    fields = [error["field"] for error in response.json()["errors"]]
    # the path through the document (a union's tag in it: "plan.instalment.debt.as_of")
    assert any(
        field.split(".")[0] == where[0] and field.split(".")[-1] == where[-1] for field in fields
    ), fields
    assert saved_offers() == 0


@pytest.mark.parametrize("value", ["2026-11-25", "2026-02-29", "26-11-25", "2026-11-25T00:00"])
def test_a_date_is_iso_text_and_a_real_day(
    client: TestClient, auth: dict[str, dict[str, str]], value: str
) -> None:
    response = client.post(
        "/v1/offers", json=_with(OFFER, ("plan", "debt", "as_of"), value), headers=auth["admin"]
    )
    assert (response.status_code == 201) == (value == "2026-11-25"), response.text
