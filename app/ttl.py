"""A small time-to-live cache for lookups that are read on every request and rarely change."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    """Values kept for ``seconds`` (read per call, so settings changes apply), at most ``size``.

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
        self._items: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """The value if present and fresh."""
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def put(self, key: Hashable, value: V) -> None:
        """Keep ``value`` for the configured time (nothing if that time is 0)."""
        seconds = self._seconds()
        if seconds <= 0:
            return
        with self._lock:
            if len(self._items) >= self._size:
                self._items.clear()  # crude, but bounded and never wrong: misses refill it
            self._items[key] = (time.monotonic() + seconds, value)

    def discard(self, predicate: Callable[[Hashable, V], bool]) -> None:
        """Forget every entry for which ``predicate(key, value)`` holds."""
        with self._lock:
            for key in [k for k, (_, v) in self._items.items() if predicate(k, v)]:
                del self._items[key]

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
