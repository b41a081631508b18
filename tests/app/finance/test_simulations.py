"""app/finance/simulations.py, ``repay simulate`` and ``POST /v1/simulations``.

The Dask engine runs on a real LocalCluster of two single-threaded worker processes and must
give the pandas engine's totals exactly, and the same offers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import app as cli
from app.finance.simulations import (
    Format,
    local_cluster,
    read_grid,
    read_portfolio,
    run_dask,
    run_pandas,
    write_results,
)
from plans.money import format_minor
from plans.policy import Policy
from plans.simulation import OFFER_COLUMNS, policy_grid, simulate
from plans.synthetic import synthetic_portfolio
from schemas.simulations import SimulationRequest

AS_OF = date(2026, 11, 25)
GRID_YAML = """\
policy: {max_discount_bps: 5000, max_term_months: 24}
discount_bps: [0, 2500]
plan_rate: [0, contractual]
"""
DEBTS = 8_000


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    """A client of a LocalCluster of two worker processes of one thread each, closed after."""
    from distributed import Client

    with local_cluster(workers=2) as cluster, Client(cluster) as client:
        assert len(cluster.workers) == 2 and client.nthreads() == {
            address: 1 for address in client.nthreads()
        }
        yield client


@pytest.fixture
def portfolio_file(tmp_path: Path) -> Path:
    path = tmp_path / "portfolio.parquet"
    # row groups of 2,000: the Dask engine reads one partition per row group
    synthetic_portfolio(DEBTS, seed=8).to_parquet(path, row_group_size=2_000)
    return path


@pytest.fixture
def grid_file(tmp_path: Path) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(GRID_YAML)
    return path


def offers_in(directory: Path) -> pd.DataFrame:
    frame = pd.read_parquet(directory)
    frame = frame.astype({"currency": str, "kind": str, "rule": str})
    return frame.sort_values(["grid_point", "debt_id", "kind"], ignore_index=True)


def test_the_dask_engine_gives_the_pandas_engines_totals_exactly(
    dask_client: Any, portfolio_file: Path, grid_file: Path, tmp_path: Path
) -> None:
    points = read_grid(grid_file)
    assert len(points) == 4 and points[0].policy.max_discount_bps == 5000
    on_pandas = run_pandas(
        read_portfolio(portfolio_file), points, as_of=AS_OF, out=tmp_path / "pandas"
    )
    seen: list[tuple[int, int]] = []
    on_dask = run_dask(
        portfolio_file,
        points,
        as_of=AS_OF,
        client=dask_client,
        out=tmp_path / "dask",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[-1][0] == seen[-1][1] >= 4  # a task per partition, every one reported
    for table in ("totals", "kinds", "cash_flow"):
        pd.testing.assert_frame_equal(getattr(on_dask, table), getattr(on_pandas, table))
    assert on_dask.summary()["debts"].sum() == 4 * DEBTS
    # every worker wrote its partition's offers: together, the pandas engine's offers
    written = offers_in(tmp_path / "dask" / "offers")
    pd.testing.assert_frame_equal(written, offers_in(tmp_path / "pandas" / "offers"))
    assert list(written.columns) == list(OFFER_COLUMNS)


def test_the_dask_engine_takes_a_frame_and_a_csv(dask_client: Any, tmp_path: Path) -> None:
    frame = synthetic_portfolio(3_000, seed=3)
    points = policy_grid(Policy(), {"max_term_months": [6, 24]})
    expected = simulate(frame, points, as_of=AS_OF, keep_offers=False)
    from_frame = run_dask(frame, points, as_of=AS_OF, client=dask_client, partitions=5)
    pd.testing.assert_frame_equal(from_frame.totals, expected.totals)
    csv = tmp_path / "portfolio.csv"
    frame.to_csv(csv, index=False)
    from_csv = run_dask(csv, points, as_of=AS_OF, client=dask_client)
    pd.testing.assert_frame_equal(from_csv.cash_flow, expected.cash_flow)


def test_a_portfolio_without_ids_cannot_be_split_for_dask(dask_client: Any, tmp_path: Path) -> None:
    path = tmp_path / "no_ids.parquet"
    synthetic_portfolio(10).drop(columns="debt_id").to_parquet(path)
    with pytest.raises(ValueError, match="debt_id"):
        run_dask(path, policy_grid(Policy()), as_of=AS_OF, client=dask_client)


def test_repay_simulate_on_a_scheduler_writes_results_and_a_summary(
    dask_client: Any, portfolio_file: Path, grid_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "results"
    result = CliRunner().invoke(
        cli,
        [
            "simulate",
            str(portfolio_file),
            "--grid",
            str(grid_file),
            "--as-of",
            "2026-11-25",
            "--engine",
            "dask",
            "--scheduler",
            dask_client.scheduler.address,
            "--out",
            str(out),
            "--format",
            "csv",
            "--top",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    cny = int((read_portfolio(portfolio_file)["currency"] == "CNY").sum())
    assert f"CNY: {cny:,} debts, best grid points" in result.stdout
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 4 * 3  # grid points x currencies
    assert {p.name for p in out.iterdir()} == {
        "offers",
        "summary.csv",
        "by_bucket.csv",
        "by_kind.csv",
        "cash_flow.csv",
        "grid.csv",
    }
    assert len(list((out / "offers").glob("part-*.csv"))) >= 4


def test_repay_simulate_reads_major_units_from_csv(tmp_path: Path) -> None:
    csv = tmp_path / "debts.csv"
    csv.write_text(
        "debt_id,currency,principal,interest,fees,nominal_annual_rate,days_past_due,capacity,"
        "lump_sum\nA-1,CNY,10000.00,350.00,150.00,0.18,95,1250.00,2000.00\n"
        "A-2,USD,900.00,0,0,0.1,400,100,700\n"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["simulate", str(csv), "--as-of", "2026-11-25", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    offers = pd.read_parquet(out / "offers")
    assert offers["debt_id"].tolist() == ["A-1"] * 4 + ["A-2"] * 4
    assert offers[offers["best"]]["kind"].astype(str).tolist() == ["instalment", "instalment"]


def test_repay_simulate_names_what_is_wrong(tmp_path: Path) -> None:
    csv = tmp_path / "debts.csv"
    csv.write_text(
        "currency,principal,nominal_annual_rate,days_past_due,capacity\nCNY,10.001,0.1,5,1\n"
    )
    result = CliRunner().invoke(cli, ["simulate", str(csv)])
    assert result.exit_code == 1
    assert "portfolio.principal" in result.stderr and "max_decimals" in result.stderr
    grid = tmp_path / "grid.yaml"
    grid.write_text("max_term: [12]\n")
    result = CliRunner().invoke(cli, ["simulate", str(csv), "--grid", str(grid)])
    assert result.exit_code == 1 and "grid.max_term" in result.stderr


def test_results_are_written_in_either_format(tmp_path: Path) -> None:
    sim = simulate(synthetic_portfolio(200), policy_grid(Policy()), as_of=AS_OF)
    parquet = write_results(sim, tmp_path / "p", Format.PARQUET)
    csv = write_results(sim, tmp_path / "c", Format.CSV)
    assert [p.stem for p in parquet] == [p.stem for p in csv]
    pd.testing.assert_frame_equal(
        pd.read_parquet(parquet[0]).astype({"currency": str}),
        pd.read_csv(csv[0]).astype({"currency": str}),
        check_dtype=False,
    )


# ---- POST /v1/simulations ----------------------------------------------------------------

DEBT = {
    "id": "A-1",
    "currency": "CNY",
    "principal": "10000.00",
    "interest": "350.00",
    "fees": "150.00",
    "nominal_annual_rate": "0.18",
    "days_past_due": 95,
    "capacity": "1250.00",
    "lump_sum": "2000.00",
}


def debts(count: int) -> list[dict[str, Any]]:
    frame = synthetic_portfolio(count, seed=21)
    return [
        {
            "id": str(row.debt_id),
            "currency": row.currency,
            "principal": format_minor(row.principal_minor, row.currency),
            "interest": format_minor(row.interest_minor, row.currency),
            "fees": format_minor(row.fees_minor, row.currency),
            "nominal_annual_rate": str(row.nominal_annual_rate_ppm / 1_000_000),
            "days_past_due": row.days_past_due,
            "capacity": format_minor(row.capacity_minor, row.currency),
            "lump_sum": format_minor(row.lump_sum_minor, row.currency),
        }
        for row in frame.itertuples()
    ]


def test_a_finance_key_simulates_a_portfolio(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    body = {
        "as_of": "2026-11-25",
        "debts": debts(300),
        "grid": {"discount_bps": [0, 2000], "plan_rate": ["0", "contractual"]},
        "include_offers": True,
    }
    response = client.post("/v1/simulations", json=body, headers=auth["finance"])
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["policy"]["name"] == "default"
    assert [p["label"] for p in document["grid"]][:2] == [
        "discount_bps=0, plan_rate=0",
        "discount_bps=0, plan_rate=contractual",
    ]
    # the totals are the engine's, in decimal strings
    request = SimulationRequest.model_validate(body)
    points = policy_grid(Policy(), request.grid.to_engine())  # type: ignore[union-attr]
    engine = simulate(request.portfolio(), points, as_of=AS_OF).summary()
    assert [s["expected_recovery"] for s in document["summary"]] == [
        format_minor(row.expected_recovery_minor, row.currency) for row in engine.itertuples()
    ]
    first = document["summary"][0]
    assert sum(first["best"].values()) == first["with_offer"] <= first["debts"]
    assert len(document["offers"]) == 4 * 4 * 300
    assert {o["rule"] for o in document["offers"]} >= {None, "lump_sum"}
    assert {k["kind"] for k in document["by_kind"]} == {
        "instalment",
        "deferral",
        "settlement",
        "settlement_plan",
    }
    assert document["cash_flow"][0]["month"] == 0


def test_simulations_are_for_the_finance_role(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    body = {"as_of": "2026-11-25", "debts": [DEBT]}
    assert client.post("/v1/simulations", json=body).status_code == 401
    forbidden = client.post("/v1/simulations", json=body, headers=auth["collector"])
    assert forbidden.status_code == 403
    assert client.post("/v1/simulations", json=body, headers=auth["admin"]).status_code == 200


@pytest.mark.parametrize(
    ("count", "extra", "bound"),
    [
        (10_001, {}, "10,001 debts"),
        (1, {"grid": {"max_term_months": list(range(1, 9)), "discount_bps": list(range(9))}},
         "72 grid points"),
        (4_000, {"grid": {"max_term_months": list(range(1, 61))[:60:1][:8],
                          "discount_bps": list(range(7))}}, "224,000 debts"),
        (5_001, {"include_offers": True, "grid": {"max_term_months": [12, 24]}},
         "40,008 offers"),
    ],
)  # fmt: skip
def test_beyond_the_documented_bounds_is_413(
    client: TestClient,
    auth: dict[str, dict[str, str]],
    count: int,
    extra: dict[str, Any],
    bound: str,
) -> None:
    body = {"as_of": "2026-11-25", "debts": [DEBT] * count, **extra}
    response = client.post("/v1/simulations", json=body, headers=auth["finance"])
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/too-large") and bound in problem["detail"]


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"debts": [{**DEBT, "principal": "10.001"}]}, "debts[0].principal", "max_decimals"),
        ({"debts": [{**DEBT, "principal": "0", "interest": "0", "fees": "0"}]},
         "portfolio.principal_minor", "positive"),
        ({"debts": [{**DEBT, "nominal_annual_rate": "0.12345678"}]},
         "debts[0].nominal_annual_rate", "max_decimals"),
        ({"grid": {"max_term": [12]}}, "grid.max_term", "extra_forbidden"),
        ({"grid": {"plan_rate": ["contract"]}}, "grid.plan_rate.0", "string_pattern_mismatch"),
        ({"as_of": "9999-01-01"}, "as_of", "less_than_equal"),
        ({"debts": []}, "debts", "too_short"),
    ],
)  # fmt: skip
def test_a_bad_request_names_the_field_and_the_rule(
    client: TestClient,
    auth: dict[str, dict[str, str]],
    change: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    body = {"as_of": "2026-11-25", "debts": [DEBT], **change}
    response = client.post("/v1/simulations", json=body, headers=auth["finance"])
    assert response.status_code == 422, response.text
    assert {"field": field, "rule": rule} in [
        {"field": e["field"], "rule": e["rule"]} for e in response.json()["errors"]
    ]


def test_a_named_policy_version_is_simulated(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    created = client.post(
        "/v1/policies",
        json={"name": "short", "body": {"max_term_months": 6}},
        headers=auth["finance"],
    ).json()
    body = {"as_of": "2026-11-25", "debts": [DEBT], "include_offers": True}
    short = client.post(
        "/v1/simulations",
        json={**body, "policy": {"id": created["id"], "version": 1}},
        headers=auth["finance"],
    ).json()
    assert short["policy"] == {"id": created["id"], "name": "short", "version": 1}
    kinds = {o["kind"]: o for o in short["offers"]}
    assert kinds["deferral"]["rule"] == "max_term"  # 2 paused + 7 to repay > 6 months
    missing = client.post(
        "/v1/simulations", json={**body, "policy": {"id": 999}}, headers=auth["finance"]
    )
    assert missing.status_code == 404
