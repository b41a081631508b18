"""One debt, the full offer set: median and p99 latency in-process (target: p99 <= 0.5 ms);
and several debts negotiated as one consolidated plan (2 and 10 debts, pro rata), reported
beside it (no target yet: each debt's plan is the single-debt engine's, so about n times it)."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import plans
from plans.allocation import NamedDebt
from plans.calendar import Frequency
from plans.compare import Comparison, negotiate
from plans.consolidation import ConsolidatedComparison, negotiate_consolidated
from plans.debt import Capacity, Debt
from plans.policy import Policy

CASES = {
    # a CNY card debt, 36-month policy at the contractual rate: the instalment plan runs ~30
    # lines, the deferral 2 + ~30, both settlements are made
    "CNY monthly, contractual rate": (
        Debt("CNY", 1_000_000, 35_000, 15_000, Decimal("0.18"), date(2026, 11, 25), 95),
        Capacity(40_000, 300_000, date(2026, 12, 15), Frequency.MONTHLY),
        Policy(plan_rate=None),
    ),
    # weekly pay, 60 weekly instalments: the longest schedules the engine builds per call
    "USD weekly, 60 lines": (
        Debt("USD", 600_000, 20_000, 5_000, Decimal("0.12"), date(2026, 11, 25), 200),
        Capacity(10_500, 50_000, date(2026, 12, 4), Frequency.WEEKLY),
        Policy(plan_rate=None, holiday_country="US", max_term_months=14),
    ),
}


def timed(
    run: Callable[[], Comparison | ConsolidatedComparison], runs: int, warm: int
) -> tuple[float, float, int]:
    """Median and p99 of ``run`` in microseconds after ``warm`` calls (caches, imports), and
    the longest schedule it makes."""
    for _ in range(warm):
        run()
    samples = []
    gc.collect()
    for _ in range(runs):
        start = time.perf_counter_ns()
        result = run()
        samples.append(time.perf_counter_ns() - start)
    samples.sort()
    lines = max(len(o.schedule.lines) for o in result.ranked)
    return statistics.median(samples) / 1000, samples[int(0.99 * len(samples)) - 1] / 1000, lines


def measure(runs: int = 3000) -> dict[str, tuple[float, float, int]]:
    return {
        name: timed(partial(negotiate, debt, capacity, policy=policy), runs, warm=200)
        for name, (debt, capacity, policy) in CASES.items()
    }


TARGET_P99_US = 500


def _debts(n: int) -> list[NamedDebt]:
    # n CNY debts of 2,000.00 to 11,000.00 (rates 12 % to 24 %, 60 to 600 days past due)
    return [
        NamedDebt(
            f"debt-{i:02d}",
            Debt(
                "CNY",
                200_000 + 100_000 * i,
                5_000 * (i % 3),
                1_000 * (i % 2),
                Decimal("0.12") + Decimal("0.12") * (i % 3) / 2,
                date(2026, 11, 25),
                60 + 60 * i,
            ),
        )
        for i in range(n)
    ]


CONSOLIDATED = {
    # 5,000.00 owed, 400.00 a month pro rata: 15 lines (the deferral 17)
    "CNY 2 debts, pro rata": (_debts(2), Capacity(40_000, 0, date(2026, 12, 15))),
    # ten debts, 65,000.00 owed, 3,000.00 a month pro rata: 29 lines (the deferral 33)
    "CNY 10 debts, pro rata": (_debts(10), Capacity(300_000, 0, date(2026, 12, 15))),
}


def measure_consolidated(runs: int = 500) -> dict[str, tuple[float, float, int]]:
    """``negotiate_consolidated`` of each case: median and p99 in microseconds, lines."""
    policy = Policy(plan_rate=None)
    return {
        name: timed(partial(negotiate_consolidated, debts, capacity, policy=policy), runs, warm=20)
        for name, (debts, capacity) in CONSOLIDATED.items()
    }


def served() -> str:
    """What runs: the engine compiled with mypyc (``make``), or its plain Python sources."""
    modules = plans.compiled()
    return f"compiled with mypyc ({len(modules)} modules)" if modules else "plain Python"


def main() -> dict[str, Any]:
    print(f"== engine: full offer set for one debt (negotiate), in-process; {served()} ==")
    figures: dict[str, Any] = {
        "served": served(),
        "compiled": list(plans.compiled()),
        "target_p99_us": TARGET_P99_US,
        "cases": {},
    }
    for name, (median, p99, lines) in measure().items():
        verdict = "ok" if p99 <= TARGET_P99_US else "ABOVE TARGET"
        print(
            f"  {name:32s} median {median:7.1f} us   p99 {p99:7.1f} us   "
            f"(longest schedule {lines} lines; target p99 <= {TARGET_P99_US} us: {verdict})"
        )
        figures["cases"][name] = {"median_us": median, "p99_us": p99, "lines": lines}
    print("== engine: several debts as one plan (negotiate_consolidated), in-process ==")
    figures["consolidated"] = {}
    for name, (median, p99, lines) in measure_consolidated().items():
        print(f"  {name:32s} median {median:7.1f} us   p99 {p99:7.1f} us   ({lines} lines)")
        figures["consolidated"][name] = {"median_us": median, "p99_us": p99, "lines": lines}
    return figures


if __name__ == "__main__":
    main()
