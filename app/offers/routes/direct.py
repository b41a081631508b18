"""The calculations answered without FastAPI's per-request work when the key and the policy
version are known in memory (``app.core.direct``): the same functions the routes call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from app.core.access import Actor
from app.core.direct import Answer
from app.finance.policies import ResolvedPolicy, known_for_offer
from app.offers import calculations
from app.offers.routes import offers, plans, rates

Json = dict[str, Any]


def _offered(calculate: Callable[[Any, ResolvedPolicy], Json]) -> Answer:
    """``calculate`` under the policy version the request names, if known without I/O."""

    def answer(request: Any, key: Actor, database: Engine) -> Json | None:
        policy = known_for_offer(database, request.policy, key)
        return None if policy is None else calculate(request, policy)

    return answer


# endpoint -> its answer: each is what the endpoint returns, given the policy it resolves
ANSWERS: dict[Callable[..., Any], Answer] = {
    offers.negotiate: _offered(calculations.negotiate_any),
    offers.counter: _offered(calculations.counter_any),
    plans.instalment: _offered(calculations.one_plan),
    plans.deferral: _offered(calculations.one_plan),
    plans.settlement: _offered(calculations.one_plan),
    plans.compare: _offered(calculations.compare_any),
    # the rates read no policy
    rates.annual_percentage_rate: lambda request, key, database: rates.apr_of(request),
    rates.jurisdiction_annual_rate: lambda request, key, database: rates.annual_rate_of(request),
}
