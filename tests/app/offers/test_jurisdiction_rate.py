"""Every offer carries the annual rate its debt's jurisdiction requires (app/offers/calculations):
the recorded debt's jurisdiction, else the request's, else the policy's, CN by default; and the
cap is tested on that rate, the rejection naming the law."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

Headers = dict[str, dict[str, str]]


def _debt(**changes: Any) -> dict[str, Any]:
    return {
        "currency": "CNY",
        "principal": "12000.00",
        "nominal_annual_rate": "0.12",
        "as_of": date.today().isoformat(),
        "days_past_due": 40,
        **changes,
    }


def _plan(debt: dict[str, Any], rate: str = "0.12") -> dict[str, Any]:
    return {"kind": "instalment", "debt": debt, "term": 12, "nominal_annual_rate": rate}


def test_each_jurisdictions_rate_next_to_the_us_apr(client: TestClient, auth: Headers) -> None:
    # 12,000.00 at 12 % over 12 months: the 年化利率 and the US APR are 12.00 % (CN, US); the
    # GB APR of CONC App 1.1 is (1 + 0.01)^12 - 1 = 12.68 %, 12.7 % to one place.
    expected = {
        None: ("CN", "cn_irr", "12.00"),
        "CN": ("CN", "cn_irr", "12.00"),
        "GB": ("GB", "eu_ccd", "12.7"),
        "US": ("US", "us_reg_z", "12.00"),
    }
    for code, (jurisdiction, method, shown) in expected.items():
        debt = _debt() if code is None else _debt(jurisdiction=code)
        answer = client.post("/v1/plans/instalment", json=_plan(debt), headers=auth["collector"])
        assert answer.status_code == 200, answer.text
        metrics = answer.json()["metrics"]
        annual = metrics["annual_rate"]
        assert (annual["jurisdiction"], annual["method"], annual["rate_percent"]) == (
            jurisdiction,
            method,
            shown,
        )
        assert metrics["apr"].startswith("0.12000")


def test_the_comparison_ranks_with_and_rejects_on_the_jurisdictions_rate(
    client: TestClient, auth: Headers
) -> None:
    body = {
        "debt": _debt(jurisdiction="GB"),
        "offers": [{"kind": "instalment", "term": 6}, {"kind": "settlement"}],
    }
    answer = client.post("/v1/plans/compare", json=body, headers=auth["collector"])
    assert answer.status_code == 200, answer.text
    for offer in answer.json()["offers"]:
        assert offer["metrics"]["annual_rate"]["method"] == "eu_ccd"
        assert offer["metrics"]["annual_rate"]["rate_percent"] == "0.0"  # the interest freeze


def test_a_rate_above_the_cap_is_refused_naming_the_law(client: TestClient, auth: Headers) -> None:
    # 24.5 % nominal, monthly: a 年化利率 of 24.50 %, above the default policy's 24 %.
    answer = client.post(
        "/v1/plans/instalment", json=_plan(_debt(), "0.245"), headers=auth["collector"]
    )
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["errors"]
    assert (problem["field"], problem["rule"]) == ("annual_rate", "rate_cap")
    assert "年化利率 of 24.50 %" in problem["detail"]
    assert (
        "法释〔2020〕17号" in problem["detail"]
        and "中国人民银行公告〔2021〕第3号" in problem["detail"]
    )


def test_a_recorded_debts_jurisdiction_comes_first(client: TestClient, auth: Headers) -> None:
    recorded = client.put(
        "/v1/debts/CARD-9",
        json={"jurisdiction": "US", "terms": _debt()},
        headers=auth["collector"],
    )
    assert recorded.status_code == 201, recorded.text
    body = {
        "debt_ref": "CARD-9",
        "debtor": {"name": "John Smith"},
        "locale": "en",
        "plan": _plan(_debt(jurisdiction="GB")),
    }
    saved = client.post("/v1/offers", json=body, headers=auth["collector"])
    assert saved.status_code == 201, saved.text
    assert saved.json()["offer"]["metrics"]["annual_rate"]["jurisdiction"] == "US"
