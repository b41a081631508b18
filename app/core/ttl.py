"""A small time-to-live cache for lookups that are read on every request and rarely change."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    """Values kept for ``seconds`` (read per call, so settings changes apply), at most ``size``;
    an expired value may be served for one more period while a single caller refreshes it.

    Examples
    --------
    >>> cache: TtlCache[int] = TtlCache(lambda: 60.0)
    >>> cache.get("a") is None
    True
    >>> cache.put("a", 1); cache.get("a")
    1
    >>> cache.discard(lambda key, value: value == 1); cache.get("a") is None
    True
    """

    def __init__(self, seconds: Callable[[], float], size: int = 10_000) -> None:
        self._seconds = seconds
        self._size = size
        self._items: dict[Hashable, tuple[float, V, bool]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """The value if fresh. Just after it expires, the first caller gets ``None`` (and is
        expected to refresh it) while everyone else keeps the old value for up to one more
        period: one lookup per expiry instead of one per request in flight.
        """
        item = self._items.get(key)
        if item is None:
            return None
        expires, value, refreshing = item
        now = time.monotonic()
        if now < expires:
            return value
        if now >= expires + self._seconds():
            return None
        if refreshing:
            return value
        with self._lock:
            self._items[key] = (expires, value, True)
        return None

    def current(self, key: Hashable) -> V | None:
        """What :meth:`get` gives every caller but the one due to refresh: the value if fresh,
        or expired while another caller refreshes it (for up to one more period); ``None``
        when a refresh is due, left to a caller of :meth:`get`, which takes it on."""
        item = self._items.get(key)
        if item is None:
            return None
        expires, value, refreshing = item
        now = time.monotonic()
        if now < expires or (refreshing and now < expires + self._seconds()):
            return value
        return None

    def peek(self, key: Hashable) -> V | None:
        """The value if fresh, without taking the refresh of an expired one upon the caller."""
        item = self._items.get(key)
        return item[1] if item is not None and time.monotonic() < item[0] else None

    def put(self, key: Hashable, value: V) -> None:
        """Keep ``value`` for the configured time (nothing if that time is 0)."""
        seconds = self._seconds()
        if seconds <= 0:
            return
        with self._lock:
            if len(self._items) >= self._size:
                self._items.clear()  # crude, but bounded and never wrong: misses refill it
            self._items[key] = (time.monotonic() + seconds, value, False)

    def discard(self, predicate: Callable[[Hashable, V], bool]) -> None:
        """Forget every entry for which ``predicate(key, value)`` holds."""
        with self._lock:
            for key in [k for k, (_, v, _) in self._items.items() if predicate(k, v)]:
                del self._items[key]

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
