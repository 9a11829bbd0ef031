"""Work queued with ``db.after_commit`` survives a SAVEPOINT rolled back inside the transaction
(``begin_nested`` that fails, e.g. a lost race caught and answered otherwise): only the real
rollback drops it. (Waiting for the real commit is tests/test_db_after_commit.py.)"""

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from webapp.db import after_commit


def test_after_commit_work_survives_a_savepoint_rollback_and_runs_once():
    session = Session(create_engine("sqlite://"))
    ran: list[str] = []
    session.execute(text("select 1"))
    after_commit(session, lambda: ran.append("first"))
    nested = session.begin_nested()
    nested.rollback()
    after_commit(session, lambda: ran.append("second"))
    session.commit()
    assert ran == ["first", "second"]
    session.execute(text("select 1"))
    after_commit(session, lambda: ran.append("dropped"))
    session.rollback()
    session.commit()
    assert ran == ["first", "second"]
