"""`make bench`: run every benchmark, print its figures and write them to ``bench.json``
(no assertions, no timing tests).

``python -m tests.benchmarks [NAME ...] [--out PATH]`` runs the named benchmarks (default: all)
and writes what they return to PATH (default ``bench.json`` here), each under the command that
runs it alone, with the machine's cores and load average before and after: figures taken while
other work loads the machine are noisy, and the file says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tests.benchmarks import (
    bench_api,
    bench_contacts,
    bench_engine,
    bench_portfolio,
    bench_reminders,
    bench_request,
    bench_vector,
)

BENCHMARKS: dict[str, Callable[[], Any]] = {
    "engine": bench_engine.main,
    "request": bench_request.main,
    "vector": bench_vector.main,
    "api": bench_api.main,
    "portfolio": bench_portfolio.main,
    "contacts": bench_contacts.main,
    "reminders": bench_reminders.main,
}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks")
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    parser.add_argument("--out", default="bench.json", help="where to write the figures")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}: choose from {', '.join(BENCHMARKS)}")
    report: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "python": platform.python_version(),
            "load_average_before": _load(),
        },
        "engine": bench_engine.served(),
        "benchmarks": {},
    }
    print(f"engine: {report['engine']}\n")
    for name in args.names or list(BENCHMARKS):
        figures = BENCHMARKS[name]()
        print()
        if figures is not None:
            report["benchmarks"][name] = {
                "command": f"python -m tests.benchmarks {name}",
                "figures": figures,
            }
    report["machine"]["load_average_after"] = _load()
    with open(args.out, "w") as out:
        json.dump(report, out, indent=2)
        out.write("\n")
    print(f"figures written to {args.out}")


if __name__ == "__main__":
    main(sys.argv[1:])
