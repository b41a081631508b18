"""``POST /v1/simulations`` with ``consolidate``: one debtor's debts share what the debtor can
pay (issue 19, "Finance"). Without it, every debt's offers assume the debtor's whole capacity:
a debtor with two debts is asked twice what they said they can pay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import app as cli
from app.finance.simulations import run_dask, run_pandas
from plans.policy import Policy
from plans.simulation import policy_grid
from plans.simulation.debtors import pro_rata_portfolio
from plans.synthetic import synthetic_portfolio
from tests.app.finance.test_simulations import AS_OF, dask_client, debts

__all__ = ["dask_client"]  # the Dask cluster fixture, shared with the engine's tests


def debt(ref: str, debtor: str | None, principal: str, capacity: str) -> dict[str, Any]:
    # interest-free plans (the default policy freezes interest), no arrears, no lump sum
    return {
        "id": ref,
        **({"debtor_id": debtor} if debtor is not None else {}),
        "currency": "CNY",
        "principal": principal,
        "nominal_annual_rate": "0.18",
        "days_past_due": 120,
        "capacity": capacity,
    }


TWO_DEBTORS = [
    debt("card", "D-1", "4000.00", "500.00"),
    debt("loan", "D-1", "6000.00", "500.00"),
    debt("car", "D-2", "3000.00", "300.00"),
]


def simulated(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/simulations",
        json={"as_of": "2026-11-25", "include_offers": True, **body},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def instalments(document: dict[str, Any]) -> dict[str, tuple[int, str]]:
    return {
        o["debt"]: (o["instalments"], o["instalment"])
        for o in document["offers"]
        if o["kind"] == "instalment" and o["feasible"]
    }


def test_a_debtors_debts_share_the_capacity_by_balance(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    # By hand: D-1 owes 4,000.00 + 6,000.00 and can pay 500.00 a month. Pro rata by balance
    # the card's share is 500 × 4/10 = 200.00 and the loan's 300.00: 20 payments each
    # (4,000 / 200, 6,000 / 300), 500.00 a month together. D-2's only debt keeps its 300.00:
    # 10 payments. Without consolidation the card is 8 × 500.00 and the loan 12 × 500.00:
    # 1,000.00 a month asked of a debtor who said 500.00.
    together = simulated(client, auth["finance"], debts=TWO_DEBTORS, consolidate=True)
    assert (together["consolidated"], together["debts"], together["debtors"]) == (True, 3, 2)
    assert instalments(together) == {
        "card": (20, "200.00"),
        "loan": (20, "300.00"),
        "car": (10, "300.00"),
    }
    apart = simulated(client, auth["finance"], debts=TWO_DEBTORS)
    assert (apart["consolidated"], apart["debtors"]) == (False, 3)
    assert instalments(apart) == {
        "card": (8, "500.00"),
        "loan": (12, "500.00"),
        "car": (10, "300.00"),
    }


def test_one_debt_per_debtor_simulates_as_before(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    # Every debtor owing one debt (a debtor_id each, or none): consolidation changes nothing.
    rows = [
        {**debt, "debtor_id": f"P-{debt['id']}"} if i % 2 else debt
        for i, debt in enumerate(debts(120))
    ]
    together = simulated(client, auth["finance"], debts=rows, consolidate=True)
    apart = simulated(client, auth["finance"], debts=rows)
    assert together["debtors"] == 120
    for key in ("summary", "by_kind", "cash_flow", "offers"):
        assert together[key] == apart[key]


@pytest.mark.parametrize(
    ("debts", "field", "rule"),
    [
        ([debt("a", "D", "100.00", "50.00"), {**debt("b", "D", "100.00", "50.00"),
                                              "currency": "USD"}],
         "debts[1].currency", "one_per_debtor"),
        ([debt("a", "D", "100.00", "50.00"), debt("b", "D", "100.00", "40.00")],
         "debts[1].capacity", "one_per_debtor"),
        ([debt("a", "D", "100.00", "50.00"), {**debt("b", "D", "100.00", "50.00"),
                                              "lump_sum": "10.00"}],
         "debts[1].lump_sum", "one_per_debtor"),
        ([debt(str(i), "D", "100.00", "50.00") for i in range(11)],
         "debts[10].debtor_id", "max_debts_per_debtor"),
    ],
)  # fmt: skip
def test_a_debtor_that_does_not_add_up_is_refused(
    client: TestClient,
    auth: dict[str, dict[str, str]],
    debts: list[dict[str, Any]],
    field: str,
    rule: str,
) -> None:
    body = {"as_of": "2026-11-25", "debts": debts, "consolidate": True}
    response = client.post("/v1/simulations", json=body, headers=auth["finance"])
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [(field, rule)]
    # the same debts, not consolidated, are each their own debtor's
    apart = client.post(
        "/v1/simulations", json={**body, "consolidate": False}, headers=auth["finance"]
    )
    assert apart.status_code == 200, apart.text


def test_repay_simulate_consolidates_a_debtor_id_column(tmp_path: Path) -> None:
    csv = tmp_path / "debts.csv"
    csv.write_text(
        "debtor_id,debt_id,currency,principal,nominal_annual_rate,days_past_due,capacity\n"
        "D-1,card,CNY,4000.00,0.18,120,500.00\nD-1,loan,CNY,6000.00,0.18,120,500.00\n"
    )
    out = tmp_path / "out"
    args = ["simulate", str(csv), "--as-of", "2026-11-25", "--out", str(out), "--consolidate"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    offers = pd.read_parquet(out / "offers")
    chosen = offers[(offers["kind"].astype(str) == "instalment") & offers["feasible"]]
    # the same shares as over HTTP: 200.00 and 300.00 a month, 20 payments each
    assert chosen[["debt_id", "instalments", "instalment_minor"]].values.tolist() == [
        ["card", 20, 20_000],
        ["loan", 20, 30_000],
    ]
    on_dask = CliRunner().invoke(cli, [*args, "--engine", "dask", "--workers", "1"])
    assert on_dask.exit_code == 0, on_dask.output
    offers_on_dask = pd.read_parquet(out / "offers").sort_values(["debt_id", "kind"])
    chosen = offers_on_dask[
        (offers_on_dask["kind"].astype(str) == "instalment") & offers_on_dask["feasible"]
    ]
    assert chosen[["debt_id", "instalments", "instalment_minor"]].values.tolist() == [
        ["card", 20, 20_000],
        ["loan", 20, 30_000],
    ]
    csv.write_text(
        "debtor_id,debt_id,currency,principal,nominal_annual_rate,days_past_due,capacity\n"
        "D-1,card,CNY,4000.00,0.18,120,500.00\nD-1,loan,CNY,6000.00,0.18,120,400.00\n"
    )
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "portfolio.capacity_minor" in result.stderr and "one_per_debtor" in result.stderr


def grouped_portfolio(n: int, seed: int) -> pd.DataFrame:
    """A synthetic portfolio whose debtors owe one to three debts each (about a third owe more
    than one), each debtor's capacity and lump sum stated once, on each of their rows."""
    frame = synthetic_portfolio(n, seed=seed)
    sizes = np.random.default_rng(seed).choice([1, 1, 2, 3], size=n)
    owner = np.repeat(np.arange(n), sizes)[:n]
    frame["debtor_id"] = [f"P-{k:06d}" for k in owner]
    # every debt of a debtor in the first debt's currency, with the debtor's one capacity
    for column in ("currency", "capacity_minor", "lump_sum_minor"):
        frame[column] = frame.groupby("debtor_id")[column].transform("first")
    return frame


def test_the_dask_engine_consolidates_as_the_pandas_engine_does(dask_client: Any) -> None:
    # 3,000 debts in 12 partitions of 250 rows, a debtor's debts side by side: a partition
    # boundary splits some debtors, whom the shuffle by debtor_id puts back together.
    portfolio = grouped_portfolio(3_000, seed=19)
    debtors = portfolio["debtor_id"].nunique()
    assert 1_500 < debtors < 2_500
    points = policy_grid(Policy())
    on_pandas = run_pandas(pro_rata_portfolio(portfolio), points, as_of=AS_OF)
    on_dask = run_dask(
        portfolio, points, as_of=AS_OF, client=dask_client, partitions=12, consolidate=True
    )
    for table in ("totals", "kinds", "cash_flow"):
        pd.testing.assert_frame_equal(getattr(on_dask, table), getattr(on_pandas, table))
    # and consolidation changed the answer: each debtor is asked at most what they stated
    apart = run_dask(portfolio, points, as_of=AS_OF, client=dask_client, partitions=12)
    assert not on_dask.totals.equals(apart.totals)
    with pytest.raises(ValueError, match="debtor_id"):
        run_dask(
            portfolio.drop(columns="debtor_id"),
            points,
            as_of=AS_OF,
            client=dask_client,
            consolidate=True,
        )
