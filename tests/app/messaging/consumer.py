"""A bare outbox consumer, for the drain test: it claims (``app.messaging.outbox.claim``) and
acknowledges each message with its token, sending nothing, until SIGTERM; then its counts on stderr
in the form ``repay outbox send`` ends with. ``python -m tests.app.messaging.consumer LIMIT
LEASE_SECONDS``."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from datetime import timedelta

from app.core.db import get_sessionmaker
from app.core.errors import Problem
from app.messaging import outbox

ACTOR = "consumer"


def main(limit: int, lease: timedelta) -> None:
    stop = threading.Event()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: stop.set())
    maker = get_sessionmaker()
    actor = f"{ACTOR}:{socket.gethostname()}:{os.getpid()}"
    claimed = delivered = lost = 0
    while not stop.is_set():
        with maker.begin() as session:
            batch = outbox.claim(session, limit=limit, lease=lease, actor=actor)
        if not batch:
            stop.wait(0.05)
            continue
        claimed += len(batch)
        for message in batch:
            try:
                with maker.begin() as session:
                    outbox.acknowledge(session, message["id"], message["claim_token"])
            except Problem:
                lost += 1  # its lease ran out and another consumer holds it now
            else:
                delivered += 1
    print(f"Done: claimed {claimed}, delivered {delivered}, lost {lost}", file=sys.stderr)


if __name__ == "__main__":
    main(int(sys.argv[1]), timedelta(seconds=float(sys.argv[2])))
