"""One contact check (``plans.contact.check_contact``) in-process: p50 and p99 latency.

The debt has a history of 50 attempts over the last month (calls, texts and emails to three
parties), which every check scans for the caps that count them.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from plans.contact import Attempt, Channel, Outcome, Party, Role, check_contact, jurisdiction

CN, US, GB = jurisdiction("CN"), jurisdiction("US"), jurisdiction("GB")


def _utc(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _debtor(zone: str) -> Party:
    return Party("d1", Role.DEBTOR, zone)


CASES = {
    # 12:00 in New York, 11:00 in Shanghai, 12:00 in London: allowed after every check
    "US debtor, phone, allowed": (US, _debtor("America/New_York"), Channel.PHONE, _utc(12, 3, 17)),
    "CN debtor, phone, allowed": (CN, _debtor("Asia/Shanghai"), Channel.PHONE, _utc(12, 3, 3)),
    "GB debtor, sms, allowed": (GB, _debtor("Europe/London"), Channel.SMS, _utc(12, 3, 12)),
    # 23:00 in New York: refused, and the next permitted time searched for
    "US debtor, phone, refused at 23:00": (
        US,
        _debtor("America/New_York"),
        Channel.PHONE,
        _utc(12, 4, 4),
    ),
}


def _history(rng: random.Random, before: datetime) -> list[Attempt]:
    t = before - timedelta(days=32)
    history = []
    for _ in range(50):
        t += timedelta(hours=rng.uniform(6, 14))
        outcome = rng.choice([Outcome.NO_ANSWER, Outcome.MESSAGE_LEFT, Outcome.WRONG_PARTY])
        history.append(
            Attempt(rng.choice(["d1", "c1", "g1"]), rng.choice(list(Channel)), t, outcome)
        )
    return history


def measure(runs: int = 20_000) -> dict[str, tuple[float, float]]:
    """p50 and p99 of one contact check per case, in microseconds."""
    rng = random.Random(7)
    results = {}
    for name, (rules, party, channel, at) in CASES.items():
        history = _history(rng, at)
        for _ in range(2_000):  # warm the caches (holiday calendars, local-time instants)
            check_contact(party, channel, at, history=history, rules=rules)
        samples = []
        gc.collect()
        for _ in range(runs):
            start = time.perf_counter_ns()
            check_contact(party, channel, at, history=history, rules=rules)
            samples.append(time.perf_counter_ns() - start)
        samples.sort()
        results[name] = (statistics.median(samples) / 1000, samples[int(0.99 * runs) - 1] / 1000)
    return results


def main() -> dict[str, dict[str, float]]:
    print("== contacts: one contact check (check_contact), 50 attempts on the debt, in-process ==")
    figures = {}
    for name, (p50, p99) in measure().items():
        print(f"  {name:36s} p50 {p50:6.1f} us   p99 {p99:6.1f} us")
        figures[name] = {"p50_us": p50, "p99_us": p99}
    return figures


if __name__ == "__main__":
    main()
