"""The caches' time (``app.core.ttl.TtlCache``): what each kind of reader is given when."""

from __future__ import annotations

from app.core.ttl import TtlCache
from tests.app.conftest import Clock


def test_current_serves_what_get_serves_to_all_but_the_caller_due_to_refresh(
    clock: Clock,
) -> None:
    cache: TtlCache[str] = TtlCache(lambda: 2.0)
    cache.put("key", "actor")
    assert cache.current("key") == cache.peek("key") == "actor"
    clock.advance(2.0)  # expired: a refresh is due, and nobody has taken it on
    assert cache.current("key") is None and cache.peek("key") is None
    assert cache.get("key") is None  # this caller refreshes ...
    assert cache.current("key") == "actor"  # ... while the others are served the old value,
    assert cache.get("key") == "actor"  # the same through get
    assert cache.peek("key") is None
    clock.advance(1.99)
    assert cache.current("key") == "actor"
    clock.advance(0.01)  # for one more period at most
    assert cache.current("key") is None and cache.get("key") is None
    cache.put("key", "again")
    assert cache.current("key") == "again"


def test_current_never_takes_a_refresh_on(clock: Clock) -> None:
    cache: TtlCache[str] = TtlCache(lambda: 2.0)
    cache.put("key", "actor")
    clock.advance(2.5)
    for _ in range(3):
        assert cache.current("key") is None
    assert cache.get("key") is None  # the refresh is still the next get's
