"""app/core/access.py: organisations, teams and the debt as the thing that is owned.

On SQLite and PostgreSQL. The ``PROBE-1`` story is the one an attacker ran against the
service before debts were owned (a collector of another team added a party to a debt they
could not read, and the outbox then sent that party the plan and its link; or superseded the
debt's open offer, which broke the debtor's link): each step now answers the 404 of a debt
that does not exist, and nothing reaches the stranger.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy import text as sa_text
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.core.access import Action, Actor, can, reachable
from app.core.db import Base, get_sessionmaker, make_engine
from app.core.keys import create_key
from app.core.models import Debt, Organisation, Role, Team
from app.messaging.models import OutboxMessage
from tests.app.links.test_sharing import SMALL, accepted_plan, save, saved, token_of

Headers = dict[str, str]
PROBE = "PROBE-1"
MALLORY = {
    "role": "co_debtor",
    "name": "Mallory",
    "channels": {"email": "mallory@example.com"},
    "locale": "en",
    "time_zone": "Asia/Shanghai",
}
DEBTOR = {
    "role": "debtor",
    "name": "张小明",
    "channels": {"email": "zhang@example.cn", "sms": "+8613800138000"},
    "locale": "zh-CN",
    "time_zone": "Asia/Shanghai",
}


def bearer(role: str, name: str, **where: Any) -> Headers:
    with get_sessionmaker().begin() as session:
        plaintext, _ = create_key(session, role, name, **where)
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def people(client: TestClient) -> dict[str, Headers]:
    """Keys of one organisation's two teams, its finance, and of another organisation."""
    return {
        "alice": bearer("collector", "alice", organisation="acme", team="north"),
        "alan": bearer("collector", "alan", organisation="acme", team="north"),
        "bob": bearer("collector", "bob", organisation="acme", team="south"),
        "north_lead": bearer("supervisor", "north lead", organisation="acme", team="north"),
        "south_lead": bearer("supervisor", "south lead", organisation="acme", team="south"),
        "finance": bearer("finance", "acme finance", organisation="acme"),
        "processor": bearer("finance", "processor", organisation="acme", service=True),
        "admin": bearer("admin", "acme admin", organisation="acme"),
        "eve": bearer("admin", "eve", organisation="globex"),
    }


def offer_for(client: TestClient, who: Headers, ref: str = PROBE) -> dict[str, Any]:
    return saved(client, who, debt_ref=ref, plan=SMALL)


def test_a_stranger_cannot_add_a_party_to_a_debt_or_supersede_its_offer(
    client: TestClient, people: dict[str, Headers]
) -> None:
    offer = offer_for(client, people["alice"])
    debtor = client.post(f"/v1/debts/{PROBE}/parties", json=DEBTOR, headers=people["alice"])
    assert debtor.status_code == 201, debtor.text
    # bob works another team of the same organisation: its PROBE-1 is out of his reach
    added = client.post(f"/v1/debts/{PROBE}/parties", json=MALLORY, headers=people["bob"])
    assert added.status_code == 404, added.text
    assert added.json()["detail"] == f"There is no debt {PROBE}."
    newer = save(client, people["bob"], debt_ref=PROBE, plan=SMALL)
    assert newer.status_code == 404, newer.text
    # eve's organisation has no PROBE-1: what she makes is a debt of her own, no harm to this
    for made in (
        client.post(f"/v1/debts/{PROBE}/parties", json=MALLORY, headers=people["eve"]),
        save(client, people["eve"], debt_ref=PROBE, plan=SMALL),
    ):
        assert made.status_code == 201, made.text
    # the same answers as for a debt that does not exist at all
    unknown = client.get("/v1/debts/NO-SUCH-DEBT", headers=people["bob"])
    hidden = client.get(f"/v1/debts/{PROBE}", headers=people["bob"])
    assert (hidden.status_code, hidden.json()["title"]) == (
        unknown.status_code,
        unknown.json()["title"],
    )
    assert client.get(f"/v1/offers/{offer['id']}", headers=people["alice"]).json()["status"] == (
        "offered"
    )
    plan_id = accepted_plan(client, offer)
    with get_sessionmaker()() as session:
        sent_to = set(
            session.scalars(select(OutboxMessage.party_id).where(OutboxMessage.plan_id == plan_id))
        )
    assert sent_to == {debtor.json()["id"]}
    # eve's own PROBE-1 is another debt of another organisation, with no part in this plan
    assert client.get(f"/v1/plans/{plan_id}", headers=people["eve"]).status_code == 404


def test_a_team_works_its_debts_together(client: TestClient, people: dict[str, Headers]) -> None:
    offer = offer_for(client, people["alice"])
    plan_id = accepted_plan(client, offer)
    for who, status in [
        ("alan", 200),
        ("north_lead", 200),
        ("finance", 200),
        ("processor", 200),
        ("admin", 200),
        ("bob", 404),
        ("south_lead", 404),
        ("eve", 404),
    ]:
        assert client.get(f"/v1/plans/{plan_id}", headers=people[who]).status_code == status, who
        audit = client.get("/v1/audit", params={"plan_id": plan_id}, headers=people[who])
        assert audit.status_code == status, who
    # a teammate records a payment on alice's plan; a processor's service key does too
    for who, reference in (("alan", "WX-1"), ("processor", "BANK-1")):
        paid = client.post(
            f"/v1/plans/{plan_id}/payments",
            json={"amount": "100.00", "date": offer["created_at"][:10], "reference": reference},
            headers={**people[who], "Idempotency-Key": reference},
        )
        assert paid.status_code == 201, paid.text


def test_supervisors_reassign_their_teams_debts(
    client: TestClient, people: dict[str, Headers]
) -> None:
    offer_for(client, people["alice"])
    move = {"team": "south", "member_id": None}
    for who in ("alice", "south_lead"):  # a collector may not; nor another team's supervisor
        refused = client.post(f"/v1/debts/{PROBE}/assignment", json=move, headers=people[who])
        assert refused.status_code == (403 if who == "alice" else 404), refused.text
    moved = client.post(f"/v1/debts/{PROBE}/assignment", json=move, headers=people["north_lead"])
    assert moved.status_code == 200, moved.text
    assert moved.json() == {"team": "south", "member_id": None, "member": None}
    assert client.get(f"/v1/debts/{PROBE}", headers=people["alice"]).status_code == 404
    seen = client.get(f"/v1/debts/{PROBE}", headers=people["bob"])
    assert seen.status_code == 200 and seen.json()["assigned"]["team"] == "south"
    nowhere = client.post(
        f"/v1/debts/{PROBE}/assignment", json={"team": "east"}, headers=people["admin"]
    )
    assert nowhere.status_code == 422
    assert nowhere.json()["errors"][0]["field"] == "team"
    with get_sessionmaker()() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "debt_reassigned")
        ).one()
    assert event.payload["from"]["team"] == "north" and event.payload["to"]["team"] == "south"


def test_nothing_crosses_organisations(client: TestClient, people: dict[str, Headers]) -> None:
    offer = offer_for(client, people["alice"])
    assert client.get(f"/v1/offers/{offer['id']}", headers=people["eve"]).status_code == 404
    assert client.post(f"/s/{token_of(offer)}/accept").status_code == 201
    # finance lists its own organisation's events only; eve's organisation has none of them
    acme = client.get("/v1/audit", headers=people["finance"]).json()["events"]
    globex = client.get("/v1/audit", headers=people["eve"]).json()["events"]
    assert {e["kind"] for e in acme} >= {"offer_saved", "offer_accepted"}
    assert not {e["offer_id"] for e in globex} & {offer["id"]}
    # keys and policies are each organisation's
    listed = client.get("/v1/keys", headers=people["eve"]).json()["keys"]
    assert [k["name"] for k in listed] == ["eve"]
    acme_policies = client.get("/v1/policies", headers=people["finance"]).json()["policies"]
    policy_id = acme_policies[0]["id"]
    assert client.get(f"/v1/policies/{policy_id}", headers=people["eve"]).status_code == 404
    negotiate = client.post(
        "/v1/offers/negotiate",
        json={
            "debt": SMALL["debt"],
            "capacity": {"payment": "1000.00"},
            "policy": {"id": policy_id},
        },
        headers=people["eve"],
    )
    assert negotiate.status_code == 404, negotiate.text


# ---- the rule and its SQL form agree ---------------------------------------------------------


def test_can_and_reachable_agree_on_every_role_team_and_action() -> None:
    """``can`` judges one debt; ``reachable`` is the same rule as a query, for lists. Every
    combination of role, team (own, other, none), organisation and action must agree."""
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        orgs = [Organisation(id=i, name=f"o{i}") for i in (1, 2)]
        teams = [Team(id=10 + i, organisation_id=1 + i // 2, name=f"t{i}") for i in range(4)]
        session.add_all([*orgs, *teams])
        session.flush()
        debts = [
            Debt(id=f"d{t.id}", organisation_id=t.organisation_id, ref=f"R{t.id}", team_id=t.id)
            for t in teams
        ]
        session.add_all(debts)
        session.flush()
        checked = 0
        for role, team, org, action in itertools.product(Role, (None, 10, 11, 12), (1, 2), Action):
            who = Actor(1, "p", role.value, "n", organisation_id=org, team_id=team)
            listed = set(session.scalars(select(Debt.id).where(reachable(who, action))))
            assert listed == {d.id for d in debts if can(who, action, d)}, (who, action)
            checked += 1
        assert checked == 4 * 4 * 2 * 3


# ---- the migration moves what was there into the default organisation ------------------------


def test_the_migration_moves_existing_data_into_the_default_organisation(
    client: TestClient, migrated_url: str
) -> None:
    """Data made as before organisations (one tenant: keys, a policy, debts known by their
    offers, parties and attempts, one with recorded terms) is taken down to revision 0006 and
    up again: every key is a member's of the default organisation, collectors in its default
    team; every reference is one debt there, and every offer, party, attempt, message and change
    request names it; the audit chain still verifies."""
    from alembic import command

    from app.audit.trail import verify
    from app.core.migrate import alembic_config, upgrade
    from app.core.models import ApiKey, Member
    from app.finance.models import Policy
    from app.links.models import SavedOffer

    collector = bearer("collector", "agent")
    finance = bearer("finance", "finance")
    recorded = client.put(
        "/v1/debts/OLD-1", json={"jurisdiction": "GB", "terms": SMALL["debt"]}, headers=collector
    )
    assert recorded.status_code == 201, recorded.text
    for ref in ("OLD-1", "OLD-2"):
        offer = offer_for(client, collector, ref)
        assert (
            client.post(f"/v1/debts/{ref}/parties", json=DEBTOR, headers=collector).status_code
            == 201
        )
    accepted_plan(client, offer)  # OLD-2's: messages to its debtor are queued
    assert client.get("/v1/policies", headers=finance).status_code == 200
    command.downgrade(alembic_config(migrated_url), "0006")
    upgrade(migrated_url)
    with get_sessionmaker()() as session:
        [organisation] = session.scalars(select(Organisation)).all()
        [team] = session.scalars(select(Team)).all()
        assert (organisation.name, team.name, team.organisation_id) == (
            "default",
            "default",
            organisation.id,
        )
        for key in session.scalars(select(ApiKey)):
            member = session.get(Member, key.member_id)
            assert member is not None and key.organisation_id == organisation.id
            assert member.team_id == (team.id if key.role == "collector" else None)
        debts = {d.ref: d for d in session.scalars(select(Debt))}
        assert set(debts) == {"OLD-1", "OLD-2"}
        assert (debts["OLD-1"].jurisdiction, debts["OLD-2"].terms) == ("GB", None)
        for offer_row in session.scalars(select(SavedOffer)):
            assert offer_row.debt_id == debts[offer_row.debt_ref].id
        for table in ("parties", "contact_attempts", "outbox", "change_requests"):
            orphans = session.execute(
                sa_text(f"SELECT count(*) FROM {table} WHERE debt_id IS NULL")
            ).scalar_one()
            assert orphans == 0, table
        assert session.execute(sa_text("SELECT count(*) FROM outbox")).scalar_one() > 0
        assert {p.organisation_id for p in session.scalars(select(Policy))} == {organisation.id}
        assert verify(session).ok
    # and the service works on it as before: the collector's team still has its debts
    assert client.get("/v1/debts/OLD-1", headers=collector).json()["jurisdiction"] == "GB"
