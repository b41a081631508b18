"""Every room's tables, loaded together: the metadata the migrations must match.

Each capability declares its own tables on ``app.core.db.Base``; this module imports them all,
so ``Base.metadata`` is complete for Alembic (``app/migrations/env.py``) and for the test that
compares it with the migrations. Like ``app.main`` and ``app.cli``, it sits above the rooms.
"""

from __future__ import annotations

from app.audit.models import AuditEvent
from app.changes.models import ChangeRequest
from app.contacts.models import ContactAttempt, Party
from app.core.db import Base
from app.core.models import ApiKey, Debt, Member, Organisation, Team
from app.finance.models import Policy, PolicyVersion
from app.links.models import AcceptedPlan, PlanPayment, SavedOffer
from app.messaging.models import OutboxMessage

__all__ = [
    "AcceptedPlan",
    "ApiKey",
    "AuditEvent",
    "Base",
    "ChangeRequest",
    "ContactAttempt",
    "Debt",
    "Member",
    "Organisation",
    "OutboxMessage",
    "Party",
    "PlanPayment",
    "Policy",
    "PolicyVersion",
    "SavedOffer",
    "Team",
]
