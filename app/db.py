"""Engine, sessions and the ORM models (SQLAlchemy 2, typed).

Two backends are supported: SQLite (a file under ``var/`` by default, for one machine) and
PostgreSQL (through psycopg 3). The schema itself is owned by the Alembic migrations in
``app/migrations``; these models must match them (a test compares the two).
"""

from __future__ import annotations

import enum
import logging
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Mapper,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

from app.settings import get_settings

# Deterministic constraint names, so migrations can refer to them on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Role(enum.StrEnum):
    """What an API key may do. Hierarchical: admin ⊇ finance ⊇ collector.

    Examples
    --------
    >>> Role.ADMIN.includes("finance"), Role.COLLECTOR.includes(Role.FINANCE)
    (True, False)
    """

    # Declaration order is the hierarchy, lowest first.
    COLLECTOR = "collector"
    FINANCE = "finance"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Position in the hierarchy; a higher rank includes every lower one."""
        return list(Role).index(self)

    def includes(self, required: Role | str) -> bool:
        """Whether a key with this role may do what ``required`` may."""
        return self.rank >= Role(required).rank


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both backends.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is stored as naive
    UTC and marked UTC again when read. Naive datetimes are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL (compact, indexable later); JSON text elsewhere.
JSONBody = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base of every model; its ``metadata`` is what Alembic compares against."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ApiKey(Base):
    """An API key. Only the public prefix and an HMAC of the whole key are stored."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in Role) + ")", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"ApiKey(id={self.id!r}, prefix={self.prefix!r}, role={self.role!r})"


class Policy(Base):
    """A named negotiation policy; its content lives in immutable :class:`PolicyVersion` rows."""

    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"Policy(id={self.id!r}, name={self.name!r})"


class PolicyVersion(Base):
    """One immutable version of a policy. ``body`` is opaque here; the API layer defines it."""

    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("policy_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"))
    version: Mapped[int]
    body: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))

    policy: Mapped[Policy] = relationship()

    def __repr__(self) -> str:
        return f"PolicyVersion(policy_id={self.policy_id!r}, version={self.version!r})"


@event.listens_for(PolicyVersion, "before_update")
def _versions_are_immutable(_mapper: Mapper[Any], _connection: Any, target: PolicyVersion) -> None:
    # An offer cites (policy, version); changing a version would rewrite offers already made.
    raise TypeError(f"{target!r} is immutable: add a new version instead")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # busy_timeout first: switching to WAL itself needs a lock another process may hold.
    cursor.execute("PRAGMA busy_timeout = 30000")
    # WAL: readers never block the writer nor each other (the API reads while the CLI writes).
    cursor.execute("PRAGMA journal_mode = WAL")
    # SQLite ignores foreign keys unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()
    # SQLAlchemy's SQLite recipe for serialisable transactions: no implicit BEGIN from the
    # driver; the engine's "begin" event issues BEGIN IMMEDIATE instead.
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock when a transaction begins, not at its first write: a transaction that
    # read and then writes (an acceptance, the audit chain's last hash) can then never have
    # read something another writer changed meanwhile. pysqlite's own BEGIN is disabled in
    # _sqlite_pragmas (isolation_level None) so that this one is the only one.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class _NoRowValues(logging.Filter):
    """SQLAlchemy at DEBUG logs every row it fetches, a debtor's name among them: not here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "Row %r"


# A log is no place for what the rows hold (debtors' names) nor for what the statements carry:
# SQL is logged, if asked, without its values (``hide_parameters`` below), rows not at all.
logging.getLogger("sqlalchemy.engine.Engine").addFilter(_NoRowValues())


def make_engine(url: str) -> Engine:
    """A new engine for ``url``, configured for the backend.

    Neither backend logs the values a statement binds (``hide_parameters``), nor do error
    messages carry them. SQLite: usable from FastAPI's thread pool, WAL journal, foreign keys
    on, and a 30 s busy timeout (writers queue instead of failing); the file's directory is
    created if missing.
    PostgreSQL: the psycopg 3 driver (``postgresql://`` is rewritten to
    ``postgresql+psycopg://``) and ``pool_pre_ping`` so a restarted server costs no request.

    Examples
    --------
    >>> from sqlalchemy import text
    >>> engine = make_engine("sqlite://")
    >>> with engine.connect() as connection:
    ...     connection.execute(text("PRAGMA foreign_keys")).scalar()
    1
    >>> make_engine("postgresql://repay@db.example/repay").url.drivername
    'postgresql+psycopg'
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database not in {"", ":memory:"} and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, connect_args={"check_same_thread": False}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    if backend in {"postgresql", "postgres"}:
        if parsed.drivername in {"postgresql", "postgres"}:
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    raise ValueError(f"unsupported database {parsed.drivername!r}: use sqlite or postgresql")


_engines: dict[str, Engine] = {}
_sessionmakers: dict[str, sessionmaker[Session]] = {}
_lock = threading.Lock()


def get_engine() -> Engine:
    """The process-wide engine for ``get_settings().database_url``, created on first use."""
    url = get_settings().database_url
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


def get_sessionmaker() -> sessionmaker[Session]:
    """The session factory bound to :func:`get_engine`.

    Objects are not expired on commit: ``get_db`` commits when the handler returns, and the
    response is built from those objects afterwards.
    """
    engine = get_engine()
    url = get_settings().database_url
    with _lock:
        if url not in _sessionmakers:
            _sessionmakers[url] = sessionmaker(engine, expire_on_commit=False)
        return _sessionmakers[url]


def reset_engine() -> None:
    """Dispose every cached engine and forget it (tests switch databases with this)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _sessionmakers.clear()


# ---- offers shared with debtors, accepted plans, payments, the audit trail --------------


class SavedOffer(Base):
    """An offer saved for a debt and shared through a link.

    ``document`` is the offer exactly as computed and shown (the API's offer JSON): what the
    debtor sees and accepts never changes after saving. The link's token is stored only as its
    SHA-256 (a 192-bit random token needs no slow hash).
    """

    __tablename__ = "offers"
    __table_args__ = (
        UniqueConstraint("created_by", "idempotency_key"),
        CheckConstraint(
            "status IN ('offered', 'accepted', 'revoked', 'superseded')", name="status"
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    debt_ref: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"))
    policy_version: Mapped[int]
    document: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    # the summary sentence in every page language (the document carries the requested one)
    summaries: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    debtor_name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the token sealed with the service's secret key: only to show the link again to the
    # collector who made it (an idempotent retry); never used to find the offer
    token_sealed: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="offered")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_by: Mapped[str | None] = mapped_column(String(32))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AcceptedPlan(Base):
    """An accepted offer. ``offer_id`` is unique: an offer can be accepted exactly once."""

    __tablename__ = "accepted_plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), unique=True)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    offer: Mapped[SavedOffer] = relationship()


class PlanPayment(Base):
    """Money received against a plan; (plan, idempotency key) is unique: stored exactly once."""

    __tablename__ = "plan_payments"
    __table_args__ = (UniqueConstraint("plan_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("accepted_plans.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    """One event of the append-only audit trail, chained to the previous by its hash.

    ``hash`` = SHA-256 of the canonical JSON of (seq, at, kind, offer_id, plan_id, actor,
    payload, prev_hash). ``prev_hash`` is unique, so the chain cannot fork.
    """

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    offer_id: Mapped[str | None] = mapped_column(String(32), index=True)
    plan_id: Mapped[str | None] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


@event.listens_for(AuditEvent, "before_update")
def _audit_is_append_only(_mapper: Mapper[Any], _connection: Any, target: AuditEvent) -> None:
    raise TypeError("the audit trail is append-only")


@event.listens_for(AuditEvent, "before_delete")
def _audit_is_never_deleted(_mapper: Mapper[Any], _connection: Any, target: AuditEvent) -> None:
    raise TypeError("the audit trail is append-only")


# ---- the parties of a debt and the attempts to contact them ------------------------------


class DebtRecord(Base):
    """A debt as the creditor states it: its terms (``schemas.offers.DebtIn`` as JSON, amounts as
    decimal strings) and the jurisdiction whose contact rules its parties default to. Offers,
    parties and attempts refer to it by ``ref``; a debt may also be known only by its parties
    and offers (no row here)."""

    __tablename__ = "debts"
    __table_args__ = (CheckConstraint("jurisdiction IN ('CN', 'US', 'GB')", name="jurisdiction"),)

    ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(2))
    terms: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    created_by: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Party(Base):
    """Someone linked to a debt who might be contacted (``plans.contact.Party``).

    The name and the contact details are personal data: stored only sealed with the service's
    secret key (``app.crypto``, bound to this table, column and row). ``channels_sealed`` holds
    the JSON ``{"phone": ..., "email": ..., "sms": ...}`` of the channels given. Opt-outs keep
    the time each channel was opted out of; ``stopped_at`` a request not to be contacted at all.
    A deleted party keeps its row (``deleted_at``): the debt's attempts still count against
    the caps.
    """

    __tablename__ = "parties"
    __table_args__ = (
        CheckConstraint("role IN ('debtor', 'co_debtor', 'guarantor', 'third_party')", name="role"),
        CheckConstraint("jurisdiction IN ('CN', 'US', 'GB')", name="jurisdiction"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    debt_ref: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(16))
    name_sealed: Mapped[str] = mapped_column(String(1000))
    channels_sealed: Mapped[str] = mapped_column(String(2000))
    locale: Mapped[str] = mapped_column(String(8))
    time_zone: Mapped[str] = mapped_column(String(64))
    jurisdiction: Mapped[str] = mapped_column(String(2))
    guaranteed_minor: Mapped[int | None] = mapped_column(BigInteger)
    guaranteed_currency: Mapped[str | None] = mapped_column(String(3))
    # {channel: ISO time it was opted out of}
    opted_out: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ContactAttempt(Base):
    """One attempt to reach a party of a debt, recorded only if the contact rules allowed it."""

    __tablename__ = "contact_attempts"
    __table_args__ = (
        CheckConstraint("channel IN ('phone', 'email', 'sms')", name="channel"),
        CheckConstraint(
            "outcome IN ('no_answer', 'connected', 'message_left', 'wrong_party', 'refused')",
            name="outcome",
        ),
        CheckConstraint("purpose IN ('collection', 'call_back')", name="purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debt_ref: Mapped[str] = mapped_column(String(100), index=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))
    # the version of the contact rules the attempt was checked against
    rules_version: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---- the transactional outbox: messages to parties, written with what causes them ---------


class OutboxMessage(Base):
    """A message to one party on one channel, queued in the transaction that caused it.

    ``send_at`` is already inside the party's permitted hours (``plans.contact``). The address
    is not here: ``party_id`` and ``channel`` refer to the party's sealed details, opened only
    when a sender claims the message. A claim sets ``claimed_until`` (the lease) and
    ``claim_token``; a message not acknowledged by then can be claimed again. ``dedupe_key`` is
    unique: the same message (an instalment's reminder, a payment's confirmation) is queued once.
    Content is sealed (``app.crypto``), bound to this table, column and row.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("kind IN ('reminder', 'confirmation', 'missed')", name="kind"),
        CheckConstraint("channel IN ('email', 'sms')", name="channel"),
        CheckConstraint("status IN ('pending', 'delivered', 'cancelled')", name="status"),
        # what a claim looks for: pending messages, the earliest first
        Index("ix_outbox_due", "status", "send_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    debt_ref: Mapped[str] = mapped_column(String(100), index=True)
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("accepted_plans.id"), index=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    locale: Mapped[str] = mapped_column(String(8))
    # the instalment a reminder or missed notice is about (a reminder of one paid is cancelled)
    instalment: Mapped[int | None]
    # {"subject": ..., "body": ...} sealed like a party's details (the body carries the debtor's
    # link, a capability): opened only for the sender that claims it
    content_sealed: Mapped[str] = mapped_column(Text)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claims: Mapped[int] = mapped_column(default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---- the debtor's requests for a change to their plan (app/changes.py) -------------------


class ChangeRequest(Base):
    """A plan the debtor asked for through their link, as the engine computed it.

    ``document`` is the requested offer as the wire JSON (``schemas.wire.offer_json``), recomputed
    by the service from the debtor's proposal (never taken from the form); ``proposal`` what
    they typed, as decimal strings. (offer, request hash) is unique, and the hash covers the day:
    the same choice submitted twice that day is one request. A collector's decision closes it.
    """

    __tablename__ = "change_requests"
    __table_args__ = (
        UniqueConstraint("offer_id", "request_hash"),
        CheckConstraint("status IN ('open', 'offered', 'declined')", name="status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), index=True)
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("accepted_plans.id"))
    debt_ref: Mapped[str] = mapped_column(String(100), index=True)
    choice: Mapped[str] = mapped_column(String(20))
    proposal: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    owed: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    document: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    # the plan's summary sentence in every page language (the document carries the asker's)
    summaries: Mapped[dict[str, Any]] = mapped_column(JSONBody)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")
    decision_offer_id: Mapped[str | None] = mapped_column(ForeignKey("offers.id"))
    decision_reason: Mapped[str | None] = mapped_column(String(1000))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
