"""One day's reminders for 100,000 active plans (``plans.reminders.reminders_on``).

The book is synthetic and seeded: monthly plans with 1-12 payment dates left, due on days 1-28
of the month (spread evenly), the policy's default reminders (3 days before and on the day;
10 % of plans also 7 days before); debts in China (60 %), the US (25 %) and England (15 %),
each with 1-3 parties (a debtor, then a co-debtor, a guarantor or a third party) in their
jurisdiction's zones, on email and/or SMS (some opted out, a few stopped); 20 % of debts have
1-10 contacts in the 10 days before (calls, texts, emails); 2 % have a second plan.

Printed, in wall and CPU time: the time to index the payment dates (once per job), to compute
the day (median of several runs), how many reminders it made and dropped, and the cost per
plan and per reminder; the same for a worst case where every plan has a reminder that day; and,
for scale, the plan-by-plan path (``plan_reminders``) on the plans the index picked.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import numpy as np

from plans.calendar import add_months
from plans.contact import Attempt, Channel, Outcome, Party, Role, jurisdiction
from plans.reminders import (
    ActivePlan,
    Due,
    DueIndex,
    Recipient,
    Reminder,
    plan_reminders,
    reminders_on,
)

PLANS = 100_000
ON = date(2026, 12, 22)  # a Tuesday; Christmas is 3 days on (a holiday in the US and England)
ZONES = {
    "CN": ["Asia/Shanghai"],
    "US": ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"],
    "GB": ["Europe/London"],
}
RULES = {code: jurisdiction(code) for code in ZONES}
CHANNELS = [
    frozenset({Channel.PHONE, Channel.EMAIL, Channel.SMS}),
    frozenset({Channel.EMAIL, Channel.SMS}),
    frozenset({Channel.PHONE, Channel.SMS}),
    frozenset({Channel.EMAIL}),
]


def book(
    n: int = PLANS, *, every_plan_that_day: bool = False, seed: int = 20261222
) -> tuple[list[ActivePlan], dict[str, list[Attempt]]]:
    """``n`` active plans and their debts' histories; or ones that all have a reminder on ON."""
    rng = np.random.default_rng(seed)
    codes = rng.choice(["CN", "US", "GB"], n, p=[0.6, 0.25, 0.15]).tolist()
    size = rng.choice([1, 2, 3], n, p=[0.5, 0.35, 0.15]).tolist()
    left = rng.integers(1, 13, n).tolist()
    extended = (rng.random(n) < 0.1).tolist()  # also 7 days before
    twice = (rng.random(n) < 0.02).tolist()  # a second plan on the same debt
    contacted = (rng.random(n) < 0.2).tolist()
    on_the_day = (rng.random(n) < 0.5).tolist()
    # per party slot (3 per debt, the first the debtor)
    role = rng.choice(len(_OTHERS), (n, 3), p=[0.5, 0.35, 0.15]).tolist()
    zone = rng.integers(0, 4, (n, 3)).tolist()
    given = rng.choice(len(CHANNELS), (n, 3), p=[0.3, 0.4, 0.15, 0.15]).tolist()
    opted_out = (rng.random((n, 3)) < 0.05).tolist()
    stopped = (rng.random((n, 3)) < 0.02).tolist()
    midnight = datetime.combine(ON, datetime.min.time(), UTC)
    plans: list[ActivePlan] = []
    histories: dict[str, list[Attempt]] = {}
    for i in range(n):
        code = codes[i]
        zones, rules = ZONES[code], RULES[code]
        ref = f"D{i}"
        people = tuple(
            Recipient(
                Party(
                    f"{ref}-{k}",
                    Role.DEBTOR if k == 0 else _OTHERS[role[i][k]],
                    zones[zone[i][k] % len(zones)],
                    locale="zh-CN" if code == "CN" else "en",
                    channels=CHANNELS[given[i][k]],
                    opted_out=frozenset({Channel.SMS}) if opted_out[i][k] else frozenset(),
                    stopped=stopped[i][k],
                ),
                rules,
            )
            for k in range(size[i])
        )
        if every_plan_that_day:
            first = ON if on_the_day[i] else ON + timedelta(days=3)
        else:
            # due on days 1-28 of the month, evenly; one already behind is due next month
            first = date(2026, 12, i % 28 + 1)
            if first < ON:
                first = add_months(first, 1)
        dues = tuple(Due(1 + m, add_months(first, m)) for m in range(left[i]))
        days_before = (7, 3, 0) if extended[i] else (3, 0)
        plans.append(ActivePlan(f"P{i}", ref, dues, people, days_before))
        if twice[i]:
            plans.append(ActivePlan(f"P{i}b", ref, dues, people, days_before))
        if contacted[i]:
            count = int(rng.integers(1, 11))
            who = rng.integers(0, len(people), count).tolist()
            how = rng.integers(0, len(_ALL), count).tolist()
            what = rng.integers(0, len(_OUTCOMES), count).tolist()
            ago = rng.integers(0, 10 * 24 * 60, count).tolist()
            histories[ref] = [
                Attempt(
                    people[who[j]].party.id,
                    _ALL[how[j]],
                    midnight - timedelta(minutes=ago[j]),
                    _OUTCOMES[what[j]],
                )
                for j in range(count)
            ]
    return plans, histories


_OTHERS = [Role.CO_DEBTOR, Role.GUARANTOR, Role.THIRD_PARTY]
_ALL = list(Channel)
_OUTCOMES = list(Outcome)


def median_of(runs: int, run: Callable[[], object]) -> tuple[float, float, object]:
    """Median wall and CPU times of ``runs`` calls (seconds), and the last result.

    Both, because the machine may be shared: CPU time is what the work costs, wall time what
    it took here.
    """
    walls, cpus = [], []
    result: object = None
    for _ in range(runs):
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        result = run()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def _times(wall: float, cpu: float) -> str:
    return f"{wall * 1000:8.1f} ms wall ({cpu * 1000:7.1f} ms CPU)"


def _built(**kwargs: bool) -> tuple[list[ActivePlan], dict[str, list[Attempt]]]:
    # A job that loads a book keeps it for the run: built without the collector, then frozen
    # out of it (gc.freeze), so collections triggered by the reminders do not walk the book.
    start = time.perf_counter()
    gc.disable()
    try:
        built = book(**kwargs)
    finally:
        gc.enable()
    gc.freeze()
    print(f"  (book built in {time.perf_counter() - start:.1f} s)")
    return built


def _plan_by_plan(plans: list[ActivePlan], histories: dict[str, list[Attempt]]) -> int:
    seen = {ref: list(h) for ref, h in histories.items()}
    made = 0
    for p in plans:
        history = seen.setdefault(p.debt_ref, [])
        found = plan_reminders(p, history=history, on=ON)
        history += [
            Attempt(r.party_id, r.channel, r.send_at, Outcome.MESSAGE_LEFT)
            for r in found
            if r.send_at is not None
        ]
        made += len(found)
    return made


def _report(
    name: str,
    plans: list[ActivePlan],
    histories: dict[str, list[Attempt]],
    *,
    runs: int,
    sample: int,
) -> None:
    index_wall, index_cpu, built = median_of(3, lambda: DueIndex(plans))
    assert isinstance(built, DueIndex)
    index = built
    picked = index.plans_on(ON).tolist()
    wall, cpu, found = median_of(
        runs, lambda: reminders_on(ON, plans, histories=histories, index=index)
    )
    assert isinstance(found, list)
    reminders: list[Reminder] = found
    made = max(1, len(reminders))
    dropped = sum(r.send_at is None for r in reminders)
    print(f"  {name}: {len(plans):,} plans, {len(picked):,} with a payment date 0, 3 or 7 days on")
    print(f"    index of payment dates     {_times(index_wall, index_cpu)}, once per job")
    print(
        f"    one day's reminders        {_times(wall, cpu)}, median of {runs}:"
        f" {len(reminders):,} reminders ({dropped:,} dropped)"
    )
    print(
        f"    per plan                   {wall / len(plans) * 1e6:8.2f} us wall"
        f" ({cpu / len(plans) * 1e6:.2f} us CPU)"
    )
    print(
        f"    per reminder               {wall / made * 1e6:8.2f} us wall"
        f" ({cpu / made * 1e6:.2f} us CPU)"
    )
    # For scale: the plan-by-plan rule (plan_reminders) on the plans the index picked, or a
    # sample of them: the same reminders without the schedule shared by parties alike.
    chosen = [plans[i] for i in picked[:sample]]
    start, started = time.perf_counter(), time.process_time()
    count = max(1, _plan_by_plan(chosen, histories))
    scalar_wall, scalar_cpu = time.perf_counter() - start, time.process_time() - started
    print(
        f"    plan by plan, {len(chosen):,} plans: {scalar_wall / count * 1e6:.2f} us wall"
        f" ({scalar_cpu / count * 1e6:.2f} us CPU) per reminder; once"
    )


def main() -> None:
    print(f"== reminders: one day ({ON}) of reminders for active plans (reminders_on) ==")
    plans, histories = _built()
    _report("typical day", plans, histories, runs=5, sample=len(plans))
    del plans, histories
    gc.unfreeze()
    gc.collect()
    plans, histories = _built(every_plan_that_day=True)
    _report("worst case, every plan reminded that day", plans, histories, runs=3, sample=10_000)


if __name__ == "__main__":
    main()
