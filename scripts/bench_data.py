"""Benchmark data in bulk: many UMS profiles for Muster GmbH, a big voicemail box for Anna Schmidt.

Used by scripts/bench_http.py and scripts/bench_admin_overview.py. Rows go in with one
multi-row INSERT per table (no ORM objects), so 10,000 profiles and 100,000 messages take
seconds, not minutes.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from webapp.models import (
    Contract,
    Licence,
    NumberBlock,
    PhoneNumber,
    Role,
    RoleGrant,
    Service,
    ServiceAssignment,
    Site,
    UmsProfile,
    User,
    VoicemailMessage,
    utcnow,
)

ANNA = "anna.schmidt@muster.example"


def _next_id(session: Session, column) -> int:
    return (session.scalar(select(column).order_by(column.desc()).limit(1)) or 0) + 1


def add_profiles(session: Session, count: int, contract_number: str = "V-200001") -> Site:
    """``count`` profiles with three numbers each (Fax, Anrufbeantworter, Konferenz) on a new site
    „Benchmark“ of the contract, each with a licence and a UMS user login (a third without password)."""
    contract = session.scalar(select(Contract).where(Contract.number == contract_number))
    site = Site(contract_id=contract.id, name="Benchmark")
    session.add(site)
    session.flush()
    base = "+4930999"
    block = NumberBlock(site_id=site.id, base_e164=base, first_extension=0, last_extension=count * 3 - 1)
    session.add(block)
    session.flush()
    now = utcnow()
    first_number = _next_id(session, PhoneNumber.id)
    _bulk(session, PhoneNumber, [
        {"id": first_number + ext, "e164": f"{base}{ext}", "site_id": site.id, "block_id": block.id,
         "extension": str(ext)} for ext in range(count * 3)])
    first_licence = _next_id(session, Licence.id)
    _bulk(session, Licence, [
        {"id": first_licence + n, "contract_id": contract.id, "created_at": now} for n in range(count)])
    first_user = _next_id(session, User.id)
    _bulk(session, User, [
        {"id": first_user + n, "email": f"bench{n}@bench.example", "display_name": f"Vor{n} Nach{n}",
         "active": True, "created_at": now, "password_set_at": now if n % 3 else None} for n in range(count)])
    _bulk(session, RoleGrant, [
        {"user_id": first_user + n, "role": Role.UMS_USER, "customer_id": contract.customer_id}
        for n in range(count)])
    first_profile = _next_id(session, UmsProfile.id)
    _bulk(session, UmsProfile, [
        {"id": first_profile + n, "customer_id": contract.customer_id, "contract_id": contract.id,
         "site_id": site.id, "licence_id": first_licence + n, "user_id": first_user + n,
         "last_name": f"Nach{n:05d}", "first_name": f"Vor{n}", "email": f"bench{n}@bench.example",
         "email_normalized": f"bench{n}@bench.example", "language": "de", "created_at": now}
        for n in range(count)])
    services = (Service.FAX, Service.VOICEMAIL, Service.CONFERENCE)
    _bulk(session, ServiceAssignment, [
        {"profile_id": first_profile + n, "service": services[k], "number_id": first_number + n * 3 + k,
         "assigned_at": now} for n in range(count) for k in range(3)])
    _fix_sequences(session, (PhoneNumber, Licence, User, UmsProfile))
    return site


def add_messages(session: Session, count: int, email: str = ANNA) -> int:
    """``count`` voicemail messages for the profile of ``email``, one every 37 minutes back from
    2025; every fifth new, every seventh without caller number. Returns the profile id."""
    profile_id = session.scalar(select(UmsProfile.id).where(UmsProfile.email_normalized == email))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    batch = 20_000
    for offset in range(0, count, batch):
        _bulk(session, VoicemailMessage, [
            {"profile_id": profile_id, "platform_message_id": f"bench-{i}", "called_e164": "+4930123456711",
             "caller_e164": None if i % 7 == 0 else f"+49{30 + i % 60}{1000000 + i}",
             "received_at": start + timedelta(minutes=37 * i), "duration_ms": 5000 + i % 50_000,
             "size_bytes": 80_000, "audio_key": f"bench/{i}.wav",
             "heard_at": None if i % 5 == 0 else start + timedelta(minutes=37 * i + 5), "created_at": start}
            for i in range(offset, min(offset + batch, count))])
    return profile_id


def _bulk(session: Session, model, rows: list[dict]) -> None:
    """One multi-row INSERT; on PostgreSQL a COPY, which is ten times faster there."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(model), rows)
        return
    columns = list(rows[0])
    cursor = session.connection().connection.driver_connection.cursor()
    names = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{model.__tablename__}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([v.value if isinstance(v, enum.Enum) else v for v in row.values()])


def _fix_sequences(session: Session, models) -> None:
    """Explicit ids bypass PostgreSQL's sequences: move them past the rows just inserted."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        table = model.__tablename__
        session.execute(select(func.setval(func.pg_get_serial_sequence(table, "id"),
                                           select(func.max(model.id)).scalar_subquery())))


def analyze(engine) -> None:
    """On PostgreSQL, fresh planner statistics after a bulk load, as autovacuum would keep them
    (SQLite is left as the portal leaves it: without ANALYZE)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
