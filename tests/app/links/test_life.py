"""A plan's recorded life through the service (``app/links/plans.py``: ``advance``, ``decide``,
``review_plans``; acceptance that replaces, in ``app/links/sharing.py``), on SQLite and
PostgreSQL.

SMALL (tests/app/links/test_sharing.py) is 3,000.00 in three instalments of 1,000.00 a month
apart under the default policy's interest freeze: late the day after a payment date, missed 15
days after it, broken 30 days after it (break_after_days_late), no cure.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.audit.models import AuditEvent
from app.cli import app as cli
from app.core.db import get_sessionmaker
from app.links.models import AcceptedPlan, PlanTransition
from app.messaging.models import OutboxMessage
from tests.app.links.test_sharing import SMALL, accepted_plan, debt, pay, saved, token_of
from tests.app.messaging.outbox_support import CN_DEBTOR, Headers, add

ONE_PAID = {**SMALL, "debt": debt(principal="2000.00", interest="0", fees="0"), "term": 4}


def plan(client: TestClient, headers: dict[str, str], plan_id: str, on: date | None = None) -> Any:
    params = {} if on is None else {"on": on.isoformat()}
    answer = client.get(f"/v1/plans/{plan_id}", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def moves(document: Any) -> list[tuple[str, str, str]]:
    return [(t["on"], t["to_status"], t["cause"]) for t in document["transitions"]]


def review(on: date) -> str:
    ran = CliRunner().invoke(cli, ["plans", "review", "--on", on.isoformat()])
    assert ran.exit_code == 0, ran.output
    return ran.output


def recorded(plan_id: str) -> list[tuple[str, str, str, str]]:
    with get_sessionmaker()() as session:
        return [
            (t.on.isoformat(), t.from_state, t.to_state, t.cause)
            for t in session.scalars(
                select(PlanTransition)
                .where(PlanTransition.plan_id == plan_id)
                .order_by(PlanTransition.seq)
            )
        ]


def outbox(plan_id: str, status: str) -> int:
    with get_sessionmaker()() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.plan_id == plan_id, OutboxMessage.status == status)
            )
            or 0
        )


def test_the_daily_job_records_each_transition_once(client: TestClient, auth: Headers) -> None:
    plan_id = accepted_plan(client, saved(client, auth["collector"]))
    first = date.fromisoformat(
        plan(client, auth["collector"], plan_id)["instalments"][0]["payment_date"]
    )
    # 31 days after the first payment date: late (day 1), missed (day 15), broken (day 30)
    on = first + timedelta(days=31)
    assert "Recorded 3 plan transitions" in review(on)
    assert "Recorded 0 plan transitions" in review(on)  # idempotent: the same day again
    days = [(first + timedelta(days=n)).isoformat() for n in (1, 15, 30)]
    assert recorded(plan_id) == [
        (days[0], "active", "late", "date"),
        (days[1], "late", "missed", "date"),
        (days[2], "missed", "broken", "date"),
    ]
    with get_sessionmaker()() as session:
        row = session.get(AcceptedPlan, plan_id)
        assert row is not None
        assert (row.state, row.state_since, row.reviewed_through) == (
            "broken",
            first + timedelta(30),
            on,
        )
        audited = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.kind == "plan_transition", AuditEvent.plan_id == plan_id)
        )
    assert audited == 3
    # what the API says on any day is what the record says up to it
    assert moves(plan(client, auth["collector"], plan_id, on)) == [
        (d, s, "date") for d, s in zip(days, ("late", "missed", "broken"), strict=True)
    ]
    assert moves(plan(client, auth["collector"], plan_id, first + timedelta(days=20))) == [
        (days[0], "late", "date"),
        (days[1], "missed", "date"),
    ]


def test_a_late_payment_does_not_heal_a_broken_plan(client: TestClient, auth: Headers) -> None:
    plan_id = accepted_plan(client, saved(client, auth["collector"]))
    first = date.fromisoformat(
        plan(client, auth["collector"], plan_id)["instalments"][0]["payment_date"]
    )
    review(first + timedelta(days=30))  # broken on day 30
    assert pay(client, auth["collector"], plan_id, "1000.00", "late-1").status_code == 201
    after = plan(client, auth["collector"], plan_id, first + timedelta(days=31))
    assert after["status"] == "broken"
    assert after["instalments"][0]["status"] == "paid"  # paid, but the break stands


def test_history_on_a_day_never_changes(client: TestClient, auth: Headers) -> None:
    plan_id = accepted_plan(client, saved(client, auth["collector"]))
    today = date.today()
    before = plan(client, auth["collector"], plan_id, today)
    assert (before["paid"], before["outstanding"]) == ("0.00", "3000.00")
    yesterday_answer = plan(client, auth["collector"], plan_id, today - timedelta(days=1))
    assert pay(client, auth["collector"], plan_id, "1000.00", "p-1").status_code == 201
    # a payment known today is not known yesterday
    assert plan(client, auth["collector"], plan_id, today - timedelta(days=1)) == yesterday_answer
    now = plan(client, auth["collector"], plan_id, today)
    assert (now["paid"], now["outstanding"], now["status"]) == ("1000.00", "2000.00", "active")


def test_paying_everything_completes_the_plan_once(client: TestClient, auth: Headers) -> None:
    plan_id = accepted_plan(client, saved(client, auth["collector"]))
    assert pay(client, auth["collector"], plan_id, "3000.00", "all").status_code == 201
    today = date.today().isoformat()
    assert recorded(plan_id) == [(today, "active", "completed", "payment")]
    # money after completion is still recorded (and handed back), never lost
    extra = pay(client, auth["collector"], plan_id, "10.00", "extra")
    assert extra.status_code == 201 and extra.json()["refunded"] == "10.00"
    assert len(recorded(plan_id)) == 1


def test_a_reschedule_replaces_the_plan(client: TestClient, auth: Headers) -> None:
    """The story of the issue: a debtor accepts P1, misses, asks for a change on their page;
    the collector answers with a new offer from what P1 still asks; the debtor accepts P2."""
    collector = auth["collector"]
    add(client, auth, CN_DEBTOR)
    first_offer = saved(client, collector)
    p1 = accepted_plan(client, first_offer)
    assert pay(client, collector, p1, "1000.00", "p1-pay-1").status_code == 201
    reminders_p1 = outbox(p1, "pending")
    assert reminders_p1 > 0
    # The debtor asks for a change on their page: 500.00 a month.
    token = token_of(first_offer)
    asked = client.post(
        f"/s/{token}/change/requests", json={"payment": "500.00", "choice": "as_proposed"}
    )
    assert asked.status_code == 201, asked.text
    # The plan still asks 2,000.00 (3,000.00 less 1,000.00 paid): an offer from the original
    # debt would be a second arrangement on the same debt.
    p1_now = plan(client, collector, p1)
    assert p1_now["still_owed"] == {
        "principal": "2000.00",
        "interest": "0.00",
        "fees": "0.00",
        "total": "2000.00",
    }
    refused = client.post(
        "/v1/offers",
        json={
            "debt_ref": "CARD-1",
            "debtor": {"name": "John Smith"},
            "locale": "en",
            "plan": SMALL,
        },
        headers=collector,
    )
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert (error["field"], error["rule"]) == ("plan.debt", "one_live_arrangement")
    assert "principal 2000.00, interest 0.00, fees 0.00" in error["detail"]
    second_offer = saved(client, collector, plan=ONE_PAID)
    decided = client.post(
        f"/v1/change-requests/{asked.json()['id']}/decision",
        json={"decision": "offered", "offer_id": second_offer["id"]},
        headers=collector,
    )
    assert decided.status_code == 200, decided.text
    p2 = accepted_plan(client, second_offer)
    # P1 is replaced, in the same transaction, and names P2; P2 names P1.
    old, new = plan(client, collector, p1), plan(client, collector, p2)
    assert (old["status"], old["replaced_by"]) == ("replaced", p2)
    assert (new["status"], new["replaces"]) == ("active", p1)
    assert moves(old)[-1] == (date.today().isoformat(), "replaced", "decision")
    # P2 is 4 x 500.00: it starts from what P1 still asked, not from the original debt
    assert [i["due"] for i in new["instalments"]] == ["500.00"] * 4
    # P1's reminders not yet sent are withdrawn; P2 has its own; nothing sent is lost
    assert outbox(p1, "pending") == 0
    assert outbox(p1, "cancelled") >= reminders_p1
    assert outbox(p2, "pending") > 0
    # A payment to P1 is refused, naming P2; a retry of one it took answers as the first time.
    late = pay(client, collector, p1, "500.00", "p1-pay-2")
    assert late.status_code == 409, late.text
    assert late.json()["replaced_by"] == p2 and p2 in late.json()["detail"]
    retry = pay(client, collector, p1, "1000.00", "p1-pay-1")
    assert retry.status_code == 200, retry.text
    assert retry.json()["amount"] == "1000.00"
    # P1's page says it was replaced and offers no change any more
    page = client.get(f"/s/{token}?lang=en")
    assert "This plan has been replaced by a new one" in page.text
    assert f"/s/{token}/change" not in page.text


def test_an_offer_made_before_a_payment_cannot_replace_the_plan(
    client: TestClient, auth: Headers
) -> None:
    collector = auth["collector"]
    p1 = accepted_plan(client, saved(client, collector))
    second = saved(client, collector, plan={**SMALL, "term": 6})
    assert pay(client, collector, p1, "1000.00", "between").status_code == 201
    refused = client.post(f"/s/{token_of(second)}/accept")
    assert refused.status_code == 409 and refused.json()["type"].endswith("/plan-changed")
    assert plan(client, collector, p1)["status"] == "active"


def test_decisions_close_a_plan(client: TestClient, auth: Headers) -> None:
    plan_id = accepted_plan(client, saved(client, auth["collector"]))
    url = f"/v1/plans/{plan_id}/decisions"
    body = {"decision": "write_off", "reason": "deceased"}
    assert client.post(url, json=body, headers=auth["collector"]).status_code == 403
    cancelled = client.post(
        url, json={"decision": "cancel", "reason": "dispute upheld"}, headers=auth["collector"]
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert moves(cancelled.json()) == [(date.today().isoformat(), "cancelled", "decision")]
    again = client.post(url, json=body, headers=auth["finance"])
    assert again.status_code == 409
    paid = pay(client, auth["collector"], plan_id, "10.00", "after")
    assert paid.status_code == 409 and paid.json()["type"].endswith("/plan-closed")


def test_a_break_is_cured_where_the_policy_allows_it(client: TestClient, auth: Headers) -> None:
    # A policy that cures a break whose arrears are paid within 10 days of it.
    created = client.post(
        "/v1/policies",
        json={"name": "curable", "body": {"cure_within_days": 10}},
        headers=auth["finance"],
    )
    assert created.status_code == 201, created.text
    policy = {"id": created.json()["id"]}
    plan_id = accepted_plan(
        client, saved(client, auth["collector"], plan={**SMALL, "policy": policy})
    )
    first = date.fromisoformat(
        plan(client, auth["collector"], plan_id)["instalments"][0]["payment_date"]
    )
    review(first + timedelta(days=30))  # broken on day 30: instalment 1 is 30 days late
    # Instalment 1 paid now (known on day 30, within the window): the plan is cured and back on
    # its schedule; instalment 2 is not due yet (a month after the first).
    assert pay(client, auth["collector"], plan_id, "1000.00", "cure").status_code == 201
    cured = plan(client, auth["collector"], plan_id, first + timedelta(days=30))
    assert cured["status"] == "cured" and cured["broken_reason"] is None
    assert moves(cured)[-2:] == [
        ((first + timedelta(30)).isoformat(), "broken", "date"),
        ((first + timedelta(30)).isoformat(), "cured", "payment"),
    ]


def test_a_write_off_closes_a_plan_and_withdraws_its_reminders(
    client: TestClient, auth: Headers
) -> None:
    add(client, auth, CN_DEBTOR)
    plan_id = accepted_plan(client, saved(client, auth["collector"]))
    pending = outbox(plan_id, "pending")
    assert pending > 0
    written = client.post(
        f"/v1/plans/{plan_id}/decisions",
        json={"decision": "write_off", "reason": "debtor deceased"},
        headers=auth["finance"],
    )
    assert written.status_code == 200, written.text
    assert written.json()["status"] == "written_off"
    assert recorded(plan_id) == [(date.today().isoformat(), "active", "written_off", "decision")]
    assert (outbox(plan_id, "pending"), outbox(plan_id, "cancelled")) == (0, pending)
