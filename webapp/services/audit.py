"""Audit trail: services record who did what to which profile; routes never write here."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..models import AuditEntry, User


def record(
    session: Session,
    actor: User | None,
    action: str,
    *,
    customer_id: int | None = None,
    profile_id: int | None = None,
    subject: str = "",
    **detail: Any,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else "system",
        customer_id=customer_id,
        profile_id=profile_id,
        subject=subject,
        action=action,
        detail=detail,
    )
    session.add(entry)
    return entry
