"""Consolidated offers on the wire (``schemas.wire.consolidated_json``), for any request the
contract takes: the allocations' decimal strings add up to each line and, per debt, to what
it owes plus its plan interest less what is waived; no regular payment asks more than the
capacity, and with a statement, no more than its affordable share; every answer validates
against ``ConsolidatedOfferOut``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plans.allocation import AllocationRule
from plans.compare import negotiate
from plans.consolidated_counter import counter_consolidated
from plans.consolidation import negotiate_consolidated
from plans.policy import Policy
from schemas.offer_answers import ConsolidatedCounterResult, ConsolidatedOfferOut
from schemas.offers import ConsolidatedCounterRequest, ConsolidatedNegotiateRequest
from schemas.wire import consolidated_counter_json, consolidated_json, offer_json

POLICY = {"id": 1, "name": "default", "version": 1}


def amount(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda cents: f"{cents // 100}.{cents % 100:02d}")


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(2, 10))
    debts = [
        {
            "ref": f"d{i}",
            "currency": "CNY",
            "principal": draw(amount(10_000, 5_000_000)),
            "interest": draw(amount(0, 50_000)),
            "fees": draw(amount(0, 20_000)),
            "nominal_annual_rate": draw(st.sampled_from(["0", "0.12", "0.18", "0.24"])),
            "as_of": "2026-11-25",
            "days_past_due": draw(st.integers(0, 800)),
        }
        for i in range(n)
    ]
    capacity: dict[str, Any] = {"lump_sum": draw(amount(0, 200_000))}
    if draw(st.booleans()):
        capacity["payment"] = draw(amount(20_000, 1_000_000))
    else:
        income = draw(st.integers(300_000, 2_000_000))
        capacity["statement"] = {
            "income": {"salary": f"{income // 100}.{income % 100:02d}"},
            "expenditure": {"food_and_housekeeping": draw(amount(0, income // 2))},
        }
    return {"debts": debts, "capacity": capacity}


def column_sum(rows: list[dict[str, str]], column: str) -> Decimal:
    return sum((Decimal(r[column]) for r in rows), Decimal(0))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    requests(),
    st.sampled_from(list(AllocationRule)),
    st.sampled_from([10_000, 8_000, 5_000]),
)
def test_allocations_add_up_and_fit_on_the_wire(
    body: dict[str, Any], rule: AllocationRule, share_bps: int
) -> None:
    request = ConsolidatedNegotiateRequest.model_validate(body)
    policy = Policy(allocation_rule=rule, affordable_share_bps=share_bps, max_term_months=120)
    capacity = request.capacity.to_engine("CNY", policy)
    afford = request.capacity.affordability("CNY", policy)
    if afford is not None:
        # the capacity a statement gives is its affordable share, never more
        assert capacity.payment_minor == afford.available_minor
    result = negotiate_consolidated(request.engine_debts(), capacity, policy=policy, rule=rule)
    for offer in result.ranked:
        document = consolidated_json(offer, summary="", allocation_text="", policy=POLICY)
        ConsolidatedOfferOut.model_validate(document)
        per_debt: dict[str, Decimal] = {}
        for line in document["schedule"]["lines"]:
            shares = line["allocations"]
            for column in ("payment", "principal", "interest", "fees", "waived"):
                assert column_sum(shares, column) == Decimal(line[column])
            if line["kind"] in ("instalment", "deferral"):
                assert Decimal(line["payment"]) <= Decimal(capacity.payment_minor) / 100
            for a in shares:
                paid = Decimal(a["payment"]) + Decimal(a["waived"])
                per_debt[a["debt_ref"]] = per_debt.get(a["debt_ref"], Decimal(0)) + paid
        for outcome in document["debts"]:
            owed = Decimal(outcome["owed"]) + Decimal(outcome["interest_accrued"])
            assert per_debt.get(outcome["debt_ref"], Decimal(0)) == owed


def test_the_property_is_not_vacuous() -> None:
    # a request the strategy can draw makes offers whose lines the property checks
    body = {
        "debts": [
            {"ref": f"d{i}", "currency": "CNY", "principal": "1000.00"}
            | {"nominal_annual_rate": "0.18", "as_of": "2026-11-25", "days_past_due": 95}
            for i in range(2)
        ],
        "capacity": {"statement": {"income": {"salary": "3000.00"}}},
    }
    request = ConsolidatedNegotiateRequest.model_validate(body)
    capacity = request.capacity.to_engine("CNY", Policy())
    assert capacity.payment_minor == 300_000
    result = negotiate_consolidated(request.engine_debts(), capacity, policy=Policy())
    assert [o.kind.value for o in result.ranked][:1] == ["instalment"]
    assert len(result.ranked[0].allocations[0]) == 2


@settings(max_examples=40, deadline=None)
@given(requests(), st.sampled_from(list(AllocationRule)))
def test_one_debt_on_the_wire_is_the_single_debt_offer(
    body: dict[str, Any], rule: AllocationRule
) -> None:
    # the consolidation of one debt answers exactly what the single-debt engine does: the same
    # lines, totals and metrics, every line allocated wholly to that debt
    request = ConsolidatedNegotiateRequest.model_validate(body)
    policy = Policy(allocation_rule=rule, max_term_months=120)
    capacity = request.capacity.to_engine("CNY", policy)
    (named, *_) = request.engine_debts()
    single = negotiate(named.debt, capacity, policy=policy)
    together = negotiate_consolidated([named], capacity, policy=policy, rule=rule)
    assert [o.kind for o in together.ranked] == [o.kind for o in single.ranked]
    for one, many in zip(single.ranked, together.ranked, strict=True):
        alone = offer_json(one, summary="", policy=POLICY)
        document = consolidated_json(many, summary="", allocation_text="", policy=POLICY)
        for line in document["schedule"]["lines"]:
            assert [a["debt_ref"] for a in line.pop("allocations")] == [named.ref]
        assert document["schedule"] == alone["schedule"]
        assert document["metrics"] == alone["metrics"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests(), st.sampled_from(list(AllocationRule)), st.none() | st.integers(1, 60))
def test_a_consolidated_counter_on_the_wire_is_its_answer(
    body: dict[str, Any], rule: AllocationRule, term: int | None
) -> None:
    # consolidated_counter_json validates against ConsolidatedCounterResult, whatever the
    # verdict, and every offer in it adds up as the negotiated ones do
    proposal: dict[str, Any] = {"lump_sum": body["capacity"]["lump_sum"]}
    payment = body["capacity"].get("payment")
    if term is not None:
        proposal["term"] = term
    if payment is not None or term is None:
        proposal["payment"] = payment or "500.00"
    request = ConsolidatedCounterRequest.model_validate(
        {"debts": body["debts"], "proposal": proposal}
    )
    policy = Policy(allocation_rule=rule)
    result = counter_consolidated(
        request.engine_debts(), request.proposal.to_engine("CNY"), policy=policy, rule=rule
    )
    document = consolidated_counter_json(
        result,
        rule=rule.value,
        render=lambda offer: consolidated_json(
            offer, summary="", allocation_text="", policy=POLICY
        ),
    )
    ConsolidatedCounterResult.model_validate(document)
    offers = [document["offer"]] if document["offer"] else []
    for offer in offers + [a["offer"] for a in document["alternatives"]]:
        for line in offer["schedule"]["lines"]:
            for column in ("payment", "principal", "interest", "fees", "waived"):
                assert column_sum(line["allocations"], column) == Decimal(line[column])
