"""The signed checkpoint of the audit chain's head, kept where the database is not.

A keyed chain (``app.audit.trail``) cannot be rewritten without the service's secret, but it
can be cut short: deleting the last events leaves a chain that verifies. A checkpoint says how
long the chain was and what its last hash was, signed under a key derived from the secret, in a
file (``REPAY_AUDIT_CHECKPOINT_PATH``) that the database's users cannot reach. A chain shorter
than its last checkpoint, or whose event at the checkpoint's count is no longer the one
checkpointed, was truncated.

The file is one JSON object (the format's name and version, the count, the head's hash, the
time, and the HMAC-SHA256 of the canonical JSON of the other four)::

    {"format": "repay-audit-checkpoint/1", "events": 8, "hash": "9c1…", "at":
     "2026-11-25T14:52:25.498640+00:00", "signature": "5e0…"}

It is replaced whole (a temporary file renamed over it), under a lock, and never by a checkpoint
of fewer events: two processes writing at once leave the longer chain's.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.core.canonical import canonical
from app.core.crypto import keyed_hash

FORMAT = "repay-audit-checkpoint/1"
# HKDF info of the signing key (app.core.crypto): not the chain's key, so a checkpoint's
# signature can never be passed off as an event's hash or the other way round.
PURPOSE = b"repay audit checkpoint v1"


class CheckpointError(ValueError):
    """A checkpoint file that is not one: unreadable, malformed, or not signed under our key."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The chain's head at a time: ``events`` events, the last of which had ``hash``."""

    events: int
    hash: str
    at: datetime

    def _signed_part(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "events": self.events,
            "hash": self.hash,
            "at": self.at.isoformat(timespec="microseconds"),
        }

    def signature(self) -> str:
        """HMAC-SHA256 of the checkpoint's canonical JSON under the checkpoints' key."""
        return keyed_hash(PURPOSE, canonical(self._signed_part()))

    def document(self) -> dict[str, Any]:
        """The checkpoint as written: its fields and their signature."""
        return {**self._signed_part(), "signature": self.signature()}


def read(path: Path) -> Checkpoint | None:
    """The checkpoint in ``path``, or ``None`` if there is no file yet; a
    :class:`CheckpointError` saying why if the file is not a checkpoint signed under the
    service's key."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CheckpointError(f"the checkpoint {path} cannot be read ({exc.strerror})") from None
    try:
        document = json.loads(text)
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} document")
        checkpoint = Checkpoint(
            events=int(document["events"]),
            hash=str(document["hash"]),
            at=datetime.fromisoformat(str(document["at"])),
        )
        signature = str(document["signature"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"the checkpoint {path} is malformed ({exc})") from None
    if checkpoint.document() != document or checkpoint.signature() != signature:
        raise CheckpointError(
            f"the checkpoint {path} is not signed under this service's key:"
            " written elsewhere, or changed since"
        )
    return checkpoint


def write(path: Path, checkpoint: Checkpoint) -> bool:
    """Replace the checkpoint in ``path`` by ``checkpoint``, unless it holds one of as many
    events or more already: ``True`` if written.

    One writer at a time (a lock file beside it); the new file is written and flushed to disk
    under another name and renamed over the old (POSIX ``rename`` is atomic), so a reader sees
    the old checkpoint or the new, never half of one.
    """
    with open(f"{path}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            held = read(path)
        except CheckpointError:
            held = None  # a broken file is replaced; verify reported it while it lasted
        if held is not None and held.events >= checkpoint.events:
            return False
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(checkpoint.document(), handle, indent=2)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        return True
