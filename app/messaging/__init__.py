"""Messages to a debt's parties: what queues them, subscribed to the links' events
(``notices``: reminders, payment confirmations, missed-payment notices), the transactional
outbox that stores them and hands them to senders (``outbox``), their wording (``messages``),
the webhook sender (``webhook``), what a party has been sent, as their page lists it
(``deliveries``), and the senders' routes (``routes``).
"""

from __future__ import annotations


def install() -> None:
    """Subscribe the notices to the links' events and provide the page's reader: at start, by
    the app and the CLI (idempotent)."""
    from app.core.events import bus
    from app.links import readers
    from app.messaging import deliveries, notices

    notices.subscribe(bus)
    readers.provide(deliveries.page_reader)
