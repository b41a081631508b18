"""`make bench`: run every benchmark and print its figures (no assertions, no timing tests)."""

from __future__ import annotations

import sys

from tests.benchmarks import (
    bench_api,
    bench_contacts,
    bench_engine,
    bench_portfolio,
    bench_reminders,
    bench_vector,
)

BENCHMARKS = {
    "engine": bench_engine.main,
    "vector": bench_vector.main,
    "api": bench_api.main,
    "portfolio": bench_portfolio.main,
    "contacts": bench_contacts.main,
    "reminders": bench_reminders.main,
}


def main(names: list[str]) -> None:
    for name in names or list(BENCHMARKS):
        BENCHMARKS[name]()
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
