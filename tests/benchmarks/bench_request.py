"""Where a negotiate request's computing goes, in-process: the profile behind the HTTP ratio.

The same 500 varied bodies as the HTTP benchmark (``bench_api.bodies``), each answered as
``POST /v1/offers/negotiate`` answers it, minus HTTP and the key check, in steps timed one by
one (median over the bodies, three rounds):

- ``parse``: the JSON body read into the contract's request (pydantic, as the route's body);
- ``engine``: the offers built and ranked (``plans.compare.negotiate``), the debt and the
  capacity turned into the engine's types first;
- ``answer``: the rest of ``app.offers.calculations.negotiate_offers`` (each offer's summary
  in the locale, the response document of decimal strings, the affordability), measured as
  the whole call less its engine step;
- ``bytes``: the document as JSON bytes (orjson, as the response is sent).

What this is for: the HTTP ratio is server CPU per request, and everything here but the
protocol and the framework is in one of these steps, so a change to the ratio is explained by
a change here (and a change here that does not move the ratio is the framework's).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import orjson
from pydantic import TypeAdapter

from app.finance.policies import ResolvedPolicy
from app.offers import calculations
from plans.compare import negotiate
from schemas.offers import NegotiateBody, NegotiateRequest
from schemas.policies import PolicyBody
from tests.benchmarks.bench_api import bodies

TODAY = date(2026, 11, 25)  # the bodies' as-of date: every offer's first payment is due after


def default_policy() -> ResolvedPolicy:
    """The default policy, as an organisation's first request resolves it (no database)."""
    body = PolicyBody()
    return ResolvedPolicy(1, 1, "default", 1, body, body.to_engine(), body.contact.to_engine("x"))


def _timed(step: Callable[[], object]) -> tuple[float, Any]:
    start = time.perf_counter_ns()
    result = step()
    return (time.perf_counter_ns() - start) / 1000, result


def measure(rounds: int = 3) -> dict[str, float]:
    """Median microseconds of each step over the bodies, and of their sum."""
    policy, adapter = default_policy(), TypeAdapter(NegotiateBody)
    texts = [text.encode() for text in bodies()]
    steps: dict[str, list[float]] = {"parse": [], "engine": [], "answer": [], "bytes": []}
    for _ in range(rounds):
        for text in texts:
            parse, request = _timed(lambda text=text: adapter.validate_json(text))
            assert isinstance(request, NegotiateRequest)

            def engine(request: NegotiateRequest = request) -> object:
                debt = calculations.engine_debt(request.debt)
                capacity = request.capacity.to_engine(debt.currency, policy.engine)
                return negotiate(
                    debt,
                    capacity,
                    policy=policy.engine,
                    rank_by=request.rank_by,
                    today=TODAY,
                    until=request.until,
                )

            built, _ = _timed(engine)
            whole, document = _timed(
                lambda request=request: calculations.negotiate_offers(request, policy, today=TODAY)
            )
            sent, _ = _timed(lambda document=document: orjson.dumps(document))
            steps["parse"].append(parse)
            steps["engine"].append(built)
            steps["answer"].append(max(whole - built, 0.0))
            steps["bytes"].append(sent)
    figures = {name: statistics.median(times) for name, times in steps.items()}
    figures["total"] = statistics.median(sum(times) for times in zip(*steps.values(), strict=True))
    return figures


def main() -> dict[str, float]:
    figures = measure()
    print("== a negotiate request's computing in-process, 500 varied bodies (median us) ==")
    for name, value in figures.items():
        share = f"   {value / figures['total']:5.1%}" if name != "total" else ""
        print(f"  {name:8s} {value:8.1f} us{share}")
    return figures


if __name__ == "__main__":
    main()
