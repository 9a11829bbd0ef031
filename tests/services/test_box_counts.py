"""Issue 12: the triggers of migration 0010 keep each box's counts (items not deleted, unread ones)
in step with its rows through every path that changes them, on both databases; the list reads
them instead of counting the box."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text

from tests.services.test_voicemail import anna, deposit
from webapp.models import UmsProfile, User, utcnow
from webapp.services import voicemail as vm

COUNT = {"voicemail": ("voicemail_messages", "heard_at"), "fax": ("fax_received", "read_at")}


def kept(session, profile_id: int, box: str) -> tuple[int, int]:
    return tuple(session.execute(text("SELECT total, unread FROM box_versions WHERE profile_id = :p AND box = :b"),
                                 {"p": profile_id, "b": box}).one())


def counted(session, profile_id: int, box: str) -> tuple[int, int]:
    table, unread = COUNT[box]
    return tuple(session.execute(text(
        f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN {unread} IS NULL THEN 1 ELSE 0 END), 0) FROM {table} "
        "WHERE profile_id = :p AND deleted_at IS NULL"), {"p": profile_id}).one())


def assert_in_step(session, profile_id: int) -> None:
    for box in COUNT:
        assert kept(session, profile_id, box) == counted(session, profile_id, box), box


def test_the_counts_follow_every_change_of_a_box(db_session):
    profile = anna(db_session)
    user = db_session.scalar(select(User).where(User.id == profile.user_id))
    assert_in_step(db_session, profile.id)  # the demo's boxes, as the migration counted them
    total, unread = kept(db_session, profile.id, "voicemail")
    first, second = deposit(db_session), deposit(db_session)
    assert kept(db_session, profile.id, "voicemail") == (total + 2, unread + 2)
    vm.mark(db_session, user, profile, [first.id, second.id], heard=True)
    assert kept(db_session, profile.id, "voicemail") == (total + 2, unread)
    vm.mark(db_session, user, profile, [first.id], heard=False)
    vm.delete_messages(db_session, user, profile, [first.id, second.id])
    assert kept(db_session, profile.id, "voicemail") == (total, unread)
    vm.restore_messages(db_session, user, profile, [second.id])
    assert kept(db_session, profile.id, "voicemail") == (total + 1, unread)
    db_session.execute(text("UPDATE voicemail_messages SET deleted_at = :t WHERE id = :id"),
                       {"t": utcnow() - timedelta(hours=1), "id": first.id})
    assert vm.purge_deleted(db_session, profile.id) == 1  # a deleted item leaves the counts alone
    assert kept(db_session, profile.id, "voicemail") == (total + 1, unread)
    db_session.execute(text("UPDATE fax_received SET read_at = NULL WHERE profile_id = :p"), {"p": profile.id})
    db_session.execute(text("UPDATE voicemail_messages SET heard_at = NULL WHERE profile_id = :p"), {"p": profile.id})
    db_session.commit()
    assert_in_step(db_session, profile.id)
    assert kept(db_session, profile.id, "voicemail")[1] == total + 1


def test_the_list_reads_the_kept_counts_instead_of_counting(db_session, engine):
    """With the profile loaded as the list page loads it, the page is one statement without a
    COUNT, and it shows the same total, new count and rows as counting does."""
    from tests.querycount import recorded

    profile_id = anna(db_session).id
    for _ in range(3):
        deposit(db_session)
    db_session.expunge_all()
    profile = db_session.scalar(select(UmsProfile).where(UmsProfile.id == profile_id).options(*vm.LIST_LOAD))
    with recorded(engine) as statements:
        kept_page = vm.list_messages(db_session, profile, vm.MessageQuery())
    assert len(statements) == 1 and "count(" not in statements[0].lower(), statements
    db_session.expire(profile)  # its box no longer loaded: the list counts
    counted_page = vm.list_messages(db_session, profile, vm.MessageQuery())
    assert (kept_page.total, kept_page.new_count, kept_page.pages) == \
        (counted_page.total, counted_page.new_count, counted_page.pages)
    assert [m.id for m in kept_page.items] == [m.id for m in counted_page.items]
    profile = db_session.scalar(select(UmsProfile).where(UmsProfile.id == profile_id).options(*vm.LIST_LOAD))
    past_the_end = vm.list_messages(db_session, profile, vm.MessageQuery(page=999))
    assert past_the_end.items and past_the_end.query.page == past_the_end.pages == 1
