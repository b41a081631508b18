"""The grid: the policy variants a simulation compares, every combination of listed values.

A grid maps the parameters of :data:`GRID_KEYS` to lists of values; :func:`policy_grid` makes
one :class:`GridPoint` per combination, numbered in that order. The simulation lays out plans
on the ``nominal`` interest basis only, so a policy on another basis is refused here rather
than approximated.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from plans.errors import DomainError
from plans.policy import DiscountBand, InterestBasis, Policy, check_rate

GRID_KEYS: tuple[str, ...] = (
    "discount_scale",
    "discount_bps",
    "max_discount_bps",
    "max_term_months",
    "plan_rate",
    "deferral_periods",
    "settlement_plan_discount_share_bps",
    "settlement_plan_max_instalments",
)
"""Parameters a grid may vary, in the order grid points are numbered (the last varies fastest).

``discount_scale`` multiplies every band of the base policy's discount table (rounded half up
to whole basis points, at most 10,000); ``discount_bps`` replaces the table by one discount
for every debt. Either way the policy's cap, ``max_discount_bps``, still applies. ``plan_rate``
takes rates or ``"contractual"`` (the debt's own rate). The rest are the policy fields of the
same name."""

MAX_GRID_POINTS = 10_000


@dataclass(frozen=True, slots=True)
class GridPoint:
    """One policy variant of a grid: its number, the parameters that made it, the policy.

    Examples
    --------
    >>> GridPoint(0, (("max_term_months", "12"),), Policy(max_term_months=12)).label
    'max_term_months=12'
    """

    index: int
    parameters: tuple[tuple[str, str], ...]
    policy: Policy

    @property
    def label(self) -> str:
        """The parameters as ``name=value`` pairs, or ``base`` for the base policy itself."""
        return ", ".join(f"{k}={v}" for k, v in self.parameters) or "base"


def policy_grid(base: Policy, grid: Mapping[str, object] | None = None) -> tuple[GridPoint, ...]:
    """The policy variants of a grid: every combination of the listed values, on ``base``.

    ``grid`` maps the names of :data:`GRID_KEYS` to lists of values (a single value is a
    one-item list), typically read from a YAML file::

        discount_bps: [0, 1000, 2000, 3000, 4000]
        max_term_months: [6, 12, 24, 36]
        plan_rate: [0, contractual]

    Examples
    --------
    >>> grid = {"max_term_months": [6, 12], "plan_rate": [0, "contractual"]}
    >>> points = policy_grid(Policy(), grid)
    >>> [p.label for p in points]  # doctest: +NORMALIZE_WHITESPACE
    ['max_term_months=6, plan_rate=0', 'max_term_months=6, plan_rate=contractual',
     'max_term_months=12, plan_rate=0', 'max_term_months=12, plan_rate=contractual']
    >>> points[1].policy.plan_rate is None
    True
    """
    grid = dict(grid or {})
    unknown = sorted(set(grid) - set(GRID_KEYS))
    if unknown:
        raise DomainError(
            f"grid.{unknown[0]}", "unknown", f"a grid may vary {', '.join(GRID_KEYS)}"
        )
    if "discount_scale" in grid and "discount_bps" in grid:
        raise DomainError("grid.discount_bps", "exclusive", "give discount_scale or discount_bps")
    axes: list[list[tuple[str, str, dict[str, Any]]]] = []
    size = 1
    for key in GRID_KEYS:
        if key not in grid:
            continue
        raw = grid[key]
        values = list(raw) if isinstance(raw, list | tuple) else [raw]
        if not values:
            raise DomainError(f"grid.{key}", "empty", "needs at least one value")
        axes.append([_grid_change(base, key, value) for value in values])
        size *= len(values)
        if size > MAX_GRID_POINTS:
            raise DomainError("grid", "max_points", f"at most {MAX_GRID_POINTS} grid points")
    points = []
    for index, combination in enumerate(itertools.product(*axes)):
        changes: dict[str, Any] = {}
        for _, _, change in combination:
            changes.update(change)
        policy = replace(base, **changes) if changes else base
        _check_supported(policy)
        points.append(GridPoint(index, tuple((k, shown) for k, shown, _ in combination), policy))
    return tuple(points)


def _grid_change(base: Policy, key: str, value: object) -> tuple[str, str, dict[str, Any]]:
    field = f"grid.{key}"
    if key == "plan_rate":
        if value is None or value == "contractual":
            return key, "contractual", {"plan_rate": None}
        rate = check_rate(_decimal(value, field), field=field)
        return key, str(rate), {"plan_rate": rate}
    if key == "discount_scale":
        scale = _decimal(value, field)
        if scale < 0:
            raise DomainError(field, "non_negative", "must be 0 or more")
        bands = tuple(
            DiscountBand(b.min_days_past_due, min(10_000, _half_up(b.discount_bps * scale)))
            for b in base.discount_bands
        )
        return key, str(scale), {"discount_bands": bands}
    number = _whole(value, field)
    if key == "discount_bps":
        if not 0 <= number <= 10_000:
            raise DomainError(field, "bps_range", "must be between 0 and 10000 basis points")
        return key, str(number), {"discount_bands": (DiscountBand(0, number),)}
    change: dict[str, Any] = {key: number}
    if key == "deferral_periods" and number > base.deferral_max_periods:
        change["deferral_max_periods"] = number  # the grid asks for it; the maximum follows
    return key, str(number), change


def _decimal(value: object, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise DomainError(field, "decimal", f"{value!r} is not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise DomainError(field, "decimal", f"{value!r} is not a number") from None
    if not number.is_finite():
        raise DomainError(field, "decimal", "must be finite")
    return number


def _whole(value: object, field: str) -> int:
    number = _decimal(value, field)
    if number != number.to_integral_value():
        raise DomainError(field, "integer", f"{value!r} is not a whole number")
    return int(number)


def _half_up(value: Decimal) -> int:
    return int(value.to_integral_value(rounding="ROUND_HALF_UP"))


def _check_supported(policy: Policy) -> None:
    if policy.interest_basis is not InterestBasis.NOMINAL:
        raise DomainError(
            "policy.interest_basis",
            "unsupported",
            "the simulation lays out plans on the nominal interest basis only",
        )


def grid_points(grid: Policy | Sequence[GridPoint]) -> tuple[GridPoint, ...]:
    """A policy as a one-point grid, or the grid itself.

    Examples
    --------
    >>> grid_points(Policy())[0].label
    'base'
    """
    if isinstance(grid, Policy):
        _check_supported(grid)
        return (GridPoint(0, (), grid),)
    return tuple(grid)
