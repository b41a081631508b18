"""A webhook receiver on 127.0.0.1 (a thread running ``http.server``) and ``repay outbox
send`` in processes of its own, for tests/app/messaging/test_webhook.py and
tests/app/messaging/test_drain.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from app.messaging.webhook import verify_signature

SECRET = "test-webhook-secret-0123456789"
PROJECT_ROOT = Path(__file__).resolve().parents[3]
# What a script tells the receiver to do with one request: answer (status, headers), or drop
# the connection without answering (None).
Answer = tuple[int, dict[str, str]] | None
OK: Answer = (200, {})


@dataclass
class Receipt:
    id: str
    at: datetime
    signed: bool
    headers: dict[str, str]
    body: dict[str, Any]
    answered: int | None


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: checks each signature, answers as ``script`` says
    (given the message id and how many times it came before), records every request."""

    script: Callable[[str, int], Answer] = lambda _id, _seen: OK
    delay: float = 0.0  # seconds before answering (a slow receiver)
    receipts: list[Receipt] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    broken: int = 0  # requests cut off before they were read whole

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        raw = request.rfile.read(int(request.headers["Content-Length"]))
        signed = verify_signature(SECRET, raw, request.headers.get("Repay-Signature"))
        body = json.loads(raw)
        with self.lock:
            seen = sum(r.id == body["id"] for r in self.receipts)
        answer = self.script(body["id"], seen) if signed else (401, {})
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.receipts.append(
                Receipt(
                    body["id"],
                    datetime.now(UTC),
                    signed,
                    dict(request.headers),
                    body,
                    None if answer is None else answer[0],
                )
            )
        if answer is None:
            request.close_connection = True
            return
        status, headers = answer
        request.send_response(status)
        for name, value in {**headers, "Content-Length": "0"}.items():
            request.send_header(name, value)
        request.end_headers()

    def delivered(self) -> Counter[str]:
        """Requests answered 2xx, per message id."""
        with self.lock:
            return Counter(r.id for r in self.receipts if r.answered == 200)

    def seen(self) -> Counter[str]:
        with self.lock:
            return Counter(r.id for r in self.receipts)


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver

        def do_POST(self) -> None:
            receiver.handle(self)

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            # a sender killed mid-request: counted, not printed
            receiver.broken += 1

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/T0-secret-path"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def start_sender(url: str, log: Path, *options: str) -> subprocess.Popen[bytes]:
    """``repay outbox send`` in a process of its own, on this test's database."""
    env = {**os.environ, "REPAY_WEBHOOK_SECRET": SECRET, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-c", "from app.cli import main; main()", "outbox", "send"]
    with log.open("wb") as output:
        return subprocess.Popen(
            [*command, "--webhook", url, *options],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {seconds} s")
        time.sleep(0.02)


def start_consumer(log: Path, *, limit: int, lease: float) -> subprocess.Popen[bytes]:
    """``tests/app/messaging/consumer.py`` (claim and acknowledge, nothing sent) in a process of
    its own."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "tests.app.messaging.consumer", str(limit), str(lease)]
    with log.open("wb") as output:
        return subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
