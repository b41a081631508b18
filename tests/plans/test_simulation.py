"""plans/simulation.py: the vectorised portfolio simulation, held to the scalar engine.

The central test lays out every offer of every kind for a few hundred debts (synthetic ones,
and hand-made edge cases) under several policies with both paths, and compares them debt by
debt: feasibility and the rule that stopped an offer, the terms, the total paid, the waiver,
the APR (to 1e-6), the NPV and the expected recovery (to the minor unit), and which offer is
ranked first.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.compare import negotiate
from plans.daycount import DayCount
from plans.debt import MAX_AMOUNT_MINOR, Capacity, Debt
from plans.errors import DomainError
from plans.money import Rounding
from plans.policy import (
    ArrearsTreatment,
    Component,
    DeferralInterest,
    DiscountBand,
    InterestBasis,
    Policy,
)
from plans.simulation import (
    DPD_LABELS,
    MAX_GRID_POINTS,
    OFFER_COLUMNS,
    PORTFOLIO_COLUMNS,
    Simulation,
    _apr_ppm,
    combine,
    policy_grid,
    portfolio_frame,
    simulate,
)
from plans.synthetic import synthetic_portfolio

# The 25th: every due date keeps its day of month, so the simulation's whole-month APR is
# Reg Z's exactly (the simplification documented in plans.simulation).
AS_OF = date(2026, 11, 25)

POLICIES = {
    "defaults: interest freeze, CN holidays": Policy(),
    "contractual rate, no holidays": Policy(plan_rate=None, holiday_country=None),
    "waived arrears, accrued pause interest, 30 % cap": Policy(
        plan_rate=None,
        arrears=ArrearsTreatment.WAIVE,
        deferral_interest=DeferralInterest.ACCRUE,
        rate_cap=Decimal("0.30"),
    ),
    "waived pause interest, half-even, interest first, 12 months, no down payment": Policy(
        plan_rate=None,
        deferral_interest=DeferralInterest.WAIVE,
        rounding=Rounding.HALF_EVEN,
        waterfall=(Component.INTEREST, Component.FEES, Component.PRINCIPAL),
        max_term_months=12,
        allow_down_payment=False,
    ),
    "5 % plans of at most 6 months, 1-month pause, 3 settlement instalments": Policy(
        plan_rate=Decimal("0.05"),
        max_term_months=6,
        deferral_periods=1,
        settlement_plan_max_instalments=3,
    ),
    "GB holidays, ACT/360, 12 % cost of funds, no settlement-plan discount": Policy(
        holiday_country="GB",
        day_count=DayCount.ACT_360,
        cost_of_funds=Decimal("0.12"),
        settlement_plan_discount_share_bps=0,
        max_discount_bps=10_000,
        discount_bands=(DiscountBand(0, 500), DiscountBand(100, 10_000)),
    ),
    "no deferral": Policy(deferral_periods=0),
}


def edge_cases() -> pd.DataFrame:
    """Debts at the edges of the rules: no capacity, cash for everything, waived-away
    balances, zero rates, rates above the cap, currencies of 0 and 3 decimals, huge amounts."""
    rows = [
        # currency, principal, interest, fees, rate ppm, dpd, capacity, lump
        ("CNY", 1_000_000, 0, 0, 180_000, 120, 125_000, 0),  # plans.compare's example
        ("CNY", 1_000_000, 80_000, 20_000, 180_000, 200, 300_000, 0),
        ("CNY", 1_000_000, 80_000, 20_000, 180_000, 200, 0, 900_000),
        ("CNY", 0, 50_000, 10_000, 180_000, 400, 20_000, 0),  # only arrears
        ("CNY", 0, 50_000, 10_000, 180_000, 400, 0, 60_000),
        ("CNY", 1, 0, 0, 0, 0, 1, 0),  # one fen
        ("CNY", 500_000, 1_000, 0, 360_000, 30, 50_000, 0),  # above a 24 % cap
        ("CNY", 500_000, 0, 0, 0, 30, 10_000_000, 0),  # capacity beyond the debt
        ("CNY", 500_000, 0, 0, 120_000, 30, 9_999, 0),  # just under the minimum
        ("CNY", 500_000, 20_000, 5_000, 120_000, 800, 0, 0),  # nothing at all
        ("CNY", 500_000, 20_000, 5_000, 120_000, 800, 40_000, 525_000),  # cash for it all
        ("JPY", 800_000, 12_000, 3_000, 150_000, 95, 40_000, 100_000),
        ("KWD", 2_500_000, 40_000, 0, 90_000, 181, 150_000, 0),
        ("USD", MAX_AMOUNT_MINOR, 10**13, 10**12, 240_000, 365, 10**14, 0),  # huge
        ("USD", 10**12, 0, 0, 239_999, 700, 10**9, 10**11),
    ]
    frame = pd.DataFrame(rows, columns=list(PORTFOLIO_COLUMNS)[1:])
    frame.insert(0, "debt_id", [f"edge-{i}" for i in range(len(rows))])
    return frame


def sample() -> pd.DataFrame:
    synthetic = synthetic_portfolio(250, seed=11)
    synthetic["debt_id"] = synthetic["debt_id"].map(lambda i: f"syn-{i}")
    return pd.concat([synthetic, edge_cases()], ignore_index=True)


def scalar(frame: pd.DataFrame, policy: Policy, as_of: date) -> dict[tuple[Any, str], dict]:
    """Every offer of plans.compare.negotiate, in the simulation's terms."""
    out: dict[tuple[Any, str], dict[str, Any]] = {}
    for row in frame.itertuples():
        debt = Debt(
            row.currency,
            row.principal_minor,
            row.interest_minor,
            row.fees_minor,
            Decimal(row.nominal_annual_rate_ppm) / 1_000_000,
            as_of,
            row.days_past_due,
        )
        result = negotiate(debt, Capacity(row.capacity_minor, row.lump_sum_minor), policy=policy)
        for offer in result.ranked:
            m = offer.metrics
            out[row.debt_id, str(offer.kind)] = {
                "rule": "",
                "instalments": offer.terms.instalments,
                "instalment_minor": offer.terms.instalment_minor,
                "down_payment_minor": offer.terms.down_payment_minor,
                "total_paid_minor": m.total_paid_minor,
                "waived_minor": offer.waiver.total_minor,
                "discount_bps": offer.terms.discount_bps,
                "npv_minor": m.npv_minor,
                "expected_recovery_minor": m.expected_recovery_minor,
                "apr": float(m.apr),
                "best": offer is result.best,
            }
        for rejection in result.rejected:
            out[row.debt_id, str(rejection.kind)] = {"rule": rejection.rule}
    return out


def compared(sim: Simulation, expected: dict[tuple[Any, str], dict]) -> list[str]:
    assert sim.offers is not None
    differences = []
    for row in sim.offers.to_dict("records"):
        want = expected[row["debt_id"], str(row["kind"])]
        for name, value in want.items():
            got = row[name]
            same = abs(got - value) <= 1.0000001e-6 if name == "apr" else got == value
            if not same:
                differences.append(f"{row['debt_id']} {row['kind']} {name}: {got} != {value}")
    return differences


@pytest.mark.parametrize("name", list(POLICIES))
def test_every_offer_of_every_debt_is_the_scalar_engines(name: str) -> None:
    frame, policy = sample(), POLICIES[name]
    # small chunks: the comparison also crosses chunk boundaries
    sim = simulate(frame, policy, as_of=AS_OF, chunk_debts=37)
    assert len(sim.offers) == 4 * len(frame)  # type: ignore[arg-type]
    assert compared(sim, scalar(frame, policy, AS_OF)) == []


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["CNY", "JPY", "KWD"]),
            st.integers(0, 5 * 10**7),
            st.integers(0, 10**6),
            st.integers(0, 10**5),
            st.integers(0, 360).map(lambda bps: bps * 1000),
            st.integers(0, 1500),
            st.integers(0, 10**7),
            st.integers(0, 6 * 10**7),
        ).filter(lambda r: r[1] + r[2] + r[3] > 0),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(["defaults: interest freeze, CN holidays", "contractual rate, no holidays"]),
    st.dates(date(2025, 1, 1), date(2028, 12, 28)).filter(lambda d: d.day <= 28),
)
def test_arbitrary_debts_and_dates_agree_with_the_scalar_engine(
    rows: list[tuple[Any, ...]], name: str, as_of: date
) -> None:
    frame = pd.DataFrame(rows, columns=list(PORTFOLIO_COLUMNS)[1:])
    sim = simulate(frame, POLICIES[name], as_of=as_of)
    assert compared(sim, scalar(portfolio_frame(frame), POLICIES[name], as_of)) == []


def test_the_compare_example_as_the_scalar_engine_documents_it() -> None:
    # plans.compare.negotiate's docstring: 10,000.00 at 18 %, 1,250.00 a month and no cash:
    # an instalment plan and a deferral; no lump sum, and 6 settlement instalments too few.
    frame = edge_cases().iloc[[0]]
    offers = simulate(frame, Policy(), as_of=AS_OF).offers
    assert offers is not None
    assert offers["rule"].astype(str).tolist() == ["", "", "lump_sum", "capacity"]


def test_the_settlement_examples_as_the_scalar_engine_documents_them() -> None:
    # plans.settlement's docstrings: 11,000.00 owed at 200 days past due. A lump sum of
    # 9,000.00 settles for 8,800.00 (20 % off); 3,000.00 a month settles in 4 x 2,475.00
    # (10 % off).
    frame = edge_cases().iloc[[1, 2]]
    offers = simulate(frame, Policy(), as_of=AS_OF).offers
    assert offers is not None
    settlement = offers[(offers["debt_id"] == "edge-2") & (offers["kind"] == "settlement")]
    assert settlement[["total_paid_minor", "waived_minor", "discount_bps"]].values.tolist() == [
        [880_000, 220_000, 2000]
    ]
    plan = offers[(offers["debt_id"] == "edge-1") & (offers["kind"] == "settlement_plan")]
    assert plan[
        ["instalments", "instalment_minor", "total_paid_minor", "waived_minor"]
    ].values.tolist() == [[4, 247_500, 990_000, 110_000]]


def test_the_apr_of_reg_z_appendix_j_example() -> None:
    # Reg Z App J (c)(1)(i): $5,000 advanced, 24 monthly payments of $230: 9.69 %; the engine's
    # unrounded value is 9.6857 % (plans.rates.apr's docstring).
    flows = np.array([[0], *[[23_000]] * 24], dtype=np.int64)
    assert _apr_ppm(flows, np.array([500_000]), guess=np.array([0.008])).tolist() == [96_857]


# ---- totals ------------------------------------------------------------------------------

GRID = {"discount_bps": [0, 1500, 3000], "max_term_months": [12, 36], "plan_rate": [0, None]}


def test_totals_do_not_depend_on_how_the_portfolio_is_split() -> None:
    frame = synthetic_portfolio(2_000, seed=5)
    points = policy_grid(Policy(), GRID)
    whole = simulate(frame, points, as_of=AS_OF, keep_offers=False)
    parts = [
        simulate(frame[:700], points, as_of=AS_OF, chunk_debts=64, keep_offers=False),
        simulate(frame[700:701], points, as_of=AS_OF, keep_offers=False),
        simulate(frame[701:], points, as_of=AS_OF, chunk_debts=999, workers=2, keep_offers=False),
    ]
    joined = combine(parts)
    for table in ("totals", "kinds", "cash_flow"):
        pd.testing.assert_frame_equal(getattr(joined, table), getattr(whole, table))


def test_totals_add_up() -> None:
    sim = simulate(synthetic_portfolio(3_000, seed=9), policy_grid(Policy(), GRID), as_of=AS_OF)
    assert sim.offers is not None
    best = sim.offers[sim.offers["best"]]
    summary = sim.summary()
    by_offer = best.groupby(["grid_point", "currency"], observed=True)[
        ["expected_recovery_minor", "total_paid_minor", "waived_minor"]
    ].sum()
    for row in summary.itertuples():
        assert by_offer.loc[(row.grid_point, row.currency), "expected_recovery_minor"] == (
            row.expected_recovery_minor
        )
        assert (
            row.best_instalment
            + row.best_deferral
            + row.best_settlement
            + (row.best_settlement_plan)
            == row.with_offer
        )
    # the cash-flow curve schedules exactly what the best offers pay
    paid = sim.cash_flow_curve().groupby(["grid_point", "currency"])["paid_minor"].sum()
    assert (
        paid.to_dict()
        == summary.set_index(["grid_point", "currency"])["total_paid_minor"].to_dict()
    )
    kinds = sim.kind_summary()
    rejected = kinds[[c for c in kinds if c.startswith("rejected_")]].sum(axis=1)
    assert ((kinds["offered"] + rejected) == summary["debts"].repeat(4).to_numpy()).all()


def test_a_bigger_discount_never_raises_what_a_settlement_costs() -> None:
    grid = {"discount_bps": [0, 500, 1000, 2500, 4000]}
    sim = simulate(synthetic_portfolio(500, seed=2), policy_grid(Policy(), grid), as_of=AS_OF)
    assert sim.offers is not None
    settled = sim.offers[(sim.offers["kind"] == "settlement") & sim.offers["feasible"]]
    paid = settled.pivot(index="debt_id", columns="grid_point", values="total_paid_minor")
    assert (paid.diff(axis=1).fillna(0) <= 0).all().all()
    share = sim.summary().groupby("grid_point")["with_offer"].sum()
    assert share.is_monotonic_increasing  # more debtors can settle at a bigger discount


def test_amounts_of_different_currencies_are_never_added() -> None:
    sim = simulate(synthetic_portfolio(100), Policy(), as_of=AS_OF)
    with pytest.raises(ValueError, match="currencies"):
        sim.summary(by=("grid_point",))
    assert set(sim.summary()["currency"]) == {"CNY", "HKD", "USD"}
    buckets = sim.summary(by=("grid_point", "currency", "dpd_bucket"))["dpd_bucket"]
    assert set(buckets.astype(str)) <= set(DPD_LABELS)


def test_an_empty_portfolio_has_empty_totals() -> None:
    sim = simulate(synthetic_portfolio(0), Policy(), as_of=AS_OF)
    assert sim.summary().empty and sim.offers is not None and sim.offers.empty
    assert list(sim.offers.columns) == list(OFFER_COLUMNS)


def test_offers_can_be_streamed_instead_of_kept() -> None:
    frame = synthetic_portfolio(300, seed=4)
    streamed: list[pd.DataFrame] = []
    sim = simulate(frame, Policy(), as_of=AS_OF, chunk_debts=50, keep_offers=False,
                   write_offers=streamed.append)  # fmt: skip
    kept = simulate(frame, Policy(), as_of=AS_OF).offers
    assert sim.offers is None
    pd.testing.assert_frame_equal(pd.concat(streamed, ignore_index=True), kept)


# ---- the grid ----------------------------------------------------------------------------


def test_a_grid_is_every_combination_in_a_documented_order() -> None:
    points = policy_grid(
        Policy(), {"plan_rate": [0, "contractual", "0.05"], "discount_scale": [0, 1.5]}
    )
    assert [p.label for p in points] == [
        "discount_scale=0, plan_rate=0",
        "discount_scale=0, plan_rate=contractual",
        "discount_scale=0, plan_rate=0.05",
        "discount_scale=1.5, plan_rate=0",
        "discount_scale=1.5, plan_rate=contractual",
        "discount_scale=1.5, plan_rate=0.05",
    ]
    assert [p.policy.plan_rate for p in points[:3]] == [Decimal(0), None, Decimal("0.05")]
    # 1.5 x the default bands (0, 5, 10, 20, 30, 40 %), rounded half up, capped at 100 %
    assert [b.discount_bps for b in points[3].policy.discount_bands] == [
        0, 750, 1500, 3000, 4500, 6000
    ]  # fmt: skip
    assert points[3].policy.max_discount_bps == 4000  # the cap still applies


def test_a_flat_discount_and_a_longer_pause() -> None:
    [point] = policy_grid(Policy(), {"discount_bps": 1200, "deferral_periods": [5]})
    assert point.policy.discount_bands == (DiscountBand(0, 1200),)
    assert point.policy.deferral_periods == point.policy.deferral_max_periods == 5


@pytest.mark.parametrize(
    ("grid", "field", "rule"),
    [
        ({"max_term": [12]}, "grid.max_term", "unknown"),
        ({"max_term_months": []}, "grid.max_term_months", "empty"),
        ({"discount_bps": [1], "discount_scale": [1]}, "grid.discount_bps", "exclusive"),
        ({"max_term_months": ["twelve"]}, "grid.max_term_months", "decimal"),
        ({"max_term_months": [True]}, "grid.max_term_months", "decimal"),
        ({"max_term_months": [12.5]}, "grid.max_term_months", "integer"),
        ({"max_term_months": [0]}, "policy.max_term_months", "range"),
        ({"discount_bps": [10_001]}, "grid.discount_bps", "bps_range"),
        ({"discount_scale": [-1]}, "grid.discount_scale", "non_negative"),
        ({"plan_rate": ["0.0000001"]}, "grid.plan_rate", "max_decimals"),
        ({"max_term_months": list(range(1, 101)),
          "discount_bps": list(range(MAX_GRID_POINTS // 100 + 1))}, "grid", "max_points"),
    ],
)  # fmt: skip
def test_a_bad_grid_names_the_key_and_the_rule(grid: dict[str, Any], field: str, rule: str) -> None:
    with pytest.raises(DomainError) as info:
        policy_grid(Policy(), grid)
    assert (info.value.field, info.value.rule) == (field, rule)


def test_a_policy_on_the_actual_days_basis_is_refused_not_approximated() -> None:
    with pytest.raises(DomainError) as info:
        simulate(edge_cases(), Policy(interest_basis=InterestBasis.ACTUAL_DAYS), as_of=AS_OF)
    assert (info.value.field, info.value.rule) == ("policy.interest_basis", "unsupported")


def test_plans_past_the_calendar_are_refused() -> None:
    with pytest.raises(DomainError) as info:
        simulate(edge_cases(), Policy(), as_of=date(9999, 1, 1))
    assert info.value.rule == "date_range"


# ---- the portfolio -----------------------------------------------------------------------


def test_major_units_are_converted_exactly() -> None:
    raw = pd.DataFrame(
        {
            "debt_id": ["a", "b"],
            "currency": ["JPY", "KWD"],
            "principal": ["120000", "1500.125"],
            "interest": ["0", "0.001"],
            "nominal_annual_rate": ["0.18", "0.000001"],
            "days_past_due": [10, 20],
            "capacity": ["5000", "100"],
        }
    )
    frame = portfolio_frame(raw)
    assert frame[["principal_minor", "interest_minor", "fees_minor"]].values.tolist() == [
        [120_000, 0, 0],
        [1_500_125, 1, 0],
    ]
    assert frame["nominal_annual_rate_ppm"].tolist() == [180_000, 1]
    assert frame["lump_sum_minor"].tolist() == [0, 0]


@pytest.mark.parametrize(
    ("replace", "field", "rule"),
    [
        ({"principal_minor": None, "principal": ["10.001"]}, "portfolio.principal",
         "max_decimals"),
        ({"principal_minor": None, "principal": [10.5]}, "portfolio.principal", "decimal"),
        ({"principal_minor": [10.5]}, "portfolio.principal_minor", "integer"),
        ({"principal_minor": [-1]}, "portfolio.principal_minor", "non_negative"),
        ({"principal_minor": [MAX_AMOUNT_MINOR + 1]}, "portfolio.principal_minor", "max_amount"),
        ({"principal_minor": [0]}, "portfolio.principal_minor", "positive"),
        ({"currency": ["XXY"]}, "portfolio.currency", "iso4217"),
        ({"nominal_annual_rate_ppm": None, "nominal_annual_rate": ["0.1234567"]},
         "portfolio.nominal_annual_rate", "max_decimals"),
        ({"nominal_annual_rate_ppm": [10_000_001]}, "portfolio.nominal_annual_rate_ppm",
         "max_rate"),
        ({"days_past_due": [-1]}, "portfolio.days_past_due", "non_negative"),
        ({"capacity_minor": None}, "portfolio.capacity_minor", "required"),
    ],
)  # fmt: skip
def test_a_bad_portfolio_names_the_column_and_the_rule(
    replace: dict[str, list[Any] | None], field: str, rule: str
) -> None:
    columns: dict[str, list[Any] | None] = {
        "currency": ["CNY"],
        "principal_minor": [100_000],
        "nominal_annual_rate_ppm": [180_000],
        "days_past_due": [30],
        "capacity_minor": [10_000],
        **replace,  # None drops the column
    }
    frame = pd.DataFrame({name: values for name, values in columns.items() if values is not None})
    with pytest.raises(DomainError) as info:
        portfolio_frame(frame)
    assert (info.value.field, info.value.rule) == (field, rule)


# ---- the synthetic portfolio -------------------------------------------------------------


def test_the_synthetic_portfolio_is_seeded_and_within_its_documented_ranges() -> None:
    frame = synthetic_portfolio(20_000)
    pd.testing.assert_frame_equal(frame, synthetic_portfolio(20_000))
    assert not frame.equals(synthetic_portfolio(20_000, seed=1))
    assert list(frame.columns) == list(PORTFOLIO_COLUMNS)
    portfolio_frame(frame)  # every row is a valid debt
    cny = frame[frame["currency"] == "CNY"]
    assert 0.78 < len(cny) / len(frame) < 0.82
    assert cny["principal_minor"].between(30_000, 50_000_000).all()
    assert 700_000 < cny["principal_minor"].median() < 900_000  # 8,000 yuan
    assert frame["nominal_annual_rate_ppm"].between(0, 360_000).all()
    assert 0.08 < (frame["nominal_annual_rate_ppm"] > 240_000).mean() < 0.12
    assert frame["days_past_due"].between(1, 1_800).all()
    assert 140 < frame["days_past_due"].mean() < 180
    none = frame["capacity_minor"] == 0
    assert 0.10 < none.mean() < 0.40
    assert (frame["lump_sum_minor"] > 0).mean() > 0.3
