"""The webhook sender: due outbox messages POSTed, signed, to one URL (``repay outbox send``).

A :class:`Sender` claims due messages (:func:`app.messaging.outbox.claim`, on the configured
database), POSTs each as JSON to the webhook and acknowledges it with its claim token once the
receiver answers 2xx. Delivery is at least once: a message is sent again if its acknowledgement is
lost (the sender killed between the two, its lease run out), so receivers deduplicate on its id.

The request
-----------
``POST <REPAY_WEBHOOK_URL>`` with ``Content-Type: application/json`` and

* ``Idempotency-Key: <message id>``: the same on every attempt and every re-send of a message
  (as in the IETF draft "The Idempotency-Key HTTP Header Field"). A receiver that has it
  already answers 2xx again and does not send the message twice.
* ``Repay-Signature: t=<unix seconds>,v1=<hex>``, where ``<hex>`` is the HMAC-SHA256, keyed
  with ``REPAY_WEBHOOK_SECRET`` (UTF-8), of the bytes ``f"{t}."`` followed by the exact raw body.
  The timestamp is the attempt's own, so a receiver refuses one outside a tolerance window
  (:data:`TOLERANCE`, 5 minutes) and a recorded request cannot be replayed later. (The scheme
  is Stripe's webhook signature; several ``v1=`` may appear while a secret is rotated.)

The body is the claimed message without its claim (``id``, ``kind``, ``debt_ref``,
``plan_id``, ``party_id``, ``role``, ``channel``, ``to``: the address in clear, ``locale``,
``subject``, ``body``, ``send_at``, ``claims``: how many times it was handed out, so more than
1 may be a re-send). Addresses travel in it: use ``https`` (the sender warns about plain
``http`` to anything but this machine). The sender logs ids and counts, never an address, the
secret, or more of the URL than its scheme and host.

The answer
----------
* 2xx: delivered; the message is acknowledged.
* 408, 429, 5xx, a timeout or a dropped connection: tried again after an exponential backoff
  with full jitter (:func:`backoff`), or after ``Retry-After`` when the answer has one (no
  request goes to the receiver before then); at most :data:`ATTEMPTS` attempts, and never one
  that could not be acknowledged within the claim's lease (its ``timeout`` plus
  :data:`ACK_MARGIN` before the lease ends). A message given up on is claimed again when its
  lease ends; one whose ``Retry-After`` lies past the lease is given back due at that time.
* Any other status (other 4xx, and 3xx: redirects are not followed): refused. The message is
  not marked failed but given back due again in :data:`REJECTED_RETRY` (an hour), with a
  ``message_rejected`` audit event (id, status, no address). Why: a receiver refusing the
  service's own messages is far more often misconfigured (a rotated secret: 401; a moved
  path: 404; a changed contract: 422) than handed a bad message, and it then refuses every
  message; failing them would silently drop reminders and notices a debtor is owed, where
  waiting delivers them once the receiver is fixed, an hour apart, not in a tight loop.

Receiving
---------
Verify the raw bytes before parsing them, with :func:`verify_signature` (constant-time):

>>> secret = "whsec-example-0123456789abcdef"
>>> body = b'{"id":"5b0c7f3e9a2d4c1b8e6f0a9d3c2b1a00","kind":"reminder"}'
>>> header = sign(secret, body, timestamp=1_796_000_000)  # what the sender puts in the header
>>> header[:13]
't=1796000000,'
>>> verify_signature(secret, body, header, now=1_796_000_030)
True
>>> verify_signature(secret, body.replace(b"reminder", b"missed"), header, now=1_796_000_030)
False
>>> verify_signature(secret, body, header, now=1_796_000_000 + TOLERANCE + 1)  # a replay
False
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import json
import os
import random
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.audit import trail
from app.core.db import get_sessionmaker, utcnow
from app.core.errors import Problem
from app.core.settings import MIN_WEBHOOK_SECRET
from app.messaging import outbox

SIGNATURE_HEADER = "Repay-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TOLERANCE = 300  # seconds a signature's timestamp may be off the receiver's clock
ATTEMPTS = 5
BASE_DELAY = 0.5  # seconds; the first retry waits up to this, each next one up to twice more
MAX_DELAY = 30.0
TIMEOUT = 10.0  # seconds for each of connecting, sending, waiting for the answer
# time kept, after a request's timeout, to acknowledge the message before its lease ends
ACK_MARGIN = 1.0
REJECTED_RETRY = timedelta(hours=1)
MIN_SECRET = MIN_WEBHOOK_SECRET  # characters: the settings refuse a shorter one too
# RFC 9110 §15.5.9 (408) and RFC 6585 §4 (429): the receiver may take it later
RETRY_STATUSES = frozenset({408, 429})
PROGRESS_EVERY = 5.0  # seconds between progress lines on stderr

Json = dict[str, Any]


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def _mac(secret: str | bytes, body: bytes, timestamp: int) -> str:
    return hmac.new(_key(secret), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, body: bytes, *, timestamp: int) -> str:
    """The ``Repay-Signature`` header value of ``body`` sent at ``timestamp`` (unix seconds).

    Examples
    --------
    The same as ``printf '1.{}' | openssl dgst -sha256 -hmac 0123456789abcdef``:

    >>> sign("0123456789abcdef", b"{}", timestamp=1)
    't=1,v1=2af693cb56b22c16912222aeefdc75a01de562bf70ee2015f41ecea48382997f'
    """
    return f"t={timestamp},v1={_mac(secret, body, timestamp)}"


def verify_signature(
    secret: str | bytes,
    body: bytes,
    header: str | None,
    *,
    tolerance: float = TOLERANCE,
    now: float | None = None,
) -> bool:
    """Whether ``header`` (``Repay-Signature``) signs ``body`` with ``secret``, and recently.

    ``body`` is the request's raw bytes, before any parsing. Recently: the timestamp is within
    ``tolerance`` seconds of ``now`` (default the clock). Any one of several ``v1=`` matching
    suffices (a secret being rotated); each is compared in constant time.

    Examples
    --------
    >>> header = sign("0123456789abcdef", b'{"id":"a"}', timestamp=1_000)
    >>> verify_signature("0123456789abcdef", b'{"id":"a"}', header, now=1_200)
    True
    >>> verify_signature("another-secret-abcdef", b'{"id":"a"}', header, now=1_200)
    False
    >>> verify_signature("0123456789abcdef", b'{"id":"a"}', "v1=" + header[8:], now=1_200)
    False
    """
    if not header:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = _mac(secret, body, timestamp)
    # every candidate compared, so the time taken says nothing of which one matched
    matches = [hmac.compare_digest(expected, c) for c in candidates]
    return any(matches)


def origin(url: str) -> str:
    """What of a webhook URL may be logged: scheme, host and port (a path may hold a token).

    Examples
    --------
    >>> origin("https://user:pw@hooks.example.com:8443/T0/B1/XyZ?token=abc")
    'https://hooks.example.com:8443'
    """
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


def in_clear(url: str) -> bool:
    """Whether messages to ``url`` would cross a network unencrypted (http, not loopback).

    Examples
    --------
    >>> in_clear("http://hooks.example.com/x"), in_clear("http://127.0.0.1:9000/x")
    (True, False)
    """
    parts = urlsplit(url)
    loopback = parts.hostname in {"localhost", "127.0.0.1", "::1"}
    return parts.scheme != "https" and not loopback


def backoff(attempt: int, *, rng: random.Random, base: float = BASE_DELAY) -> float:
    """Seconds to wait before retry ``attempt`` (1 for the first): "full jitter", uniform in
    ``[0, min(MAX_DELAY, base * 2 ** (attempt - 1))]`` (M. Brooker, "Exponential Backoff And
    Jitter", AWS Architecture Blog, 2015): senders retrying at once spread out.

    Examples
    --------
    >>> rng = random.Random(1)
    >>> all(0 <= backoff(3, rng=rng) <= 2.0 for _ in range(100))
    True
    >>> backoff(40, rng=random.Random(1)) <= MAX_DELAY
    True
    """
    return rng.uniform(0, min(MAX_DELAY, base * 2 ** (attempt - 1)))


def retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` asks to wait: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).

    Examples
    --------
    >>> now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    >>> retry_after("3", now=now), retry_after("Tue, 01 Dec 2026 12:00:30 GMT", now=now)
    (3.0, 30.0)
    >>> retry_after("soon", now=now) is None
    True
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def payload(message: Json) -> bytes:
    """The request body of a claimed message: it without its claim, compact UTF-8 JSON.

    Examples
    --------
    >>> payload({"id": "a", "to": "+1", "send_at": datetime(2026, 12, 1, tzinfo=UTC),
    ...          "claim_token": "t", "claimed_until": datetime(2026, 12, 1, tzinfo=UTC)})
    b'{"id":"a","to":"+1","send_at":"2026-12-01T00:00:00+00:00"}'
    """
    sent = {k: v for k, v in message.items() if k not in {"claim_token", "claimed_until"}}
    if isinstance(sent.get("send_at"), datetime):
        sent["send_at"] = sent["send_at"].isoformat()
    return json.dumps(sent, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Tally:
    """What a sender did: messages by outcome, and requests retried."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0  # requests sent again after a failed attempt
    rejected: int = 0  # refused by the receiver (4xx): due again in REJECTED_RETRY
    deferred: int = 0  # Retry-After past the lease: given back, due then
    released: int = 0  # not sent (lease ending, stop asked for): given back, due now
    failed: int = 0  # attempts or lease used up: claimed again when the lease ends
    lost: int = 0  # delivered, but the claim had passed to another sender: not acknowledged

    def add(self, other: Tally) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def line(self) -> str:
        return ", ".join(f"{f.name} {getattr(self, f.name)}" for f in fields(self))


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Sender:
    """Claims due messages and POSTs them to ``url``; see the module's documentation.

    ``sleep`` (seconds) and ``clock`` (an aware UTC datetime) are injectable so that backoff
    and leases can be tested without waiting; by default a sleep ends early when :attr:`stop`
    is set. ``stop`` set (by SIGTERM or SIGINT in ``repay outbox send``): the message in hand
    is finished (its request and acknowledgement; no further retry) and the rest of the batch
    given back at once.
    """

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        limit: int = 50,
        lease: timedelta = outbox.LEASE,
        timeout: float = TIMEOUT,
        attempts: int = ATTEMPTS,
        maker: sessionmaker[Session] | None = None,
        client: httpx.Client | None = None,
        sleep: Callable[[float], object] | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        actor: str | None = None,
        say: Callable[[str], None] = _say,
    ) -> None:
        if len(secret) < MIN_SECRET:
            raise ValueError(f"the webhook secret must be at least {MIN_SECRET} characters")
        if lease.total_seconds() <= timeout + ACK_MARGIN:
            raise ValueError(
                f"the lease ({lease.total_seconds():g} s) must be longer than the timeout"
                f" plus {ACK_MARGIN:g} s to acknowledge ({timeout + ACK_MARGIN:g} s)"
            )
        self.url, self._secret = url, secret
        self.limit, self.lease, self.timeout, self.attempts = limit, lease, timeout, attempts
        self.maker = maker or get_sessionmaker()
        self.client = client or httpx.Client(
            timeout=timeout, follow_redirects=False, headers={"User-Agent": "repay-outbox"}
        )
        self.stop = threading.Event()
        self.sleep = sleep or self.stop.wait
        self.clock = clock
        self.rng = rng or random.Random()
        self.actor = actor or f"webhook:{socket.gethostname()}:{os.getpid()}"
        self.say = say
        self._retried = 0
        self._not_before: datetime | None = None  # the receiver's Retry-After, for everyone

    def __repr__(self) -> str:
        return f"Sender({origin(self.url)!r}, actor={self.actor!r})"

    # ---- one message ----------------------------------------------------------------------

    def _give_back(self, message: Json, *, until: datetime | None = None) -> None:
        with self.maker.begin() as session:
            outbox.release(session, message["id"], message["claim_token"], until=until)

    def _reject(self, message: Json, status: int) -> None:
        retry_at = self.clock() + REJECTED_RETRY
        with self.maker.begin() as session:
            if outbox.release(session, message["id"], message["claim_token"], until=retry_at):
                trail.record(
                    session,
                    "message_rejected",
                    actor=self.actor,
                    plan_id=message["plan_id"],
                    payload={
                        "id": message["id"],
                        "status": status,
                        "claims": message["claims"],
                        "due_again_at": retry_at.isoformat(),
                    },
                )
        again = retry_at.isoformat(timespec="seconds")
        self.say(f"message {message['id']}: refused with HTTP {status}; due again {again}")

    def _acknowledge(self, message: Json) -> str:
        try:
            with self.maker.begin() as session:
                if session.get_bind().dialect.name == "postgresql":
                    # No WAL flush to wait for per message (PostgreSQL manual, "Asynchronous
                    # Commit"): only a server crash can lose the last acks, and a lost ack
                    # means a re-send, which the Idempotency-Key absorbs. The database stays
                    # consistent either way.
                    session.execute(text("SET LOCAL synchronous_commit = off"))
                outbox.acknowledge(session, message["id"], message["claim_token"])
        except Problem:
            self.say(f"message {message['id']}: sent, but its claim passed to another sender")
            return "lost"
        return "delivered"

    def _wait(self, seconds: float) -> bool:
        """Sleep; False if a stop was asked for meanwhile."""
        if seconds > 0:
            self.sleep(seconds)
        return not self.stop.is_set()

    def deliver(self, message: Json) -> str:
        """Send one claimed message until it is delivered or given up on; the outcome (a
        :class:`Tally` field name)."""
        body = payload(message)
        deadline = message["claimed_until"] - timedelta(seconds=self.timeout + ACK_MARGIN)
        for attempt in range(1, self.attempts + 1):
            if attempt > 1 and self.stop.is_set():
                self._give_back(message)
                return "released"
            now = self.clock()
            if self._not_before is not None and self._not_before > now:
                if self._not_before > deadline:
                    self._give_back(message, until=self._not_before)
                    return "deferred"
                if not self._wait((self._not_before - now).total_seconds()):
                    self._give_back(message)
                    return "released"
                now = self.clock()
            if now > deadline:
                if attempt > 1:
                    # tried and out of time: its lease, run out, is the wait before the next try
                    return "failed"
                self._give_back(message)  # never sent: another claim may have it at once
                return "released"
            if attempt > 1:
                self._retried += 1
            headers = {
                "Content-Type": "application/json",
                IDEMPOTENCY_HEADER: message["id"],
                SIGNATURE_HEADER: sign(self._secret, body, timestamp=int(now.timestamp())),
            }
            delay: float | None = None
            try:
                response = self.client.post(self.url, content=body, headers=headers)
            except httpx.TransportError as exc:  # refused, dropped, timed out
                why = type(exc).__name__
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return self._acknowledge(message)
                if status not in RETRY_STATUSES and status < 500:
                    self._reject(message, status)
                    return "rejected"
                why = f"HTTP {status}"
                delay = retry_after(response.headers.get("Retry-After"), now=self.clock())
                if delay is not None:
                    self._not_before = self.clock() + timedelta(seconds=delay)
            if attempt == self.attempts:
                self.say(f"message {message['id']}: {why}; gave up after {attempt} attempts")
                break
            if delay is None and not self._wait(backoff(attempt, rng=self.rng)):
                self._give_back(message)
                return "released"
        return "failed"

    # ---- batches ----------------------------------------------------------------------------

    def send_batch(self) -> Tally:
        """Claim up to ``limit`` due messages and send them; what happened to them."""
        batch = Tally()
        with self.maker.begin() as session:
            claimed = outbox.claim(
                session, limit=self.limit, lease=self.lease, actor=self.actor, now=self.clock()
            )
        batch.claimed = len(claimed)
        for index, message in enumerate(claimed):
            if self.stop.is_set():
                for rest in claimed[index:]:
                    self._give_back(rest)
                batch.released += len(claimed) - index
                break
            outcome = self.deliver(message)
            setattr(batch, outcome, getattr(batch, outcome) + 1)
        batch.retried, self._retried = self._retried, 0
        return batch

    def run(self, *, once: bool = False, poll: float = 2.0) -> Tally:
        """Send batches until nothing is due (``once``) or a stop is asked for; the totals.

        Not ``once``: nothing due, it looks again every ``poll`` seconds.
        """
        started = time.monotonic()
        shown = started
        self.say(f"Sending to {origin(self.url)} as {self.actor} ({self.limit} at a time).")
        if in_clear(self.url):
            self.say("Warning: plain http: addresses and messages cross the network unencrypted.")
        total = Tally()
        while not self.stop.is_set():
            try:
                batch = self.send_batch()
            except DBAPIError as exc:
                if once:
                    raise
                # a restarting server: what this batch held comes back when its lease ends
                self.say(f"Database unavailable ({type(exc.orig).__name__}); again in {poll:g} s.")
                self._wait(poll)
                continue
            total.add(batch)
            if time.monotonic() - shown >= PROGRESS_EVERY:
                shown = time.monotonic()
                self.say(f"{total.line()} ({shown - started:.0f} s)")
            if batch.claimed:
                continue
            if once:
                break
            self._wait(poll)
        elapsed = time.monotonic() - started
        rate = total.delivered / elapsed if elapsed else 0.0
        self.say(f"Done: {total.line()} in {elapsed:.1f} s ({rate:.0f}/s).")
        return total
