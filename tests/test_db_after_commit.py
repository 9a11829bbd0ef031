"""``after_commit`` callbacks run once the data is really committed: releasing a SAVEPOINT
(``begin_nested``, e.g. an idempotent insert) is not a commit, so jobs queued earlier in the same
transaction must not start there (on SQLite they would wait for the writer's lock in vain)."""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from webapp.db import after_commit, make_engine


def test_after_commit_waits_for_the_outer_commit_not_a_savepoint(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    ran = []
    with Session(engine) as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        session.commit()

        def job() -> None:  # like a job: a session of its own that writes
            with Session(engine) as other:
                ran.append(other.execute(text("SELECT count(*) FROM t")).scalar())
                other.execute(text("INSERT INTO t VALUES (2)"))
                other.commit()

        session.execute(text("INSERT INTO t VALUES (1)"))
        after_commit(session, job)
        with session.begin_nested():
            session.execute(text("INSERT INTO t VALUES (3)"))
        assert ran == []
        session.commit()
    assert ran == [2]
    engine.dispose()
