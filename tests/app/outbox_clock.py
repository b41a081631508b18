"""The outbox's clock for seeds that claim a message at any hour of the day.

A message is sent only within its recipient's contact rules: a payment confirmed at 23:00 in
Shanghai is due at 08:00 there the next morning, and claiming it before then finds nothing
(the claim checks the rules again). A seed that needs a claimed message whatever the hour the
suite runs claims it on the outbox's clock moved to the first pending message's own time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from unittest.mock import patch

from sqlalchemy import select

from app.core.db import get_sessionmaker, utcnow
from app.messaging.models import OutboxMessage


@contextmanager
def claimable_now() -> Iterator[datetime]:
    """Within: the outbox claims as at now, or at the earliest pending message's send time if
    that is later (the next hour its recipient may be contacted); yields that instant."""
    with get_sessionmaker()() as session:
        first = session.scalar(  # the column's own type: an aware UTC datetime on SQLite too
            select(OutboxMessage.send_at)
            .where(OutboxMessage.status == "pending")
            .order_by(OutboxMessage.send_at)
            .limit(1)
        )
    now = utcnow()
    at = max(now, first) if first is not None else now
    with patch("app.messaging.outbox.utcnow", lambda: at):
        yield at
