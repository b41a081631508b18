"""Bad input, drawn by hypothesis, on SQLite and PostgreSQL: a 4xx problem document naming the
field and the rule, and not one row written.

Three kinds of bad input, each a strategy:

- any C0 control character or DEL, anywhere in any one-line text field (a name, a reference, a
  time zone, a policy's edition): 422 ``no_control_characters`` (PostgreSQL refuses NUL in
  text; before the patterns a NUL there was a 500 ``text/plain``);
- a policy value that leaves a computation undefined (a month-on-month retention of 0: the
  simulation raises it to negative powers) or out of its range: 422 when the policy is written,
  never a 500 when it is used;
- a body over the documented 1 MiB, by any number of bytes: 413 before it is parsed.

``tests/app/test_control_characters.py`` pins one case per field by hand; this module draws.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.limits import MAX_BODY_BYTES
from schemas.contact_rules import shipped_contact_rules
from tests.app.links.test_sharing import accepted_plan, saved
from tests.app.test_control_characters import PARTY, rows

Headers = dict[str, dict[str, str]]
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CONTROL = st.one_of(st.characters(min_codepoint=0, max_codepoint=0x1F), st.just("\x7f"))
TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12)


@st.composite
def with_a_control_character(draw: st.DrawFn) -> str:
    """Printable text with one control character somewhere in it (at either end included)."""
    return draw(TEXT) + draw(CONTROL) + draw(TEXT)


def _set(body: dict[str, Any], path: str, value: str) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    node = copy
    for name in parents:
        node = node.setdefault(name, {})
    node[last] = value
    return copy


# (caller, method, path, a valid body, the one-line field to spoil)
ONE_LINE_FIELDS: list[tuple[str, str, str, dict[str, Any], str]] = [
    ("admin", "post", "/v1/keys", {"role": "collector", "name": "agent 7"}, "name"),
    (
        "collector",
        "post",
        "/v1/plans/{plan}/payments",
        {"amount": "10.00", "date": "2026-12-01", "reference": "WX-1"},
        "reference",
    ),
    ("collector", "post", "/v1/debts/CARD-1/parties", PARTY, "name"),
    ("collector", "post", "/v1/debts/CARD-1/parties", PARTY, "time_zone"),
    ("collector", "patch", "/v1/debts/CARD-1/parties/{party}", {"name": "Li"}, "name"),
    ("finance", "post", "/v1/policies", {"name": "p", "body": {}}, "body.contact.edition"),
]


@pytest.fixture
def spoilable(client: TestClient, auth: Headers) -> Callable[[str], str]:
    """A plan and a party to aim at; ``path.format`` for a case's path."""
    plan = accepted_plan(client, saved(client, auth["collector"]))
    party = client.post("/v1/debts/CARD-1/parties", json=PARTY, headers=auth["collector"])
    assert party.status_code == 201, party.text
    return lambda path: path.format(plan=plan, party=party.json()["id"])


@SETTINGS
@given(case=st.sampled_from(ONE_LINE_FIELDS), text=with_a_control_character())
def test_a_control_character_anywhere_in_one_line_text_writes_nothing(
    client: TestClient,
    auth: Headers,
    spoilable: Callable[[str], str],
    case: tuple[str, str, str, dict[str, Any], str],
    text: str,
) -> None:
    caller, method, path, body, field = case
    if field == "body.contact.edition":
        body = {**body, "body": {"contact": shipped_contact_rules().model_dump(mode="json")}}
    before = rows()

    response = client.request(
        method, spoilable(path), json=_set(body, field, text), headers=auth[caller]
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    named = [(e["field"], e["rule"]) for e in response.json()["errors"]]
    assert (field, "no_control_characters") in named
    assert rows() == before


KINDS = ("instalment", "deferral", "settlement", "settlement_plan")
# policy values the engine cannot compute with, each with the rule that refuses it
UNDEFINED = st.one_of(
    st.tuples(
        st.sampled_from(KINDS).map(lambda kind: f"survival.{kind}.monthly_retention"),
        st.sampled_from(["0", "0.0", "0.000000"]),
        st.just("positive_retention"),
    ),
    st.tuples(
        st.just("min_down_payment_pct"),  # 100 % down is a payoff, not a plan
        st.sampled_from(["100", "100.0", "100.00"]),
        st.just("range"),
    ),
)


@SETTINGS
@given(undefined=UNDEFINED)
def test_a_policy_that_leaves_a_computation_undefined_is_refused_when_written(
    client: TestClient, auth: Headers, undefined: tuple[str, str, str]
) -> None:
    field, value, rule = undefined
    body: dict[str, Any] = {}
    if field.startswith("survival."):
        _, kind, name = field.split(".")
        curve = {"take_up": "0.6", "monthly_retention": "0.9", name: value}
        body = {"survival": {kind: curve}}
    else:
        body = {field: value}
    before = rows()

    response = client.post(
        "/v1/policies", json={"name": "undefined", "body": body}, headers=auth["finance"]
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert rule in [e["rule"] for e in response.json()["errors"]]
    assert rows() == before


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(over=st.integers(min_value=1, max_value=64 * 1024))
def test_a_body_over_the_limit_is_a_413_and_writes_nothing(
    client: TestClient, auth: Headers, over: int
) -> None:
    padding = "x" * (MAX_BODY_BYTES + over)
    body = json.dumps({"debt_ref": "BIG-1", "debtor": {"name": padding}}).encode()
    before = rows()

    response = client.post(
        "/v1/offers",
        content=body,
        headers={**auth["collector"], "content-type": "application/json"},
    )

    assert response.status_code == 413, response.text[:200]
    assert response.headers["content-type"] == "application/problem+json"
    assert rows() == before
