"""The finance team's simulation endpoint: a bounded portfolio under a grid of policy variants.

The request carries the debts themselves (amounts as decimal strings, as everywhere), a grid
of policy parameters to vary and the policy they vary from. The answer is the totals a policy
is chosen by, per grid point and currency, never added across currencies: expected recovery,
the share of debts with a feasible offer, the discount granted, each kind's offers and
rejections, and the cash flow by month; optionally every offer of every debt.

A request is bounded (:data:`MAX_DEBTS` debts, :data:`MAX_GRID_POINTS` grid points,
:data:`MAX_DEBT_POLICIES` debts × grid points) so that it is answered within a request's
time; anything larger is a 413 and goes through ``repay simulate`` (pandas or Dask).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import pandas as pd
from pydantic import Field, StrictBool

from plans.allocation import MAX_DEBTS as MAX_DEBTS_PER_DEBTOR
from plans.errors import DomainError
from plans.policy import OfferKind
from plans.simulation import GRID_KEYS, PORTFOLIO_COLUMNS, RULES
from schemas.common import (
    Amount,
    Currency,
    Integer,
    IsoDate,
    Model,
    OneLine,
    Rate,
    minor,
    rate,
    with_examples,
)
from schemas.offer_answers import PolicyUsed
from schemas.policies import Bps, PolicyRef

MAX_DEBTS = 10_000
MAX_GRID_POINTS = 64
MAX_DEBT_POLICIES = 200_000
MAX_OFFER_ROWS = 40_000  # debts × grid points × 4 kinds, when every offer is returned
# The request body's limit (app.core.limits): 10,000 debts of at most ~400 bytes each, with
# room for indentation; the service's other operations read at most 1 MiB.
MAX_BODY_BYTES = 8 * 1024 * 1024

Scale = Annotated[
    str,
    Field(pattern=r"^(0|[1-9][0-9]?)(\.[0-9]{1,4})?$", examples=["1.5"]),
]
PlanRate = Annotated[
    str,
    Field(
        pattern=r"^(contractual|(0|[1-9][0-9]?)(\.[0-9]{1,8})?)$",
        description='A nominal annual rate, or "contractual": the debt\'s own rate.',
        examples=["0.05", "contractual"],
    ),
]
Term = Annotated[Integer, Field(ge=1, le=600)]
Periods = Annotated[Integer, Field(ge=0, le=24)]
Instalments = Annotated[Integer, Field(ge=1, le=24)]
Total = Annotated[str, Field(description="A sum in major units as a decimal string.")]
Ratio = Annotated[str, Field(description="A ratio as a decimal string, six places.")]

DEBT_EXAMPLE = {
    "id": "A-1001",
    "currency": "CNY",
    "principal": "10000.00",
    "interest": "350.00",
    "fees": "150.00",
    "nominal_annual_rate": "0.18",
    "days_past_due": 95,
    "capacity": "1250.00",
    "lump_sum": "2000.00",
}
GRID_EXAMPLE = {
    "discount_bps": [0, 1000, 2000],
    "max_term_months": [12, 24],
    "plan_rate": ["0", "contractual"],
}


class PortfolioDebtIn(Model):
    """One debt of the portfolio and what its debtor says they can pay."""

    id: OneLine | None = Field(
        None, max_length=64, description="Any identifier, echoed with the debt's offers."
    )
    debtor_id: OneLine | None = Field(
        None,
        max_length=64,
        description="Who owes the debt. With `consolidate`, the debts of one debtor (at most"
        f" {MAX_DEBTS_PER_DEBTOR}, one currency, each stating the debtor's one capacity and lump"
        " sum) share what the debtor can pay; a debt without one is its debtor's only debt.",
    )
    currency: Currency
    principal: Amount
    interest: Amount = Field("0", description="Interest accrued and unpaid (arrears).")
    fees: Amount = Field("0", description="Fees outstanding.")
    nominal_annual_rate: Rate = Field(description="The contractual nominal annual rate.")
    days_past_due: Integer = Field(ge=0, le=36_500)
    capacity: Amount = Field(description="What the debtor can pay each month.")
    lump_sum: Amount = Field("0", description="Cash the debtor has now.")

    model_config = with_examples(DEBT_EXAMPLE)


class GridIn(Model):
    """Policy parameters to vary: every combination of the listed values is simulated.

    ``discount_scale`` multiplies every discount band of the policy; ``discount_bps`` gives
    one discount for every debt instead (the policy's ``max_discount_bps`` still caps both).
    """

    discount_scale: list[Scale] | None = Field(None, min_length=1, max_length=32)
    discount_bps: list[Bps] | None = Field(None, min_length=1, max_length=32)
    max_discount_bps: list[Bps] | None = Field(None, min_length=1, max_length=32)
    max_term_months: list[Term] | None = Field(None, min_length=1, max_length=32)
    plan_rate: list[PlanRate] | None = Field(None, min_length=1, max_length=32)
    deferral_periods: list[Periods] | None = Field(None, min_length=1, max_length=32)
    settlement_plan_discount_share_bps: list[Bps] | None = Field(None, min_length=1, max_length=32)
    settlement_plan_max_instalments: list[Instalments] | None = Field(
        None, min_length=1, max_length=32
    )

    model_config = with_examples(GRID_EXAMPLE)

    def to_engine(self) -> dict[str, list[object]]:
        """The grid as :func:`plans.simulation.policy_grid` takes it.

        Examples
        --------
        >>> GridIn(max_term_months=[12, 24]).to_engine()
        {'max_term_months': [12, 24]}
        """
        values = self.model_dump(exclude_none=True)
        return {key: list(values[key]) for key in GRID_KEYS if key in values}

    def points(self) -> int:
        """How many grid points the grid expands to.

        Examples
        --------
        >>> GridIn(max_term_months=[12, 24], plan_rate=["0", "contractual"]).points()
        4
        """
        count = 1
        for values in self.to_engine().values():
            count *= len(values)
        return count


class SimulationRequest(Model):
    """A portfolio, the policy to start from and the variants of it to simulate."""

    as_of: IsoDate = Field(
        ge=date(1900, 1, 1),
        le=date(2999, 12, 31),
        description="The date every debt is owed on and every offer made.",
    )
    debts: list[PortfolioDebtIn] = Field(
        min_length=1,
        description=f"At most {MAX_DEBTS:,} debts (413 beyond; use `repay simulate`).",
    )
    grid: GridIn | None = Field(
        None,
        description=f"Omitted: the policy alone. At most {MAX_GRID_POINTS} grid points and"
        f" {MAX_DEBT_POLICIES:,} debts × grid points (413 beyond).",
    )
    policy: PolicyRef | None = Field(None, description="Omitted: the default policy, latest.")
    include_offers: StrictBool = Field(
        False,
        description="Return every offer of every debt too (at most"
        f" {MAX_OFFER_ROWS:,} debts × grid points × 4; 413 beyond).",
    )
    consolidate: StrictBool = Field(
        False,
        description="Negotiate each debtor's debts together (by `debtor_id`): every debt's"
        " capacity and lump sum become its share of its debtor's, pro rata by balance (largest"
        " remainder), so that a debtor's offers together never ask more than the debtor said"
        " they can pay. Without it every debt's offers assume the whole capacity.",
    )

    model_config = with_examples(
        {"as_of": "2026-11-25", "debts": [DEBT_EXAMPLE], "grid": GRID_EXAMPLE}
    )

    def portfolio(self) -> pd.DataFrame:
        """The debts as a portfolio frame in minor units, converted exactly (never rounded)."""
        rows = []
        for i, debt in enumerate(self.debts):
            where = f"debts[{i}]"

            def amount(
                value: str, name: str, currency: str = debt.currency, at: str = where
            ) -> int:
                return minor(value, currency, field=f"{at}.{name}")

            rows.append(
                {
                    "debt_id": debt.id if debt.id is not None else str(i),
                    "currency": debt.currency,
                    "principal_minor": amount(debt.principal, "principal"),
                    "interest_minor": amount(debt.interest, "interest"),
                    "fees_minor": amount(debt.fees, "fees"),
                    "nominal_annual_rate_ppm": int(
                        rate(debt.nominal_annual_rate, field=f"{where}.nominal_annual_rate")
                        * 1_000_000
                    ),
                    "days_past_due": debt.days_past_due,
                    "capacity_minor": amount(debt.capacity, "capacity"),
                    "lump_sum_minor": amount(debt.lump_sum, "lump_sum"),
                }
            )
        return pd.DataFrame(rows, columns=list(PORTFOLIO_COLUMNS))

    def debtor_ids(self) -> list[str]:
        """Each debt's debtor, checked for ``consolidate``: a debt without a ``debtor_id`` is
        its own debtor's only debt; one debtor's debts (at most MAX_DEBTS_PER_DEBTOR) state one
        currency, one capacity and one lump sum (each the debtor's, repeated), else a
        DomainError naming the debt and the field (rules ``max_debts_per_debtor``,
        ``one_per_debtor``).

        Examples
        --------
        >>> one = dict(DEBT_EXAMPLE, debtor_id="D-1")
        >>> SimulationRequest(as_of="2026-11-25", debts=[one, one | {"id": "A-2"}]).debtor_ids()
        ['D-1', 'D-1']
        >>> SimulationRequest(as_of="2026-11-25",
        ...                   debts=[one, one | {"capacity": "900.00"}]).debtor_ids()
        Traceback (most recent call last):
        ...
        plans.errors.DomainError: debts[1].capacity: debtor 'D-1' states 1250.00 in debts[0] \
and 900.00 here: a debtor's capacity is one figure [one_per_debtor]
        """
        ids: list[str] = []
        first: dict[str, int] = {}
        count: dict[str, int] = {}
        for i, debt in enumerate(self.debts):
            if debt.debtor_id is None:
                ids.append(f"\x00{i}")  # no debtor_id: a debtor of its own, never a given id
                continue
            ids.append(debt.debtor_id)
            count[debt.debtor_id] = count.get(debt.debtor_id, 0) + 1
            if count[debt.debtor_id] > MAX_DEBTS_PER_DEBTOR:
                raise DomainError(
                    f"debts[{i}].debtor_id",
                    "max_debts_per_debtor",
                    f"debtor {debt.debtor_id!r} has more than {MAX_DEBTS_PER_DEBTOR} debts, the"
                    " most one negotiation takes",
                )
            j = first.setdefault(debt.debtor_id, i)
            other = self.debts[j]
            for name, what in (
                ("currency", "debts are in one currency"),
                ("capacity", "capacity is one figure"),
                ("lump_sum", "lump sum is one figure"),
            ):
                mine, theirs = getattr(debt, name), getattr(other, name)
                same = (
                    mine == theirs
                    if name == "currency"
                    else minor(mine, debt.currency, field=f"debts[{i}].{name}")
                    == minor(theirs, other.currency, field=f"debts[{j}].{name}")
                )
                if not same:
                    raise DomainError(
                        f"debts[{i}].{name}",
                        "one_per_debtor",
                        f"debtor {debt.debtor_id!r} states {theirs} in debts[{j}] and {mine}"
                        f" here: a debtor's {what}",
                    )
        return ids


class GridPointOut(Model):
    """One policy variant: its number and the parameters that made it."""

    grid_point: Integer
    label: str
    parameters: dict[str, str]


class SummaryOut(Model):
    """Per grid point and currency, the best offer of every debt added up."""

    grid_point: Integer
    currency: str
    debts: Integer
    with_offer: Integer = Field(description="Debts with at least one feasible offer.")
    share_with_offer: Ratio
    owed: Total
    expected_recovery: Total = Field(description="Of each debt's best offer (ranked first).")
    recovery_rate: Ratio = Field(description="Expected recovery over what is owed.")
    npv: Total
    total_paid: Total
    discount_granted: Total = Field(description="Everything the best offers waive.")
    mean_discount_bps: str = Field(description="Settlement discount of the best offers, mean.")
    best: dict[OfferKind, Integer] = Field(description="How many debts each kind is best for.")


class KindOut(Model):
    """Per grid point, currency and kind: the feasible offers and why the others were not."""

    grid_point: Integer
    currency: str
    kind: OfferKind
    offered: Integer
    rejected: dict[str, Integer] = Field(description="Debts per rule that stopped the offer.")
    expected_recovery: Total
    npv: Total
    total_paid: Total
    discount_granted: Total


class CashFlowOut(Model):
    """What the best offers schedule in a month (0: now and the settlement window)."""

    grid_point: Integer
    currency: str
    month: Integer
    paid: Total
    expected: Total = Field(description="Weighted by the survival curve, discounted.")


class OfferRowOut(Model):
    """One offer of one debt under one grid point."""

    grid_point: Integer
    debt: str
    kind: OfferKind
    feasible: StrictBool
    rule: str | None = Field(description=f"Why not: one of {', '.join(RULES[1:])}.")
    best: StrictBool
    instalments: Integer
    instalment: Total
    down_payment: Total
    total_paid: Total
    discount_bps: Integer
    waived: Total
    apr: str
    npv: Total
    expected_recovery: Total


class SimulationOut(Model):
    """The simulation's totals (and the offers, if asked for)."""

    as_of: IsoDate
    debts: Integer
    consolidated: StrictBool = Field(description="The debts were consolidated by debtor.")
    debtors: Integer = Field(description="Debtors simulated (each debt one, unless consolidated).")
    policy: PolicyUsed
    grid: list[GridPointOut]
    summary: list[SummaryOut]
    by_kind: list[KindOut]
    cash_flow: list[CashFlowOut]
    offers: list[OfferRowOut] | None = None
