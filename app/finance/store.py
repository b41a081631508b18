"""Versioned policies in the database: plain functions over a ``Session``.

A policy is a name with immutable, numbered versions. The functions flush but never commit:
the caller owns the transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from app.core.db import utcnow
from app.core.errors import Conflict, NotFound
from app.core.keys import organisation_named
from app.finance.models import Policy, PolicyVersion


def _insert(session: Session) -> Any:
    # ON CONFLICT DO NOTHING reports a taken name without an exception, so the caller's
    # transaction stays usable (no savepoint needed). Both backends have it.
    dialect = session.get_bind().dialect.name
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]


def _insert_next_version(
    session: Session, policy_id: int, body: dict[str, Any], created_by: int | None
) -> PolicyVersion:
    # The next number is computed inside the INSERT: one statement, so it runs under the
    # database's write lock (SQLite) or the policy row lock taken by the caller (PostgreSQL).
    existing = aliased(PolicyVersion)
    next_version = (
        select(func.coalesce(func.max(existing.version), 0) + 1)
        .where(existing.policy_id == policy_id)
        .scalar_subquery()
    )
    statement = (
        insert(PolicyVersion)
        .values(policy_id=policy_id, version=next_version, body=body, created_by=created_by)
        .returning(PolicyVersion)
    )
    return session.scalars(statement).one()


def create_policy(
    session: Session,
    name: str,
    body: dict[str, Any],
    created_by: int | None,
    *,
    organisation_id: int | None = None,
) -> PolicyVersion:
    """Create the policy ``name`` of an organisation (the ``default`` one if not given: the
    CLI's) with ``body`` as its version 1.

    ``created_by`` is the acting key's id (``ApiKey.id``) or ``None`` (the CLI). Raises
    :class:`Conflict` if the name is taken; the session stays usable.

    Examples
    --------
    >>> from sqlalchemy.orm import Session
    >>> from app.core.db import Base, make_engine
    >>> from app.core.keys import organisation_named
    >>> engine = make_engine("sqlite://")
    >>> Base.metadata.create_all(engine)
    >>> session = Session(engine)
    >>> org = organisation_named(session).id
    >>> first = create_policy(session, "retail", {"max_term_months": 24}, None, organisation_id=org)
    >>> first.version, first.policy.name
    (1, 'retail')
    >>> create_policy(session, "retail", {}, None, organisation_id=org)
    Traceback (most recent call last):
    ...
    app.core.errors.Conflict: a policy named 'retail' already exists
    """
    if organisation_id is None:
        organisation_id = organisation_named(session).id
    statement = (
        _insert(session)(Policy)
        .values(organisation_id=organisation_id, name=name, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=[Policy.organisation_id, Policy.name])
        .returning(Policy)
    )
    policy = session.scalars(statement).one_or_none()
    if policy is None:
        raise Conflict(f"a policy named {name!r} already exists")
    return _insert_next_version(session, policy.id, body, created_by)


def add_policy_version(
    session: Session,
    policy_id: int,
    body: dict[str, Any],
    created_by: int | None,
    *,
    organisation_id: int | None = None,
) -> PolicyVersion:
    """Add the next version (highest + 1) of policy ``policy_id``.

    Safe under concurrent writers: numbers have no gaps or duplicates. Raises
    :class:`NotFound` if the policy does not exist.

    Examples
    --------
    >>> from sqlalchemy.orm import Session
    >>> from app.core.db import Base, make_engine
    >>> from app.core.keys import organisation_named
    >>> engine = make_engine("sqlite://")
    >>> Base.metadata.create_all(engine)
    >>> session = Session(engine)
    >>> org = organisation_named(session).id
    >>> first = create_policy(session, "retail", {"max_term_months": 24}, None, organisation_id=org)
    >>> add_policy_version(
    ...     session, first.policy_id, {"max_term_months": 36}, None, organisation_id=org
    ... ).version
    2
    """
    # PostgreSQL: writers of the same policy queue on its row until the holder commits, and
    # READ COMMITTED then shows them the new maximum. NO KEY UPDATE still lets other rows
    # reference the policy meanwhile. SQLite ignores this; it serialises all writers anyway.
    if organisation_id is None:
        organisation_id = organisation_named(session).id
    locked = session.scalar(
        select(Policy.id)
        .where(Policy.id == policy_id, Policy.organisation_id == organisation_id)
        .with_for_update(key_share=True)
    )
    if locked is None:
        raise NotFound(f"no policy with id {policy_id}")
    return _insert_next_version(session, policy_id, body, created_by)


def list_policies(
    session: Session, organisation_id: int | None = None
) -> list[tuple[Policy, PolicyVersion]]:
    """Every policy of an organisation (the ``default`` one if not given) with its latest
    version, by name.

    Examples
    --------
    >>> from sqlalchemy.orm import Session
    >>> from app.core.db import Base, make_engine
    >>> from app.core.keys import organisation_named
    >>> engine = make_engine("sqlite://")
    >>> Base.metadata.create_all(engine)
    >>> session = Session(engine)
    >>> org = organisation_named(session).id
    >>> first = create_policy(session, "retail", {}, None, organisation_id=org)
    >>> _ = add_policy_version(
    ...     session, first.policy_id, {"max_term_months": 36}, None, organisation_id=org
    ... )
    >>> [(policy.name, latest.version) for policy, latest in list_policies(session, org)]
    [('retail', 2)]
    """
    latest = (
        select(PolicyVersion.policy_id, func.max(PolicyVersion.version).label("version"))
        .group_by(PolicyVersion.policy_id)
        .subquery()
    )
    if organisation_id is None:
        organisation_id = organisation_named(session).id
    if organisation_id is None:
        organisation_id = organisation_named(session).id
    statement = (
        select(Policy, PolicyVersion)
        .join(PolicyVersion, PolicyVersion.policy_id == Policy.id)
        .join(
            latest,
            (latest.c.policy_id == PolicyVersion.policy_id)
            & (latest.c.version == PolicyVersion.version),
        )
        .where(Policy.organisation_id == organisation_id)
        .order_by(Policy.name)
    )
    return [(policy, version) for policy, version in session.execute(statement)]


def get_policy_version(
    session: Session,
    policy_id: int,
    version: int | None = None,
    *,
    organisation_id: int | None = None,
) -> PolicyVersion | None:
    """Version ``version`` of policy ``policy_id`` (the latest if ``None``), or ``None``; of
    that organisation's policies only, if ``organisation_id`` is given."""
    statement = select(PolicyVersion).where(PolicyVersion.policy_id == policy_id)
    if organisation_id is not None:
        statement = statement.join(Policy, Policy.id == PolicyVersion.policy_id).where(
            Policy.organisation_id == organisation_id
        )
    if version is None:
        statement = statement.order_by(PolicyVersion.version.desc()).limit(1)
    else:
        statement = statement.where(PolicyVersion.version == version)
    return session.scalar(statement)
