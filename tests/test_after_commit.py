"""Work queued with ``db.after_commit`` runs once, after the real commit: not when a SAVEPOINT
(``begin_nested``) inside the transaction is released, and a rolled-back SAVEPOINT does not drop
the work the outer transaction queued. (A CSV import creates many profiles in one transaction,
each with a SAVEPOINT; the first one's jobs must not start before the commit.)"""

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from webapp.db import after_commit


def test_after_commit_waits_for_the_outer_commit_and_survives_a_savepoint_rollback():
    session = Session(create_engine("sqlite://"))
    ran: list[str] = []
    session.execute(text("select 1"))
    after_commit(session, lambda: ran.append("first"))
    with session.begin_nested():
        session.execute(text("select 1"))
    assert ran == []  # the SAVEPOINT's release is no commit
    nested = session.begin_nested()
    nested.rollback()
    after_commit(session, lambda: ran.append("second"))
    session.commit()
    assert ran == ["first", "second"]
    session.execute(text("select 1"))
    session.rollback()
    session.commit()
    assert ran == ["first", "second"]  # run once
