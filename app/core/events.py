"""Domain events: how one capability makes something happen in another without importing it.

A room that changes something others care about (a plan accepted, a payment recorded, an
instalment missed) publishes an event; the room that acts on it (messaging queues reminders and
confirmations) subscribes a handler. Handlers run at once, in the publisher's transaction and
on its session: what they write commits or rolls back with the change that caused it, which is
what keeps the outbox exactly-once (a message is queued if and only if its cause is stored).

The events themselves are frozen dataclasses declared by the room that publishes them
(``app.links.events``); this module only routes them. Modelled on the message bus of
*Architecture Patterns with Python* (Percival and Gregory, chapter 8), without a queue: no
handler here needs to run later or elsewhere.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Pinged:
...     n: int
>>> bus = Bus()
>>> seen = []
>>> bus.subscribe(Pinged, lambda db, event: seen.append(event.n))
>>> bus.publish(None, Pinged(7))  # type: ignore[arg-type]
>>> seen
[7]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

E = TypeVar("E")
Handler = Callable[[Session, E], object]


class Bus:
    """Event types to their handlers, called in the order they subscribed."""

    def __init__(self) -> None:
        self._handlers: dict[type[Any], list[Handler[Any]]] = {}

    def subscribe(self, event_type: type[E], handler: Handler[E]) -> None:
        """Call ``handler(db, event)`` for every ``event_type`` published; once, however often
        the same handler subscribes (the app and the CLI both wire the rooms at start)."""
        found = self._handlers.setdefault(event_type, [])
        if handler not in found:
            found.append(handler)

    def handlers(self, event_type: type[Any]) -> tuple[Handler[Any], ...]:
        """The handlers of ``event_type``, in order."""
        return tuple(self._handlers.get(event_type, ()))

    def publish(self, db: Session, event: object) -> None:
        """Hand ``event`` to each of its type's handlers, in ``db``'s transaction.

        A handler's exception propagates to the publisher, whose transaction then rolls back:
        a change is never stored without what it must cause.
        """
        for handler in self._handlers.get(type(event), ()):
            handler(db, event)


#: The service's one bus: rooms subscribe at start (``app.messaging.install``).
bus = Bus()
