"""app/core/routes/keys.py: revoking keys never locks an organisation out.

An admin cannot revoke the organisation's last active admin key (409 ``last_admin_key``), and
revokes their own key only with ``self=true`` (409 ``own_key`` without it).
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

Headers = dict[str, dict[str, str]]


def prefixes(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    listed = client.get("/v1/keys", headers=headers)
    assert listed.status_code == 200, listed.text
    return {k["name"]: k for k in listed.json()["keys"]}


def refused(response: Any, rule: str) -> None:
    assert response.status_code == 409, response.text
    assert [e["rule"] for e in response.json()["errors"]] == [rule]


def test_ones_own_key_needs_the_self_flag(client: TestClient, auth: Headers) -> None:
    admin = auth["admin"]
    made = client.post("/v1/keys", json={"role": "admin", "name": "second"}, headers=admin)
    assert made.status_code == 201, made.text
    mine = prefixes(client, admin)["test admin"]["prefix"]

    refused(client.post(f"/v1/keys/{mine}/revoke", headers=admin), "own_key")
    assert prefixes(client, admin)["test admin"]["revoked_at"] is None

    done = client.post(f"/v1/keys/{mine}/revoke", params={"self": "true"}, headers=admin)
    assert done.status_code == 200 and done.json()["revoked_at"] is not None
    assert client.get("/v1/keys", headers=admin).status_code == 401


def test_the_last_active_admin_key_stays(client: TestClient, auth: Headers) -> None:
    admin = auth["admin"]
    mine = prefixes(client, admin)["test admin"]["prefix"]

    last = client.post(f"/v1/keys/{mine}/revoke", params={"self": "true"}, headers=admin)

    refused(last, "last_admin_key")
    assert prefixes(client, admin)["test admin"]["revoked_at"] is None
    # a second admin may go, and then the first is the last again
    made = client.post("/v1/keys", json={"role": "admin", "name": "second"}, headers=admin)
    second = made.json()["prefix"]
    assert client.post(f"/v1/keys/{second}/revoke", headers=admin).status_code == 200
    refused(
        client.post(f"/v1/keys/{mine}/revoke", params={"self": "true"}, headers=admin),
        "last_admin_key",
    )


def test_other_keys_are_revoked_as_before(client: TestClient, auth: Headers) -> None:
    collector = prefixes(client, auth["admin"])["test collector"]["prefix"]

    first = client.post(f"/v1/keys/{collector}/revoke", headers=auth["admin"])
    again = client.post(f"/v1/keys/{collector}/revoke", headers=auth["admin"])

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["revoked_at"] == again.json()["revoked_at"]
