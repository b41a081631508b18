"""100k debts x 36-month instalment schedules: the vectorised engine against a plain numpy
recursion and against looping the `amortization` package, in one run.

Targets: within 1.5x of the plain recursion; at least 100x faster than the amortization loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from amortization.schedule import amortization_schedule

from plans.policy import Policy
from plans.portfolio import instalment_schedules

DEBTS = 100_000
TERM = 36
LOOPED = 2_000  # the amortization package is timed on a sample and reported per debt


def portfolio(n: int, seed: int = 20261125) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "principal": rng.integers(100_000, 50_000_000, n),
        "interest": rng.integers(0, 100_000, n),
        "fees": rng.integers(0, 50_000, n),
        "rate": rng.integers(1, 240_000, n).astype(np.int64),  # millionths: up to 24 %
    }


def best_of(repeats: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def engine(data: dict[str, np.ndarray]) -> object:
    n = len(data["principal"])
    return instalment_schedules(
        data["principal"],
        data["interest"],
        data["fees"],
        data["rate"],
        np.full(n, TERM),
        policy=Policy(plan_rate=None),
    )


def plain_recursion(data: dict[str, np.ndarray]) -> object:
    # The textbook vectorised schedule in float64, each line rounded to minor units, with the
    # same four columns kept (payment, interest, principal, balance); no arrears, no waterfall.
    n = len(data["principal"])
    rate = data["rate"] / 12e6
    balance = (data["principal"] + data["interest"] + data["fees"]).astype(np.float64)
    level = np.round(balance * rate / -np.expm1(-TERM * np.log1p(rate)))
    out = {k: np.empty((TERM, n)) for k in ("payment", "interest", "principal", "balance")}
    for k in range(TERM):
        interest = np.round(balance * rate)
        payment = balance + interest if k == TERM - 1 else np.minimum(level, balance + interest)
        principal = payment - interest
        balance = balance - principal
        out["payment"][k], out["interest"][k] = payment, interest
        out["principal"][k], out["balance"][k] = principal, balance
    return out


def amortization_loop(data: dict[str, np.ndarray]) -> object:
    rows = []
    for principal, rate in zip(
        (data["principal"][:LOOPED] / 100).tolist(),
        (data["rate"][:LOOPED] / 1e6).tolist(),
        strict=True,
    ):
        rows.append(list(amortization_schedule(principal, rate, TERM)))
    return rows


PLAIN_TARGET, LOOP_TARGET = 1.5, 100


def main() -> dict[str, Any]:
    data = portfolio(DEBTS)
    ours = best_of(5, lambda: engine(data)) / DEBTS * 1e6
    plain = best_of(5, lambda: plain_recursion(data)) / DEBTS * 1e6
    looped = best_of(3, lambda: amortization_loop(data)) / LOOPED * 1e6
    print(f"== vectorised schedules: {DEBTS:,} debts x {TERM} months (best of 5) ==")
    plain_ratio, loop_ratio = ours / plain, looped / ours
    print(f"  engine (exact int64, waterfall)  {ours:8.3f} us/debt")
    print(f"  plain numpy float recursion      {plain:8.3f} us/debt")
    print(f"  amortization package, looped     {looped:8.3f} us/debt")
    print(
        f"  engine / plain   = {plain_ratio:6.2f}x"
        f"  (target <= {PLAIN_TARGET}x: {_verdict(plain_ratio <= PLAIN_TARGET)})"
    )
    print(
        f"  looped / engine  = {loop_ratio:6.1f}x"
        f"  (target >= {LOOP_TARGET}x: {_verdict(loop_ratio >= LOOP_TARGET)})"
    )
    return {
        "debts": DEBTS,
        "months": TERM,
        "engine_us_per_debt": ours,
        "plain_numpy_us_per_debt": plain,
        "amortization_loop_us_per_debt": looped,
        "engine_over_plain": plain_ratio,
        "loop_over_engine": loop_ratio,
        "targets": {"engine_over_plain_at_most": PLAIN_TARGET, "loop_over_engine_at_least": 100},
    }


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


if __name__ == "__main__":
    main()
