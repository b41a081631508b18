"""One debt, the full offer set: median and p99 latency in-process (target: p99 <= 0.5 ms)."""

from __future__ import annotations

import gc
import statistics
import time
from datetime import date
from decimal import Decimal
from typing import Any

from plans.calendar import Frequency
from plans.compare import negotiate
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


def measure(runs: int = 3000) -> dict[str, tuple[float, float, int]]:
    results = {}
    for name, (debt, capacity, policy) in CASES.items():
        for _ in range(200):  # warm caches (holiday calendars, imports)
            negotiate(debt, capacity, policy=policy)
        samples = []
        gc.collect()
        for _ in range(runs):
            start = time.perf_counter_ns()
            result = negotiate(debt, capacity, policy=policy)
            samples.append(time.perf_counter_ns() - start)
        samples.sort()
        lines = max(len(o.schedule.lines) for o in result.ranked)
        results[name] = (
            statistics.median(samples) / 1000,
            samples[int(0.99 * len(samples)) - 1] / 1000,
            lines,
        )
    return results


TARGET_P99_US = 500


def main() -> dict[str, Any]:
    print("== engine: full offer set for one debt (negotiate), in-process ==")
    figures: dict[str, Any] = {"target_p99_us": TARGET_P99_US, "cases": {}}
    for name, (median, p99, lines) in measure().items():
        verdict = "ok" if p99 <= TARGET_P99_US else "ABOVE TARGET"
        print(
            f"  {name:32s} median {median:7.1f} us   p99 {p99:7.1f} us   "
            f"(longest schedule {lines} lines; target p99 <= {TARGET_P99_US} us: {verdict})"
        )
        figures["cases"][name] = {"median_us": median, "p99_us": p99, "lines": lines}
    return figures


if __name__ == "__main__":
    main()
