"""Parallel platform calls on PostgreSQL: the same deposit sent 10 times at once stores one
message; 10 wrong PINs at once lock phone access exactly once (one mail to the owner)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.parallel import run_at_once
from tests.routes.test_api_voicemail import deposit_fields, signed_post
from tests.services.test_audio import tone
from tests.services.test_voicemail import ANNA_NUMBER, anna

pytestmark = pytest.mark.postgres
PARALLEL = 10


def _in_parallel(send) -> list:
    return run_at_once(PARALLEL, send)


def test_the_same_deposit_in_parallel_stores_one_message(pg_app):
    from webapp.extensions import db
    from webapp.models import VoicemailMessage

    audio = tone("wav", 1.0)

    def send(_n):
        response = signed_post(pg_app.test_client(), "/api/v1/voicemail/messages",
                               fields=deposit_fields("plat-parallel-1"), files={"audio": (audio, "m.wav")})
        return response.status_code, response.json["id"]

    results = _in_parallel(send)
    assert sorted(status for status, _ in results) == [200] * (PARALLEL - 1) + [201]
    assert len({message_id for _, message_id in results}) == 1
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(VoicemailMessage)
                                 .where(VoicemailMessage.platform_message_id == "plat-parallel-1")) == 1


def test_parallel_wrong_pins_lock_once(pg_app):
    from webapp.extensions import db
    from webapp.models import MailMessage
    from webapp.services import voicemail as vm

    with pg_app.app_context():
        profile = anna(db.session)
        vm.set_pin(db.session, None, profile, "394817")
        db.session.commit()
        mails_before = db.session.scalar(select(func.count()).select_from(MailMessage)
                                         .where(MailMessage.recipient == profile.email))

    def send(_n):
        response = signed_post(pg_app.test_client(), "/api/v1/voicemail/pin-check",
                               json_body={"number": ANNA_NUMBER, "pin": "000000"})
        return response.json["reason"]

    reasons = _in_parallel(send)
    assert reasons.count("wrong") == 2 and reasons.count("locked") == PARALLEL - 2
    with pg_app.app_context():
        mails_after = db.session.scalar(select(func.count()).select_from(MailMessage)
                                        .where(MailMessage.recipient == profile.email))
        assert mails_after == mails_before + 1
